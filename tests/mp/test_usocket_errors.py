# usocket's exceptions as Pycom's esp32/mods/modusocket.c (v1.20.2.r6) raises them, CPython's
# gaierror for a failed lookup, and errors whose message names the cause and the fix: each
# keeps its errno (e.errno) for code, and says in words what happened for people.
import os

from mas_testlib import *

EAI_FAIL = -202
EPIPE = 32
EISCONN = 106
ECONNREFUSED = 111
EHOSTUNREACH = 113
ECONNABORTED = 103
DNS_PORT = int(os.getenv("DNS_PORT") or 0)
DEAD = ("127.0.0.1", 9)


def says(e, *words):
    text = str(e)
    for word in words:
        check(word in text, "%r should name %r" % (text, word))


def sim(line):
    reply = network._sim(line)
    check(reply.startswith("OK"), "%s -> %s" % (line, reply))


def tcp_port(name):
    value = os.getenv(name)
    check(value, "%s is not set (run through tests/mp/run_mp_tests.py)" % name)
    return int(value)


def lookups_through(modem_resolver):
    """The modem's resolver (or none), our own queries to the local dnsmasq, no cache."""
    sim(("dns ::1 %d" % DNS_PORT) if modem_resolver else "dns none")
    socket.dnsserver(0, ("::1", DNS_PORT))
    socket.dnsserver(1, DEAD)
    socket.config(dns_cache=False)


# ---- usocket's exception classes ------------------------------------------------------

def test_error_is_oserror_and_timeout_is_one():
    check(socket.error is OSError, "socket.error is OSError")
    check(issubclass(socket.timeout, OSError), "socket.timeout is an OSError")
    check(socket.timeout.__name__ == "TimeoutError", "Pycom's usocket.timeout is TimeoutError")
    check(issubclass(socket.gaierror, OSError), "socket.gaierror is an OSError")


def test_datagram_receive_timeout_is_socket_timeout():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(echo4())
    s.settimeout(0.3)
    try:
        s.recv(10)
        raise AssertionError("recv with nothing coming returned")
    except socket.timeout as e:
        check(e.errno == ETIMEDOUT and e.args[0] == ETIMEDOUT, "errno kept: %r" % (e.args,))
        says(e, "timed out", "settimeout")
    # Scripts written for lwIP catch it as an OSError.
    e = raises(OSError, s.recvfrom, 10, errno=ETIMEDOUT)
    check(isinstance(e, socket.timeout), "an OSError that is socket.timeout: %r" % e)
    s.close()
    check(socket._slots_in_use() == 0, "slot freed")


def test_stream_receive_timeout_is_socket_timeout():
    s = socket.socket()
    s.connect(("127.0.0.1", tcp_port("TCP_SILENT_PORT4")))
    s.settimeout(0.5)
    e = raises(socket.timeout, s.recv, 10, errno=ETIMEDOUT)
    says(e, "timed out")
    s.setblocking(False)
    e = raises(OSError, s.recv, 10, errno=EAGAIN)
    check(not isinstance(e, socket.timeout), "non-blocking is EAGAIN, not a timeout: %r" % e)
    s.close()


# ---- messages that name the cause and the fix -------------------------------------------

def test_unknown_host_is_gaierror_minus_202_naming_the_host():
    lookups_through(modem_resolver=True)
    try:
        socket.getaddrinfo("nosuch.test", 1)
        raise AssertionError("an unknown name resolved")
    except socket.gaierror as e:
        check(e.errno == EAI_FAIL, "errno -202 kept: %r" % (e.args,))
        says(e, "nosuch.test", "not found", "spelling")
    e = raises(OSError, socket.getaddrinfo, "nosuch.test", 1, errno=EAI_FAIL)
    check(isinstance(e, socket.gaierror), "gaierror: %r" % e)


def test_no_free_socket_for_the_dns_query_says_close_one():
    lookups_through(modem_resolver=False)
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(6)]
    try:
        e = raises(OSError, socket.getaddrinfo, "v6only.test", 1, errno=ENOMEM)
        says(e, "DNS", "close a socket")
    finally:
        for s in socks:
            s.close()
    check(socket._slots_in_use() == 0, "all freed")


def test_no_carrier_on_the_dial_is_ehostunreach_explained():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    sim("fault no_carrier 1")
    e = raises(OSError, s.sendto, b"x", echo4(), errno=EHOSTUNREACH)
    says(e, "NO CARRIER", "check the address")
    echo_once(s, b"after the fault", echo4())
    s.close()


def test_modem_error_is_eio_pointing_at_cme_error():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    sim("fault error SQNSD 1 cme 3")
    e = raises(OSError, s.sendto, b"x", echo4(), errno=EIO)
    says(e, "ERROR", "cme_error", "isattached")
    s.close()


def test_datagram_receive_before_a_peer_says_sendto_first():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    e = raises(OSError, s.recvfrom, 10, errno=ENOTCONN)
    says(e, "no peer", "sendto()", "connect()")
    s.close()


def test_empty_datagram_is_einval_explained():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    e = raises(OSError, s.sendto, b"", echo4(), errno=EINVAL)
    says(e, "empty datagram", "at least one byte")
    s.close()


def test_second_connect_is_eisconn_in_words():
    s = socket.socket()
    s.connect(("127.0.0.1", tcp_port("TCP_ECHO_PORT4")))
    e = raises(OSError, s.connect, ("127.0.0.1", tcp_port("TCP_ECHO_PORT4")), errno=EISCONN)
    says(e, "already connected", "make a new one")
    s.close()


def test_refused_dial_says_is_a_server_listening():
    s = socket.socket()
    e = raises(OSError, s.connect, ("127.0.0.1", tcp_port("TCP_REFUSED_PORT4")), errno=ECONNREFUSED)
    says(e, "NO CARRIER", "listening")
    s.close()


def test_connect_to_a_server_that_closes_at_once_then_eof():
    # lwIP and Linux: the connect succeeds (the handshake did), the first read is b''.
    for _ in range(3):
        s = socket.socket()
        s.settimeout(5)
        s.connect(("127.0.0.1", tcp_port("TCP_CLOSING_PORT4")))
        check(s.recv(10) == b"", "EOF after the connect")
        e = raises(OSError, s.send, b"late", errno=EPIPE)
        says(e, "closed by the peer")
        s.close()
    check(socket._slots_in_use() == 0, "slots freed")


def test_tls_failure_does_not_blame_one_side_the_modem_did_not_name():
    # The modem answers a failed handshake with NO CARRIER alone: the message names every
    # side that may have refused, and says that the modem does not tell which.
    tls, port = os.getenv("TLS_DIR"), int(os.getenv("MQTTS_PORT") or 0)
    check(tls and port, "TLS_DIR/MQTTS_PORT are not set (tests/setup-deps.sh)")
    ssl = socket.ssl
    ssl.store(tls + "/fingerprints.txt")
    s = socket.socket()
    s.connect(("::1", port))
    e = raises(OSError, lambda: ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED, ca_certs=tls + "/other-ca.pem"),
               errno=ECONNABORTED)
    says(e, "which side", "ca_certs", "certfile")
    s.close()
    check(socket._slots_in_use() == 0, "slot freed")


run(globals())
