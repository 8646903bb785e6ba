# Send one UDP datagram over IPv6 through the modem and print the answer.
#
# Copy to a GPy/FiPy running firmware with microATsocket built in. The LTE
# modem only needs to be attached (no lte.connect(): PPP would stop the AT
# commands this module uses). Edit the peer below: any IPv6 UDP echo server.
import time

from network import LTE
import microATsocket as socket

PEER_HOST = "2001:db8::7"  # your IPv6 UDP echo server
PEER_PORT = 7
MESSAGE = b"hello from a GPy over IPv6"
ATTACH_TIMEOUT_S = 120

# The test harness points the example at its local peers through the environment.
try:
    import os

    PEER_HOST = os.getenv("PEER_HOST") or PEER_HOST
    PEER_PORT = int(os.getenv("PEER_PORT") or PEER_PORT)
except (ImportError, AttributeError):
    pass


def attached_lte():
    lte = LTE()
    if not lte.isattached():
        lte.attach()
        waited = 0
        while not lte.isattached():
            if waited > ATTACH_TIMEOUT_S * 1000:
                raise OSError("LTE did not attach")
            time.sleep_ms(200)
            waited += 200
    return lte


lte = attached_lte()
sock = socket.MicroATSocket(lte)  # IPv6 UDP through the modem
sock.settimeout(10)
peer = sock.getaddrinfo(PEER_HOST, PEER_PORT)[0][-1]
sock.sendto(MESSAGE, peer)
data, sender = sock.recvfrom(512)
print("sent %d bytes to %s, port %d" % (len(MESSAGE), peer[0], peer[1]))
print("reply from %s, port %d: %r" % (sender[0], sender[1], data))
sock.close()
