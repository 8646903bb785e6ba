/*
 * getaddrinfo(host, port, af=0, type=0, proto=0, flags=0), as MicroPython's
 * usocket returns it: a list of (family, type, proto, canonname, (ip, port)),
 * and dnsserver() for the servers the core's own resolver asks.
 *
 * Literal IPv4 and IPv6 addresses are answered here without touching the
 * modem. A name that could not be sent (quotes, CR, commas...) raises
 * ValueError before anything reaches the modem. Other names go to the core:
 * the modem's resolver (AT+SQNDNSLKUP) for every family asked (af=0: both,
 * AAAA entries first, as CPython lists them), and only when it answered none
 * of them, our own DNS query to the first server over a modem UDP socket (af=0:
 * the AAAA and A queries back to back on it), then to the second if the first
 * timed out. Answers are kept (see the cache
 * below). A modem resolver that answered nothing for a name our own query then
 * found is not asked again for RESOLVER_REST_MS. No address: socket.gaierror(-202,
 * text), an OSError whose errno is what a failed lookup raises in MicroPython; no
 * answer at all: socket.timeout.
 */
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/nlr.h"
#include "py/runtime.h"

#include <string.h>

#include "mas_glue.h"

static mp_obj_t addrinfo_entry(const mas_addr *addr) {
    mp_obj_t items[5] = {
        MP_OBJ_NEW_SMALL_INT(addr->family == 6 ? MASG_AF_INET6 : MASG_AF_INET),
        MP_OBJ_NEW_SMALL_INT(MASG_SOCK_DGRAM),
        MP_OBJ_NEW_SMALL_INT(MASG_IPPROTO_UDP),
        MP_OBJ_NEW_QSTR(MP_QSTR_),
        masg_addr_to_obj(addr),
    };
    return mp_obj_new_tuple(5, items);
}

/* Fallback DNS servers (public resolvers, IPv6 first); dnsserver() changes them. */
#define DNS_SERVERS (2)
#define DNS_PORT (53)
MP_DEFINE_STR_OBJ(masg_default_dns_v6_obj, "2001:4860:4860::8888");
MP_DEFINE_STR_OBJ(masg_default_dns_v4_obj, "8.8.8.8");
static const mp_obj_str_t *const default_dns[DNS_SERVERS] = { &masg_default_dns_v6_obj, &masg_default_dns_v4_obj };
static mas_addr dns_servers[DNS_SERVERS];
static bool dns_servers_ready;

static void dns_servers_init(void) {
    if (!dns_servers_ready) {
        for (size_t i = 0; i < DNS_SERVERS; i++) {
            (void)mas_addr_parse((const char *)default_dns[i]->data, default_dns[i]->len, DNS_PORT, &dns_servers[i]);
        }
        dns_servers_ready = true;
    }
}

static void cache_clear(void);
static bool cache_enabled = true;

/* The modem's resolver found nothing for a name our own query found: it does not
 * work on this network (a modem whose resolver cannot reach the operator's DNS,
 * or answers no AAAA). Each of its refusals costs a +CME ERROR, and the LTE task
 * idle-waits a second on every one, so it rests for RESOLVER_REST_MS before it is
 * asked again. Forgotten by config(dns_cache=...). */
#define RESOLVER_REST_MS (10u * 60u * 1000u)
static bool resolver_resting;
static uint32_t resolver_rest_from_ms;

static void resolver_forget(void) {
    resolver_resting = false;
}

/* A query ID nobody on the path can guess from the previous one. */
static uint16_t next_query_id(void) {
    static uint32_t counter;
    counter = counter * 1103515245u + 12345u + (uint32_t)mp_hal_ticks_us();
    return (uint16_t)(counter >> 16);
}

/* ---- the answer cache ------------------------------------------------------
 * ntptime and most clients look the name up before every request. A kept
 * answer costs no exchange: own DNS answers are kept for their records' TTL,
 * modem answers (the modem does not say) for MODEM_ANSWER_TTL_S. Off with
 * config(dns_cache=False). */
#define CACHE_ENTRIES (4)
#define CACHE_ADDRS (2 * MAS_MAX_ADDRESSES)
#define MODEM_ANSWER_TTL_S (60)
/* A TTL is capped so that ticks_ms arithmetic stays far from wrapping. */
#define MAX_TTL_S (3600)

typedef struct {
    bool used;
    uint8_t af; /* the getaddrinfo af asked: 0, MASG_AF_INET or MASG_AF_INET6 */
    uint8_t host_len;
    uint8_t count;
    char host[253];
    uint32_t expires_ms;
    mas_addr addrs[CACHE_ADDRS];
} cache_entry;

static cache_entry cache[CACHE_ENTRIES];

static void cache_clear(void) {
    for (size_t i = 0; i < CACHE_ENTRIES; i++) {
        cache[i].used = false;
    }
}

bool masg_dns_cache_enabled(void) {
    return cache_enabled;
}

void masg_dns_cache_enable(bool on) {
    cache_enabled = on;
    cache_clear();
    resolver_forget();
}

static uint32_t now_ms(void) {
    return (uint32_t)mp_hal_ticks_ms();
}

static bool resolver_rests(void) {
    if (resolver_resting && now_ms() - resolver_rest_from_ms >= RESOLVER_REST_MS) {
        resolver_resting = false;
    }
    return resolver_resting;
}

static cache_entry *cache_find(const char *host, size_t len, int af) {
    for (size_t i = 0; i < CACHE_ENTRIES; i++) {
        cache_entry *e = &cache[i];
        if (e->used && e->af == af && e->host_len == len && memcmp(e->host, host, len) == 0) {
            if ((int32_t)(e->expires_ms - now_ms()) > 0) {
                return e;
            }
            e->used = false; /* expired */
        }
    }
    return NULL;
}

static void cache_put(const char *host, size_t len, int af, const mas_addr *addrs, size_t count, uint32_t ttl_s) {
    if (!cache_enabled || ttl_s == 0 || count == 0 || len > sizeof(cache[0].host)) {
        return;
    }
    /* A free entry, else the one closest to expiry. */
    cache_entry *slot = &cache[0];
    for (size_t i = 0; i < CACHE_ENTRIES; i++) {
        if (!cache[i].used) {
            slot = &cache[i];
            break;
        }
        if ((int32_t)(cache[i].expires_ms - slot->expires_ms) < 0) {
            slot = &cache[i];
        }
    }
    slot->used = true;
    slot->af = (uint8_t)af;
    slot->host_len = (uint8_t)len;
    memcpy(slot->host, host, len);
    slot->count = (uint8_t)(count < CACHE_ADDRS ? count : CACHE_ADDRS);
    memcpy(slot->addrs, addrs, slot->count * sizeof(mas_addr));
    slot->expires_ms = now_ms() + 1000u * (ttl_s < MAX_TTL_S ? ttl_s : MAX_TTL_S);
}

/* ---- lookups ---------------------------------------------------------------- */

/* Addresses found for one getaddrinfo call: AAAA first, then A. */
typedef struct {
    mas_addr addrs[CACHE_ADDRS];
    size_t count;
    uint32_t ttl_s; /* the shortest of the answers' */
} found_addrs;

static void found_add(found_addrs *found, const mas_outcome *out, uint32_t ttl_s) {
    for (size_t i = 0; i < out->addr_count && found->count < CACHE_ADDRS; i++) {
        found->addrs[found->count++] = out->addrs[i];
    }
    if (ttl_s < found->ttl_s) {
        found->ttl_s = ttl_s;
    }
}

/* One lookup of one family: the modem's resolver (server NULL) or our own
 * query to `server`; 0 or an errno. */
static int32_t lookup(const char *host, size_t len, uint8_t family, const mas_addr *server, mas_outcome *out) {
    masg_op_enter(true);
    int32_t begun = server == NULL
        ? mas_resolve_begin(host, len, family, NULL, 0)
        : mas_resolve_own_begin(host, len, family, server, next_query_id());
    int32_t err = masg_op_finish(begun, out);
    masg_op_leave();
    if (err == MAS_EINVAL) {
        /* The core's own check is stricter (labels of 1..63, no edge hyphen, no
         * Pycom_Dummy): refused before any exchange, like the names above. */
        mp_raise_ValueError(MP_ERROR_TEXT("not an IP address nor a valid host name"));
    }
    return err;
}

/* The modem's resolver for every family needed, before any query of our own:
 * a name with only an A record costs one refused AAAA lookup, not a detour
 * through the fallback servers. Returns whether it answered at all. */
static bool ask_modem(const char *host, size_t len, const uint8_t *families, size_t n_families,
    found_addrs *found, bool *too_long) {
    bool answered = false;
    for (size_t f = 0; f < n_families; f++) {
        mas_outcome out;
        int32_t err = lookup(host, len, families[f], NULL, &out);
        if (err == 0) {
            found_add(found, &out, MODEM_ANSWER_TTL_S);
            answered = true;
        } else if (err == MAS_EMSGSIZE) {
            *too_long = true;
        } else if (err != MAS_ENONAME && err != MAS_EIO && err != MAS_ETIMEDOUT) {
            masg_raise(err);
        }
    }
    return answered;
}

/* Our own DNS query to the first server, then to the second if the first did
 * not answer. `family` 4, 6, or 0 for both: then the core sends the AAAA and
 * the A query back to back over one modem socket and reads both answers, IPv6
 * addresses first. Returns whether a server left the queries unanswered. */
static bool ask_servers(const char *host, size_t len, uint8_t family, found_addrs *found, bool *too_long) {
    bool timed_out = false;
    for (size_t s = 0; s < DNS_SERVERS; s++) {
        mas_outcome out;
        int32_t err = lookup(host, len, family, &dns_servers[s], &out);
        if (err == 0) {
            found_add(found, &out, out.ttl_s < 0 ? 0 : (uint32_t)out.ttl_s);
            break;
        }
        if (err == MAS_ENONAME) {
            break; /* an answer, just no address: the next server would say the same */
        }
        if (err == MAS_EMSGSIZE) {
            *too_long = true;
            break;
        }
        if (err == MAS_ETIMEDOUT) {
            timed_out = true;
        } else if (err != MAS_EHOSTUNREACH && err != MAS_EIO) {
            if (err == MAS_ENOMEM) {
                masg_raise_msg(masg_errno(err), "no modem socket free for the DNS query (all 6 in use): "
                    "close a socket first, or give an IP address");
            }
            masg_raise(err);
        }
        /* unanswered or unreachable: the next server */
    }
    return timed_out;
}

static mp_obj_t addrinfo_list(const mas_addr *addrs, size_t count, uint16_t port) {
    mp_obj_t list = mp_obj_new_list(0, NULL);
    for (size_t i = 0; i < count; i++) {
        mas_addr addr = addrs[i];
        addr.port = port;
        mp_obj_list_append(list, addrinfo_entry(&addr));
    }
    return list;
}

static MP_DEFINE_STR_OBJ(name_too_long_text,
    "host name too long for this firmware's 124-byte AT commands: use chunking (PR 429) or the lteppp transport");

/* Returns a list of addrinfo entries or raises. */
static mp_obj_t resolve_name(const char *host, size_t len, uint16_t port, int family) {
    if (!masg_is_host_name(host, len)) {
        mp_raise_ValueError(MP_ERROR_TEXT("not an IP address nor a valid host name"));
    }
    if (cache_enabled) {
        cache_entry *kept = cache_find(host, len, family);
        if (kept != NULL) {
            return addrinfo_list(kept->addrs, kept->count, port);
        }
    }
    dns_servers_init();
    /* af=0: both families, AAAA first (an IPv6-only network is why this module exists). */
    uint8_t families[2];
    size_t n_families = 0;
    if (family != MASG_AF_INET) {
        families[n_families++] = 6;
    }
    if (family != MASG_AF_INET6) {
        families[n_families++] = 4;
    }
    found_addrs found = { .count = 0, .ttl_s = UINT32_MAX };
    bool too_long = false;
    bool timed_out = false;
    bool resting = resolver_rests();
    if (resting || !ask_modem(host, len, families, n_families, &found, &too_long)) {
        /* The modem's resolver failed for every family: ask the servers ourselves. */
        uint8_t own_family = n_families == 2 ? 0 : families[0];
        timed_out = ask_servers(host, len, own_family, &found, &too_long);
        if (!resting && found.count != 0) {
            resolver_resting = true;
            resolver_rest_from_ms = now_ms();
        }
    }
    if (found.count != 0) {
        cache_put(host, len, family, found.addrs, found.count, found.ttl_s);
        return addrinfo_list(found.addrs, found.count, port);
    }
    if (too_long) {
        /* Still -202 for code that checks it, with the reason for people. */
        masg_raise_gaierror(MASG_EAI_FAIL, MP_OBJ_FROM_PTR(&name_too_long_text));
    }
    if (timed_out) {
        masg_raise_timeout("name lookup timed out: no DNS server answered (the modem's resolver, then dnsserver()): "
            "check lte.isattached() and the servers dnsserver() lists");
    }
    vstr_t text;
    vstr_init(&text, 96);
    vstr_printf(&text, "host name '%.*s' not found: neither the modem's resolver nor the DNS servers "
        "(dnsserver()) know it; check the spelling", (int)len, host);
    masg_raise_gaierror(MASG_EAI_FAIL, MPCOMPAT_STR_FROM_VSTR(&text));
}

// function microATsocket.dnsserver() / dnsserver(index) / dnsserver(index, ip or (ip, port))
mp_obj_t masg_dnsserver(size_t n_args, const mp_obj_t *args) {
    dns_servers_init();
    if (n_args == 0) {
        mp_obj_t items[DNS_SERVERS];
        for (size_t i = 0; i < DNS_SERVERS; i++) {
            items[i] = masg_addr_to_obj(&dns_servers[i]);
        }
        return mp_obj_new_tuple(DNS_SERVERS, items);
    }
    mp_int_t index = mp_obj_get_int(args[0]);
    if (index < 0 || index >= DNS_SERVERS) {
        mp_raise_ValueError(MP_ERROR_TEXT("dnsserver index must be 0 or 1"));
    }
    if (n_args == 1) {
        return masg_addr_to_obj(&dns_servers[index]);
    }
    mas_addr server;
    if (mp_obj_is_str(args[1])) {
        size_t len;
        const char *text = mp_obj_str_get_data(args[1], &len);
        if (mas_addr_parse(text, len, DNS_PORT, &server) != 0) {
            mp_raise_ValueError(MP_ERROR_TEXT("a DNS server must be an IPv4 or IPv6 address"));
        }
    } else {
        masg_addr_from_obj(args[1], MASG_AF_INET6, MASG_ADDR_PEER, &server);
    }
    dns_servers[index] = server;
    cache_clear(); /* answers from the old server are not the new one's */
    return mp_const_none;
}

/* Entries for a SOCK_STREAM request name the stream type and TCP (urequests
 * passes them straight to socket()); the rest stay datagram entries. */
static mp_obj_t for_type(mp_obj_t list, mp_int_t type) {
    if (type != MASG_SOCK_STREAM) {
        return list;
    }
    size_t n;
    mp_obj_t *entries;
    mp_obj_list_get(list, &n, &entries);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        mp_obj_t *items;
        mp_obj_tuple_get(entries[i], &len, &items);
        mp_obj_t copy[5] = { items[0], MP_OBJ_NEW_SMALL_INT(MASG_SOCK_STREAM), MP_OBJ_NEW_SMALL_INT(MASG_IPPROTO_TCP), items[3], items[4] };
        entries[i] = mp_obj_new_tuple(5, copy);
    }
    return list;
}

// function getaddrinfo(host, port, af=0, type=0, proto=0, flags=0)
mp_obj_t masg_getaddrinfo(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_host, ARG_port, ARG_af, ARG_type, ARG_proto, ARG_flags };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_host, MP_ARG_REQUIRED | MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_port, MP_ARG_REQUIRED | MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_af, MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_type, MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_proto, MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_flags, MP_ARG_INT, { .u_int = 0 } },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed), allowed, args);

    if (!mp_obj_is_str(args[ARG_host].u_obj)) {
        mp_raise_TypeError(MP_ERROR_TEXT("host must be a str"));
    }
    uint16_t port = masg_port_from_obj(args[ARG_port].u_obj, true);
    mp_int_t family = args[ARG_af].u_int;
    if (family != 0 && family != MASG_AF_INET && family != MASG_AF_INET6) {
        mp_raise_OSError(MP_EAFNOSUPPORT);
    }
    size_t len;
    const char *host = mp_obj_str_get_data(args[ARG_host].u_obj, &len);

    mas_addr addr;
    if (mas_addr_parse(host, len, port, &addr) != 0) {
        return for_type(resolve_name(host, len, port, (int)family), args[ARG_type].u_int);
    }
    int literal_family = addr.family == 6 ? MASG_AF_INET6 : MASG_AF_INET;
    if (family != 0 && family != literal_family) {
        static MP_DEFINE_STR_OBJ(family_text, "the address is not of the family af asks for (af=0 takes both)");
        masg_raise_gaierror(MASG_EAI_FAIL, MP_OBJ_FROM_PTR(&family_text));
    }
    mp_obj_t entry = addrinfo_entry(&addr);
    return for_type(mp_obj_new_list(1, &entry), args[ARG_type].u_int);
}
