# What the transport can carry. Through send_at_cmd: 62-byte datagrams on
# stock firmware (124-byte commands, hex), 1500 with PR 429 chunking. Through
# the LTE task directly: 1500 on every release whose task takes continuation
# items (1.20.2.r2 on, no send_at_cmd patch needed), 51 on 1.18's struct (123-byte
# items there: its task takes their length with strlen). A
# datagram over the limit raises EMSGSIZE and nothing reaches the modem.
from mas_testlib import *

# (max_command, max_datagram) a build starts with, by lteppp layout (None: send_at_cmd).
DEFAULT_LIMITS = {None: (124, 62), 1202: (0, 1500), 118: (123, 51)}


def test_default_limit_of_this_build():
    max_command, max_datagram = DEFAULT_LIMITS[lteppp_layout()]
    check(socket.config("max_command") == max_command, "command limit %r" % socket.config("max_command"))
    check(socket.config("max_datagram") == max_datagram, "datagram limit %r" % socket.config("max_datagram"))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    echo_once(s, bytes(i & 0xff for i in range(max_datagram)), echo4())
    before = modem_bytes_in()
    commands = sim_stats()["commands"]
    raises(OSError, s.sendto, bytes(max_datagram + 1), echo4(), errno=EMSGSIZE)
    raises(OSError, s.sendto, bytes(1501), echo4(), errno=EMSGSIZE)
    check(modem_bytes_in() == before, "nothing sent for an oversize datagram")
    check(sim_stats()["commands"] == commands, "the modem saw nothing")
    s.close()


def test_chunking_carries_1500_bytes():
    if lteppp_layout() == 118:
        # 1.18's task has no continuation items: nothing carries 1500 bytes there.
        check(socket.config("max_datagram") == 51, "1.18 struct limit")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        before = modem_bytes_in()
        raises(OSError, s.sendto, bytes(1500), echo4(), errno=EMSGSIZE)
        check(modem_bytes_in() == before, "nothing sent")
        s.close()
        return
    use_profile(chunking_profile(), chunking=True)
    check(socket.config("chunking"), "chunking on")
    check(socket.config("max_datagram") == 1500, "PR 429 datagram limit")
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(5)
    big = bytes(i & 0xff for i in range(1500))
    echo_once(s, big, echo4())
    before = exchanges()
    raises(OSError, s.sendto, bytes(1501), echo4(), errno=EMSGSIZE)
    check(exchanges() == before, "nothing sent over 1500")
    s.close()


def test_config_max_command():
    socket.config(max_command=0)
    check(socket.config("max_datagram") == 1500, "no limit")
    socket.config(max_command=124)
    # Hex: half of 124, or of what AT+SQNSSENDEXT=<id>,52 and its CR leave when they share the
    # write; raw (the direct transport): what AT+SQNSSENDEXT=<id>,103 and its CR leave.
    expected = {(False, False): 62, (True, False): 52, (True, True): 103}
    key = (socket.config("combined_send"), socket.config("raw_send"))
    check(socket.config("max_datagram") == expected[key], "back to stock: %r" % socket.config("max_datagram"))
    raises(ValueError, lambda: socket.config(max_command=-1))
    raises(ValueError, lambda: socket.config(no_such_thing=1))
    raises(ValueError, socket.config, "no_such_thing")
    check(socket.config("max_command") == 124, "unchanged by bad calls")


def test_empty_datagram_is_refused_before_the_modem():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    before = exchanges()
    raises(OSError, s.sendto, b"", echo4())
    check(exchanges() == before, "nothing sent")
    s.close()


def test_firmware_without_timeout_keyword():
    # 1.18: send_at_cmd(cmd) only; the module notices the TypeError and stops passing timeout=.
    # (A direct build for the 1.20.2 struct cannot run on 1.18: it checks the same on its own.)
    if can_use_profile("1.18"):
        use_profile("1.18")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(echo4())
    s.settimeout(0.2)
    raises(OSError, s.recv, 10, errno=ETIMEDOUT)
    s.close()
    check(sim_stats()["open_slots"] == 0, "closed: %r" % sim_stats())


def test_sending_on_1_18_firmware():
    # 1.18 ends every command with CR LF: after the AT+SQNSSENDEXT prompt the LF
    # would count as payload, so command and payload go in one call there.
    # 123, not 124: 1.18's task takes the length with strlen, and 124 bytes leave no NUL
    # (test_fake_lte: the stale bytes of a previous answer would go out too). set_modem
    # recognises 1.18 and lowers the limit itself; a build for the 1.20.2 struct cannot run
    # on 1.18, so there the same limit is set by hand.
    if can_use_profile("1.18"):
        use_profile("1.18")
    else:
        socket.config(max_command=123)
    check(socket.config("max_command") == 123, "1.18's limit: %r" % socket.config("max_command"))
    # 1.18's task measures items with strlen: hex only there.
    raw = socket.config("raw_send")
    socket.config(combined_send=True, raw_send=False)
    try:
        # AT+SQNSSENDEXT=1,51, CR and 102 hex digits: 122 bytes, the last that fit in 123.
        check(socket.config("max_datagram") == 51, "the exact limit: %r" % socket.config("max_datagram"))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        echo_once(s, b"old firmware", echo4())
        echo_once(s, bytes(range(1, 52)), echo4())
        before = modem_bytes_in()
        commands = sim_stats()["commands"]
        raises(OSError, s.sendto, bytes(range(1, 53)), echo4(), errno=EMSGSIZE)
        check(modem_bytes_in() == before, "nothing sent for 52 bytes")
        check(sim_stats()["commands"] == commands, "the modem saw nothing")
        s.close()
    finally:
        socket.config(combined_send=False, raw_send=raw)


def test_combined_send_is_one_exchange_on_stock_firmware():
    socket.config(combined_send=True)
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        echo_once(s, b"warm", echo4())
        before = exchanges()
        s.sendto(b"one call", echo4())
        check(exchanges() - before == 1, "one send_at_cmd per datagram")
        check(s.recv(64) == b"one call", "echoed")
        s.close()
    finally:
        socket.config(combined_send=False)


run(globals())
