#!/usr/bin/env python3
"""Run the examples on the MicroPython unix port against the Monarch simulator.

Each example talks through the fake Pycom network.LTE to the simulated modem,
whose sockets are real UDP sockets on the loopback, so the peers are real:

    ipv6_echo.py       a UDP echo peer on ::1 (127.0.0.1 without IPv6)
    asyncio_client.py  the same echo peer
    coap_get.py        libcoap's coap-server on ::1 (skipped if not installed)
    ntp_time.py        a minimal SNTP responder started here

The examples are run unmodified: PEER_HOST and PEER_PORT in the environment
point them at these peers.

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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("examples", nargs="*", help="example names (default: all four)")
    ap.add_argument("--micropython", default=os.path.join(REPO, "build", "micropython"))
    ap.add_argument("--sim", default=os.path.join(REPO, "target", "release", "monarch-sim"))
    ap.add_argument("--time-scale", default="0.02", help="MICROATSOCKET_LTE_TIME_SCALE (1 = device timing)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per example")
    args = ap.parse_args()
    # Examples run with their own folder as the working directory.
    micropython = os.path.abspath(args.micropython)
    sim_binary = os.path.abspath(args.sim)

    names = args.examples or ["ipv6_echo", "asyncio_client", "coap_get", "ntp_time"]
    host, family = loopback()
    echo = harness.EchoPeer(family, host)
    sntp = SntpResponder(host, family)
    coap = CoapServer(host, family)
    peers = {
        "ipv6_echo": echo.port,
        "asyncio_client": echo.port,
        "coap_get": coap.port,
        "ntp_time": sntp.port,
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
    failed = 0
    try:
        sim.start()
        for name in names:
            path = os.path.join(EXAMPLES, name if name.endswith(".py") else name + ".py")
            key = os.path.basename(path)[:-3]
            if peers.get(key) is None:
                print("== %s: skipped (no coap-server; install libcoap3-bin)" % key)
                continue
            sim.prepare()
            sim.control("reset")  # count this example's AT traffic only
            env["PEER_PORT"] = str(peers[key])
            print("== %s -> %s port %d" % (key, host, peers[key]), flush=True)
            try:
                proc = subprocess.run([micropython, path], cwd=EXAMPLES, env=env,
                                      stdin=subprocess.DEVNULL, timeout=args.timeout)
                ok = proc.returncode == 0
            except subprocess.TimeoutExpired:
                ok = False
            print("   " + at_traffic(sim.control("stats")), flush=True)
            if not ok:
                failed += 1
                print("== %s FAILED" % key)
    finally:
        sim.stop()
        coap.close()
        sntp.close()
        echo.close()
        shutil.rmtree(workdir, ignore_errors=True)
    print("demo: %s" % ("all examples ran" if failed == 0 else "%d failed" % failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
