/*
 * Module microATsocket: UDP sockets (IPv4 and IPv6) through the Sequans
 * Monarch modem's own socket AT commands, for Pycom GPy/FiPy boards on
 * networks where PPP is not an option. A drop-in for usocket's UDP subset:
 *
 *     import microATsocket as socket
 *     socket.set_modem(lte)                      # an attached network.LTE
 *     s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
 *     s.sendto(b"hello", ("2001:db8::1", 5683))
 *
 * The protocol lives in the Rust core (include/microatsocket.h); this side is
 * argument checking, the Python objects, and the send_at_cmd transport.
 */
#include "mas_glue.h"

// function microATsocket.set_modem(lte, *, chunking=None)
static mp_obj_t mod_set_modem(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_lte, ARG_chunking };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_lte, MP_ARG_REQUIRED | MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_chunking, MP_ARG_KW_ONLY | MP_ARG_OBJ, { .u_obj = mp_const_none } },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed), allowed, args);
    mp_obj_t chunking = args[ARG_chunking].u_obj;
    masg_modem_set(args[ARG_lte].u_obj, chunking == mp_const_none ? -1 : mp_obj_is_true(chunking));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mod_set_modem_obj, 1, mod_set_modem);

// function microATsocket.setModemInstance(lte): the original name of set_modem
static mp_obj_t mod_set_modem_instance(mp_obj_t lte) {
    masg_modem_set(lte, -1);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mod_set_modem_instance_obj, mod_set_modem_instance);

// function microATsocket.config(name) / config(max_command=.., chunking=.., pdp_cid=..)
static MP_DEFINE_CONST_FUN_OBJ_KW(mod_config_obj, 0, masg_config);

// function microATsocket.dnsserver([index[, ip or (ip, port)]])
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mod_dnsserver_obj, 0, 2, masg_dnsserver);

// function microATsocket.getaddrinfo(host, port, af=0, type=0, proto=0, flags=0)
static MP_DEFINE_CONST_FUN_OBJ_KW(mod_getaddrinfo_obj, 2, masg_getaddrinfo);

// function microATsocket._slots_in_use(): modem sockets taken (for leak checks)
static mp_obj_t mod_slots_in_use(void) {
    masg_op_enter(false);
    uint32_t in_use = mas_slots_in_use();
    masg_op_leave();
    return mp_obj_new_int_from_uint(in_use);
}
static MP_DEFINE_CONST_FUN_OBJ_0(mod_slots_in_use_obj, mod_slots_in_use);

// function microATsocket._modem_restarts(): +SYSSTART reboots the core has seen
static mp_obj_t mod_modem_restarts(void) {
    masg_lock();
    uint32_t restarts = mas_modem_restarts();
    masg_unlock();
    return mp_obj_new_int_from_uint(restarts);
}
static MP_DEFINE_CONST_FUN_OBJ_0(mod_modem_restarts_obj, mod_modem_restarts);

// function microATsocket._soft_resets(): new VMs the module has recognised since the
// process (the board) started, the first not counted
static mp_obj_t mod_soft_resets(void) {
    return mp_obj_new_int_from_uint(masg_vm_count() - 1);
}
static MP_DEFINE_CONST_FUN_OBJ_0(mod_soft_resets_obj, mod_soft_resets);

static const mp_rom_map_elem_t module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_microATsocket) },
    { MP_ROM_QSTR(MP_QSTR_socket), MP_ROM_PTR(&masg_socket_type) },
    { MP_ROM_QSTR(MP_QSTR_MicroATSocket), MP_ROM_PTR(&masg_original_type) },
    { MP_ROM_QSTR(MP_QSTR_set_modem), MP_ROM_PTR(&mod_set_modem_obj) },
    { MP_ROM_QSTR(MP_QSTR_setModemInstance), MP_ROM_PTR(&mod_set_modem_instance_obj) },
    { MP_ROM_QSTR(MP_QSTR_config), MP_ROM_PTR(&mod_config_obj) },
    { MP_ROM_QSTR(MP_QSTR_getaddrinfo), MP_ROM_PTR(&mod_getaddrinfo_obj) },
    { MP_ROM_QSTR(MP_QSTR_dnsserver), MP_ROM_PTR(&mod_dnsserver_obj) },
    { MP_ROM_QSTR(MP_QSTR_ssl), MP_ROM_PTR(&masg_ssl_module) },
    { MP_ROM_QSTR(MP_QSTR_wrap_socket), MP_ROM_PTR(&masg_ssl_wrap_socket_obj) },
    { MP_ROM_QSTR(MP_QSTR_trace), MP_ROM_PTR(&masg_trace_obj) },
    { MP_ROM_QSTR(MP_QSTR__credential_probe), MP_ROM_PTR(&masg_credential_probe_obj) },
    /* Exceptions as Pycom's usocket names them (errors.c): error is OSError. */
    { MP_ROM_QSTR(MP_QSTR_error), MP_ROM_PTR(&mp_type_OSError) },
    { MP_ROM_QSTR(MP_QSTR_timeout), MP_ROM_PTR(MASG_TIMEOUT_TYPE) },
    { MP_ROM_QSTR(MP_QSTR_gaierror), MP_ROM_PTR(MASG_GAIERROR_TYPE) },
    { MP_ROM_QSTR(MP_QSTR__slots_in_use), MP_ROM_PTR(&mod_slots_in_use_obj) },
    { MP_ROM_QSTR(MP_QSTR__modem_restarts), MP_ROM_PTR(&mod_modem_restarts_obj) },
    { MP_ROM_QSTR(MP_QSTR__soft_resets), MP_ROM_PTR(&mod_soft_resets_obj) },

    { MP_ROM_QSTR(MP_QSTR_AF_INET), MP_ROM_INT(MASG_AF_INET) },
    { MP_ROM_QSTR(MP_QSTR_AF_INET6), MP_ROM_INT(MASG_AF_INET6) },
    { MP_ROM_QSTR(MP_QSTR_SOCK_STREAM), MP_ROM_INT(MASG_SOCK_STREAM) },
    { MP_ROM_QSTR(MP_QSTR_SOCK_DGRAM), MP_ROM_INT(MASG_SOCK_DGRAM) },
    { MP_ROM_QSTR(MP_QSTR_IPPROTO_TCP), MP_ROM_INT(MASG_IPPROTO_TCP) },
    { MP_ROM_QSTR(MP_QSTR_IPPROTO_UDP), MP_ROM_INT(MASG_IPPROTO_UDP) },
    { MP_ROM_QSTR(MP_QSTR_TCP_NODELAY), MP_ROM_INT(MASG_TCP_NODELAY) },
    { MP_ROM_QSTR(MP_QSTR_SOL_SOCKET), MP_ROM_INT(MASG_SOL_SOCKET) },
    { MP_ROM_QSTR(MP_QSTR_SO_REUSEADDR), MP_ROM_INT(MASG_SO_REUSEADDR) },
    { MP_ROM_QSTR(MP_QSTR_SHUT_RD), MP_ROM_INT(MASG_SHUT_RD) },
    { MP_ROM_QSTR(MP_QSTR_SHUT_WR), MP_ROM_INT(MASG_SHUT_WR) },
    { MP_ROM_QSTR(MP_QSTR_SHUT_RDWR), MP_ROM_INT(MASG_SHUT_RDWR) },
    { MP_ROM_QSTR(MP_QSTR_MAX_DATAGRAM), MP_ROM_INT(MAS_MAX_DATAGRAM) },

    /* The original microATsocket's module names (original_api.c, original_methods.c). */
    { MP_ROM_QSTR(MP_QSTR_SOCK_RAW), MP_ROM_INT(MASG_SOCK_RAW) },
    { MP_ROM_QSTR(MP_QSTR_SOCKET_MESSAGE_FORMAT), MP_ROM_PTR(&masg_message_format_type) },
    { MP_ROM_QSTR(MP_QSTR_DNS_SERVER_IP), MP_ROM_PTR(&masg_default_dns_v4_obj) },
    { MP_ROM_QSTR(MP_QSTR_DNS_SERVER_IPV6), MP_ROM_PTR(&masg_default_dns_v6_obj) },
    { MP_ROM_QSTR(MP_QSTR_LOCAL_PORT_DEFAULT), MP_ROM_INT(MASG_ORIGINAL_LOCAL_PORT) },
    { MP_ROM_QSTR(MP_QSTR_has_available_sockets), MP_ROM_PTR(&masg_original_has_available_sockets_obj) },
};
static MP_DEFINE_CONST_DICT(module_globals, module_globals_table);

const mp_obj_module_t microatsocket_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&module_globals,
};

/* The build scans for this literal line, so the version switch (mpcompat.h)
 * selects between two spellings here rather than inside a macro.
 * 1.11 reads the raw source with a pattern (keep the three-argument line
 * first and the last registration in the file) and copies the third argument
 * into `#if (...)` in py/objmodule.c, which sees only the port's config and
 * the command line, not this file's macros: so the condition itself makes the
 * module default to on, and -DMODULE_MICROATSOCKET_ENABLED=0 turns it off. */
#if MPCOMPAT_REGISTER_MODULE_TAKES_ENABLE
MP_REGISTER_MODULE(MP_QSTR_microATsocket, microatsocket_module, !defined(MODULE_MICROATSOCKET_ENABLED) || MODULE_MICROATSOCKET_ENABLED);
#else
MP_REGISTER_MODULE(MP_QSTR_microATsocket, microatsocket_module);
#endif
