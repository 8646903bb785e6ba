# Ctrl-C anywhere: real SIGINTs sent to this process at seeded random moments while it repeats
# one kind of operation (UDP send, send to another peer, echo, a receive that times out; TCP
# connect, send and receive; a name lookup through the modem; a TLS wrap). As on a Pycom board
# (micropython_port/unix/variants/pycom: no MICROPY_ASYNC_KBD_INTR), the signal only makes
# KeyboardInterrupt pending and the VM raises it at its next check, so it never lands inside a
# lock, the fake LTE task or the Rust core. After each one: the interrupted socket closes, a new
# socket's first operation works, no slot stays taken and the modem has no socket left open.
# A hang is the suite's timeout.
import os
import random
import time

from mas_testlib import *

PID = int(open("/proc/self/stat").read().split()[0])
SEED = int(os.getenv("CTRL_C_SEED") or 1511)
TRIALS = int(os.getenv("CTRL_C_TRIALS") or 8)
# The signal goes out this long after the operations start, plus a random part of SPAN_S: the
# operations repeat back to back, so it lands at a random point of one of them. The minimum
# keeps it clear of os.system, during which the C library ignores SIGINT in the caller.
MIN_DELAY_S = 0.03
SPAN_S = 0.15
# An operation loop that sees no KeyboardInterrupt in this long lost the signal.
LOOP_LIMIT_MS = 4000

ECHO4 = echo4()
ECHO6 = echo6()
TCP_ECHO4 = ("127.0.0.1", int(os.getenv("TCP_ECHO_PORT4") or 0))
DNS_PORT = int(os.getenv("DNS_PORT") or 0)
MQTTS_PORT = int(os.getenv("MQTTS_PORT") or 0)
TLS = os.getenv("TLS_DIR")


def sigint_after(seconds):
    os.system("(sleep %.3f; kill -INT %d) >/dev/null 2>&1 &" % (seconds, PID))


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    return s


def stream(peer):
    s = socket.socket(socket.AF_INET6 if ":" in peer[0] else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(peer)
    return s


def tcp_echo(s, data):
    s.send(data)
    got = b""
    while len(got) < len(data):
        got += s.recv(256)
    check(got == data, "stream echo %r" % got)


# Each kind: (name, setup() -> list of sockets, op(sockets)).
def setup_udp():
    s = udp()
    echo_once(s, b"warm", ECHO4)
    return [s]


def op_sendto(socks):
    socks[0].sendto(b"datagram during Ctrl-C trials", ECHO4)


def op_sendto_two_peers(socks):
    socks[0].sendto(b"to the first peer", ECHO4)
    socks[0].sendto(b"to the second peer", ECHO6 or ECHO4)


def op_echo(socks):
    socks[0].sendto(b"echo during Ctrl-C trials", ECHO4)
    socks[0].recvfrom(256)


def setup_quiet():
    s = setup_udp()
    s[0].settimeout(0.05)
    return s


def op_recv_nothing(socks):
    try:
        socks[0].recvfrom(256)
    except OSError as e:
        check(e.errno in (ETIMEDOUT, EAGAIN), "receive with nothing waiting: %r" % e)


def op_connect(socks):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    socks.append(s)
    s.settimeout(5)
    s.connect(TCP_ECHO4)
    s.close()
    socks.remove(s)


def setup_stream():
    return [stream(TCP_ECHO4)]


def op_stream_echo(socks):
    tcp_echo(socks[0], b"stream bytes during Ctrl-C trials")


def setup_lookup():
    check(DNS_PORT, "DNS_PORT is not set")
    check(network._sim("dns ::1 %d" % DNS_PORT).startswith("OK"), "modem resolver")
    socket.config(dns_cache=False)
    return []


def op_lookup(socks):
    check(socket.getaddrinfo("echo4.test", 7, socket.AF_INET)[0][-1] == ("127.0.0.1", 7), "lookup")


def op_tls_wrap(socks):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    socks.append(s)
    s.settimeout(5)
    s.connect(("::1", MQTTS_PORT))
    socket.ssl.wrap_socket(s, cert_reqs=socket.ssl.CERT_REQUIRED, ca_certs=TLS + "/ca.pem")
    s.close()
    socks.remove(s)


KINDS = [
    ("udp sendto", setup_udp, op_sendto),
    ("udp sendto, two peers", setup_udp, op_sendto_two_peers),
    ("udp sendto+recvfrom", setup_udp, op_echo),
    ("udp recvfrom, nothing", setup_quiet, op_recv_nothing),
    ("tcp connect", lambda: [], op_connect),
    ("tcp send+recv", setup_stream, op_stream_echo),
    ("lookup", setup_lookup, op_lookup),
]
if MQTTS_PORT and TLS:
    KINDS.append(("tls wrap", lambda: [], op_tls_wrap))


def recovered(kind):
    """After the interrupt: a new socket's first operation works, nothing is left taken or open."""
    s = udp()
    echo_once(s, b"after Ctrl-C", ECHO4)
    s.close()
    if kind.startswith("tcp") or kind.startswith("tls"):
        t = stream(TCP_ECHO4)
        tcp_echo(t, b"stream after Ctrl-C")
        t.close()
    check(socket._slots_in_use() == 0, "%s: %d slots left taken" % (kind, socket._slots_in_use()))
    open_slots = sim_stats()["open_slots"]
    check(open_slots == 0, "%s: the modem has %d sockets open" % (kind, open_slots))


def test_sigint_anywhere():
    rng = random.Random(SEED) if hasattr(random, "Random") else None
    if rng is None:
        random.seed(SEED)
        rng = random
    total = 0
    ops_before = []
    for name, setup, op in KINDS:
        for trial in range(TRIALS):
            socks = setup()
            delay = MIN_DELAY_S + rng.random() * SPAN_S
            done = 0
            interrupted = False
            try:
                sigint_after(delay)
                start = time.ticks_ms()
                while time.ticks_diff(time.ticks_ms(), start) < LOOP_LIMIT_MS:
                    op(socks)
                    done += 1
            except KeyboardInterrupt:
                interrupted = True
            check(interrupted, "%s trial %d: no KeyboardInterrupt within %d ms" % (name, trial, LOOP_LIMIT_MS))
            for s in socks:
                s.close()
            recovered(name)
            ops_before.append(done)
            total += 1
        socket.config(dns_cache=True)
        print("%s: %d interrupts, each followed by a working new socket" % (name, TRIALS))
    print("%d SIGINTs (seed %d), operations completed before each: %r" % (total, SEED, ops_before))


run(globals())
