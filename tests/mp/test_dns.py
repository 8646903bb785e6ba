# Name resolution: literals without the modem; names through the modem's resolver
# (AT+SQNDNSLKUP, the simulator asking dnsmasq) and through the module's own DNS query over a
# modem UDP socket, IPv6 first; failures as OSError(-202), hostile answers survived.
import os

from mas_testlib import *

EAI_FAIL = -202
DNS_PORT = int(os.getenv("DNS_PORT") or 0)
BAD_DNS_PORT = int(os.getenv("BAD_DNS_PORT") or 0)
# A loopback port nothing listens on: a fallback query sent there is never answered.
DEAD = ("127.0.0.1", 9)


def sim(line):
    reply = network._sim(line)
    check(reply.startswith("OK"), "%s -> %s" % (line, reply))
    return reply


def modem_resolver(on):
    sim(("dns ::1 %d" % DNS_PORT) if on else "dns none")
    socket.config(dns_cache=False)  # also forgets a resolver resting after it failed


def fallback_servers(first, second=DEAD):
    socket.dnsserver(0, first)
    socket.dnsserver(1, second)


def addresses(result):
    return [entry[-1][0] for entry in result]


def sim_count(key):
    return sim_stats()[key]


# Each test here looks at one path of a lookup: no answers are kept between them (the
# answer cache has its own tests in test_lookups.py).
socket.config(dns_cache=False)


def test_literals_need_no_modem():
    before = exchanges()
    check(socket.getaddrinfo("2001:db8::1", 5683) == [(socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_UDP, "", ("2001:db8::1", 5683))], "v6 literal")
    check(socket.getaddrinfo("192.0.2.1", 7)[0][-1] == ("192.0.2.1", 7), "v4 literal")
    check(exchanges() == before, "no exchange for literals")


def test_modem_resolver_ipv6_first_then_ipv4():
    check(DNS_PORT, "DNS_PORT is not set (run through tests/mp/run_mp_tests.py)")
    modem_resolver(True)
    fallback_servers(("::1", DNS_PORT))
    socket.getaddrinfo("both.test", 1)  # numeric errors on, first use
    before = sim_count("commands")
    result = socket.getaddrinfo("both.test", 5683)
    check(sim_count("commands") - before == 2, "one AT+SQNDNSLKUP per family")
    check([entry[0] for entry in result] == [socket.AF_INET6, socket.AF_INET], "both families: %r" % result)
    check(result[0][-1] == ("2001:db8::10", 5683) and result[1][-1] == ("192.0.2.10", 5683), "AAAA first: %r" % result)
    check(addresses(socket.getaddrinfo("both.test", 1, socket.AF_INET)) == ["192.0.2.10"], "af=AF_INET")
    check(addresses(socket.getaddrinfo("v4only.test", 1)) == ["192.0.2.4"], "A when there is no AAAA")
    check(addresses(socket.getaddrinfo("alias.test", 1, socket.AF_INET6)) == ["2001:db8::10"], "CNAME followed")
    check(sorted(addresses(socket.getaddrinfo("many.test", 1))) == ["2001:db8::21", "2001:db8::22"], "several")
    check(socket._slots_in_use() == 0, "no slot used by the modem resolver")


def test_ipv6_only_name_over_ipv6_server():
    modem_resolver(False)
    fallback_servers(("::1", DNS_PORT))
    result = socket.getaddrinfo("v6only.test", 53, socket.AF_INET6)
    check(result == [(socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_UDP, "", ("2001:db8::6", 53))], repr(result))
    raises(OSError, socket.getaddrinfo, "v6only.test", 53, socket.AF_INET, errno=EAI_FAIL)
    check(sim_stats()["open_slots"] == 0, "borrowed slot closed: %r" % sim_stats())


def test_own_query_when_the_modem_cannot_answer():
    modem_resolver(False)
    for server in (("127.0.0.1", DNS_PORT), ("::1", DNS_PORT)):
        fallback_servers(server)
        check(addresses(socket.getaddrinfo("both.test", 1)) == ["2001:db8::10", "192.0.2.10"], "fallback AAAA, A via %r" % (server,))
        check(addresses(socket.getaddrinfo("alias.test", 1, socket.AF_INET)) == ["192.0.2.10"], "fallback CNAME")
    check(socket._slots_in_use() == 0 and sim_stats()["open_slots"] == 0, "borrowed slots freed")


def test_a_resolver_that_failed_on_this_network_rests():
    # It answered nothing for a name our own query found: later names skip it (each of its
    # refusals costs the LTE task's 1 s idle wait), until config(dns_cache=...) forgets it.
    # Told apart by the resolver working again: asked, it answers in one command; resting,
    # our own query goes out (a dial, a send, reads, a close).
    modem_resolver(False)
    fallback_servers(("::1", DNS_PORT))
    check(addresses(socket.getaddrinfo("both.test", 1)) == ["2001:db8::10", "192.0.2.10"], "fallback")

    def cost(name):
        before = (sim_count("commands"), sim_count("dns_lookups"))
        check(addresses(socket.getaddrinfo(name, 1, socket.AF_INET6)) == ["2001:db8::6"], "resolved")
        return sim_count("commands") - before[0], sim_count("dns_lookups") - before[1]

    sim("dns ::1 %d" % DNS_PORT)  # the resolver works again, unknown to the module
    commands, asked = cost("v6only.test")
    check(asked == 0 and commands > 1, "resting: our own query, not the modem's resolver")
    socket.config(dns_cache=False)  # forgets the resting resolver
    commands, asked = cost("v6only.test")
    check(asked == 1 and commands <= 2, "asked again: one AT+SQNDNSLKUP (after AT+CMEE=0): %d" % commands)
    # A name nobody finds says nothing about the resolver.
    modem_resolver(False)
    raises(OSError, socket.getaddrinfo, "nosuch.test", 1, socket.AF_INET6, errno=EAI_FAIL)
    sim("dns ::1 %d" % DNS_PORT)
    commands, asked = cost("v6only.test")
    check(asked == 1 and commands <= 2, "not resting after a name nobody found: %d" % commands)


def test_unreachable_servers_end_in_eai_fail():
    modem_resolver(False)
    # Not on loopback: the simulator's modem answers NO CARRIER to the dial.
    fallback_servers("2001:4860:4860::8888", "8.8.8.8")
    raises(OSError, socket.getaddrinfo, "both.test", 1, errno=EAI_FAIL)
    check(socket._slots_in_use() == 0 and sim_stats()["open_slots"] == 0, "nothing left open")


def test_second_server_when_the_first_is_silent():
    modem_resolver(False)
    fallback_servers(DEAD, ("::1", DNS_PORT))
    check(addresses(socket.getaddrinfo("v4only.test", 1, socket.AF_INET)) == ["192.0.2.4"], "second server")


def test_no_such_name_is_eai_fail_on_both_paths():
    for modem in (True, False):
        modem_resolver(modem)
        fallback_servers(("::1", DNS_PORT))
        raises(OSError, socket.getaddrinfo, "nosuch.test", 1, errno=EAI_FAIL)
    check(sim_stats()["open_slots"] == 0, "nothing left open")


def test_hostile_answers_fail_cleanly():
    modem_resolver(False)
    check(BAD_DNS_PORT, "BAD_DNS_PORT is not set")
    bad = ("::1", BAD_DNS_PORT)
    fallback_servers(bad, bad)
    for name in ("trunc.bad", "short.bad", "loop.bad"):
        raises(OSError, socket.getaddrinfo, name, 1, socket.AF_INET, errno=EAI_FAIL)
    # Answers with the wrong ID are never taken: the queries time out, and so does the
    # second server (dnsmasq does not answer outside its zone).
    fallback_servers(bad, ("::1", DNS_PORT))
    raises(OSError, socket.getaddrinfo, "wrongid.bad", 1, socket.AF_INET, errno=ETIMEDOUT)
    check(socket._slots_in_use() == 0 and sim_stats()["open_slots"] == 0, "nothing leaked")


def test_bad_names_never_reach_the_modem():
    before = exchanges()
    for name in ('evil".test', "a.test\r\nAT+SQNSH=1", "a,b.test", "a;b", "", "x" * 300, "caf\u00e9.test", "Pycom_Dummy+++"):
        raises(ValueError, socket.getaddrinfo, name, 1)
    raises(TypeError, socket.getaddrinfo, b"both.test", 1)
    check(exchanges() == before, "nothing sent")


def test_dnsserver_get_and_set():
    socket.dnsserver(0, "2001:db8::53")
    check(socket.dnsserver(0) == ("2001:db8::53", 53), repr(socket.dnsserver(0)))
    socket.dnsserver(1, ("127.0.0.1", 5353))
    check(socket.dnsserver() == (("2001:db8::53", 53), ("127.0.0.1", 5353)), repr(socket.dnsserver()))
    raises(ValueError, socket.dnsserver, 2, "1.2.3.4")
    raises(ValueError, socket.dnsserver, 0, "dns.example")


run(globals())
