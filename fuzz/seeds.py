#!/usr/bin/env python3
"""Writes the committed seed corpora, fuzz/corpus/<target>/seed-*, from real modem answers (as
the simulator and the unit tests give them), real DNS messages and addresses, so each seed says
what it is. Inputs the fuzzer found are kept beside them (seed-found-* once failed; copied by hand
from fuzz/artifacts, not written by this script). Run: python3 fuzz/seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)


# --- digest: [pending command and hex flag] [piece sizes] [modem text] -------------------------
PENDING = ["", "SQNSRECV", "SQNSSENDEXT", "SQNDNSLKUP", "SQNSI", "SQNSS", "CGPADDR", "SQNSD"]


def digest_seed(name, pending, text, hex_mode=True, cuts=5):
    head = PENDING.index(pending) | (8 if hex_mode else 0)
    write("digest", name, bytes([head, cuts]) + text)


digest_seed("ok", "", b"\r\nOK\r\n", cuts=3)
digest_seed("errors", "", b"\r\n+CME ERROR: 50\r\n\r\nERROR\r\n\r\nNO CARRIER\r\nCONNECT\r\n+CME ERROR: operation not allowed\r\n")
digest_seed("prompt", "SQNSSENDEXT", b"\r\n> \r\nOK\r\n", cuts=1)
digest_seed("recv-hex", "SQNSRECV", b"\r\n+SQNSRECV: 1,3\r\n414243\r\n\r\nOK\r\n")
digest_seed("recv-raw", "SQNSRECV", b"\r\n+SQNSRECV: 1,5\r\n\r\nOK\x00\r\r\n\r\nOK\r\n", hex_mode=False, cuts=7)
digest_seed("recv-nul-before-ok", "SQNSRECV", b"\r\n+SQNSRECV: 2,2\r\n4142\r\n\x00")
digest_seed("recv-ring-inside", "SQNSRECV", b"\r\n+SQNSRING: 1,16\r\n+SQNSRECV: 1,2\r\n4142\r\n\r\n+SQNSRING: 3,8\r\n\r\nOK\r\n")
digest_seed("status", "SQNSS",
            b"\r\n+SQNSS: 1,0\r\n+SQNSS: 2,2,\"::1\",7,\"::1\",9\r\n"
            b"+SQNSS: 3,1,\"127.0.0.1\",5000,\"127.0.0.1\",7\r\n+SQNSS: 4,0\r\n\r\nOK\r\n")
digest_seed("dns-lookup", "SQNDNSLKUP", b"\r\n+SQNDNSLKUP: a.test,2001:db8::1,10.0.0.1\r\n\r\nOK\r\n", cuts=2)
digest_seed("info", "SQNSI", b"\r\n+SQNSI: 1,10,20,3,0\r\n\r\nOK\r\n")
digest_seed("cgpaddr", "CGPADDR", b"\r\n+CGPADDR: 1,\"10.0.0.2\",\"32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.2\"\r\n\r\nOK\r\n")
digest_seed("urcs", "", b"\r\n+SQNSRING: 1,10\r\n\r\n+SQNSH: 2\r\n\r\n+SYSSTART\r\n\r\n+CEREG: 1\r\n^EXIT 0x1\r\n+SHUTDOWN\r\n\r\nOK\r\n", cuts=9)

# --- engine: the script read by fuzz_targets/engine/script.rs -----------------------------------
# Header: limits byte (bits 0-1: command limit none/124/64/20; 4: raw sends; 8: raw receives;
# 16: combined send), clock byte (2: just before the wrap). Then operations, each an op byte and
# an interrupt byte, its arguments, then per exchange a clock byte and an answer: a template
# number (fuzz_targets/engine/modem.rs), bit 6 to chain another, bit 7 for raw bytes.
OK, ERROR, CME, PROMPT, NO_CARRIER = 0, 1, 2, 3, 4
RECV_EMPTY, RECV_ABC, RECV_CUT, RECV_1500 = 6, 7, 8, 9
RING, SQNSH, SYSSTART, STATUS, LOOKUP, INFO_WAITING, DNS_ANSWER = 11, 13, 14, 15, 16, 18, 20
CHAIN = 0x40
OPEN, CONNECT, SENDTO, RECVFROM, POLL, RESOLVE, CLOSE, RESET = 1, 3, 4, 6, 7, 8, 9, 0
TICK = 5  # 5 ms per exchange


def ex(*answers):
    """One exchange: the clock byte, then its answer pieces (chained)."""
    pieces = [a | CHAIN for a in answers[:-1]] + [answers[-1]]
    return bytes([TICK] + pieces)


def first_send():
    """A fresh socket's first sendto: configure, configure-ext, dial, send, payload."""
    return ex(OK) + ex(OK) + ex(OK) + ex(PROMPT) + ex(OK)


STOCK, UNLIMITED, COMBINED, RAW_RECV = 1, 0, 1 | 16, 1 | 8
PEER_V6, PEER_V4, NO_PEER = 1, 0, 6

write("engine", "send-recv-poll-close", bytes([STOCK, 0])
      + bytes([OPEN, 0])
      + bytes([SENDTO, 0, 0, 5, PEER_V6]) + first_send()
      + bytes([RECVFROM, 0, 0, 50]) + ex(RECV_ABC)
      + bytes([POLL, 0, 0]) + ex(INFO_WAITING)
      + bytes([RECVFROM, 0, 0, 50]) + ex(RECV_EMPTY) + bytes([0]) + ex(RING, RECV_ABC)
      + bytes([CLOSE, 0, 0]) + ex(OK))
write("engine", "recv-timeout-then-raw-1500", bytes([RAW_RECV, 0])
      + bytes([OPEN, 0])
      + bytes([CONNECT, 0, 0, PEER_V4]) + ex(OK) + ex(OK) + ex(OK)
      + bytes([RECVFROM, 0, 0, 5]) + ex(RECV_EMPTY) + (bytes([0]) + ex(RECV_EMPTY)) * 4
      + bytes([RECVFROM, 0, 0, 50]) + ex(RECV_1500))
write("engine", "combined-send-refused-then-retried", bytes([COMBINED, 0])
      + bytes([OPEN, 0])
      + bytes([SENDTO, 0, 0, 40, PEER_V6]) + ex(OK) + ex(OK) + ex(OK) + ex(CME)
      + ex(OK) + ex(OK) + ex(OK) + ex(OK) + ex(OK))
write("engine", "reset-closes-open-slots", bytes([STOCK, 0])
      + bytes([OPEN, 0, OPEN, 0])
      + bytes([RESET, 0]) + ex(OK) + ex(STATUS) + ex(OK) + ex(ERROR))
write("engine", "reboot-mid-send", bytes([STOCK, 2])
      + bytes([OPEN, 0])
      + bytes([SENDTO, 0, 0, 10, PEER_V6]) + ex(OK) + ex(OK) + ex(SYSSTART)
      + ex(OK) + ex(OK) + ex(OK) + ex(OK) + ex(PROMPT) + ex(OK)
      + bytes([RECVFROM, 0, 0, 20]) + ex(SQNSH, RECV_EMPTY) + ex(OK) + ex(OK) + ex(RECV_CUT))
# The first bug found (since fixed): a ring, then reads answered with a bare OK, read on past
# the deadline.
write("engine", "ring-then-bare-ok-reads", bytes([STOCK, 0])
      + bytes([OPEN, 0])
      + bytes([SENDTO, 0, 0, 5, PEER_V6]) + first_send()
      + bytes([RECVFROM, 0, 0, 5]) + ex(RING, OK) + (bytes([0]) + ex(OK)) * 4
      + bytes([CLOSE, 0, 0]) + ex(OK))
write("engine", "resolve-modem", bytes([STOCK, 0])
      + bytes([RESOLVE, 0, 0, 1, NO_PEER, 0x12, 0x34]) + ex(LOOKUP))
write("engine", "resolve-fallback", bytes([STOCK, 0])
      + bytes([RESOLVE, 0, 0, 0, PEER_V4, 0x12, 0x34]) + ex(ERROR)
      + ex(OK) + ex(OK) + ex(OK) + ex(OK) + ex(PROMPT) + ex(OK) + ex(DNS_ANSWER) + ex(OK))
write("engine", "abandoned-and-interrupted", bytes([STOCK, 0])
      + bytes([OPEN, 0])
      + bytes([SENDTO, 0x80 | 0x20 | 2, 0, 5, PEER_V6]) + ex(OK) + ex(OK)
      + bytes([SENDTO, 0x40 | 0x10, 0, 5, PEER_V6]) + first_send()
      + bytes([CLOSE, 0x80 | 0, 0]))
write("engine", "seven-sockets-and-stale-handles", bytes([STOCK, 0])
      + bytes([OPEN, 0] * 7)
      + bytes([CLOSE, 0, 2]) + bytes([SENDTO, 0, 2, 5, PEER_V6]) + bytes([POLL, 0, 0xff, 1, 2, 3, 4]))

# --- validators: bytes that may be an address or a host name -----------------------------------
for name, text in [
    ("v4", b"127.0.0.1"), ("v6-loopback", b"::1"), ("v6", b"2001:db8::1"),
    ("v6-longest", b"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"),
    ("modem-quoted", b"\"::ffff:1.2.3.4\""), ("modem-3gpp", b"\"32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.1\""),
    ("host", b"example.com"), ("host-trailing-dot", b"a-b.example.org."), ("host-quote", b"a\"b"),
    ("host-crlf", b"a.com\r\nAT+SQNSH=1"), ("host-directive", b"Pycom_Dummy.x"), ("decimal", b"123456789"),
]:
    write("validators", name, text)


# --- dns: [flags] [host name] NUL [answer]; bit 0 of flags asks AAAA, bits 1-3 count the records
# when the answer's bytes are grafted onto a real response header --------------------------------
def query(qid, name, qtype):
    labels = b"".join(bytes([len(l)]) + l for l in name.split(b"."))
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\x00" + struct.pack(">HH", qtype, 1)


def answer(q, rcode, records):
    return q[:2] + struct.pack(">HHHHH", 0x8180 | rcode, 1, len(records), 0, 0) + q[12:] + b"".join(records)


def record(owner, rtype, rdata):
    return struct.pack(">HHHIH", owner, rtype, 1, 300, len(rdata)) + rdata


V6 = bytes(15) + b"\x01"
q_aaaa = query(0x0001, b"a.test", 28)
write("dns", "aaaa", b"\x01a.test\x00" + answer(q_aaaa, 0, [record(0xC00C, 28, V6)]))
q_a = query(0x0000, b"a.test", 1)
alias_at = len(q_a) + 12  # the CNAME's rdata: right after its record header
write("dns", "cname-then-a", b"\x00a.test\x00" + answer(q_a, 0, [
    record(0xC00C, 5, b"\x05alias\x04test\x00"), record(0xC000 + alias_at, 1, bytes([192, 0, 2, 1]))]))
write("dns", "pointer-loop", b"\x00a.test\x00" + answer(q_a, 0, [record(0xC000 + len(q_a), 1, b"\x01\x02\x03\x04")]))
write("dns", "cname-loop", b"\x00a.test\x00" + answer(q_a, 0, [record(0xC00C, 5, b"\xc0\x0c")]))
write("dns", "no-such-name", b"\x00a.test\x00" + answer(q_a, 3, []))
write("dns", "short", b"\x01x.y\x00\x00")
# Records only, grafted onto the response header: two AAAA records (flags 0b101).
write("dns", "grafted-records", b"\x05a.test\x00" + record(0xC00C, 28, V6) + record(0xC00C, 28, V6[::-1]))
write("dns", "round-trip-long-name", bytes([0x19, 4, 62, 7, 62, 9, 62, 11, 62, 13, 1, 2, 5, 1, 2, 3, 4, 5]))


# --- remote_datagram: [mode: bit 0 raw receive configured, bit 1 the modem sends raw] [datagram]
write("remote_datagram", "hex", bytes([0]) + b"hello")
write("remote_datagram", "raw-in-hex-mode-urc-and-ok", bytes([2]) + b"\r\n+SQNSH: 2\r\n\r\nOK\r\n")
write("remote_datagram", "raw-mode-final-codes", bytes([1]) + b"\r\nERROR\r\n+SYSSTART\r\n> \r\n+CME ERROR: 3\r\n")
write("remote_datagram", "raw-hex-digits", bytes([2]) + b"BEEF")
write("remote_datagram", "1500-bytes", bytes([0]) + bytes(range(256)) * 5 + bytes(220))


# --- tls_store: the fingerprint store's file, as the store writes it and as flash may spoil it
STORE_LINE = b"c 16 7 " + b"0123456789abcdef" * 4 + b"\n"
write("tls_store", "two-lines", STORE_LINE + b"k 19 4294967295 " + b"f" * 64 + b"\r\n")
write("tls_store", "slot-flipped", STORE_LINE.replace(b" 16 ", b" 17 "))
write("tls_store", "not-utf8", STORE_LINE + STORE_LINE.replace(b"c 16", b"c 1\xff"))
write("tls_store", "torn", STORE_LINE + STORE_LINE[:30])
write("tls_store", "duplicates-and-junk", STORE_LINE + STORE_LINE.replace(b" 7 ", b" 9 ") + b"\n\n x 20 1 00\n")
