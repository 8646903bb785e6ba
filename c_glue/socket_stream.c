/*
 * Stream sockets: usocket's TCP client interface over one of the modem's six
 * sockets (socket(AF_INET|AF_INET6, SOCK_STREAM), and socket() with no
 * arguments). The core dials, sends one command's worth at a time and reads
 * at most what is asked (src/engine/stream.rs); this side checks arguments,
 * loops for sendall/write, waits out timeouts as modlwip does (0: EAGAIN,
 * expiry: ETIMEDOUT, None: block), and keeps a small read-ahead so readline
 * does not cost one modem exchange per byte.
 *
 * The address family is advisory, as for UDP: the modem's socket has none, so
 * an AF_INET stream socket also dials an IPv6 peer.
 */
#include <string.h>

#include "py/gc.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/stream.h"

#include "mas_glue.h"

/* A blocking read runs as operations of at most this long, so another
 * thread's send gets the engine in between (as for datagrams). */
#define RECEIVE_SLICE_MS (200)
/* How long a blocking send waits before it asks again while the modem's send
 * buffer is full (the peer is not reading). */
#define SEND_FULL_PAUSE_MS (50)
/* Read-ahead for readline: one AT+SQNSRECV fills it, lines are cut from it. */
#define READ_AHEAD (256)
/* Reads shorter than this go through the read-ahead. */
#define SMALL_READ (64)

typedef struct {
    mp_obj_base_t base;
    mp_obj_t modem; /* keeps the LTE object reachable while the socket lives */
    mas_handle handle;
    uint8_t family;
    bool open;
    /* The object owns `handle` (a listener hands its connId to each accepted
     * connection and owns none until it listens again). */
    bool has_slot;
    bool connected;
    bool listening;
    bool polled_readable;
    uint16_t local_port; /* bind(): the port listen() uses */
    masg_stream_dial_fn dial; /* a dial asked for before connect() (ssl.c's wrap), or NULL */
    mp_obj_t dial_request;
    int32_t timeout_ms; /* -1 blocks, 0 does not */
    uint32_t polled_ms;
    uint16_t ahead_start;
    uint16_t ahead_len;
    uint8_t ahead[READ_AHEAD];
} stream_obj_t;

static uint32_t now_ms(void) {
    return (uint32_t)mp_hal_ticks_ms();
}

static stream_obj_t *open_stream(mp_obj_t self_in) {
    stream_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (!self->open) {
        mp_raise_OSError(MP_EBADF);
    }
    return self;
}

/* ---- construction ---------------------------------------------------------- */

mp_obj_t masg_stream_new(int family, mp_obj_t lte) {
    masg_check_new_socket(family, lte);
    /* Allocate first: if this raised after the slot was taken, the slot would leak. */
    stream_obj_t *self = MPCOMPAT_NEW_OBJ_WITH_FINALISER(stream_obj_t, &masg_stream_type);
    self->modem = MP_OBJ_NULL;
    self->handle = 0;
    self->family = (uint8_t)family;
    self->open = false;
    self->has_slot = false;
    self->connected = false;
    self->listening = false;
    self->polled_readable = false;
    self->local_port = 0;
    self->dial = NULL;
    self->dial_request = MP_OBJ_NULL;
    self->timeout_ms = -1;
    self->polled_ms = 0;
    self->ahead_start = 0;
    self->ahead_len = 0;

    self->handle = masg_take_slot(mas_stream_open, false); /* as for datagrams: no modem needed yet */
    self->open = true;
    self->has_slot = true;
    self->modem = masg_modem();
    return MP_OBJ_FROM_PTR(self);
}

bool masg_stream_handle(mp_obj_t obj, mas_handle *out) {
    if (mp_obj_get_type(obj) != &masg_stream_type) {
        return false;
    }
    stream_obj_t *self = MP_OBJ_TO_PTR(obj);
    *out = self->handle;
    return self->open && self->has_slot;
}

bool masg_stream_defer_dial(mp_obj_t obj, masg_stream_dial_fn dial, mp_obj_t request) {
    if (mp_obj_get_type(obj) != &masg_stream_type) {
        return false;
    }
    stream_obj_t *self = MP_OBJ_TO_PTR(obj);
    if (!self->open || !self->has_slot || self->connected || self->listening) {
        return false;
    }
    self->dial = dial;
    self->dial_request = request;
    return true;
}

/* A connection a listener accepted: the object takes over `handle`. */
static mp_obj_t stream_from_accepted(stream_obj_t *listener, mas_handle handle) {
    stream_obj_t *self = MPCOMPAT_NEW_OBJ_WITH_FINALISER(stream_obj_t, &masg_stream_type);
    self->modem = listener->modem;
    self->handle = handle;
    self->family = listener->family;
    self->open = true;
    self->has_slot = true;
    self->connected = true;
    self->listening = false;
    self->polled_readable = false;
    self->local_port = listener->local_port;
    self->dial = NULL;
    self->dial_request = MP_OBJ_NULL;
    self->timeout_ms = -1;
    self->polled_ms = 0;
    self->ahead_start = 0;
    self->ahead_len = 0;
    return MP_OBJ_FROM_PTR(self);
}

static void stream_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    (void)kind;
    stream_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_printf(print, "<socket af=%d type=SOCK_STREAM%s>", self->family, self->open ? "" : " closed");
}

/* ---- connecting ------------------------------------------------------------ */

// method socket.connect(address): dials the modem's TCP socket (blocking, bounded by the
// modem's connect timeout, also on a non-blocking socket: the dial is one AT command)
static mp_obj_t stream_connect(mp_obj_t self_in, mp_obj_t addr_in) {
    stream_obj_t *self = open_stream(self_in);
    mas_addr peer;
    /* Advisory family: parse as AF_INET6, which takes IPv4 and IPv6 alike. */
    masg_addr_from_obj(addr_in, MASG_AF_INET6, MASG_ADDR_PEER, &peer);
    if (self->connected || self->listening) {
        mp_raise_OSError(MP_EISCONN);
    }
    if (self->dial != NULL) {
        /* Wrapped before connect(): the wrap's own dial (one secure dial). */
        self->dial(self_in, self->dial_request, &peer);
        self->connected = true;
        return mp_const_none;
    }
    mas_outcome out;
    masg_op_enter(true);
    int32_t err = masg_op_finish(mas_stream_connect_begin(self->handle, &peer), &out);
    masg_op_leave();
    if (err == MAS_ECONNREFUSED) {
        masg_raise_msg(masg_errno(err), "the modem could not connect (NO CARRIER)");
    }
    if (err != 0) {
        masg_raise(err);
    }
    self->connected = true;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(stream_connect_obj, stream_connect);

/* ---- sending --------------------------------------------------------------- */

/* Sends what one command carries; *sent is the count the modem accepted.
 * A full send buffer is waited out on blocking sockets (within the timeout),
 * and is EAGAIN on non-blocking ones. Returns 0 or a core errno. */
static int32_t send_some(stream_obj_t *self, const uint8_t *data, size_t len, size_t *sent) {
    uint32_t start = now_ms();
    *sent = 0;
    for (;;) {
        size_t taken = 0;
        mas_outcome out;
        masg_op_enter(true);
        int32_t err = masg_op_finish(mas_stream_send_begin(self->handle, data, len, &taken), &out);
        masg_op_leave();
        if (err == 0) {
            *sent = out.len;
            return 0;
        }
        if (err != MAS_EAGAIN || self->timeout_ms == 0) {
            return err;
        }
        if (self->timeout_ms > 0 && now_ms() - start >= (uint32_t)self->timeout_ms) {
            return MAS_ETIMEDOUT;
        }
        mp_hal_delay_ms(SEND_FULL_PAUSE_MS);
    }
}

/* Sends all of `data`; on an error *sent tells how much went before it. */
static int32_t send_all(stream_obj_t *self, const uint8_t *data, size_t len, size_t *sent) {
    *sent = 0;
    while (*sent < len) {
        size_t n;
        int32_t err = send_some(self, data + *sent, len - *sent, &n);
        if (err != 0) {
            return err;
        }
        *sent += n;
    }
    return 0;
}

NORETURN static void raise_stream_error(int32_t err) {
    if (err == MAS_ENOTCONN) {
        masg_raise_msg(masg_errno(err), "the stream socket is not connected: call connect() first");
    }
    if (err == MAS_EPIPE) {
        masg_raise_msg(masg_errno(err), "the connection was closed by the peer or the network");
    }
    if (err == MAS_ECONNRESET) {
        masg_raise_msg(masg_errno(err), "the connection was lost (modem restart or reset): a stream cannot be resumed");
    }
    masg_raise(err);
}

// method socket.send(bytes): sends what one modem command carries; returns that count
static mp_obj_t stream_send(mp_obj_t self_in, mp_obj_t data_in) {
    stream_obj_t *self = open_stream(self_in);
    mp_buffer_info_t data;
    mp_get_buffer_raise(data_in, &data, MP_BUFFER_READ);
    if (data.len == 0) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    size_t sent;
    int32_t err = send_some(self, data.buf, data.len, &sent);
    if (err != 0) {
        raise_stream_error(err);
    }
    return mp_obj_new_int_from_uint(sent);
}
static MP_DEFINE_CONST_FUN_OBJ_2(stream_send_obj, stream_send);

// method socket.sendall(bytes)
static mp_obj_t stream_sendall(mp_obj_t self_in, mp_obj_t data_in) {
    stream_obj_t *self = open_stream(self_in);
    mp_buffer_info_t data;
    mp_get_buffer_raise(data_in, &data, MP_BUFFER_READ);
    size_t sent;
    int32_t err = send_all(self, data.buf, data.len, &sent);
    if (err != 0) {
        raise_stream_error(err);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(stream_sendall_obj, stream_sendall);

/* ---- receiving ------------------------------------------------------------- */

/* One read of at most `cap` bytes straight from the modem; *got 0 = EOF.
 * Returns 0 or a core errno; raises only what the transport raises. */
static int32_t receive_some(stream_obj_t *self, uint8_t *buf, size_t cap, size_t *got) {
    int32_t timeout = self->timeout_ms;
    uint32_t start = now_ms();
    *got = 0;
    if (!self->connected) {
        /* A listener (or a socket never connected) has no stream to read: ENOTCONN, as
         * lwIP and Linux answer; a listener's handle may even be its last connection's. */
        return MAS_ENOTCONN;
    }
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
        int32_t err = masg_op_finish(mas_stream_recv_begin(self->handle, cap, slice, now_ms()), &out);
        int32_t wait = 0;
        if (err == 0) {
            /* out.data is valid until the next core call: copy under the lock. */
            *got = out.data_len < cap ? out.data_len : cap;
            if (*got != 0) {
                memcpy(buf, out.data, *got);
            }
        } else if (err == MAS_ETIMEDOUT) {
            wait = mas_recv_wait_ms(self->handle, now_ms());
        }
        masg_op_leave();
        self->polled_readable = false;
        bool more_time = timeout < 0 || (timeout > 0 && now_ms() - start < (uint32_t)timeout);
        if (err == MAS_ETIMEDOUT && more_time) {
            /* Nothing yet: wait for the next read with the engine free. */
            masg_wait_unlocked(wait, timeout < 0 ? -1 : (int32_t)((uint32_t)timeout - (now_ms() - start)));
            continue;
        }
        return err;
    }
}

/* Reads at most `cap` bytes: first from the read-ahead, else from the modem. A
 * small read (MQTT clients read a byte or two at a time) fills the read-ahead
 * with one modem read instead of costing one exchange per byte. */
static int32_t receive(stream_obj_t *self, uint8_t *buf, size_t cap, size_t *got) {
    if (cap == 0) {
        *got = 0;
        return 0;
    }
    if (self->ahead_len == 0 && cap < SMALL_READ) {
        size_t filled;
        self->ahead_start = 0;
        int32_t err = receive_some(self, self->ahead, READ_AHEAD, &filled);
        if (err != 0 || filled == 0) {
            *got = 0;
            return err;
        }
        self->ahead_len = (uint16_t)filled;
    }
    if (self->ahead_len > 0) {
        size_t n = cap < self->ahead_len ? cap : self->ahead_len;
        memcpy(buf, self->ahead + self->ahead_start, n);
        self->ahead_start += (uint16_t)n;
        self->ahead_len -= (uint16_t)n;
        *got = n;
        return 0;
    }
    if (cap > MAS_MAX_DATAGRAM) {
        cap = MAS_MAX_DATAGRAM;
    }
    return receive_some(self, buf, cap, got);
}

// method socket.recv(bufsize): at most bufsize bytes; b'' once the peer has closed
static mp_obj_t stream_recv(mp_obj_t self_in, mp_obj_t bufsize_in) {
    stream_obj_t *self = open_stream(self_in);
    mp_int_t bufsize = mp_obj_get_int(bufsize_in);
    if (bufsize < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("bufsize must be >= 0"));
    }
    size_t cap = (size_t)bufsize < MAS_MAX_DATAGRAM ? (size_t)bufsize : MAS_MAX_DATAGRAM;
    vstr_t vstr;
    vstr_init_len(&vstr, cap);
    size_t got = 0;
    if (cap > 0) {
        int32_t err = receive(self, (uint8_t *)vstr.buf, cap, &got);
        if (err != 0) {
            vstr_clear(&vstr);
            raise_stream_error(err);
        }
    }
    vstr.len = got;
    return MPCOMPAT_BYTES_FROM_VSTR(&vstr);
}
static MP_DEFINE_CONST_FUN_OBJ_2(stream_recv_obj, stream_recv);

// method socket.readline([limit]): up to and including b'\n', or what is left at EOF
static mp_obj_t stream_readline(size_t n_args, const mp_obj_t *args) {
    stream_obj_t *self = open_stream(args[0]);
    mp_int_t limit = n_args > 1 ? mp_obj_get_int(args[1]) : -1;
    vstr_t vstr;
    vstr_init(&vstr, 64);
    for (;;) {
        if (self->ahead_len == 0) {
            size_t got;
            self->ahead_start = 0;
            int32_t err = receive_some(self, self->ahead, READ_AHEAD, &got);
            if (err == MAS_EAGAIN && vstr.len == 0) {
                vstr_clear(&vstr);
                return mp_const_none; /* non-blocking, nothing yet (as modlwip) */
            }
            if (err == MAS_EAGAIN) {
                break;
            }
            if (err != 0) {
                vstr_clear(&vstr);
                raise_stream_error(err);
            }
            if (got == 0) {
                break; /* EOF */
            }
            self->ahead_len = (uint16_t)got;
        }
        const uint8_t *start = self->ahead + self->ahead_start;
        size_t n = self->ahead_len;
        const uint8_t *nl = memchr(start, '\n', n);
        bool line_end = nl != NULL;
        if (line_end) {
            n = (size_t)(nl - start) + 1;
        }
        if (limit >= 0 && vstr.len + n > (size_t)limit) {
            n = (size_t)limit - vstr.len;
            line_end = false;
        }
        vstr_add_strn(&vstr, (const char *)start, n);
        self->ahead_start += (uint16_t)n;
        self->ahead_len -= (uint16_t)n;
        if (line_end || (limit >= 0 && vstr.len >= (size_t)limit)) {
            break;
        }
    }
    return MPCOMPAT_BYTES_FROM_VSTR(&vstr);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(stream_readline_obj, 1, 2, stream_readline);

/* ---- listening ---------------------------------------------------------------- */

// method socket.bind(address): the port a later listen() uses (the modem has one address)
static mp_obj_t stream_bind(mp_obj_t self_in, mp_obj_t addr_in) {
    stream_obj_t *self = open_stream(self_in);
    mas_addr local;
    masg_addr_from_obj(addr_in, MASG_AF_INET6, MASG_ADDR_LOCAL, &local);
    if (self->connected || self->listening) {
        mp_raise_OSError(MP_EISCONN);
    }
    self->local_port = local.port;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(stream_bind_obj, stream_bind);

/* Listens on the bound port with the object's slot, taking a new one first if
 * the last accept gave it away. Returns 0 or a core errno. */
static int32_t arm_listener(stream_obj_t *self) {
    if (!self->has_slot) {
        mas_handle handle;
        masg_op_enter(true);
        int32_t err = mas_stream_open(&handle);
        masg_op_leave();
        if (err == MAS_ENOMEM) {
            /* As socket() does: accepted connections dropped without close() hold
             * slots until their finalisers run (the next operation closes them). */
            gc_collect();
            masg_op_enter(true);
            err = mas_stream_open(&handle);
            masg_op_leave();
        }
        if (err != 0) {
            return err;
        }
        self->handle = handle;
        self->has_slot = true;
    }
    mas_outcome out;
    masg_op_enter(true);
    int32_t err = masg_op_finish(mas_listen_begin(self->handle, self->local_port), &out);
    masg_op_leave();
    if (err == 0) {
        self->listening = true;
    }
    return err;
}

// method socket.listen([backlog]): AT+SQNSL on the bound port; the modem keeps one
// connection waiting per listening connId, so the backlog is not used
static mp_obj_t stream_listen(size_t n_args, const mp_obj_t *args) {
    stream_obj_t *self = open_stream(args[0]);
    if (n_args > 1) {
        (void)mp_obj_get_int(args[1]);
    }
    if (self->connected) {
        mp_raise_OSError(MP_EISCONN);
    }
    if (self->local_port == 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("bind((\"\", port)) first: the modem listens on a port you choose"));
    }
    if (self->listening) {
        return mp_const_none;
    }
    int32_t err = arm_listener(self);
    if (err == MAS_EADDRINUSE) {
        masg_raise_msg(masg_errno(err), "the modem refused to listen on that port");
    }
    if (err != 0) {
        masg_raise(err);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(stream_listen_obj, 1, 2, stream_listen);

// method socket.accept(): (connection, (ip, port)); the modem turns the listening connId
// into the connection, so the listener takes another connId and listens again
static mp_obj_t stream_accept(mp_obj_t self_in) {
    stream_obj_t *self = open_stream(self_in);
    /* A readiness seen by poll is used up by this accept (or was stale if it finds none). */
    self->polled_readable = false;
    if (!self->listening) {
        if (self->local_port == 0 || self->connected) {
            mp_raise_OSError(MP_EINVAL);
        }
        /* The previous accept took the connId and listening again failed then. */
        int32_t err = arm_listener(self);
        if (err != 0) {
            masg_raise(err);
        }
    }
    int32_t timeout = self->timeout_ms;
    uint32_t start = now_ms();
    mas_outcome out;
    int32_t err;
    for (;;) {
        int32_t slice = timeout == 0 ? 0 : RECEIVE_SLICE_MS;
        if (timeout > 0) {
            uint32_t elapsed = now_ms() - start;
            if (elapsed >= (uint32_t)timeout) {
                masg_raise(MAS_ETIMEDOUT);
            }
            uint32_t left = (uint32_t)timeout - elapsed;
            slice = left < RECEIVE_SLICE_MS ? (int32_t)left : RECEIVE_SLICE_MS;
        }
        masg_op_enter(true);
        err = masg_op_finish(mas_accept_begin(self->handle, slice, now_ms()), &out);
        masg_op_leave();
        bool more_time = timeout < 0 || (timeout > 0 && now_ms() - start < (uint32_t)timeout);
        if (err == MAS_ETIMEDOUT && more_time) {
            continue;
        }
        break;
    }
    if (err != 0) {
        raise_stream_error(err);
    }
    mp_obj_t items[2];
    items[1] = masg_addr_to_obj(&out.from);
    /* From here the connId is the connection's. */
    items[0] = stream_from_accepted(self, self->handle);
    self->has_slot = false;
    self->listening = false;
    /* Listen again now, so the next client finds the port open; if no connId is free,
     * the next accept() tries again and says why. */
    (void)arm_listener(self);
    return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(stream_accept_obj, stream_accept);

/* ---- peer and shutdown -------------------------------------------------------- */

static void close_stream(stream_obj_t *self);

// method socket.getpeername(): the peer of a connected stream: the address it dialled, or
// for an accepted connection the remote address of the listener's AT+SQNSS line
static mp_obj_t stream_getpeername(mp_obj_t self_in) {
    stream_obj_t *self = open_stream(self_in);
    if (!self->connected) {
        masg_raise_msg(MP_ENOTCONN, "the stream socket is not connected");
    }
    mas_addr peer;
    masg_lock();
    int32_t err = mas_stream_peer(self->handle, &peer);
    masg_unlock();
    if (err != 0) {
        raise_stream_error(err);
    }
    return masg_addr_to_obj(&peer);
}
static MP_DEFINE_CONST_FUN_OBJ_1(stream_getpeername_obj, stream_getpeername);

// method socket.shutdown(how): SHUT_RDWR closes the connection (AT+SQNSH) and the socket;
// the modem has no half-close, so SHUT_RD and SHUT_WR are refused
static mp_obj_t stream_shutdown(mp_obj_t self_in, mp_obj_t how_in) {
    stream_obj_t *self = open_stream(self_in);
    mp_int_t how = mp_obj_get_int(how_in);
    if (how < MASG_SHUT_RD || how > MASG_SHUT_RDWR) {
        mp_raise_ValueError(MP_ERROR_TEXT("how must be SHUT_RD, SHUT_WR or SHUT_RDWR"));
    }
    if (how != MASG_SHUT_RDWR) {
        masg_raise_msg(MP_EOPNOTSUPP, "the modem cannot half-close a connection: shutdown(SHUT_RDWR) closes it");
    }
    if (!self->connected) {
        masg_raise_msg(MP_ENOTCONN, "the stream socket is not connected");
    }
    close_stream(self);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(stream_shutdown_obj, stream_shutdown);

/* ---- options ------------------------------------------------------------------ */

// method socket.settimeout(value)
static mp_obj_t stream_settimeout(mp_obj_t self_in, mp_obj_t timeout_in) {
    stream_obj_t *self = open_stream(self_in);
    self->timeout_ms = masg_timeout_ms_arg(timeout_in);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(stream_settimeout_obj, stream_settimeout);

// method socket.setblocking(flag)
static mp_obj_t stream_setblocking(mp_obj_t self_in, mp_obj_t flag_in) {
    stream_obj_t *self = open_stream(self_in);
    self->timeout_ms = mp_obj_is_true(flag_in) ? -1 : 0;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(stream_setblocking_obj, stream_setblocking);

// method socket.setsockopt(level, option, value): SO_REUSEADDR and TCP_NODELAY are accepted
// and have no effect (the modem sends each command's payload at once)
static mp_obj_t stream_setsockopt(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    open_stream(args[0]);
    masg_check_sockopt(args[1], args[2], true);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(stream_setsockopt_obj, 4, 4, stream_setsockopt);

// method socket.makefile(mode='rb', buffering=0): the socket itself, as in usocket
static mp_obj_t stream_makefile(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    open_stream(args[0]);
    return args[0];
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(stream_makefile_obj, 1, 3, stream_makefile);

/* ---- closing ---------------------------------------------------------------- */

static void close_stream(stream_obj_t *self) {
    if (!self->open) {
        return;
    }
    self->open = false;
    self->ahead_len = 0;
    if (!self->has_slot) {
        return; /* a listener whose connId went to its last accepted connection */
    }
    self->has_slot = false;
    masg_close_slot(self->handle);
}

// method socket.__del__(): the GC calls it; no modem I/O here
static mp_obj_t stream_del(mp_obj_t self_in) {
    stream_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->open) {
        self->open = false;
        if (self->has_slot) {
            self->has_slot = false;
            masg_defer_close(self->handle);
        }
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(stream_del_obj, stream_del);

/* ---- stream protocol (read, readinto, write, select.poll, asyncio) ---------- */

static mp_uint_t stream_p_read(mp_obj_t self_in, void *buf, mp_uint_t size, int *errcode) {
    stream_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (!self->open) {
        *errcode = MP_EBADF;
        return MP_STREAM_ERROR;
    }
    size_t got;
    int32_t err = receive(self, buf, size, &got);
    if (err != 0) {
        *errcode = masg_errno(err);
        return MP_STREAM_ERROR;
    }
    return got;
}

static mp_uint_t stream_p_write(mp_obj_t self_in, const void *buf, mp_uint_t size, int *errcode) {
    stream_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (!self->open) {
        *errcode = MP_EBADF;
        return MP_STREAM_ERROR;
    }
    if (size == 0) {
        return 0;
    }
    size_t sent;
    int32_t err = send_some(self, buf, size, &sent);
    if (err != 0) {
        *errcode = masg_errno(err);
        return MP_STREAM_ERROR;
    }
    return sent;
}

/* Whether a read would return at once: bytes ahead, bytes at the modem, or the
 * stream's end; for a listener, a connection waiting. "Readable" holds until
 * the next read; otherwise the last poll sweep answers (socket_common.c). */
static mp_uint_t poll_readable(stream_obj_t *self) {
    if (self->ahead_len > 0 || self->polled_readable) {
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
    self->polled_readable = ready;
    self->polled_ms = now_ms();
    return ready ? MP_STREAM_POLL_RD : 0;
}

static mp_uint_t stream_p_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg, int *errcode) {
    stream_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (request == MP_STREAM_CLOSE) {
        close_stream(self);
        return 0;
    }
    if (request == MP_STREAM_POLL) {
        if (!self->open) {
            return MP_STREAM_POLL_NVAL;
        }
        mp_uint_t ready = 0;
        if ((arg & MP_STREAM_POLL_WR) && self->connected) {
            /* The modem takes a send at once; a full buffer is waited out in the send. */
            ready |= MP_STREAM_POLL_WR;
        }
        if ((arg & MP_STREAM_POLL_RD) && (self->connected || (self->listening && self->has_slot))) {
            ready |= poll_readable(self);
        }
        return ready;
    }
    *errcode = MP_EINVAL;
    return MP_STREAM_ERROR;
}

static const mp_stream_p_t stream_stream_p = {
    .read = stream_p_read,
    .write = stream_p_write,
    .ioctl = stream_p_ioctl,
};

static const mp_rom_map_elem_t stream_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&stream_del_obj) },
    { MP_ROM_QSTR(MP_QSTR___enter__), MP_ROM_PTR(&mp_identity_obj) },
    { MP_ROM_QSTR(MP_QSTR___exit__), MP_ROM_PTR(&masg_socket_exit_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&mp_stream_close_obj) },
    { MP_ROM_QSTR(MP_QSTR_connect), MP_ROM_PTR(&stream_connect_obj) },
    { MP_ROM_QSTR(MP_QSTR_bind), MP_ROM_PTR(&stream_bind_obj) },
    { MP_ROM_QSTR(MP_QSTR_listen), MP_ROM_PTR(&stream_listen_obj) },
    { MP_ROM_QSTR(MP_QSTR_accept), MP_ROM_PTR(&stream_accept_obj) },
    { MP_ROM_QSTR(MP_QSTR_send), MP_ROM_PTR(&stream_send_obj) },
    { MP_ROM_QSTR(MP_QSTR_sendall), MP_ROM_PTR(&stream_sendall_obj) },
    { MP_ROM_QSTR(MP_QSTR_recv), MP_ROM_PTR(&stream_recv_obj) },
    { MP_ROM_QSTR(MP_QSTR_settimeout), MP_ROM_PTR(&stream_settimeout_obj) },
    { MP_ROM_QSTR(MP_QSTR_setblocking), MP_ROM_PTR(&stream_setblocking_obj) },
    { MP_ROM_QSTR(MP_QSTR_setsockopt), MP_ROM_PTR(&stream_setsockopt_obj) },
    { MP_ROM_QSTR(MP_QSTR_getpeername), MP_ROM_PTR(&stream_getpeername_obj) },
    { MP_ROM_QSTR(MP_QSTR_shutdown), MP_ROM_PTR(&stream_shutdown_obj) },
    { MP_ROM_QSTR(MP_QSTR_makefile), MP_ROM_PTR(&stream_makefile_obj) },
    { MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&mp_stream_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_readinto), MP_ROM_PTR(&mp_stream_readinto_obj) },
    { MP_ROM_QSTR(MP_QSTR_readline), MP_ROM_PTR(&stream_readline_obj) },
    { MP_ROM_QSTR(MP_QSTR_write), MP_ROM_PTR(&mp_stream_write_obj) },
};
static MP_DEFINE_CONST_DICT(stream_locals_dict, stream_locals_table);

MPCOMPAT_DEFINE_STREAM_TYPE(
    masg_stream_type,
    MP_QSTR_socket,
    NULL,
    stream_print,
    masg_socket_attr,
    &stream_stream_p,
    &stream_locals_dict
    );
