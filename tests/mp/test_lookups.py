# Name lookups as IPv4-written clients make them, on IPv6-only and dual-stack networks:
# the modem's resolver for every family before any query of our own, both families with
# AAAA first, answers kept, and names too long for the firmware's AT commands. Then clients
# written the way third-party code is (socket(AF_INET) + getaddrinfo(name)[0][-1], nothing
# known of this module) against an IPv6-only, a dual-stack and an IPv4-only name.
import os
import struct

from mas_testlib import *

EAI_FAIL = -202
DNS_PORT = int(os.getenv("DNS_PORT") or 0)
DEAD = ("127.0.0.1", 9)
LONG_NAME = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 56 + ".test"  # 253 characters
# The modem's addresses (AT+CGPADDR) on an IPv6-only attach and on a dual-stack one.
IPV6_ONLY = ("0.0.0.0", "32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.2")
DUAL_STACK = ("10.0.0.2", "32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.2")


def sim(line):
    reply = network._sim(line)
    check(reply.startswith("OK"), "%s -> %s" % (line, reply))


def commands():
    return sim_stats()["commands"]


def setup(modem=True, cache=True):
    sim(("dns ::1 %d" % DNS_PORT) if modem else "dns none")
    socket.dnsserver(0, ("::1", DNS_PORT))
    socket.dnsserver(1, DEAD)
    socket.config(dns_cache=cache)  # also forgets what was kept
    socket.getaddrinfo("::1", 1)
    socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).close()  # the modem sweep, out of the counts


def costs(fn, *args):
    """(result, AT commands) of fn(*args)."""
    before = commands()
    result = fn(*args)
    return result, commands() - before


def lookups(fn, *args):
    """(result, AT+SQNDNSLKUP commands, the fake LTE's 100 ms idle polls) of fn(*args)."""
    before = sim_stats()["dns_lookups"]
    network._lte_reset_stats()
    result = fn(*args)
    return result, sim_stats()["dns_lookups"] - before, network._lte_stats()["idle_polls"]


def ips(result):
    return [entry[-1][0] for entry in result]


def test_af0_returns_both_families_aaaa_first():
    setup(cache=False)
    result, cost, _ = lookups(socket.getaddrinfo, "both.test", 80)
    check(ips(result) == ["2001:db8::10", "192.0.2.10"], "both, AAAA first: %r" % result)
    check([e[0] for e in result] == [socket.AF_INET6, socket.AF_INET], "families: %r" % result)
    check(cost == 2, "one modem lookup per family: %d" % cost)
    check(ips(socket.getaddrinfo("both.test", 80, socket.AF_INET)) == ["192.0.2.10"], "af=AF_INET only A")
    check(ips(socket.getaddrinfo("both.test", 80, socket.AF_INET6)) == ["2001:db8::10"], "af=AF_INET6 only AAAA")


def test_a_only_name_never_takes_the_detour_through_own_queries():
    # The modem refuses the AAAA lookup and answers the A one: no DNS query of our own
    # (which would dial a modem socket: AT+SQNSD) is made. The refusal is a plain ERROR
    # (lookups run with AT+CMEE=0): no idle wait of the LTE task, where a +CME ERROR
    # costs ten 100 ms polls.
    setup(cache=False)
    dials = sim_stats()["dials"] if "dials" in sim_stats() else None
    result, cost, idle_polls = lookups(socket.getaddrinfo, "v4only.test", 123)
    check(ips(result) == ["192.0.2.4"], repr(result))
    check(cost == 2, "AAAA refused, A answered: %d lookups" % cost)
    check(idle_polls == 0, "refused without the idle wait: %d idle polls" % idle_polls)
    check(socket._slots_in_use() == 0 and sim_stats()["open_slots"] == 0, "no socket borrowed")
    if dials is not None:
        check(sim_stats()["dials"] == dials, "no dial")


def test_own_query_only_when_the_modem_answers_nothing():
    setup(modem=False, cache=False)
    result = socket.getaddrinfo("v6only.test", 5683)
    check(ips(result) == ["2001:db8::6"], "own query found AAAA: %r" % result)
    raises(OSError, socket.getaddrinfo, "nosuch.test", 1, errno=EAI_FAIL)


def test_modem_answers_are_kept():
    setup(cache=True)
    first, cost_first, _ = lookups(socket.getaddrinfo, "both.test", 80)
    again, cost_again = costs(socket.getaddrinfo, "both.test", 443)
    check(cost_first == 2 and cost_again == 0, "kept: %d lookups, then %d commands" % (cost_first, cost_again))
    check(ips(again) == ips(first) and again[0][-1][1] == 443, "same answer, new port: %r" % again)
    socket.config(dns_cache=False)
    _, cost_off = costs(socket.getaddrinfo, "both.test", 80)
    check(cost_off == 2, "config(dns_cache=False) asks again: %d" % cost_off)
    check(socket.config("dns_cache") is False, "config reads back")


def test_own_query_answers_are_kept_for_their_ttl():
    setup(modem=False, cache=True)
    _, cost_first = costs(socket.getaddrinfo, "v6only.test", 53, socket.AF_INET6)
    _, cost_again = costs(socket.getaddrinfo, "v6only.test", 53, socket.AF_INET6)
    check(cost_first > 0 and cost_again == 0, "kept for the TTL: %d then %d" % (cost_first, cost_again))
    socket.dnsserver(0, ("::1", DNS_PORT))  # a server change forgets what was kept
    _, cost_after = costs(socket.getaddrinfo, "v6only.test", 53, socket.AF_INET6)
    check(cost_after > 0, "asked again after dnsserver(): %d" % cost_after)


def test_longest_legal_name():
    setup(cache=False)
    unlimited = socket.config("max_command") == 0
    if unlimited:
        result = socket.getaddrinfo(LONG_NAME, 1, socket.AF_INET6)
        check(ips(result) == ["2001:db8::253"], "resolved: %r" % result)
    else:
        before = modem_bytes_in()
        e = raises(OSError, socket.getaddrinfo, LONG_NAME, 1, errno=EAI_FAIL)
        check("too long" in str(e), "says why: %r" % e)
        check(modem_bytes_in() == before, "nothing reached the modem")


# ---- clients written as third-party code is -----------------------------------------------

def ntp_like_client(host, port):
    """As micropython-lib's ntptime does it: AF_INET, getaddrinfo()[0][-1], a 48-byte request."""
    query = bytearray(48)
    query[0] = 0x1B
    addr = socket.getaddrinfo(host, port)[0][-1]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(5)
        s.sendto(query, addr)
        msg = s.recv(48)
    finally:
        s.close()
    return msg, addr


def coap_like_client(host, port):
    """As microCoAPy does it: an AF_INET UDP socket, getaddrinfo()[0][-1], one CON request."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    addr = socket.getaddrinfo(host, port)[0][-1]
    message = struct.pack("!BBH", 0x40, 0x01, 0x1234) + b"\xb4test"
    s.sendto(message, addr)
    data, sender = s.recvfrom(1152)
    s.close()
    return data, sender, message


def check_clients_on(network_addresses):
    sim("cgpaddr %s %s" % network_addresses)
    setup(cache=True)
    for name, port, want_ip in (("echo6.test", echo6()[1], "::1"),
                                ("echo46.test", echo6()[1], "::1"),   # AAAA first
                                ("echo4.test", echo4()[1], "127.0.0.1")):
        msg, addr = ntp_like_client(name, port)
        check(addr[0] == want_ip and len(msg) == 48 and msg[0] == 0x1B, "ntp-like via %s: %r %r" % (name, addr, msg[:4]))
        data, sender, sent = coap_like_client(name, port)
        check(data == sent and sender[0] == want_ip, "coap-like via %s: %r" % (name, sender))
    check(socket._slots_in_use() == 0, "every client closed its socket")


def test_ipv4_written_clients_on_an_ipv6_only_network():
    check_clients_on(IPV6_ONLY)


def test_ipv4_written_clients_on_a_dual_stack_network():
    check_clients_on(DUAL_STACK)


run(globals())
