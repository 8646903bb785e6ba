/*
 * The core reports Linux errno numbers; ports that use their C library's errno
 * (ESP32's newlib numbers several of these differently) need the local value.
 */
#include "py/mperrno.h"

#include "mas_glue.h"

#include <string.h>

#if !MICROPY_USE_INTERNAL_ERRNO
#include <errno.h>
#endif

/* Nor ENETUNREACH (what a detached modem's failures become). */
#if !MICROPY_USE_INTERNAL_ERRNO && defined(ENETUNREACH)
#define MASG_ENETUNREACH ENETUNREACH
#else
#define MASG_ENETUNREACH (101)
#endif

/* MicroPython's own errno list has no EMSGSIZE. */
#if defined(MP_EMSGSIZE)
#define MASG_EMSGSIZE MP_EMSGSIZE
#elif !MICROPY_USE_INTERNAL_ERRNO && defined(EMSGSIZE)
#define MASG_EMSGSIZE EMSGSIZE
#else
#define MASG_EMSGSIZE (90)
#endif

int masg_errno(int32_t mas_error) {
    switch (mas_error) {
        case MAS_EIO:
            return MP_EIO;
        case MAS_EBADF:
            return MP_EBADF;
        case MAS_EAGAIN:
            return MP_EAGAIN;
        case MAS_ENOMEM:
            return MP_ENOMEM;
        case MAS_EINVAL:
            return MP_EINVAL;
        case MAS_EMSGSIZE:
            return MASG_EMSGSIZE;
        case MAS_EAFNOSUPPORT:
            return MP_EAFNOSUPPORT;
        case MAS_ENOTCONN:
            return MP_ENOTCONN;
        case MAS_ETIMEDOUT:
            return MP_ETIMEDOUT;
        case MAS_EHOSTUNREACH:
            return MP_EHOSTUNREACH;
        case MAS_EALREADY:
            return MP_EALREADY;
        case MAS_EPIPE:
            return MP_EPIPE;
        case MAS_EOPNOTSUPP:
            return MP_EOPNOTSUPP;
        case MAS_ECONNRESET:
            return MP_ECONNRESET;
        case MAS_EISCONN:
            return MP_EISCONN;
        case MAS_ECONNREFUSED:
            return MP_ECONNREFUSED;
        case MAS_ECONNABORTED:
            return MP_ECONNABORTED;
        case MAS_EADDRINUSE:
            return MP_EADDRINUSE;
        case MAS_ENOTSENDER:
            return MP_EOPNOTSUPP;
        case MASG_NOT_ATTACHED:
            return MASG_ENETUNREACH;
        default:
            return MP_EIO;
    }
}

/*
 * What a core errno means for the person reading the traceback: the cause, and
 * what to do. The errno stays args[0] (e.errno) for code that checks it.
 * EAGAIN stays bare: non-blocking code meets it in every poll loop, and
 * MicroPython's own sockets raise it without text. The texts are constant
 * objects, so raising one allocates no more than a bare errno did (one
 * exception, one argument tuple): every such error costs the same heap.
 */
static MP_DEFINE_STR_OBJ(text_eio,
    "the modem answered ERROR (sock.cme_error holds its +CME ERROR code, if any): "
    "check lte.isattached() and try again");
static MP_DEFINE_STR_OBJ(text_ebadf,
    "the socket is closed: make a new one");
static MP_DEFINE_STR_OBJ(text_enomem,
    "all 6 modem sockets are in use: close one first");
static MP_DEFINE_STR_OBJ(text_enotconn,
    "the socket has no peer yet: call sendto() or connect() before recv()/recvfrom()/send()");
static MP_DEFINE_STR_OBJ(text_ehostunreach,
    "the modem could not reach that peer (NO CARRIER): check the address and port, "
    "and that the network routes that family (IPv6 or IPv4)");
static MP_DEFINE_STR_OBJ(text_eisconn,
    "the socket is already connected or listening: a socket connects once, make a new one");
static MP_DEFINE_STR_OBJ(text_econnrefused,
    "the peer refused the connection (NO CARRIER): is a server listening on that port?");
static MP_DEFINE_STR_OBJ(text_econnreset,
    "the connection was lost (modem restart or reset): a stream cannot be resumed, connect again");
static MP_DEFINE_STR_OBJ(text_epipe,
    "the connection was closed by the peer or the network: connect again");
static MP_DEFINE_STR_OBJ(text_emsgsize,
    "too long for this modem transport: see config('max_datagram')");
static MP_DEFINE_STR_OBJ(text_eafnosupport,
    "the family must be AF_INET or AF_INET6");
static MP_DEFINE_STR_OBJ(text_eopnotsupp,
    "not supported by the modem's sockets");
static MP_DEFINE_STR_OBJ(text_eaddrinuse,
    "the modem refused that local port: it is in use, pick another");
static MP_DEFINE_STR_OBJ(text_ealready,
    "the module is in the middle of an operation (a callback re-entered it): call it again from ordinary code");
static MP_DEFINE_STR_OBJ(text_einval,
    "invalid argument for the modem's sockets");
static MP_DEFINE_STR_OBJ(text_etimedout,
    "timed out: the socket's timeout (settimeout()) or the modem's own limit ran out before the peer answered");

static mp_obj_t default_text(int32_t mas_error) {
    switch (mas_error) {
        case MAS_EIO:
            return MP_OBJ_FROM_PTR(&text_eio);
        case MAS_EBADF:
            return MP_OBJ_FROM_PTR(&text_ebadf);
        case MAS_ENOMEM:
            return MP_OBJ_FROM_PTR(&text_enomem);
        case MAS_ENOTCONN:
            return MP_OBJ_FROM_PTR(&text_enotconn);
        case MAS_EHOSTUNREACH:
            return MP_OBJ_FROM_PTR(&text_ehostunreach);
        case MAS_EISCONN:
            return MP_OBJ_FROM_PTR(&text_eisconn);
        case MAS_ECONNREFUSED:
            return MP_OBJ_FROM_PTR(&text_econnrefused);
        case MAS_ECONNRESET:
            return MP_OBJ_FROM_PTR(&text_econnreset);
        case MAS_EPIPE:
            return MP_OBJ_FROM_PTR(&text_epipe);
        case MAS_EMSGSIZE:
            return MP_OBJ_FROM_PTR(&text_emsgsize);
        case MAS_EAFNOSUPPORT:
            return MP_OBJ_FROM_PTR(&text_eafnosupport);
        case MAS_EOPNOTSUPP:
            return MP_OBJ_FROM_PTR(&text_eopnotsupp);
        case MAS_EADDRINUSE:
            return MP_OBJ_FROM_PTR(&text_eaddrinuse);
        case MAS_EALREADY:
            return MP_OBJ_FROM_PTR(&text_ealready);
        case MAS_EINVAL:
            return MP_OBJ_FROM_PTR(&text_einval);
        default:
            return MP_OBJ_NULL;
    }
}

static mp_obj_t exception_with(const mp_obj_type_t *type, int errno_value, mp_obj_t text) {
    mp_obj_t args[2] = { MP_OBJ_NEW_SMALL_INT(errno_value), text };
    return mp_obj_new_exception_args(type, 2, args);
}

void masg_raise(int32_t mas_error) {
    if (mas_error == MASG_NOT_ATTACHED) {
        masg_raise_msg(MASG_ENETUNREACH, MASG_NOT_ATTACHED_TEXT);
    }
    if (mas_error == MAS_ETIMEDOUT) {
        nlr_raise(exception_with(MASG_TIMEOUT_TYPE, MP_ETIMEDOUT, MP_OBJ_FROM_PTR(&text_etimedout)));
    }
    mp_obj_t text = default_text(mas_error);
    if (text == MP_OBJ_NULL) {
        mp_raise_OSError(masg_errno(mas_error));
    }
    nlr_raise(exception_with(&mp_type_OSError, masg_errno(mas_error), text));
}

static mp_obj_t exception_with_text(const mp_obj_type_t *type, int errno_value, const char *message) {
    return exception_with(type, errno_value, mp_obj_new_str(message, strlen(message)));
}

void masg_raise_msg(int errno_value, const char *message) {
    nlr_raise(exception_with_text(&mp_type_OSError, errno_value, message));
}

/* ---- socket.timeout and socket.gaierror ------------------------------------
 * Pycom's usocket (esp32/mods/modusocket.c, v1.20.2.r6: the module table
 * names `error` = OSError and `timeout` = TimeoutError) raises TimeoutError on
 * a send, recv or connect that timed out; CPython's socket.timeout is
 * TimeoutError too, and its gaierror a subclass of OSError for failed
 * lookups. Upstream MicroPython leaves TimeoutError out (py/objexcept.c), so
 * from 1.20 on the module defines both classes itself, as subclasses of
 * OSError; Pycom's 1.11 fork has TimeoutError built in, and its
 * exception_attr is private (a class of our own would lose e.errno there), so
 * gaierror is OSError itself on that build. The errno stays args[0]. */
#if MPCOMPAT_VERSION >= 120
#include "py/objexcept.h"

/* As OSError prints: "[Errno 110] ETIMEDOUT: timed out ...". */
static void errno_exception_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    mp_obj_exception_t *self = MP_OBJ_TO_PTR(self_in);
    mp_print_kind_t k = kind & ~PRINT_EXC_SUBCLASS;
    if ((k == PRINT_STR || k == PRINT_EXC) && self->args != NULL && self->args->len == 2
        && mp_obj_is_small_int(self->args->items[0])) {
        if (k == PRINT_EXC) {
            mp_printf(print, "%q: ", self->base.type->name);
        }
        qstr name = MP_QSTRnull;
        #if MICROPY_PY_ERRNO
        name = mp_errno_to_str(self->args->items[0]);
        #endif
        if (name != MP_QSTRnull) {
            mp_printf(print, "[Errno " INT_FMT "] %q: ", MP_OBJ_SMALL_INT_VALUE(self->args->items[0]), name);
        } else {
            mp_printf(print, "[Errno " INT_FMT "] ", MP_OBJ_SMALL_INT_VALUE(self->args->items[0]));
        }
        mp_obj_print_helper(print, self->args->items[1], PRINT_STR);
        return;
    }
    mp_obj_exception_print(print, self_in, kind);
}

MP_DEFINE_CONST_OBJ_TYPE(masg_type_timeout, MP_QSTR_TimeoutError, MP_TYPE_FLAG_NONE,
    make_new, mp_obj_exception_make_new,
    print, errno_exception_print,
    attr, mp_obj_exception_attr,
    parent, &mp_type_OSError);

MP_DEFINE_CONST_OBJ_TYPE(masg_type_gaierror, MP_QSTR_gaierror, MP_TYPE_FLAG_NONE,
    make_new, mp_obj_exception_make_new,
    print, errno_exception_print,
    attr, mp_obj_exception_attr,
    parent, &mp_type_OSError);

#endif

void masg_raise_timeout(const char *message) {
    nlr_raise(exception_with_text(MASG_TIMEOUT_TYPE, MP_ETIMEDOUT, message));
}

void masg_raise_gaierror(int errno_value, mp_obj_t message) {
    nlr_raise(exception_with(MASG_GAIERROR_TYPE, errno_value, message));
}
