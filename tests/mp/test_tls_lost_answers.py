# What the module believes about the modem's TLS state is only as good as the last answer it
# saw. Each test loses an answer the modem has acted on (network._lte_lose: the answer never
# reaches the module, a KeyboardInterrupt comes instead, on either transport; or the
# simulator's "fault lost": the answer never comes) and then checks that nothing afterwards
# is verified less than asked, dialled secure when asked plain, or eaten by a waiting upload.
import os

from mas_testlib import *

MQTTS_PORT = int(os.getenv("MQTTS_PORT") or 0)
TLS = os.getenv("TLS_DIR")
TCP_ECHO = int(os.getenv("TCP_ECHO_PORT6") or os.getenv("TCP_ECHO_PORT4") or 0)
TCP_ECHO_HOST = "::1" if os.getenv("TCP_ECHO_PORT6") else "127.0.0.1"
check(MQTTS_PORT and TLS and TCP_ECHO, "MQTTS_PORT/TLS_DIR/TCP_ECHO_PORT* are not set")

ssl = socket.ssl
CA = TLS + "/ca.pem"
OTHER_CA = TLS + "/other-ca.pem"
ECONNABORTED = 103


def fresh_store(name):
    ssl.store(TLS + "/lost-" + name + ".txt")
    ssl.forget()


def connected(port, host="::1"):
    s = socket.socket()
    s.settimeout(20)
    s.connect(socket.getaddrinfo(host, port)[0][-1])
    return s


def modelled_s():
    return network._lte_stats()["modelled_us"] / 1e6


def interrupted(what, fn):
    """fn() must end in the KeyboardInterrupt of the lost answer; the socket it used is freed."""
    try:
        fn()
    except KeyboardInterrupt:
        pass
    else:
        check(False, "%s: the answer was not lost (no KeyboardInterrupt)" % what)
    check(not network._lte_lose(""), "%s: the lost answer fired" % what)
    check(socket._slots_in_use() == 0, "%s: the slot is freed" % what)


def plain_echo_works(what):
    """A plain stream right after: dialled plain (the echo peer answers in clear), promptly."""
    t0 = modelled_s()
    s = connected(TCP_ECHO, TCP_ECHO_HOST)
    s.write(b"in the clear\n")
    got = s.readline()
    s.close()
    check(got == b"in the clear\n", "%s: the plain stream echoed %r" % (what, got))
    check(modelled_s() - t0 < 5, "%s: the plain stream took %.1f s (modelled)" % (what, modelled_s() - t0))


def wrap_ok(**kw):
    s = ssl.wrap_socket(connected(MQTTS_PORT), **kw)
    s.close()


def wrap_fails(errno, what, **kw):
    try:
        wrap_ok(**kw)
    except OSError as e:
        check(e.args[0] == errno, "%s: errno %r (%r)" % (what, e.args[0], e))
    else:
        check(False, "%s: the wrap succeeded, verified less than asked" % what)
    check(socket._slots_in_use() == 0, "%s: the slot is freed" % what)


def lose_then(text, fn):
    network._lte_lose(text)
    interrupted(text, fn)


# Item 1: an abandoned upload must not leave the modem waiting for PEM bytes.

def test_a_pem_line_too_long_for_one_command_is_refused_before_the_prompt():
    fresh_store("long-line")
    with open(CA) as f:
        ca = f.read()
    with open(OTHER_CA) as f:
        other = f.read()
    # One write carries at most config('max_command') bytes, and never more than a datagram's
    # hex text (3000) whatever the transport.
    limit = min(socket.config("max_command") or 3000, 3000)
    bundle = ca + "# " + "x" * (limit + 30) + "\n" + other
    t0, b0 = modelled_s(), modem_bytes_in()
    s = connected(MQTTS_PORT)
    try:
        ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED, ca_certs=bundle.encode())
    except OSError as e:
        check(e.args[0] == EMSGSIZE, "EMSGSIZE: %r" % (e,))
    else:
        check(False, "a line longer than a command was accepted")
    took = modelled_s() - t0
    check(took < 3, "refused in %.1f s (modelled): before the prompt" % took)
    check(socket._slots_in_use() == 0, "the slot is freed")
    plain_echo_works("after the refused bundle")
    wrap_ok(cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA)


def test_an_upload_abandoned_at_its_prompt_is_finished_before_the_next_command():
    fresh_store("abandoned-prompt")
    s = connected(MQTTS_PORT)
    lose_then("AT+SQNSNVW", lambda: ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA))
    plain_echo_works("after the abandoned upload")
    check(sim_stats()["open_slots"] == 0, "the modem holds no socket the module freed")
    wrap_ok(cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA)
    wrap_fails(ECONNABORTED, "the other CA after the abandoned upload", cert_reqs=ssl.CERT_REQUIRED, ca_certs=OTHER_CA)


def test_an_upload_abandoned_after_its_first_piece():
    if socket.config("max_command") > 600:
        print("note: the CA goes in one piece with this transport")
        return
    fresh_store("abandoned-piece")
    s = connected(MQTTS_PORT)
    lose_then("-----BEGIN CERTIFICATE", lambda: ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA))
    plain_echo_works("after the abandoned piece")
    wrap_ok(cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA)


# Item 2: a lost answer to AT+SQNSSCFG=<id>,1.

def test_a_lost_answer_to_secure_on_leaves_later_plain_streams_plain():
    fresh_store("sscfg")
    s = connected(MQTTS_PORT)
    lose_then("AT+SQNSSCFG", lambda: ssl.wrap_socket(s))
    plain_echo_works("after the lost AT+SQNSSCFG answer")


def test_a_lost_answer_to_secure_on_in_the_modem_leaves_later_plain_streams_plain():
    fresh_store("sscfg-sim")
    check(network._sim("fault lost SQNSSCFG 1").startswith("OK"), "fault")
    s = connected(MQTTS_PORT)
    try:
        ssl.wrap_socket(s)
    except OSError:
        pass
    check(socket._slots_in_use() == 0, "the slot is freed")
    plain_echo_works("after the answer the modem never sent")


# Item 3: a lost answer to AT+SQNSPCFG.

def test_a_lost_profile_answer_never_turns_certificate_checks_off():
    fresh_store("spcfg")
    # The CERT_REQUIRED profile is written, and the handshake fails as it must.
    wrap_fails(ECONNABORTED, "the other CA", cert_reqs=ssl.CERT_REQUIRED, ca_certs=OTHER_CA)
    # A CERT_NONE wrap on the same connId writes level 0; its answer is lost.
    s = connected(MQTTS_PORT)
    lose_then("AT+SQNSPCFG", lambda: ssl.wrap_socket(s))
    # The modem holds level 0 now: the CERT_REQUIRED profile must be written again.
    wrap_fails(ECONNABORTED, "the other CA after the lost profile answer", cert_reqs=ssl.CERT_REQUIRED, ca_certs=OTHER_CA)


# Item 4: an exception right after an upload's last piece.

def test_an_upload_whose_answer_is_lost_is_not_trusted_after_a_restart():
    path = TLS + "/lost-last-piece.txt"
    ssl.store(path)
    ssl.forget()
    with open(OTHER_CA) as f:
        other = f.read()
    # Four CAs the server does not chain to fill the four slots; the first is the oldest.
    fillers = [other * n for n in (1, 2, 3, 4)]
    for ca in fillers:
        wrap_fails(ECONNABORTED, "filler", cert_reqs=ssl.CERT_REQUIRED, ca_certs=ca.encode())
    # The good CA replaces the oldest; the answer to its last piece is lost.
    s = connected(MQTTS_PORT)
    lose_then("-----END CERTIFICATE", lambda: ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA))
    # A restart: the store is read again from the file.
    ssl.store(path)
    # The slot the first filler held now holds something else: it must not be trusted.
    wrap_fails(ECONNABORTED, "the first filler after a restart", cert_reqs=ssl.CERT_REQUIRED, ca_certs=fillers[0].encode())
    wrap_ok(cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA)


# Item 7: ssl.forget() after a modem factory reset.

def test_forget_after_a_factory_reset_writes_the_profile_again():
    fresh_store("factory")
    wrap_ok(cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA)
    check(network._sim("nvm clear").startswith("OK"), "nvm clear")
    ssl.forget()
    p0, e0 = sim_stats()["profile_writes"], sim_stats()["errors_injected"]
    wrap_ok(cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA)
    check(sim_stats()["profile_writes"] == p0 + 1, "the profile was written again")


run(globals())
