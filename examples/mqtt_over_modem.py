# Publish to an MQTT broker over the modem's own TCP sockets, with the stock umqtt.simple.
#
# Copy umqtt/simple.py (PyPI package micropython-umqtt-simple) and this file to a GPy/FiPy
# running firmware with microATsocket built in. The LTE modem only needs to be attached (no
# lte.connect()). umqtt.simple imports `usocket`: pointing that name at microATsocket before
# the import is all it takes, so it also works on an IPv6-only network. Edit the broker below.
import sys
import time

from network import LTE
import microATsocket

sys.modules["usocket"] = microATsocket
sys.modules["socket"] = microATsocket
from umqtt.simple import MQTTClient  # noqa: E402

BROKER_HOST = "2001:db8::1883"  # your broker: an IPv4 or IPv6 address, or a host name
BROKER_PORT = 1883
TOPIC = b"gpy/hello"
ATTACH_TIMEOUT_S = 120

# The test harness points the example at its local broker through the environment.
try:
    import os

    BROKER_HOST = os.getenv("BROKER_HOST") or BROKER_HOST
    BROKER_PORT = int(os.getenv("BROKER_PORT") or BROKER_PORT)
except (ImportError, AttributeError):
    pass


def attached_lte():
    lte = LTE()
    if not lte.isattached():
        lte.attach()
        waited = 0
        while not lte.isattached():
            if waited > ATTACH_TIMEOUT_S * 1000:
                raise OSError("LTE did not attach")
            time.sleep_ms(200)
            waited += 200
    return lte


microATsocket.set_modem(attached_lte())
got = []
client = MQTTClient(b"gpy-example", BROKER_HOST, port=BROKER_PORT, keepalive=60)
client.set_callback(lambda topic, msg: got.append(msg))
client.connect()
client.subscribe(TOPIC, qos=1)
client.publish(TOPIC, b"hello over the modem's TCP", qos=1)
while not got:
    client.wait_msg()
print("received back:", got[0])
client.disconnect()
