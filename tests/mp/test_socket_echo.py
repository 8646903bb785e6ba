# microATsocket against real UDP echo peers through the simulated modem:
# IPv4 and IPv6, the real sender in recvfrom, connect/send/recv, the original
# MicroATSocket API, every byte value, and two sockets in flight at once.
from mas_testlib import *


def test_ipv4_echo():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    echo_once(s, b"hello over IPv4", echo4())
    s.close()


def test_ipv6_echo():
    peer = echo6()
    if peer is None:
        print("note: no ::1 echo peer, IPv6 echo not run")
        return
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(5)
    echo_once(s, b"hello over IPv6", peer)
    s.close()


def test_ipv6_socket_also_reaches_ipv4():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    s.settimeout(5)
    echo_once(s, b"v4 from an AF_INET6 socket", echo4())
    s.close()


def test_connect_send_recv():
    for peer in echo_peers():
        family = socket.AF_INET6 if ":" in peer[0] else socket.AF_INET
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.connect(peer)
        check(s.send(b"connected") == 9, "send count")
        check(s.recv(100) == b"connected", "recv after connect")
        # A sendto elsewhere re-targets the socket; recvfrom names that sender.
        other = echo4()
        echo_once(s, b"and back", other)
        s.close()


def test_recvfrom_reports_each_sender():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(5)
    for peer in echo_peers():
        echo_once(s, b"who are you", peer)
    s.close()


def test_short_buffer_truncates_like_udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b"0123456789abcdef", echo4())
    data, sender = s.recvfrom(4)
    check(data == b"0123", "first 4 bytes: %r" % data)
    check(sender == echo4(), "sender %r" % (sender,))
    s.close()


def test_original_api():
    socket.setModemInstance(lte)
    s = socket.MicroATSocket(lte)
    s.settimeout(5)
    peer = echo6() or echo4()
    info = s.getaddrinfo(peer[0], peer[1])
    check(info[0][-1] == peer, "instance getaddrinfo: %r" % (info,))
    echo_once(s, b"seed API", info[0][-1])
    s.close()
    socket.set_modem(lte)


def test_every_byte_value_round_trips():
    everything = bytes(range(256))
    limit = socket.config("max_datagram")
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(5)
    for at in range(0, 256, limit):
        echo_once(s, everything[at:at + limit], echo4())
    s.close()


def test_every_byte_value_in_one_datagram_with_chunking():
    if transport() == "send_at_cmd":
        use_profile(chunking_profile(), chunking=True)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    if lteppp_layout() == 118:
        # A direct build for 1.18's struct: no continuation items, 50 bytes at most.
        raises(OSError, s.sendto, bytes(range(256)), echo4(), errno=EMSGSIZE)
        s.close()
        return
    echo_once(s, bytes(range(256)), echo4())
    echo_once(s, bytes(range(255, -1, -1)) * 2, echo4())
    s.close()


def test_two_sockets_in_flight():
    peers = echo_peers()
    a = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    a.settimeout(5)
    b.settimeout(5)
    a.sendto(b"from a", peers[0])
    b.sendto(b"from b", peers[-1])
    # Both echoes are waiting in the modem now; each socket gets its own.
    check(b.recvfrom(100) == (b"from b", peers[-1]), "b's echo")
    check(a.recvfrom(100) == (b"from a", peers[0]), "a's echo")
    a.close()
    b.close()


def test_context_manager_closes():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        echo_once(s, b"inside with", echo4())
        check(socket._slots_in_use() == 1, "one slot while open")
    check(socket._slots_in_use() == 0, "slot freed by __exit__")
    raises(OSError, s.sendto, b"x", echo4(), errno=EBADF)


def test_bind_sets_local_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    port = free_port(0)  # the simulator binds it on the host
    s.bind(("", port))
    echo_once(s, b"from port %d" % port, echo4())
    s.close()


run(globals())
