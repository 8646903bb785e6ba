# The soak of tests/mp/soak.py, short enough for make test: 150 datagrams each
# way with a 2 % network drop rate and a fault every 10 datagrams.
from soak import soak
from mas_testlib import *


def test_short_soak():
    counts = soak(150, drop_permille=20, fault_every=10)
    print("   ", counts)
    check(counts["received"] > 120, "most datagrams come back: %r" % counts)
    check(counts["faults_injected"] == 14, "faults injected: %r" % counts)


run(globals())
