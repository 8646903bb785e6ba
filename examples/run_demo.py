#!/usr/bin/env python3
"""Run the examples on the MicroPython unix port against the Monarch simulator.

Each example talks through the fake Pycom network.LTE to the simulated modem,
whose sockets are real UDP sockets on the loopback, so the peers are real:

    ipv6_echo.py       a UDP echo peer on ::1 (127.0.0.1 without IPv6)
    asyncio_client.py  the same echo peer
    coap_get.py        libcoap's coap-server on ::1 (skipped if not installed)
    ntp_time.py        a minimal SNTP responder started here

The examples are run unmodified: PEER_HOST and PEER_PORT in the environment
point them at these peers. Every example named is reported as ran, skipped (with the
true reason) or failed (with the example's own last word); the last line counts them,
and the exit status is 1 when one failed or a name matches no example.

    python3 examples/run_demo.py --sim target/release/monarch-sim --micropython build/micropython
    python3 examples/run_demo.py ipv6_echo        # one example
"""

import argparse
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO, "examples")
sys.path.insert(0, os.path.join(REPO, "tests", "mp"))
import run_mp_tests as harness  # noqa: E402  (the simulator and echo peers of the test runner)

NTP_TO_UNIX = 2208988800
COAP_SERVER_NAMES = ["coap-server", "coap-server-notls", "coap-server-openssl", "coap-server-gnutls"]


def loopback():
    """::1 when the host has IPv6 loopback, else 127.0.0.1."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return "::1", socket.AF_INET6
    except OSError:
        return "127.0.0.1", socket.AF_INET


def free_udp_port(host, family):
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class SntpResponder:
    """Answers SNTP client requests with the host's clock (stratum 1, 'LOCL')."""

    def __init__(self, host, family):
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                request, peer = self.sock.recvfrom(512)
            except OSError:
                return
            if len(request) < 48 or request[0] & 7 != 3:
                continue
            now = time.time() + NTP_TO_UNIX
            seconds, fraction = int(now), int((now % 1) * (1 << 32))
            reply = struct.pack(
                ">BBbbII4sIIIIIIII",
                0x24, 1, 6, -20, 0, 0, b"LOCL",
                seconds, fraction,            # reference
                *struct.unpack(">II", request[40:48]),  # originate = client's transmit
                seconds, fraction,            # receive
                seconds, fraction,            # transmit
            )
            self.sock.sendto(reply, peer)

    def close(self):
        self.sock.close()


class CoapServer:
    """libcoap's example server on a free port, if installed."""

    def __init__(self, host, family):
        binary = next((shutil.which(n) for n in COAP_SERVER_NAMES if shutil.which(n)), None)
        self.proc = None
        self.port = None
        if binary is None:
            return
        self.port = free_udp_port(host, family)
        self.proc = subprocess.Popen([binary, "-A", host, "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)

    def close(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()


def at_traffic(stats_line):
    """Summarises the simulator's counters: what the example cost on the modem's UART."""
    stats = dict(kv.split("=", 1) for kv in stats_line.split()[1:] if "=" in kv)
    return ("AT commands %s (dial %s, send %s, receive %s, close %s); UART bytes to modem %s, "
            "from modem %s; datagrams out %s, in %s" % (
                stats.get("commands"), stats.get("dial"), stats.get("sendext"), stats.get("recv"),
                stats.get("close"), stats.get("uart_in"), stats.get("uart_out"),
                stats.get("dgrams_tx"), stats.get("dgrams_rx")))


# The examples `make demo` runs, and the peer each one talks to (started here).
DEMO = ["ipv6_echo", "asyncio_client", "coap_get", "ntp_time"]
# Examples the demo does not run, and why (named on the command line, they are skipped so).
NOT_IN_DEMO = {
    "mqtt_over_modem": "needs an MQTT broker and umqtt.simple, which the demo does not start: "
                       "tests/mp/test_tcp_mqtt.py runs it against Debian's mosquitto in make test",
    "mqtt_tls_over_modem": "needs a TLS MQTT broker and its CA certificate, which the demo does not start: "
                           "tests/mp/test_tls_mqtt.py runs it in make test",
    "lte_board": "not an example: the helper every example imports",
    "run_demo": "not an example: this runner",
}
# Runs the example as a board would (its own globals, __name__ == "__main__"), then prints the
# fake LTE's modelled device clock, which the runner reads from the last output line.
WRAPPER = """
import network
try:
    exec(open(%r).read(), {"__name__": "__main__"})
finally:
    print("%s%%d" %% network._lte_stats()["modelled_us"])
"""
MODELLED_TAG = "@@modelled_us="


def example_path(name):
    """The file an argument names: a path as given, else examples/<name>.py."""
    if os.sep in name or os.path.isfile(name):
        return os.path.abspath(name)
    return os.path.join(EXAMPLES, name if name.endswith(".py") else name + ".py")


def run_example(micropython, path, env, timeout):
    """(ok, reason, output lines, modelled device ms or None, wall seconds)."""
    start = time.monotonic()
    try:
        proc = subprocess.run([micropython, "-c", WRAPPER % (path, MODELLED_TAG)], cwd=EXAMPLES, env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, errors="replace", timeout=timeout)
        output, code = proc.stdout, proc.returncode
        reason = None if code == 0 else "exit status %d" % code
    except subprocess.TimeoutExpired as e:
        output = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        code, reason = None, "no end within %.0f s (killed)" % timeout
    wall = time.monotonic() - start
    lines, modelled_ms = [], None
    for line in output.splitlines():
        if line.startswith(MODELLED_TAG):
            modelled_ms = int(line[len(MODELLED_TAG):]) / 1000.0
        else:
            lines.append(line)
    if code != 0 and reason is not None:
        # The example's own last word (its FAILED line, or the exception) is the reason.
        said = [l.strip() for l in lines if l.strip()]
        failed_lines = [l for l in said if l.startswith("FAILED:")]
        if failed_lines:
            reason = failed_lines[-1][len("FAILED:"):].strip()
        elif said:
            reason = said[-1]
    return code == 0, reason, lines, modelled_ms, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("examples", nargs="*", help="example names or paths (default: %s)" % ", ".join(DEMO))
    ap.add_argument("--micropython", default=os.path.join(REPO, "build", "micropython"))
    ap.add_argument("--sim", default=os.path.join(REPO, "target", "release", "monarch-sim"))
    ap.add_argument("--time-scale", default="0.02", help="MICROATSOCKET_LTE_TIME_SCALE (1 = device timing)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per example")
    ap.add_argument("--peer-port", type=int, help="point every example at this port instead of its peer "
                    "(to see how an example reports a peer that does not answer)")
    args = ap.parse_args()
    # Examples run with their own folder as the working directory.
    micropython = os.path.abspath(args.micropython)
    sim_binary = os.path.abspath(args.sim)

    names = args.examples or DEMO
    host, family = loopback()
    echo = harness.EchoPeer(family, host)
    sntp = SntpResponder(host, family)
    coap = CoapServer(host, family)
    peers = {
        "ipv6_echo": (echo.port, "the UDP echo peer"),
        "asyncio_client": (echo.port, "the UDP echo peer"),
        "coap_get": (coap.port, "libcoap's coap-server"),
        "ntp_time": (sntp.port, "the SNTP responder"),
    }
    workdir = tempfile.mkdtemp(prefix="mas-demo-")
    sim = harness.Simulator(sim_binary, workdir)
    env = dict(os.environ)
    env.update({
        "MONARCH_SIM_SOCKET": sim.socket_path,
        "MICROATSOCKET_LTE_TIME_SCALE": args.time_scale,
        "PEER_HOST": host,
        # The unix build freezes no packages: asyncio comes from the MicroPython source tree.
        "MICROPYPATH": ":".join([".frozen", EXAMPLES, os.path.join(REPO, "build", "micropython-src", "extmod")]),
    })
    results = []  # (name, "ran" | "skipped" | "FAILED", detail)
    try:
        sim.start()
        for name in names:
            path = example_path(name)
            key = os.path.basename(path)[:-3] if path.endswith(".py") else os.path.basename(path)
            if not os.path.isfile(path):
                known = sorted(f[:-3] for f in os.listdir(EXAMPLES) if f.endswith(".py"))
                results.append((name, "FAILED", "no such example: %s (examples: %s)" % (
                    os.path.relpath(path, REPO), ", ".join(known))))
                print("== %s: no such example" % name, flush=True)
                continue
            if key in NOT_IN_DEMO and os.path.dirname(path) == EXAMPLES:
                results.append((key, "skipped", NOT_IN_DEMO[key]))
                print("== %s: skipped (%s)" % (key, NOT_IN_DEMO[key]), flush=True)
                continue
            port, peer_name = peers.get(key, (echo.port, "the UDP echo peer (an example the demo does not list)"))
            if port is None:
                reason = "%s is not installed (apt-get install libcoap3-bin)" % peer_name
                results.append((key, "skipped", reason))
                print("== %s: skipped (%s)" % (key, reason), flush=True)
                continue
            sim.prepare()
            sim.control("reset")  # count this example's AT traffic only
            if args.peer_port:
                port, peer_name = args.peer_port, "port given by --peer-port"
            env["PEER_PORT"] = str(port)
            print("== %s -> %s, %s port %d" % (key, peer_name, host, port), flush=True)
            ok, reason, lines, modelled_ms, wall = run_example(micropython, path, env, args.timeout)
            for line in lines:
                print("   " + line)
            stats = sim.control("stats")
            print("   " + at_traffic(stats), flush=True)
            commands = dict(kv.split("=", 1) for kv in stats.split()[1:] if "=" in kv).get("commands", "?")
            timing = "%.1f s here" % wall
            if modelled_ms is not None:
                timing += ", %.1f s at device timing" % (modelled_ms / 1000.0)
            if ok:
                results.append((key, "ran", "%s; %s AT commands" % (timing, commands)))
            else:
                results.append((key, "FAILED", reason))
                print("== %s FAILED: %s" % (key, reason), flush=True)
    finally:
        sim.stop()
        coap.close()
        sntp.close()
        echo.close()
        shutil.rmtree(workdir, ignore_errors=True)
    counts = {status: sum(1 for r in results if r[1] == status) for status in ("ran", "skipped", "FAILED")}
    print()
    print("== summary (times \"here\" are this machine's, with the modem's waits shortened to %s of "
          "device timing; \"at device timing\" is the same run on the fake LTE's modelled clock: "
          "UART bytes at 921600 baud, the firmware's waits, modem latency)" % args.time_scale)
    width = max([len(r[0]) for r in results] + [4])
    for name, status, detail in results:
        print("   %-*s  %-7s  %s" % (width, name, status, detail))
    print("demo: %d ran, %d skipped, %d failed" % (counts["ran"], counts["skipped"], counts["FAILED"]))
    return 1 if counts["FAILED"] else 0


if __name__ == "__main__":
    sys.exit(main())
