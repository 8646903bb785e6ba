#!/usr/bin/env python3
"""MicroPython's own tests/multi_net UDP and TCP tests with the board (the unix port with
microATsocket as `socket`, on the simulator) as one instance and the unix port's own sockets as
the other, in both roles (run-multitests.py's two permutations).

The tests come from the MicroPython source the build downloads (build/micropython-src). The
host IP they are given is 127.0.0.1 (the simulator opens the board's sockets on loopback), and
run-multitests.py is driven as it is, with that one setting. Which tests run and why the others
do not: tests/multi_net/README.md.
"""
import argparse
import contextlib
import importlib.util
import io
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "mp"))
import run_mp_tests as harness  # noqa: E402

# Tests whose subject the modem supports, run with the board in both roles (README.md: the
# table, with the reason for each test left out).
BOTH_ROLES = [
    "tcp_data.py",
    "asyncio_tcp_server_client.py",
    "asyncio_tcp_readall.py",
    "asyncio_tcp_readexactly.py",
    "asyncio_tcp_readinto.py",
    "asyncio_tcp_close_write.py",
    "udp_data.py",
]
# Tests whose subject is the server's (instance 0): the board is the server.
BOARD_AS_SERVER = [
    "tcp_accept_recv.py",
]


class Tee(io.StringIO):
    """Keeps what is written and passes it on."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream

    def write(self, text):
        self.stream.write(text)
        return super().write(text)

    def flush(self):
        self.stream.flush()


def load_runner(src):
    path = os.path.join(src, "tests", "run-multitests.py")
    spec = importlib.util.spec_from_file_location("run_multitests", path)
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    # Loopback only: the board's sockets live on 127.0.0.1 and ::1.
    runner.get_host_ip = lambda _cache=None: "127.0.0.1"
    return runner


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--micropython", default=os.path.join(REPO, "build", "micropython"))
    ap.add_argument("--sim", default=os.path.join(REPO, "target", "release", "monarch-sim"))
    ap.add_argument("--src", default=os.path.join(REPO, "build", "micropython-src"))
    ap.add_argument("--profile", default="1.20.2", help="fake LTE firmware profile")
    ap.add_argument("--permutations", type=int, default=None,
                    help="with test names: 1 = board as instance 0 only, 2 = both roles (default)")
    ap.add_argument("tests", nargs="*", help="test file names (default: the supported ones)")
    args = ap.parse_args()
    runner = load_runner(os.path.abspath(args.src))
    workdir = tempfile.mkdtemp(prefix="multi-net-")
    sim = harness.Simulator(os.path.abspath(args.sim), workdir)
    os.environ.update({
        "MAS_MULTI_NET_MICROPYTHON": os.path.abspath(args.micropython),
        "MAS_MULTI_NET_EXTMOD": os.path.join(os.path.abspath(args.src), "extmod"),
        "MICROATSOCKET_LTE_TIME_SCALE": "0.02",
        "MICROATSOCKET_FW_PROFILE": args.profile,
    })
    src_tests = os.path.join(os.path.abspath(args.src), "tests", "multi_net")
    if args.tests:
        runs = [(args.permutations or 2, args.tests)]
    else:
        runs = [(2, BOTH_ROLES), (1, BOARD_AS_SERVER)]
    failed = 0
    try:
        sim.start()
        os.environ["MONARCH_SIM_SOCKET"] = sim.socket_path
        for permutations, names in runs:
            sys.argv = ["run-multitests.py", "-p", str(permutations),
                        "-i", "exec:" + os.path.join(HERE, "instance_module.sh"),
                        "-i", "exec:" + os.path.join(HERE, "instance_plain.sh")]
            sys.argv += [os.path.join(src_tests, name) for name in names]
            out = Tee(sys.stdout)
            try:
                with contextlib.redirect_stdout(out):
                    runner.main()
            except SystemExit as e:
                failed += 1 if e.code else 0
            # A skip (e.g. asyncio not found) is not a pass.
            skipped = [line for line in out.getvalue().splitlines() if line.endswith(": skip")]
            if skipped:
                print("multi_net: skipped, which counts as failed:\n  " + "\n  ".join(skipped))
                failed += 1
        return 1 if failed else 0
    finally:
        sim.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
