# What each transport costs per datagram, counted on the fake LTE task: items
# it answered (each one a wait), continuation items, 100 ms idle polls, prompt
# races (payload written before the modem's "> " could have come), GC heap.
#
#   send_at_cmd  a send is two calls: AT+SQNSSENDEXT (the "> " answer has no
#                final code: 10 idle polls) and the payload.
#   lteppp       (1.20.2 struct) the command as a continuation item, a pause
#                for the prompt, the payload as continuation items and the
#                last piece as the one answered item: no idle wait.
#   lteppp       (1.18 struct) command, CR and payload as one answered item.
import gc
import time

from mas_testlib import *

PEER = echo6() or echo4()
DATA = bytes(i * 7 & 0xff for i in range(1500))
ITEM = 124  # bytes one queued item carries
SENDEXT = "AT+SQNSSENDEXT=1,%d\r"


def stats_delta(fn):
    before = network._lte_stats()
    fn()
    after = network._lte_stats()
    return {k: after[k] - before[k] for k in after}


def warm_socket():
    s = socket.socket(socket.AF_INET6 if PEER == echo6() else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    echo_once(s, b"dial first", PEER)
    return s


def test_steady_send_costs():
    n = socket.config("max_datagram")
    s = warm_socket()
    d = stats_delta(lambda: s.sendto(DATA[:n], PEER))
    layout = lteppp_layout()
    if layout == 1202:
        check(d["exchanges"] == 1, "one answered item: %r" % d)
        # The command item, then the payload (n raw bytes, 2n hex characters) in 124-byte
        # items, the last one answered.
        text = n if socket.config("raw_send") else 2 * n
        check(d["continuations"] == 1 + (text + ITEM - 1) // ITEM - 1, "continuation items: %r" % d)
        check(d["idle_polls"] == 0, "no idle wait: %r" % d)
        check(d["prompt_races"] == 0, "payload after the prompt: %r" % d)
    elif layout == 118:
        check(d["exchanges"] == 1 and d["continuations"] == 0, "one item: %r" % d)
        check(d["idle_polls"] == 0, "no idle wait: %r" % d)
    else:
        check(d["exchanges"] == 2 and d["continuations"] == 0, "command, then payload: %r" % d)
        check(d["idle_polls"] == 10, "the prompt costs the 1 s idle wait: %r" % d)
        check(d["prompt_races"] == 0, "payload after the prompt: %r" % d)
    check(s.recv(1500) == DATA[:n], "echoed byte for byte")
    s.close()


def test_1500_bytes_each_way_byte_exact():
    if socket.config("max_datagram") < 1500:
        if not can_use_profile(chunking_profile()):
            # A direct build for 1.18's struct: no continuation items.
            check(lteppp_layout() == 118, "only 1.18's struct lacks them")
            return
        use_profile(chunking_profile(), chunking=True)
    s = warm_socket()
    raw = socket.config("raw_recv")
    socket.config(raw_recv=False)
    try:
        for pattern in (DATA, bytes(range(256)) * 5 + bytes(220), bytes(1500)):
            s.sendto(pattern, PEER)
            d = stats_delta(lambda: check(s.recv(1500) == pattern, "echo of 1500 bytes"))
            # The hex answer (3000+ characters) comes in two pieces: the second one by a
            # Pycom_Dummy read, whichever side of send_at_cmd asks for it.
            check(d["exchanges"] >= 2 and d["dummies"] >= 1, "two answer pieces: %r" % d)
    finally:
        socket.config(raw_recv=raw)
    if raw:
        # Raw, the answer (1500 bytes and 29 of header and trailer) is one piece.
        text = bytes(0x20 + i % 95 for i in range(1500))
        s.sendto(text, PEER)
        d = stats_delta(lambda: check(s.recv(1500) == text, "echo of 1500 bytes"))
        check(d["exchanges"] == 1 and d["dummies"] == 0 and d["idle_polls"] == 0, "one piece: %r" % d)
    s.close()


def test_prompt_gap():
    if lteppp_layout() != 1202:
        # Only the direct transport streams a payload behind the prompt.
        raises(ValueError, socket.config, "prompt_gap_ms")
        raises(ValueError, lambda: socket.config(prompt_gap_ms=10))
        return
    check(socket.config("prompt_gap_ms") == 10, "default gap")
    for bad in (-1, 1001):
        raises(ValueError, lambda: socket.config(prompt_gap_ms=bad))
    check(socket.config("prompt_gap_ms") == 10, "unchanged by bad values")
    raises(ValueError, lambda: socket.config(prompt_gap_ms=-1, max_command=124))
    check(socket.config("max_command") == 0, "a bad keyword changes nothing")
    s = warm_socket()
    socket.config(prompt_gap_ms=0)
    d = stats_delta(lambda: s.sendto(DATA[:200], PEER))
    check(d["prompt_races"] == 1, "without the gap the payload overtakes the prompt: %r" % d)
    check(s.recv(1500) == DATA[:200], "the simulator takes early bytes")
    socket.config(prompt_gap_ms=10)
    d = stats_delta(lambda: s.sendto(DATA[:200], PEER))
    check(d["prompt_races"] == 0, "with it, not: %r" % d)
    check(s.recv(1500) == DATA[:200], "echoed")
    s.close()


def test_heap_per_steady_datagram():
    n = socket.config("max_datagram")
    s = warm_socket()
    data = DATA[:n]
    for _ in range(2):
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        s.sendto(data, PEER)
        sent = gc.mem_alloc() - before
        gc.enable()
        time.sleep_ms(20)
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        got = s.recv(1500)
        received = gc.mem_alloc() - before
        gc.enable()
        check(got == data, "echoed")
    if transport() == "lteppp":
        check(sent == 0, "the direct send allocates nothing: %d B" % sent)
        # The datagram itself, and for long answers their pieces joined (freed at the end).
        check(received <= n + 64, "receive allocates the datagram only: %d B" % received)
    else:
        check(sent > 0, "send_at_cmd takes str objects: %d B" % sent)
    s.close()


def test_task_state_is_checked_before_anything_is_queued():
    s = warm_socket()
    lte.deinit()
    try:
        before = modem_bytes_in()
        e = raises(OSError, s.sendto, b"x", PEER)
        check("not initialized" in str(e), "the firmware's message: %r" % (e.args,))
        check(modem_bytes_in() == before, "nothing queued")
    finally:
        lte.init()
    s.close()
    t = warm_socket()
    t.close()
    check(socket._slots_in_use() == 0, "no slot left")


run(globals())
