"""Real TCP peers on loopback for the stream tests (tests/mp/test_tcp_*.py).

Started by run_mp_tests.py beside the UDP echo peers; each peer's port goes
into the test's environment:

    TCP_ECHO_PORT4, TCP_ECHO_PORT6   echo every byte back, many connections at once
    TCP_BANNER_PORT4                 send BANNER, then close (the client sees EOF)
    TCP_SILENT_PORT4                 accept and never send (receive timeouts)
    TCP_CLOSING_PORT4                accept and close at once (connect succeeds, then EOF)
    TCP_REFUSED_PORT4                nobody listens there (refused dials)
    HTTP_PORT6                       CPython HTTP server on ::1: GET /bytes/<n>, POST /echo
    TCP_DIALER_PORT                  a CPython TCP client on call, for listen/accept tests: a UDP
                                     datagram "dial <ip> <port> <hex>" to 127.0.0.1 makes it
                                     connect, send the bytes, read until EOF; "result <id>"
                                     answers "OK <hex>" (or "WAIT", or "ERR <reason>")
    MQTT_PORT                        Debian's mosquitto on 127.0.0.1 and ::1 (when installed)
    MP_LIBS                          folder with the third-party MicroPython client libraries
                                     (umqtt.simple, urequests) fetched by mp_libs.py

Every body the HTTP server sends is PATTERN(n): the tests check bytes exactly.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mp_libs

from tcp_banner import BANNER


def pattern(n):
    """The n bytes every HTTP body and the tests agree on."""
    return bytes((i * 31 + (i >> 8)) & 0xFF for i in range(n))


def _serve_forever(server, handler):
    def loop():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def _listener(family, host):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 0))
    s.listen(16)
    return s


def _echo(conn):
    with conn:
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            conn.sendall(data)


def _banner(conn):
    with conn:
        conn.sendall(BANNER)


def _closing(conn):
    conn.close()


def _silent(conn):
    # Hold the connection open, reading nothing, until the client goes away.
    time.sleep(30)
    conn.close()


class _HttpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def _reply(self, body, ctype="application/octet-stream"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/bytes/"):
            self._reply(pattern(int(self.path[len("/bytes/"):])))
        else:
            self.send_error(404)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path == "/echo":
            self._reply(body)
        else:
            self.send_error(404)


class _HttpServer6(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True


def _start_mosquitto(workdir):
    """mosquitto on an ephemeral port on both loopbacks, with a generated config."""
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    if binary is None:
        return None, None
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    conf = os.path.join(workdir, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("persistence false\nallow_anonymous true\nlog_dest stderr\n")
        f.write("listener %d 127.0.0.1\n" % port)
        f.write("listener %d ::1\n" % port)
    log = open(os.path.join(workdir, "mosquitto.log"), "w")
    proc = subprocess.Popen([binary, "-c", conf], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None:
                return None, None
            time.sleep(0.05)

    def stop():
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

    return port, stop


class _Dialer:
    """CPython TCP clients on call (see the module doc)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.results = {}
        self.next_id = 1
        threading.Thread(target=self._serve, daemon=True).start()

    def _dial(self, ident, host, port, payload):
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    conn = socket.create_connection((host, port), timeout=10)
                    break
                except ConnectionRefusedError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            with conn:
                conn.sendall(payload)
                got = b""
                while True:
                    piece = conn.recv(65536)
                    if not piece:
                        break
                    got += piece
            self.results[ident] = "OK " + got.hex()
        except OSError as e:
            self.results[ident] = "ERR %s" % e

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(65536)
            except OSError:
                return
            words = data.decode(errors="replace").split()
            if len(words) == 4 and words[0] == "dial":
                ident = self.next_id
                self.next_id += 1
                self.results[ident] = "WAIT"
                args = (ident, words[1], int(words[2]), bytes.fromhex(words[3]))
                threading.Thread(target=self._dial, args=args, daemon=True).start()
                reply = "OK %d" % ident
            elif len(words) == 2 and words[0] == "result":
                reply = self.results.get(int(words[1]), "ERR no such dial")
            else:
                reply = "ERR bad request"
            self.sock.sendto(reply.encode(), peer)


def start():
    """Starts every peer; returns (environment additions, list of closers)."""
    env = {}
    closers = []
    for key, family, host, handler in (
        ("TCP_ECHO_PORT4", socket.AF_INET, "127.0.0.1", _echo),
        ("TCP_ECHO_PORT6", socket.AF_INET6, "::1", _echo),
        ("TCP_BANNER_PORT4", socket.AF_INET, "127.0.0.1", _banner),
        ("TCP_SILENT_PORT4", socket.AF_INET, "127.0.0.1", _silent),
        ("TCP_CLOSING_PORT4", socket.AF_INET, "127.0.0.1", _closing),
    ):
        try:
            server = _listener(family, host)
        except OSError:
            continue
        _serve_forever(server, handler)
        env[key] = str(server.getsockname()[1])
        closers.append(server.close)
    refused = _listener(socket.AF_INET, "127.0.0.1")
    env["TCP_REFUSED_PORT4"] = str(refused.getsockname()[1])
    refused.close()
    dialer = _Dialer()
    env["TCP_DIALER_PORT"] = str(dialer.port)
    closers.append(dialer.sock.close)
    try:
        http = _HttpServer6(("::1", 0), _HttpHandler)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        env["HTTP_PORT6"] = str(http.server_address[1])
        closers.append(http.shutdown)
    except OSError:
        pass
    workdir = tempfile.mkdtemp(prefix="tcp-peers-")
    port, stop = _start_mosquitto(workdir)
    if port:
        env["MQTT_PORT"] = str(port)
        closers.append(stop)
    libs = mp_libs.ensure()
    if libs:
        env["MP_LIBS"] = libs
    closers.append(lambda: shutil.rmtree(workdir, ignore_errors=True))
    return env, closers
