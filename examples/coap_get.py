# A CoAP GET built by hand, sent over IPv6 UDP through the modem.
#
# CoAP (RFC 7252) is the usual protocol for constrained devices on IPv6-only
# LTE-M/NB-IoT networks. Edit the peer below: any CoAP server, e.g. libcoap's
# coap-server. Prints the response code and payload. Copy lte_board.py too.
import time

from lte_board import attached_lte, fail, setting
import microATsocket as socket

PEER_HOST = setting("PEER_HOST", "2001:db8::5683")  # your CoAP server
PEER_PORT = setting("PEER_PORT", 5683)
PATH = ""  # e.g. "sensors/temp"; "" asks for the server's root resource

COAP_VERSION = 1
TYPE_CON = 0
TYPE_ACK = 2
CODE_GET = 0x01
OPTION_URI_PATH = 11
PAYLOAD_MARKER = 0xFF


def option_nibble(value):
    """An option delta or length as (4-bit nibble, extended bytes)."""
    if value < 13:
        return value, b""
    if value < 269:
        return 13, bytes([value - 13])
    value -= 269
    return 14, bytes([value >> 8, value & 0xFF])


def coap_get(message_id, token, path):
    out = bytearray([(COAP_VERSION << 6) | (TYPE_CON << 4) | len(token), CODE_GET,
                     message_id >> 8, message_id & 0xFF])
    out += token
    previous = 0
    for segment in [s for s in path.split("/") if s]:
        value = segment.encode()
        delta, delta_ext = option_nibble(OPTION_URI_PATH - previous)
        length, length_ext = option_nibble(len(value))
        out.append((delta << 4) | length)
        out += delta_ext + length_ext + value
        previous = OPTION_URI_PATH
    return bytes(out)


def parse_response(data):
    """(type, code text, message id, token, payload) of a CoAP message."""
    if len(data) < 4 or data[0] >> 6 != COAP_VERSION:
        raise ValueError("not a CoAP message")
    kind = (data[0] >> 4) & 3
    token_len = data[0] & 0x0F
    code = "%d.%02d" % (data[1] >> 5, data[1] & 0x1F)
    message_id = (data[2] << 8) | data[3]
    token = data[4:4 + token_len]
    at = 4 + token_len
    while at < len(data) and data[at] != PAYLOAD_MARKER:
        header = data[at]
        at += 1
        for nibble in (header >> 4, header & 0x0F):
            if nibble == 13:
                at += 1
            elif nibble == 14:
                at += 2
        length = header & 0x0F
        if length == 13:
            length = data[at - 1] + 13
        elif length == 14:
            length = ((data[at - 2] << 8) | data[at - 1]) + 269
        at += length
    payload = data[at + 1:] if at < len(data) else b""
    return kind, code, message_id, token, payload


socket.set_modem(attached_lte())
try:
    server = socket.getaddrinfo(PEER_HOST, PEER_PORT)[0][-1]
except OSError as e:  # socket.gaierror: the name did not resolve
    fail("looking up %s" % PEER_HOST, e, "set PEER_HOST in this file to your CoAP server's address or name")
sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
sock.settimeout(10)
message_id = time.ticks_ms() & 0xFFFF
token = bytes([0x4D, 0x41])
try:
    sock.sendto(coap_get(message_id, token, PATH), server)
    while True:
        data, sender = sock.recvfrom(1024)
        kind, code, reply_id, reply_token, payload = parse_response(data)
        if kind == TYPE_ACK and code == "0.00":
            continue  # empty ACK: the response follows separately
        if reply_token == token:
            break
    if kind == TYPE_CON:
        sock.sendto(bytes([(COAP_VERSION << 6) | (TYPE_ACK << 4), 0, reply_id >> 8, reply_id & 0xFF]), server)
except socket.timeout as e:
    fail("no CoAP answer from %s, port %d" % server, e,
         "check that a CoAP server runs there (PEER_HOST, PEER_PORT in this file); run again, "
         "this client sends its confirmable request once")
except OSError as e:
    fail("CoAP GET to %s, port %d" % server, e, "see the message above; lte.isattached() must be True")
finally:
    sock.close()
print("CoAP response %s from %s, port %d" % (code, sender[0], sender[1]))
print(payload.decode() if payload else "(no payload)")
