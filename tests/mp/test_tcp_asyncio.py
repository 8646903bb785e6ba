# Streams under select.poll and asyncio: asyncio.open_connection (StreamReader/StreamWriter
# over the socket) to the CPython echo peers on ::1 and 127.0.0.1, two connections at once,
# and select.poll telling readable only when bytes wait or the stream has ended.
import os
import select
import sys

from mas_testlib import *

sys.modules["socket"] = socket  # asyncio.open_connection imports `socket`
# The unix build here freezes no Python modules: take asyncio from the MicroPython source
# it was built from (the same files a firmware build freezes).
sys.path.append("../../build/micropython-src/extmod")
import asyncio

ECHO4 = ("127.0.0.1", int(os.getenv("TCP_ECHO_PORT4") or 0))
ECHO6 = ("::1", int(os.getenv("TCP_ECHO_PORT6") or 0))
BANNER = ("127.0.0.1", int(os.getenv("TCP_BANNER_PORT4") or 0))
check(ECHO4[1] and ECHO6[1] and BANNER[1], "TCP peers are not set (run through tests/mp/run_mp_tests.py)")


async def talk(peer, tag, lines):
    reader, writer = await asyncio.open_connection(*peer)
    got = []
    for i in range(lines):
        writer.write(b"%s line %d\n" % (tag, i))
        await writer.drain()
        got.append(await reader.readline())
    writer.write(b"x" * 200)
    await writer.drain()
    tail = await reader.readexactly(200)
    writer.close()
    await writer.wait_closed()
    return got, tail


def test_asyncio_streams_two_connections_at_once():
    async def main():
        return await asyncio.gather(talk(ECHO6, b"six", 5), talk(ECHO4, b"four", 5))

    results = asyncio.run(main())
    for (got, tail), tag in zip(results, (b"six", b"four")):
        check(got == [b"%s line %d\n" % (tag, i) for i in range(5)], "lines %r" % got)
        check(tail == b"x" * 200, "readexactly")
    check(socket._slots_in_use() == 0, "both closed")


def test_asyncio_read_until_eof():
    async def main():
        reader, writer = await asyncio.open_connection(*BANNER)
        data = await reader.read(-1)
        writer.close()
        await writer.wait_closed()
        return data

    data = asyncio.run(main())
    check(data.startswith(b"hello from the banner peer\n") and data.endswith(b"no newline at the end"), repr(data))


def test_poll_readable_only_with_data_or_at_the_end():
    s = socket.socket()
    s.settimeout(5)
    s.connect(ECHO4)
    p = select.poll()
    p.register(s, select.POLLIN)
    check(p.poll(50) == [], "nothing to read yet")
    s.sendall(b"wake up")
    ready = p.poll(3000)
    check(len(ready) == 1 and ready[0][1] & select.POLLIN, "readable: %r" % ready)
    check(s.recv(100) == b"wake up", "data")
    p.unregister(s)
    s.close()

    b = socket.socket()
    b.connect(BANNER)
    got = b""
    p = select.poll()
    p.register(b, select.POLLIN)
    while True:
        check(p.poll(3000), "readable until the end")
        piece = b.recv(100)
        if not piece:
            break
        got += piece
    check(got.endswith(b"no newline at the end"), "all of it")
    b.close()


run(globals())
