#!/usr/bin/env python3
"""`make bench`: what each socket operation costs, on the modelled device and on the host.

Runs bench/ops.py in the MicroPython unix port against the Monarch simulator for each
profile (firmware and transport), reads the fake Pycom LTE's counters (AT exchanges, UART bytes, modelled
device time), and adds GC heap per operation, code size of the core (thumbv7em-none-eabi release)
and of the C shim (x86-64 proxy), and host instructions per sendto+recvfrom pair (callgrind).
Writes bench/results/latest.md and latest.json. Nothing here is a pass/fail on time.

    bench/run_bench.py            # full report (a few minutes)
    bench/run_bench.py --smoke    # one profile, few operations, no valgrind: checks the runner
"""

import argparse
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "mp"))
import dns_peers  # noqa: E402
import tcp_peers  # noqa: E402
import run_mp_tests as harness  # noqa: E402

UART_BAUD = 921600
BITS_PER_BYTE = 10  # start + 8 data + stop
TIME_SCALE = "0.02"  # real waits in the fake LTE; the modelled clock is not scaled
CPU_PAIRS = 200
PROFILES = ["stock", "stock+combined", "release-v1.20", "pr429", "1.20.1", "direct", "direct+hex"]
PROFILE_NOTES = {
    "stock": "fake LTE profile 1.20.2 (stock firmware v1.20.2.r2..r6), a send is two send_at_cmd calls "
             "(command, then the payload after the `> ` prompt)",
    "stock+combined": "profile 1.20.2 with socket.config(combined_send=True): command, CR and "
                      "payload in one send_at_cmd call",
    "release-v1.20": "profile release-v1.20 (the branch Release/v1.20 at its head: send_at_cmd(cmd, "
                     "timeout=) chunks long commands), set_modem(lte, chunking=True); two-call send",
    "pr429": "profile pr429 (pull request 429's head: send_at_cmd(cmd, delay), the timeout second, "
             "chunks long commands), set_modem(lte, chunking=True); two-call send",
    "1.20.1": "profile 1.20.1 (v1.20.0.rc13..v1.20.2.r1: send_at_cmd(cmd), no timeout argument); "
              "two-call send",
    "direct": "the lteppp build (c_glue/transport_lteppp.c) on profile 1.20.2: items queued on the "
              "LTE task directly; command and payload streamed as continuation items behind a 10 ms "
              "prompt gap, one wait for the OK; raw payloads both ways (a socket whose raw read held "
              "a NUL byte reads hex: the binary rows; text rows read raw)",
    "direct+hex": "as direct, with socket.config(raw_send=False, raw_recv=False): hex payloads both "
                  "ways, as before raw mode",
}
FW_PROFILE = {"stock": "1.20.2", "stock+combined": "1.20.2", "release-v1.20": "release-v1.20",
              "pr429": "pr429", "1.20.1": "1.20.1", "direct": "1.20.2", "direct+hex": "1.20.2"}
# Operations that never talk to the modem; every other one must cost exchanges and UART bytes.
FREE_OPS = ("getaddrinfo of a literal", "socket() + close()")
REQUIRED_OPS = ("first sendto to a new peer", "steady sendto", "recvfrom, datagram waiting",
                "recvfrom, must wait 150 ms for the echo") + FREE_OPS
SHIM_OBJS = "build/micropython-src/ports/unix/build-pycom/microatsocket/*.o"
FAKE_LTE_OBJS = "build/micropython-src/ports/unix/build-pycom/fake_lte/*.o"


def wire_us(nbytes):
    return nbytes * BITS_PER_BYTE * 1e6 / UART_BAUD


def rel(path):
    return os.path.relpath(path, REPO)


class DelayedEcho:
    """A UDP echo peer that answers after `delay_s`, so a receive has to wait for the ring."""

    def __init__(self, delay_s=0.15):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.delay_s = delay_s
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(2048)
            except OSError:
                return
            threading.Timer(self.delay_s, self._reply, (data, peer)).start()

    def _reply(self, data, peer):
        try:
            self.sock.sendto(data, peer)
        except OSError:
            pass

    def close(self):
        self.sock.close()


def profile_env(env, profile):
    return dict(env, BENCH_PROFILE=profile, MICROATSOCKET_FW_PROFILE=FW_PROFILE[profile])


def run_ops(binaries, env, profile, n, heap_n, script="ops.py"):
    micropython = binaries["direct" if profile.startswith("direct") else "default"]
    env = dict(profile_env(env, profile), BENCH_N=str(n), BENCH_HEAP_N=str(heap_n))
    cmd = [micropython, os.path.join(REPO, "bench", script)]
    out = subprocess.run(cmd, env=env, cwd=os.path.join(REPO, "bench"), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=300).stdout.decode(errors="replace")
    if not out.rstrip().endswith("OK"):
        raise RuntimeError("bench/%s failed for %s:\n%s" % (script, profile, out[-3000:]))
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    command = ("BENCH_PROFILE=%s MICROATSOCKET_FW_PROFILE=%s BENCH_N=%d BENCH_HEAP_N=%d "
               "MICROATSOCKET_LTE_TIME_SCALE=%s %s bench/%s (simulator and echo peers started "
               "by bench/run_bench.py)" % (profile, FW_PROFILE[profile], n, heap_n, TIME_SCALE,
                                           rel(micropython), script))
    for row in rows:
        row["command"] = command
        if "modelled_us" in row:
            row["wire_us"] = wire_us(row["bytes_out"] + row["bytes_in"])
            row["ratio_to_wire"] = row["modelled_us"] / row["wire_us"] if row["wire_us"] else None
            # The same exchanges with every payload byte raw (hex text is two bytes a byte).
            hex_bytes = row.get("hex_out", 0) + row.get("hex_in", 0)
            row["raw_wire_us"] = wire_us(row["bytes_out"] + row["bytes_in"] - hex_bytes)
    return rows


def run_contention(binaries, env, profile, n):
    """bench/contention.py: receive polls, a second thread's wait, asyncio's heartbeat."""
    micropython = binaries["direct" if profile.startswith("direct") else "default"]
    # Time scale 1: the fake LTE's waits take their modelled time for real, so an asyncio
    # heartbeat's 10 ms and the modem's time are on one clock.
    env = dict(profile_env(env, profile), BENCH_N=str(n), MICROATSOCKET_LTE_TIME_SCALE="1")
    cmd = [micropython, os.path.join(REPO, "bench", "contention.py")]
    out = subprocess.run(cmd, env=env, cwd=os.path.join(REPO, "bench"), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=300).stdout.decode(errors="replace")
    if not out.rstrip().endswith("OK"):
        raise RuntimeError("bench/contention.py failed for %s:\n%s" % (profile, out[-3000:]))
    command = ("BENCH_PROFILE=%s MICROATSOCKET_FW_PROFILE=%s BENCH_N=%d MICROATSOCKET_LTE_TIME_SCALE=1 "
               "%s bench/contention.py" % (profile, FW_PROFILE[profile], n, rel(micropython)))
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    for row in rows:
        row["command"] = command
    return rows


def throughput(ops, skipped):
    out = []
    for row in ops:
        direction = {"steady sendto": "send", "recvfrom, datagram waiting": "receive"}.get(row["op"])
        if direction and row["modelled_us"] > 0:
            per_s = 1e6 / row["modelled_us"]
            out.append({"profile": row["profile"], "direction": direction, "payload": row["payload"],
                        "datagrams_per_s": per_s, "payload_bytes_per_s": per_s * row["payload"],
                        "wire_limit_datagrams_per_s": 1e6 / row["wire_us"],
                        "wire_limit_payload_bytes_per_s": 1e6 / row["wire_us"] * row["payload"],
                        "command": row["command"]})
    for row in skipped:
        for direction in ("send", "receive"):
            out.append({"profile": row["profile"], "direction": direction, "payload": row["payload"],
                        "not_possible": row["reason"], "command": row["command"]})
    order = {p: i for i, p in enumerate(PROFILES)}
    out.sort(key=lambda t: (order.get(t["profile"], 9), t["payload"], t["direction"] != "send"))
    return out


def rustlib_bin():
    sysroot = subprocess.check_output(["rustc", "--print", "sysroot"], text=True).strip()
    host = re.search(r"host: (\S+)", subprocess.check_output(["rustc", "-vV"], text=True)).group(1)
    return os.path.join(sysroot, "lib", "rustlib", host, "bin")


def code_size(workdir):
    """Links the thumbv7em staticlib keeping only the C ABI (--gc-sections) and reads sizes."""
    target = "thumbv7em-none-eabi"
    build = ["cargo", "build", "-q", "-p", "microatsocket", "--release", "--target", target]
    subprocess.check_call(build, cwd=REPO)
    lib = os.path.join(REPO, "target", target, "release", "libmicroatsocket.a")
    with open(os.path.join(REPO, "include", "microatsocket.h")) as f:
        symbols = sorted(set(re.findall(r"\b(mas_[A-Za-z0-9_]+)\s*\(", f.read())))
    bindir = rustlib_bin()
    elf = os.path.join(workdir, "core.elf")
    link = [os.path.join(bindir, "rust-lld"), "-flavor", "gnu", "--gc-sections", "-e", "mas_step"]
    for sym in symbols:
        link += ["-u", sym]
    subprocess.check_call(link + ["-o", elf, lib])
    sizes = {}
    size_cmd = [os.path.join(bindir, "llvm-size"), "-A", elf]
    for line in subprocess.check_output(size_cmd, text=True).splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in (".text", ".rodata", ".data", ".bss"):
            sizes[parts[0]] = int(parts[1])
    sizes = {section: sizes.get(section, 0) for section in (".text", ".rodata", ".data", ".bss")}
    sizes["flash (.text+.rodata+.data)"] = sizes[".text"] + sizes[".rodata"] + sizes[".data"]
    sizes["static RAM (.data+.bss)"] = sizes[".data"] + sizes[".bss"]
    command = "%s; $RUSTLIB_BIN/rust-lld %s -o core.elf %s; $RUSTLIB_BIN/llvm-size -A core.elf " \
              "(RUSTLIB_BIN is lib/rustlib/<host>/bin under `rustc --print sysroot`; the -u list is every " \
              "mas_ function in include/microatsocket.h)" % (" ".join(build), " ".join(link[1:]), rel(lib))
    return {"sizes": sizes, "exported": symbols, "command": command}


def shim_size():
    """The C shim's object files from the unix build (x86-64: a proxy for the ESP32 build)."""
    objects = sorted(glob.glob(os.path.join(REPO, SHIM_OBJS)))
    if not objects:
        return {"error": "no c_glue objects under %s (build the unix port first)" % SHIM_OBJS}
    total = {"text": 0, "data": 0, "bss": 0}
    for line in subprocess.check_output(["size"] + objects, text=True).splitlines()[1:]:
        parts = line.split()
        total["text"] += int(parts[0])
        total["data"] += int(parts[1])
        total["bss"] += int(parts[2])
    total["sum"] = total["text"] + total["data"] + total["bss"]
    return {"sizes": total, "objects": [os.path.basename(o) for o in objects],
            "command": "size %s (x86-64 host build, a proxy for the device)" % SHIM_OBJS}


def defined_functions(pattern):
    names = set()
    objects = glob.glob(os.path.join(REPO, pattern))
    if objects:
        for line in subprocess.check_output(["nm", "--defined-only"] + objects, text=True).splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "tT":
                names.add(parts[2])
    return names


def callgrind(env, workdir, pairs):
    """Instructions per steady sendto+recvfrom pair: run with `pairs` and with 0, subtract."""
    if not shutil.which("valgrind"):
        return {"error": "valgrind not installed"}
    # micropython_port/unix/build.sh keeps symbols (STRIP=), so callgrind can name functions.
    binary = os.path.join(REPO, "build", "micropython")
    shim = defined_functions(SHIM_OBJS)
    fake = defined_functions(FAKE_LTE_OBJS)

    def bucket(source, name):
        # By source file when callgrind knows it (the C objects carry debug lines), else by name.
        if "/microatsocket/" in source or (source == "???" and name in shim) or name.startswith("masg_"):
            return "shim"
        if name.startswith("mas_") or "microatsocket" in name:
            return "core"
        if "/fake_lte/" in source or (source == "???" and name in fake):
            return "fake_lte"
        return "rest"

    runs = {}
    for n in (0, pairs):
        out_file = os.path.join(workdir, "callgrind.%d" % n)
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out_file, binary,
               os.path.join(REPO, "bench", "cpu.py")]
        run = subprocess.run(cmd, env=dict(profile_env(env, "stock"), BENCH_PAIRS=str(n)),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=400)
        if run.returncode or b"OK" not in run.stdout:
            raise RuntimeError("bench/cpu.py under callgrind failed:\n%s" % run.stdout.decode(errors="replace")[-3000:])
        annotate = subprocess.check_output(["callgrind_annotate", "--inclusive=no", "--threshold=100", "--auto=no", out_file],
                                           text=True, errors="replace")
        counts = {"total": 0, "module": 0, "shim": 0, "core": 0, "fake_lte": 0, "rest": 0}
        for line in annotate.splitlines():
            m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*)$", line)
            if not m:
                continue
            count = int(m.group(1).replace(",", ""))
            rest = m.group(2)
            if "PROGRAM TOTALS" in rest:
                counts["total"] = count
                continue
            rest = re.sub(r"\s+\[[^\]]*\]$", "", rest)  # the object file
            if ":" not in rest:
                continue
            source, name = rest.split(":", 1)
            counts[bucket(source, name)] += count
        counts["module"] = counts["shim"] + counts["core"]
        runs[n] = counts
    per = {k: (runs[pairs][k] - runs[0][k]) / pairs for k in runs[0]}
    command = ("%s; valgrind --tool=callgrind %s bench/cpu.py with BENCH_PAIRS=%d and BENCH_PAIRS=0 "
               "(BENCH_PROFILE=stock, MICROATSOCKET_LTE_TIME_SCALE=%s); callgrind_annotate --inclusive=no "
               "--threshold=100 --auto=no; (difference) / %d" % (
                   "build: micropython_port/unix/build.sh", rel(binary), pairs, TIME_SCALE, pairs))
    return {"pairs": pairs, "per_pair": per, "runs": {str(k): v for k, v in runs.items()},
            "command": command,
            "split": "module = C shim (every function compiled from c_glue/, masg_*) + Rust core (mas_* and "
                     "symbols of the microatsocket crate; core-library code inlined into them counts with them, "
                     "out-of-line core/compiler_builtins helpers such as memcpy count as rest); fake_lte: the fake Pycom LTE (a test stand-in for the "
                     "firmware); rest: MicroPython, libc, kernel-call wrappers"}


def fmt(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        if digits == 0:
            return "{:,.0f}".format(v)
        return ("%." + str(digits) + "f") % v
    return str(v)


def side_by_side(report):
    """The steady 1500-byte sendto rows, one per profile that can carry it."""
    return [r for r in report["operations"] if r["op"] == "steady sendto" and r["payload"] == 1500]


def write_report(report, path_md, path_json):
    with open(path_json, "w") as f:
        json.dump(report, f, indent=2)
    cmds = []  # every distinct command, referenced from the tables as [c1], [c2], ...

    def ref(command):
        if command not in cmds:
            cmds.append(command)
        return "[c%d]" % (cmds.index(command) + 1)

    L = ["# microATsocket benchmark", "",
         "Written by `make bench` (`bench/run_bench.py`) on %s in %.0f s. How to read it: `bench/README.md`. "
         "Modelled time is the fake Pycom LTE's device clock (UART at %d baud, lteppp's waits, modelled modem "
         "latency), not wall-clock. The physical limit is the UART wire time of the same bytes at %d baud, "
         "%d bits a byte. The last column of each table names the command that produced the figure (list at "
         "the end)." % (report["date"], report["runner_seconds"], UART_BAUD, UART_BAUD, BITS_PER_BYTE), ""]
    L += ["Profiles:", ""] + ["* **%s**: %s" % (p, PROFILE_NOTES[p]) for p in report["profiles"]] + [""]
    L += ["## Per operation", "",
          "*Physical limit* is the wire time of the bytes as sent; *raw-byte limit* that of the same "
          "exchanges with every payload byte raw (where the payload went as hex text, half of it).", "",
          "| profile | operation | payload B | AT exchanges | UART bytes out / in | modelled ms | physical limit ms | raw-byte limit ms | ratio | command |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["operations"]:
        L.append("| %s | %s | %s | %s | %s / %s | %s | %s | %s | %s | %s |" % (
            r["profile"], r["op"], r["payload"] or "-", fmt(r["exchanges"]), fmt(r["bytes_out"], 0),
            fmt(r["bytes_in"], 0), fmt(r["modelled_us"] / 1000, 2), fmt(r["wire_us"] / 1000, 3),
            fmt(r["raw_wire_us"] / 1000, 3), fmt(r["ratio_to_wire"]), ref(r["command"])))
    for r in report["skipped"]:
        L.append("| %s | steady sendto / recvfrom | %d | not possible: %s | | | | | %s |" % (
            r["profile"], r["payload"], r["reason"], ref(r["command"])))
    L += ["", "## Steady 1500-byte sendto, transport by transport", "",
          "Where the modelled time goes: the share that is UART wire time (the bytes themselves) "
          "against firmware waits (idle polls, task polls, modem turnaround, the prompt gap).", "",
          "| profile | answered items | continuation items | 100 ms idle polls | prompt races | modelled ms | wire ms | wire share | command |",
          "|---|---|---|---|---|---|---|---|---|"]
    for r in side_by_side(report):
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["profile"], fmt(r["exchanges"]), fmt(r["continuations"]), fmt(r["idle_polls"]),
            fmt(r.get("prompt_races", 0)), fmt(r["modelled_us"] / 1000, 2), fmt(r["wire_us"] / 1000, 2),
            "%.0f %%" % (100.0 * r["wire_us"] / r["modelled_us"]), ref(r["command"])))
    L += ["", "## Throughput (per modelled second, one operation after another)", "",
          "| profile | direction | payload B | datagrams/s | payload B/s | physical limit datagrams/s | physical limit payload B/s | command |",
          "|---|---|---|---|---|---|---|---|"]
    for t in report["throughput"]:
        if "not_possible" in t:
            L.append("| %s | %s | %d | not possible: %s | | | | %s |" % (
                t["profile"], t["direction"], t["payload"], t["not_possible"], ref(t["command"])))
        else:
            L.append("| %s | %s | %d | %s | %s | %s | %s | %s |" % (
                t["profile"], t["direction"], t["payload"], fmt(t["datagrams_per_s"]),
                fmt(t["payload_bytes_per_s"], 0), fmt(t["wire_limit_datagrams_per_s"]),
                fmt(t["wire_limit_payload_bytes_per_s"], 0), ref(t["command"])))
    L += ["", "## TCP streams", "",
          "Connect, bulk transfer each way (payload B is the whole transfer) and an MQTT QoS 1 publish "
          "of 32 bytes to a topic the client subscribes to (umqtt.simple against mosquitto: PUBLISH, "
          "PUBACK, the broker's delivery and our PUBACK), per operation.", "",
          "| profile | operation | payload B | AT exchanges | UART bytes out / in | modelled ms | physical limit ms | raw-byte limit ms | ratio | command |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report.get("streams", []):
        L.append("| %s | %s | %s | %s | %s / %s | %s | %s | %s | %s | %s |" % (
            r["profile"], r["op"], r["payload"] or "-", fmt(r["exchanges"]), fmt(r["bytes_out"], 0),
            fmt(r["bytes_in"], 0), fmt(r["modelled_us"] / 1000, 2), fmt(r["wire_us"] / 1000, 3),
            fmt(r["raw_wire_us"] / 1000, 3), fmt(r["ratio_to_wire"]), ref(r["command"])))
    for r in report.get("stream_skipped", []):
        L.append("| %s | %s | | not measured: %s | | | | | %s |" % (r["profile"], "MQTT", r["reason"], ref(r["command"])))
    L += ["", "## Memory and code size", "", "| figure | value | command |", "|---|---|---|"]
    for h in report["heap"]:
        L.append("| GC heap allocated per steady sendto (16 B), %s | %s B | %s |" % (
            h["profile"], fmt(h["sendto_bytes"]), ref(h["command"])))
        L.append("| GC heap allocated per recvfrom (16 B), %s | %s B | %s |" % (
            h["profile"], fmt(h["recvfrom_bytes"]), ref(h["command"])))
    for h in report.get("stream_heap", []):
        L.append("| GC heap allocated per stream send (16 B), %s | %s B | %s |" % (h["profile"], fmt(h["send_bytes"]), ref(h["command"])))
        L.append("| GC heap allocated per stream readinto (16 B buffer), %s | %s B | %s |" % (h["profile"], fmt(h["readinto_bytes"]), ref(h["command"])))
    core = report.get("core_size") or {}
    for name, size in core.get("sizes", {}).items():
        L.append("| core %s, thumbv7em-none-eabi release, C ABI only | %d B | %s |" % (name, size, ref(core["command"])))
    shim = report.get("shim_size") or {}
    if "sizes" in shim:
        s = shim["sizes"]
        L.append("| C shim .text / .data / .bss (x86-64 host objects: a proxy, not the device) | %d / %d / %d B (sum %d) | %s |" % (
            s["text"], s["data"], s["bss"], s["sum"], ref(shim["command"])))
    elif shim:
        L.append("| C shim size | not measured: %s | |" % shim["error"])
    cpu = report.get("cpu")
    if cpu:
        L += ["", "## Host CPU (unix port, x86-64)", "", "| figure | instructions | command |", "|---|---|---|"]
        if "per_pair" in cpu:
            p = cpu["per_pair"]
            c = ref(cpu["command"])
            L += ["| per steady sendto+recvfrom pair (16 B, stock), whole process | %s | %s |" % (fmt(p["total"], 0), c),
                  "| of which the module (C shim + Rust core) | %s | %s |" % (fmt(p["module"], 0), c),
                  "| ... the C shim (c_glue/) | %s | %s |" % (fmt(p["shim"], 0), c),
                  "| ... the Rust core (mas_* and microatsocket:: functions) | %s | %s |" % (fmt(p["core"], 0), c),
                  "| of which the fake Pycom LTE (stands in for the firmware) | %s | %s |" % (fmt(p["fake_lte"], 0), c),
                  "| of which the rest (MicroPython, libc) | %s | %s |" % (fmt(p["rest"], 0), c),
                  "", "Split: " + cpu["split"] + "."]
        else:
            L.append("| per pair | not measured: %s | |" % cpu["error"])
    contention = report.get("contention", [])
    if contention:
        L += ["", "## One user of the modem and the others", "",
              "An idle blocking receive (a 2 s `recv()` with nothing coming, run as 200 ms slices); "
              "another thread's steady `sendto` while one thread blocks in `recv()` (the receiver's "
              "exchanges it waited for, and its time on the modelled clock, its own exchanges "
              "included); three asyncio request/response tasks with a 10 ms heartbeat task (the "
              "longest gap between two heartbeats on the modelled clock, and what the module did in "
              "it). These run with the fake LTE's waits at their modelled length (time scale 1), so the "
              "heartbeat's 10 ms, the receive's pauses and the modem's time are on one clock.", "",
              "| profile | figure | value | command |", "|---|---|---|---|"]
        for r in contention:
            c = ref(r["command"])
            if r["op"] == "idle blocking receive":
                L.append("| %s | AT+SQNSRECV reads per second, idle blocking receive | %s (%d in %.1f s) | %s |" % (
                    r["profile"], fmt(r["reads_per_s"]), r["reads"], r["seconds"], c))
            elif r["op"].startswith("another thread"):
                L.append("| %s | another thread's sendto while one blocks in recv(): receiver exchanges waited, mean / most | %s / %d | %s |" % (
                    r["profile"], fmt(r["waited_mean"]), r["waited_max"], c))
                L.append("| %s | ... its modelled ms, mean / most (alone: %s) | %s / %s | %s |" % (
                    r["profile"], fmt(r["own_modelled_us"] / 1000, 1), fmt(r["modelled_us_mean"] / 1000, 1),
                    fmt(r["modelled_us_max"] / 1000, 1), c))
            elif r["op"] == "asyncio heartbeat":
                w = r.get("longest_stall") or {}
                L.append("| %s | asyncio heartbeat, longest stall, modelled ms (what reached the modem in it) | %s (%s sends, %s reads, %s other commands; %s firmware idle polls) | %s |" % (
                    r["profile"], fmt(r["longest_stall_us"] / 1000, 1), w.get("sends", "-"), w.get("reads", "-"),
                    w.get("other_commands", "-"), w.get("idle_polls", "-"), c))
    if report.get("not_measured"):
        L += ["", "## Not measured", ""] + ["* " + x for x in report["not_measured"]]
    L += ["", "## Commands", ""] + ["* [c%d] `%s`" % (i + 1, c) for i, c in enumerate(cmds)]
    with open(path_md, "w") as f:
        f.write("\n".join(L) + "\n")


def check_report(report, smoke):
    """A missing or impossible figure means the runner broke (never a judgement on speed)."""
    problems = []
    for profile in report["profiles"]:
        ops = {r["op"] for r in report["operations"] if r["profile"] == profile}
        problems += ["%s: no %r row" % (profile, op) for op in REQUIRED_OPS if op not in ops]
        if not [h for h in report["heap"] if h["profile"] == profile]:
            problems.append("%s: no heap figures" % profile)
    for r in report["operations"]:
        label = "%s %s %s" % (r["profile"], r["op"], r["payload"])
        if r["op"] in FREE_OPS or r["op"].endswith(", repeated"):  # repeated lookups: kept answers
            if r["exchanges"] or r["bytes_out"]:
                problems.append("%s: a modem exchange where there cannot be one" % label)
        elif not (r["exchanges"] > 0 and r["bytes_out"] > 0 and r["bytes_in"] > 0 and r["modelled_us"] > 0):
            problems.append("%s: zero exchanges, bytes or modelled time" % label)
    for h in report["heap"]:
        if h.get("sendto_bytes") is None or h.get("recvfrom_bytes") is None or h["sendto_bytes"] < 0:
            problems.append("%s: heap figure missing" % h["profile"])
    for profile in {r["profile"] for r in report.get("contention", [])}:
        ops = {r["op"] for r in report["contention"] if r["profile"] == profile}
        for op in ("idle blocking receive", "another thread's sendto while one blocks in recv()", "asyncio heartbeat"):
            if op not in ops:
                problems.append("%s: no %r row" % (profile, op))
    if not report.get("contention"):
        problems.append("no contention figures")
    if not [t for t in report["throughput"] if t.get("datagrams_per_s", 0) > 0]:
        problems.append("no throughput figures")
    core = report.get("core_size", {}).get("sizes", {})
    if not core.get(".text"):
        problems.append("core .text size missing")
    if not report.get("shim_size", {}).get("sizes", {}).get("text"):
        problems.append("C shim size missing")
    if not smoke:
        p = report.get("cpu", {}).get("per_pair")
        if not p or p["total"] <= 0 or p["module"] <= 0:
            problems.append("callgrind figures missing or zero")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny run that only proves the runner works")
    ap.add_argument("--micropython", default=os.path.join(REPO, "build", "micropython"))
    ap.add_argument("--micropython-lteppp", default=os.path.join(REPO, "build", "micropython-lteppp"),
                    help="the build with the direct transport, for the 'direct' profile")
    ap.add_argument("--sim", default=os.path.join(REPO, "target", "release", "monarch-sim"))
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    args = ap.parse_args()
    started = time.monotonic()
    micropython = os.path.abspath(args.micropython)
    binaries = {"default": micropython, "direct": os.path.abspath(args.micropython_lteppp)}
    profiles = ["stock", "direct", "direct+hex"] if args.smoke else PROFILES
    n, heap_n = (3, 10) if args.smoke else (50, 1000)

    workdir = tempfile.mkdtemp(prefix="mas-bench-")
    sim = harness.Simulator(os.path.abspath(args.sim), workdir)
    peers = harness.start_echo_peers()
    dns_env, dns_closers = dns_peers.start()
    tcp_env, tcp_closers = tcp_peers.start()
    dns_closers += tcp_closers
    delayed = DelayedEcho()
    env = dict(os.environ, MICROATSOCKET_LTE_TIME_SCALE=TIME_SCALE, DELAYED_ECHO_PORT=str(delayed.port))
    env.update({k: str(p.port) for k, p in peers.items()})
    env.update(dns_env)
    env.update(tcp_env)
    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "smoke": args.smoke,
              "uart_baud": UART_BAUD, "bits_per_byte": BITS_PER_BYTE, "time_scale": TIME_SCALE,
              "profiles": profiles, "profile_notes": {p: PROFILE_NOTES[p] for p in profiles},
              "operations": [], "skipped": [], "limits": [], "heap": [],
              "not_measured": [
                  "Pauses between receive polls (mp_hal_delay_ms) are real time, not on the modelled clock: "
                  "'recvfrom, must wait' shows the modem traffic of the wait, not its duration.",
                  "The C shim's size on the device (ESP32, Xtensa): only the x86-64 objects are at hand.",
                  "Host CPU per pair is for the stock profile only."]}
    try:
        sim.start()
        env["MONARCH_SIM_SOCKET"] = sim.socket_path
        for profile in profiles:
            sim.prepare()
            for row in run_ops(binaries, env, profile, n, heap_n):
                key = {"heap": "heap", "skipped": "skipped", "limits": "limits"}.get(row["op"], "operations")
                report[key].append(row)
            # TCP streams (bench/tcp_ops.py): their own rows and tables.
            sim.prepare()
            for row in run_ops(binaries, env, profile, n, heap_n, "tcp_ops.py"):
                key = {"stream heap": "stream_heap", "skipped": "stream_skipped"}.get(row["op"], "streams")
                report.setdefault(key, []).append(row)
        report["contention"] = []
        for profile in (["stock", "direct"] if not args.smoke else ["direct"]):
            sim.prepare()
            report["contention"] += run_contention(binaries, env, profile, 3 if args.smoke else 10)
        report["throughput"] = throughput(report["operations"], report["skipped"])
        report["core_size"] = code_size(workdir)
        report["shim_size"] = shim_size()
        if args.smoke:
            report["not_measured"].append("Smoke run: two profiles, few operations, no callgrind.")
        else:
            sim.prepare()
            report["cpu"] = callgrind(env, workdir, CPU_PAIRS)
    finally:
        sim.stop()
        for p in peers.values():
            p.close()
        for close in dns_closers:
            close()
        delayed.close()
        shutil.rmtree(workdir, ignore_errors=True)
    report["runner_seconds"] = time.monotonic() - started

    problems = check_report(report, args.smoke)
    os.makedirs(args.out, exist_ok=True)
    name = "smoke" if args.smoke else "latest"
    write_report(report, os.path.join(args.out, name + ".md"), os.path.join(args.out, name + ".json"))
    if problems:
        print("bench: the runner is broken:\n  " + "\n  ".join(problems))
        return 1
    print("bench: wrote %s (%.0f s)" % (os.path.join(args.out, name + ".md"), report["runner_seconds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
