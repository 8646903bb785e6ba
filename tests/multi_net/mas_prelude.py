# Run before each MicroPython multi_net test script (instance_*.sh): asyncio from the source
# tree (the unix build freezes no packages), and for the board, microATsocket as `socket`.
import os
import sys

sys.path.append(os.getenv("MAS_MULTI_NET_EXTMOD"))


def as_board():
    import network
    import microATsocket

    microATsocket.set_modem(network.LTE())
    sys.modules["socket"] = microATsocket


def as_peer():
    pass
