# Steady-state sendto+recvfrom pairs for instruction counting under callgrind
# (bench/run_bench.py runs it with BENCH_PAIRS=0 and BENCH_PAIRS=200 and takes the difference).
import os
import time

import network
import microATsocket as socket

PAIRS = int(os.getenv("BENCH_PAIRS") or "0")
PROFILE = os.getenv("BENCH_PROFILE") or "stock"
PEER = ("127.0.0.1", int(os.getenv("ECHO_PORT4")))
lte = network.LTE()
network._lte_profile("pr429" if PROFILE == "pr429" else "1.20.2")
socket.set_modem(lte, chunking=PROFILE == "pr429")
socket.config(combined_send=PROFILE == "stock+combined")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"warm-up", PEER)
s.recvfrom(64)
data = b"x" * 16
for _ in range(PAIRS):
    s.sendto(data, PEER)
    time.sleep_ms(5)  # the echo reaches the modem: recvfrom finds it waiting
    s.recvfrom(64)
s.close()
print("OK")
