# The engine lock is fair: while one thread blocks in recv() (run as 200 ms slices), another
# thread's operation gets the modem at the next slice boundary, not when the receive ends.
# Counted in modem exchanges made by the receiver while the other thread waited.
import time

from mas_testlib import *

try:
    import _thread
except ImportError:
    _thread = None

# Reads an idle receive makes in one 200 ms slice (100 ms pauses by then), and the one that
# may be under way when the other thread asks.
MOST_READS_WAITED = 3


def blocking_receiver(sock, done):
    try:
        sock.recv(64)
    except OSError:
        pass
    done.append(True)


def test_a_sender_waits_at_most_one_receive_slice():
    if _thread is None:
        print("note: no _thread in this build")
        return
    peer = echo4()
    quiet = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    quiet.connect(peer)  # dialled; nothing will come
    quiet.settimeout(3)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.sendto(b"warm", peer)
    sender.recvfrom(64)
    own = exchanges()
    sender.sendto(b"alone", peer)
    own = exchanges() - own  # the send's own exchanges, with nobody else about
    done = []
    _thread.start_new_thread(blocking_receiver, (quiet, done))
    time.sleep_ms(300)
    waited = []
    for i in range(5):
        before = exchanges()
        sender.sendto(b"while blocked %d" % i, peer)
        waited.append(exchanges() - before - own)
        time.sleep_ms(137)
    while not done:
        time.sleep_ms(50)
    print("receiver exchanges waited:", waited)
    check(max(waited) <= MOST_READS_WAITED, "the sender waited for %r receiver exchanges" % waited)
    quiet.close()
    sender.close()


run(globals())
