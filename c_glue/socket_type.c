/*
 * The socket type: usocket's UDP interface over one of the modem's six
 * sockets. Arguments are checked here, before an operation starts; the
 * operation itself is the core's (oprun.c drives it). Timeouts follow
 * modlwip: 0 gives OSError(EAGAIN), expiry OSError(ETIMEDOUT), None blocks.
 */
#include <string.h>

#include "py/gc.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/stream.h"

#include "mas_glue.h"

/* A blocking receive is run as operations of at most this long, so another
 * thread's send gets the engine in between. */
#define RECEIVE_SLICE_MS (200)

typedef masg_socket_t socket_obj_t;

static uint32_t now_ms(void) {
    return (uint32_t)mp_hal_ticks_ms();
}

static socket_obj_t *open_socket(mp_obj_t self_in) {
    socket_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (!self->open) {
        mp_raise_OSError(MP_EBADF);
    }
    return self;
}

/* ---- construction ---------------------------------------------------------- */

mp_obj_t masg_socket_new(int family, mp_obj_t lte) {
    masg_check_new_socket(family, lte);
    /* Allocate first: if this raised after the slot was taken, the slot would leak. */
    socket_obj_t *self = MPCOMPAT_NEW_OBJ_WITH_FINALISER(socket_obj_t, &masg_socket_type);
    self->modem = MP_OBJ_NULL;
    self->handle = 0;
    self->family = (uint8_t)family;
    self->open = false;
    self->timeout_ms = -1;
    self->polled_ms = 0;
    self->polled = POLLED_UNKNOWN;
    self->original = false;
    self->ascii = false;
    self->timeout_set = false;
    self->read_end = NULL;

    /* No modem is needed yet: a slot is the core's bookkeeping, and the modem is
     * first needed (and found, if none was given) by the first operation. */
    self->handle = masg_take_slot(mas_socket_open, false);
    self->open = true;
    self->modem = masg_modem();
    return MP_OBJ_FROM_PTR(self);
}

// constructor socket(af=AF_INET, type=SOCK_STREAM, proto=0, *, lte=None): streams are
// socket_stream.c's; no arguments gives a TCP socket, as in usocket and CPython
static mp_obj_t socket_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args) {
    (void)type;
    enum { ARG_af, ARG_type, ARG_proto, ARG_lte };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_af, MP_ARG_INT, { .u_int = MASG_AF_INET } },
        { MP_QSTR_type, MP_ARG_INT, { .u_int = MASG_SOCK_STREAM } },
        { MP_QSTR_proto, MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_lte, MP_ARG_KW_ONLY | MP_ARG_OBJ, { .u_obj = mp_const_none } },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed), allowed, args);
    if (args[ARG_type].u_int == MASG_SOCK_STREAM) {
        if (args[ARG_proto].u_int != 0 && args[ARG_proto].u_int != MASG_IPPROTO_TCP) {
            masg_raise_msg(MP_EOPNOTSUPP, "a SOCK_STREAM socket takes IPPROTO_TCP");
        }
        return masg_stream_new((int)args[ARG_af].u_int, args[ARG_lte].u_obj);
    }
    if (args[ARG_type].u_int != MASG_SOCK_DGRAM) {
        masg_raise_msg(MP_EOPNOTSUPP, "only SOCK_STREAM (TCP) and SOCK_DGRAM (UDP) sockets are supported");
    }
    if (args[ARG_proto].u_int != 0 && args[ARG_proto].u_int != MASG_IPPROTO_UDP) {
        masg_raise_msg(MP_EOPNOTSUPP, "only IPPROTO_UDP is supported");
    }
    return masg_socket_new((int)args[ARG_af].u_int, args[ARG_lte].u_obj);
}

static void socket_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    (void)kind;
    socket_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_printf(print, "<socket af=%d%s>", self->family, self->open ? "" : " closed");
}

/* ---- sending --------------------------------------------------------------- */

static int32_t send_bytes(socket_obj_t *self, const void *data, size_t len, const mas_addr *peer, size_t *sent) {
    mas_outcome out;
    masg_op_enter(true);
    int32_t err = masg_op_finish(mas_sendto_begin(self->handle, data, len, peer), &out);
    masg_op_leave();
    /* A send may have re-dialled the modem socket (another peer, or one the modem lost),
     * dropping what was queued on it: what poll learnt before is stale. */
    self->polled = POLLED_UNKNOWN;
    *sent = err == 0 ? out.len : 0;
    return err;
}

NORETURN static void raise_send_error(int32_t err) {
    if (err == MAS_EMSGSIZE) {
        masg_raise_msg(masg_errno(err), "datagram too long for this modem transport: see config('max_datagram')");
    }
    if (err == MAS_ENOTSENDER) {
        masg_raise_msg(masg_errno(err), "a UDP server socket (bound, never connected) can only answer the sender "
            "of the last datagram it received, and only when the modem reported that sender");
    }
    masg_raise(err);
}

// method socket.sendto(bytes, address)
static mp_obj_t socket_sendto(mp_obj_t self_in, mp_obj_t data_in, mp_obj_t addr_in) {
    socket_obj_t *self = open_socket(self_in);
    mp_buffer_info_t data;
    mp_get_buffer_raise(data_in, &data, MP_BUFFER_READ);
    mas_addr peer;
    masg_addr_from_obj(addr_in, self->family, MASG_ADDR_PEER, &peer);
    size_t sent;
    int32_t err = send_bytes(self, data.buf, data.len, &peer, &sent);
    if (err != 0) {
        if (self->original && masg_original_quiet_error(err)) {
            /* The original's sendto returned -1 when the modem could not dial. */
            return MP_OBJ_NEW_SMALL_INT(-1);
        }
        raise_send_error(err);
    }
    return mp_obj_new_int_from_uint(sent);
}
static MP_DEFINE_CONST_FUN_OBJ_3(socket_sendto_obj, socket_sendto);

// method socket.send(bytes)
static mp_obj_t socket_send(mp_obj_t self_in, mp_obj_t data_in) {
    socket_obj_t *self = open_socket(self_in);
    mp_buffer_info_t data;
    mp_get_buffer_raise(data_in, &data, MP_BUFFER_READ);
    size_t sent;
    int32_t err = send_bytes(self, data.buf, data.len, NULL, &sent);
    if (err != 0) {
        raise_send_error(err);
    }
    return mp_obj_new_int_from_uint(sent);
}
static MP_DEFINE_CONST_FUN_OBJ_2(socket_send_obj, socket_send);

/* ---- receiving ------------------------------------------------------------- */

/* Receives one datagram into `buf` (the rest of a longer one is dropped, as
 * UDP does). Returns 0 or a core errno; raises only what the transport raises. */
static int32_t receive(socket_obj_t *self, uint8_t *buf, size_t cap, size_t *got, mas_addr *from) {
    int32_t timeout = self->timeout_ms;
    uint32_t start = now_ms();
    for (;;) {
        int32_t slice;
        if (timeout == 0) {
            slice = 0;
        } else if (timeout < 0) {
            slice = RECEIVE_SLICE_MS;
        } else {
            uint32_t elapsed = now_ms() - start;
            if (elapsed >= (uint32_t)timeout) {
                return MAS_ETIMEDOUT;
            }
            uint32_t left = (uint32_t)timeout - elapsed;
            slice = left < RECEIVE_SLICE_MS ? (int32_t)left : RECEIVE_SLICE_MS;
        }
        mas_outcome out;
        masg_op_enter(true);
        int32_t err = masg_op_finish(mas_recvfrom_begin(self->handle, slice, now_ms()), &out);
        int32_t wait = 0;
        if (err == 0) {
            /* out.data is valid until the next core call: copy under the lock. */
            *got = out.data_len < cap ? out.data_len : cap;
            if (*got != 0) {
                memcpy(buf, out.data, *got);
            }
            *from = out.from;
        } else if (err == MAS_ETIMEDOUT) {
            wait = mas_recv_wait_ms(self->handle, now_ms());
        }
        masg_op_leave();
        self->polled = POLLED_UNKNOWN;
        bool more_time = timeout < 0 || (timeout > 0 && now_ms() - start < (uint32_t)timeout);
        if (err == MAS_ETIMEDOUT && more_time) {
            /* Nothing yet: wait for the next read with the engine free. */
            masg_wait_unlocked(wait, timeout < 0 ? -1 : (int32_t)((uint32_t)timeout - (now_ms() - start)));
            continue;
        }
        return err;
    }
}

/* Receives into a new bytes (a str in the original API's ASCII format), or
 * MP_OBJ_NULL with *err set when the core refused or nothing came in time. */
static mp_obj_t receive_obj(socket_obj_t *self, size_t cap, mas_addr *from, int32_t *err) {
    vstr_t vstr;
    vstr_init_len(&vstr, cap);
    size_t got;
    *err = receive(self, (uint8_t *)vstr.buf, cap, &got, from);
    if (*err != 0) {
        vstr_clear(&vstr);
        return MP_OBJ_NULL;
    }
    vstr.len = got;
    return self->ascii ? MPCOMPAT_STR_FROM_VSTR(&vstr) : MPCOMPAT_BYTES_FROM_VSTR(&vstr);
}

static size_t receive_cap(const socket_obj_t *self, mp_obj_t bufsize_in) {
    mp_int_t bufsize = mp_obj_get_int(bufsize_in);
    if (bufsize < 0 && self->original) {
        /* The first original API's recvfrom(bufsize=-1): the whole datagram. */
        return MAS_MAX_DATAGRAM;
    }
    if (bufsize <= 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("bufsize must be > 0"));
    }
    return (size_t)bufsize < MAS_MAX_DATAGRAM ? (size_t)bufsize : MAS_MAX_DATAGRAM;
}

// method socket.recvfrom(bufsize=1024): the default is the original microATsocket's
static mp_obj_t socket_recvfrom(size_t n_args, const mp_obj_t *args) {
    socket_obj_t *self = open_socket(args[0]);
    size_t cap = n_args > 1 ? receive_cap(self, args[1]) : MASG_ORIGINAL_RECV_BUFSIZE;
    mas_addr from;
    int32_t err;
    mp_obj_t items[2];
    items[0] = receive_obj(self, cap, &from, &err);
    if (items[0] == MP_OBJ_NULL) {
        if (self->original && (err == MAS_EAGAIN || err == MAS_ENOTCONN || masg_original_quiet_error(err))) {
            /* The original API's answer to "nothing arrived" (or to a socket it
             * could not open): (None, None), no exception. */
            items[0] = mp_const_none;
            items[1] = mp_const_none;
            return mp_obj_new_tuple(2, items);
        }
        masg_raise(err);
    }
    if (from.family == 0) {
        /* A UDP server's datagram whose +SQNSRECV header did not name its sender: the
         * datagram is consumed, but no address is made up (recv() takes such datagrams). */
        masg_raise_msg(MP_EIO, "the modem did not report the sender of this datagram: "
            "recvfrom() cannot give its address (recv() returns the data alone)");
    }
    items[1] = masg_addr_to_obj(&from);
    return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(socket_recvfrom_obj, 1, 2, socket_recvfrom);

// method socket.recv(bufsize): recv(0) is b'' at once, as in CPython
static mp_obj_t socket_recv(mp_obj_t self_in, mp_obj_t bufsize_in) {
    socket_obj_t *self = open_socket(self_in);
    if (mp_obj_get_int(bufsize_in) == 0) {
        return self->ascii ? MP_OBJ_NEW_QSTR(MP_QSTR_) : mp_const_empty_bytes;
    }
    size_t cap = receive_cap(self, bufsize_in);
    mas_addr from;
    int32_t err;
    mp_obj_t data = receive_obj(self, cap, &from, &err);
    if (data == MP_OBJ_NULL) {
        masg_raise(err);
    }
    return data;
}
static MP_DEFINE_CONST_FUN_OBJ_2(socket_recv_obj, socket_recv);

/* ---- peer, local port, options --------------------------------------------- */

// method socket.connect(address)
static mp_obj_t socket_connect(mp_obj_t self_in, mp_obj_t addr_in) {
    socket_obj_t *self = open_socket(self_in);
    mas_addr peer;
    masg_addr_from_obj(addr_in, self->family, MASG_ADDR_PEER, &peer);
    mas_outcome out;
    masg_op_enter(true);
    int32_t err = masg_op_finish(mas_connect_begin(self->handle, &peer), &out);
    masg_op_leave();
    if (err != 0) {
        masg_raise(err);
    }
    self->polled = POLLED_UNKNOWN;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(socket_connect_obj, socket_connect);

// method socket.bind(address): sets the local port; the modem has one local address
static mp_obj_t socket_bind(mp_obj_t self_in, mp_obj_t addr_in) {
    socket_obj_t *self = open_socket(self_in);
    mas_addr local;
    masg_addr_from_obj(addr_in, self->family, MASG_ADDR_LOCAL, &local);
    masg_lock();
    int32_t err = mas_socket_bind(self->handle, local.port);
    masg_unlock();
    if (err != 0) {
        masg_raise(err);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(socket_bind_obj, socket_bind);

// method socket.settimeout(value)
static mp_obj_t socket_settimeout(mp_obj_t self_in, mp_obj_t timeout_in) {
    socket_obj_t *self = open_socket(self_in);
    self->timeout_ms = masg_timeout_ms_arg(timeout_in);
    self->timeout_set = true;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(socket_settimeout_obj, socket_settimeout);

// method socket.setblocking(flag)
static mp_obj_t socket_setblocking(mp_obj_t self_in, mp_obj_t flag_in) {
    socket_obj_t *self = open_socket(self_in);
    self->timeout_ms = mp_obj_is_true(flag_in) ? -1 : 0;
    self->timeout_set = true;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(socket_setblocking_obj, socket_setblocking);

// method socket.setsockopt(level, option, value): SO_REUSEADDR is accepted and has no effect
static mp_obj_t socket_setsockopt(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    open_socket(args[0]);
    masg_check_sockopt(args[1], args[2], false);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(socket_setsockopt_obj, 4, 4, socket_setsockopt);

// method socket.getaddrinfo(host, port, ...): the module function, kept for older scripts
static mp_obj_t socket_getaddrinfo(size_t n_args, const mp_obj_t *args, mp_map_t *kw_args) {
    return masg_getaddrinfo(n_args - 1, args + 1, kw_args);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(socket_getaddrinfo_obj, 1, socket_getaddrinfo);

/* ---- closing ---------------------------------------------------------------- */

void masg_socket_close(masg_socket_t *self) {
    if (!self->open) {
        return;
    }
    self->open = false;
    masg_close_slot(self->handle);
}

// method socket.__del__(): the GC calls it; no modem I/O here
static mp_obj_t socket_del(mp_obj_t self_in) {
    socket_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->open) {
        self->open = false;
        masg_defer_close(self->handle);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(socket_del_obj, socket_del);

/* ---- stream protocol (select.poll, asyncio) ---------------------------------- */

/* One datagram per read. MicroPython's read(n) calls this again to fill the
 * rest of its buffer right behind the datagram: that call is answered "no
 * more" at once, where a second modem read would cost an exchange (and on a
 * blocking socket a whole receive slice, stalling an asyncio loop). */
static mp_uint_t socket_stream_read(mp_obj_t self_in, void *buf, mp_uint_t size, int *errcode) {
    socket_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (!self->open) {
        *errcode = MP_EBADF;
        return MP_STREAM_ERROR;
    }
    if (buf == self->read_end) {
        self->read_end = NULL;
        return 0;
    }
    self->read_end = NULL;
    size_t got;
    mas_addr from;
    int32_t err = receive(self, buf, size, &got, &from);
    if (err != 0) {
        *errcode = masg_errno(err);
        return MP_STREAM_ERROR;
    }
    if (got > 0 && got < size) {
        self->read_end = (const uint8_t *)buf + got;
    }
    return got;
}

static mp_uint_t socket_stream_write(mp_obj_t self_in, const void *buf, mp_uint_t size, int *errcode) {
    socket_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (!self->open) {
        *errcode = MP_EBADF;
        return MP_STREAM_ERROR;
    }
    size_t sent;
    int32_t err = send_bytes(self, buf, size, NULL, &sent);
    if (err != 0) {
        *errcode = masg_errno(err);
        return MP_STREAM_ERROR;
    }
    return sent;
}

/* Whether a datagram is waiting. "Readable" holds until the next receive or
 * send; otherwise the last poll sweep (one modem exchange for every socket,
 * socket_common.c) answers. */
static mp_uint_t poll_readable(socket_obj_t *self) {
    if (self->polled == POLLED_READABLE) {
        return MP_STREAM_POLL_RD;
    }
    bool ready;
    int32_t err = masg_poll_ready(self->handle, &ready);
    if (err == MAS_EBADF) {
        return MP_STREAM_POLL_NVAL;
    }
    if (err != 0) {
        return MP_STREAM_POLL_ERR;
    }
    self->polled = ready ? POLLED_READABLE : POLLED_IDLE;
    self->polled_ms = now_ms();
    return ready ? MP_STREAM_POLL_RD : 0;
}

static mp_uint_t socket_stream_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg, int *errcode) {
    socket_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (request == MP_STREAM_CLOSE) {
        masg_socket_close(self);
        return 0;
    }
    if (request == MP_STREAM_POLL) {
        if (!self->open) {
            return MP_STREAM_POLL_NVAL;
        }
        mp_uint_t ready = 0;
        if (arg & MP_STREAM_POLL_WR) {
            ready |= MP_STREAM_POLL_WR; /* UDP: a send never waits for buffer space */
        }
        if (arg & MP_STREAM_POLL_RD) {
            ready |= poll_readable(self);
        }
        return ready;
    }
    *errcode = MP_EINVAL;
    return MP_STREAM_ERROR;
}

static const mp_stream_p_t socket_stream_p = {
    .read = socket_stream_read,
    .write = socket_stream_write,
    .ioctl = socket_stream_ioctl,
};

static const mp_rom_map_elem_t socket_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&socket_del_obj) },
    { MP_ROM_QSTR(MP_QSTR___enter__), MP_ROM_PTR(&mp_identity_obj) },
    { MP_ROM_QSTR(MP_QSTR___exit__), MP_ROM_PTR(&masg_socket_exit_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&masg_original_close_obj) },
    { MP_ROM_QSTR(MP_QSTR_bind), MP_ROM_PTR(&socket_bind_obj) },
    { MP_ROM_QSTR(MP_QSTR_connect), MP_ROM_PTR(&socket_connect_obj) },
    { MP_ROM_QSTR(MP_QSTR_send), MP_ROM_PTR(&socket_send_obj) },
    { MP_ROM_QSTR(MP_QSTR_sendto), MP_ROM_PTR(&socket_sendto_obj) },
    { MP_ROM_QSTR(MP_QSTR_recv), MP_ROM_PTR(&socket_recv_obj) },
    { MP_ROM_QSTR(MP_QSTR_recvfrom), MP_ROM_PTR(&socket_recvfrom_obj) },
    { MP_ROM_QSTR(MP_QSTR_settimeout), MP_ROM_PTR(&socket_settimeout_obj) },
    { MP_ROM_QSTR(MP_QSTR_setblocking), MP_ROM_PTR(&socket_setblocking_obj) },
    { MP_ROM_QSTR(MP_QSTR_setsockopt), MP_ROM_PTR(&socket_setsockopt_obj) },
    { MP_ROM_QSTR(MP_QSTR_getaddrinfo), MP_ROM_PTR(&socket_getaddrinfo_obj) },
    { MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&mp_stream_read_obj) },
    /* The original microATsocket's methods and constants (original_api.c). */
    { MP_ROM_QSTR(MP_QSTR_setModemInstance), MP_ROM_PTR(&masg_original_set_modem_obj) },
    { MP_ROM_QSTR(MP_QSTR_setMessageFormat), MP_ROM_PTR(&masg_original_set_format_obj) },
    { MP_ROM_QSTR(MP_QSTR_open), MP_ROM_PTR(&masg_original_open_obj) },
    { MP_ROM_QSTR(MP_QSTR_dnsserver), MP_ROM_PTR(&masg_original_dnsserver_obj) },
    { MP_ROM_QSTR(MP_QSTR_SOCKET_MESSAGE_FORMAT), MP_ROM_PTR(&masg_message_format_type) },
    { MP_ROM_QSTR(MP_QSTR_readinto), MP_ROM_PTR(&mp_stream_readinto_obj) },
    { MP_ROM_QSTR(MP_QSTR_write), MP_ROM_PTR(&mp_stream_write_obj) },
};
static MP_DEFINE_CONST_DICT(socket_locals_dict, socket_locals_table);

MPCOMPAT_DEFINE_STREAM_TYPE(
    masg_socket_type,
    MP_QSTR_socket,
    socket_make_new,
    socket_print,
    masg_socket_attr,
    &socket_stream_p,
    &socket_locals_dict
    );
