# How the module passes each exchange's timeout on each firmware profile, found once per
# modem: timeout= on 1.20.2.r2..r6 and branch Release/v1.20, the second positional argument
# (delay) on PR 429's head, none on 1.20.1 and 1.18 (their fixed 9.5 s wait). The direct
# transport puts it in the queued struct on every release.
from mas_testlib import *

FORMS = {"1.20.2": "keyword", "release-v1.20": "keyword", "pr429": "positional", "1.20.1": "none", "1.18": "none"}
# set_modem's probes, send_at_cmd(None, ...) with timeout=, then positional, then delay=0 (1.18),
# each refused (TypeError) or accepted (ValueError for the None command) before any I/O.
PROBES = {"1.20.2": 1, "release-v1.20": 1, "pr429": 2, "1.18": 3, "1.20.1": 3}
FIXED_WAIT_US = 9500 * 1000
RECEIVE_BUDGET_US = 5000 * 1000  # the core's bound on one AT+SQNSRECV exchange


def firmware_takes_a_timeout():
    return transport() == "lteppp" or FORMS[STARTING_PROFILE] != "none"


def test_the_form_is_found_once_per_modem():
    if transport() == "lteppp":
        check(socket.config("transport") == "lteppp", "the direct transport has no send_at_cmd form")
        raises(ValueError, socket.config, "timeout_form")
        return
    network._lte_reset_stats()
    socket.set_modem(lte)
    st = network._lte_stats()
    # A probe is a send_at_cmd call that raised before queueing anything.
    check(st["calls"] == PROBES[STARTING_PROFILE] and st["exchanges"] == 0 and st["bytes_out"] == 0,
          "set_modem: %d probes, no I/O: %r" % (PROBES[STARTING_PROFILE], st))
    check(socket.config("timeout_form") == FORMS[STARTING_PROFILE],
          "%s: %r" % (STARTING_PROFILE, socket.config("timeout_form")))
    # 1.18 measures commands with strlen: 123 bytes at most (test_fake_lte shows why).
    check(socket.config("max_command") == (123 if STARTING_PROFILE == "1.18" else 124),
          "command limit %r" % socket.config("max_command"))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    network._lte_reset_stats()
    echo_once(s, b"form", echo4())
    st = network._lte_stats()
    check(st["calls"] == st["exchanges"], "no probing once known: %r" % st)
    s.close()


def test_the_first_exchange_finds_the_form_when_probing_cannot():
    # After deinit() every send_at_cmd raises OSError ("not initialized"), which tells nothing:
    # the form is then found by the first exchange, a refused form costing no exchange.
    if transport() == "lteppp":
        return
    lte.deinit()
    socket.set_modem(lte)
    check(socket.config("timeout_form") is None, "unknown while the modem is down")
    lte.init()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    network._lte_reset_stats()
    echo_once(s, b"late", echo4())
    st = network._lte_stats()
    late = {"keyword": 0, "positional": 1, "none": 2}[FORMS[STARTING_PROFILE]]
    check(st["calls"] - st["exchanges"] == late, "%d refused calls: %r" % (late, st))
    check(socket.config("timeout_form") == FORMS[STARTING_PROFILE], "found: %r" % socket.config("timeout_form"))
    s.close()


def test_a_receive_poll_waits_its_own_budget():
    # The modem ignores one AT+SQNSRECV: the poll waits for its first byte as long as the
    # firmware lets it, the core's 5 s budget where a timeout can be passed, 9.5 s where not.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(echo4())
    s.settimeout(0.2)
    raises(OSError, s.recv, 10, errno=ETIMEDOUT)  # dialled; nothing pending
    check(network._sim("fault silent SQNSRECV 1").startswith("OK"), "fault armed")
    network._lte_reset_stats()
    raises(OSError, s.recv, 10, errno=ETIMEDOUT)
    waited = network._lte_stats()["modelled_us"]
    if firmware_takes_a_timeout():
        check(RECEIVE_BUDGET_US <= waited < FIXED_WAIT_US, "%s: waited %d us" % (STARTING_PROFILE, waited))
    else:
        check(waited >= FIXED_WAIT_US, "%s: the fixed wait, %d us" % (STARTING_PROFILE, waited))
    s.close()


run(globals())
