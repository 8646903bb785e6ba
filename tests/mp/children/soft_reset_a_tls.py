# Script A: a TLS connection in the modem (the CA written to the modem, the connId secure), left
# open when the script ends.
from childlib import *

MQTTS = peer("MQTTS_PORT", "::1")
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.connect(MQTTS)
socket.ssl.wrap_socket(s, cert_reqs=socket.ssl.CERT_REQUIRED, ca_certs=tls_ca())
network = __import__("network")
print("A: TLS socket open, nvm_writes", network._sim("stats").split("nvm_writes=")[1].split()[0])
