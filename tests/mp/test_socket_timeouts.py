# Timeouts as modlwip has them: 0 raises EAGAIN at once, a number raises
# ETIMEDOUT when it expires, None blocks until a datagram arrives.
import time

from mas_testlib import *


def connected_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(echo4())
    return s


def test_nonblocking_raises_eagain():
    s = connected_socket()
    s.settimeout(0)
    raises(OSError, s.recv, 10, errno=EAGAIN)
    s.setblocking(True)
    s.setblocking(False)
    raises(OSError, s.recvfrom, 10, errno=EAGAIN)
    s.close()


def test_nonblocking_gets_a_waiting_datagram():
    s = connected_socket()
    s.settimeout(5)
    s.send(b"soon")
    s.setblocking(False)
    got = None
    for _ in range(200):
        try:
            got = s.recv(10)
            break
        except OSError as e:
            check(e.errno == EAGAIN, "only EAGAIN while waiting: %r" % e)
            time.sleep_ms(10)
    check(got == b"soon", "datagram: %r" % got)
    s.close()


def test_timeout_expires_with_etimedout():
    s = connected_socket()
    s.settimeout(0.3)
    start = time.ticks_ms()
    raises(OSError, s.recv, 10, errno=ETIMEDOUT)
    took = time.ticks_diff(time.ticks_ms(), start)
    check(280 <= took < 3000, "waited %d ms for a 300 ms timeout" % took)
    # The socket is still usable afterwards.
    s.settimeout(5)
    echo_once(s, b"still here", echo4())
    s.close()


def test_none_blocks_until_data():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(None)
    s.sendto(b"blocking", echo4())
    check(s.recv(100) == b"blocking", "blocking recv")
    s.close()


def test_receive_before_any_peer_is_enotconn():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0)
    before = exchanges()
    raises(OSError, s.recv, 10, errno=ENOTCONN)
    check(exchanges() == before, "no modem exchange")
    s.close()


def test_bad_timeouts():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raises(ValueError, s.settimeout, -1)
    raises(TypeError, s.settimeout, "1")
    s.settimeout(1.5)
    s.settimeout(2)
    s.close()


run(globals())
