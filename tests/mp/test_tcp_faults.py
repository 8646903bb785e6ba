# Streams meet the modem's faults, against the CPython echo peer: +SQNSH mid-stream is EOF
# (recv b'', send EPIPE), a reboot mid-stream is ECONNRESET both ways and never a re-dial,
# a reboot as a send's payload arrives is ECONNRESET, a peer that takes nothing fills the
# modem's send buffer (sendall times out, non-blocking send is EAGAIN), an answer cut into
# 1-byte pieces and URCs dropped change nothing. No slot is left behind.
import os

from mas_testlib import *

ECONNRESET = 104
EPIPE = 32
ECHO4 = ("127.0.0.1", int(os.getenv("TCP_ECHO_PORT4") or 0))
check(ECHO4[1], "TCP_ECHO_PORT4 is not set (run through tests/mp/run_mp_tests.py)")


def sim(line):
    reply = network._sim(line)
    check(reply.startswith("OK"), "%s: %s" % (line, reply))
    return reply


def connected():
    sim("fault clear")
    s = socket.socket()
    s.settimeout(5)
    s.connect(ECHO4)
    s.sendall(b"up")
    check(s.recv(10) == b"up", "echo before the fault")
    return s


def only_open_conn():
    mask = sim_stats()["open_mask"]
    check(mask and mask & (mask - 1) == 0, "one modem socket open: mask %d" % mask)
    conn = 1
    while not mask & 1:
        mask >>= 1
        conn += 1
    return conn


def test_sqnsh_mid_stream_is_eof():
    s = connected()
    sim("inject sqnsh %d" % only_open_conn())
    check(s.recv(10) == b"", "EOF")
    check(s.read() == b"", "read() at EOF")
    raises(OSError, s.send, b"more", errno=EPIPE)
    s.close()
    check(socket._slots_in_use() == 0 and sim_stats()["open_slots"] == 0, "nothing left")


def test_reboot_mid_stream_is_econnreset_and_never_redialled():
    s = connected()
    dials = sim_stats()["tcp_dials"]
    sim("reboot")
    raises(OSError, s.recv, 10, errno=ECONNRESET)
    raises(OSError, s.send, b"x", errno=ECONNRESET)
    raises(OSError, s.sendall, b"x", errno=ECONNRESET)
    check(sim_stats()["tcp_dials"] == dials, "no re-dial")
    s.close()
    check(socket._slots_in_use() == 0, "slot freed")


def test_reboot_as_the_payload_arrives_is_econnreset():
    s = connected()
    sim("fault reboot_at PAYLOAD 1")
    raises(OSError, s.sendall, b"lost with the modem", errno=ECONNRESET)
    s.close()
    # A new stream works on the rebooted modem.
    t = connected()
    t.close()


def test_peer_that_takes_nothing_fills_the_send_buffer():
    s = connected()
    sim("fault tx_window 300")
    sim("fault stall_tx 1")
    s.settimeout(1)
    raises(OSError, s.sendall, b"z" * 2000, errno=ETIMEDOUT)
    s.setblocking(False)
    # What room is left (a transport that sends 1500 bytes a command left all 300 bytes of
    # it) fills, then a send is refused at once.
    for _ in range(10):
        try:
            s.send(b"z" * 100)
        except OSError as e:
            check(e.errno == EAGAIN, "errno %r" % e.errno)
            break
    else:
        raise AssertionError("the send buffer never filled")
    sim("fault clear")
    s.close()
    check(socket._slots_in_use() == 0, "slot freed")


def test_split_answers_and_dropped_urcs_change_nothing():
    s = connected()
    sim("fault split 1")
    sim("fault drop_urc 1000")
    data = bytes(range(200))
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        got += s.recv(200)
    check(got == data, "echo through 1-byte pieces without rings")
    sim("fault clear")
    s.close()


run(globals())
