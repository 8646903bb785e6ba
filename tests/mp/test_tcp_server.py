# A board that listens: bind(('', port)); listen(); accept() with real CPython TCP clients
# (tests/mp/tcp_peers.py's dialer) on 127.0.0.1 and ::1; the accepted connection echoes
# and closes, the listener takes the next client on the same port; timeouts, and what the
# modem refuses.
import os
import socket as host  # the unix port's own sockets: only to call the CPython dialer
import time

from mas_testlib import *

EADDRINUSE = 98
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
    reply = dialer("dial %s %d %s" % (ip, port, payload.hex()))
    check(reply.startswith("OK "), reply)
    return int(reply.split()[1])


def result(ident, timeout_s=10):
    deadline = time.ticks_add(time.ticks_ms(), timeout_s * 1000)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        reply = dialer("result %d" % ident)
        if reply != "WAIT":
            check(reply.startswith("OK"), reply)
            return bytes.fromhex(reply[3:])
        time.sleep_ms(20)
    raise AssertionError("the CPython client did not finish")


def test_listen_accept_echo_two_clients_both_loopbacks():
    port = free_port(0)
    srv = socket.socket()
    srv.bind(("", port))
    srv.listen(1)
    srv.settimeout(10)
    for n, ip in enumerate(("127.0.0.1", "::1")):
        msg = b"client %d says hello\n" % n
        ident = dial(ip, port, msg)
        conn, addr = srv.accept()
        check(addr[0] == ip, "peer %r" % (addr,))
        conn.settimeout(5)
        line = conn.readline()
        check(line == msg, "got %r" % line)
        conn.sendall(b"echo: " + line)
        conn.close()
        check(result(ident) == b"echo: " + msg, "the client got the echo")
    srv.close()
    check(socket._slots_in_use() == 0, "slots freed")


def test_accept_timeout_and_nonblocking():
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    srv.bind(("", free_port(1)))
    srv.listen()
    srv.settimeout(0.5)
    raises(OSError, srv.accept, errno=ETIMEDOUT)
    srv.setblocking(False)
    raises(OSError, srv.accept, errno=EAGAIN)
    srv.close()


def test_listen_needs_a_port_and_a_taken_port_is_refused():
    s = socket.socket()
    raises(ValueError, s.listen)
    taken = host.socket(host.AF_INET, host.SOCK_STREAM)
    port = free_port(2)
    taken.bind(host.getaddrinfo("127.0.0.1", port)[0][-1])
    taken.listen(1)
    s.bind(("", port))
    raises(OSError, s.listen, 1, errno=EADDRINUSE)
    taken.close()
    s.close()
    check(socket._slots_in_use() == 0, "slot freed")


run(globals())
