# Hostile input: every entry point that takes a host, an address, a port or a
# buffer gets a corpus of hostile values. Each must raise a clear exception and
# nothing may reach the modem: the simulator's count of received UART bytes
# (the same on both transports) must not move. Afterwards no slot is held and
# an ordinary echo works.
from mas_testlib import *

# Text a careless or malicious caller could put where a host goes. The comments say what each
# would do if it reached the command line of AT+SQNSD / AT+SQNDNSLKUP or the firmware.
HOSTILE_HOSTS = [
    'a"b',                       # closes the quoted argument
    'x",1,"y',                   # adds arguments
    "a\rb", "a\nb", "a\r\nb",    # ends the command line early
    "1.2.3.4\rAT+CFUN=0",        # a second command after a valid address
    "::1\r\nAT+SQNSH=1",
    "a,b", "a;b", "AT+SQNSH=1;+CFUN=0",
    "a\x00b", "127.0.0.1\x00",   # C strings end at NUL
    "+++",                       # the modem's data-mode escape
    "Pycom_Dummy", "x.Pycom_Dummy.example", "127.0.0.1Pycom_Dummy",  # the firmware's directive
    "a" * 254, "a" * 64 + ".com", "1" * 1000, "a." * 300,  # over-long names and labels
    "é.example", "例え.jp", "\xff\xfe",  # non-ASCII
    "", " ", ".", "..", "-a.example", "a-.example",
    "[::1]", "fe80::1%eth0", "::ffff:1.2.3.4.5", "1.2.3.4.5", "256.1.1.1",
]
HOSTILE_PORTS_OVERFLOW = [65536, -1, 1 << 40]
WRONG_HOST_TYPES = [None, 42, 4.2, b"127.0.0.1", bytearray(b"::1"), ["::1"], object()]
WRONG_PORT_TYPES = [None, 4.2, "7", b"7", [7], object()]


def nothing_sent(fn, *args, exc=(ValueError, TypeError, OSError, OverflowError, UnicodeError)):
    """Runs fn(*args); it must raise one of `exc`, and the modem must see no byte."""
    before = modem_bytes_in()
    try:
        fn(*args)
    except exc as e:
        check(modem_bytes_in() == before, "%r%r reached the modem" % (fn, args[:1]))
        return e
    raise AssertionError("%r%r raised nothing" % (fn, args[:1]))


def test_hosts_everywhere_a_host_goes():
    s4 = socket.socket(socket.AF_INET)
    s6 = socket.socket(socket.AF_INET6)
    for host in HOSTILE_HOSTS:
        for s in (s4, s6):
            e = nothing_sent(s.sendto, b"x", (host, 7))
            check(isinstance(e, (ValueError, OSError)), "sendto %r: %r" % (host, e))
            nothing_sent(s.connect, (host, 7))
            if host:  # bind(("", port)) is the wildcard, as in usocket
                nothing_sent(s.bind, (host, 7))
        nothing_sent(socket.getaddrinfo, host, 7)
        nothing_sent(socket.getaddrinfo, host, 7, socket.AF_INET6)
        nothing_sent(socket.dnsserver, 0, (host, 53))
    s4.close()
    s6.close()


def test_ports_out_of_range_and_wrong_types():
    s = socket.socket()
    for port in HOSTILE_PORTS_OVERFLOW:
        nothing_sent(s.sendto, b"x", ("127.0.0.1", port), exc=(OverflowError, ValueError))
        nothing_sent(socket.getaddrinfo, "127.0.0.1", port, exc=(OverflowError, ValueError))
    for bad in WRONG_PORT_TYPES:
        nothing_sent(s.sendto, b"x", ("127.0.0.1", bad), exc=(TypeError,))
        nothing_sent(socket.getaddrinfo, "127.0.0.1", bad, exc=(TypeError,))
    for bad in WRONG_HOST_TYPES:
        nothing_sent(s.sendto, b"x", (bad, 7), exc=(TypeError,))
        nothing_sent(s.sendto, b"x", bad, exc=(TypeError,))
        nothing_sent(socket.getaddrinfo, bad, 7, exc=(TypeError,))
    # (A str is a buffer in MicroPython, and usocket sends it: so does this module.)
    for bad in (None, 42, 4.2, ["x"], object()):
        nothing_sent(s.sendto, bad, echo4(), exc=(TypeError,))
    s.close()


def test_buffers_over_the_limit():
    s = socket.socket()
    limit = socket.config("max_datagram")
    for size in (limit + 1, 1501, 65536):
        e = nothing_sent(s.sendto, bytes(size), echo4(), exc=(OSError,))
        check(e.errno == EMSGSIZE, "%d bytes: %r" % (size, e))
    nothing_sent(s.sendto, b"", echo4(), exc=(OSError,))
    s.close()


def test_use_after_close_and_seven_sockets():
    s = socket.socket()
    s.connect(echo4())
    s.close()
    for fn, args in [(s.sendto, (b"x", echo4())), (s.send, (b"x",)), (s.recv, (1,)),
                     (s.recvfrom, (1,)), (s.connect, (echo4(),))]:
        e = nothing_sent(fn, *args, exc=(OSError,))
        check(e.errno == EBADF, "%r after close: %r" % (fn, e))
    held = [socket.socket() for _ in range(6)]
    e = nothing_sent(socket.socket, exc=(OSError,))
    check(e.errno == ENOMEM, "the seventh socket: %r" % e)
    for t in held:
        t.close()


def test_afterwards_nothing_is_held_and_echo_works():
    check(socket._slots_in_use() == 0, "slots held: %d" % socket._slots_in_use())
    check(sim_stats()["open_slots"] == 0, "modem slots open: %r" % sim_stats())
    s = socket.socket()
    s.settimeout(5)
    echo_once(s, b"still fine", echo4())
    s.close()


run(globals())
