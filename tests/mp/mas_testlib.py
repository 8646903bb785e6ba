# Shared helpers for the microATsocket tests (tests/mp/test_socket_*.py).
# Run through tests/mp/run_mp_tests.py: it starts the Monarch simulator, the
# UDP echo peers (ECHO_PORT4 on 127.0.0.1, ECHO_PORT6 on ::1) and sets the
# fake network.LTE up to talk to the simulator.
import gc
import os
import sys

import network
import microATsocket as socket

# Linux errno numbers (MicroPython's errno module lacks some of them).
EIO = 5
EBADF = 9
EACCES = 13
EINVAL = 22
EAGAIN = 11
ENOMEM = 12
ENODEV = 19
EMSGSIZE = 90
EOPNOTSUPP = 95
EAFNOSUPPORT = 97
ENOTCONN = 107
ETIMEDOUT = 110

# The board's /flash (where ssl's default store lives), mapped to a folder of this test run.
if os.getenv("MICROATSOCKET_FLASH"):
    try:
        os.mount(os.VfsPosix(os.getenv("MICROATSOCKET_FLASH")), "/flash")
    except OSError:
        pass  # already mounted

# The firmware profile the runner chose (or the fake's default).
STARTING_PROFILE = network._lte_profile()

# One LTE object for the whole script, as on a board.
lte = network.LTE()


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def raises(exc_type, fn, *args, errno=None):
    """Calls fn(*args); it must raise exc_type (with errno, if given). Returns the exception."""
    try:
        fn(*args)
    except exc_type as e:
        if errno is not None:
            check(e.errno == errno, "%s: errno %r, expected %d" % (fn, e.errno, errno))
        return e
    raise AssertionError("%r%r did not raise %s" % (fn, args, exc_type.__name__))


def echo4():
    port = os.getenv("ECHO_PORT4")
    check(port, "ECHO_PORT4 is not set (run through tests/mp/run_mp_tests.py)")
    return ("127.0.0.1", int(port))


def echo6():
    """The ::1 echo peer, or None when the host has no IPv6 loopback."""
    port = os.getenv("ECHO_PORT6")
    return ("::1", int(port)) if port else None


def echo_peers():
    return [p for p in (echo4(), echo6()) if p]


def lteppp_layout():
    """The command-struct layout a direct (lteppp) build was compiled for; None on send_at_cmd builds."""
    return socket.config("lteppp_layout") if transport() == "lteppp" else None


# A direct build queues items in the struct layout it was compiled for, so it
# runs only on firmware releases with that layout (as on a board, where module
# and firmware are built together).
PROFILES_OF_LAYOUT = {118: ("1.18",), 1201: ("1.20.1",), 1202: ("1.20.2", "release-v1.20", "pr429")}

# Firmware whose send_at_cmd splits long commands into continuation items.
CHUNKING_PROFILES = ("release-v1.20", "pr429")


def chunking_profile():
    """The profile a test needing send_at_cmd chunking switches to: the one it runs on, if that
    one chunks (so each chunking firmware is exercised in its own run), else PR 429's head."""
    return STARTING_PROFILE if STARTING_PROFILE in CHUNKING_PROFILES else "pr429"


def can_use_profile(profile):
    layout = lteppp_layout()
    return layout is None or profile in PROFILES_OF_LAYOUT[layout]


def use_profile(profile, chunking=None):
    """Switches the fake firmware and tells the module (same LTE object: no reset sweep)."""
    check(can_use_profile(profile), "firmware %s needs a build for its command struct" % profile)
    network._lte_profile(profile)
    socket.set_modem(lte, chunking=bool(chunking))


def restore_profile():
    network._lte_profile(STARTING_PROFILE)
    socket.set_modem(lte, chunking=False)


def exchanges():
    """send_at_cmd calls the fake LTE has performed (commands, payloads, dummies)."""
    return network._lte_stats()["exchanges"]


def transport():
    """Which transport the module was built with: "send_at_cmd" or "lteppp"."""
    return socket.config("transport")


def modem_bytes_in():
    """Bytes the simulator has received on its UART: the transport-neutral "nothing reached the modem"."""
    return sim_stats()["uart_in"]


def sim_stats():
    """The simulator's counters, e.g. {'commands': 12, 'open_slots': 0}."""
    reply = network._sim("stats")
    check(reply.startswith("OK"), "sim stats: %r" % reply)
    out = {}
    for field in reply.split()[1:]:
        if "=" in field:
            key, value = field.split("=", 1)
            try:
                out[key] = int(value)
            except ValueError:
                out[key] = value
    return out


def run_example(name, **settings):
    """Runs examples/<name> unmodified, as a board would run it, with `settings` as the
    environment its lte_board.setting() reads (the peer a user would edit), and checks it
    closed every socket it opened."""
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    examples = here + "/../../examples"
    if examples not in sys.path:
        sys.path.append(examples)  # for its lte_board.py
    for key, value in settings.items():
        os.putenv(key, str(value))
    with open(examples + "/" + name) as f:
        source = f.read()
    exec(source, {"__name__": "__main__"})
    check(socket._slots_in_use() == 0, "%s closed its sockets" % name)


def trace_check_dir():
    """build/traces/ of this checkout (made if missing): where tests leave traces for the
    replay check of `make test` (mk/trace.mk)."""
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    folder = here + "/../../build/traces"
    try:
        os.mkdir(folder)
    except OSError:
        pass  # there already
    return folder


def free_port(index):
    """A port free on the host's loopbacks when this script started (the runner's FREE_PORTS):
    for a modem-side listener or bound socket, which the simulator opens on the host."""
    ports = os.getenv("FREE_PORTS")
    check(ports, "FREE_PORTS is not set (run through tests/mp/run_mp_tests.py)")
    return int(ports.split(",")[index])


def echo_once(sock, data, peer, bufsize=1500):
    """sendto, then recvfrom; checks the echo and that it came from `peer`."""
    sent = sock.sendto(data, peer)
    check(sent == len(data), "sendto returned %r for %d bytes" % (sent, len(data)))
    got, sender = sock.recvfrom(bufsize)
    check(got == data, "echo of %d bytes came back as %d bytes" % (len(data), len(got)))
    check(sender == peer, "sender %r, expected %r" % (sender, peer))
    return got


# Settings a test may change; run() puts them back after each test.
_SETTINGS = ("max_command", "combined_send", "pdp_cid") + (("prompt_gap_ms",) if lteppp_layout() == 1202 else ())


def run(namespace):
    """Runs every test_* function of the calling script; prints OK last when all pass."""
    socket.set_modem(lte)
    settings = {name: socket.config(name) for name in _SETTINGS}
    tests = sorted((name, fn) for name, fn in namespace.items() if name.startswith("test_"))
    failures = 0
    for name, fn in tests:
        try:
            fn()
            print(name, "ok")
        except Exception as e:
            failures += 1
            print(name, "FAILED")
            sys.print_exception(e)
        finally:
            if network._lte_profile() != STARTING_PROFILE:
                restore_profile()
            socket.config(**settings)
            # Sockets a failed test left open must not fail the next one.
            gc.collect()
            socket._slots_in_use()
    if failures:
        print("%d of %d failed" % (failures, len(tests)))
        sys.exit(1)
    print("OK")
