# Script A: one thread blocked in recv (it holds the engine during each receive slice), another
# sending in a loop (it waits for its turn at the engine); the script ends while both run, so
# the soft reset deletes them wherever they are.
import _thread
import time

from childlib import *

ECHO4 = peer("ECHO_PORT4", "127.0.0.1")
started = []


def receiver():
    s = udp_socket(timeout=None)
    udp_echo(s, b"receiver", ECHO4)
    started.append("receiver")
    s.recv(64)  # nothing more comes


def sender():
    s = udp_socket()
    started.append("sender")
    while True:
        s.sendto(b"sender", ECHO4)


socket.set_modem(__import__("network").LTE())
_thread.start_new_thread(receiver, ())
_thread.start_new_thread(sender, ())
for _ in range(200):
    if len(started) == 2:
        break
    time.sleep(0.01)
check(len(started) == 2, "both threads started")
time.sleep(0.3)
print("A: ending with a thread in recv and one sending")
