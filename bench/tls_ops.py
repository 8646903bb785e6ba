# Runs inside the MicroPython unix port (bench/run_tls_bench.py starts it): what TLS in the
# modem costs on the fake Pycom LTE's counters, one JSON object per line.
# Environment: BENCH_PROFILE, BENCH_FW (fake LTE firmware profile), TLS_DIR, MQTTS_PORT,
# MQTTS_CLIENT_PORT, MQTT_PORT, MP_LIBS, BENCH_N.
import json
import os
import sys

import network
import microATsocket as socket

PROFILE = os.getenv("BENCH_PROFILE")
N = int(os.getenv("BENCH_N") or "5")
TLS = os.getenv("TLS_DIR")
MQTTS_PORT = int(os.getenv("MQTTS_PORT"))
MQTTS_CLIENT_PORT = int(os.getenv("MQTTS_CLIENT_PORT"))
MQTT_PORT = int(os.getenv("MQTT_PORT"))
sys.path.append(os.getenv("MP_LIBS"))
sys.modules["usocket"] = socket
sys.modules["ussl"] = socket.ssl
from umqtt.simple import MQTTClient

ssl = socket.ssl
lte = network.LTE()
network._lte_profile(os.getenv("BENCH_FW"))
socket.set_modem(lte, chunking=PROFILE == "pr429")
ssl.store(TLS + "/bench-fingerprints.txt")
CA = TLS + "/ca.pem"
CLIENT = {"certfile": TLS + "/client.pem", "keyfile": TLS + "/client.key"}
KEYS = ("exchanges", "bytes_out", "bytes_in", "modelled_us")


def sim(key):
    reply = network._sim("stats")
    for field in reply.split()[1:]:
        k, _, v = field.partition("=")
        if k == key:
            return int(v)
    raise KeyError(key)


def measure(op, setup, fn, count):
    """setup() (not measured) then fn() (measured), `count` times; per-operation averages."""
    totals = dict((k, 0) for k in KEYS)
    writes = 0
    for _ in range(count):
        arg = setup()
        w0 = sim("nvm_writes")
        network._lte_reset_stats()
        fn(arg)
        stats = network._lte_stats()
        writes += sim("nvm_writes") - w0
        for k in KEYS:
            totals[k] += stats[k]
    row = dict((k, totals[k] / count) for k in KEYS)
    row.update(op=op, profile=PROFILE, count=count, nvm_writes=writes / count)
    print(json.dumps(row))


def connected(port):
    s = socket.socket()
    s.connect(socket.getaddrinfo("::1", port)[0][-1])
    return s


def wrap_and_close(s, **kw):
    s = ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA, **kw)
    s.close()


def forget_then(port):
    ssl.forget()
    return connected(port)


ssl.forget()
wrap_and_close(connected(MQTTS_PORT))  # the CA is in the modem from here on
measure("wrap_socket, CA already in the modem (profile already written): close, configure, TLS flag, dial",
        lambda: connected(MQTTS_PORT), wrap_and_close, N)
measure("wrap_socket, CA written first (1 upload)", lambda: forget_then(MQTTS_PORT), wrap_and_close, N)
measure("wrap_socket, CA, client certificate and key written first (3 uploads)",
        lambda: forget_then(MQTTS_CLIENT_PORT), lambda s: wrap_and_close(s, **CLIENT), N)

received = []


def client(port, tls):
    params = {"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": CA}
    c = MQTTClient(b"bench-" + PROFILE.encode(), "::1", port=port, keepalive=60, ssl=tls, ssl_params=params)
    c.set_callback(lambda t, m: received.append(m))
    c.connect()
    c.subscribe(b"bench/tls", qos=1)
    return c


def publish_round_trip(c):
    del received[:]
    c.publish(b"bench/tls", b"x" * 32, qos=1)
    while not received:
        c.wait_msg()


for port, tls, label in ((MQTTS_PORT, True, "TLS"), (MQTT_PORT, False, "plain TCP, for comparison")):
    c = client(port, tls)
    measure("MQTT QoS 1 publish of 32 bytes to itself, PUBACK and delivery (%s)" % label,
            lambda: c, publish_round_trip, N)
    c.disconnect()
measure("MQTT connect over TLS (socket, getaddrinfo, connect, wrap_socket, CONNECT/CONNACK, SUBSCRIBE)",
        lambda: None, lambda _: client(MQTTS_PORT, True).disconnect(), N)
print("OK")
