"""DNS servers on loopback for the name-resolution tests.

RecordServer runs dnsmasq (Debian's dnsmasq-base) on 127.0.0.1 and ::1 with fixed records
in the zone "test", answering NXDOMAIN for other names there. HostileServer is a UDP server
whose answers are wrong on purpose, chosen by the first label of the question:
  trunc    an answer with the TC bit (truncated)
  wrongid  the right answer with the wrong query ID (never ours)
  loop     an answer record whose owner name is a compression pointer to itself
  short    five bytes
"""

import os
import shutil
import socket
import struct
import subprocess
import threading
import time

# 63 + 1 + 63 + 1 + 63 + 1 + 56 + 5 = 253 characters.
LONG_NAME = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 56 + ".test"
RECORDS = [
    "--host-record=both.test,192.0.2.10,2001:db8::10",
    "--host-record=v4only.test,192.0.2.4",
    "--host-record=v6only.test,2001:db8::6",
    "--host-record=many.test,2001:db8::21",
    "--host-record=many.test,2001:db8::22",
    "--cname=alias.test,both.test",
    # The UDP echo peers by name: IPv6 only, IPv4 only, both.
    "--host-record=echo6.test,::1",
    "--host-record=echo4.test,127.0.0.1",
    "--host-record=echo46.test,127.0.0.1,::1",
    # A legal 253-character name: longer than a stock AT command can carry.
    "--host-record=%s,2001:db8::253" % LONG_NAME,
    # The IPv6 loopback by name, for clients that cannot take a bracketed address (urequests).
    "--host-record=loop6.test,::1",
]


def free_udp_port():
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


class RecordServer:
    def __init__(self):
        binary = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        if not os.path.exists(binary):
            raise RuntimeError("dnsmasq not found (Debian package dnsmasq-base)")
        self.port = free_udp_port()
        cmd = [binary, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
               "--bind-interfaces", "--listen-address=127.0.0.1,::1", "--port=%d" % self.port,
               "--local=/test/", "--local-ttl=120", "--pid-file=", "--user=root", "--log-facility=-"] + RECORDS
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_ready()

    def _wait_ready(self):
        query = build_query(1, "both.test", 1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dnsmasq exited with %s" % self.proc.returncode)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.2)
                try:
                    s.sendto(query, ("127.0.0.1", self.port))
                    s.recvfrom(512)
                    return
                except OSError:
                    time.sleep(0.1)
        raise RuntimeError("dnsmasq did not answer")

    def close(self):
        self.proc.terminate()
        self.proc.wait()


def build_query(qid, name, qtype):
    out = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00" + struct.pack(">HH", qtype, 1)


def question_end(msg):
    at = 12
    while msg[at]:
        at += 1 + msg[at]
    return at + 5


class HostileServer:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.sock.bind(("::1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                query, peer = self.sock.recvfrom(512)
            except OSError:
                return
            label = query[13:13 + query[12]].decode(errors="replace")
            end = question_end(query)
            header = bytearray(query[:end])
            header[2:4] = b"\x81\x80"
            header[6:8] = b"\x00\x01"
            a_record = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x63"
            if label == "trunc":
                header[2:4] = b"\x83\x80"
                answer = bytes(header)
            elif label == "wrongid":
                header[0] ^= 0xFF
                answer = bytes(header) + a_record
            elif label == "loop":
                pointer = struct.pack(">H", 0xC000 | len(header))
                answer = bytes(header) + pointer + a_record[2:]
            else:
                answer = bytes(header[:5])
            self.sock.sendto(answer, peer)

    def close(self):
        self.sock.close()


def start():
    """Starts both servers; returns (env additions, closers)."""
    records = RecordServer()
    hostile = HostileServer()
    env = {"DNS_PORT": str(records.port), "BAD_DNS_PORT": str(hostile.port)}
    return env, [records.close, hostile.close]
