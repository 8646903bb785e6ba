# A board that serves UDP: bind(('', port)) + recvfrom() from any peer + sendto() back to each
# sender, over AT+SQNSLUDP (the simulator listens on 127.0.0.1:P and [::1]:P). The peers are
# CPython UDP clients (tests/mp/udp_peers.py), two of each family, each on its own port; each
# must get its own reply. Also: select.poll on the listening socket, a sender the modem does
# not report (the simulator's udp_sender_hidden fault), and what a server socket refuses.
import os
import select
import time

import socket as host  # the unix port's own sockets: only to call the CPython askers

from mas_testlib import *

ASKER = ("127.0.0.1", int(os.getenv("UDP_ASKER_PORT") or 0))
check(ASKER[1], "UDP_ASKER_PORT is not set (run through tests/mp/run_mp_tests.py)")


def asker(request):
    s = host.socket(host.AF_INET, host.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(request.encode(), host.getaddrinfo(ASKER[0], ASKER[1])[0][-1])
    reply = s.recv(65536).decode()
    s.close()
    return reply


def ask(ip, port, payload):
    """A new CPython UDP client on `ip`'s loopback sends `payload` to the board's port once.
    Returns (request id, the client's own port)."""
    reply = asker("ask %s %d %s" % (ip, port, payload.hex()))
    check(reply.startswith("OK "), reply)
    words = reply.split()
    return int(words[1]), int(words[2])


def answer(ident, timeout_s=10):
    """What the client got back, and from where: (bytes, ip, port)."""
    deadline = time.ticks_add(time.ticks_ms(), timeout_s * 1000)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        reply = asker("result %d" % ident)
        if reply != "WAIT":
            check(reply.startswith("OK "), reply)
            words = reply.split()
            return bytes.fromhex(words[1]), words[2], int(words[3])
        time.sleep_ms(20)
    raise AssertionError("the CPython client got no reply")


def sim(line):
    reply = network._sim(line)
    check(reply.startswith("OK"), "sim %r: %r" % (line, reply))


def start_listening(srv):
    """The modem listens from the first read of the bound socket: a read that does not wait."""
    srv.settimeout(0)
    raises(OSError, srv.recvfrom, 1500, errno=EAGAIN)


def serve(family, port, ips):
    srv = socket.socket(family, socket.SOCK_DGRAM)
    srv.bind(("", port))
    start_listening(srv)
    srv.settimeout(5)
    asks = []
    for n, ip in enumerate(ips):
        payload = b"peer %d on %s" % (n, ip)
        ident, client_port = ask(ip, port, payload)
        asks.append((payload, ip, client_port, ident))
    # Every request is at the modem (queued in the order sent): each answered in turn.
    seen = set()
    for _ in asks:
        data, addr = srv.recvfrom(1500)
        match = [a for a in asks if a[0] == data]
        check(len(match) == 1, "got %r" % data)
        payload, ip, client_port, ident = match[0]
        check(addr == (ip, client_port), "sender %r, expected %r" % (addr, (ip, client_port)))
        check(srv.sendto(b"reply to " + data, addr) == len(data) + 9, "sent")
        seen.add(ident)
    check(len(seen) == len(ips), "every peer was heard once")
    for payload, ip, client_port, ident in asks:
        got, from_ip, from_port = answer(ident)
        check(got == b"reply to " + payload, "peer %s:%d got %r" % (ip, client_port, got))
        check((from_ip, from_port) == (ip, port), "the reply came from %r" % ((from_ip, from_port),))
    srv.close()
    check(socket._slots_in_use() == 0, "slot freed")


def test_two_ipv4_peers_each_get_their_own_reply():
    serve(socket.AF_INET, free_port(0), ("127.0.0.1", "127.0.0.1"))


def test_two_ipv6_peers_each_get_their_own_reply():
    serve(socket.AF_INET6, free_port(1), ("::1", "::1"))


def test_request_reply_one_peer_after_another():
    # The request/response order of a UDP responder (microCoAPy's server loop,
    # multi_net/udp_data): recvfrom, sendto back, next peer.
    port = free_port(2)
    srv = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    srv.bind(("", port))
    start_listening(srv)
    srv.settimeout(5)
    for n, ip in enumerate(("127.0.0.1", "::1", "127.0.0.1", "::1")):
        ident, client_port = ask(ip, port, b"request %d" % n)
        data, addr = srv.recvfrom(1500)
        check(data == b"request %d" % n and addr == (ip, client_port), "got %r from %r" % (data, addr))
        srv.sendto(b"response %d" % n, addr)
        check(answer(ident)[0] == b"response %d" % n, "peer %d got its response" % n)
    srv.close()


def test_poll_sees_a_datagram_waiting_on_the_listener():
    import select

    port = free_port(3)
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("", port))
    srv.settimeout(0)
    p = select.poll()
    p.register(srv, select.POLLIN)
    check(p.poll(0) == [], "nothing waiting yet (the poll starts the listener)")
    ident, client_port = ask("127.0.0.1", port, b"ping")
    ready = []
    deadline = time.ticks_add(time.ticks_ms(), 5000)
    while not ready and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        ready = p.poll(50)
    check(ready and ready[0][1] & select.POLLIN, "POLLIN on the listening socket: %r" % (ready,))
    data, addr = srv.recvfrom(1500)  # non-blocking: POLLIN means it is there
    check(data == b"ping" and addr == ("127.0.0.1", client_port), "got %r from %r" % (data, addr))
    srv.sendto(b"pong", addr)
    check(answer(ident)[0] == b"pong", "pong")
    srv.close()


def test_a_sender_the_modem_does_not_report_is_not_made_up():
    port = free_port(0)
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("", port))
    start_listening(srv)
    srv.settimeout(5)
    sim("fault udp_sender_hidden 2")
    ident, client_port = ask("127.0.0.1", port, b"who am I")
    e = raises(OSError, srv.recvfrom, 1500, errno=EIO)
    check("did not report the sender" in str(e), "clear message: %s" % e)
    # No reply can go: the modem did not say to whom, and no address is guessed.
    raises(OSError, srv.sendto, b"x", ("127.0.0.1", client_port), errno=EOPNOTSUPP)
    # recv() needs no sender: it takes such a datagram.
    ask("127.0.0.1", port, b"anonymous")
    check(srv.recv(1500) == b"anonymous", "recv takes a datagram without a sender")
    # The next datagram names its sender again: the server answers it.
    ident, client_port = ask("127.0.0.1", port, b"named")
    data, addr = srv.recvfrom(1500)
    check(data == b"named" and addr == ("127.0.0.1", client_port), "got %r from %r" % (data, addr))
    srv.sendto(b"ok", addr)
    check(answer(ident)[0] == b"ok", "the named sender got its reply")
    sim("fault clear")
    srv.close()


def test_a_short_header_takes_the_sender_from_the_modems_status():
    # The two-field header (other drivers' form) with AT+SQNSS naming the remote the modem
    # last heard from (Telit's #SS for #SLUDP): the sender is the modem's word, not a guess.
    port = free_port(2)
    srv = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    srv.bind(("", port))
    start_listening(srv)
    srv.settimeout(5)
    sim("fault udp_header_short 1")
    ident, client_port = ask("::1", port, b"short")
    data, addr = srv.recvfrom(1500)
    check(data == b"short" and addr == ("::1", client_port), "got %r from %r" % (data, addr))
    srv.sendto(b"long", addr)
    check(answer(ident)[0] == b"long", "answered")
    sim("fault clear")
    srv.close()


def test_a_server_answers_only_its_last_sender_and_refuses_before_the_modem():
    port = free_port(1)
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("", port))
    start_listening(srv)
    srv.settimeout(5)
    raises(OSError, srv.sendto, b"x", ("127.0.0.1", 9), errno=EOPNOTSUPP)  # nobody heard yet
    ident, client_port = ask("127.0.0.1", port, b"first")
    data, addr = srv.recvfrom(1500)
    before = modem_bytes_in()
    e = raises(OSError, srv.sendto, b"x", ("127.0.0.1", client_port + 1), errno=EOPNOTSUPP)
    check("last datagram" in str(e), "clear message: %s" % e)
    check(modem_bytes_in() == before, "nothing reached the modem")
    srv.sendto(b"second", addr)
    check(answer(ident)[0] == b"second", "the last sender still gets its reply")
    srv.close()


def test_bind_checks_the_port_and_unbound_sockets_still_need_a_peer():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raises(OverflowError, s.bind, ("", 70000))
    raises(OverflowError, s.bind, ("", -1))
    raises(TypeError, s.bind, ("", "80"))
    # Not bound: nothing to listen on, as before.
    raises(OSError, s.recvfrom, 100, errno=ENOTCONN)
    s.close()
    check(socket._slots_in_use() == 0, "slots freed")


run(globals())
