# A UDP request/response client under asyncio: the socket is polled through
# the modem while other tasks keep running.
#
# Edit the peer below: a UDP echo server (IPv4 or IPv6 literal). Copy lte_board.py too.
import time

from lte_board import attached_lte, fail, setting
import microATsocket as socket

try:
    import asyncio
except ImportError:
    import uasyncio as asyncio

PEER_HOST = setting("PEER_HOST", "2001:db8::7")  # your UDP echo server
PEER_PORT = setting("PEER_PORT", 7)
REQUESTS = 3


async def heartbeat(beats):
    while True:
        await asyncio.sleep_ms(50)
        beats[0] += 1


async def client():
    family, _, _, _, peer = socket.getaddrinfo(PEER_HOST, PEER_PORT)[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.connect(peer)
    stream = asyncio.StreamReader(sock)  # reads wait on select.poll, not on the modem
    beats = [0]
    beat_task = asyncio.create_task(heartbeat(beats))
    for i in range(REQUESTS):
        request = b"request %d" % i
        start = time.ticks_ms()
        sock.send(request)
        reply = await asyncio.wait_for(stream.read(512), 10)
        print("%r -> %r in %d ms" % (request, reply, time.ticks_diff(time.ticks_ms(), start)))
    beat_task.cancel()
    sock.close()
    print("the heartbeat task ran %d times meanwhile" % beats[0])


socket.set_modem(attached_lte())
try:
    asyncio.run(client())
except asyncio.TimeoutError as e:
    fail("no echo from %s, port %d within 10 s" % (PEER_HOST, PEER_PORT), repr(e),
         "check that a UDP echo server runs there (PEER_HOST, PEER_PORT in this file); run again")
except OSError as e:
    fail("echo with %s, port %d" % (PEER_HOST, PEER_PORT), e,
         "see the message above; lte.isattached() must be True")
