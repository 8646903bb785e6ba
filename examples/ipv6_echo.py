# Send one UDP datagram over IPv6 through the modem and print the answer.
#
# Copy to a GPy/FiPy running firmware with microATsocket built in. The LTE
# modem only needs to be attached (no lte.connect(): PPP would stop the AT
# commands this module uses). Edit the peer below: any IPv6 UDP echo server.
# Copy lte_board.py too, as for every example.
from lte_board import attached_lte, setting
import microATsocket as socket

PEER_HOST = setting("PEER_HOST", "2001:db8::7")  # your IPv6 UDP echo server
PEER_PORT = setting("PEER_PORT", 7)
MESSAGE = b"hello from a GPy over IPv6"


lte = attached_lte()
sock = socket.MicroATSocket(lte)  # IPv6 UDP through the modem
sock.settimeout(10)
peer = sock.getaddrinfo(PEER_HOST, PEER_PORT)[0][-1]
sock.sendto(MESSAGE, peer)
data, sender = sock.recvfrom(512)
print("sent %d bytes to %s, port %d" % (len(MESSAGE), peer[0], peer[1]))
print("reply from %s, port %d: %r" % (sender[0], sender[1], data))
sock.close()
