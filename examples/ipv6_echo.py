# Send one UDP datagram over IPv6 through the modem and print the answer.
#
# Copy to a GPy/FiPy running firmware with microATsocket built in. The LTE
# modem only needs to be attached (no lte.connect(): PPP would stop the AT
# commands this module uses). Edit the peer below: any IPv6 UDP echo server.
# Copy lte_board.py too, as for every example.
from lte_board import attached_lte, fail, setting
import microATsocket as socket

PEER_HOST = setting("PEER_HOST", "2001:db8::7")  # your IPv6 UDP echo server
PEER_PORT = setting("PEER_PORT", 7)
TIMEOUT_S = setting("TIMEOUT_S", 10)
MESSAGE = b"hello from a GPy over IPv6"


socket.set_modem(attached_lte())
try:
    peer = socket.getaddrinfo(PEER_HOST, PEER_PORT)[0][-1]
except OSError as e:  # socket.gaierror: the name did not resolve
    fail("looking up %s" % PEER_HOST, e, "set PEER_HOST in this file to your echo server's address or name")

sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
sock.settimeout(TIMEOUT_S)
try:
    sent = sock.sendto(MESSAGE, peer)
    print("sent %d bytes to %s, port %d" % (sent, peer[0], peer[1]))
    data, sender = sock.recvfrom(512)
    print("reply from %s, port %d: %r" % (sender[0], sender[1], data))
except socket.timeout as e:
    fail("no reply from %s, port %d" % peer, e,
         "check that a UDP echo server runs there (PEER_HOST, PEER_PORT in this file) and that the "
         "network routes to it; UDP does not resend a lost datagram, so run the example again")
except OSError as e:
    fail("echo with %s, port %d" % peer, e, "see the message above; lte.isattached() must be True")
finally:
    sock.close()
