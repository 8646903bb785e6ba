# The soak of tests/mp/soak.py, short enough for make test: 300 datagrams each way over IPv6
# with a 2 % network drop rate and a fault every 15 datagrams (each fault of the list at least
# once). soak() fails on any loss that is neither a network drop nor a sendto error the script
# saw, and on slots or GC heap not back where they started.
from soak import soak, report, FAULTS
from mas_testlib import *

COUNT = 300
FAULT_EVERY = 15


def test_short_soak():
    counts = soak(COUNT, drop_permille=20, fault_every=FAULT_EVERY)
    print("   ", report(counts))
    check(counts["attempts"] == COUNT, "every datagram tried: %r" % counts)
    check(counts["faults_injected"] == (COUNT - 1) // FAULT_EVERY >= len(FAULTS), "faults injected: %r" % counts)
    check(counts["received"] >= COUNT * 9 // 10, "most datagrams come back: %r" % counts)
    check(counts["ipv6"] == 1 or echo6() is None, "over IPv6: %r" % counts)


run(globals())
