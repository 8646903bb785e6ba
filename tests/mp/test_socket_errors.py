# Modem trouble seen from Python: +CME ERROR codes, a socket the modem closed
# on its own, a modem reboot, and the firmware refusing AT commands while PPP
# is up. Each time the error is an OSError with a standard errno, no slot is
# leaked, and the socket works again once the modem does.
import time

from mas_testlib import *


def fresh_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    return s


def echo_after_modem_loss(s, data):
    """The firmware flushes URCs (+SQNSH, +SYSSTART) away before the next
    command, so the first send after the modem lost the socket may find it
    gone: at most one EIO, then the module dials afresh."""
    try:
        echo_once(s, data, echo4())
    except OSError as e:
        check(e.errno == EIO, "only EIO: %r" % e)
        echo_once(s, data, echo4())


def fresh_modem_state():
    """A reset sweep, as at start-up: numeric error codes on, no slot open."""
    socket.set_modem(None)
    socket.set_modem(lte)


def test_refused_dial_raises_eio_with_cme_code():
    fresh_modem_state()
    s = fresh_socket()
    reply = network._sim("fault error SQNSD 1 cme 3")
    check(reply.startswith("OK"), "fault armed: %r" % reply)
    raises(OSError, s.sendto, b"x", echo4(), errno=EIO)
    check(s.cme_error == 3, "cme_error: %r" % s.cme_error)
    # The fault is spent: the next send dials again and gets through.
    echo_once(s, b"after the fault", echo4())
    s.close()
    check(socket._slots_in_use() == 0 and sim_stats()["open_slots"] == 0, "no leak")


def test_socket_closed_by_the_modem_is_dialled_again():
    s = fresh_socket()
    echo_once(s, b"before", echo4())
    conn = 1  # every earlier test closed its sockets: this one holds connId 1
    reply = network._sim("inject sqnsh %d" % conn)
    check(reply.startswith("OK"), "inject: %r" % reply)
    time.sleep_ms(50)
    echo_after_modem_loss(s, b"after +SQNSH")
    s.close()
    check(sim_stats()["open_slots"] == 0, "no leak: %r" % sim_stats())


def test_modem_reboot_is_survived():
    s = fresh_socket()
    echo_once(s, b"before the reboot", echo4())
    restarts = socket._modem_restarts()
    reply = network._sim("reboot")
    check(reply.startswith("OK"), "reboot: %r" % reply)
    time.sleep_ms(100)
    echo_after_modem_loss(s, b"after the reboot")
    check(socket._modem_restarts() >= restarts, "restarts counted")
    s.close()
    check(socket._slots_in_use() == 0 and sim_stats()["open_slots"] == 0, "no leak")


def test_cme_codes_after_an_unseen_reboot():
    # The reboot turns numeric errors off, and the firmware flushes +SYSSTART
    # away before the module sees it: the code must still come back.
    fresh_modem_state()
    s = fresh_socket()
    echo_once(s, b"before the reboot", echo4())
    check(network._sim("reboot").startswith("OK"), "reboot")
    time.sleep_ms(100)
    echo_after_modem_loss(s, b"after the reboot")
    s.close()
    t = fresh_socket()
    check(network._sim("fault error SQNSD 1 cme 3").startswith("OK"), "fault armed")
    raises(OSError, t.sendto, b"x", echo4(), errno=EIO)
    check(t.cme_error == 3, "cme_error after a reboot: %r" % t.cme_error)
    t.close()


def test_data_state_error_propagates_and_leaks_nothing():
    s = fresh_socket()
    echo_once(s, b"command mode", echo4())
    lte.attach()
    for _ in range(50):
        if lte.isattached():
            break
        time.sleep_ms(20)
    lte.connect()
    try:
        e = raises(OSError, s.sendto, b"x", echo4())
        check("data state" in str(e), "the firmware's own error: %r" % (e.args,))
        raises(OSError, s.close)
        check(socket._slots_in_use() == 0, "the slot is freed even so")
    finally:
        lte.disconnect()
    t = fresh_socket()
    echo_once(t, b"back in command mode", echo4())
    t.close()


run(globals())
