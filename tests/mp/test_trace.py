# microATsocket.trace(): every exchange written as it happens, in the format c_glue/README.md
# describes ("Trace format"); payloads named by length and SHA-256 unless asked for; a trace
# costs no exchange and changes none; a target that fails ends the trace, not the operation.
import io

from mas_testlib import *

TRACE_DIR = os.getenv("TRACE_RECORD_DIR")


class Lines:
    """A stream target that keeps what was written (to read it back)."""

    def __init__(self):
        self.text = b""
        self.writes = 0

    def write(self, data):
        self.text += bytes(data)
        self.writes += 1
        return len(data)


def records(text, letter):
    if isinstance(text, bytes):
        text = text.decode()
    return [line for line in text.split("\n") if line.startswith(letter + " ")]


def traced(fn, payloads=False):
    out = Lines()
    socket.trace(out, payloads=payloads)
    try:
        fn()
    finally:
        socket.trace(None)
    return out.text.decode()


def udp_echo():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    echo_once(s, b"trace me", echo4())
    s.close()


def test_every_exchange_is_written_once():
    before = exchanges()
    text = traced(udp_echo)
    made = exchanges() - before
    x = records(text, "X")
    a = records(text, "A")
    sleeps = [line for line in x if " sleep " in line]
    check(len(x) - len(sleeps) == made, "%d X lines for %d exchanges" % (len(x), made))
    check(len(a) == len(x), "an answer per exchange: %d X, %d A" % (len(x), len(a)))
    check(text.startswith("# microATsocket trace 1"), "first line: %r" % text[:40])
    header = records(text, "H")
    check(header and ("transport=" + transport()) in header[0], "header %r" % header)
    notes = records(text, "N")
    names = [n.split()[2] for n in notes]
    for name in ("configure", "socket_open", "sendto", "recvfrom", "close"):
        check(name in names, "note %s in %r" % (name, names))
    check(records(text, "E"), "an E line at trace(None)")
    check(len(records(text, "D")) >= 3, "an outcome per operation")


def test_payloads_are_hashed_unless_asked():
    text = traced(udp_echo)
    check("trace me" not in text and "7472616365206d65" not in text, "payload shown: %s" % text)
    check("#8:" in text, "payload named by length: %s" % text)
    # The received datagram inside the answer too.
    check("\\#" in text, "received bytes hidden in the answer")
    shown = traced(udp_echo, payloads=True)
    check("trace me" in shown or "7472616365206d65" in shown, "payload shown on request")


def test_credentials_are_hashed():
    tls = os.getenv("TLS_DIR")
    port = int(os.getenv("MQTTS_PORT") or 0)
    check(tls and port, "TLS_DIR/MQTTS_PORT are not set")
    ssl = socket.ssl
    ssl.store("/tmp/mas_trace_store_%s.txt" % transport())
    with open(tls + "/ca.pem") as f:
        body = f.read().split("\n")[1]

    def upload():
        s = socket.socket()
        s.connect(socket.getaddrinfo("::1", port)[0][-1])
        s = ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED, ca_certs=tls + "/ca.pem")
        s.close()

    text = traced(upload)
    check("AT+SQNSNVW" in text, "the upload is in the trace")
    check(body not in text, "certificate text in a trace")


def test_off_costs_no_exchange():
    before = exchanges()
    udp_echo()
    plain = exchanges() - before
    before = exchanges()
    traced(udp_echo)
    check(exchanges() - before == plain, "a trace changed the exchanges: %d vs %d" % (exchanges() - before, plain))


def test_file_target_is_opened_and_closed():
    # The runner's simulator socket path is unique to this run: side-by-side runs never share it.
    path = os.getenv("MONARCH_SIM_SOCKET") + ".trace.txt"
    socket.trace(path)
    udp_echo()
    socket.trace(None)
    with open(path) as f:
        text = f.read()
    check(records(text, "X") and records(text, "E"), "file trace: %r" % text[:200])
    os.remove(path)


def test_memory_stays_bounded():
    out = Lines()
    socket.trace(out)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    echo_once(s, b"warm", echo4())
    gc.collect()
    free = gc.mem_free()
    for _ in range(5):
        echo_once(s, b"x" * 40, echo4())
    out.text = b""  # what the target keeps is the target's business
    gc.collect()
    socket.trace(None)
    s.close()
    check(free - gc.mem_free() < 512, "heap held by the trace grew: %d bytes" % (free - gc.mem_free()))


def test_failing_target_ends_the_trace_not_the_operation():
    class Broken:
        def write(self, data):
            raise OSError(28)

    socket.trace(Broken())
    udp_echo()  # must work
    udp_echo()
    socket.trace(None)


def test_bad_target_is_refused():
    raises(TypeError, socket.trace, 42)


def test_stopping_twice_is_fine():
    socket.trace(None)
    socket.trace(None)


run(globals())
