# Every interruption point of every socket operation, on both transports: an exception while
# the LTE task works on the n-th item of an operation (the firmware's data-state OSError when
# another thread calls lte.connect(), a KeyboardInterrupt), and on send_at_cmd builds an
# exception from send_at_cmd itself after its command went out (the answer lost). Afterwards
# the module must be whole: close() closes the modem socket for real, every command reaches the
# modem as a command (none is eaten as payload bytes by a modem left waiting after
# AT+SQNSSENDEXT), and fresh sockets echo at once.
import gc
import sys
import time

import network

from mas_testlib import *


# The build's own send style (1.18 needs combined sends: its CR LF would put an LF before a payload).
COMBINED = socket.config("combined_send")


class RaisingAfter:
    """An LTE object whose send_at_cmd raises KeyboardInterrupt after its n-th call went out."""

    def __init__(self, lte):
        self.lte = lte
        self.at = 0
        self.calls = 0

    def send_at_cmd(self, *args, **kwargs):
        # Passed on as given: the module calls with the timeout form this profile's firmware takes.
        self.calls += 1
        answer = self.lte.send_at_cmd(*args, **kwargs)
        if self.calls == self.at:
            raise KeyboardInterrupt
        return answer


def warm(s, peer):
    s.sendto(b"warm", peer)
    check(s.recvfrom(64)[0] == b"warm", "warm-up echo")


def op_first_sendto(s, peer, other):
    s.sendto(b"first datagram", peer)


def op_steady_sendto(s, peer, other):
    s.sendto(b"steady datagram", peer)


def op_sendto_other_peer(s, peer, other):
    s.sendto(b"other datagram", other)


def op_recvfrom_waiting(s, peer, other):
    s.recvfrom(64)


def op_recvfrom_nothing(s, peer, other):
    s.settimeout(0.1)
    try:
        s.recvfrom(64)
    except OSError:
        pass


def op_poll(s, peer, other):
    import select
    p = select.poll()
    p.register(s, select.POLLIN)
    p.poll(0)


def op_connect(s, peer, other):
    s.connect(other)


def op_close(s, peer, other):
    s.close()


# (name, operation, socket warmed up first, a datagram waiting, combined_send)
OPERATIONS = [
    ("first sendto", op_first_sendto, False, False, False),
    ("steady sendto", op_steady_sendto, True, False, False),
    ("steady combined sendto", op_steady_sendto, True, False, True),
    ("sendto another peer", op_sendto_other_peer, True, False, False),
    ("recvfrom, datagram waiting", op_recvfrom_waiting, True, True, False),
    ("recvfrom, nothing coming", op_recvfrom_nothing, True, False, False),
    ("poll", op_poll, True, False, False),
    ("connect", op_connect, False, False, False),
    ("close", op_close, True, False, False),
]


def check_whole(what, peer):
    """Fresh sockets echo at once, their close reaches the modem, no command is eaten."""
    gc.collect()
    check(socket._slots_in_use() == 0, "%s: a slot leaked" % what)
    if lte.isconnected():
        lte.disconnect()
    commands_before = sim_stats()["commands"]
    sent_before = network._lte_stats()["commands"]
    fresh = [socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) for _ in range(2)]
    for i, s in enumerate(fresh):
        s.settimeout(5)
        data = b"fresh %d" % i
        check(s.sendto(data, peer) == len(data), "%s: socket %d's sendto" % (what, i))
        check(s.recvfrom(64)[0] == data, "%s: socket %d's echo" % (what, i))
        s.close()
    check(sim_stats()["open_slots"] == 0, "%s: the modem still holds a socket" % what)
    # Lines the fake wrote as commands (payload lines included) vs lines the modem executed:
    # a modem left waiting for payload takes command lines as payload bytes.
    sent = network._lte_stats()["commands"] - sent_before
    executed = sim_stats()["commands"] - commands_before
    # Each fresh socket's payload line is written as a command and taken as payload; so may
    # be the one line that brings a modem left waiting back to command mode.
    payloads = 2 + 1
    check(executed >= sent - payloads, "%s: %d lines sent, %d commands executed" % (what, sent, executed))


def run_operation(name, op, warmed, waiting, combined, arm, disarm):
    """Runs `op` on a fresh socket with `arm()` armed; returns whether the interruption fired."""
    peer, other = echo4(), echo_peers()[-1]
    if other == peer:
        other = (peer[0], peer[1])
    socket.config(combined_send=combined or COMBINED)
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(2)
    if warmed:
        warm(s, peer)
    if waiting:
        s.sendto(b"waiting", peer)
        time.sleep(0.05)
    fired = False
    arm()
    try:
        op(s, peer, other)
        # A pending KeyboardInterrupt is raised here at the latest (a delay checks for it).
        time.sleep_ms(1)
    except (KeyboardInterrupt, OSError):
        fired = True
    disarm()
    if lte.isconnected():
        lte.disconnect()
    s.close()
    socket.config(combined_send=COMBINED)
    return fired


def recover(modem):
    """After a failed point: a modem reboot and a reset sweep, so the next point starts clean."""
    network._lte_interrupt(0, "kbd")
    if lte.isconnected():
        lte.disconnect()
    network._sim("reboot")
    socket.set_modem(RaisingAfter(lte))
    socket.set_modem(modem)
    socket.config(combined_send=COMBINED)
    gc.collect()
    socket._slots_in_use()


def sweep(arm_for, disarm, modem):
    """Every operation, interrupted at its 1st, 2nd, ... item until one runs through."""
    failures = []
    points = 0
    peer = echo4()
    for name, op, warmed, waiting, combined in OPERATIONS:
        n = 1
        while True:
            what = "%s, interrupted at %d" % (name, n)
            fired = True
            try:
                fired = run_operation(name, op, warmed, waiting, combined, arm_for(n), disarm)
                check_whole(what, peer)
            except Exception as e:
                if not failures:
                    print("first failure, %s:" % what)
                    sys.print_exception(e)
                failures.append("%s: %r" % (what, e))
                recover(modem)
            points += 1
            if not fired or n >= 12:
                break
            n += 1
    return points, failures


def sweep_task(kind):
    def arm_for(n):
        return lambda: network._lte_interrupt(n, kind)

    return sweep(arm_for, lambda: network._lte_interrupt(0, kind), lte)


def sweep_raising_send_at_cmd():
    """send_at_cmd builds: an exception from send_at_cmd after its n-th call went out."""
    wrapper = RaisingAfter(lte)
    socket.set_modem(wrapper)

    def arm_for(n):
        def arm():
            wrapper.calls = 0
            wrapper.at = n
        return arm

    def disarm():
        wrapper.at = 0

    try:
        return sweep(arm_for, disarm, wrapper)
    finally:
        socket.set_modem(lte)


def report(points, failures):
    for f in failures:
        print("   ", f)
    check(not failures, "%d of %d interruption points failed" % (len(failures), points))


def test_data_state_at_every_item():
    report(*sweep_task("ppp"))


def test_keyboard_interrupt_at_every_item():
    report(*sweep_task("kbd"))


def test_send_at_cmd_raising_after_every_call():
    if transport() != "send_at_cmd":
        print("note: lteppp build: the module makes no send_at_cmd call")
        return
    report(*sweep_raising_send_at_cmd())


run(globals())
