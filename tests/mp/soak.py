# Soak: datagrams to the IPv6 echo peer and back, one at a time, while the
# simulator drops datagrams at a set rate and faults are injected between
# datagrams (the network closing the socket, dropped URCs, modem reboots,
# errors, split and NUL-laden answers). Every datagram must come back unless
# the simulator says it dropped it on the way out or on the way back, or its
# sendto raised (a NUL can cut the firmware's answer before its OK: the module
# then cannot know whether the datagram went, and says so); nothing may come
# back twice; slots in use and the GC heap must end where they started.
#
#   SOAK_COUNT=10000 (default 10000) SOAK_DROP_PERMILLE=20 SOAK_FAULT_EVERY=25
#   make soak  (or tests/mp/run_mp_tests.py --timeout 3600 tests/mp/soak.py)
# The short version runs in make test: tests/mp/test_soak_short.py.
import gc
import os

from mas_testlib import *

# One fault between two datagrams, in turn. Each must be transparent to the caller.
FAULTS = [
    "inject sqnsh {slot}",           # the network closes the modem socket
    "fault drop_urc 3",              # the rings of the next datagrams are lost
    "inject sysstart",               # the modem reboots: every socket gone
    "fault error SQNSRECV 1",        # one receive poll refused
    "fault error SQNSSENDEXT 1 cme 3",
    "fault split 7",                 # answers arrive in 7-byte pieces
    "fault nul 2",                   # a NUL in the next answers
    "fault urc_inside 2",            # a ring inside the next answers
    "inject urc +SQNSRING: 6",       # a ring for a socket nobody has
    "inject garbage 0d0a2b2b2b0d0a", # noise between answers
]


def sim(line):
    reply = network._sim(line)
    check(reply.startswith("OK"), "%s: %r" % (line, reply))


def open_slot():
    """The connId of an open modem socket, or None."""
    mask = int(sim_stats()["open_mask"])
    for slot in range(1, 7):
        if mask & (1 << (slot - 1)):
            return slot
    return None


def counters():
    st = sim_stats()
    return st["dgrams_tx"], st["dgrams_rx"], st["dgrams_dropped"]


def payload(seq, limit):
    """Datagram `seq`: its number, then 0..(limit - 12) bytes of every value."""
    return b"soak %06d " % seq + bytes((seq + i) & 0xFF for i in range(seq % (limit - 11)))


# What soak() counts, in the order _run() fills them in.
COUNT_NAMES = ("attempts", "sent", "echoed", "received", "lost", "dropped_by_network",
               "recv_timeouts", "sendto_raised_ETIMEDOUT", "sendto_raised_EIO", "faults_injected")


def _run(totals, s, peer, limit, count, drop_permille, fault_every):
    """Sends `count` datagrams one at a time; adds what happened to `totals` in place (so the
    caller's heap comparison sees no new objects) and fails on anything unaccounted for."""
    tx0, rx0, dropped0 = counters()
    sim("fault net_drop %d" % drop_permille)
    attempts = sent = received = timeouts = faults = told_timedout = told_eio = 0
    seen = set()                     # datagram numbers that came back
    last_fault = None

    def receive(until_seq):
        """Reads echoes until datagram `until_seq` is back; raises OSError on a timeout."""
        nonlocal received
        while True:
            got, sender = s.recvfrom(1500)
            seq = int(got[5:11])
            check(got == payload(seq, limit) and sender == peer, "datagram %d came back as %r from %r" % (seq, got[:20], sender))
            check(seq not in seen, "datagram %d came back twice" % seq)
            seen.add(seq)
            received += 1
            if seq == until_seq:
                return

    for seq in range(count):
        if fault_every and seq and seq % fault_every == 0:
            last_fault = FAULTS[faults % len(FAULTS)]
            slot = open_slot()
            if "{slot}" in last_fault and slot is None:
                last_fault = "inject sysstart"  # nothing open to close: reboot instead
            sim(last_fault.format(slot=slot))
            faults += 1
        attempts += 1
        try:
            s.sendto(payload(seq, limit), peer)
        except OSError as e:
            # Told: the caller knows this datagram may not have gone.
            check(e.errno in (ETIMEDOUT, EIO), "sendto of datagram %d after %r: %r" % (seq, last_fault, e))
            if os.getenv("SOAK_TRACE"):
                print("sendto", seq, "after", last_fault, "raised", e.errno)
            if e.errno == ETIMEDOUT:
                told_timedout += 1
            else:
                told_eio += 1
            continue
        sent += 1
        try:
            receive(seq)
        except OSError as e:
            check(e.errno == ETIMEDOUT, "datagram %d after %r: %r" % (seq, last_fault, e))
            if os.getenv("SOAK_TRACE"):
                print("recv", seq, "after", last_fault, "timed out")
            timeouts += 1
    sim("fault clear")
    try:  # echoes still on their way
        receive(-1)
    except OSError:
        pass

    tx, rx, dropped = counters()
    dropped -= dropped0
    lost = attempts - received
    told = told_timedout + told_eio
    # An echo the modem holds is delivered, unless its datagram's sendto raised: the module
    # then re-dials the socket to get back in step, and what waited there goes with it.
    check(0 <= (rx - rx0) - received <= told, "the modem got %d echoes, the caller %d, sendto errors %d" % (rx - rx0, received, told))
    # Every datagram that did not come back was dropped by the network, or its sendto raised.
    check(dropped <= lost <= dropped + told, "lost %d: dropped %d, sendto errors %d" % (lost, dropped, told))
    for i, n in enumerate((attempts, sent, tx - tx0, received, lost, dropped, timeouts,
                           told_timedout, told_eio, faults)):
        totals[i] += n


def soak(count, drop_permille=20, fault_every=25, peer=None):
    """Runs `count` datagrams each way; returns the counts; fails on anything unaccounted for."""
    peer = peer or echo6() or echo4()
    family = socket.AF_INET6 if ":" in peer[0] else socket.AF_INET
    limit = min(socket.config("max_datagram"), 1500)
    warm_up = [0] * len(COUNT_NAMES)
    totals = [0] * len(COUNT_NAMES)
    s = socket.socket(family)
    s.settimeout(1)
    # A warm-up through every fault once: one-time allocations happen before the baseline.
    _run(warm_up, s, peer, limit, len(FAULTS) + 1, 0, 1)
    gc.collect()
    heap_before = gc.mem_alloc()
    slots_before = socket._slots_in_use()
    _run(totals, s, peer, limit, count, drop_permille, fault_every)
    gc.collect()
    heap_after = gc.mem_alloc()
    check(socket._slots_in_use() == slots_before, "slots %d, were %d" % (socket._slots_in_use(), slots_before))
    check(heap_after == heap_before, "GC heap %d B, was %d B" % (heap_after, heap_before))
    s.close()
    check(socket._slots_in_use() == 0, "a slot is left after close")
    counts = dict(zip(COUNT_NAMES, totals))
    counts["modem_restarts"] = socket._modem_restarts()
    return counts


if __name__ == "__main__":
    socket.set_modem(lte)
    counts = soak(int(os.getenv("SOAK_COUNT") or "10000"), int(os.getenv("SOAK_DROP_PERMILLE") or "20"),
                  int(os.getenv("SOAK_FAULT_EVERY") or "25"))
    print("soak [%s, %s]: %s" % (transport(), network._lte_profile(),
                                 ", ".join("%s %d" % (k, counts[k]) for k in sorted(counts))))
    print("OK")
