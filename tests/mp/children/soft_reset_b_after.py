# Script B, run after script A and the soft reset in the same process, with nothing set up: no
# set_modem, the module's C state left by A, A's threads gone. The first operation must just work.
import os

import network

from childlib import *

CASE = os.getenv("SOFT_RESET_CASE") or ""
ECHO4 = peer("ECHO_PORT4", "127.0.0.1")
TCP_ECHO4 = peer("TCP_ECHO_PORT4", "127.0.0.1")


def sim_stat(name):
    return int(network._sim("stats").split(name + "=")[1].split()[0])


nvm_before = sim_stat("nvm_writes")

# A socket made before the first operation, then the first operation: it finds the modem (the
# previous VM's modem object is gone with its heap; where root pointers are kept, following the
# old one faults at once).
s = udp_socket()
udp_echo(s, b"first datagram after the reset", ECHO4)
check(socket.config("modem") is network.LTE(), "the board's LTE object was found")
s.close()
check(socket._slots_in_use() == 0, "no slot left taken: %d" % socket._slots_in_use())

# All six slots are free again.
six = [udp_socket() for _ in range(6)]
for i, s in enumerate(six):
    udp_echo(s, b"B socket %d" % i, ECHO4)
for s in six:
    s.close()

# A stream on whatever connId comes first (after the TLS case: one that carried TLS).
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.settimeout(5)
t.connect(TCP_ECHO4)
t.send(b"plain stream after the reset")
got = b""
while len(got) < 28:
    got += t.recv(64)
check(got == b"plain stream after the reset", "stream echo %r" % got)
t.close()

if CASE == "tls":
    # The credential store survived: the same CA is not written to the modem again.
    MQTTS = peer("MQTTS_PORT", "::1")
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.connect(MQTTS)
    socket.ssl.wrap_socket(s, cert_reqs=socket.ssl.CERT_REQUIRED, ca_certs=tls_ca())
    s.close()
    check(sim_stat("nvm_writes") == nvm_before, "the CA was written again after the soft reset")

check(socket._slots_in_use() == 0, "slots in use at the end: %d" % socket._slots_in_use())
check(sim_stat("open_slots") == 0, "the modem still has %d sockets open" % sim_stat("open_slots"))
check(socket._soft_resets() == 1, "soft resets recognised: %d" % socket._soft_resets())
print("B OK")
