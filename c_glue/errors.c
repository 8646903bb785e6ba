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

void masg_raise(int32_t mas_error) {
    if (mas_error == MASG_NOT_ATTACHED) {
        masg_raise_msg(MASG_ENETUNREACH, MASG_NOT_ATTACHED_TEXT);
    }
    mp_raise_OSError(masg_errno(mas_error));
}

void masg_raise_msg(int errno_value, const char *message) {
    mp_obj_t args[2] = {
        MP_OBJ_NEW_SMALL_INT(errno_value),
        mp_obj_new_str(message, strlen(message)),
    };
    nlr_raise(mp_obj_new_exception_args(&mp_type_OSError, 2, args));
}
