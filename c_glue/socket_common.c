/*
 * What the datagram socket (socket_type.c) and the stream socket
 * (socket_stream.c) do alike: read a timeout argument, check a socket option,
 * close a slot now or from the finaliser, leave a `with` block, and answer the
 * `cme_error` attribute; and socket()'s checks and slot.
 */
#include "py/gc.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/stream.h"

#include "mas_glue.h"

int32_t masg_timeout_ms_arg(mp_obj_t timeout_in) {
    if (timeout_in == mp_const_none) {
        return -1;
    }
    #if MICROPY_PY_BUILTINS_FLOAT
    mp_float_t seconds = mp_obj_get_float(timeout_in);
    /* Written so that NaN is refused too: cast to an int it is undefined (x86 gives
     * INT32_MIN, which here would mean "block forever"). */
    if (!(seconds >= 0)) {
        mp_raise_ValueError(MP_ERROR_TEXT("timeout must be None or >= 0"));
    }
    mp_float_t ms = MICROPY_FLOAT_CONST(1000.0) * seconds;
    /* As CPython: a timeout that does not fit is an error, not a silent cap
     * (inf included; None is the way to block forever). */
    if (ms > MICROPY_FLOAT_CONST(2147483647.0)) {
        mp_raise_msg(&mp_type_OverflowError, MP_ERROR_TEXT("timeout too large"));
    }
    return (int32_t)ms;
    #else
    mp_int_t seconds = mp_obj_get_int(timeout_in);
    if (seconds < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("timeout must be None or >= 0"));
    }
    if (seconds > 2147483) {
        mp_raise_msg(&mp_type_OverflowError, MP_ERROR_TEXT("timeout too large"));
    }
    return (int32_t)(seconds * 1000);
    #endif
}

/* Options are accepted where they change nothing on the modem (it sends each
 * command's payload at once and reuses ports freely); anything else is refused
 * rather than silently ignored. */
void masg_check_sockopt(mp_obj_t level_in, mp_obj_t option_in, bool stream) {
    mp_int_t level = mp_obj_get_int(level_in);
    mp_int_t option = mp_obj_get_int(option_in);
    if (level == MASG_SOL_SOCKET && option == MASG_SO_REUSEADDR) {
        return;
    }
    if (!stream) {
        masg_raise_msg(MP_EOPNOTSUPP, "only SOL_SOCKET/SO_REUSEADDR is supported");
    }
    if (level == MASG_IPPROTO_TCP && option == MASG_TCP_NODELAY) {
        return;
    }
    masg_raise_msg(MP_EOPNOTSUPP, "only SOL_SOCKET/SO_REUSEADDR and IPPROTO_TCP/TCP_NODELAY are supported");
}

void masg_close_slot(mas_handle handle) {
    /* Queued and then closed by op_enter's housekeeping: a raise there still
     * leaves the close queued, never a leaked slot. */
    masg_defer_close(handle);
    masg_op_enter(false);
    masg_op_leave();
}

// method socket.__exit__(exc_type, exc, traceback): closes, as the end of a `with` block.
// (Here rather than the stream module's: MicroPython 1.11 has none.)
static mp_obj_t socket_exit(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    return mp_stream_close(args[0]);
}
MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(masg_socket_exit_obj, 4, 4, socket_exit);

void masg_socket_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] == MP_OBJ_NULL && attr == MP_QSTR_cme_error) {
        masg_lock();
        int32_t cme = mas_last_cme();
        masg_unlock();
        dest[0] = cme < 0 ? mp_const_none : MP_OBJ_NEW_SMALL_INT(cme);
        return;
    }
    mpcompat_attr_continue(self_in, attr, dest);
}

void masg_check_new_socket(int family, mp_obj_t lte) {
    if (family != MASG_AF_INET && family != MASG_AF_INET6) {
        masg_raise_msg(MP_EAFNOSUPPORT, "the family must be AF_INET or AF_INET6");
    }
    if (lte != MP_OBJ_NULL && lte != mp_const_none && lte != masg_modem()) {
        masg_modem_set(lte, -1);
    }
}

static int32_t try_open(int32_t (*open_slot)(mas_handle *), bool need_modem, mas_handle *handle) {
    masg_op_enter(need_modem);
    int32_t err = open_slot(handle);
    masg_op_leave();
    return err;
}

mas_handle masg_take_slot(int32_t (*open_slot)(mas_handle *), bool need_modem) {
    mas_handle handle;
    int32_t err = try_open(open_slot, need_modem, &handle);
    if (err == MAS_ENOMEM) {
        /* Sockets dropped without close() hold slots until their finalisers run. */
        gc_collect();
        err = try_open(open_slot, need_modem, &handle);
    }
    if (err == MAS_ENOMEM) {
        masg_raise_msg(masg_errno(err), "all 6 modem sockets are in use: close one first");
    }
    if (err != 0) {
        masg_raise(err);
    }
    return handle;
}

/* ---- readiness and waits shared by both socket types --------------------------- */

/* select.poll asks every registered socket in turn, every few ms: the first
 * socket asked runs one sweep (AT+SQNSS, every slot in one exchange), the
 * others read its answer, which is trusted this long. */
#define POLL_SWEEP_FRESH_MS (20)
static uint32_t sweep_ms;
static bool swept;

int32_t masg_poll_ready(mas_handle handle, bool *ready) {
    uint32_t now = (uint32_t)mp_hal_ticks_ms();
    int32_t err;
    masg_op_enter(true);
    if (swept && now - sweep_ms < POLL_SWEEP_FRESH_MS) {
        int32_t r = mas_poll_ready(handle);
        err = r < 0 ? -r : 0;
        *ready = r > 0;
    } else {
        mas_outcome out;
        err = masg_op_finish(mas_poll_begin(handle, now), &out);
        *ready = err == 0 && out.readable;
        if (err == 0) {
            swept = true;
            sweep_ms = now;
        }
    }
    masg_op_leave();
    return err;
}

void masg_wait_unlocked(int32_t wait_ms, int32_t left_ms) {
    if (wait_ms < 1) {
        wait_ms = 1; /* never spin on the engine lock */
    }
    if (left_ms >= 0 && wait_ms > left_ms) {
        wait_ms = left_ms;
    }
    if (wait_ms > 0) {
        mp_hal_delay_ms((mp_uint_t)wait_ms);
    }
}
