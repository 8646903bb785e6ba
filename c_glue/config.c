/*
 * config(): the module's settings, read by name or set with keywords: the
 * transport limits modem.c keeps, the getaddrinfo cache, and the transport's
 * own settings. Every keyword is checked before any is changed.
 */
#include <string.h>

#include "py/runtime.h"

#include "mas_glue.h"

static mp_obj_t config_get(qstr name) {
    const mas_limits limits = masg_modem_limits();
    switch (name) {
        case MP_QSTR_max_command:
            return MP_OBJ_NEW_SMALL_INT(limits.max_command_len);
        case MP_QSTR_chunking:
            return mp_obj_new_bool(limits.max_command_len == 0);
        case MP_QSTR_pdp_cid:
            return MP_OBJ_NEW_SMALL_INT(limits.pdp_cid);
        case MP_QSTR_combined_send:
            return mp_obj_new_bool(limits.combined_send);
        case MP_QSTR_raw_send:
            return mp_obj_new_bool(!limits.send_hex);
        case MP_QSTR_raw_recv:
            return mp_obj_new_bool(!limits.recv_hex);
        case MP_QSTR_max_datagram: {
            masg_lock();
            /* The core takes the limits when a modem is set; before that (no
             * __init__ applies them at start) it must follow them here too. */
            (void)masg_modem_configure(&limits);
            size_t max = mas_max_datagram();
            masg_unlock();
            return mp_obj_new_int_from_uint(max);
        }
        case MP_QSTR_dns_cache:
            return mp_obj_new_bool(masg_dns_cache_enabled());
        case MP_QSTR_transport:
            return mp_obj_new_str(masg_transport_name, strlen(masg_transport_name));
        case MP_QSTR_modem: {
            mp_obj_t lte = masg_modem();
            return lte == MP_OBJ_NULL ? mp_const_none : lte;
        }
        default: {
            mp_obj_t value = masg_transport_config_get(name);
            if (value == MP_OBJ_NULL) {
                mp_raise_ValueError(MP_ERROR_TEXT("unknown config parameter"));
            }
            return value;
        }
    }
}

// function microATsocket.config(name) or config(max_command=.., chunking=.., combined_send=.., raw_send=.., raw_recv=.., pdp_cid=..)
mp_obj_t masg_config(size_t n_args, const mp_obj_t *args, mp_map_t *kw_args) {
    if (n_args != 0 && kw_args->used != 0) {
        mp_raise_TypeError(MP_ERROR_TEXT("either a name to read or keywords to set"));
    }
    if (n_args == 1) {
        return config_get(mp_obj_str_get_qstr(args[0]));
    }
    if (n_args > 1) {
        mp_raise_TypeError(MP_ERROR_TEXT("config() takes one name"));
    }
    mas_limits wanted = masg_modem_limits();
    for (size_t i = 0; i < kw_args->alloc; i++) {
        if (!mp_map_slot_is_filled(kw_args, i)) {
            continue;
        }
        qstr key = mp_obj_str_get_qstr(kw_args->table[i].key);
        mp_obj_t value = kw_args->table[i].value;
        switch (key) {
            case MP_QSTR_max_command: {
                mp_int_t len = mp_obj_get_int(value);
                if (len < 0 || len > 0xffff) {
                    mp_raise_ValueError(MP_ERROR_TEXT("max_command must be 0 (no limit) to 65535"));
                }
                wanted.max_command_len = (uint16_t)len;
                break;
            }
            case MP_QSTR_chunking:
                wanted.max_command_len = mp_obj_is_true(value) ? 0 : masg_unchunked_max_command;
                break;
            case MP_QSTR_combined_send:
                wanted.combined_send = mp_obj_is_true(value);
                break;
            case MP_QSTR_raw_send:
            case MP_QSTR_raw_recv:
                if (mp_obj_is_true(value) && !masg_transport_carries_raw) {
                    mp_raise_ValueError(MP_ERROR_TEXT("raw data needs the lteppp transport with continuation items (layout 1202)"));
                }
                if (key == MP_QSTR_raw_send) {
                    wanted.send_hex = !mp_obj_is_true(value);
                } else {
                    wanted.recv_hex = !mp_obj_is_true(value);
                }
                break;
            case MP_QSTR_pdp_cid: {
                mp_int_t cid = mp_obj_get_int(value);
                if (cid < 1 || cid > 16) {
                    mp_raise_ValueError(MP_ERROR_TEXT("pdp_cid must be 1 to 16"));
                }
                wanted.pdp_cid = (uint8_t)cid;
                break;
            }
            case MP_QSTR_dns_cache:
                break; /* applied below, with the transport's settings */
            default:
                /* Checked here, applied with the rest below. */
                if (!masg_transport_config_set(key, value, false)) {
                    mp_raise_ValueError(MP_ERROR_TEXT("unknown config parameter"));
                }
                break;
        }
    }
    masg_lock();
    int32_t err = masg_modem_configure(&wanted);
    masg_unlock();
    if (err != 0) {
        masg_raise(err);
    }
    for (size_t i = 0; i < kw_args->alloc; i++) {
        if (mp_map_slot_is_filled(kw_args, i) && mp_obj_str_get_qstr(kw_args->table[i].key) == MP_QSTR_dns_cache) {
            masg_dns_cache_enable(mp_obj_is_true(kw_args->table[i].value));
        }
    }
    for (size_t i = 0; i < kw_args->alloc; i++) {
        if (mp_map_slot_is_filled(kw_args, i)) {
            (void)masg_transport_config_set(mp_obj_str_get_qstr(kw_args->table[i].key), kw_args->table[i].value, true);
        }
    }
    return mp_const_none;
}
