# How the module passes each exchange's timeout on each firmware profile, found once per
# modem: timeout= on 1.20.2.r2..r6 and branch Release/v1.20, the second positional argument
# (delay) on PR 429's head, none on 1.20.1 and 1.18 (their fixed 9.5 s wait). The direct
# transport puts it in the queued struct on every release.
from mas_testlib import *

FORMS = {"1.20.2": "keyword", "release-v1.20": "keyword", "pr429": "positional", "1.20.1": "none", "1.18": "none"}
# Forms tried before the one that works: timeout=, then positional, then none.
PROBES = {"keyword": 0, "positional": 1, "none": 2}
FIXED_WAIT_US = 9500 * 1000
RECEIVE_BUDGET_US = 5000 * 1000  # the core's bound on one AT+SQNSRECV exchange


def firmware_takes_a_timeout():
    return transport() == "lteppp" or FORMS[STARTING_PROFILE] != "none"


def test_the_form_is_found_once_per_modem():
    if transport() == "lteppp":
        check(socket.config("transport") == "lteppp", "the direct transport has no send_at_cmd form")
        raises(ValueError, socket.config, "timeout_form")
        return
    socket.set_modem(lte)
    check(socket.config("timeout_form") is None, "not known before the first exchange")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    for probes in (PROBES[FORMS[STARTING_PROFILE]], 0):
        # A refused form is a send_at_cmd call that raised TypeError before queueing anything.
        network._lte_reset_stats()
        echo_once(s, b"form", echo4())
        st = network._lte_stats()
        check(st["calls"] - st["exchanges"] == probes, "%d refused calls expected: %r" % (probes, st))
        check(socket.config("timeout_form") == FORMS[STARTING_PROFILE],
              "%s: %r" % (STARTING_PROFILE, socket.config("timeout_form")))
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
