# A modem that is not attached (lte.detach(), or the network lost while the radio stays on):
# every socket operation that needs the network says so with OSError(ENETUNREACH, "the LTE is
# not attached: call lte.attach() and wait for lte.isattached()"), sockets open at the loss
# report it too, nothing leaks, and after attach() the same code works again.
import os

from mas_testlib import *

ENETUNREACH = 101
TCP_ECHO = ("127.0.0.1", int(os.getenv("TCP_ECHO_PORT4") or 0))


def sim(line):
    reply = network._sim(line)
    check(reply.startswith("OK"), "%s -> %s" % (line, reply))


def not_attached(fn, *args):
    try:
        fn(*args)
    except OSError as e:
        check(e.args[0] == ENETUNREACH, "errno %r (%r)" % (e.args[0], e))
        check(len(e.args) > 1 and "lte.attach()" in e.args[1], "the message: %r" % (e.args,))
        return
    check(False, "no error while not attached")


def attach():
    lte.attach()
    for _ in range(100):
        if lte.isattached():
            return
    check(False, "attach")


def test_udp_after_detach():
    lte.detach()
    check(not lte.isattached(), "detached")
    check('"' not in lte.send_at_cmd("AT+CGPADDR"), "no address without a PDP context")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    not_attached(s.sendto, b"nobody hears", echo4())
    s.close()
    check(socket._slots_in_use() == 0, "no slot kept")
    attach()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    echo_once(s, b"attached again", echo4())
    s.close()


def test_tcp_connect_after_detach():
    check(TCP_ECHO[1], "TCP_ECHO_PORT4 is not set")
    lte.detach()
    s = socket.socket()
    s.settimeout(2)
    not_attached(s.connect, TCP_ECHO)
    s.close()
    attach()


def test_network_lost_mid_stream():
    check(TCP_ECHO[1], "TCP_ECHO_PORT4 is not set")
    s = socket.socket()
    s.settimeout(5)
    s.connect(TCP_ECHO)
    s.send(b"before")
    got = b""
    while len(got) < 6:
        got += s.recv(16)
    sim("network lose")
    check(not lte.isattached(), "the network is gone")
    not_attached(lambda: (s.send(b"after"), s.recv(16)))
    s.close()
    check(socket._slots_in_use() == 0, "the stream's slot is freed")
    sim("network back")
    check(lte.isattached(), "the network is back")
    s = socket.socket()
    s.settimeout(5)
    s.connect(TCP_ECHO)
    s.send(b"again")
    got = b""
    while len(got) < 5:
        got += s.recv(16)
    check(got == b"again", "echo after the network came back: %r" % got)
    s.close()


def test_attached_failures_stay_what_they_were():
    # A refused dial on an attached modem is still ECONNREFUSED, not "not attached".
    port = int(os.getenv("TCP_REFUSED_PORT4") or 0)
    check(port, "TCP_REFUSED_PORT4 is not set")
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
    except OSError as e:
        check(e.args[0] == 111, "refused: %r" % (e,))
    else:
        check(False, "a refused dial connected")
    s.close()


run(globals())
