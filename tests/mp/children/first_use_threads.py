# A fresh process whose first use of the module comes from four threads at once, with no
# set_modem: each makes a socket and does sendto + recv. Prints FIRST USE OK when all four echoed
# and the module still works from the main thread afterwards.
import _thread
import os
import time

from childlib import *

ECHO4 = peer("ECHO_PORT4", "127.0.0.1")
if os.getenv("FU_SET"):
    socket.set_modem(__import__("network").LTE())
THREADS = 4
lock = _thread.allocate_lock()
ready = []
go = []
results = []


def worker(i):
    with lock:
        ready.append(i)
    while not go:
        time.sleep_ms(1)
    try:
        s = udp_socket()
        udp_echo(s, b"first use from thread %d" % i, ECHO4)
        s.close()
        outcome = "ok"
    except Exception as e:
        outcome = "%s %s" % (type(e).__name__, e)
    with lock:
        results.append((i, outcome))


for i in range(THREADS):
    _thread.start_new_thread(worker, (i,))
while len(ready) < THREADS:
    time.sleep_ms(1)
go.append(True)
deadline = time.ticks_add(time.ticks_ms(), 20000)
while len(results) < THREADS and time.ticks_diff(deadline, time.ticks_ms()) > 0:
    time.sleep_ms(5)
check(len(results) == THREADS, "%d of %d threads finished" % (len(results), THREADS))
failed = [r for r in results if r[1] != "ok"]
if failed:
    import network
    print("simulator:", network._sim("stats"))
    print("LTE task:", network._lte_stats())
check(not failed, "threads failed: %r" % failed)
s = udp_socket()
udp_echo(s, b"main thread afterwards", ECHO4)
s.close()
check(socket._slots_in_use() == 0, "slots in use: %d" % socket._slots_in_use())
print("FIRST USE OK")
