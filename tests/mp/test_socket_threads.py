# Several threads use the module at once: operations are serialised on the
# one modem, blocking receives leave room for other threads' sends, and every
# thread gets its own datagrams back.
import time

from mas_testlib import *

try:
    import _thread
except ImportError:
    _thread = None

THREADS = 3
ROUNDS = 5


def worker(index, peer, results, errors):
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.settimeout(10)
        for i in range(ROUNDS):
            message = b"thread %d round %d" % (index, i)
            s.sendto(message, peer)
            data, sender = s.recvfrom(100)
            if data != message or sender != peer:
                errors.append((index, i, data, sender))
            results.append(message)
        s.close()
    except Exception as e:
        errors.append((index, e))


def test_threads_share_the_modem():
    if _thread is None:
        print("note: no _thread in this build")
        return
    results, errors = [], []
    peers = echo_peers()
    for index in range(THREADS):
        _thread.start_new_thread(worker, (index, peers[index % len(peers)], results, errors))
    deadline = time.ticks_add(time.ticks_ms(), 30000)
    while len(results) + len(errors) < THREADS * ROUNDS and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        if errors:
            break
        time.sleep_ms(20)
    check(not errors, "errors: %r" % errors)
    check(len(results) == THREADS * ROUNDS, "%d of %d echoes" % (len(results), THREADS * ROUNDS))
    check(socket._slots_in_use() == 0, "slots freed")


def blocked_receiver(s, got):
    try:
        got.append(s.recv(100))
    except Exception as e:
        got.append(e)


def test_blocking_receive_does_not_starve_a_sender():
    if _thread is None:
        return
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.settimeout(None)
    listener.connect(echo4())
    got = []
    _thread.start_new_thread(blocked_receiver, (listener, got))
    time.sleep_ms(100)
    # While the other thread blocks in recv, this one sends (with the same
    # socket's peer, so the echo lands on the listener).
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.settimeout(5)
    echo_once(sender, b"meanwhile", echo4())
    listener.send(b"wake up")
    for _ in range(300):
        if got:
            break
        time.sleep_ms(20)
    check(got == [b"wake up"], "the blocked receiver got its datagram: %r" % got)
    sender.close()
    listener.close()


run(globals())
