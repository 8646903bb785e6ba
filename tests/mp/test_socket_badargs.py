# Bad arguments raise a clear exception before anything reaches the modem:
# every case checks that the fake LTE performed no exchange.
from mas_testlib import *


def refused(exc_type, fn, *args, errno=None):
    before = exchanges()
    e = raises(exc_type, fn, *args, errno=errno)
    check(exchanges() == before, "%r%r reached the modem" % (fn, args))
    return e


def test_sendto_arguments():
    s = socket.socket()
    port = echo4()[1]
    refused(TypeError, s.sendto, 42, ("127.0.0.1", port))
    refused(TypeError, s.sendto, b"x", "127.0.0.1")
    refused(TypeError, s.sendto, b"x", ("127.0.0.1",))
    refused(TypeError, s.sendto, b"x", ("127.0.0.1", port, 0))
    refused(TypeError, s.sendto, b"x", (b"127.0.0.1", port))
    refused(TypeError, s.sendto, b"x", ("127.0.0.1", "7"))
    refused(TypeError, s.sendto, b"x", ("127.0.0.1", None))
    refused(OverflowError, s.sendto, b"x", ("127.0.0.1", 65536))
    refused(OverflowError, s.sendto, b"x", ("127.0.0.1", -1))
    refused(ValueError, s.sendto, b"x", ("127.0.0.1", 0))
    s.close()


def test_malformed_addresses():
    s = socket.socket(socket.AF_INET6)
    for host in ["", "1.2.3", "1.2.3.256", "1.2.3.4.5", "::g", "[::1]", "fe80::1%eth0",
                 "1:2:3:4:5:6:7:8:9", " 127.0.0.1", "127.0.0.1 ", "0x7f.0.0.1"]:
        refused(ValueError, s.sendto, b"x", (host, 7))
    s.close()


def test_host_names_are_never_sent():
    s = socket.socket()
    e = refused(ValueError, s.sendto, b"x", ("example.com", 7))
    check("getaddrinfo" in str(e), "tells to use getaddrinfo: %r" % e)
    for host in ['a"b', "a\rb", "a\nb", "a,b", "a;b", 'x",1,"y', "AT+SQNSH=1", "a\x00b", "é.com"]:
        refused(ValueError, s.sendto, b"x", (host, 7))
        refused(ValueError, s.connect, (host, 7))
    s.close()


def test_ipv6_address_on_an_ipv4_socket():
    s = socket.socket(socket.AF_INET)
    e = refused(OSError, s.sendto, b"x", ("::1", 7), errno=EAFNOSUPPORT)
    check("AF_INET6" in str(e), "explains: %r" % e)
    refused(OSError, s.connect, ("::1", 7), errno=EAFNOSUPPORT)
    refused(TypeError, s.sendto, b"x", ("127.0.0.1", 7, 0, 0))
    s.close()


def test_oversize_buffer():
    s = socket.socket()
    e = refused(OSError, s.sendto, bytes(socket.config("max_datagram") + 1), echo4(), errno=EMSGSIZE)
    check("max_datagram" in str(e), "explains: %r" % e)
    refused(OSError, s.sendto, bytes(100000), echo4(), errno=EMSGSIZE)
    s.close()


def test_receive_sizes():
    s = socket.socket()
    s.connect(echo4())
    refused(ValueError, s.recv, 0)
    refused(ValueError, s.recvfrom, -5)
    refused(TypeError, s.recv, "10")
    s.close()


def test_socket_constructor():
    refused(OSError, socket.socket, socket.AF_INET, 1, errno=EOPNOTSUPP)
    refused(OSError, socket.socket, 3, errno=EAFNOSUPPORT)
    refused(OSError, socket.socket, socket.AF_INET, socket.SOCK_DGRAM, 6, errno=EOPNOTSUPP)
    refused(TypeError, socket.socket, "inet")
    check(socket._slots_in_use() == 0, "no slot taken")


def test_options():
    s = socket.socket()
    refused(OSError, s.setsockopt, socket.SOL_SOCKET, 0x20, 1, errno=EOPNOTSUPP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    refused(OverflowError, s.bind, ("", 70000))
    refused(ValueError, s.bind, ("nowhere.example", 5000))
    s.close()


def test_use_after_close():
    s = socket.socket()
    s.close()
    for fn, args in [(s.sendto, (b"x", echo4())), (s.send, (b"x",)), (s.recv, (1,)),
                     (s.recvfrom, (1,)), (s.connect, (echo4(),)), (s.bind, (("", 1),)),
                     (s.settimeout, (1,)), (s.setblocking, (True,))]:
        refused(OSError, fn, *args, errno=EBADF)


def test_getaddrinfo_arguments():
    check(socket.getaddrinfo("127.0.0.1", 7) == [(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP, "", ("127.0.0.1", 7))], "IPv4 literal")
    check(socket.getaddrinfo("0:0::1", 5683, socket.AF_INET6)[0][-1] == ("::1", 5683), "IPv6 literal, canonical form")
    refused(OSError, socket.getaddrinfo, "::1", 7, socket.AF_INET, errno=-202)
    refused(ValueError, socket.getaddrinfo, 'a"b', 7)
    refused(ValueError, socket.getaddrinfo, "a\r\nb", 7)
    refused(TypeError, socket.getaddrinfo, None, 7)
    refused(TypeError, socket.getaddrinfo, "::1", "7")
    refused(OverflowError, socket.getaddrinfo, "::1", 65536)
    refused(OSError, socket.getaddrinfo, "::1", 7, 99, errno=EAFNOSUPPORT)


def test_modem_arguments():
    refused(TypeError, socket.set_modem, object())
    refused(TypeError, socket.set_modem, 42)
    socket.set_modem(None)
    e = refused(OSError, socket.socket, errno=ENODEV)
    check("set_modem" in str(e), "says what to do: %r" % e)
    socket.set_modem(lte)


run(globals())
