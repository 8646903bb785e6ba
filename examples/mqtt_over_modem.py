# Publish to an MQTT broker over the modem's own TCP sockets, with the stock umqtt.simple.
#
# Copy umqtt/simple.py (PyPI package micropython-umqtt-simple), lte_board.py and this file to a GPy/FiPy
# running firmware with microATsocket built in. The LTE modem only needs to be attached (no
# lte.connect()). umqtt.simple imports `usocket`: pointing that name at microATsocket before
# the import is all it takes, so it also works on an IPv6-only network. Edit the broker below.
import sys

from lte_board import attached_lte, fail, setting
import microATsocket

sys.modules["usocket"] = microATsocket
sys.modules["socket"] = microATsocket
from umqtt.simple import MQTTClient  # noqa: E402

BROKER_HOST = setting("BROKER_HOST", "2001:db8::1883")  # your broker: an IPv4 or IPv6 address, or a host name
BROKER_PORT = setting("BROKER_PORT", 1883)
TOPIC = b"gpy/hello"


microATsocket.set_modem(attached_lte())
got = []
client = MQTTClient(b"gpy-example", BROKER_HOST, port=BROKER_PORT, keepalive=60)
client.set_callback(lambda topic, msg: got.append(msg))
try:
    client.connect()
except OSError as e:
    fail("connecting to the broker %s, port %d" % (BROKER_HOST, BROKER_PORT), e,
         "check BROKER_HOST and BROKER_PORT in this file and that the broker accepts this client")
client.subscribe(TOPIC, qos=1)
client.publish(TOPIC, b"hello over the modem's TCP", qos=1)
while not got:
    client.wait_msg()
print("received back:", got[0])
client.disconnect()
