# The module's first use from four threads at once, in PROCESSES fresh processes (each a board
# just started, children/first_use_threads.py), with no set_modem: network.LTE() is looked up
# and the first sweep runs once, under the engine lock, so no thread sees a half-set modem.
# The parent makes no LTE object: the simulator serves one UART connection at a time.
import os
import sys

HERE = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/children"
sys.path.append(HERE)
from childlib import check

# 50 on the profile each build runs first in `make test` (1.20.2 for send_at_cmd and lteppp,
# 1.18 for lteppp118), 15 on the build's other profiles, to keep the suite's time down.
PROFILE = os.getenv("MICROATSOCKET_FW_PROFILE") or "1.20.2"
PROCESSES = 50 if PROFILE in ("1.20.2", "1.18") else 15
CHILD_LIMIT_S = 40


def test_first_use_from_four_threads():
    folder = (os.getenv("MONARCH_SIM_SOCKET") or "/tmp/x").rsplit("/", 1)[0]
    out = folder + "/first_use.txt"
    failures = []
    for n in range(PROCESSES):
        status = os.system("timeout -s KILL %d %s %s/first_use_threads.py > %s 2>&1" % (
            CHILD_LIMIT_S, sys.executable, HERE, out))
        with open(out) as f:
            text = f.read()
        lines = [line for line in text.splitlines() if line.strip()]
        if status != 0 or not lines or lines[-1] != "FIRST USE OK":
            failures.append(n)
            print("--- process %d: status %d\n%s" % (n, status, text.rstrip()))
    os.remove(out)
    print("%d processes, four threads each: %d failed" % (PROCESSES, len(failures)))
    check(not failures, "processes failed: %r" % failures)


test_first_use_from_four_threads()
print("OK")
