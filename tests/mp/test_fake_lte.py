# Tests of the fake Pycom network.LTE itself, against the Monarch simulator.
# They pin down the firmware behaviour microATsocket has to live with: the
# flush before each command, Pycom_Dummy reads, the idle wait, 2048-byte
# answer pieces, the 124-byte limit and PR 429 chunking, and the data state.
import binascii
import os
import sys
import time

import network

STOCK = "1.20.2"
OK = "\r\nOK\r\n"
STARTING_PROFILE = network._lte_profile()


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def without_rings(answer):
    """The answer without +SQNSRING lines: the echo's ring may come before or after the OK,
    as a datagram can arrive while the modem still sends the answer."""
    if not answer.endswith("\r\n"):
        return answer  # a cut answer is never OK
    return "".join(line + "\r\n" for line in answer.split("\r\n")[:-1]
                   if not line.startswith("+SQNSRING:")).replace("\r\n\r\n", "\r\n")


def stats():
    return network._lte_stats()


def lte_for(profile):
    network._lte_profile(profile)
    return network.LTE()


def echo_port4():
    port = os.getenv("ECHO_PORT4")
    check(port, "ECHO_PORT4 is not set (run through tests/mp/run_mp_tests.py)")
    return int(port)


def dial_echo(lte, slot):
    """Hex mode both ways, srMode 1, UDP to the IPv4 echo peer, command mode."""
    r = lte.send_at_cmd("AT+SQNSCFGEXT=%d,1,1,0,0,1" % slot)
    check(r.endswith(OK), "SQNSCFGEXT: %r" % r)
    r = lte.send_at_cmd('AT+SQNSD=%d,1,%d,"127.0.0.1",0,0,1' % (slot, echo_port4()))
    check(r.endswith(OK), "SQNSD: %r" % r)


def hang_up(lte, slot):
    lte.send_at_cmd("AT+SQNSH=%d" % slot)


def recv_hex(lte, slot, want_bytes, tries=100):
    """Polls SQNSRECV until `want_bytes` bytes came; returns them."""
    got = b""
    header = "+SQNSRECV: %d," % slot
    for _ in range(tries):
        r = lte.send_at_cmd("AT+SQNSRECV=%d,1500" % slot)
        at = r.find(header)
        if at >= 0:
            start = r.find("\r\n", at) + 2
            end = r.find("\r\n", start)
            got += binascii.unhexlify(r[start:end])
            if len(got) >= want_bytes:
                return got
        time.sleep_ms(20)
    raise AssertionError("no echo after %d polls (got %d bytes)" % (tries, len(got)))


def test_at_ok():
    lte = lte_for(STOCK)
    check(lte.send_at_cmd("AT") == OK, "AT")
    check(lte.send_at_cmd(b"AT") == OK, "AT as bytes")


def test_sqnss_shape():
    lte = lte_for(STOCK)
    for conn in range(1, 7):
        lte.send_at_cmd("AT+SQNSH=%d" % conn)
    r = lte.send_at_cmd("AT+SQNSS")
    check(r.startswith("\r\n") and r.endswith(OK), "framing: %r" % r)
    lines = [line for line in r.split("\r\n") if line]
    check(lines[-1] == "OK", "final code: %r" % r)
    slots = [line for line in lines if line.startswith("+SQNSS: ")]
    check(len(slots) == 6, "six slots: %r" % r)
    for i, line in enumerate(slots):
        fields = line[len("+SQNSS: "):].split(",")
        check(fields[0] == str(i + 1), "slot order: %r" % line)
        check(fields[1] == "0", "slot closed after reset: %r" % line)


def test_flush_before_command_loses_urc_dummy_keeps_it():
    lte = lte_for(STOCK)
    urc = "+SQNSRING: 1,5"
    lte.send_at_cmd("AT")
    network._lte_reset_stats()
    network._sim("inject urc " + urc)
    time.sleep_ms(50)
    r = lte.send_at_cmd("AT")
    check(r == OK, "the URC is flushed away, not returned: %r" % r)
    check(stats()["flushed_bytes"] >= len(urc), "flush counted: %r" % stats())

    network._sim("inject urc " + urc)
    time.sleep_ms(50)
    network._lte_reset_stats()
    r = lte.send_at_cmd("Pycom_Dummy", timeout=500)
    check(urc in r, "Pycom_Dummy collects the URC: %r" % r)
    s = stats()
    check(s["dummies"] == 1 and s["commands"] == 0 and s["bytes_out"] == 0, "dummy writes nothing: %r" % s)
    check(s["flushed_bytes"] == 0, "dummy does not flush: %r" % s)
    # A bare URC has no final code: the read ends only after the idle wait.
    check(s["idle_polls"] == 10, "idle wait after a bare URC: %r" % s)

    network._lte_reset_stats()
    r = lte.send_at_cmd("Pycom_Dummy", timeout=100)
    check(r == "", "nothing pending: empty answer: %r" % r)
    check(stats()["modelled_us"] >= 100000, "waited the whole timeout: %r" % stats())


def test_idle_wait_in_modelled_clock():
    lte = lte_for(STOCK)
    network._lte_reset_stats()
    check(lte.send_at_cmd("AT") == OK, "AT")
    s = stats()
    check(s["idle_polls"] == 0, "no idle wait after OK: %r" % s)
    check(s["modelled_us"] < 100000, "OK is quick: %r" % s)

    dial_echo(lte, 1)
    network._lte_reset_stats()
    r = lte.send_at_cmd("AT+SQNSSENDEXT=1,2")
    check(r == "\r\n> ", "prompt: %r" % r)
    s = stats()
    check(s["idle_polls"] == 10, "the prompt has no final code: %r" % s)
    check(1000000 <= s["modelled_us"] < 1200000, "about 1 s on the device: %r" % s)
    r = lte.send_at_cmd("abcd")
    check(OK in r, "payload accepted: %r" % r)
    check(recv_hex(lte, 1, 2) == b"\xab\xcd", "echo")
    hang_up(lte, 1)


def test_stock_overlong_commands():
    lte = lte_for(STOCK)
    # 125 bytes: byte 125 lands in the low byte of dataLen. Here it is 2, so
    # only "AT" and the CR go out, and that is answered.
    network._lte_reset_stats()
    r = lte.send_at_cmd("AT" + "X" * 122 + "\x02")
    check(r == OK, "125 bytes send a truncated command: %r" % r)
    check(stats()["bytes_out"] == 3, "dataLen overwritten: %r" % stats())

    # 129+ bytes: expect_continuation is set too; nothing is answered and the
    # previous answer comes back. The LTE task is then stuck writing a
    # corrupted length, so the next command never gets an answer.
    previous = lte.send_at_cmd("AT+SQNSS")
    check("+SQNSS: 6," in previous, "distinct previous answer")
    network._lte_reset_stats()
    r = lte.send_at_cmd("AT+SQNSD=1" + "0" * 190, timeout=300)
    check(r == previous, "the previous answer is returned: %r" % r)
    check(stats()["bytes_out"] == 0 and stats()["commands"] == 0, "nothing sent: %r" % stats())
    try:
        lte.send_at_cmd("AT", timeout=300)
        raise AssertionError("the wedged task answered")
    except OSError as e:
        check(e.args[0] == 110, "ETIMEDOUT for the hang: %r" % (e.args,))
    lte.deinit()
    lte.init()
    check(lte.send_at_cmd("AT") == OK, "deinit/init starts a fresh task")

    # Exactly 128 bytes: the caller waits for an answer that never comes.
    try:
        lte.send_at_cmd("AT" + "X" * 126, timeout=300)
        raise AssertionError("128 bytes answered")
    except OSError as e:
        check(e.args[0] == 110, "128 bytes hang: %r" % (e.args,))
    lte.deinit()
    lte.init()


def test_pr429_chunks_a_1500_byte_hex_payload():
    lte = lte_for("pr429")
    dial_echo(lte, 2)
    payload = bytes((i * 7 + 3) & 0xFF for i in range(1500))
    text = binascii.hexlify(payload).decode()
    r = lte.send_at_cmd("AT+SQNSSENDEXT=2,1500")
    check(r.endswith("> "), "prompt: %r" % r)
    network._lte_reset_stats()
    r = lte.send_at_cmd(text)
    check(without_rings(r) == OK, "3000 hex characters accepted: %r" % r)
    s = stats()
    check(s["continuations"] == 3000 // 124, "full 124-byte chunks as continuations: %r" % s)
    check(s["commands"] == 1 and s["bytes_out"] == 3000 + 1, "remainder ends with one CR: %r" % s)
    check(recv_hex(lte, 2, 1500) == payload, "the echo carries the payload back")
    hang_up(lte, 2)


def test_pr429_signature_and_zero_timeout():
    # PR 429's head: send_at_cmd(cmd, delay=9500), the timeout second, no timeout= keyword.
    lte = lte_for("pr429")
    network._lte_reset_stats()
    check(lte.send_at_cmd("AT", 300) == OK, "timeout as the second positional argument")
    check(stats()["last_timeout_ms"] == 300, "queued with it: %r" % stats())
    check(lte.send_at_cmd("AT", delay=400) == OK, "or as delay=")
    check(stats()["last_timeout_ms"] == 400, "queued with it: %r" % stats())
    for call in (lambda: lte.send_at_cmd("AT", timeout=300), lambda: lte.send_at_cmd()):
        network._lte_reset_stats()
        try:
            call()
            raise AssertionError("PR 429's head has no timeout= and needs cmd")
        except TypeError:
            pass
        check(stats()["exchanges"] == 0, "refused before anything is queued: %r" % stats())
    # No "0 waits forever" on the PR's head: one tick, then an empty answer.
    network._lte_reset_stats()
    check(lte.send_at_cmd("Pycom_Dummy", 0) == "", "nothing pending")
    check(stats()["modelled_us"] < 5000, "one tick, not forever: %r" % stats())


def test_1_20_1_signature():
    lte = lte_for("1.20.1")
    network._lte_reset_stats()
    check(lte.send_at_cmd(b"AT") == OK, "cmd only, str or bytes")
    check(stats()["last_timeout_ms"] == 9500, "the fixed timeout: %r" % stats())
    for call in (lambda: lte.send_at_cmd("AT", timeout=300), lambda: lte.send_at_cmd("AT", 300)):
        try:
            call()
            raise AssertionError("1.20.1 takes no timeout")
        except TypeError:
            pass


def test_exact_multiple_of_124_bytes():
    # 248 bytes: Release/v1.20 sends two continuation chunks and then an empty item (just
    # the CR); PR 429's head lets the second chunk end the command.
    command = "AT" + "X" * 246
    for profile, continuations in (("release-v1.20", 2), ("pr429", 1)):
        lte = lte_for(profile)
        network._lte_reset_stats()
        r = lte.send_at_cmd(command)
        s = stats()
        check("ERROR" in r, "%s: one answer: %r" % (profile, r))
        check(s["continuations"] == continuations and s["commands"] == 1, "%s: items %r" % (profile, s))
        check(s["bytes_out"] == 248 + 1, "%s: the command and one CR: %r" % (profile, s))


def test_1_18_strlen_reads_stale_bytes_after_124():
    # 1.18 takes the length with strlen: 124 bytes leave no NUL in data[124], and the
    # task's buffer still holds the previous (long) answer behind the struct.
    lte = lte_for("1.18")
    for length, stale in ((123, False), (124, True)):
        check(len(lte.send_at_cmd("AT+SQNSCFGEXT?")) > 130, "a long answer first")
        network._lte_reset_stats()
        lte.send_at_cmd("AT" + "X" * (length - 2))
        sent = stats()["bytes_out"]
        check((sent > length + 2) == stale, "%d bytes: %d written" % (length, sent))


def test_stock_cannot_send_long_payloads():
    # The same 3000 characters on stock firmware are not sent at all.
    lte = lte_for(STOCK)
    network._lte_reset_stats()
    try:
        lte.send_at_cmd("ab" * 1500, timeout=300)
    except OSError:
        pass
    check(stats()["bytes_out"] == 0, "stock sends none of it: %r" % stats())
    lte.deinit()
    lte.init()


def test_answers_over_2048_bytes_are_concatenated():
    # One 1200-byte datagram read back in hex: 2400 characters plus framing,
    # more than the 2046 of one answer piece.
    lte = lte_for("pr429")
    dial_echo(lte, 3)
    payload = bytes((i * 13 + 1) & 0xFF for i in range(1200))
    r = lte.send_at_cmd("AT+SQNSSENDEXT=3,%d" % len(payload))
    check(r.endswith("> "), "prompt: %r" % r)
    r = lte.send_at_cmd(binascii.hexlify(payload).decode())
    check(without_rings(r) == OK, "payload accepted: %r" % r)
    # Wait until the modem holds the echo (buff_in), then read it in one go.
    for _ in range(100):
        r = lte.send_at_cmd("AT+SQNSI=3")
        fields = r[r.find("+SQNSI:"):].split("\r\n")[0].split(",")
        if len(fields) >= 4 and int(fields[3]) >= len(payload):
            break
        time.sleep_ms(20)
    network._lte_reset_stats()
    r = lte.send_at_cmd("AT+SQNSRECV=3,1500")
    s = stats()
    check(len(r) > 2046, "longer than one piece: %d" % len(r))
    check(s["dummies"] >= 1, "the rest fetched with Pycom_Dummy: %r" % s)
    check(r.endswith(OK), "whole answer, final code last: %r" % r[-20:])
    at = r.find("+SQNSRECV: 3,")
    start = r.find("\r\n", at) + 2
    got = binascii.unhexlify(r[start:r.find("\r\n", start)])
    check(got == payload, "the datagram, whole and in order (%d bytes)" % len(got))
    hang_up(lte, 3)


def test_direct_lteppp_path():
    # What the firmware transport does: command and payload as continuation
    # chunks (no CR of its own), one wait for OK, no idle wait.
    lte = lte_for(STOCK)
    dial_echo(lte, 4)
    network._lte_reset_stats()
    check(network._lteppp_send(b"AT+SQNSSENDEXT=4,3\r", expect_continuation=True) is None, "no answer")
    text, more = network._lteppp_send(b"414243")
    # The last item is a normal command, so the task flushes first: the prompt is in the
    # answer only if it had not reached the UART yet.
    check(without_rings(text) in ("\r\n> " + OK, OK) and not more,
          "one answer for the whole exchange: %r" % text)
    s = stats()
    check(s["idle_polls"] == 0, "no idle wait: %r" % s)
    check(s["continuations"] == 1 and s["commands"] == 1, "%r" % s)
    check(recv_hex(lte, 4, 3) == b"ABC", "echo")
    hang_up(lte, 4)


def attached_lte():
    """An LTE on the stock profile, attached (the simulator registers within a second)."""
    lte = lte_for(STOCK)
    lte.attach()
    for _ in range(50):
        if lte.isattached():
            break
        time.sleep_ms(20)
    check(lte.isattached(), "the simulator registers")
    return lte


def test_data_state_refuses_at_commands():
    lte = attached_lte()
    lte.connect()
    check(lte.isconnected(), "connected")
    try:
        lte.send_at_cmd("AT")
        raise AssertionError("AT command accepted in data state")
    except OSError as e:
        check("data state" in str(e), "firmware message: %r" % (e.args,))
    lte.disconnect()
    check(not lte.isconnected(), "disconnected")
    check(lte.send_at_cmd("AT") == OK, "AT after disconnect")


def test_attach_and_connect_send_what_the_firmware_sends():
    # v1.20.2.r6: attach() checks registration (AT, AT+CGATT?, AT+CEREG?, AT+CFUN?), the SIM
    # (AT+CFUN?, AT+CPIN?), the carrier (AT+SQNCTM?), reads the bands and version (AT+SMDD,
    # showver), scans six default bands, turns logging off, the radio on and low power on.
    lte = lte_for(STOCK)
    check(lte.send_at_cmd("AT+CFUN=4") == OK, "radio off")
    check(not lte.isattached(), "not registered with the radio off")
    urc = "+SQNSRING: 1,5"
    network._sim("inject urc " + urc)
    time.sleep_ms(50)
    network._lte_reset_stats()
    lte.attach()
    s = stats()
    check(s["commands"] == 19, "the firmware's 19 commands: %r" % s)
    check(s["flushed_bytes"] >= len(urc), "the first one flushed the pending URC: %r" % s)
    check(lte.isattached(), "registered")
    # connect(): ATI1 (legacy modem firmware?), the registration check, ATO, AT+CGDATA.
    network._lte_reset_stats()
    lte.connect()
    check(stats()["commands"] == 7, "ATI1, 4 checks, ATO, AT+CGDATA: %r" % stats())
    check(lte.isconnected(), "data state")
    try:
        lte.connect()
        raise AssertionError("a second connect() returned")
    except OSError as e:
        check("already connected" in str(e), "the firmware's message: %r" % (e.args,))
    lte.disconnect()
    lte.detach()
    check(not lte.isattached(), "detached")
    lte.attach()
    check(lte.isattached(), "attached again")


def test_an_answer_still_coming_is_not_cut_off():
    # The firmware waits a second for the rest of an answer with no final code yet; here
    # that is 10 scaled polls, 20 ms of real time. A simulator the host does not schedule
    # between two pieces of an answer (seen under load with "fault split", which writes
    # pieces 1 ms apart) is a modem still sending, not one that stopped: the answer must
    # arrive whole. Here the pieces come 100 ms apart.
    lte = lte_for(STOCK)
    network._sim("fault split 3 100")
    try:
        answer = lte.send_at_cmd("AT")
    finally:
        network._sim("fault clear")
    check(answer == OK, "the whole answer: %r" % answer)


def test_slow_host_is_not_a_silent_modem():
    # The simulator is another process: on a loaded host it can take tens of milliseconds to
    # be scheduled, while the waits here are the firmware's times MICROATSOCKET_LTE_TIME_SCALE
    # (300 ms * 0.02 = 6 ms for the registration check). An answer 40 ms late is well inside
    # every firmware timeout, so it must be taken, as the device would: here the simulator is
    # told to hold each answer back that long (the "modem not attached" that lte.connect()
    # raised on a loaded machine was this).
    lte = attached_lte()
    network._sim("fault delay_ms 40")
    try:
        check(lte.send_at_cmd("AT") == OK, "a late answer to a lone command")
        check(lte.isattached(), "a late answer to the registration check")
        lte.connect()
        check(lte.isconnected(), "connect() with late answers")
        lte.disconnect()
    finally:
        network._sim("fault clear")
    try:
        # A silent modem still times out, on the modelled clock as before.
        network._sim("fault silent CGSN 1")
        before = stats()["modelled_us"]
        check(lte.send_at_cmd("AT+CGSN", timeout=300) == "", "no answer from a silent modem")
        check(stats()["modelled_us"] - before >= 300000, "the modelled clock spent the timeout")
        check(lte.send_at_cmd("AT") == OK, "the next command is answered")
    finally:
        lte.detach()


def test_1_18_signature():
    lte = lte_for("1.18")
    check(lte.send_at_cmd("AT", delay=20) == OK, "AT with delay")
    try:
        lte.send_at_cmd("AT", timeout=100)
        raise AssertionError("1.18 has no timeout argument")
    except TypeError:
        pass
    # str built with strlen: a NUL ends the command.
    network._lte_reset_stats()
    check(lte.send_at_cmd(b"AT\x00+SQNSS") == OK, "cut at NUL")
    check(stats()["bytes_out"] == 4, "AT then CR LF: %r" % stats())


def main():
    tests = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]
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
            network._lte_profile(STARTING_PROFILE)
    if failures:
        print("%d of %d failed" % (failures, len(tests)))
        sys.exit(1)
    print("OK")


main()
