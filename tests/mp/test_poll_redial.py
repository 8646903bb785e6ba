# A "readable" answer of select.poll holds until the next receive, but not across a re-dial:
# a sendto to another peer closes and re-dials the modem socket, dropping what was queued.
import select
import time

from mas_testlib import *


def silent_peer():
    """A bound host UDP socket that never answers: (socket, (ip, port)) for the modem's peer."""
    import socket as host
    for i in range(50):
        port = 40000 + (time.ticks_us() + 7919 * i) % 20000
        s = host.socket(host.AF_INET, host.SOCK_DGRAM)
        try:
            s.bind(host.getaddrinfo("127.0.0.1", port)[0][-1])
            return s, ("127.0.0.1", port)
        except OSError:
            s.close()
    raise AssertionError("no free port for a silent peer")


def readable(p):
    return any(ev & select.POLLIN for _, ev in p.poll(0))


def test_readable_is_forgotten_when_sendto_redials():
    a = echo4()
    quiet, b = silent_peer()
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setblocking(False)
    p = select.poll()
    p.register(s, select.POLLIN)
    s.sendto(b"x", a)
    deadline = time.ticks_add(time.ticks_ms(), 3000)
    while not readable(p):
        check(time.ticks_diff(deadline, time.ticks_ms()) > 0, "the echo never became readable")
        time.sleep_ms(10)
    # Another peer, which never answers: the modem socket is closed and dialled again, and
    # the echo from A that was waiting is gone with it.
    s.sendto(b"y", b)
    check(not readable(p), "readable right after the re-dial")
    time.sleep_ms(100)
    check(not readable(p), "readable 100 ms after the re-dial")
    raises(OSError, s.recv, 10, errno=EAGAIN)
    s.close()
    quiet.close()


def test_connect_to_another_peer_forgets_readable_too():
    a = echo4()
    quiet, b = silent_peer()
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setblocking(False)
    p = select.poll()
    p.register(s, select.POLLIN)
    s.sendto(b"x", a)
    deadline = time.ticks_add(time.ticks_ms(), 3000)
    while not readable(p):
        check(time.ticks_diff(deadline, time.ticks_ms()) > 0, "the echo never became readable")
        time.sleep_ms(10)
    s.connect(b)
    check(not readable(p), "readable after a re-dial with nothing sent")
    raises(OSError, s.recv, 10, errno=EAGAIN)
    s.close()
    quiet.close()


run(globals())
