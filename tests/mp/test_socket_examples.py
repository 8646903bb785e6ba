# The examples run unmodified against the echo peers: PEER_HOST/PEER_PORT in
# the environment replace the peer a user would edit. (examples/run_demo.py
# also runs coap_get.py and ntp_time.py against their own servers.)
import os
import sys

from mas_testlib import *

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
EXAMPLES = HERE + "/../../examples/"
# The unix build freezes no packages: asyncio comes from the MicroPython source tree.
sys.path.append(HERE + "/../../build/micropython-src/extmod")
sys.path.append(EXAMPLES)  # their lte_board.py


def run_example(name, peer):
    os.putenv("PEER_HOST", peer[0])
    os.putenv("PEER_PORT", str(peer[1]))
    with open(EXAMPLES + name) as f:
        source = f.read()
    exec(source, {"__name__": "__main__"})
    check(socket._slots_in_use() == 0, "%s closed its socket" % name)


def test_ipv6_echo_example():
    run_example("ipv6_echo.py", echo6() or echo4())


def test_asyncio_client_example():
    for peer in echo_peers():
        run_example("asyncio_client.py", peer)


run(globals())
