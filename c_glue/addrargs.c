/*
 * Address arguments: Python tuples to mas_addr and back. Everything a user
 * passes is checked here, before any engine operation starts, so a bad
 * argument never costs a modem exchange. The IP text itself is parsed by the
 * core (mas_addr_parse), which accepts only dotted IPv4 and textual IPv6: a
 * string that reaches an AT command can carry no quote, comma or line break.
 *
 * The family of a socket is advisory. The modem's socket has no family: it
 * dials whatever address it is given. So an AF_INET socket takes an IPv6
 * peer, which is what lets an IPv4-written script (socket(AF_INET) plus
 * getaddrinfo(name)[0][-1]) run on an IPv6-only network; recvfrom() then
 * reports the IPv6 sender. usocket and CPython would refuse the address.
 */
#include <string.h>

#include "py/mperrno.h"

#include "mas_glue.h"

uint16_t masg_port_from_obj(mp_obj_t port_in, bool allow_zero) {
    if (!mp_obj_is_int(port_in)) {
        mp_raise_TypeError(MP_ERROR_TEXT("port must be an int"));
    }
    mp_int_t port = mp_obj_get_int(port_in);
    if (port < 0 || port > 0xffff) {
        mp_raise_msg(&mp_type_OverflowError, MP_ERROR_TEXT("port must be 0-65535"));
    }
    if (port == 0 && !allow_zero) {
        mp_raise_ValueError(MP_ERROR_TEXT("port 0 is not a destination"));
    }
    return (uint16_t)port;
}

static bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool masg_is_host_name(const char *text, size_t len) {
    if (len == 0 || len > 253) {
        return false;
    }
    bool has_letter = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (is_letter(c)) {
            has_letter = true;
        } else if (!((c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return has_letter;
}

/* ::ffff:a.b.c.d names an IPv4 host: the modem dials it as IPv4. */
static void unmap_ipv4(mas_addr *addr) {
    static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (addr->family == 6 && memcmp(addr->ip, mapped_prefix, sizeof(mapped_prefix)) == 0) {
        memmove(addr->ip, addr->ip + 12, 4);
        memset(addr->ip + 4, 0, 12);
        addr->family = 4;
    }
}

/* Destinations the modem's unicast sockets cannot reach: refused here rather
 * than costing a dial the modem would fail or, worse, accept. */
static void check_destination(const mas_addr *addr) {
    const uint8_t *ip = addr->ip;
    bool unspecified = true;
    for (size_t i = 0; i < (addr->family == 4 ? 4u : 16u); i++) {
        unspecified = unspecified && ip[i] == 0;
    }
    if (unspecified) {
        masg_raise_msg(MP_EINVAL, "cannot send to the unspecified address (0.0.0.0 or ::)");
    }
    bool multicast = addr->family == 4 ? (ip[0] & 0xf0) == 0xe0 : ip[0] == 0xff;
    if (multicast) {
        masg_raise_msg(MP_EOPNOTSUPP, "the modem's sockets are unicast only: no multicast");
    }
    if (addr->family == 4 && ip[0] == 255 && ip[1] == 255 && ip[2] == 255 && ip[3] == 255) {
        masg_raise_msg(MP_EACCES, "the modem's sockets cannot broadcast");
    }
}

void masg_addr_from_obj(mp_obj_t addr_in, int family, masg_addr_use use, mas_addr *out) {
    /* A tuple, as CPython requires (a list is a TypeError there too). */
    if (!mp_obj_is_type(addr_in, &mp_type_tuple)) {
        mp_raise_TypeError(MP_ERROR_TEXT("address must be a (host, port) tuple"));
    }
    size_t n;
    mp_obj_t *items;
    mp_obj_get_array(addr_in, &n, &items);
    /* Also (host, port, flowinfo, scope_id), as IPv6 sockets take it; both are ignored. */
    if (n != 2 && n != 4) {
        mp_raise_TypeError(MP_ERROR_TEXT("address must be (host, port) or (host, port, flowinfo, scope_id)"));
    }
    if (n == 4 && (!mp_obj_is_int(items[2]) || !mp_obj_is_int(items[3]))) {
        mp_raise_TypeError(MP_ERROR_TEXT("flowinfo and scope_id must be ints"));
    }
    if (!mp_obj_is_str(items[0])) {
        mp_raise_TypeError(MP_ERROR_TEXT("host must be a str"));
    }
    uint16_t port = masg_port_from_obj(items[1], use == MASG_ADDR_LOCAL);
    size_t len;
    const char *host = mp_obj_str_get_data(items[0], &len);
    if (use == MASG_ADDR_LOCAL && len == 0) {
        /* bind(('', port)): any local address, only the port matters. */
        out->family = family == MASG_AF_INET6 ? 6 : 4;
        out->port = port;
        for (size_t i = 0; i < sizeof(out->ip); i++) {
            out->ip[i] = 0;
        }
        return;
    }
    if (mas_addr_parse(host, len, port, out) != 0) {
        if (masg_is_host_name(host, len)) {
            mp_raise_ValueError(MP_ERROR_TEXT("host names are not resolved here: use getaddrinfo() first"));
        }
        mp_raise_ValueError(MP_ERROR_TEXT("not an IPv4 or IPv6 address"));
    }
    (void)family; /* advisory: see the top of this file */
    if (n == 4 && out->family != 6) {
        mp_raise_TypeError(MP_ERROR_TEXT("an IPv4 address is a (host, port) pair"));
    }
    unmap_ipv4(out);
    if (use == MASG_ADDR_PEER) {
        check_destination(out);
    }
}

mp_obj_t masg_addr_ip_str(const mas_addr *addr) {
    char text[MASG_IP_TEXT_CAP];
    size_t len = mas_addr_format(addr, text, sizeof(text));
    if (len == 0) {
        mp_raise_OSError(MP_EIO);
    }
    return mp_obj_new_str(text, len);
}

mp_obj_t masg_addr_to_obj(const mas_addr *addr) {
    mp_obj_t items[2] = { masg_addr_ip_str(addr), MP_OBJ_NEW_SMALL_INT(addr->port) };
    return mp_obj_new_tuple(2, items);
}
