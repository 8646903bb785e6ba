# Raw payloads on the direct transport (lteppp, layout 1202: items with explicit lengths and
# continuation items): sendDataMode and recvDataMode 0 by default, chosen per connId and
# direction. Counted on the fake LTE's UART bytes and idle polls, never on the clock.
# On builds that cannot carry raw bytes (send_at_cmd, layouts 118/1201) raw mode is refused.
from mas_testlib import *


def lte_stats():
    return network._lte_stats()


def raw_build():
    return lteppp_layout() == 1202


def test_other_builds_refuse_raw_mode():
    if raw_build():
        check(socket.config("raw_send") and socket.config("raw_recv"), "raw by default on 1202")
        return
    check(not socket.config("raw_send") and not socket.config("raw_recv"), "hex here")
    raises(ValueError, lambda: socket.config(raw_send=True))
    raises(ValueError, lambda: socket.config(raw_recv=True))
    check(not socket.config("raw_send"), "unchanged")


def send_bytes_out(s, data, peer):
    # Dials and configures; the NUL in the echo turns the socket to hex reads (one switch).
    for _ in range(2):
        s.sendto(data, peer)
        check(s.recv(1500) == data, "echoed")
    network._lte_reset_stats()
    s.sendto(data, peer)
    out = lte_stats()["bytes_out"]
    check(s.recv(1500) == data, "echoed again")
    return out


def test_a_1500_byte_datagram_goes_as_1500_bytes():
    if not raw_build():
        return
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    data = bytes((i * 7) & 0xFF for i in range(1500))  # every value, NUL included, no AT
    out = send_bytes_out(s, data, echo4())
    # AT+SQNSSENDEXT=1,1500, CR, the payload, the task's CR after the last item.
    check(out == len("AT+SQNSSENDEXT=1,1500") + 1 + 1500 + 1, "raw send wrote %d bytes" % out)
    socket.config(raw_send=False)
    try:
        out = send_bytes_out(s, data, echo4())
        check(out == len("AT+SQNSSENDEXT=1,1500") + 1 + 3000 + 1, "hex send wrote %d bytes" % out)
    finally:
        socket.config(raw_send=True)
    s.close()


def test_pycom_dummy_inside_a_payload_is_delivered():
    # The task reads instead of writing an item that holds the word: items are cut inside it.
    if not raw_build():
        return
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    for at in (0, 1, 118, 120, 200, 1489):
        data = bytearray(b"x" * 1500)
        data[at:at + 11] = b"Pycom_Dummy"
        echo_once(s, bytes(data), echo4())
    s.close()


def test_a_payload_that_could_read_as_a_command_goes_as_hex():
    if not raw_build():
        return
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    echo_once(s, b"warm", echo4())
    unsafe = b"\r\nAT+CFUN=0\r\n"
    network._lte_reset_stats()
    s.sendto(unsafe, echo4())
    out = lte_stats()["bytes_out"]
    # AT+SQNSCFGEXT=<id>,1,0,0,0,1 CR, then the send with 26 hex digits.
    check(out == len("AT+SQNSCFGEXT=1,1,0,0,0,1") + 1 + len("AT+SQNSSENDEXT=1,13") + 1 + 26 + 1,
          "switched to hex: %d bytes" % out)
    check(s.recv(64) == unsafe, "delivered as sent")
    # One such payload says nothing of the next: raw again (one switch back).
    switch = len("AT+SQNSCFGEXT=1,1,0,0,0,0") + 1
    network._lte_reset_stats()
    s.sendto(b"fine", echo4())
    out = lte_stats()["bytes_out"]
    check(out == switch + len("AT+SQNSSENDEXT=1,4") + 1 + 4 + 1, "raw again: %d bytes" % out)
    check(s.recv(64) == b"fine", "delivered")
    # A second one four bytes later: they are frequent, so the connId stays hex after it
    # (no AT+SQNSCFGEXT per message).
    echo_once(s, unsafe, echo4())
    network._lte_reset_stats()
    s.sendto(b"fine", echo4())
    out = lte_stats()["bytes_out"]
    check(out == len("AT+SQNSSENDEXT=1,4") + 1 + 8 + 1, "stayed hex, no switch: %d bytes" % out)
    check(s.recv(64) == b"fine", "delivered")
    # A new dial (another peer) configures the connId again: raw.
    echo_once(s, b"warm", echo6())
    network._lte_reset_stats()
    s.sendto(b"fine", echo6())
    out = lte_stats()["bytes_out"]
    check(out == len("AT+SQNSSENDEXT=1,4") + 1 + 4 + 1, "raw after the new dial: %d bytes" % out)
    check(s.recv(64) == b"fine", "delivered raw")
    s.close()


def test_a_raw_read_with_a_nul_byte_turns_the_socket_to_hex_reads():
    # Pycom's task finds the final code with strstr: a NUL in the data hides it and costs the
    # 1 s idle wait (10 polls). Once per socket: it reads hex afterwards.
    if not raw_build():
        return
    # A connId keeps hex reads after a NUL until the modem reboots, and the tests before used
    # connId 1 with binary data: this one reads on connId 2.
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    echo_once(s, b"text only", echo4())
    network._lte_reset_stats()
    echo_once(s, b"text only", echo4())
    check(lte_stats()["idle_polls"] == 0, "no idle wait for text: %r" % lte_stats())
    s.sendto(b"a\x00b", echo4())
    network._lte_reset_stats()
    check(s.recv(64) == b"a\x00b", "NUL delivered")
    check(lte_stats()["idle_polls"] == 10, "the firmware's idle wait: %r" % lte_stats())
    for _ in range(3):
        network._lte_reset_stats()
        echo_once(s, b"a\x00b", echo4())
        check(lte_stats()["idle_polls"] == 0, "hex reads now: %r" % lte_stats())
    s.close()
    # The connId's next socket reads hex from the start: no second idle wait.
    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.settimeout(5)
    network._lte_reset_stats()
    echo_once(t, b"a\x00b", echo4())
    check(lte_stats()["idle_polls"] == 0, "the next socket reads hex: %r" % lte_stats())
    t.close()
    holder.close()


def test_a_stream_carries_every_byte_value_raw():
    if not raw_build():
        return
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    for n in (1, 2, 123, 124, 125, 1500):
        echo_once(s, bytes((i * 37 + n) & 0xFF for i in range(n)), echo4())
    s.close()


run(globals())
