"""CPython UDP clients on call, for the UDP server tests (tests/mp/test_udp_server.py).

Started by run_mp_tests.py; its port goes into the test's environment as UDP_ASKER_PORT.
A datagram "ask <ip> <port> <hex>" to 127.0.0.1:UDP_ASKER_PORT makes a new CPython UDP
socket (on the loopback of <ip>'s family, its own port) send the bytes once to <ip>:<port>
and wait up to 10 s for one datagram back. The answer is "OK <id> <local port>" at once;
"result <id>" then answers "WAIT", "OK <reply hex> <reply's sender ip> <port>" or "ERR <reason>".
"""

import socket
import threading


class _Asker:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.results = {}
        self.next_id = 1
        threading.Thread(target=self._serve, daemon=True).start()

    def _ask(self, ident, client, host, port, payload):
        try:
            with client:
                client.settimeout(10)
                client.sendto(payload, (host, port))
                reply, sender = client.recvfrom(65536)
            self.results[ident] = "OK %s %s %d" % (reply.hex(), sender[0], sender[1])
        except OSError as e:
            self.results[ident] = "ERR %s" % e

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(65536)
            except OSError:
                return
            words = data.decode(errors="replace").split()
            if len(words) == 4 and words[0] == "ask":
                try:
                    family = socket.AF_INET6 if ":" in words[1] else socket.AF_INET
                    client = socket.socket(family, socket.SOCK_DGRAM)
                    client.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
                    local = client.getsockname()[1]
                    ident = self.next_id
                    self.next_id += 1
                    self.results[ident] = "WAIT"
                    args = (ident, client, words[1], int(words[2]), bytes.fromhex(words[3]))
                    threading.Thread(target=self._ask, args=args, daemon=True).start()
                    reply = "OK %d %d" % (ident, local)
                except (OSError, ValueError) as e:
                    reply = "ERR %s" % e
            elif len(words) == 2 and words[0] == "result":
                reply = self.results.get(int(words[1]), "ERR no such request")
            else:
                reply = "ERR bad request"
            try:
                self.sock.sendto(reply.encode(), peer)
            except OSError:
                pass


def start():
    """Starts the asker; returns (environment additions, list of closers)."""
    asker = _Asker()
    return {"UDP_ASKER_PORT": str(asker.port)}, [asker.sock.close]
