# The fault matrix: each fault a real modem and firmware can throw, injected
# through the simulator (or the fake LTE) while the module runs a socket
# operation. Each case states its expected outcome (transparent recovery, or
# an exception with a given errno); the test fails on any other, on a fault
# the simulator says did not fire, on a slot left in use (core or modem) once
# the case's sockets are closed, or if the next operation on a fresh socket
# does not work.
#
# With MAS_FAULT_MATRIX_OUT set, one JSON line per case is appended to that
# file; tests/mp/fault_matrix_report.py turns those into the README's table.
import json
import os
import time

import _thread
import select

from mas_testlib import *

OUT = os.getenv("MAS_FAULT_MATRIX_OUT")
DNS_PORT = int(os.getenv("DNS_PORT") or "0")
PEER = echo6() or echo4()
FAMILY = socket.AF_INET6 if PEER == echo6() else socket.AF_INET
RECOVERS = "recovers"
ERRNO_NAMES = {EIO: "EIO", EBADF: "EBADF", ETIMEDOUT: "ETIMEDOUT", 113: "EHOSTUNREACH", 101: "ENETUNREACH",
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
    s = socket.socket(FAMILY, socket.SOCK_DGRAM)
    s.settimeout(3)
    echo_once(s, b"warm", PEER)
    return s


def open_slot():
    mask = int(sim_stats()["open_mask"])
    return next(i for i in range(1, 7) if mask & (1 << (i - 1)))


# What the running case expects to see counted when its fault fires (a simulator stats key,
# or "flushed" for the firmware's flush), and the replies to lines sent from another thread.
WITNESS = []
LATER_REPLIES = []


def later(ms, line):
    """Sends a control line `ms` from now, from another thread (a fault during a wait)."""
    def fire():
        time.sleep_ms(ms)
        LATER_REPLIES.append(network._sim(line))
    _thread.start_new_thread(fire, ())


# ---- the operations the faults hit -------------------------------------------------------

def echo_on(s, data=b"payload"):
    s.sendto(data, PEER)
    got, sender = s.recvfrom(1500)
    check(got == data and sender == PEER, "echo came back as %r from %r" % (got, sender))


def fresh_socket():
    s = socket.socket(FAMILY, socket.SOCK_DGRAM)
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


def receive(setup, timeout=3, before_send=None):
    """recvfrom with a datagram waiting at the modem: `before_send` runs before the datagram
    is sent (a fault on its ring), `setup` once it has arrived."""
    def op(sockets):
        s = warm()
        sockets.append(s)
        if before_send:
            before_send()
        s.sendto(b"waiting", PEER)
        time.sleep_ms(30)
        setup()
        s.settimeout(timeout)
        got, _ = s.recvfrom(1500)
        check(got == b"waiting", "got %r" % got)
    return op


def sent_once(setup):
    """sendto + recvfrom on a dialled socket; the datagram left the modem exactly once (a fault
    that may or may not have sent it must not make it go twice)."""
    def op(sockets):
        s = warm()
        sockets.append(s)
        setup()
        before = sim_stats()["dgrams_tx"]
        s.sendto(b"once", PEER)
        times = sim_stats()["dgrams_tx"] - before
        check(times == 1, "the datagram left the modem %d times" % times)
        got, _ = s.recvfrom(1500)
        check(got == b"once", "got %r" % got)
    return op


def fresh_after(setup):
    """A socket used and closed, then `setup`, then a new socket (on the same connId)."""
    def op(sockets):
        warm().close()
        setup()
        s = fresh_socket()
        sockets.append(s)
        echo_on(s)
    return op


def other_peer_after(setup):
    """A dialled socket, then `setup`, then sendto another peer (a re-dial on the same connId)."""
    def op(sockets):
        if PEER == echo4():
            raise NotPossible("one echo peer only")
        s = warm()
        sockets.append(s)
        setup()
        s.sendto(b"other", echo4())
        got, sender = s.recvfrom(1500)
        check(got == b"other" and sender == echo4(), "echo came back as %r from %r" % (got, sender))
    return op


def connect_op(setup):
    def op(sockets):
        s = socket.socket(FAMILY, socket.SOCK_DGRAM)
        s.settimeout(3)
        sockets.append(s)
        setup()
        s.connect(PEER)
        s.send(b"connected")
        check(s.recv(1500) == b"connected", "echo after connect")
    return op


def poll_op(setup):
    """select.poll on a socket with a datagram waiting whose ring was lost (so the module has to
    ask the modem), every 25 ms for up to 1 s as an event loop would, then recvfrom."""
    def op(sockets):
        s = warm()
        sockets.append(s)
        sim("fault drop_urc 1")
        s.sendto(b"waiting", PEER)
        time.sleep_ms(30)
        setup()
        p = select.poll()
        p.register(s, select.POLLIN)
        start = time.ticks_ms()
        while not p.poll(0):
            check(time.ticks_diff(time.ticks_ms(), start) < 1000, "never readable")
            time.sleep_ms(25)
        got, _ = s.recvfrom(1500)
        check(got == b"waiting", "got %r" % got)
    return op


def wait_with(line):
    """recvfrom with nothing coming, `line` sent to the simulator 100 ms into the wait."""
    def op(sockets):
        s = warm()
        sockets.append(s)
        s.settimeout(0.6)
        del LATER_REPLIES[:]
        later(100, line.replace("{slot}", str(open_slot())))
        try:
            s.recvfrom(1500)
        finally:
            time.sleep_ms(50)
            check(LATER_REPLIES and LATER_REPLIES[0].startswith("OK"), "%s: %r" % (line, LATER_REPLIES))
            s.settimeout(3)
            echo_on(s, b"same socket after")  # the socket itself goes on working
    return op


def attached_again(op):
    """`op`, then the network back and the LTE attached, so the next case starts attached."""
    def run(sockets):
        try:
            op(sockets)
        finally:
            sim("network back")
            if not lte.isattached():
                lte.attach()
    return run


def detach():
    lte.detach()


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
        # Each case on a fresh network: a resolver that failed in the case before (and our own
        # query then answered) would rest, and this case's fault would never fire.
        socket.config(dns_cache=False)
        setup()
        check(socket.getaddrinfo("both.test", 7)[0][-1][1] == 7, "resolved")
    return op


def reset_sweep(setup):
    def op(sockets):
        setup()
        socket.set_modem(None)
        socket.set_modem(lte)
        s = fresh_socket()
        sockets.append(s)
        echo_on(s)
    return op


def big_receive(sockets):
    if socket.config("max_datagram") < 1500 and transport() == "send_at_cmd":
        use_profile(chunking_profile(), chunking=True)
    if socket.config("max_datagram") < 1500:
        raise NotPossible("%d-byte datagrams" % socket.config("max_datagram"))
    # Hex reads: raw, 1500 bytes fit one piece.
    raw = socket.config("raw_recv")
    socket.config(raw_recv=False)
    try:
        s = warm()
        sockets.append(s)
        data = bytes(i & 0xFF for i in range(1500))
        s.sendto(data, PEER)
        time.sleep_ms(30)
        before = network._lte_stats()["dummies"]
        got, _ = s.recvfrom(1500)
        check(got == data, "1500 bytes back")
        check(network._lte_stats()["dummies"] > before, "the answer came in two pieces")
    finally:
        socket.config(raw_recv=raw)


def data_state(what):
    """The operation while PPP holds the modem (LTE.connect()): the firmware's exception, and
    not one byte reaches the modem."""
    def op(sockets):
        s = warm()
        sockets.append(s)
        lte.connect()
        before = modem_bytes_in()
        try:
            if what == "sendto":
                s.sendto(b"x", PEER)
            elif what == "recvfrom":
                s.recvfrom(1500)
            else:
                s.close()  # the slot is freed even when the modem cannot be told
        finally:
            reached = modem_bytes_in() - before
            lte.disconnect()
            check(reached == 0, "%d bytes reached the modem in data state" % reached)
    return op


def nothing():
    pass


def witness_of(line):
    """The simulator counter that shows a fault fired, or None where it counts nothing."""
    words = line.split()
    if words[:1] != ["fault"]:
        return None
    if words[1] in ("error", "no_carrier", "no_prompt", "reboot_at", "sqnsh_at"):
        return "errors_injected"
    if words[1] == "drop_urc":
        return "urcs_dropped"
    return None


def arm(line):
    def go():
        key = witness_of(line)
        if key:
            WITNESS.append(key)
        sim(line)
    return go


def flush_ring():
    """The datagram's ring waits in the UART (the real one was dropped as it came, or the
    module could have seen it during its own exchange; this one is announced once the
    datagram is there), then a command of the script's own makes the firmware flush it."""
    sim("inject urc +SQNSRING: %d,7" % open_slot())
    time.sleep_ms(30)
    WITNESS.append("flushed")
    lte.send_at_cmd("AT")


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
    ("lost +SQNSRING (3 URCs dropped)", "recvfrom, datagram waiting", receive(nothing, before_send=arm("fault drop_urc 3")), RECOVERS),
    ("+SQNSRING flushed by the firmware before the read", "recvfrom, datagram waiting",
     receive(flush_ring, before_send=arm("fault drop_urc 1")), RECOVERS),
    ("+SQNSRING for another socket", "recvfrom, datagram waiting", receive(arm("inject urc +SQNSRING: 6,5")), RECOVERS),
    ("+SQNSRING for another socket during the wait", "recvfrom, nothing coming (0.6 s)", wait_with("inject urc +SQNSRING: 6,5"), "OSError(ETIMEDOUT)"),
    ("+SQNSH: the network closed the socket", "sendto + recvfrom", steady_send(arm_at_open_slot("inject sqnsh {slot}")), RECOVERS),
    ("+SQNSH during the wait", "recvfrom, nothing coming (0.6 s)", wait_with("inject sqnsh {slot}"), "OSError(ETIMEDOUT)"),
    ("+SYSSTART: the modem rebooted", "sendto + recvfrom", steady_send(arm("inject sysstart")), RECOVERS),
    ("+SYSSTART during the wait", "recvfrom, nothing coming (0.6 s)", wait_with("inject sysstart"), "OSError(ETIMEDOUT)"),
    ("+SYSSTART with a datagram waiting (lost with the reboot)", "recvfrom (1 s)", receive(arm("inject sysstart"), 1), "OSError(ETIMEDOUT)"),
    ("+SYSSTART flushed by the firmware (reboot unseen)", "close, then sendto + recvfrom on a new socket", fresh_after(arm_settled("reboot")), RECOVERS),
    ("+SYSSTART flushed by the firmware (reboot unseen)", "sendto another peer (re-dial) + recvfrom", other_peer_after(arm_settled("reboot")), RECOVERS),
    ("the modem reboots as AT+SQNSCFG arrives", "first sendto", first_send(arm("fault reboot_at SQNSCFG 1")), RECOVERS),
    ("the modem reboots as AT+SQNSD arrives", "first sendto", first_send(arm("fault reboot_at SQNSD 1")), RECOVERS),
    ("the modem reboots as AT+SQNSSENDEXT arrives", "sendto (sent once) + recvfrom", sent_once(arm("fault reboot_at SQNSSENDEXT 1")), RECOVERS),
    ("the modem reboots with the payload in hand (nothing sent)", "sendto (sent once) + recvfrom", sent_once(arm("fault reboot_at PAYLOAD 1")), RECOVERS),
    ("the modem reboots as AT+SQNSRECV arrives (datagram lost)", "recvfrom (1 s)", receive(arm("fault reboot_at SQNSRECV 1"), 1), "OSError(ETIMEDOUT)"),
    ("the modem reboots as AT+SQNSH arrives", "close", close_op(arm("fault reboot_at SQNSH 1")), RECOVERS),
    ("+SQNSH as AT+SQNSSENDEXT arrives", "sendto (sent once) + recvfrom", sent_once(arm("fault sqnsh_at SQNSSENDEXT 1")), RECOVERS),
    ("+SQNSH as AT+SQNSRECV arrives (datagram lost)", "recvfrom (1 s)", receive(arm("fault sqnsh_at SQNSRECV 1"), 1), "OSError(ETIMEDOUT)"),
]
for kind, suffix in (("ERROR", ""), ("+CME ERROR: 3", " cme 3")):
    CASES += [
        ("%s on AT+SQNSCFG" % kind, "first sendto", first_send(arm("fault error SQNSCFG 1" + suffix)), "OSError(EIO)"),
        ("%s on AT+SQNSCFGEXT" % kind, "first sendto", first_send(arm("fault error SQNSCFGEXT 1" + suffix)), "OSError(EIO)"),
        ("%s on AT+SQNSD" % kind, "first sendto", first_send(arm("fault error SQNSD 1" + suffix)), "OSError(EIO)"),
        ("%s on AT+SQNSD" % kind, "connect", connect_op(arm("fault error SQNSD 1" + suffix)), "OSError(EIO)"),
        ("%s on AT+SQNSSENDEXT" % kind, "sendto + recvfrom", steady_send(arm("fault error SQNSSENDEXT 1" + suffix)), RECOVERS),
        ("%s on AT+SQNSSENDEXT, twice" % kind, "sendto", steady_send(arm("fault error SQNSSENDEXT 2" + suffix)), "OSError(EIO)"),
        ("%s on AT+SQNSRECV" % kind, "recvfrom, datagram waiting", receive(arm("fault error SQNSRECV 1" + suffix)), RECOVERS),
        ("%s on AT+SQNSH" % kind, "close", close_op(arm("fault error SQNSH 1" + suffix)), RECOVERS),
        ("%s on AT+SQNDNSLKUP" % kind, "getaddrinfo of a name", resolve(arm("fault error SQNDNSLKUP 2" + suffix)), RECOVERS),
        ("%s on AT+CMEE" % kind, "reset sweep, then sendto", reset_sweep(arm("fault error CMEE 1" + suffix)), RECOVERS),
        ("%s on AT+SQNSS" % kind, "reset sweep, then sendto", reset_sweep(arm("fault error SQNSS 1" + suffix)), RECOVERS),
        ("%s on AT+SQNSS in select.poll" % kind, "select.poll until readable (ring lost), recvfrom", poll_op(arm("fault error SQNSS 1" + suffix)), RECOVERS),
    ]
CASES += [
    ("NO CARRIER on the dial", "first sendto", first_send(arm("fault no_carrier 1")), "OSError(EHOSTUNREACH)"),
    ("NO CARRIER on the dial", "connect", connect_op(arm("fault no_carrier 1")), "OSError(EHOSTUNREACH)"),
    ("no prompt after AT+SQNSSENDEXT", "sendto + recvfrom", steady_send(arm("fault no_prompt 1")), RECOVERS),
    ("answer in 7-byte pieces", "sendto + recvfrom", steady_send(arm("fault split 7")), RECOVERS),
    ("answer over 2048 bytes (two firmware pieces)", "recvfrom of 1500 bytes", big_receive,
     {"send_at_cmd": RECOVERS, "lteppp/1202": RECOVERS, "lteppp/118": "not possible (51-byte datagrams)"}),
    ("NUL before the final code", "recvfrom, datagram waiting", receive(arm("fault nul 1")), RECOVERS),
    ("garbage bytes between answers", "sendto + recvfrom", steady_send(arm_settled("inject garbage 00ff2b2b2b0d0a")), RECOVERS),
    ("+SQNSRING inside an answer", "sendto + recvfrom", steady_send(arm("fault urc_inside 2")), RECOVERS),
    # The stream replaces the answer to the SQNSSENDEXT command line, prompt included, while the
    # modem waits for the payload. Through send_at_cmd the firmware reads the whole stream, the
    # module listens once more, hears nothing and sends the (hex) payload unprompted, which the
    # modem takes. The direct transport reads at most four pieces of it, then listens on until
    # the payload's OK behind it.
    ("an answer that never ends (256 KiB, no final code)", "sendto + recvfrom", steady_send(arm("fault endless 1")), RECOVERS),
    ("an answer that never ends (256 KiB, no final code)", "recvfrom, datagram waiting (1 s)", receive(arm("fault endless 1"), 1), "OSError(ETIMEDOUT)"),
    ("PPP data state (LTE.connect()), nothing reaches the modem", "sendto", data_state("sendto"), "OSError(data state)"),
    ("PPP data state (LTE.connect()), nothing reaches the modem", "recvfrom", data_state("recvfrom"), "OSError(data state)"),
    ("PPP data state (LTE.connect()), nothing reaches the modem", "close (the slot is freed)", data_state("close"), "OSError(data state)"),
    # Not attached: the module asks AT+CGATT? after the failure and says so (the message names
    # lte.attach()); the network closes every socket when the registration goes.
    ("the LTE detached (lte.detach())", "first sendto", attached_again(first_send(detach)), "OSError(ENETUNREACH)"),
    ("the network lost, the radio on", "sendto on a dialled socket", attached_again(steady_send(arm("network lose"))), "OSError(ENETUNREACH)"),
    ("the network lost, the radio on", "connect", attached_again(connect_op(arm("network lose"))), "OSError(ENETUNREACH)"),
]


def run_case(fault, operation, op, expected, second_try_allowed=False):
    sockets = []
    exc = None
    del WITNESS[:]
    before = sim_stats()
    flushed_before = network._lte_stats()["flushed_bytes"]
    try:
        op(sockets)
    except Exception as e:  # noqa: the outcome is what is checked
        exc = e
    actual = describe(exc)
    after = sim_stats()
    # Where the simulator (or the firmware's flush) counts the fault, it must have fired.
    fired = None
    for key in WITNESS:
        if key == "flushed":
            took = network._lte_stats()["flushed_bytes"] > flushed_before
        else:
            took = after[key] > before[key]
        fired = took if fired is None else fired and took
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
            fresh = socket.socket(FAMILY, socket.SOCK_DGRAM)
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
    row = {"fault": fault, "operation": operation, "expected": want, "actual": actual, "fault_fired": fired,
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
        ok = (row["actual"] == row["expected"] and row["fault_fired"] is not False
              and row["all_freed_after_close"] and row["next_operation_works"])
        print("   ", "ok  " if ok else "FAIL", fault, "/", operation, "->", row["actual"],
              "" if ok else "(expected %s, fault fired %s, freed %s, next works %s, core slots after close %d, "
              "modem sockets %d -> %d)" % (
                  row["expected"], row["fault_fired"], row["all_freed_after_close"], row["next_operation_works"],
                  socket._slots_in_use(), row["modem_sockets_open_after_close"], sim_stats()["open_slots"]))
        if not ok:
            failures.append(fault)
    check(not failures, "%d cases differ: %r" % (len(failures), failures))


run(globals())
