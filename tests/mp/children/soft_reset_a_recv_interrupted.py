# Script A: Ctrl-C during a blocking recv (the KeyboardInterrupt arrives while the LTE task works
# on the receive's third item), not caught: the script ends there, its socket open, then Ctrl-D.
import network

from childlib import *

ECHO4 = peer("ECHO_PORT4", "127.0.0.1")
s = udp_socket(timeout=None)
udp_echo(s, b"before the wait", ECHO4)
print("A: waiting in recv")
network._lte_interrupt(3, "kbd")
s.recv(64)
