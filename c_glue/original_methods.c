/*
 * The original microATsocket's dialect of the socket type (socket_type.c lists
 * these methods in its table; original_api.c builds MicroATSocket and the
 * module names on top of the socket type): the per-socket dialect flag and the
 * errors the dialect answers with a value, setModemInstance, setMessageFormat,
 * open, dnsserver, close(do_release_socket) and SOCKET_MESSAGE_FORMAT. Nothing
 * here calls into socket_type.c: open() reaches connect through the object.
 */
#include "py/mperrno.h"
#include "py/nlr.h"
#include "py/runtime.h"
#include "py/stream.h"

#include "mas_glue.h"

/* The original's SOCKET_MESSAGE_FORMAT values. */
#define MESSAGE_ASCII (0)
#define MESSAGE_BYTE (1)

void masg_socket_use_original_api(masg_socket_t *self) {
    self->original = true;
    if (!self->timeout_set) {
        self->timeout_ms = MASG_ORIGINAL_RECV_WAIT_MS;
    }
}

bool masg_original_quiet_error(int32_t mas_error) {
    return mas_error == MAS_EIO || mas_error == MAS_EHOSTUNREACH || mas_error == MAS_ETIMEDOUT;
}

static masg_socket_t *original_socket(mp_obj_t self_in) {
    masg_socket_t *self = MP_OBJ_TO_PTR(self_in);
    if (!self->open) {
        mp_raise_OSError(MP_EBADF);
    }
    masg_socket_use_original_api(self);
    return self;
}

// method socket.setModemInstance(lte): the modem for this socket (and the module: a board has one)
static mp_obj_t original_set_modem(mp_obj_t self_in, mp_obj_t lte) {
    masg_socket_t *self = original_socket(self_in);
    mp_obj_t current = masg_modem();
    if (lte == current) {
        return mp_const_none;
    }
    masg_modem_set(lte, -1);
    if (current != MP_OBJ_NULL) {
        /* Another modem: its sweep makes every socket stale, this one included.
         * Run the sweep now and give this socket a slot of the new modem. */
        masg_op_enter(true);
        mas_handle handle;
        int32_t err = mas_socket_open(&handle);
        masg_op_leave();
        if (err != 0) {
            self->open = false;
            masg_raise(err);
        }
        self->handle = handle;
    }
    self->modem = masg_modem();
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_2(masg_original_set_modem_obj, original_set_modem);

// method socket.setMessageFormat(format): SOCKET_MESSAGE_BYTE (bytes) or SOCKET_MESSAGE_ASCII (str)
static mp_obj_t original_set_format(mp_obj_t self_in, mp_obj_t format_in) {
    masg_socket_t *self = original_socket(self_in);
    /* As the original: BYTE is bytes, any other value ASCII. Only the Python
     * type changes; the modem still carries hex, so every byte value survives. */
    self->ascii = mp_obj_get_int(format_in) != MESSAGE_BYTE;
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_2(masg_original_set_format_obj, original_set_format);

static bool is_os_error(nlr_buf_t *nlr, int *errno_out) {
    mp_obj_t exc = MP_OBJ_FROM_PTR(nlr->ret_val);
    if (!mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(((mp_obj_base_t *)nlr->ret_val)->type), MP_OBJ_FROM_PTR(&mp_type_OSError))) {
        return false;
    }
    mp_obj_t args = mp_load_attr(exc, MP_QSTR_args);
    size_t n;
    mp_obj_t *items;
    mp_obj_get_array(args, &n, &items);
    *errno_out = n > 0 && mp_obj_is_small_int(items[0]) ? (int)MP_OBJ_SMALL_INT_VALUE(items[0]) : 0;
    return true;
}

// method socket.open(ip, port): dial the peer; True, or False when the modem could not
static mp_obj_t original_open(mp_obj_t self_in, mp_obj_t ip, mp_obj_t port) {
    (void)original_socket(self_in);
    mp_obj_t addr_items[2] = { ip, port };
    mp_obj_t addr = mp_obj_new_tuple(2, addr_items);
    mp_obj_t connect[3];
    mp_load_method(self_in, MP_QSTR_connect, connect);
    connect[2] = addr;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_call_method_n_kw(1, 0, connect);
        nlr_pop();
        return mp_const_true;
    }
    /* The modem's refusals are the original's False; bad arguments still raise. */
    int err;
    if (is_os_error(&nlr, &err)
        && (err == MP_EIO || err == MP_EHOSTUNREACH || err == MP_ETIMEDOUT || err == MP_ECONNREFUSED)) {
        return mp_const_false;
    }
    nlr_jump(nlr.ret_val);
}
MP_DEFINE_CONST_FUN_OBJ_3(masg_original_open_obj, original_open);

// method socket.dnsserver(dnsIndex=None, ip_addr=None): read both servers' IPs, or set one
static mp_obj_t original_dnsserver(size_t n_args, const mp_obj_t *args) {
    (void)original_socket(args[0]);
    if (n_args == 3 && args[1] != mp_const_none && args[2] != mp_const_none) {
        return masg_dnsserver(2, args + 1);
    }
    mp_obj_t servers = masg_dnsserver(0, NULL);
    size_t n;
    mp_obj_t *items;
    mp_obj_get_array(servers, &n, &items);
    mp_obj_t ips[2];
    for (size_t i = 0; i < 2; i++) {
        size_t m;
        mp_obj_t *pair;
        mp_obj_get_array(items[i], &m, &pair);
        ips[i] = pair[0];
    }
    return mp_obj_new_tuple(2, ips);
}
MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(masg_original_dnsserver_obj, 1, 3, original_dnsserver);

// method socket.close(do_release_socket=False): the slot is always released
static mp_obj_t original_close(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    return mp_stream_close(args[0]);
}
MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(masg_original_close_obj, 1, 2, original_close);

/* ---- SOCKET_MESSAGE_FORMAT ------------------------------------------------- */

static const mp_rom_map_elem_t message_format_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_SOCKET_MESSAGE_ASCII), MP_ROM_INT(MESSAGE_ASCII) },
    { MP_ROM_QSTR(MP_QSTR_SOCKET_MESSAGE_BYTE), MP_ROM_INT(MESSAGE_BYTE) },
};
static MP_DEFINE_CONST_DICT(message_format_locals, message_format_locals_table);

MPCOMPAT_DEFINE_CONSTANTS_TYPE(
    masg_message_format_type,
    MP_QSTR_SOCKET_MESSAGE_FORMAT,
    &message_format_locals
    );
