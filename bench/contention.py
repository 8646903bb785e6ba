# Runs inside the MicroPython unix port (bench/run_bench.py starts it): what one user of the
# modem costs the others. Prints one JSON object per line.
#   - idle blocking receive: AT+SQNSRECV reads per second while recv() waits for nothing;
#   - another thread's sendto while one thread blocks in recv(): the receiver's exchanges it
#     waited for, and its time on the modelled clock;
#   - asyncio: three request/response tasks and a 10 ms heartbeat; the heartbeat's longest
#     stall on the modelled clock, and what the stall was made of.
# Environment: BENCH_PROFILE (stock | direct), ECHO_PORT4, BENCH_N (rounds).
import json
import os
import sys
import time

import network
import microATsocket as socket

try:
    import _thread
except ImportError:
    _thread = None
try:
    import asyncio
except ImportError:
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    sys.path.append(here + "/../build/micropython-src/extmod")
    import asyncio

PROFILE = os.getenv("BENCH_PROFILE") or "stock"
N = int(os.getenv("BENCH_N") or "10")
PEER = ("127.0.0.1", int(os.getenv("ECHO_PORT4")))

lte = network.LTE()
network._lte_profile("1.20.2")
socket.set_modem(lte)


def emit(**fields):
    fields["profile"] = PROFILE
    print(json.dumps(fields))


def stats():
    return network._lte_stats()


def quiet_socket(timeout):
    """Dialled to the echo peer, with nothing sent: nothing will come."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(PEER)
    s.settimeout(timeout)
    return s


# --- idle blocking receive -------------------------------------------------------------------
def idle_receive(seconds):
    s = quiet_socket(seconds)
    before = stats()
    start = time.ticks_ms()
    try:
        s.recv(64)
    except OSError:
        pass
    took = time.ticks_diff(time.ticks_ms(), start) / 1000
    after = stats()
    s.close()
    reads = after["commands"] - before["commands"]
    emit(op="idle blocking receive", seconds=took, reads=reads, reads_per_s=reads / took,
         modelled_us=after["modelled_us"] - before["modelled_us"])


# --- another thread's operation while one blocks in recv() ----------------------------------
def blocking_receiver(sock, done):
    try:
        sock.recv(64)
    except OSError:
        pass
    done.append(True)


def thread_latency(rounds):
    if _thread is None:
        emit(op="thread latency", error="no _thread in this build")
        return
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.settimeout(5)
    sender.sendto(b"warm", PEER)
    sender.recvfrom(64)
    # The send's own cost, with nobody else about.
    before = stats()
    sender.sendto(b"alone", PEER)
    after = stats()
    own = after["exchanges"] - before["exchanges"]
    own_us = after["modelled_us"] - before["modelled_us"]
    quiet = quiet_socket(0.4 * rounds + 1)
    done = []
    _thread.start_new_thread(blocking_receiver, (quiet, done))
    time.sleep_ms(300)
    waited, modelled = [], []
    for i in range(rounds):
        before = stats()
        sender.sendto(b"while blocked %d" % i, PEER)
        after = stats()
        waited.append(after["exchanges"] - before["exchanges"] - own)
        modelled.append(after["modelled_us"] - before["modelled_us"])
        time.sleep_ms(137)  # lands anywhere in the receiver's 200 ms slices
    while not done:
        time.sleep_ms(50)
    quiet.close()
    sender.close()
    emit(op="another thread's sendto while one blocks in recv()", rounds=rounds, own_exchanges=own,
         own_modelled_us=own_us, waited_max=max(waited), waited_mean=sum(waited) / rounds,
         modelled_us_max=max(modelled), modelled_us_mean=sum(modelled) / rounds)


# --- asyncio: request/response tasks and a heartbeat ----------------------------------------
def sim_counts():
    """The simulator's command counters: which commands reached the modem."""
    out = {}
    for field in network._sim("stats").split()[1:]:
        if "=" in field:
            k, v = field.split("=", 1)
            out[k] = int(v) if v.isdigit() else v
    return out


class Heartbeat:
    """Ticks every 10 ms; keeps the longest gap between two ticks on the modelled clock, and
    what reached the modem in it."""

    def __init__(self):
        self.ticks = 0
        self.last = None
        self.longest = 0
        self.longest_what = None
        self.measuring = False

    def snapshot(self):
        st = stats()
        return st["modelled_us"], st["exchanges"], st["idle_polls"], sim_counts()

    async def run(self):
        while True:
            if self.measuring:
                now = self.snapshot()
                if os.getenv("BENCH_TRACE_GAPS") and self.last is not None and now[1] - self.last[1] > 1:
                    b, a = self.last[3], now[3]
                    print("gap", now[0] - self.last[0], "exch", now[1] - self.last[1], "sends", a["sendext"] - b["sendext"],
                          "reads", a["recv"] - b["recv"], "cmds", a["commands"] - b["commands"])
                if self.last is not None and now[0] - self.last[0] > self.longest:
                    before, after = self.last[3], now[3]
                    sends, reads = after["sendext"] - before["sendext"], after["recv"] - before["recv"]
                    commands = after["commands"] - before["commands"]
                    self.longest = now[0] - self.last[0]
                    self.longest_what = {"exchanges": now[1] - self.last[1], "idle_polls": now[2] - self.last[2],
                                         "sends": sends, "reads": reads,
                                         "other_commands": commands - sends - reads}
                self.last = now
                self.ticks += 1
            await asyncio.sleep_ms(10)


async def request_response(index, rounds, ready, go):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    # Dialled first, with one exchange: the first sendto to a new peer is not what is measured.
    s.connect(PEER)
    stream = asyncio.StreamReader(s)
    s.send(b"task %d warm" % index)
    await asyncio.wait_for(stream.read(100), 10)
    ready.append(index)
    while not go:
        await asyncio.sleep_ms(5)
    for k in range(rounds):
        s.send(b"task %d round %d" % (index, k))
        reply = await asyncio.wait_for(stream.read(100), 10)
        if reply != b"task %d round %d" % (index, k):
            raise AssertionError("task %d got %r" % (index, reply))
    s.close()


async def asyncio_run(rounds):
    beat = Heartbeat()
    tick = asyncio.create_task(beat.run())
    ready, go = [], []
    tasks = [asyncio.create_task(request_response(i, rounds, ready, go)) for i in range(3)]
    while len(ready) < 3:
        await asyncio.sleep_ms(5)
    network._lte_reset_stats()
    beat.measuring = True
    start = time.ticks_ms()
    go.append(True)
    for t in tasks:
        await t
    took = time.ticks_diff(time.ticks_ms(), start)
    beat.measuring = False
    tick.cancel()
    st = stats()
    emit(op="asyncio heartbeat", tasks=3, rounds=rounds, ticks=beat.ticks, real_ms=took,
         modelled_us=st["modelled_us"], longest_stall_us=beat.longest, longest_stall=beat.longest_what)


idle_receive(2)
thread_latency(N)
asyncio.run(asyncio_run(max(2, N // 3)))
print("OK")
