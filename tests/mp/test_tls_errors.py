# TLS failures, each a clear OSError with the socket's modem slot freed: a server certificate
# from another CA, an expired one, a name mismatch where the name is checked, a missing key
# file (refused before anything reaches the modem), and arguments the modem cannot honour.
import os

from mas_testlib import *

MQTTS_PORT = int(os.getenv("MQTTS_PORT") or 0)
MQTTS_EXPIRED_PORT = int(os.getenv("MQTTS_EXPIRED_PORT") or 0)
TLS = os.getenv("TLS_DIR")
check(MQTTS_PORT and TLS, "MQTTS_PORT/TLS_DIR are not set (tests/setup-deps.sh)")

ssl = socket.ssl
ssl.store(TLS + "/fingerprints.txt")
CA = TLS + "/ca.pem"
ECONNABORTED = 103


def connected(port):
    s = socket.socket()
    s.connect(socket.getaddrinfo("::1", port)[0][-1])
    return s


def expect(errno, what, wrap):
    s = connected(MQTTS_PORT if "expired" not in what else MQTTS_EXPIRED_PORT)
    try:
        wrap(s)
    except OSError as e:
        check(e.args[0] == errno, "%s: errno %r (%r)" % (what, e.args[0], e))
        check(len(e.args) > 1 and len(e.args[1]) > 20, "%s: a message: %r" % (what, e.args))
    else:
        check(False, "%s: no error" % what)
    check(socket._slots_in_use() == 0, "%s: the slot is freed" % what)


def test_wrong_ca():
    f0 = sim_stats()["tls_failures"]
    expect(ECONNABORTED, "wrong CA",
           lambda s: ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED, ca_certs=TLS + "/other-ca.pem"))
    check(sim_stats()["tls_failures"] == f0 + 1, "the modem's handshake failed")


def test_expired_certificate():
    expect(ECONNABORTED, "expired", lambda s: ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA))
    # CERT_NONE does not look at it.
    s = connected(MQTTS_EXPIRED_PORT)
    ssl.wrap_socket(s)
    s.close()


def test_name_mismatch_where_checked():
    # "localhost" reaches ::1, but the certificate names loop6.test and ::1 only.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=CA)
    expect(ECONNABORTED, "name mismatch", lambda s: ctx.wrap_socket(s, server_hostname="localhost"))
    ctx.check_hostname = False
    s = ctx.wrap_socket(connected(MQTTS_PORT), server_hostname="localhost")
    s.close()


def test_missing_key_file_reaches_nothing():
    s = connected(MQTTS_PORT)
    before = modem_bytes_in()
    try:
        ssl.wrap_socket(s, certfile=TLS + "/client.pem", keyfile=TLS + "/no-such.key")
    except OSError as e:
        check(e.args[0] == 2 and "keyfile" in e.args[1], "ENOENT naming the keyfile: %r" % (e,))
    else:
        check(False, "no error")
    # Closing the socket is the only modem traffic.
    check(socket._slots_in_use() == 0, "the slot is freed")
    check(modem_bytes_in() - before < 20, "only the close reached the modem")


def test_bad_arguments():
    expect(22, "CERT_REQUIRED without a CA", lambda s: ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED))
    expect(22, "not PEM", lambda s: ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED, ca_certs=b"hello"))
    expect(95, "server side", lambda s: ssl.wrap_socket(s, server_side=True))
    # A stream wrapped before connect() is not refused: it dials secure at connect()
    # (test_tls_conventions.py).
    s = socket.socket()
    check(ssl.wrap_socket(s) is s, "wrapped before connect")
    s.close()
    check(socket._slots_in_use() == 0, "freed")


def wrap_ok(**kw):
    s = ssl.wrap_socket(connected(MQTTS_PORT), **kw)
    s.close()


def test_refused_profile_spellings_fall_back():
    # A combination no other test uses, so the profile is written here.
    p0 = sim_stats()["profile_writes"]
    check(network._sim("fault error SQNSPCFG 2").startswith("OK"), "fault")
    wrap_ok(ca_certs=TLS + "/other-ca.pem")
    check(sim_stats()["profile_writes"] == p0 + 1, "the third spelling was accepted")


def test_a_modem_factory_reset_is_recovered():
    wrap_ok(cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA)
    check(network._sim("nvm clear").startswith("OK"), "nvm clear")
    w0 = sim_stats()["nvm_writes"]
    wrap_ok(cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA)
    check(sim_stats()["nvm_writes"] == w0 + 1, "the CA was written again")
    check(socket._slots_in_use() == 0, "closed")


def test_an_unset_modem_clock():
    check(network._sim("clock unset").startswith("OK"), "clock")
    try:
        expect(11, "clock unset", lambda s: ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA))
        wrap_ok()  # CERT_NONE checks no dates
    finally:
        network._sim("clock network")
    wrap_ok(cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA)


def test_a_reboot_during_an_upload():
    ssl.forget()
    check(network._sim("fault reboot_at PAYLOAD 1").startswith("OK"), "fault")
    try:
        wrap_ok(cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA)
    except OSError as e:
        check(e.args[0] == 5 and "CA" in e.args[1], "EIO naming the CA: %r" % (e,))
    else:
        check(False, "no error")
    check(socket._slots_in_use() == 0, "the slot is freed")
    w0 = sim_stats()["nvm_writes"]
    wrap_ok(cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA)
    check(sim_stats()["nvm_writes"] == w0 + 1, "written on the next try")


run(globals())
