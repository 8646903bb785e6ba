# What the child scripts of the tests share (they run without mas_testlib: a script after a soft
# reset, or a fresh process, must work with nothing set up, and mas_testlib makes the LTE object).
import os

import microATsocket as socket


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def peer(name, host):
    port = os.getenv(name)
    check(port, "%s is not set (run through tests/mp/run_mp_tests.py)" % name)
    return (host, int(port))


def udp_echo(s, data, to):
    check(s.sendto(data, to) == len(data), "sendto of %d bytes" % len(data))
    got, sender = s.recvfrom(256)
    check(got == data, "echo %r, expected %r" % (got, data))
    check(sender == to, "sender %r, expected %r" % (sender, to))


def udp_socket(timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    return s


def tls_ca():
    folder = os.getenv("TLS_DIR")
    check(folder, "TLS_DIR is not set")
    return folder + "/ca.pem"
