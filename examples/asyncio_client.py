# A UDP request/response client under asyncio: the socket is polled through
# the modem while other tasks keep running.
#
# Edit the peer below: a UDP echo server (IPv4 or IPv6 literal).
import time

from network import LTE
import microATsocket as socket

try:
    import asyncio
except ImportError:
    import uasyncio as asyncio

PEER_HOST = "2001:db8::7"  # your UDP echo server
PEER_PORT = 7
REQUESTS = 3
ATTACH_TIMEOUT_S = 120

try:
    import os

    PEER_HOST = os.getenv("PEER_HOST") or PEER_HOST
    PEER_PORT = int(os.getenv("PEER_PORT") or PEER_PORT)
except (ImportError, AttributeError):
    pass


def attached_lte():
    lte = LTE()
    if not lte.isattached():
        lte.attach()
        waited = 0
        while not lte.isattached():
            if waited > ATTACH_TIMEOUT_S * 1000:
                raise OSError("LTE did not attach")
            time.sleep_ms(200)
            waited += 200
    return lte


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
asyncio.run(client())
