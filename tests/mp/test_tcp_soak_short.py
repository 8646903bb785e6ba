# A short stream soak against the CPython echo peers: connections opened, used and closed
# over and over (IPv4 and IPv6), then hundreds of echoes on one connection. Every byte comes
# back in order, no slot is left (core or modem), and the GC heap ends where it started give
# or take a few blocks (a leak per echo would be kilobytes here).
import gc
import os

from mas_testlib import *

ECHO4 = ("127.0.0.1", int(os.getenv("TCP_ECHO_PORT4") or 0))
ECHO6 = ("::1", int(os.getenv("TCP_ECHO_PORT6") or 0))
check(ECHO4[1] and ECHO6[1], "TCP peers are not set (run through tests/mp/run_mp_tests.py)")
CYCLES = 20
ECHOES = 300
HEAP_SLACK = 256


def heap_in_use():
    gc.collect()
    return gc.mem_alloc()


def read_exactly(s, n):
    got = b""
    while len(got) < n:
        piece = s.recv(n - len(got))
        check(piece, "EOF after %d of %d bytes" % (len(got), n))
        got += piece
    return got


def test_connect_use_close_cycles():
    dials = sim_stats()["tcp_dials"]
    for i in range(CYCLES):
        with socket.socket() as s:
            s.settimeout(5)
            s.connect(ECHO6 if i % 2 else ECHO4)
            msg = b"cycle %d " % i * 5
            s.sendall(msg)
            check(read_exactly(s, len(msg)) == msg, "cycle %d" % i)
    check(sim_stats()["tcp_dials"] - dials == CYCLES, "one dial per connection")
    check(socket._slots_in_use() == 0 and sim_stats()["open_slots"] == 0, "no slot left")


def test_many_echoes_on_one_connection_heap_flat():
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(ECHO6)
    buf = bytearray(200)

    def echo(n):
        msg = bytes((n + k) & 0xFF for k in range(n))
        s.sendall(msg)
        got = 0
        while got < n:
            got += s.readinto(memoryview(buf)[got:n])
        check(buf[:n] == msg, "echo of %d bytes" % n)

    for n in range(1, 20):  # warm-up: one-time allocations happen before the baseline
        echo(n)
    before = heap_in_use()
    for i in range(ECHOES):
        echo(1 + (i * 37) % 200)
    after = heap_in_use()
    s.close()
    check(after - before <= HEAP_SLACK, "GC heap %d B, was %d B" % (after, before))
    check(socket._slots_in_use() == 0, "no slot left")
    print("%d echoes on one stream: GC heap %+d B" % (ECHOES, after - before))


run(globals())
