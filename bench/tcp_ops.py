# Runs inside the MicroPython unix port (bench/run_bench.py starts it after ops.py): TCP
# stream figures on the fake Pycom LTE's counters, one JSON object per line: connect, an MQTT
# QoS 1 publish round trip (umqtt.simple against mosquitto), a bulk transfer each way, and
# the GC heap per stream send/recv.
# Environment: as ops.py, plus TCP_ECHO_PORT4, MQTT_PORT and MP_LIBS (tests/mp/tcp_peers.py).
import gc
import json
import os
import sys

import network
import microATsocket as socket

PROFILE = os.getenv("BENCH_PROFILE") or "stock"
N = int(os.getenv("BENCH_N") or "20")
HEAP_N = min(int(os.getenv("BENCH_HEAP_N") or str(N)), 200)
ECHO = ("127.0.0.1", int(os.getenv("TCP_ECHO_PORT4")))
MQTT_PORT = int(os.getenv("MQTT_PORT") or "0")
MP_LIBS = os.getenv("MP_LIBS")
# 100 KB each way in a full run; a smoke run (few repetitions) moves 10 KB.
BULK = (100 if N >= 10 else 10) * 1024
STAT_KEYS = ("exchanges", "commands", "dummies", "continuations", "bytes_out", "bytes_in",
             "flushed_bytes", "idle_polls", "prompt_races", "modelled_us")

lte = network.LTE()
network._lte_profile("pr429" if PROFILE == "pr429" else "1.20.2")
socket.set_modem(lte, chunking=PROFILE == "pr429")
if PROFILE == "direct+hex":
    socket.config(raw_send=False, raw_recv=False)
elif not PROFILE.startswith("direct"):
    socket.config(combined_send=PROFILE == "stock+combined")
RAW_SEND = socket.config("raw_send")
RAW_RECV = socket.config("raw_recv")


def emit(**fields):
    fields["profile"] = PROFILE
    print(json.dumps(fields))


def measure(op, fn, count=1, payload=0, hex_out=0, hex_in=0):
    """hex_out / hex_in: payload bytes that went as hex text each way (bench/run_bench.py's
    raw-byte limit halves their wire time)."""
    network._lte_reset_stats()
    for _ in range(count):
        fn()
    stats = network._lte_stats()
    emit(op=op, payload=payload, count=count, hex_out=hex_out / count, hex_in=hex_in / count,
         **{k: stats[k] / count for k in STAT_KEYS})


def connect_close():
    s = socket.socket()
    s.connect(ECHO)
    s.close()


measure("TCP socket() + connect + close", connect_close, min(N, 10))

s = socket.socket()
s.settimeout(30)
s.connect(ECHO)
# Binary data (NUL bytes, no AT prefix): raw sends where the profile has them; with raw reads,
# the first answer holding a NUL costs the task's 1 s idle wait and turns the socket to hex
# reads, which happens here, before the rows.
for _ in range(2):
    s.sendall(b"\x00")
    s.recv(1)
data = bytes(i * 7 & 0xFF for i in range(BULK))
measure("TCP sendall", lambda: s.sendall(data), 1, BULK, 0 if RAW_SEND else BULK)


def receive_all(sock=s):
    got = 0
    while got < BULK:
        got += len(sock.recv(1500))


measure("TCP recv until all is in (echo of the sendall)", receive_all, 1, BULK, 0, BULK)

# Text (no NUL byte, no AT prefix): raw both ways where the profile allows it.
text_sock = socket.socket()
text_sock.settimeout(30)
text_sock.connect(ECHO)
text = bytes(0x20 + (i * 7) % 95 for i in range(BULK))
text_sock.sendall(text)
measure("TCP recv until all is in, text (no NUL byte)", lambda: receive_all(text_sock), 1, BULK, 0,
        0 if RAW_RECV else BULK)
text_sock.close()

small = b"x" * 16
gc.collect()
gc.disable()
before = gc.mem_alloc()
for _ in range(HEAP_N):
    s.send(small)
send_heap = (gc.mem_alloc() - before) / HEAP_N
gc.enable()
got = 0
buf = bytearray(16)
gc.collect()
gc.disable()
before = gc.mem_alloc()
reads = 0
while got < 16 * HEAP_N:
    got += s.readinto(buf)
    reads += 1
readinto_heap = (gc.mem_alloc() - before) / reads
gc.enable()
s.close()
emit(op="stream heap", count=HEAP_N, payload=16, send_bytes=send_heap, readinto_bytes=readinto_heap)

if MQTT_PORT and MP_LIBS:
    sys.path.append(MP_LIBS)
    sys.modules["usocket"] = socket
    from umqtt.simple import MQTTClient

    received = []
    c = MQTTClient(b"mas-bench", "127.0.0.1", port=MQTT_PORT, keepalive=60)
    c.set_callback(lambda topic, msg: received.append(msg))
    c.connect()
    c.subscribe(b"mas/bench", qos=1)

    def publish_round_trip():
        before = len(received)
        c.publish(b"mas/bench", b"y" * 32, qos=1)
        while len(received) == before:
            c.wait_msg()

    publish_round_trip()
    measure("MQTT QoS 1 publish to itself (PUBACK and delivery)", publish_round_trip, min(N, 10), 32)
    c.disconnect()
else:
    emit(op="skipped", payload=32, reason="no mosquitto or no umqtt.simple for the MQTT row")
print("OK")
