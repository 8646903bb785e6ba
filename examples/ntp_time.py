# Ask an NTP server for the time (SNTP, RFC 4330) over UDP through the modem.
#
# Edit the server below (IPv4 or IPv6 literal). Prints the server's UTC time. Copy lte_board.py too.
import struct
import time

from lte_board import attached_lte, fail, setting
import microATsocket as socket

NTP_HOST = setting("PEER_HOST", "2001:db8::123")  # your NTP server
NTP_PORT = setting("PEER_PORT", 123)

NTP_TO_UNIX = 2208988800  # seconds from 1900-01-01 to 1970-01-01
CLIENT_REQUEST = 0x23  # LI 0, version 4, mode 3 (client)
MODE_SERVER = 4


def unix_to_tuple(seconds):
    """UTC date and time, whatever epoch this port's time module counts from."""
    epoch = time.gmtime(0)[0]
    offset = 0 if epoch == 1970 else 946684800  # ports counting from 2000
    return time.gmtime(seconds - offset)


socket.set_modem(attached_lte())
try:
    server = socket.getaddrinfo(NTP_HOST, NTP_PORT)[0]
except OSError as e:  # socket.gaierror: the name did not resolve
    fail("looking up %s" % NTP_HOST, e, "set NTP_HOST in this file to your NTP server's address or name")
sock = socket.socket(server[0], socket.SOCK_DGRAM)
sock.settimeout(10)
request = bytearray(48)
request[0] = CLIENT_REQUEST
try:
    sock.sendto(request, server[-1])
    reply, sender = sock.recvfrom(48)
except socket.timeout as e:
    fail("no answer from %s, port %d" % server[-1], e,
         "check that an NTP server answers there (NTP_HOST, NTP_PORT in this file); run again, UDP does not resend")
except OSError as e:
    fail("asking %s, port %d" % server[-1], e, "see the message above; lte.isattached() must be True")
finally:
    sock.close()
if len(reply) < 48 or reply[0] & 7 != MODE_SERVER:
    fail("reading the answer", "%d bytes, not an NTP server reply" % len(reply),
         "NTP_HOST/NTP_PORT name something that is not an NTP server")
stratum = reply[1]
seconds, fraction = struct.unpack(">II", reply[40:48])
unix = seconds - NTP_TO_UNIX
t = unix_to_tuple(unix)
print("NTP server %s (stratum %d) says %04d-%02d-%02d %02d:%02d:%02d UTC" % (
    sender[0], stratum, t[0], t[1], t[2], t[3], t[4], t[5]))
