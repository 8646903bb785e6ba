# Slots are never leaked: 1000 open/sendto/close cycles, sockets dropped
# without close (the finaliser), a seventh socket, and the reset sweep that
# closes what the modem still has open when a modem is set.
import gc

from mas_testlib import *


def test_1000_cycles_leak_nothing():
    peer = echo4()
    for i in range(1000):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"cycle %d" % i, peer)
        s.close()
        if i % 250 == 0:
            check(socket._slots_in_use() == 0, "slot leaked at cycle %d" % i)
    check(socket._slots_in_use() == 0, "module slots")
    check(sim_stats()["open_slots"] == 0, "modem slots: %r" % sim_stats())


def test_seventh_socket_is_refused_without_modem_io():
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(6)]
    before = exchanges()
    e = raises(OSError, socket.socket, errno=ENOMEM)
    check("in use" in str(e), "says why: %r" % e)
    check(exchanges() == before, "nothing sent")
    socks[3].close()
    socks[3] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in socks:
        s.close()
    check(socket._slots_in_use() == 0, "all freed")


def test_close_is_idempotent():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"x", echo4())
    s.close()
    s.close()
    check(socket._slots_in_use() == 0, "freed once")
    raises(OSError, s.recv, 10, errno=EBADF)


def drop_sockets(n):
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"dropped %d" % i, echo4())


def test_finaliser_frees_dropped_sockets():
    drop_sockets(6)
    gc.collect()
    # The finaliser only queues the close; the next operation performs it.
    check(socket._slots_in_use() == 0, "slots after collect")
    check(sim_stats()["open_slots"] == 0, "modem slots: %r" % sim_stats())


def test_full_pool_collects_garbage_first():
    drop_sockets(6)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # finds the six dropped sockets by collecting
    s.close()
    check(socket._slots_in_use() == 0, "slots")


def test_reset_sweep_closes_leftovers():
    # A slot opened behind the module's back, as a previous run would leave it.
    reply = lte.send_at_cmd('AT+SQNSD=5,1,%d,"127.0.0.1",0,0,1,0' % echo4()[1])
    check("OK" in reply, "dial: %r" % reply)
    check(sim_stats()["open_slots"] == 1, "leftover open")
    socket.set_modem(None)
    socket.set_modem(lte)  # a modem again: swept before the next operation
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    check(sim_stats()["open_slots"] == 0, "swept: %r" % sim_stats())
    s.close()


def test_switching_modems_makes_old_sockets_stale():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    socket.set_modem(None)
    socket.set_modem(lte)
    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raises(OSError, s.sendto, b"x", echo4(), errno=EBADF)
    s.close()
    t.close()
    check(socket._slots_in_use() == 0, "slots")


run(globals())
