# select.poll and asyncio on microATsocket sockets (the MP_STREAM_POLL ioctl).
import select
import sys
import time

from mas_testlib import *

try:
    import asyncio
except ImportError:
    # The unix build freezes no Python packages; use asyncio from the MicroPython source tree.
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    sys.path.append(here + "/../../build/micropython-src/extmod")
    import asyncio


# MicroPython's select module does not export it; the stream protocol's value.
POLLNVAL = getattr(select, "POLLNVAL", 0x20)


def test_writable_at_once_without_modem_io():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(echo4())
    p = select.poll()
    p.register(s, select.POLLOUT)
    before = exchanges()
    ready = p.poll(0)
    check(len(ready) == 1 and ready[0][1] & select.POLLOUT, "writable: %r" % ready)
    check(exchanges() == before, "no modem exchange for POLLOUT")
    s.close()


def test_readable_when_the_echo_waits():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"poll me", echo4())
    p = select.poll()
    p.register(s, select.POLLIN)
    ready = p.poll(3000)
    check(len(ready) == 1 and ready[0][1] & select.POLLIN, "readable: %r" % ready)
    s.settimeout(0)
    check(s.recv(100) == b"poll me", "the datagram poll announced")
    check(p.poll(50) == [], "nothing left")
    s.close()


def test_idle_poll_asks_the_modem_at_most_every_20_ms():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(echo4())
    p = select.poll()
    p.register(s, select.POLLIN)
    before = exchanges()
    start = time.ticks_ms()
    check(p.poll(300) == [], "nothing to read")
    took = time.ticks_diff(time.ticks_ms(), start)
    asked = exchanges() - before
    check(asked <= took // 20 + 2, "%d modem queries in %d ms" % (asked, took))
    s.close()


def test_closed_socket_polls_nval():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    p = select.poll()
    p.register(s, select.POLLIN)
    s.close()
    ready = p.poll(0)
    check(len(ready) == 1 and ready[0][1] & POLLNVAL, "NVAL after close: %r" % ready)


async def echo_client(peer, message):
    family = socket.AF_INET6 if ":" in peer[0] else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setblocking(False)
    s.connect(peer)
    stream = asyncio.StreamReader(s)
    s.send(message)
    reply = await asyncio.wait_for(stream.read(100), 5)
    s.close()
    return reply


async def ticker(counter):
    while True:
        await asyncio.sleep_ms(5)
        counter[0] += 1


async def clients():
    counter = [0]
    tick = asyncio.create_task(ticker(counter))
    peers = echo_peers()
    replies = await asyncio.gather(*[echo_client(p, b"async %d" % i) for i, p in enumerate(peers)])
    tick.cancel()
    return peers, replies, counter[0]


def test_asyncio_clients():
    peers, replies, ticks = asyncio.run(clients())
    check(replies == [b"async %d" % i for i in range(len(peers))], "replies: %r" % replies)
    check(ticks > 0, "the event loop ran other tasks while waiting")
    check(socket._slots_in_use() == 0, "slots freed")


run(globals())
