#!/usr/bin/env python3
"""The demo runner tells the truth (examples/run_demo.py): every example it names ran,
was skipped for its true reason, or failed with the example's own last word; a typo is
reported as a name that matches no example; the last line counts them; the exit status is
1 when anything failed. Runs the real runner on the MicroPython unix port and the simulator.

    python3 tests/demo/test_run_demo.py --sim target/release/monarch-sim --micropython build/micropython
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = os.path.join(REPO, "examples", "run_demo.py")


def demo(args, names, env=None):
    proc = subprocess.run([sys.executable, RUNNER, "--sim", args.sim, "--micropython", args.micropython] + names,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
                          env=dict(os.environ, **(env or {})))
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    return proc.returncode, proc.stdout, lines[-1] if lines else ""


def dead_udp_port():
    """A port nobody answers on (bound here and closed) on the loopback the runner uses."""
    for family, host in ((socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.bind((host, 0))
                return s.getsockname()[1]
        except OSError:
            continue
    raise OSError("no loopback")


def expect(cond, what, output):
    if not cond:
        print(output)
        raise AssertionError(what)


def test_an_example_that_runs(args):
    code, out, last = demo(args, ["ipv6_echo"])
    expect(code == 0, "exit 0 when it ran: %d" % code, out)
    expect(last == "demo: 1 ran, 0 skipped, 0 failed", "last line: %r" % last, out)
    expect("at device timing" in out and "of device timing" in out, "times explained", out)


def test_a_typo_is_reported_as_such(args):
    code, out, last = demo(args, ["ipv6_ecko"])
    expect(code == 1, "a name that matches no example fails the run: exit %d" % code, out)
    expect("no such example: examples/ipv6_ecko.py" in out, "says there is no such example", out)
    expect("coap-server" not in out, "no made-up reason", out)
    expect(last == "demo: 0 ran, 0 skipped, 1 failed", "last line: %r" % last, out)


def test_a_skip_gives_its_true_reason(args):
    code, out, last = demo(args, ["mqtt_over_modem"])
    expect(code == 0, "a skip is not a failure: exit %d" % code, out)
    expect("skipped (needs an MQTT broker" in out, "the true reason", out)
    expect("coap-server" not in out, "not the CoAP reason", out)
    expect(last == "demo: 0 ran, 1 skipped, 0 failed", "last line: %r" % last, out)


def test_a_failing_example_fails_the_run(args):
    # ipv6_echo.py, unmodified, against a peer that never answers.
    code, out, last = demo(args, ["--peer-port", str(dead_udp_port()), "ipv6_echo"], env={"TIMEOUT_S": "1"})
    expect(code == 1, "exit 1 when an example failed: %d" % code, out)
    expect("FAILED: no reply from " in out, "the example says what failed", out)
    expect("what to do:" in out and "echo server" in out, "and how to fix it", out)
    expect("TypeError" not in out and "Traceback" not in out, "no traceback from the example's own code", out)
    expect(last == "demo: 0 ran, 0 skipped, 1 failed", "last line: %r" % last, out)


def test_a_crashing_example_fails_the_run(args):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "crashes.py")
        with open(path, "w") as f:
            f.write("raise RuntimeError('this example is broken')\n")
        code, out, last = demo(args, [path])
    expect(code == 1, "exit 1: %d" % code, out)
    expect("crashes" in out and "this example is broken" in out, "the exception is the reason", out)
    expect(last == "demo: 0 ran, 0 skipped, 1 failed", "last line: %r" % last, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--micropython", default=os.path.join(REPO, "build", "micropython"))
    ap.add_argument("--sim", default=os.path.join(REPO, "target", "release", "monarch-sim"))
    args = ap.parse_args()
    args.micropython = os.path.abspath(args.micropython)
    args.sim = os.path.abspath(args.sim)
    failures = 0
    for name, fn in sorted(globals().items()):
        if name.startswith("test_"):
            try:
                fn(args)
                print(name, "ok")
            except AssertionError as e:
                failures += 1
                print(name, "FAILED:", e)
    print("OK" if not failures else "%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
