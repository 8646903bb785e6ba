# Any client's calling convention: Pycom's ussl keywords, MicroPython's ssl/tls keywords and
# SSLContext, certificates as paths, PEM or DER, a wrap before connect() (one secure dial at
# connect()), server_side refused, and a wrap that fails for any reason (bad keywords included)
# closing the socket so nothing goes out in clear.
import binascii
import os

from mas_testlib import *

MQTTS_PORT = int(os.getenv("MQTTS_PORT") or 0)
MQTTS_CLIENT_PORT = int(os.getenv("MQTTS_CLIENT_PORT") or 0)
TLS = os.getenv("TLS_DIR")
TCP_ECHO = int(os.getenv("TCP_ECHO_PORT6") or 0)
check(MQTTS_PORT and MQTTS_CLIENT_PORT and TLS and TCP_ECHO, "MQTTS_*/TLS_DIR/TCP_ECHO_PORT6 are not set")

ssl = socket.ssl
ssl.store(TLS + "/conventions.txt")
CA = TLS + "/ca.pem"
OTHER_CA = TLS + "/other-ca.pem"
ECONNABORTED = 103
# MQTT CONNECT (protocol 4, clean session, empty client id) and the broker's CONNACK.
CONNECT = b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00"
CONNACK = b"\x20\x02\x00\x00"


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def der(path):
    lines = read(path, "r").split("\n")
    return binascii.a2b_base64("".join(l for l in lines if l and not l.startswith("-----")))


def address(port):
    return socket.getaddrinfo("::1", port)[0][-1]


def connected(port=MQTTS_PORT):
    s = socket.socket()
    s.settimeout(20)
    s.connect(address(port))
    return s


def mqtt_works(s):
    s.write(CONNECT)
    got = s.read(4)
    s.close()
    check(got == CONNACK, "CONNACK over TLS: %r" % got)


def refused(errno, what, fn):
    try:
        fn()
    except OSError as e:
        check(e.args[0] == errno, "%s: errno %r (%r)" % (what, e.args[0], e))
        return e
    check(False, "%s: no error" % what)


def test_a_bad_keyword_closes_the_socket_before_anything_goes_out_in_clear():
    for kw in ({"ciphers": "ALL"}, {"cert_reqs": "required"}, {"server_side": True}):
        s = connected(TCP_ECHO)
        try:
            ssl.wrap_socket(s, **kw)
        except (TypeError, ValueError, OSError):
            pass
        else:
            check(False, "%r: no error" % kw)
        try:
            s.write(CONNECT)
        except OSError as e:
            check(e.args[0] == EBADF, "%r: writing after the failed wrap: %r" % (kw, e))
        else:
            check(False, "%r: the socket stayed open and sent %d bytes in clear" % (kw, len(CONNECT)))
        check(socket._slots_in_use() == 0, "%r: the slot is freed" % kw)


def test_server_side_is_refused_with_a_clear_message():
    for wrap in (lambda s: ssl.wrap_socket(s, server_side=True),
                 lambda s: ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).wrap_socket(s, server_side=True)):
        e = refused(EOPNOTSUPP, "server_side", lambda: wrap(connected()))
        check("client" in e.args[1], "the message says the modem is a client: %r" % (e.args,))
    refused(EOPNOTSUPP, "PROTOCOL_TLS_SERVER", lambda: ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    check(socket._slots_in_use() == 0, "freed")


def test_pycom_ussl_keywords():
    s = ssl.wrap_socket(connected(MQTTS_CLIENT_PORT), keyfile=TLS + "/client.key", certfile=TLS + "/client.pem",
                        server_side=False, cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA, server_hostname="::1",
                        timeout=10, saved_session=None)
    mqtt_works(s)


def test_micropython_ssl_keywords_with_der_bytes():
    s = ssl.wrap_socket(connected(MQTTS_CLIENT_PORT), key=der(TLS + "/client.key"), cert=der(TLS + "/client.pem"),
                        cert_reqs=ssl.CERT_REQUIRED, cadata=der(CA), server_hostname="::1", do_handshake=True)
    mqtt_works(s)
    # DER is checked as the PEM would be: another CA's DER is refused by the handshake.
    refused(ECONNABORTED, "the other CA as DER",
            lambda: ssl.wrap_socket(connected(), cert_reqs=ssl.CERT_REQUIRED, cadata=der(OTHER_CA)))


def test_pem_as_bytes_and_as_str_and_der_bundles():
    for ca in (read(CA), read(CA, "r"), der(OTHER_CA) + der(CA)):
        mqtt_works(ssl.wrap_socket(connected(), cert_reqs=ssl.CERT_REQUIRED, cadata=ca))


def test_sslcontext_as_micropython_and_cpython_write_it():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=der(CA))
    ctx.load_cert_chain(TLS + "/client.pem", TLS + "/client.key")
    mqtt_works(ctx.wrap_socket(connected(MQTTS_CLIENT_PORT), server_hostname="::1"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile=CA)
    ctx.load_cert_chain(der(TLS + "/client.pem"), der(TLS + "/client.key"))
    mqtt_works(ctx.wrap_socket(connected(MQTTS_CLIENT_PORT), server_hostname="::1", do_handshake_on_connect=True))


def test_wrap_before_connect_dials_once_at_connect():
    d0, h0 = sim_stats()["tcp_dials"], sim_stats()["tls_handshakes"]
    s = socket.socket()
    s.settimeout(20)
    w = ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA)
    check(w is s, "the same object")
    check(sim_stats()["tcp_dials"] == d0, "nothing dialled at the wrap")
    s.connect(address(MQTTS_PORT))
    stats = sim_stats()
    check(stats["tcp_dials"] - d0 == 1 and stats["tls_handshakes"] - h0 == 1,
          "one secure dial: %d dials, %d handshakes" % (stats["tcp_dials"] - d0, stats["tls_handshakes"] - h0))
    mqtt_works(s)
    # The same through SSLContext, and a failure at connect() closes the socket.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=OTHER_CA)
    s = ctx.wrap_socket(socket.socket())
    refused(ECONNABORTED, "the other CA at connect()", lambda: s.connect(address(MQTTS_PORT)))
    check(socket._slots_in_use() == 0, "freed")


run(globals())
