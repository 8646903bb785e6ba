/*
 * getaddrinfo(host, port, af=0, type=0, proto=0, flags=0), as MicroPython's
 * usocket returns it: a list of (family, type, proto, canonname, (ip, port)).
 *
 * Literal IPv4 and IPv6 addresses are answered here without touching the
 * modem. Names go to resolve_name(), the one place where resolution over the
 * modem (AT+SQNDNSLKUP through the core) will be added; until then a name
 * that could be sent raises OSError(-202), as a failed lookup does in
 * MicroPython, and one that could not (quotes, CR, commas...) ValueError.
 */
#include "py/mperrno.h"

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

/* The hook for name resolution. Returns a list of addrinfo entries or raises. */
static mp_obj_t resolve_name(const char *host, size_t len, uint16_t port, int family) {
    (void)port;
    (void)family;
    if (!masg_is_host_name(host, len)) {
        mp_raise_ValueError(MP_ERROR_TEXT("not an IP address nor a valid host name"));
    }
    mp_raise_OSError(MASG_EAI_FAIL);
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
        return resolve_name(host, len, port, (int)family);
    }
    int literal_family = addr.family == 6 ? MASG_AF_INET6 : MASG_AF_INET;
    if (family != 0 && family != literal_family) {
        mp_raise_OSError(MASG_EAI_FAIL);
    }
    mp_obj_t entry = addrinfo_entry(&addr);
    return mp_obj_new_list(1, &entry);
}
