# The examples run unmodified against the echo peers: PEER_HOST/PEER_PORT in
# the environment replace the peer a user would edit. (examples/run_demo.py
# also runs coap_get.py and ntp_time.py against their own servers.)
import sys

from mas_testlib import *

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
# The unix build freezes no packages: asyncio comes from the MicroPython source tree.
sys.path.append(HERE + "/../../build/micropython-src/extmod")


def test_ipv6_echo_example():
    peer = echo6() or echo4()
    run_example("ipv6_echo.py", PEER_HOST=peer[0], PEER_PORT=peer[1])


def test_asyncio_client_example():
    for peer in echo_peers():
        run_example("asyncio_client.py", PEER_HOST=peer[0], PEER_PORT=peer[1])


run(globals())
