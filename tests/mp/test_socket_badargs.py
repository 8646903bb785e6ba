# Bad arguments raise a clear exception before anything reaches the modem:
# every case checks that the fake LTE performed no exchange. The hostile-input
# corpus (hosts, ports, types, sizes, buffers, use after close, a seventh
# socket) is test_hostile_input.py; this file keeps what the API means.
from mas_testlib import *


def refused(exc_type, fn, *args, errno=None):
    before = exchanges()
    e = raises(exc_type, fn, *args, errno=errno)
    check(exchanges() == before, "%r%r reached the modem" % (fn, args))
    return e


def test_destinations_the_modem_cannot_reach():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    for host, errno in (("::", EINVAL), ("0.0.0.0", EINVAL), ("::ffff:0.0.0.0", EINVAL),
                        ("ff02::1", EOPNOTSUPP), ("224.0.0.1", EOPNOTSUPP), ("239.255.255.250", EOPNOTSUPP),
                        ("255.255.255.255", EACCES)):
        e = refused(OSError, s.sendto, b"x", (host, 7), errno=errno)
        check(len(str(e)) > 12, "explains: %r" % e)
        refused(OSError, s.connect, (host, 7), errno=errno)
    # As CPython: the address is a tuple, never a list.
    refused(TypeError, s.sendto, b"x", ["::1", 7])
    refused(TypeError, s.connect, ["::1", 7])
    s.close()


def test_socket_constructor():
    refused(OSError, socket.socket, socket.AF_INET, 3, errno=EOPNOTSUPP)  # SOCK_RAW
    refused(OSError, socket.socket, socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_UDP, errno=EOPNOTSUPP)
    refused(OSError, socket.socket, 3, errno=EAFNOSUPPORT)
    refused(OSError, socket.socket, socket.AF_INET, socket.SOCK_DGRAM, 6, errno=EOPNOTSUPP)
    refused(TypeError, socket.socket, "inet")
    check(socket._slots_in_use() == 0, "no slot taken")


def test_options():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    refused(OSError, s.setsockopt, socket.SOL_SOCKET, 0x20, 1, errno=EOPNOTSUPP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.close()


def test_getaddrinfo_arguments():
    check(socket.getaddrinfo("127.0.0.1", 7) == [(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP, "", ("127.0.0.1", 7))], "IPv4 literal")
    check(socket.getaddrinfo("0:0::1", 5683, socket.AF_INET6)[0][-1] == ("::1", 5683), "IPv6 literal, canonical form")
    refused(OSError, socket.getaddrinfo, "::1", 7, socket.AF_INET, errno=-202)
    refused(OSError, socket.getaddrinfo, "127.0.0.1", 7, socket.AF_INET6, errno=-202)


def test_modem_arguments():
    refused(TypeError, socket.set_modem, object())
    refused(TypeError, socket.set_modem, 42)


run(globals())
