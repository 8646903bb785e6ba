# Records one trace per kind of operation (UDP, TCP, listen/accept, DNS, TLS) with payloads
# shown, into TRACE_RECORD_DIR (`make traces`: the committed tests/traces/emulation-*.trace)
# or, in `make test`, into build/traces/, where the replay check (mk/trace.mk) replays every
# one through the core. Each trace begins with its own sockets, so it replays on a fresh engine
# (primed with the reset sweep); TLS comes last: a secure connId changes how the next dial on it
# begins, which a trace that starts later cannot show.
import os
import socket as host  # the unix port's own sockets: only to call the CPython dialer
import time

from mas_testlib import *

OUT = os.getenv("TRACE_RECORD_DIR") or os.getenv("TRACE_CHECK_DIR") or trace_check_dir()
TAG = os.getenv("TRACE_TAG") or "%s-%s" % (transport(), STARTING_PROFILE)
socket.config(dns_cache=False)


def record(kind, fn):
    path = "%s/%s-%s.trace" % (OUT, kind, TAG) if not os.getenv("TRACE_RECORD_DIR") else "%s/emulation-%s.trace" % (OUT, kind)
    socket.trace(path, payloads=True)
    # A full sweep at the start of each trace (the module meets the modem afresh): what earlier
    # traces left in the engine (a connId that reads hex after a DNS answer, a secure connId)
    # is forgotten in the trace itself, so the replay on a fresh engine starts from the same state.
    socket.set_modem(None)
    socket.set_modem(lte)
    try:
        fn()
    finally:
        socket.trace(None)
    with open(path) as f:
        text = f.read()
    check(text.count("\nX ") > 0 and text.count("\nD ") > 0, "%s: exchanges recorded" % path)
    print("recorded", path)


def test_1_udp():
    def udp():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        echo_once(s, b"udp over IPv4", echo4())
        if echo6():
            echo_once(s, b"and over IPv6", echo6())
        s.close()
    record("udp", udp)


def test_2_tcp():
    port = int(os.getenv("TCP_ECHO_PORT4") or 0)
    check(port, "TCP_ECHO_PORT4 is not set")

    def tcp():
        s = socket.socket()
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        s.send(b"stream bytes")
        got = b""
        while len(got) < 12:
            got += s.recv(64)
        check(got == b"stream bytes", "tcp echo %r" % got)
        s.close()
    record("tcp", tcp)


def test_3_listen_accept():
    dialer_at = ("127.0.0.1", int(os.getenv("TCP_DIALER_PORT") or 0))
    check(dialer_at[1], "TCP_DIALER_PORT is not set")
    port = free_port(0)

    def ask(request):
        u = host.socket(host.AF_INET, host.SOCK_DGRAM)
        u.settimeout(5)
        u.sendto(request.encode(), host.getaddrinfo(dialer_at[0], dialer_at[1])[0][-1])
        reply = u.recv(65536).decode()
        u.close()
        return reply

    def listen_accept():
        srv = socket.socket()
        srv.bind(("", port))
        srv.listen(1)
        srv.settimeout(10)
        ident = int(ask("dial 127.0.0.1 %d %s" % (port, b"hello board".hex())).split()[1])
        conn, peer = srv.accept()
        conn.settimeout(5)
        got = b""
        while len(got) < 11:
            got += conn.recv(64)
        conn.send(got)
        conn.close()
        srv.close()
        for _ in range(250):
            if ask("result %d" % ident) != "WAIT":
                break
            time.sleep_ms(20)
    record("listen", listen_accept)


def test_4_dns():
    dns_port = int(os.getenv("DNS_PORT") or 0)
    check(dns_port, "DNS_PORT is not set")

    def dns():
        network._sim("dns ::1 %d" % dns_port)
        socket.getaddrinfo("both.test", 5683)
        network._sim("dns none")
        socket.dnsserver(0, ("::1", dns_port))
        socket.getaddrinfo("v6only.test", 53, socket.AF_INET6)
        # af=0 on our own query: the AAAA and A queries back to back over one socket.
        socket.getaddrinfo("both.test", 53)
    record("dns", dns)


def test_5_tls():
    tls = os.getenv("TLS_DIR")
    port = int(os.getenv("MQTTS_PORT") or 0)
    check(tls and port, "TLS_DIR/MQTTS_PORT are not set")
    socket.ssl.store("/tmp/mas_record_store_%s_%s.txt" % (transport(), STARTING_PROFILE))
    network._sim("nvm clear")

    def tls_dial():
        s = socket.socket()
        s.settimeout(5)
        s.connect(socket.getaddrinfo("::1", port)[0][-1])
        s = socket.ssl.wrap_socket(s, cert_reqs=socket.ssl.CERT_REQUIRED, ca_certs=tls + "/ca.pem")
        s.close()
    record("tls", tls_dial)


run(globals())
