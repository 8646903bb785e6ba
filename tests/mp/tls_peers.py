"""TLS servers behind the simulated modem's secure sockets, with a PKI made at test time.

Certificates are generated with Debian's python3-cryptography into a temporary folder
(never committed): a test CA, another CA (the "wrong CA"), a server certificate for
loop6.test and ::1 (not localhost), the same server key in an expired certificate, and a client
certificate. Peers, all on ::1:
    MQTTS_PORT          mosquitto, TLS with the good certificate
    MQTTS_EXPIRED_PORT  mosquitto, TLS with the expired certificate
    MQTTS_CLIENT_PORT   mosquitto, TLS requiring a client certificate from the test CA
    HTTPS_PORT6         a CPython ssl HTTPS server (the same handler as the HTTP tests)
    TLS_DIR             ca.pem, other-ca.pem, client.pem, client.key
"""

import datetime
import os
import socket
import ssl
import subprocess
import threading
import time

import tcp_peers


def _pki(folder):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    def key():
        return ec.generate_private_key(ec.SECP256R1())

    def name(text):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    def cert(subject, pub, issuer, issuer_key, start, end, ca=False, sans=None):
        b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
             .public_key(pub).serial_number(x509.random_serial_number())
             .not_valid_before(start).not_valid_after(end)
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    def write(path, data):
        with open(os.path.join(folder, path), "wb") as f:
            f.write(data)

    pem = serialization.Encoding.PEM
    def key_pem(k):
        return k.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    now = datetime.datetime.now(datetime.timezone.utc)
    year = datetime.timedelta(days=365)
    ca_key, other_key, server_key, client_key = key(), key(), key(), key()
    ca = cert("mas test CA", ca_key.public_key(), "mas test CA", ca_key, now - year, now + year, ca=True)
    other = cert("other CA", other_key.public_key(), "other CA", other_key, now - year, now + year, ca=True)
    # Not "localhost": a name that reaches ::1 without being in the certificate (name mismatch).
    sans = [x509.DNSName("loop6.test"), x509.IPAddress(ipaddress.ip_address("::1"))]
    server = cert("loop6.test", server_key.public_key(), "mas test CA", ca_key, now - year, now + year, sans=sans)
    old = cert("loop6.test", server_key.public_key(), "mas test CA", ca_key,
               now - 3 * year, now - 2 * year, sans=sans)
    client = cert("mas client", client_key.public_key(), "mas test CA", ca_key, now - year, now + year)
    write("ca.pem", ca.public_bytes(pem))
    write("other-ca.pem", other.public_bytes(pem))
    write("server.pem", server.public_bytes(pem))
    write("expired.pem", old.public_bytes(pem))
    write("server.key", key_pem(server_key))
    write("client.pem", client.public_bytes(pem))
    write("client.key", key_pem(client_key))


def _free_ports(n):
    """n distinct free ports on ::1: every probe stays bound until all are chosen (a port
    probed and closed may be handed out again by the next probe)."""
    probes = []
    try:
        for _ in range(n):
            probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            probes.append(probe)
            probe.bind(("::1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def _mosquitto(folder):
    # The ports are free when chosen, but another process may bind one before mosquitto does
    # (the suites run side by side): then mosquitto exits at once, and it is started again on
    # other ports. Only its start is tried again, never a test.
    for _ in range(3):
        env, stop = _mosquitto_once(folder)
        if stop is not None:
            return env, stop
    return {}, None


def _mosquitto_once(folder):
    binary = tcp_peers.shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(binary):
        return {}, None
    ports = dict(zip(("MQTTS_PORT", "MQTTS_EXPIRED_PORT", "MQTTS_CLIENT_PORT"), _free_ports(3)))
    p = lambda f: os.path.join(folder, f)
    conf = p("mosquitto-tls.conf")
    with open(conf, "w") as f:
        f.write("persistence false\nallow_anonymous true\nlog_dest stderr\n")
        f.write("listener %d ::1\ncertfile %s\nkeyfile %s\n" % (ports["MQTTS_PORT"], p("server.pem"), p("server.key")))
        f.write("listener %d ::1\ncertfile %s\nkeyfile %s\n" % (ports["MQTTS_EXPIRED_PORT"], p("expired.pem"), p("server.key")))
        f.write("listener %d ::1\ncafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\n"
                % (ports["MQTTS_CLIENT_PORT"], p("ca.pem"), p("server.pem"), p("server.key")))
    log = open(p("mosquitto-tls.log"), "w")
    proc = subprocess.Popen([binary, "-c", conf], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("::1", ports["MQTTS_CLIENT_PORT"]), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None:
                log.close()
                with open(p("mosquitto-tls.log")) as f:
                    print("tls_peers: mosquitto did not start:", f.read()[-400:], flush=True)
                return {}, None
            time.sleep(0.05)

    def stop():
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

    return {k: str(v) for k, v in ports.items()}, stop


def _https(folder):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(folder, "server.pem"), os.path.join(folder, "server.key"))
    server = tcp_peers._HttpServer6(("::1", 0), tcp_peers._HttpHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return str(server.server_address[1]), server.shutdown


def start(folder):
    """Makes the PKI in `folder` and starts the servers: (environment additions, closers)."""
    _pki(folder)
    # mosquitto started as root reads its files as the mosquitto user: throwaway test keys.
    os.chmod(folder, 0o755)
    for name in os.listdir(folder):
        os.chmod(os.path.join(folder, name), 0o644)
    env = {"TLS_DIR": folder}
    closers = []
    ports, stop = _mosquitto(folder)
    env.update(ports)
    if stop:
        closers.append(stop)
    port, stop = _https(folder)
    env["HTTPS_PORT6"] = port
    closers.append(stop)
    return env, closers
