# Runs inside the MicroPython unix port (bench/run_bench.py starts it): measures each socket
# operation on the fake Pycom LTE's counters and prints one JSON object per line.
# Environment: BENCH_PROFILE (a name of bench/run_bench.py's PROFILES), MICROATSOCKET_FW_PROFILE,
# BENCH_N (repetitions),
# BENCH_HEAP_N (operations per heap figure), ECHO_PORT4, DELAYED_ECHO_PORT, DNS_PORT (optional:
# dnsmasq on ::1 holding both.test).
import gc
import json
import os
import time

import network
import microATsocket as socket

PROFILE = os.getenv("BENCH_PROFILE") or "stock"
N = int(os.getenv("BENCH_N") or "20")
HEAP_N = int(os.getenv("BENCH_HEAP_N") or str(N))
PEER = ("127.0.0.1", int(os.getenv("ECHO_PORT4")))
SLOW_PEER = ("127.0.0.1", int(os.getenv("DELAYED_ECHO_PORT")))
DNS_PORT = int(os.getenv("DNS_PORT") or "0")
# Steady-state sizes per profile (throughput needs all four where the profile allows them).
SIZES = (16, 62, 512, 1500)

lte = network.LTE()
# The firmware profile comes from MICROATSOCKET_FW_PROFILE (bench/run_bench.py's FW_PROFILE).
network._lte_profile(os.getenv("MICROATSOCKET_FW_PROFILE") or "1.20.2")
socket.set_modem(lte, chunking=network._lte_profile() in ("release-v1.20", "pr429"))
if PROFILE.startswith("direct"):
    # The lteppp build: stock 1.20.2.r2+ firmware built with the module; it always streams
    # command and payload together. Raw payloads both ways, or hex (direct+hex) to compare.
    assert socket.config("transport") == "lteppp", "direct needs the lteppp build"
    if PROFILE == "direct+hex":
        socket.config(raw_send=False, raw_recv=False)
else:
    assert socket.config("transport") == "send_at_cmd", "needs the send_at_cmd build"
    socket.config(combined_send=PROFILE == "stock+combined")
MAX = socket.config("max_datagram")
RAW_SEND = socket.config("raw_send")
RAW_RECV = socket.config("raw_recv")
STAT_KEYS = ("exchanges", "commands", "dummies", "continuations", "bytes_out", "bytes_in",
             "flushed_bytes", "idle_polls", "prompt_races", "modelled_us")


def emit(**fields):
    fields["profile"] = PROFILE
    print(json.dumps(fields))


def emit_stats(op, stats, count, payload, hex_out=0, hex_in=0):
    row = {k: stats[k] / count for k in STAT_KEYS}
    emit(op=op, payload=payload, count=count, hex_out=hex_out, hex_in=hex_in, **row)


def measure(op, fn, count=1, payload=0, hex_out=0, hex_in=0):
    """Runs fn() `count` times; emits the per-operation averages of the LTE counters.
    hex_out / hex_in: payload bytes per operation that went as hex text each way (their raw
    wire time is half of theirs: bench/run_bench.py's raw-byte limit)."""
    network._lte_reset_stats()
    for _ in range(count):
        fn()
    emit_stats(op, network._lte_stats(), count, payload, hex_out, hex_in)


def command_safe(data):
    """src/payload.rs: raw bytes that could not read as an AT command."""
    if data[:1] in (b"T", b"t", b"/"):
        return False
    return not any(data[i] in b"Aa" and data[i + 1] in b"Tt/" for i in range(len(data) - 1))


def hex_out(data):
    """Payload bytes of a send that go as hex text on this profile."""
    return 0 if RAW_SEND and command_safe(data) else len(data)


def hex_in(data, settled_hex):
    """... of a receive: hex where raw reads are off, or the socket met a NUL byte before."""
    return 0 if RAW_RECV and not settled_hex else len(data)


def let_echoes_arrive(n):
    """Real time for n echoes to reach the modem's buffer (not on the modelled clock)."""
    time.sleep_ms(30 + 2 * n)


def heap_per_op(send, recv, count, batch=50):
    """GC heap allocated per send() and per recv(), collector off while each batch runs.
    Batches keep the echoes waiting at the modem few; the real-time wait between a batch of
    sends and its receives is outside the measured windows."""
    sent = received = 0
    done = 0
    while done < count:
        k = min(batch, count - done)
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        for _ in range(k):
            send()
        sent += gc.mem_alloc() - before
        gc.enable()
        let_echoes_arrive(k)
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        for _ in range(k):
            recv()
        received += gc.mem_alloc() - before
        gc.enable()
        done += k
    return sent / count, received / count


emit(op="limits", max_datagram=MAX, max_command=socket.config("max_command"))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
small = b"x" * 16
measure("first sendto to a new peer", lambda: s.sendto(small, PEER), 1, 16, hex_out(small))
s.recvfrom(MAX)
# Binary datagrams (NUL bytes among them): with raw reads, the first answer holding a NUL costs
# the LTE task's 1 s idle wait and turns the socket to hex reads; that happens here, before the
# rows (the next send switches the connId's reading mode). The text rows below read raw.
for _ in range(2):
    s.sendto(b"\x00", PEER)
    s.recvfrom(MAX)
for size in SIZES:
    if size > MAX:
        emit(op="skipped", payload=size, reason="over max_datagram %d" % MAX)
        continue
    data = bytes(i & 0xFF for i in range(size))
    measure("steady sendto", lambda: s.sendto(data, PEER), N, size, hex_out(data))
    let_echoes_arrive(N)
    measure("recvfrom, datagram waiting", lambda: s.recvfrom(MAX), N, size, 0, hex_in(data, True))

# Text datagrams (no NUL byte, no AT prefix): raw both ways where the profile allows it.
t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t.settimeout(5)
t.sendto(small, PEER)
t.recvfrom(MAX)
for size in (16, 1500):
    if size > MAX:
        continue
    text = bytes(0x20 + (i * 7) % 95 for i in range(size))
    measure("steady sendto, text", lambda: t.sendto(text, PEER), N, size, hex_out(text))
    let_echoes_arrive(N)
    measure("recvfrom, text datagram waiting", lambda: t.recvfrom(MAX), N, size, 0, hex_in(text, False))

# Short messages of which every other could read as a command ("at" in a word): on the raw
# profiles the connId learns the pattern from the first two and stays hex, instead of one
# AT+SQNSCFGEXT per message. Measured after that warm-up; the echoes are read between rows.
chatter = (b"what a day, mate", b"fine, thank you!")
sent = [0]


def chat():
    t.sendto(chatter[sent[0] % 2], PEER)
    sent[0] += 1


for _ in range(4):
    chat()
measure("steady sendto, every other message with an AT prefix", chat, N, 16, 16)
let_echoes_arrive(N + 4)
for _ in range(N + 4):
    t.recvfrom(MAX)

# A refused read: nothing waits and the modem answers the read with an error. +CME ERROR is no
# final code for Pycom's LTE task (its 1 s idle wait); plain ERROR is.
for fault, what in (("fault empty_read_error 1", "+CME ERROR: 4"), ("fault error SQNSRECV 1", "ERROR")):
    network._sim(fault)
    t.settimeout(0)

    def refused_read():
        try:
            t.recvfrom(MAX)
        except OSError:
            pass

    measure("recvfrom, the modem refuses the read (%s)" % what, refused_read, 1)
    network._sim("fault empty_read_error 0")
    t.settimeout(5)
t.close()

# A receive that must wait: this peer echoes 150 ms late, so recvfrom polls the modem until
# the datagram is there. The pauses between polls are real time, not on the modelled clock.
w = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
w.settimeout(5)
w.sendto(small, SLOW_PEER)  # dial first
w.recvfrom(MAX)
total = {k: 0 for k in STAT_KEYS}
waits = min(N, 10)
for _ in range(waits):
    w.sendto(small, SLOW_PEER)
    network._lte_reset_stats()
    w.recvfrom(MAX)
    st = network._lte_stats()
    for k in STAT_KEYS:
        total[k] += st[k]
w.close()
emit_stats("recvfrom, must wait 150 ms for the echo", total, waits, 16, hex_out(small), hex_in(small, False))

measure("getaddrinfo of a literal", lambda: socket.getaddrinfo("2001:db8::1", 5683), N)
if DNS_PORT:
    network._sim("dns ::1 %d" % DNS_PORT)
    socket.dnsserver(0, ("::1", DNS_PORT))
    socket.getaddrinfo("both.test", 1)
    # One uncached lookup of a dual-stack name (af=0: both families) on each path.
    socket.config(dns_cache=False)
    measure("getaddrinfo of a name (modem resolver)", lambda: socket.getaddrinfo("both.test", 1), N)
    network._sim("dns none")

    def own_query_asking_the_modem_first():
        socket.config(dns_cache=False)  # also forgets a resolver resting after it failed
        return socket.getaddrinfo("both.test", 1)

    # Lookups switch the modem to plain errors, socket commands back to numeric ones: each
    # of these lookups starts as after socket traffic (an unmeasured datagram first).
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.sendto(small, PEER)
    measure("getaddrinfo of a name (own DNS query)", own_query_asking_the_modem_first, min(N, 5))
    # The resolver failed for a name our own query found: it rests, later names skip it.
    measure("getaddrinfo of a name (own DNS query, the modem's resolver resting)",
            lambda: socket.getaddrinfo("both.test", 1), min(N, 5))
    network._sim("dns ::1 %d" % DNS_PORT)
    socket.config(dns_cache=False)

    # af=0 lookups as ntptime makes them, first (nothing kept) and repeated (answer kept).
    # "First" comes after socket traffic, as in an application: a datagram sent just before,
    # not measured, leaves the modem on numeric errors, so each lookup pays its AT+CMEE=0.

    def first_lookups(name, what, count):
        total = {k: 0 for k in STAT_KEYS}
        for _ in range(count):
            busy.sendto(small, PEER)
            socket.config(dns_cache=True)  # forgets what was kept
            network._lte_reset_stats()
            socket.getaddrinfo(name, 123)
            st = network._lte_stats()
            for k in STAT_KEYS:
                total[k] += st[k]
        emit_stats("getaddrinfo af=0 of %s, first" % what, total, count, 0, 0, 0)

    for name, what in (("v4only.test", "an A-only name"), ("v6only.test", "an AAAA-only name"),
                       ("both.test", "a dual-stack name")):
        first_lookups(name, what, min(N, 5))
        measure("getaddrinfo af=0 of %s, repeated" % what, lambda: socket.getaddrinfo(name, 123), N)
    busy.close()


def socket_and_close():
    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.close()


measure("socket() + close()", socket_and_close, N)


def socket_send_close():
    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.sendto(small, PEER)
    t.close()


measure("socket() + sendto + close()", socket_send_close, min(N, 10), 16)

# GC heap allocated per steady-state operation (collector off; 16-byte datagrams).
send_heap, recv_heap = heap_per_op(lambda: s.sendto(small, PEER), lambda: s.recvfrom(MAX), HEAP_N)
emit(op="heap", count=HEAP_N, payload=16, sendto_bytes=send_heap, recvfrom_bytes=recv_heap)
s.close()
print("OK")
