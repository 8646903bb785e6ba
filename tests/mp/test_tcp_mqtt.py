# The real umqtt.simple (PyPI micropython-umqtt-simple, fetched at test setup, unmodified)
# over microATsocket, against Debian's mosquitto on 127.0.0.1 and ::1: connect, subscribe,
# publish QoS 0 and 1 to itself, the exact payload back (also 3,000 and 10,000 bytes), ping,
# disconnect. The client imports `usocket`; sys.modules points that (and `socket`) at us.
import os
import sys

from mas_testlib import *

MQTT_PORT = int(os.getenv("MQTT_PORT") or 0)
MP_LIBS = os.getenv("MP_LIBS")
check(MQTT_PORT, "MQTT_PORT is not set: mosquitto missing (tests/setup-deps.sh) or not run through run_mp_tests.py")
check(MP_LIBS, "MP_LIBS is not set: the client libraries could not be fetched (see the runner's note)")

sys.path.append(MP_LIBS)
sys.modules["usocket"] = socket
sys.modules["socket"] = socket
from umqtt.simple import MQTTClient

received = []


def on_message(topic, msg):
    received.append((topic, msg))


def payload(n, seed):
    return bytes((i * 7 + seed + (i >> 8)) & 0xFF for i in range(n))


def session(server, tag):
    c = MQTTClient(b"mas-" + tag, server, port=MQTT_PORT, keepalive=60)
    c.set_callback(on_message)
    check(not c.connect(), "no session present: a clean session")
    topic = b"mas/test/" + tag
    c.subscribe(topic, qos=1)
    return c, topic


def wait_for(c, n):
    while len(received) < n:
        c.wait_msg()


def test_publish_to_itself_qos0_and_qos1_both_loopbacks():
    for server, tag in (("127.0.0.1", b"v4"), ("::1", b"v6")):
        del received[:]
        c, topic = session(server, tag)
        sizes = (16, 3000, 10000)
        for qos in (0, 1):
            for n in sizes:
                body = payload(n, qos)
                before = len(received)
                # A QoS 1 publish waits for its PUBACK, and may meet (and deliver) its own
                # message on the way.
                c.publish(topic, body, qos=qos)
                wait_for(c, before + 1)
                got_topic, got = received[-1]
                check(got_topic == topic, "topic %r" % got_topic)
                check(got == body, "%d-byte QoS %d payload came back as %d bytes" % (n, qos, len(got)))
        c.ping()
        check(c.wait_msg() is None, "PINGRESP")
        c.disconnect()
        check(socket._slots_in_use() == 0, "disconnect closed the socket")


def test_qos1_round_trip_cost():
    c, topic = session("::1", b"cost")
    del received[:]
    x0 = exchanges()
    c.publish(topic, b"x" * 32, qos=1)
    wait_for(c, 1)
    print("MQTT QoS 1 publish of 32 bytes to itself (PUBACK and delivery): %d exchanges" % (exchanges() - x0))
    c.disconnect()


def test_check_msg_is_non_blocking():
    c, topic = session("127.0.0.1", b"nb")
    check(c.check_msg() is None, "nothing waiting")
    c.publish(topic, b"late", qos=0)
    while not received or received[-1][1] != b"late":
        c.check_msg()
    c.disconnect()


def test_the_mqtt_example_runs_unmodified():
    run_example("mqtt_over_modem.py", BROKER_HOST="::1", BROKER_PORT=MQTT_PORT)


run(globals())
