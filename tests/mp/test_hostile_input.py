# Hostile input: every entry point that takes a host, an address, a port, a size, a timeout or a
# buffer gets a corpus of hostile values. Each must raise the exception named here (and, for an
# OSError, its errno) and nothing may reach the modem: the simulator's count of received UART
# bytes, the same on every transport, must not move. After the corpus the slots in use are back
# where they started, the modem holds no socket, and ordinary echoes work.
# (test_socket_badargs.py keeps the argument semantics: messages, families, getaddrinfo results.)
from mas_testlib import *

EINVAL = 22

# Text a careless or malicious caller could put where a host goes. The comments say what each
# would do if it reached the command line of AT+SQNSD / AT+SQNDNSLKUP or the firmware.
HOSTILE_HOSTS = [
    'a"b', '::1"', '"127.0.0.1"',      # closes the quoted argument
    'x",1,"y', "127.0.0.1\",0,0",      # adds arguments
    "a\rb", "a\nb", "a\r\nb",          # ends the command line early
    "1.2.3.4\rAT+CFUN=0",              # a second command after a valid address
    "::1\r\nAT+SQNSH=1", "::ffff:127.0.0.1\r", "127.0.0.1\r\n",
    "a,b", "::1,1", "a;b", "AT+SQNSH=1;+CFUN=0", "AT+CFUN=0",
    "a\x00b", "127.0.0.1\x00", "::1\x00\x00\x00", "\x00",  # C strings end at NUL
    "+++", "1.2.3.4+++",               # the modem's data-mode escape
    "Pycom_Dummy", "x.Pycom_Dummy.example", "127.0.0.1Pycom_Dummy",  # the firmware's read-only directive
    "a" * 254, "a" * 64 + ".com", "1" * 1000, "a." * 300, "a" * 100000,  # over-long names, labels, text
    "0" * 1000 + "::1", "00000::1", "1:2:3:4:5:6:7:8:9",
    "é.example", "例え.jp", "\xff\xfe", "１２７.0.0.1", "127.0.0.٣",  # non-ASCII (and non-ASCII digits)
    "", " ", ".", "..", "-a.example", "a-.example", "a..b",
    " 127.0.0.1", "127.0.0.1 ", "\t1.2.3.4", "+1.2.3.4", "-1.2.3.4",
    "[::1]", "fe80::1%eth0", "::ffff:1.2.3.4.5", "1.2.3.4.5", "1.2.3", "256.1.1.1", "127.1",
    "127.000.000.001", "0127.0.0.1", "2130706433", "::g", "::1::",
]
# Out of range: OverflowError wherever a port goes.
OVERFLOW_PORTS = [65536, 70000, -1, 1 << 40, 1 << 100, -(1 << 100)]
WRONG_HOST_TYPES = [None, 42, 4.2, b"127.0.0.1", bytearray(b"::1"), ["::1"], ("::1",), object()]
WRONG_PORT_TYPES = [None, 4.2, "7", b"7", [7], object()]
WRONG_ADDRESSES = [None, 42, "127.0.0.1", b"127.0.0.1", {"127.0.0.1": 7}, ("127.0.0.1",),
                   ("127.0.0.1", 7, 0), ("::1", 7, 0, 0, 0), ()]
WRONG_BUFFERS = [None, 42, 4.2, ["x"], {}, object()]
ALL_ERRORS = (ValueError, TypeError, OSError, OverflowError, UnicodeError)


def nothing_sent(exc_type, fn, *args, errno=None):
    """fn(*args) must raise exc_type (with errno, if given) and the modem must see no byte."""
    before = modem_bytes_in()
    try:
        fn(*args)
    except ALL_ERRORS as e:
        what = "%r%r" % (fn, tuple(repr(a)[:40] for a in args))
        check(modem_bytes_in() == before, "%s reached the modem" % what)
        check(type(e) is exc_type, "%s raised %r, expected %s" % (what, e, exc_type.__name__))
        if errno is not None:
            check(e.errno == errno, "%s: errno %r, expected %d" % (what, e.errno, errno))
        return e
    raise AssertionError("%r%r raised nothing" % (fn, tuple(repr(a)[:40] for a in args)))


def test_hostile_hosts_everywhere_a_host_goes():
    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    for host in HOSTILE_HOSTS:
        for s in (s4, s6):
            nothing_sent(ValueError, s.sendto, b"x", (host, 7))
            nothing_sent(ValueError, s.connect, (host, 7))
            if host:  # bind(("", port)) is the wildcard, as in usocket
                nothing_sent(ValueError, s.bind, (host, 7))
        nothing_sent(ValueError, s6.sendto, b"x", (host, 7, 0, 0))
        for af in (0, socket.AF_INET, socket.AF_INET6):
            nothing_sent(ValueError, socket.getaddrinfo, host, 7, af)
        nothing_sent(ValueError, socket.dnsserver, 0, (host, 53))
        nothing_sent(ValueError, socket.dnsserver, 1, host)
    # A name says where the name goes instead.
    e = nothing_sent(ValueError, s4.sendto, b"x", ("example.com", 7))
    check("getaddrinfo" in str(e), "tells to use getaddrinfo: %r" % e)
    check(socket.dnsserver(0)[1] == 53 and socket.dnsserver(1)[1] == 53, "servers unchanged")
    s4.close()
    s6.close()


def refused_wherever_a_port_goes(exc_type, s, port):
    nothing_sent(exc_type, s.sendto, b"x", ("127.0.0.1", port))
    nothing_sent(exc_type, s.connect, ("127.0.0.1", port))
    nothing_sent(exc_type, s.bind, ("", port))
    nothing_sent(exc_type, socket.getaddrinfo, "127.0.0.1", port)
    nothing_sent(exc_type, socket.dnsserver, 0, ("::1", port))


def test_ports_out_of_range():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for port in OVERFLOW_PORTS:
        refused_wherever_a_port_goes(OverflowError, s, port)
    # Port 0 is no destination (but binds to any port, and getaddrinfo passes it on).
    nothing_sent(ValueError, s.sendto, b"x", ("127.0.0.1", 0))
    nothing_sent(ValueError, s.connect, ("127.0.0.1", 0))
    nothing_sent(ValueError, socket.dnsserver, 0, ("::1", 0))
    s.close()


def test_wrong_types():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    for bad in WRONG_PORT_TYPES:
        refused_wherever_a_port_goes(TypeError, s, bad)
    for bad in WRONG_HOST_TYPES:
        nothing_sent(TypeError, s.sendto, b"x", (bad, 7))
        nothing_sent(TypeError, s.connect, (bad, 7))
        nothing_sent(TypeError, s.bind, (bad, 7))
        nothing_sent(TypeError, socket.getaddrinfo, bad, 7)
        nothing_sent(TypeError, socket.dnsserver, 0, (bad, 53))
    for bad in WRONG_ADDRESSES:
        nothing_sent(TypeError, s.sendto, b"x", bad)
        nothing_sent(TypeError, s.connect, bad)
        nothing_sent(TypeError, s.bind, bad)
    nothing_sent(TypeError, s.sendto, b"x", ("127.0.0.1", 7, 0, 0))  # 4-tuples are for AF_INET6
    nothing_sent(TypeError, s6.sendto, b"x", ("::1", 7, "0", 0))
    nothing_sent(TypeError, s6.sendto, b"x", ("::1", 7, 0, None))
    # (A str is a buffer in MicroPython, and usocket sends it: so does this module.)
    for bad in WRONG_BUFFERS:
        nothing_sent(TypeError, s.sendto, bad, echo4())
    nothing_sent(TypeError, socket.getaddrinfo, "::1", 7, "x")
    nothing_sent(OverflowError, socket.getaddrinfo, "::1", 7, 1 << 100)
    nothing_sent(OSError, socket.getaddrinfo, "::1", 7, 99, errno=EAFNOSUPPORT)
    nothing_sent(TypeError, socket.dnsserver, "0")
    nothing_sent(ValueError, socket.dnsserver, 2)
    nothing_sent(ValueError, socket.dnsserver, -1)
    nothing_sent(OverflowError, socket.dnsserver, 1 << 100)
    nothing_sent(TypeError, socket.dnsserver, 0, 42)
    s.close()
    s6.close()


def test_sizes_and_timeouts():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(echo4())
    for size in (0, -1, -(1 << 62)):
        if size:
            nothing_sent(ValueError, s.recv, size)
        nothing_sent(ValueError, s.recvfrom, size)
    nothing_sent(OverflowError, s.recv, -(1 << 100))
    for bad in (None, "10", 4.2, b"1"):
        nothing_sent(TypeError, s.recv, bad)
        nothing_sent(TypeError, s.recvfrom, bad)
    for bad in (-1, -0.001, float("-inf"), float("nan")):
        nothing_sent(ValueError, s.settimeout, bad)
    for bad in ("1", b"1", [1]):
        nothing_sent(TypeError, s.settimeout, bad)
    s.settimeout(0)
    # The refused timeouts changed nothing: still non-blocking.
    raises(OSError, s.recv, 10, errno=EAGAIN)
    s.close()


def test_buffers_over_the_limit():
    limit = socket.config("max_datagram")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.connect(echo4())
    for size in (limit + 1, 1501, 65536, 100000):
        for buf in (bytes(size), bytearray(size), memoryview(bytes(size)), "x" * size):
            e = nothing_sent(OSError, s.sendto, buf, echo4(), errno=EMSGSIZE)
            check("max_datagram" in str(e), "explains: %r" % e)
            nothing_sent(OSError, c.send, buf, errno=EMSGSIZE)
            nothing_sent(OSError, c.write, buf, errno=EMSGSIZE)
    # The modem cannot send an empty datagram.
    for empty in (b"", bytearray(), "", memoryview(b"")):
        nothing_sent(OSError, s.sendto, empty, echo4(), errno=EINVAL)
        nothing_sent(OSError, c.send, empty, errno=EINVAL)
    before = modem_bytes_in()
    check(c.write(b"") == 0 and modem_bytes_in() == before, "a stream write of nothing writes nothing")
    s.close()
    c.close()


def test_use_after_close():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(echo4())
    s.close()
    for fn, args in [(s.sendto, (b"x", echo4())), (s.send, (b"x",)), (s.recv, (1,)),
                     (s.recvfrom, (1,)), (s.connect, (echo4(),)), (s.bind, (("", 1),)),
                     (s.settimeout, (1,)), (s.setblocking, (True,)),
                     (s.setsockopt, (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)),
                     (s.write, (b"x",)), (s.read, (1,)), (s.readinto, (bytearray(1),)),
                     # hostile arguments on a closed socket: the closed socket is named first
                     (s.sendto, (bytes(1 << 16), ('a"b', 7))), (s.connect, (("::1\r\n", 7),))]:
        nothing_sent(OSError, fn, *args, errno=EBADF)
    s.close()  # idempotent


def test_seven_sockets_at_once():
    held = [socket.socket(socket.AF_INET6 if i % 2 else socket.AF_INET, socket.SOCK_DGRAM) for i in range(6)]
    e = nothing_sent(OSError, socket.socket, errno=ENOMEM)
    check("in use" in str(e), "says why: %r" % e)
    nothing_sent(OSError, socket.socket, socket.AF_INET6, errno=ENOMEM)
    # Hostile input with every slot taken is refused the same way.
    nothing_sent(ValueError, held[1].sendto, b"x", ("::1\rAT", 7))
    for t in held:
        t.close()
    check(socket._slots_in_use() == SLOTS_AT_START, "every slot back")


def test_hostile_settings():
    saved = {name: socket.config(name) for name in ("max_command", "combined_send", "pdp_cid")}
    for kw in ({"max_command": -1}, {"pdp_cid": 0}, {"pdp_cid": 17}, {"pdp_cid": 1 << 40}, {"no_such": 1},
               {"pdp_cid": 2, "max_command": -1}):  # every keyword is checked before any is set
        nothing_sent(ValueError, lambda: socket.config(**kw))
    nothing_sent(TypeError, lambda: socket.config(max_command="124"))
    nothing_sent(ValueError, socket.config, "no_such")
    nothing_sent(ValueError, socket.config, "max_command\r\nAT")
    check({name: socket.config(name) for name in saved} == saved, "settings unchanged")
    nothing_sent(TypeError, socket.set_modem, object())
    nothing_sent(TypeError, lambda: socket.socket(lte=42))
    check(socket.config("modem") is lte, "still the same modem")


def test_hostile_payloads_are_carried_intact():
    # Datagram bytes go as hex: what the firmware or the modem would take as a directive in a
    # command line is only data here.
    limit = min(socket.config("max_datagram"), 1500)
    for family, peer in ((socket.AF_INET, echo4()), (socket.AF_INET6, echo6())):
        if peer is None:
            continue
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.settimeout(5)
        for data in (b"+++", b"Pycom_Dummy", b"\r\nOK\r\n", b"AT+CFUN=0\r", b'"', b"\x00",
                     b"\r\n> ", b"\r\n+SQNSH: 1\r\n", b"\r\n+SYSSTART\r\n",
                     bytes(range(256))[:limit], bytes(range(255, -1, -1))[:limit], b"\x00" * limit):
            echo_once(s, data, peer)
        s.close()


def test_zz_afterwards_nothing_is_held_and_echo_works():
    # Named to run last (tests run in name order).
    check(socket._slots_in_use() == SLOTS_AT_START, "slots held: %d" % socket._slots_in_use())
    check(sim_stats()["open_slots"] == 0, "modem slots open: %r" % sim_stats())
    for family, peer in ((socket.AF_INET, echo4()), (socket.AF_INET6, echo6() or echo4())):
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.settimeout(5)
        echo_once(s, b"still fine", peer)
        s.close()
    check(socket._slots_in_use() == SLOTS_AT_START, "slots after the echoes")


socket.set_modem(lte)
SLOTS_AT_START = socket._slots_in_use()
run(globals())
