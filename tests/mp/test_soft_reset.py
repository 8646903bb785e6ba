# Soft reset (Ctrl-D) as Pycom's firmware does it, emulated in one process
# (micropython_port/unix/fake_lte/soft_reset.c): script A runs, its threads are deleted, the heap
# starts afresh with no finaliser run and no __init__ call (the build's variant calls none, as
# Pycom's; the C statics, the Rust core and the fake LTE task stay), then script B runs with
# nothing set up: no set_modem. B's first operation must just work, every slot must be free, the
# modem must have nothing of A's open, and the credential store must survive. A's pool is made inaccessible, so any access to
# A's heap from a C static faults in B (SIGSEGV, or an ASan report on the sanitizer builds); one
# case leaves the root pointers as mp_init() does, so the module's own root names A's heap.
# The parent makes no LTE object: the simulator serves one UART connection at a time, and each
# child process is the board here.
import os
import sys

HERE = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/children"
sys.path.append(HERE)
from childlib import check

# Seconds a child process may take: a hang is reported as one, not as the suite's timeout.
CHILD_LIMIT_S = 40


def soft_reset(case, a_script, keep_roots=False):
    # Next to the run's simulator socket: runs side by side each have their own folder.
    folder = (os.getenv("MONARCH_SIM_SOCKET") or "/tmp/x").rsplit("/", 1)[0]
    out = "%s/soft_reset_%s.txt" % (folder, case)
    os.putenv("MICROATSOCKET_SOFT_RESET_THEN", HERE + "/soft_reset_b_after.py")
    os.putenv("SOFT_RESET_CASE", case)
    if keep_roots:
        os.putenv("MICROATSOCKET_SOFT_RESET_KEEP_ROOTS", "1")
    try:
        status = os.system("timeout -s KILL %d %s %s/%s > %s 2>&1" % (
            CHILD_LIMIT_S, sys.executable, HERE, "soft_reset_" + a_script, out))
    finally:
        os.unsetenv("MICROATSOCKET_SOFT_RESET_THEN")
        os.unsetenv("SOFT_RESET_CASE")
        os.unsetenv("MICROATSOCKET_SOFT_RESET_KEEP_ROOTS")
    with open(out) as f:
        text = f.read()
    os.remove(out)
    lines = [line for line in text.splitlines() if line.strip()]
    print("--- %s\n%s" % (case, text.rstrip()))
    check(status != 137 * 256 and status != 9, "%s: hung (killed after %d s)" % (case, CHILD_LIMIT_S))
    check("PYB: soft reboot" in lines, "%s: the soft reset did not happen" % case)
    check(status == 0, "%s: exit status %d" % (case, status))
    check(lines[-1] == "B OK", "%s: B ended with %r" % (case, lines[-1] if lines else ""))


def test_six_sockets_left_open():
    soft_reset("six_open", "a_six_open.py")


def test_recv_interrupted_root_pointers_kept():
    # mp_init() leaves registered root pointers alone (1.11, and upstream ports that soft-reset):
    # the module's modem root then names an object in A's pool, which is out of reach now.
    soft_reset("roots_kept", "a_recv_interrupted.py", keep_roots=True)


def test_recv_interrupted():
    soft_reset("recv_interrupted", "a_recv_interrupted.py")


def test_thread_blocked_in_recv_holding_the_engine():
    soft_reset("thread_in_recv", "a_thread_in_recv.py")


def test_modem_left_waiting_for_a_payload():
    soft_reset("payload_pending", "a_payload_pending.py")


def test_tls_wrapped():
    if not os.getenv("MQTTS_PORT") or not os.getenv("TLS_DIR"):
        raise AssertionError("MQTTS_PORT/TLS_DIR are not set (tests/setup-deps.sh)")
    soft_reset("tls", "a_tls.py")


def main():
    failures = 0
    tests = sorted((name, fn) for name, fn in globals().items() if name.startswith("test_"))
    for name, fn in tests:
        try:
            fn()
            print(name, "ok")
        except Exception as e:
            failures += 1
            print(name, "FAILED")
            sys.print_exception(e)
    if failures:
        print("%d of %d failed" % (failures, len(tests)))
        sys.exit(1)
    print("OK")


main()
