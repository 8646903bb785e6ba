# Runs inside the MicroPython unix port (bench/run_bench.py starts it): measures each socket
# operation on the fake Pycom LTE's counters and prints one JSON object per line.
# Environment: BENCH_PROFILE (stock | stock+combined | pr429 | direct), BENCH_N (repetitions),
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
network._lte_profile("pr429" if PROFILE == "pr429" else "1.20.2")
socket.set_modem(lte, chunking=PROFILE == "pr429")
if PROFILE == "direct":
    # The lteppp build: stock 1.20.2.r2+ firmware built with the module; it always streams
    # command and payload together.
    assert socket.config("transport") == "lteppp", "direct needs the lteppp build"
else:
    assert socket.config("transport") == "send_at_cmd", "needs the send_at_cmd build"
    socket.config(combined_send=PROFILE == "stock+combined")
MAX = socket.config("max_datagram")
STAT_KEYS = ("exchanges", "commands", "dummies", "continuations", "bytes_out", "bytes_in",
             "flushed_bytes", "idle_polls", "prompt_races", "modelled_us")


def emit(**fields):
    fields["profile"] = PROFILE
    print(json.dumps(fields))


def emit_stats(op, stats, count, payload):
    row = {k: stats[k] / count for k in STAT_KEYS}
    emit(op=op, payload=payload, count=count, **row)


def measure(op, fn, count=1, payload=0):
    """Runs fn() `count` times; emits the per-operation averages of the LTE counters."""
    network._lte_reset_stats()
    for _ in range(count):
        fn()
    emit_stats(op, network._lte_stats(), count, payload)


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
measure("first sendto to a new peer", lambda: s.sendto(small, PEER), 1, 16)
s.recvfrom(MAX)
for size in SIZES:
    if size > MAX:
        emit(op="skipped", payload=size, reason="over max_datagram %d" % MAX)
        continue
    data = bytes(i & 0xFF for i in range(size))
    measure("steady sendto", lambda: s.sendto(data, PEER), N, size)
    let_echoes_arrive(N)
    measure("recvfrom, datagram waiting", lambda: s.recvfrom(MAX), N, size)

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
emit_stats("recvfrom, must wait 150 ms for the echo", total, waits, 16)

measure("getaddrinfo of a literal", lambda: socket.getaddrinfo("2001:db8::1", 5683), N)
if DNS_PORT:
    network._sim("dns ::1 %d" % DNS_PORT)
    socket.dnsserver(0, ("::1", DNS_PORT))
    socket.getaddrinfo("both.test", 1)
    measure("getaddrinfo of a name (modem resolver)", lambda: socket.getaddrinfo("both.test", 1), N)
    network._sim("dns none")
    measure("getaddrinfo of a name (own DNS query)", lambda: socket.getaddrinfo("both.test", 1), min(N, 5))


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
