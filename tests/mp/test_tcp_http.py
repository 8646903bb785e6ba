# The real urequests (PyPI micropython-urequests, fetched at test setup, unmodified) over
# microATsocket, against a CPython HTTP server on ::1 (tests/mp/tcp_peers.py): GET of 20 KB
# and POST of 5 KB, byte-exact. urequests cannot take a bracketed IPv6 address, so the server
# is reached by name (loop6.test -> ::1, resolved through the modem's resolver by dnsmasq).
import os
import sys

from mas_testlib import *

HTTP_PORT6 = int(os.getenv("HTTP_PORT6") or 0)
DNS_PORT = int(os.getenv("DNS_PORT") or 0)
MP_LIBS = os.getenv("MP_LIBS")
check(HTTP_PORT6 and DNS_PORT, "HTTP_PORT6/DNS_PORT are not set (run through tests/mp/run_mp_tests.py)")
check(MP_LIBS, "MP_LIBS is not set: the client libraries could not be fetched (see the runner's note)")

sys.path.append(MP_LIBS)
sys.modules["usocket"] = socket
sys.modules["socket"] = socket
import urequests

URL = "http://loop6.test:%d" % HTTP_PORT6


def pattern(n):
    # The same bytes as tcp_peers.pattern.
    return bytes((i * 31 + (i >> 8)) & 0xFF for i in range(n))


def use_modem_resolver():
    reply = network._sim("dns ::1 %d" % DNS_PORT)
    check(reply.startswith("OK"), reply)


def test_get_20kb():
    use_modem_resolver()
    x0 = exchanges()
    r = urequests.get(URL + "/bytes/20480")
    check(r.status_code == 200, "status %r" % r.status_code)
    body = r.content
    check(body == pattern(20480), "20 KB body differs (%d bytes)" % len(body))
    print("GET 20 KB: %d exchanges" % (exchanges() - x0))
    check(socket._slots_in_use() == 0, "the response closed its socket")


def test_post_5kb():
    use_modem_resolver()
    data = bytes(range(256)) * 20
    x0 = exchanges()
    r = urequests.post(URL + "/echo", data=data)
    check(r.status_code == 200, "status %r" % r.status_code)
    check(r.content == data, "5 KB echo differs")
    print("POST 5 KB (echoed): %d exchanges" % (exchanges() - x0))


def test_not_found_status():
    use_modem_resolver()
    r = urequests.get(URL + "/nothing")
    check(r.status_code == 404, "status %r" % r.status_code)
    r.close()
    check(socket._slots_in_use() == 0, "closed")


run(globals())
