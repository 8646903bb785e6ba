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
if PROFILE != "direct":
    socket.config(combined_send=PROFILE == "stock+combined")


def emit(**fields):
    fields["profile"] = PROFILE
    print(json.dumps(fields))


def measure(op, fn, count=1, payload=0):
    network._lte_reset_stats()
    for _ in range(count):
        fn()
    stats = network._lte_stats()
    emit(op=op, payload=payload, count=count, **{k: stats[k] / count for k in STAT_KEYS})


def connect_close():
    s = socket.socket()
    s.connect(ECHO)
    s.close()


measure("TCP socket() + connect + close", connect_close, min(N, 10))

s = socket.socket()
s.settimeout(30)
s.connect(ECHO)
data = bytes(i * 7 & 0xFF for i in range(BULK))
measure("TCP sendall", lambda: s.sendall(data), 1, BULK)


def receive_all():
    got = 0
    while got < BULK:
        got += len(s.recv(1500))


measure("TCP recv until all is in (echo of the sendall)", receive_all, 1, BULK)

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
