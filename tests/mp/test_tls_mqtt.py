# The real umqtt.simple (PyPI micropython-umqtt-simple 1.3.4, unmodified) with ssl=True over
# the modem's TLS: mosquitto with TLS listeners on ::1 and certificates made for the run
# (tests/mp/tls_peers.py). The client imports `ussl`; sys.modules points it at microATsocket.ssl.
# Also: an SSLContext with a host-name check, a client certificate, and flash writes counted.
import os
import sys

from mas_testlib import *

MQTTS_PORT = int(os.getenv("MQTTS_PORT") or 0)
MQTTS_CLIENT_PORT = int(os.getenv("MQTTS_CLIENT_PORT") or 0)
DNS_PORT = int(os.getenv("DNS_PORT") or 0)
TLS = os.getenv("TLS_DIR")
MP_LIBS = os.getenv("MP_LIBS")
check(MQTTS_PORT and TLS, "MQTTS_PORT/TLS_DIR are not set: mosquitto or python3-cryptography missing (tests/setup-deps.sh)")
check(MP_LIBS, "MP_LIBS is not set: the client libraries could not be fetched")

sys.path.append(MP_LIBS)
sys.modules["usocket"] = socket
sys.modules["socket"] = socket
sys.modules["ussl"] = socket.ssl
sys.modules["ssl"] = socket.ssl
from umqtt.simple import MQTTClient

ssl = socket.ssl
CA = TLS + "/ca.pem"
STORE = TLS + "/fingerprints.txt"
ssl.store(STORE)
received = []


def on_message(topic, msg):
    received.append((topic, msg))


def payload(n, seed):
    return bytes((i * 7 + seed + (i >> 8)) & 0xFF for i in range(n))


def round_trips(c, tag):
    topic = b"mas/tls/" + tag
    c.set_callback(on_message)
    c.subscribe(topic, qos=1)
    for qos in (0, 1):
        for n in (16, 3000):
            del received[:]
            body = payload(n, qos)
            c.publish(topic, body, qos=qos)
            while not received:
                c.wait_msg()
            check(received[-1] == (topic, body), "%d-byte QoS %d payload differs" % (n, qos))


def test_umqtt_ssl_true_with_the_ca_checked():
    h0 = sim_stats()["tls_handshakes"]
    c = MQTTClient(b"mas-tls", "::1", port=MQTTS_PORT, keepalive=60, ssl=True,
                   ssl_params={"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": CA})
    check(not c.connect(), "clean session")
    round_trips(c, b"ca")
    c.ping()
    check(c.wait_msg() is None, "PINGRESP")
    c.disconnect()
    check(socket._slots_in_use() == 0, "disconnect closed the socket")
    check(sim_stats()["tls_handshakes"] == h0 + 1, "one TLS handshake")


def test_umqtt_with_a_client_certificate():
    c = MQTTClient(b"mas-tls-client", "::1", port=MQTTS_CLIENT_PORT, keepalive=60, ssl=True,
                   ssl_params={"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": CA,
                               "certfile": TLS + "/client.pem", "keyfile": TLS + "/client.key"})
    check(not c.connect(), "clean session")
    round_trips(c, b"client")
    c.disconnect()


def test_sslcontext_checks_the_host_name():
    check(network._sim("dns ::1 %d" % DNS_PORT).startswith("OK"), "dns")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    check(ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname, "client defaults")
    ctx.load_verify_locations(cafile=CA)
    s = socket.socket()
    s.connect(socket.getaddrinfo("::1", MQTTS_PORT)[0][-1])
    s = ctx.wrap_socket(s, server_hostname="loop6.test")
    s.write(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00")
    check(s.read(4) == b"\x20\x02\x00\x00", "CONNACK")
    s.close()
    check(socket._slots_in_use() == 0, "closed")


def test_certificates_are_written_once():
    ssl.forget()
    w0 = sim_stats()["nvm_writes"]
    params = {"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": CA,
              "certfile": TLS + "/client.pem", "keyfile": TLS + "/client.key"}
    x0 = exchanges()
    c = MQTTClient(b"mas-tls-w", "::1", port=MQTTS_CLIENT_PORT, ssl=True, ssl_params=params)
    c.connect()
    c.disconnect()
    first = sim_stats()["nvm_writes"] - w0
    check(first == 3, "CA, client certificate and key written: %d writes" % first)
    print("connect with 3 credential uploads: %d exchanges" % (exchanges() - x0))
    # As after a board restart: the fingerprints come back from the store file.
    ssl.store(STORE)
    x0 = exchanges()
    c = MQTTClient(b"mas-tls-w", "::1", port=MQTTS_CLIENT_PORT, ssl=True, ssl_params=params)
    c.connect()
    c.disconnect()
    check(sim_stats()["nvm_writes"] - w0 == 3, "a second run writes nothing")
    print("connect with credentials already in the modem: %d exchanges" % (exchanges() - x0))
    # Bytes instead of paths: the same credentials, nothing written.
    with open(CA, "rb") as f:
        ca_bytes = f.read()
    c = MQTTClient(b"mas-tls-w", "::1", port=MQTTS_PORT, ssl=True,
                   ssl_params={"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": ca_bytes.replace(b"\n", b"\r\n")})
    c.connect()
    c.disconnect()
    check(sim_stats()["nvm_writes"] - w0 == 3, "CR LF bytes of the same CA: nothing written")


def test_a_ca_bundle_larger_than_one_write():
    # Several CAs in one file (the right one last): over 3,000 bytes, so even with chunking
    # the upload goes in pieces cut at line ends.
    with open(TLS + "/other-ca.pem", "rb") as f:
        other = f.read()
    with open(CA, "rb") as f:
        mine = f.read()
    bundle = other * 6 + mine
    check(len(bundle) > 3000, "bundle of %d bytes" % len(bundle))
    w0 = sim_stats()["nvm_writes"]
    b0 = sim_stats()["nvm_bytes"]
    c = MQTTClient(b"mas-tls-bundle", "::1", port=MQTTS_PORT, ssl=True,
                   ssl_params={"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": bundle})
    c.connect()
    c.disconnect()
    check(sim_stats()["nvm_writes"] == w0 + 1, "one write")
    check(sim_stats()["nvm_bytes"] - b0 == len(bundle), "every byte counted, no CR")


def test_the_mqtt_tls_example_runs_unmodified():
    # By name: loop6.test (dnsmasq, through the modem's resolver) is in the certificate, so
    # the host-name check passes.
    check(network._sim("dns ::1 %d" % DNS_PORT).startswith("OK"), "dns")
    run_example("mqtt_tls_over_modem.py", BROKER_HOST="loop6.test", BROKER_PORT=MQTTS_PORT, CA_FILE=CA)


run(globals())
