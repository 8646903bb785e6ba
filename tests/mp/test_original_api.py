# The original pure-Python microATsocket's API, as its README and example scripts use it,
# and the usocket/CPython corners a script written elsewhere relies on. Written from the
# original's documented behaviour: socket(family, type) needs no modem, setModemInstance()
# names it, recvfrom() has a default size and answers (None, None) when nothing arrived,
# setMessageFormat(ASCII) makes the data str, open(ip, port) dials and says whether it could.
import sys

from mas_testlib import *

# ---- before any modem was named (this runs at import, before run() sets one) --------------
# socket() needs no modem; the first operation finds the board's LTE object by itself
# (network.LTE() hands back the one LTE object on Pycom firmware, and in the fake).
fresh_modem_before = socket.config("modem")
fresh = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
fresh_exchanges = exchanges()
fresh.sendto(b"found", echo6())
fresh_reply = fresh.recvfrom(64)
fresh_modem_after = socket.config("modem")
fresh.close()


def test_socket_needs_no_modem_and_finds_the_boards():
    check(fresh_modem_before is None, "no modem at start: %r" % (fresh_modem_before,))
    check(fresh_modem_after is lte, "found network.LTE(): %r" % (fresh_modem_after,))
    check(fresh_reply[0] == b"found" and fresh_reply[1][0] == "::1", "echo: %r" % (fresh_reply,))
    check(fresh_exchanges >= 0, "counted")


def test_original_script_flow():
    # The original example scripts, line by line (the modem attached, not connected).
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setModemInstance(lte)
    ips = sock.getaddrinfo("::1", echo6()[1])
    sock.sendto(b"\x00\x01binary\xff", ips[0][-1])
    resp, address = sock.recvfrom()
    check(resp == b"\x00\x01binary\xff", "bytes back: %r" % (resp,))
    check(address[0] == "::1" and address[1] == echo6()[1], "sender: %r" % (address,))
    check(sock.open("::1", echo6()[1]) is True, "open dials")
    sock.setMessageFormat(socket.socket.SOCKET_MESSAGE_FORMAT.SOCKET_MESSAGE_ASCII)
    sent = sock.sendto('{data:"testmessage"}', ("::1", echo6()[1]))
    check(sent == 20, "str sent: %r" % sent)
    resp, address = sock.recvfrom()
    check(resp == '{data:"testmessage"}' and type(resp) is str, "ASCII format gives str: %r" % (resp,))
    sock.setMessageFormat(socket.socket.SOCKET_MESSAGE_FORMAT.SOCKET_MESSAGE_BYTE)
    sock.sendto("text", ("::1", echo6()[1]))
    resp, address = sock.recvfrom()
    check(resp == b"text", "BYTE format gives bytes: %r" % (resp,))
    sock.close()
    check(socket._slots_in_use() == 0, "slot freed")


def test_micro_at_socket_class():
    fmt = socket.MicroATSocket.SOCKET_MESSAGE_FORMAT
    check(fmt.SOCKET_MESSAGE_ASCII == 0 and fmt.SOCKET_MESSAGE_BYTE == 1, "the original's values")
    check(socket.socket.SOCKET_MESSAGE_FORMAT is fmt and socket.SOCKET_MESSAGE_FORMAT is fmt, "one enum")
    s = socket.MicroATSocket(lte)
    s.setMessageFormat(fmt.SOCKET_MESSAGE_ASCII)
    s.sendto(bytearray(b'{data:"testmessage"}'), ("::1", echo6()[1]))
    resp, address = s.recvfrom(-1)  # the first API's default: the whole datagram
    check(resp == '{data:"testmessage"}', "echo: %r" % (resp,))
    # Nothing arriving is (None, None), as the original answered, not an exception.
    s.settimeout(0.2)
    check(s.recvfrom() == (None, None), "nothing: (None, None)")
    s.setblocking(False)
    check(s.recvfrom() == (None, None), "non-blocking nothing: (None, None)")
    s.close(True)  # the original's close(do_release_socket)
    s.close()
    check(socket._slots_in_use() == 0, "slot freed")


def test_open_reports_a_failed_dial_as_false():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    check(network._sim("fault error SQNSD 1").startswith("OK"), "fault armed")
    check(s.open("::1", 7) is False, "refused dial: False")
    raises(TypeError, s.open, "::1", "seven")
    s.close()


def test_original_example_against_an_unreachable_peer():
    # The original examples send to a public address; the simulated network reaches only
    # loopback and answers NO CARRIER. The original printed and went on: so must this.
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setModemInstance(lte)
    check(sock.sendto(b'{data:"testmessage"}', ("2001:4860:4860::8888", 8888)) == -1, "sendto: -1")
    resp, address = sock.recvfrom()
    check(resp is None and address is None, "recvfrom: (None, None)")
    raises(ValueError, sock.sendto, b"x", ("not an address", 1))  # arguments still raise
    sock.close()
    check(socket._slots_in_use() == 0, "slot freed")


def test_module_names_and_defaults():
    check(socket.SOCK_RAW == 3 and socket.SOCK_DGRAM == 2, "constants")
    check(socket.LOCAL_PORT_DEFAULT == 8080, "LOCAL_PORT_DEFAULT")
    check(socket.DNS_SERVER_IP == "8.8.8.8" and socket.DNS_SERVER_IPV6 == "2001:4860:4860::8888", "DNS defaults")
    raises(OSError, socket.socket, socket.AF_INET6, socket.SOCK_RAW, errno=EOPNOTSUPP)
    check(socket.has_available_sockets() is True, "free sockets")
    held = [socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) for _ in range(6)]
    check(socket.has_available_sockets() is False, "all six taken")
    for s in held:
        s.close()
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    primary, secondary = s.dnsserver()
    check(primary == "2001:4860:4860::8888" and secondary == "8.8.8.8", "dnsserver(): %r" % ((primary, secondary),))
    s.dnsserver(0, "::1")
    check(s.dnsserver()[0] == "::1", "dnsserver(0, ip)")
    s.dnsserver(0, socket.DNS_SERVER_IPV6)
    s.close()


class NoLte:
    pass


def test_no_lte_at_all_is_enodev():
    socket.set_modem(None)
    saved = sys.modules.get("network")
    sys.modules["network"] = NoLte()  # a board without an LTE modem: no network.LTE
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)  # still no modem needed here
        e = raises(OSError, s.sendto, b"x", echo6(), errno=ENODEV)
        check("LTE" in str(e), "says what is missing: %r" % e)
        s.close()
        t = socket.socket()  # a TCP socket, umqtt's first call: no modem needed here either
        raises(OSError, t.connect, echo6(), errno=ENODEV)
        t.close()
        check(socket._slots_in_use() == 0, "both slots freed")
    finally:
        sys.modules["network"] = saved
        socket.set_modem(lte)


def test_ipv4_written_socket_takes_ipv6_peers():
    # ntptime, microCoAPy and umqtt open AF_INET sockets; on an IPv6-only network the
    # address getaddrinfo gives is IPv6. The modem's socket has no family.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b"v6 from an AF_INET socket", echo6())
    data, sender = s.recvfrom(100)
    check(data == b"v6 from an AF_INET socket" and sender == echo6(), "IPv6 sender reported: %r" % (sender,))
    s.close()


def test_ipv4_mapped_peer_is_dialled_as_ipv4():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b"mapped", ("::ffff:127.0.0.1", echo4()[1]))
    data, sender = s.recvfrom(100)
    check(data == b"mapped" and sender == echo4(), "dialled as IPv4: %r" % (sender,))
    s.close()


def test_usocket_and_cpython_corners():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    before = exchanges()
    check(s.recv(0) == b"", "recv(0) is b''")
    for too_long in (1e10, float("inf"), 3e6):
        raises(OverflowError, s.settimeout, too_long)
    s.settimeout(2e6)  # 23 days still fits
    raises(TypeError, s.sendto, b"x", ["::1", 7])
    check(exchanges() == before, "none of it reached the modem")
    s.close()


run(globals())
