# The fault matrix: each fault a real modem and firmware can throw, injected
# through the simulator (or the fake LTE) while the module runs a socket
# operation. Each case states its expected outcome (transparent recovery, or
# an exception with a given errno); the test fails on any other, on a slot
# left in use (core or modem) once the case's sockets are closed, or if the
# next operation on a fresh socket does not work.
#
# With MAS_FAULT_MATRIX_OUT set, one JSON line per case is appended to that
# file; tests/mp/fault_matrix_report.py turns those into the README's table.
import json
import os
import time

import _thread

from mas_testlib import *

OUT = os.getenv("MAS_FAULT_MATRIX_OUT")
DNS_PORT = int(os.getenv("DNS_PORT") or "0")
PEER = echo6() or echo4()
FAMILY = socket.AF_INET6 if PEER == echo6() else socket.AF_INET
RECOVERS = "recovers"
ERRNO_NAMES = {EIO: "EIO", EBADF: "EBADF", ETIMEDOUT: "ETIMEDOUT", 113: "EHOSTUNREACH",
               ENOMEM: "ENOMEM", -202: "EAI_FAIL"}


def sim(line):
    reply = network._sim(line)
    check(reply.startswith("OK"), "%s: %r" % (line, reply))


class NotPossible(Exception):
    """The case cannot arise on this build."""


def describe(exc):
    if exc is None:
        return RECOVERS
    if isinstance(exc, OSError) and exc.args and isinstance(exc.args[0], int):
        return "OSError(%s)" % ERRNO_NAMES.get(exc.args[0], exc.args[0])
    if isinstance(exc, NotPossible):
        return "not possible (%s)" % exc
    if isinstance(exc, OSError) and "data state" in str(exc):
        return "OSError(data state)"
    return "%s(%s)" % (type(exc).__name__, exc)


def warm():
    s = socket.socket(FAMILY)
    s.settimeout(3)
    echo_once(s, b"warm", PEER)
    return s


def open_slot():
    mask = int(sim_stats()["open_mask"])
    return next(i for i in range(1, 7) if mask & (1 << (i - 1)))


def later(ms, line):
    """Sends a control line `ms` from now, from another thread (a fault during a wait)."""
    def fire():
        time.sleep_ms(ms)
        network._sim(line)
    _thread.start_new_thread(fire, ())


# ---- the operations the faults hit -------------------------------------------------------

def echo_on(s, data=b"payload"):
    s.sendto(data, PEER)
    got, sender = s.recvfrom(1500)
    check(got == data and sender == PEER, "echo came back as %r from %r" % (got, sender))


def fresh_socket():
    s = socket.socket(FAMILY)
    s.settimeout(3)
    return s


def send_on(make_socket, setup):
    """An echo on a socket from `make_socket`, with the fault armed just before it."""
    def op(sockets):
        s = make_socket()
        sockets.append(s)
        setup()
        echo_on(s)
    return op


def first_send(setup):
    return send_on(fresh_socket, setup)


def steady_send(setup):
    return send_on(warm, setup)


def receive(setup):
    def op(sockets):
        s = warm()
        sockets.append(s)
        s.sendto(b"waiting", PEER)
        time.sleep_ms(30)
        setup()
        got, _ = s.recvfrom(1500)
        check(got == b"waiting", "got %r" % got)
    return op


def wait_with(line):
    """recvfrom with nothing coming, `line` sent to the simulator 100 ms into the wait."""
    def op(sockets):
        s = warm()
        sockets.append(s)
        s.settimeout(0.6)
        later(100, line.replace("{slot}", str(open_slot())))
        try:
            s.recvfrom(1500)
        finally:
            time.sleep_ms(50)
            s.settimeout(3)
            echo_on(s, b"same socket after")  # the socket itself goes on working
    return op


def close_op(setup):
    def op(sockets):
        s = warm()
        setup()
        s.close()
    return op


def resolve(setup):
    def op(sockets):
        sim("dns 127.0.0.1 %d" % DNS_PORT)
        socket.dnsserver(0, ("127.0.0.1", DNS_PORT))
        setup()
        check(socket.getaddrinfo("both.test", 7)[0][-1][1] == 7, "resolved")
    return op


def reset_sweep(setup):
    def op(sockets):
        setup()
        socket.set_modem(None)
        socket.set_modem(lte)
        s = socket.socket(FAMILY)
        s.settimeout(3)
        sockets.append(s)
        echo_on(s)
    return op


def big_receive(sockets):
    if socket.config("max_datagram") < 1500 and transport() == "send_at_cmd":
        use_profile("pr429", chunking=True)
    if socket.config("max_datagram") < 1500:
        raise NotPossible("%d-byte datagrams" % socket.config("max_datagram"))
    s = warm()
    sockets.append(s)
    data = bytes(i & 0xFF for i in range(1500))
    s.sendto(data, PEER)
    time.sleep_ms(30)
    before = network._lte_stats()["dummies"]
    got, _ = s.recvfrom(1500)
    check(got == data, "1500 bytes back")
    check(network._lte_stats()["dummies"] > before, "the answer came in two pieces")


def data_state(sockets):
    s = warm()
    sockets.append(s)
    lte.connect()
    try:
        s.sendto(b"x", PEER)
    finally:
        try:
            s.close()  # the slot is freed even when the modem cannot be told
        except OSError:
            pass
        lte.disconnect()


def nothing():
    pass


def arm(line):
    return lambda: sim(line)


def arm_settled(line):
    """Injects now and lets the bytes reach the UART before the operation starts (otherwise
    they may land inside the operation's first answer, which is a different fault)."""
    def go():
        sim(line)
        time.sleep_ms(30)
    return go


def arm_at_open_slot(line):
    return lambda: sim(line.replace("{slot}", str(open_slot())))


# ---- the matrix -------------------------------------------------------------------------
# (fault, operation, what the operation does, expected outcome[, the next operation may need a
# second try]). An expected outcome that differs by build is a dict keyed by config("transport")
# or "lteppp/<layout>".
CASES = [
    ("lost +SQNSRING (3 URCs dropped)", "recvfrom, datagram waiting", receive(arm("fault drop_urc 3")), RECOVERS),
    ("URC flushed by the firmware before the read", "recvfrom, datagram waiting", receive(lambda: lte.send_at_cmd("AT")), RECOVERS),
    ("+SQNSRING for another socket", "recvfrom, datagram waiting", receive(arm("inject urc +SQNSRING: 6,5")), RECOVERS),
    ("+SQNSRING for another socket during the wait", "recvfrom, nothing coming (0.6 s)", wait_with("inject urc +SQNSRING: 6,5"), "OSError(ETIMEDOUT)"),
    ("+SQNSH: the network closed the socket", "sendto + recvfrom", steady_send(arm_at_open_slot("inject sqnsh {slot}")), RECOVERS),
    ("+SQNSH during the wait", "recvfrom, nothing coming (0.6 s)", wait_with("inject sqnsh {slot}"), "OSError(ETIMEDOUT)"),
    ("+SYSSTART: the modem rebooted", "sendto + recvfrom", steady_send(arm("inject sysstart")), RECOVERS),
    ("+SYSSTART during the wait", "recvfrom, nothing coming (0.6 s)", wait_with("inject sysstart"), "OSError(ETIMEDOUT)"),
    ("+SYSSTART with a datagram waiting (lost with the reboot)", "recvfrom (3 s)", receive(arm("inject sysstart")), "OSError(ETIMEDOUT)"),
]
for kind, suffix in (("ERROR", ""), ("+CME ERROR: 3", " cme 3")):
    CASES += [
        ("%s on AT+SQNSCFG" % kind, "first sendto", first_send(arm("fault error SQNSCFG 1" + suffix)), RECOVERS),
        ("%s on AT+SQNSCFGEXT" % kind, "first sendto", first_send(arm("fault error SQNSCFGEXT 1" + suffix)), RECOVERS),
        ("%s on AT+SQNSD" % kind, "first sendto", first_send(arm("fault error SQNSD 1" + suffix)), "OSError(EIO)"),
        ("%s on AT+SQNSSENDEXT" % kind, "sendto + recvfrom", steady_send(arm("fault error SQNSSENDEXT 1" + suffix)), RECOVERS),
        ("%s on AT+SQNSSENDEXT, twice" % kind, "sendto", steady_send(arm("fault error SQNSSENDEXT 2" + suffix)), "OSError(EIO)"),
        ("%s on AT+SQNSRECV" % kind, "recvfrom, datagram waiting", receive(arm("fault error SQNSRECV 1" + suffix)), RECOVERS),
        ("%s on AT+SQNSH" % kind, "close", close_op(arm("fault error SQNSH 1" + suffix)), RECOVERS),
        ("%s on AT+SQNDNSLKUP" % kind, "getaddrinfo of a name", resolve(arm("fault error SQNDNSLKUP 2" + suffix)), RECOVERS),
        ("%s on AT+CMEE" % kind, "reset sweep, then sendto", reset_sweep(arm("fault error CMEE 1" + suffix)), RECOVERS),
    ]
CASES += [
    ("NO CARRIER on the dial", "first sendto", first_send(arm("fault no_carrier 1")), "OSError(EHOSTUNREACH)"),
    ("no prompt after AT+SQNSSENDEXT", "sendto + recvfrom", steady_send(arm("fault no_prompt 1")), RECOVERS),
    ("answer in 7-byte pieces", "sendto + recvfrom", steady_send(arm("fault split 7")), RECOVERS),
    ("answer over 2048 bytes (two firmware pieces)", "recvfrom of 1500 bytes", big_receive,
     {"send_at_cmd": RECOVERS, "lteppp/1202": RECOVERS, "lteppp/118": "not possible (51-byte datagrams)"}),
    ("NUL before the final code", "recvfrom, datagram waiting", receive(arm("fault nul 1")), RECOVERS),
    ("garbage bytes between answers", "sendto + recvfrom", steady_send(arm_settled("inject garbage 00ff2b2b2b0d0a")), RECOVERS),
    ("+SQNSRING inside an answer", "sendto + recvfrom", steady_send(arm("fault urc_inside 2")), RECOVERS),
    # The stream replaces the answer to the SQNSSENDEXT command line. Through send_at_cmd that
    # answer is read on its own and holds no prompt: nothing is sent. The direct transport reads
    # at most four pieces of it, then listens on until the payload's OK behind it.
    # Through send_at_cmd the prompt is lost in the stream while the modem waits for the payload:
    # the next command line is taken as payload bytes, so the first operation after it may fail
    # once while the two get back in step.
    ("an answer that never ends (256 KiB, no final code)", "sendto + recvfrom", steady_send(arm("fault endless 1")),
     {"send_at_cmd": "OSError(ETIMEDOUT)", "lteppp": RECOVERS}, True),
    ("PPP data state (LTE.connect())", "sendto", data_state, "OSError(data state)"),
]


def run_case(fault, operation, op, expected, second_try_allowed=False):
    sockets = []
    exc = None
    try:
        op(sockets)
    except Exception as e:  # noqa: the outcome is what is checked
        exc = e
    actual = describe(exc)
    core_slots = socket._slots_in_use()
    for s in sockets:
        try:
            s.close()
        except OSError:
            pass
    sim("fault clear")
    restore_profile()
    freed = socket._slots_in_use() == 0
    modem_open = sim_stats()["open_slots"]
    next_ok = False
    for attempt in range(2 if second_try_allowed else 1):
        fresh = None
        try:
            fresh = socket.socket(FAMILY)
            fresh.settimeout(3)
            echo_once(fresh, b"next operation", PEER)
            next_ok = "works" if attempt == 0 else "works on the second try"
        except Exception:  # noqa
            pass
        if fresh is not None:
            try:
                fresh.close()
            except OSError:
                pass
        if next_ok:
            break
    # A modem socket the module could not close is closed by the next user of its connId.
    freed = freed and sim_stats()["open_slots"] == 0
    build = "lteppp/%d" % lteppp_layout() if lteppp_layout() else transport()
    want = expected.get(build, expected.get(transport())) if isinstance(expected, dict) else expected
    row = {"fault": fault, "operation": operation, "expected": want, "actual": actual,
           "slots_in_use_before_close": core_slots, "modem_sockets_open_after_close": modem_open,
           "all_freed_after_close": freed,
           "next_operation_works": next_ok, "transport": transport(), "layout": lteppp_layout(),
           "profile": network._lte_profile()}
    if OUT:
        with open(OUT, "a") as f:
            f.write(json.dumps(row) + "\n")
    return row


def test_fault_matrix():
    failures = []
    for case in CASES:
        row = run_case(*case)
        fault, operation = case[0], case[1]
        ok = row["actual"] == row["expected"] and row["all_freed_after_close"] and row["next_operation_works"]
        print("   ", "ok  " if ok else "FAIL", fault, "/", operation, "->", row["actual"],
              "" if ok else "(expected %s, freed %s, next works %s, core slots after close %d, modem sockets %d -> %d)" % (
                  row["expected"], row["all_freed_after_close"], row["next_operation_works"],
                  socket._slots_in_use(), row["modem_sockets_open_after_close"], sim_stats()["open_slots"]))
        if not ok:
            failures.append(fault)
    check(not failures, "%d cases differ: %r" % (len(failures), failures))


run(globals())
