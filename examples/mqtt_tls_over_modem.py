# Publish to an MQTT broker over TLS done by the modem itself, with the stock umqtt.simple.
#
# Copy umqtt/simple.py (PyPI package micropython-umqtt-simple), your broker's CA certificate
# (PEM), lte_board.py and this file to a GPy/FiPy running firmware with microATsocket built in; attach LTE
# (no lte.connect()). umqtt.simple imports `usocket` and `ussl`: pointing those names at
# microATsocket and microATsocket.ssl before the import is all it takes. The CA is written into
# the modem once (its fingerprint is kept in /flash/microATsocket_tls.txt); later runs only dial.
import sys

from lte_board import attached_lte, setting
import microATsocket

sys.modules["usocket"] = microATsocket
sys.modules["socket"] = microATsocket
sys.modules["ussl"] = microATsocket.ssl
sys.modules["ssl"] = microATsocket.ssl
from umqtt.simple import MQTTClient  # noqa: E402

BROKER_HOST = setting("BROKER_HOST", "broker.example.com")  # your broker: a host name (checked against its certificate) or an address
BROKER_PORT = setting("BROKER_PORT", 8883)
CA_FILE = setting("CA_FILE", "/flash/cert/ca.pem")
TOPIC = b"gpy/hello"


microATsocket.set_modem(attached_lte())
ssl_params = {"cert_reqs": microATsocket.ssl.CERT_REQUIRED, "ca_certs": CA_FILE, "server_hostname": BROKER_HOST}
got = []
client = MQTTClient(b"gpy-tls-example", BROKER_HOST, port=BROKER_PORT, keepalive=60, ssl=True, ssl_params=ssl_params)
client.set_callback(lambda topic, msg: got.append(msg))
client.connect()
client.subscribe(TOPIC, qos=1)
client.publish(TOPIC, b"hello over the modem's TLS", qos=1)
while not got:
    client.wait_msg()
print("received back:", got[0])
client.disconnect()
