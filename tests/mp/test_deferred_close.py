# The finaliser's deferred closes are never lost: sockets of earlier modems (stale handles) are
# dropped together with live ones, more of them than there are modem sockets, and every live
# slot is still freed by the next operation.
import gc

from mas_testlib import *


class OtherModem:
    """Another LTE object (set_modem with it schedules a reset sweep)."""

    def __init__(self, lte):
        self.lte = lte

    def send_at_cmd(self, *args, **kwargs):
        # Passed on as given: the module calls with the timeout form this profile's firmware takes.
        return self.lte.send_at_cmd(*args, **kwargs)


def make_six():
    return [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(6)]


def test_stale_and_live_handles_dropped_together_free_every_slot():
    held = [make_six()]
    socket.set_modem(OtherModem(lte))
    held.append(make_six())  # the sweep made the first six stale
    socket.set_modem(lte)
    held.append(make_six())  # and these six
    check(socket._slots_in_use() == 6, "six live sockets")
    # 18 finalisers: 12 stale handles, 6 live ones, in whatever order the collector runs them.
    held = None
    gc.collect()
    check(socket._slots_in_use() == 0, "slots still in use: %d" % socket._slots_in_use())
    more = make_six()
    for s in more:
        s.close()


def drop_generations(n):
    # Made here, so no reference stays in the caller's frame when this returns.
    kept = []
    for i in range(n):
        kept.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        socket.set_modem(OtherModem(lte) if i % 2 == 0 else lte)
    socket.set_modem(lte)
    kept.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))


def test_many_generations_of_one_slot_dropped_together():
    # The same slot taken again and again by sockets never closed, a modem switch between
    # each: only the newest holds the slot, the older ones are stale.
    drop_generations(20)
    gc.collect()
    check(socket._slots_in_use() == 0, "slots still in use: %d" % socket._slots_in_use())


run(globals())
