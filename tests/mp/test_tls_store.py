# The fingerprint store: a cache of what the modem's four credential slots hold, never trusted
# over the modem. Least-recently-used eviction, one slot per credential when threads wrap at
# once, a store that disagrees with the modem (a flipped slot number, a byte that is not
# UTF-8), and the default store on /flash.
import os
import time

from mas_testlib import *

try:
    import _thread
except ImportError:
    _thread = None

MQTTS_PORT = int(os.getenv("MQTTS_PORT") or 0)
TLS = os.getenv("TLS_DIR")
check(MQTTS_PORT and TLS, "MQTTS_PORT/TLS_DIR are not set")

ssl = socket.ssl
CA = TLS + "/ca.pem"
OTHER_CA = TLS + "/other-ca.pem"
ECONNABORTED = 103
# Read before any test sets another.
DEFAULT_STORE = ssl.store()


def read(path):
    with open(path) as f:
        return f.read()


def connected():
    s = socket.socket()
    s.settimeout(20)
    s.connect(socket.getaddrinfo("::1", MQTTS_PORT)[0][-1])
    return s


def wrap(ca):
    s = ssl.wrap_socket(connected(), cert_reqs=ssl.CERT_REQUIRED, ca_certs=ca)
    s.close()


def wrap_result(ca):
    try:
        wrap(ca)
        return 0
    except OSError as e:
        return e.args[0]


def writes():
    return sim_stats()["nvm_writes"]


def test_eviction_is_least_recently_used():
    ssl.store(TLS + "/store-lru.txt")
    ssl.forget()
    other = read(OTHER_CA)
    good = read(CA)
    # Four CAs fill the slots (each bundle holds the good CA, so every dial succeeds).
    for n in range(4):
        wrap((good + other * (n + 1)).encode())
    x, y = (good + other * 5).encode(), (good + other * 6).encode()
    w0 = writes()
    wrap(x)
    wrap(y)
    check(writes() == w0 + 2, "two new CAs written: %d" % (writes() - w0))
    w0 = writes()
    for _ in range(3):
        wrap(x)
        wrap(y)
    check(writes() == w0, "two CAs used in turn are written once: %d more writes" % (writes() - w0))


def test_threads_wrapping_new_cas_at_once_get_their_own_slots():
    if _thread is None:
        print("note: no _thread in this build")
        return
    ssl.store(TLS + "/store-threads.txt")
    bad_rounds = []
    for round_ in range(6):
        ssl.forget()
        results = {}

        def worker(name, ca):
            results[name] = wrap_result(ca)

        _thread.start_new_thread(worker, ("good", CA))
        _thread.start_new_thread(worker, ("other", OTHER_CA))
        for _ in range(6000):
            if len(results) == 2:
                break
            time.sleep_ms(10)
        check(len(results) == 2, "both wraps finished: %r" % results)
        if results != {"good": 0, "other": ECONNABORTED}:
            bad_rounds.append(results)
    check(not bad_rounds, "each connection verified against its own CA: %r" % bad_rounds)


def swap_slots(path, a, b):
    lines = read(path).split("\n")
    out = []
    for line in lines:
        f = line.split(" ")
        if len(f) == 4 and f[1] in (str(a), str(b)):
            f[1] = str(b) if f[1] == str(a) else str(a)
        out.append(" ".join(f))
    with open(path, "w") as f:
        f.write("\n".join(out))


def test_a_store_that_disagrees_with_the_modem_is_corrected():
    path = TLS + "/store-flipped.txt"
    ssl.store(path)
    ssl.forget()
    wrap(CA)
    check(wrap_result(OTHER_CA) == ECONNABORTED, "the other CA fails")
    swap_slots(path, 16, 17)
    ssl.store(path)  # read again, as after a restart
    w0 = writes()
    check(wrap_result(CA) == 0, "the good CA works although the store named the other's slot")
    check(writes() == w0 + 1, "the CA was written again once: %d" % (writes() - w0))
    ssl.store(path)
    w0 = writes()
    wrap(CA)
    check(writes() == w0, "and the corrected store is kept")


def test_a_bad_line_costs_only_its_own_fingerprint():
    path = TLS + "/store-bad-byte.txt"
    ssl.store(path)
    ssl.forget()
    wrap(CA)
    check(wrap_result(OTHER_CA) == ECONNABORTED, "the other CA fails")
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    check(len([l for l in lines if l]) == 2, "two fingerprints: %r" % lines)
    # Spoil the other CA's line with a byte that is not UTF-8.
    i = [n for n, l in enumerate(lines) if b" 17 " in l][0]
    lines[i] = lines[i][:10] + b"\xff" + lines[i][11:]
    with open(path, "wb") as f:
        f.write(b"\n".join(lines))
    ssl.store(path)
    w0 = writes()
    wrap(CA)
    check(writes() == w0, "the good CA's line still counts: %d writes" % (writes() - w0))


def test_the_default_store_is_on_flash():
    path = DEFAULT_STORE
    check(path == "/flash/microATsocket_tls.txt", "default path %r" % path)
    try:
        ssl.store(path)
        ssl.forget()
        wrap(CA)
        text = read(path)
        check(text.count("\n") == 1 and text.startswith("c 16 "), "the default store holds the CA: %r" % text)
    finally:
        ssl.store(TLS + "/fingerprints.txt")


run(globals())
