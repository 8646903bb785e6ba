# Script A: Ctrl-C right after AT+SQNSSENDEXT went to the modem, before its payload: the modem
# waits for the payload bytes when the script ends and the board soft-resets.
import network

from childlib import *

ECHO4 = peer("ECHO_PORT4", "127.0.0.1")
s = udp_socket()
udp_echo(s, b"warm", ECHO4)
print("A: interrupted between command and payload")
network._lte_interrupt(1, "kbd")
s.sendto(b"this payload is cut off", ECHO4)
