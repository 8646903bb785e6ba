# Script A: six sockets dialled and left open (no close, no set_modem); the soft reset runs no
# finaliser, so the module sees six taken slots and six open modem sockets from a VM that is gone.
from childlib import *

ECHO4 = peer("ECHO_PORT4", "127.0.0.1")
held = []
for i in range(6):
    s = udp_socket()
    udp_echo(s, b"A socket %d" % i, ECHO4)
    held.append(s)
check(socket._slots_in_use() == 6, "six slots taken")
print("A: six sockets open")
