# The real urequests (PyPI micropython-urequests 0.9.1, unmodified) over https:// against a
# CPython ssl HTTPS server on ::1 (tests/mp/tls_peers.py): GET of 20 KB and POST of 5 KB,
# byte-exact. urequests calls ussl.wrap_socket(s, server_hostname=host); the modem dials
# loop6.test by name (resolved through the simulator's DNS server) and does the TLS.
import os
import sys

from mas_testlib import *

HTTPS_PORT6 = int(os.getenv("HTTPS_PORT6") or 0)
DNS_PORT = int(os.getenv("DNS_PORT") or 0)
TLS = os.getenv("TLS_DIR")
MP_LIBS = os.getenv("MP_LIBS")
check(HTTPS_PORT6 and DNS_PORT and TLS, "HTTPS_PORT6/DNS_PORT/TLS_DIR are not set (run through run_mp_tests.py)")
check(MP_LIBS, "MP_LIBS is not set: the client libraries could not be fetched")

sys.path.append(MP_LIBS)
sys.modules["usocket"] = socket
sys.modules["socket"] = socket
sys.modules["ussl"] = socket.ssl
sys.modules["ssl"] = socket.ssl
import urequests

socket.ssl.store(TLS + "/fingerprints.txt")
URL = "https://loop6.test:%d" % HTTPS_PORT6


def pattern(n):
    return bytes((i * 31 + (i >> 8)) & 0xFF for i in range(n))


def use_modem_resolver():
    check(network._sim("dns ::1 %d" % DNS_PORT).startswith("OK"), "dns")


def test_get_20kb_over_https():
    use_modem_resolver()
    h0 = sim_stats()["tls_handshakes"]
    x0 = exchanges()
    r = urequests.get(URL + "/bytes/20480")
    check(r.status_code == 200, "status %r" % r.status_code)
    check(r.content == pattern(20480), "20 KB body differs")
    print("HTTPS GET 20 KB: %d exchanges" % (exchanges() - x0))
    check(sim_stats()["tls_handshakes"] == h0 + 1, "one handshake")
    check(socket._slots_in_use() == 0, "the response closed its socket")


def test_post_5kb_over_https():
    use_modem_resolver()
    data = bytes(range(256)) * 20
    r = urequests.post(URL + "/echo", data=data)
    check(r.status_code == 200, "status %r" % r.status_code)
    check(r.content == data, "5 KB echo differs")


run(globals())
