# Readiness: one select.poll pass over any number of sockets costs at most one modem exchange
# and sees what the modem already holds; a thread waiting for data leaves the modem to other
# threads between its reads; a listening socket polls readable when a client waits, so
# asyncio.start_server serves; recv() on a listener is ENOTCONN; getpeername and shutdown.
import gc
import os
import select
import sys
import time

import socket as host  # the unix port's own sockets: only to call the CPython dialer

from mas_testlib import *

try:
    import asyncio
except ImportError:
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    sys.path.append(here + "/../../build/micropython-src/extmod")
    import asyncio

import _thread

ENOTCONN = 107
EOPNOTSUPP = 95
DIALER = ("127.0.0.1", int(os.getenv("TCP_DIALER_PORT") or 0))
check(DIALER[1], "TCP_DIALER_PORT is not set (run through tests/mp/run_mp_tests.py)")


def dialer(request):
    s = host.socket(host.AF_INET, host.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(request.encode(), host.getaddrinfo(DIALER[0], DIALER[1])[0][-1])
    reply = s.recv(65536).decode()
    s.close()
    return reply


def dial(ip, port, payload):
    """A CPython client connects to the board's port, sends `payload` and reads to EOF."""
    reply = dialer("dial %s %d %s" % (ip, port, payload.hex()))
    check(reply.startswith("OK "), reply)
    return int(reply.split()[1])


def client_result(ident):
    """None while the client runs, else what it read."""
    reply = dialer("result %d" % ident)
    if reply == "WAIT":
        return None
    check(reply.startswith("OK"), reply)
    return bytes.fromhex(reply[3:])


def test_one_poll_pass_sees_a_datagram_already_at_the_modem():
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
    p = select.poll()
    for s in socks:
        s.connect(echo4())
        s.settimeout(0)
        p.register(s, select.POLLIN)
    for trial in range(6):
        target = socks[trial % 3]
        target.send(b"trial %d" % trial)
        time.sleep_ms(150)  # the echo is at the modem well before the poll
        before = exchanges()
        ready = p.poll(0)
        asked = exchanges() - before
        check(asked <= 1, "trial %d: %d modem exchanges for one poll pass" % (trial, asked))
        readable = [s for s, ev in ready if ev & select.POLLIN]
        check(len(readable) == 1 and readable[0] is target, "trial %d: readable %r" % (trial, ready))
        check(target.recv(64) == b"trial %d" % trial, "the datagram poll announced")
    for s in socks:
        s.close()


def test_a_waiting_thread_leaves_the_modem_to_others_between_its_reads():
    quiet = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    quiet.connect(echo4())
    quiet.settimeout(4)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.settimeout(5)
    echo_once(sender, b"warm", echo4())
    before = exchanges()
    sender.sendto(b"alone", echo4())
    own = exchanges() - before
    sender.recv(64)
    done = []

    def receiver():
        try:
            quiet.recv(64)
        except OSError:
            pass
        done.append(True)

    _thread.start_new_thread(receiver, ())
    time.sleep_ms(150)
    waited = []
    for i in range(8):
        before = exchanges()
        sender.sendto(b"while waiting %d" % i, echo4())
        waited.append(exchanges() - before - own)
        check(sender.recv(64) == b"while waiting %d" % i, "echo %d" % i)
        time.sleep_ms(37)
    check(max(waited) <= 1, "the sender waited for %r of the receiver's exchanges" % waited)
    while not done:
        time.sleep_ms(20)
    quiet.close()
    sender.close()


def test_a_listener_polls_readable_and_recv_on_it_is_enotconn():
    port = free_port(0)
    srv = socket.socket()
    srv.bind(("", port))
    srv.listen(1)
    p = select.poll()
    p.register(srv, select.POLLIN)
    check(p.poll(0) == [], "nobody waiting yet")
    raises(OSError, srv.recv, 10, errno=ENOTCONN)
    for n, ip in enumerate(("127.0.0.1", "::1", "127.0.0.1")):
        # The listener listens again at once after each accept: clients come back to back.
        ident = dial(ip, port, b"client %d\n" % n)
        ready = p.poll(5000)
        check(len(ready) == 1 and ready[0][1] & select.POLLIN, "client %d: %r" % (n, ready))
        srv.setblocking(False)
        conn, addr = srv.accept()
        check(addr[0] == ip, "peer %r" % (addr,))
        check(conn.getpeername() == addr, "getpeername %r, accept said %r" % (conn.getpeername(), addr))
        conn.settimeout(5)
        line = conn.readline()
        check(line == b"client %d\n" % n, "got %r" % line)
        conn.sendall(b"bye\n")
        raises(OSError, conn.shutdown, socket.SHUT_WR, errno=EOPNOTSUPP)
        conn.shutdown(socket.SHUT_RDWR)
        deadline = time.ticks_add(time.ticks_ms(), 5000)
        got = None
        while got is None and time.ticks_diff(deadline, time.ticks_ms()) > 0:
            got = client_result(ident)
            time.sleep_ms(20)
        check(got == b"bye\n", "client %d read %r" % (n, got))
    srv.close()
    check(socket._slots_in_use() == 0, "slots freed")


def test_accept_collects_dropped_connections_before_it_runs_out_of_slots():
    port = free_port(1)
    srv = socket.socket()
    srv.bind(("", port))
    srv.listen(1)
    srv.settimeout(10)
    for n in range(8):
        ident = dial("127.0.0.1", port, b"x")
        conn, addr = srv.accept()  # dropped without close(): its finaliser frees the slot
        conn = None
        client_result(ident)
    srv.close()
    gc.collect()
    time.sleep_ms(10)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # runs the queued closes
    s.close()
    check(socket._slots_in_use() == 0, "slots freed")


def test_asyncio_start_server_serves_both_loopbacks():
    sys.modules["socket"] = socket  # asyncio.start_server imports `socket`
    port = free_port(2)
    served = []

    async def handle(reader, writer):
        line = await reader.readline()
        served.append(line)
        writer.write(b"echo: " + line)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main():
        server = await asyncio.start_server(handle, "0.0.0.0", port)
        for n, ip in enumerate(("127.0.0.1", "::1")):
            msg = b"asyncio client %d\n" % n
            ident = dial(ip, port, msg)
            got = None
            for _ in range(250):
                got = client_result(ident)
                if got is not None:
                    break
                await asyncio.sleep_ms(20)
            check(got == b"echo: " + msg, "client %d read %r" % (n, got))
        server.close()
        await server.wait_closed()

    try:
        asyncio.run(main())
    finally:
        sys.modules["socket"] = host
    check(len(served) == 2, "served %r" % served)
    check(socket._slots_in_use() == 0, "slots freed")


run(globals())
