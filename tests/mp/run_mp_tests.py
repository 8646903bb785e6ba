#!/usr/bin/env python3
"""Run the MicroPython test scripts (tests/mp/test_*.py) on the unix port.

Each script runs in build/micropython (the unix port with the fake Pycom
network.LTE and microATsocket, built by micropython_port/unix/build.sh)
against the Monarch simulator (tests/monarch-sim) on a Unix socket, with real
UDP echo peers on 127.0.0.1 and ::1. A script passes when it exits 0 and its
last line is "OK".

    tests/mp/run_mp_tests.py                       # every test, stock profile
    tests/mp/run_mp_tests.py test_fake_lte         # named tests
    tests/mp/run_mp_tests.py --profiles 1.20.2,release-v1.20,pr429,1.20.1

What a script gets in its environment:
    MONARCH_SIM_SOCKET            the simulator's UART socket (control: + ".ctl")
    MICROATSOCKET_LTE_TIME_SCALE  real waits of the fake LTE, times this (0.02)
    MICROATSOCKET_FW_PROFILE      the firmware profile, when --profiles is given
    ECHO_PORT4, ECHO_PORT6        UDP echo peers on 127.0.0.1 and ::1
    DNS_PORT, BAD_DNS_PORT        dnsmasq with fixed records, and a hostile DNS server
    TCP_*, HTTP_PORT6, MQTT_PORT, MP_LIBS   TCP peers, an HTTP server, mosquitto and the
                                  third-party client libraries (see tcp_peers.py)
    TLS_DIR, MQTTS_*, HTTPS_PORT6   a PKI made for the run, mosquitto with TLS listeners
                                  and an HTTPS server on ::1 (see tls_peers.py)
    MICROATSOCKET_FLASH           a folder of this run that mas_testlib mounts as /flash
                                  (ECHO_PORT6 absent when the host has no ::1)

Before each script the simulator gets "reboot" (every modem slot closed,
settings forgotten) and "reset" (faults and counters cleared) on its control
socket, then answers one AT; if that fails the simulator is restarted.
The last line printed is "N passed, N failed"; the exit status is non-zero if
any test failed or none ran.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import dns_peers
import tcp_peers
import udp_peers
import tls_peers

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEST_DIR = os.path.join(REPO, "tests", "mp")
SIM_READY_LINE = "monarch-sim ready"
SIM_START_TIMEOUT_S = 30.0
CONTROL_TIMEOUT_S = 10.0


def _has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def free_ports(count):
    """Ports that are free for TCP and UDP on 127.0.0.1 and ::1 right now, as the kernel hands
    them out: a test that makes the simulated modem listen or bind uses these, so runs side by
    side (make mp-test) never pick the same port."""
    ports, held = [], []
    try:
        while len(ports) < count:
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(probe)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            forms = [(socket.AF_INET, socket.SOCK_DGRAM, "127.0.0.1")]
            if socket.has_ipv6 and _has_ipv6_loopback():
                forms += [(socket.AF_INET6, socket.SOCK_STREAM, "::1"), (socket.AF_INET6, socket.SOCK_DGRAM, "::1")]
            try:
                for family, kind, host in forms:
                    other = socket.socket(family, kind)
                    held.append(other)
                    other.bind((host, port))
            except OSError:
                continue  # taken in another form, or no ::1: try the next one
            ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports


def log(msg):
    print(msg, flush=True)


class EchoPeer:
    """A UDP echo server on one loopback address, in a daemon thread."""

    def __init__(self, family, host):
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(65535)
                self.sock.sendto(data, peer)
            except OSError:
                return

    def close(self):
        self.sock.close()


def start_echo_peers():
    peers = {"ECHO_PORT4": EchoPeer(socket.AF_INET, "127.0.0.1")}
    try:
        peers["ECHO_PORT6"] = EchoPeer(socket.AF_INET6, "::1")
    except OSError as e:
        log("note: no IPv6 loopback (%s); ECHO_PORT6 is not set" % e)
    return peers


class Simulator:
    """The monarch-sim process, its UART socket path and its control socket."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.socket_path = os.path.join(workdir, "uart")
        self.log_path = os.path.join(workdir, "monarch-sim.log")
        self.proc = None

    def start(self):
        self.stop()
        logfile = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [self.binary, "--socket", self.socket_path],
            stdout=subprocess.PIPE,
            stderr=logfile,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        ready = threading.Event()

        def pump():
            for line in self.proc.stdout:
                logfile.write(line)
                logfile.flush()
                if line.startswith(SIM_READY_LINE):
                    ready.set()
            logfile.close()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + SIM_START_TIMEOUT_S
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("monarch-sim did not start (see %s)" % self.log_path)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def control(self, line):
        """One control line in, one reply line out."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(CONTROL_TIMEOUT_S)
            s.connect(self.socket_path + ".ctl")
            s.sendall(line.encode() + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.decode(errors="replace").strip()

    def settle(self):
        """Waits on the UART until the modem answers AT, draining whatever it
        sent before (a +SYSSTART, stray URCs)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(CONTROL_TIMEOUT_S)
            s.connect(self.socket_path)
            s.sendall(b"AT\r")
            answer = b""
            while not answer.endswith(b"\r\nOK\r\n"):
                chunk = s.recv(4096)
                if not chunk:
                    raise OSError("simulator closed the UART")
                answer += chunk

    def prepare(self):
        """Bring the modem to its start state before a test: a reboot closes
        every slot and forgets settings, a reset clears faults and counters."""
        if self.alive():
            try:
                for line in ("reboot", "reset"):
                    reply = self.control(line)
                    if not reply.startswith("OK"):
                        raise OSError("%s: %s" % (line, reply))
                self.settle()
                return
            except OSError as e:
                log("note: simulator reset failed (%s); restarting it" % e)
        self.start()


def find_simulator(args):
    if args.sim:
        return args.sim
    profile = "release" if args.release else "debug"
    binary = os.path.join(REPO, "target", profile, "monarch-sim")
    if not args.no_build and shutil.which("cargo"):
        cmd = ["cargo", "build", "-q", "-p", "monarch-sim"] + (["--release"] if args.release else [])
        if subprocess.call(cmd, cwd=REPO) != 0:
            raise RuntimeError("cargo build -p monarch-sim failed")
    if not os.path.exists(binary):
        other = os.path.join(REPO, "target", "debug" if args.release else "release", "monarch-sim")
        if os.path.exists(other):
            return other
        raise RuntimeError("no simulator binary at %s (cargo build -p monarch-sim)" % binary)
    return binary


def select_tests(names):
    if not names:
        return sorted(
            os.path.join(TEST_DIR, f)
            for f in os.listdir(TEST_DIR)
            if f.startswith("test_") and f.endswith(".py")
        )
    chosen = []
    for name in names:
        candidates = [name, os.path.join(TEST_DIR, name)]
        base = os.path.basename(name)
        if not base.endswith(".py"):
            candidates.append(os.path.join(TEST_DIR, base + ".py"))
            candidates.append(os.path.join(TEST_DIR, "test_" + base + ".py"))
        path = next((c for c in candidates if os.path.isfile(c)), None)
        if path is None:
            raise RuntimeError("no such test: %s" % name)
        chosen.append(os.path.abspath(path))
    return chosen


def run_one(micropython, test, env, timeout_s):
    """Returns (passed, seconds, reason, output)."""
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [micropython, test],
            cwd=os.path.dirname(test),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        return False, time.monotonic() - start, "timed out after %g s" % timeout_s, out
    took = time.monotonic() - start
    out = proc.stdout.decode(errors="replace")
    lines = [line for line in out.splitlines() if line.strip()]
    last = lines[-1].strip() if lines else ""
    if proc.returncode != 0:
        return False, took, "exit status %d" % proc.returncode, out
    if last != "OK":
        return False, took, "last line is %r, not 'OK'" % last[:60], out
    return True, took, "", out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tests", nargs="*", help="test names or paths (default: tests/mp/test_*.py)")
    ap.add_argument("--micropython", default=os.path.join(REPO, "build", "micropython"),
                    help="the unix port binary (default: build/micropython)")
    ap.add_argument("--sim", help="the simulator binary (default: target/debug/monarch-sim, built with cargo)")
    ap.add_argument("--release", action="store_true", help="use (and build) target/release/monarch-sim")
    ap.add_argument("--no-build", action="store_true", help="do not run cargo build for the simulator")
    ap.add_argument("--profiles", default="",
                    help="comma-separated firmware profiles to run each test under (1.18, 1.20.1, 1.20.2, "
                         "release-v1.20, pr429; micropython_port/unix/README.md says which firmware each is); "
                         "default: once, with the fake's default (1.20.2)")
    # The timeout only stops a test that hangs. The longest tests spend their time in the fake
    # LTE's scaled waits, which stretch with the host's load: test_socket_leaks (1000
    # open/send/close cycles) takes about 30 s alone and took 50 s sharing one core with two
    # CPU hogs, too close to the 60 s this was, and more than that with parallel runs.
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per test (default 300)")
    ap.add_argument("--time-scale", default="0.02", help="MICROATSOCKET_LTE_TIME_SCALE (default 0.02)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every test's output")
    args = ap.parse_args()
    # Tests run in their own folder: resolve paths given relative to the caller's.
    args.micropython = os.path.abspath(args.micropython)
    if args.sim:
        args.sim = os.path.abspath(args.sim)

    try:
        tests = select_tests(args.tests)
        if not os.access(args.micropython, os.X_OK):
            raise RuntimeError("no MicroPython binary at %s (run micropython_port/unix/build.sh)" % args.micropython)
        sim_binary = find_simulator(args)
    except RuntimeError as e:
        log("error: %s" % e)
        log("0 passed, 0 failed")
        return 2

    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()] or [None]
    workdir = tempfile.mkdtemp(prefix="mp-tests-")
    sim = Simulator(sim_binary, workdir)
    peers = start_echo_peers()
    dns_env, dns_closers = dns_peers.start()
    tcp_env, tcp_closers = tcp_peers.start()
    dns_closers += tcp_closers
    udp_env, udp_closers = udp_peers.start()
    dns_closers += udp_closers
    tcp_env.update(udp_env)
    tls_dir = tempfile.mkdtemp(prefix="tls-peers-")
    tls_env, tls_closers = tls_peers.start(tls_dir)
    dns_closers += tls_closers + [lambda: shutil.rmtree(tls_dir, ignore_errors=True)]
    tcp_env.update(tls_env)
    # The board's /flash for this run (mas_testlib mounts it): ssl's default store is saved.
    flash_dir = tempfile.mkdtemp(prefix="flash-")
    dns_closers.append(lambda: shutil.rmtree(flash_dir, ignore_errors=True))
    tcp_env["MICROATSOCKET_FLASH"] = flash_dir
    passed = failed = 0
    try:
        sim.start()
        base_env = dict(os.environ)
        base_env.update({
            "MONARCH_SIM_SOCKET": sim.socket_path,
            "MICROATSOCKET_LTE_TIME_SCALE": args.time_scale,
        })
        base_env.pop("MICROATSOCKET_FW_PROFILE", None)
        for key, peer in peers.items():
            base_env[key] = str(peer.port)
        base_env.update(dns_env)
        base_env.update(tcp_env)
        for profile in profiles:
            env = dict(base_env)
            if profile:
                env["MICROATSOCKET_FW_PROFILE"] = profile
            for test in tests:
                label = os.path.relpath(test, REPO) + (" [%s]" % profile if profile else "")
                try:
                    sim.prepare()
                except (OSError, RuntimeError) as e:
                    failed += 1
                    log("FAIL %s (simulator: %s)" % (label, e))
                    continue
                env["FREE_PORTS"] = ",".join(str(p) for p in free_ports(4))
                ok, took, reason, out = run_one(args.micropython, test, env, args.timeout)
                if ok:
                    passed += 1
                    log("PASS %s (%.1f s)" % (label, took))
                else:
                    failed += 1
                    log("FAIL %s (%.1f s): %s" % (label, took, reason))
                if args.verbose or not ok:
                    tail = out.splitlines()[-40:]
                    for line in tail:
                        log("    " + line)
    except RuntimeError as e:
        failed += 1
        log("error: %s" % e)
    finally:
        sim.stop()
        for peer in peers.values():
            peer.close()
        for close in dns_closers:
            close()
        if failed == 0:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log("simulator log: %s" % sim.log_path)
    log("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
