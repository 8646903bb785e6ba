/*
 * Running core operations: the exchange loop, and the housekeeping that must
 * happen before an operation (reset sweep, deferred closes). The engine lock
 * they run under is lock.c's.
 *
 * The core is one static engine that runs one operation at a time. Every
 * Python call the loop makes (lte.send_at_cmd, and mp_hal_delay_ms, which can
 * raise KeyboardInterrupt or run scheduled callbacks) happens here in C, inside
 * nlr_push, after mas_step has returned: a raise longjmps through C frames
 * only, the operation is aborted with mas_abort() and the lock released before
 * the exception goes on.
 */
#include "py/mperrno.h"
#include "py/mphal.h"
/* py/runtime.h (py/mpstate.h) before py/mpthread.h: Pycom's esp32
 * mpthreadport.h includes py/mpstate.h, which then meets its mutex type
 * before the port has declared it. */
#include "py/runtime.h"
#include "py/mpthread.h"
#include "py/nlr.h"

#include "mas_glue.h"

/* ---- deferred closes ----------------------------------------------------- */

/* Finalisers run while the GC holds the heap: no allocation, no Python calls,
 * possibly in the middle of another operation. They only note the handle
 * here, one entry per modem slot: of two handles naming the same slot, the
 * older is stale (a modem switch's sweep freed it), and closing it would do
 * nothing, so keeping the newer loses no close. Sized by what can exist. */
#define DEFERRED_CAP (6)
static volatile mas_handle deferred_handle[DEFERRED_CAP];
static volatile bool deferred_used[DEFERRED_CAP];

void masg_defer_close(mas_handle handle) {
    int32_t slot = mas_handle_slot(handle);
    if (slot < 0 || slot >= DEFERRED_CAP) {
        return; /* no socket ever had this handle */
    }
    if (deferred_used[slot] && !mas_handle_supersedes(handle, deferred_handle[slot])) {
        return; /* the queued one is the same or a later socket of this slot */
    }
    deferred_handle[slot] = handle;
    deferred_used[slot] = true;
}

static void deferred_clear(void) {
    for (size_t i = 0; i < DEFERRED_CAP; i++) {
        deferred_used[i] = false;
    }
}

/* ---- the exchange loop --------------------------------------------------- */

static uint32_t now_ms(void) {
    return (uint32_t)mp_hal_ticks_ms();
}

/* Steps the started operation to its end. May raise (transport). */
static int32_t drive(mp_obj_t lte, mas_outcome *out) {
    mas_exchange next;
    masg_reply reply = { NULL, 0, MP_OBJ_NULL };
    uint32_t now = now_ms();
    if (masg_tracing) {
        masg_trace_op_start(now);
    }
    for (;;) {
        if (mas_step(reply.data, reply.len, now, &next, out) == 0) {
            masg_transport_done();
            if (masg_tracing) {
                masg_trace_outcome(now, out);
            }
            return out->error;
        }
        /* One test per exchange while no trace is on (trace.c). */
        if (masg_tracing) {
            masg_trace_perform(lte, &next, &reply, now);
        } else {
            masg_transport_perform(lte, &next, &reply);
        }
        now = now_ms();
    }
}

/* A failure a detached modem would also give: ask the modem whether it is
 * attached (AT+CGATT?, one exchange, only after such a failure) and, if it is
 * not, say that instead (MASG_NOT_ATTACHED). */
static int32_t explain_failure(mp_obj_t lte, int32_t err) {
    if (err != MAS_EIO && err != MAS_EHOSTUNREACH && err != MAS_ECONNREFUSED && err != MAS_ECONNRESET && err != MAS_EPIPE) {
        return err;
    }
    mas_outcome registration;
    if (mas_registration_begin() == 0 && drive(lte, &registration) == 0 && !registration.readable) {
        return MASG_NOT_ATTACHED;
    }
    return err;
}

static int32_t run(mp_obj_t lte, int32_t begun, mas_outcome *out) {
    return begun != 0 ? begun : drive(lte, out);
}

/* Without a modem the slot is freed with no AT exchange: begin the close and
 * abort it before its first step. */
static void release_quietly(mas_handle handle) {
    if (mas_close_begin(handle) == 0) {
        mas_abort();
    }
}

/* Reset sweep once per modem; closes queued by close() and by finalisers. */
static void housekeeping(mp_obj_t lte) {
    mas_outcome out;
    masg_sweep sweep = masg_modem_needs_sweep();
    if (lte != MP_OBJ_NULL && sweep != MASG_SWEEP_NONE) {
        int32_t begun;
        if (sweep == MASG_SWEEP_FULL) {
            /* The sweep frees every slot: queued handles are all stale now. */
            deferred_clear();
            begun = mas_reset_begin();
        } else {
            begun = mas_reset_keep_sockets_begin();
        }
        int32_t err = run(lte, begun, &out);
        if (err != 0) {
            masg_raise(err);
        }
        masg_modem_sweep_done();
    }
    for (size_t i = 0; i < DEFERRED_CAP; i++) {
        if (!deferred_used[i]) {
            continue;
        }
        mas_handle handle = deferred_handle[i];
        deferred_used[i] = false;
        if (lte == MP_OBJ_NULL) {
            release_quietly(handle);
        } else {
            /* EBADF: already closed or stale; other errors: the slot is freed anyway. */
            (void)run(lte, mas_close_begin(handle), &out);
        }
    }
}

bool masg_op_enter(bool need_modem) {
    masg_lock();
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t lte = masg_modem();
        if (lte == MP_OBJ_NULL && need_modem) {
            /* Found and swept under the lock: threads that all start without
             * a modem agree on one, and the first sweep runs once. */
            lte = masg_modem_find_locked();
        }
        if (lte == MP_OBJ_NULL && need_modem) {
            masg_raise_no_modem();
        }
        housekeeping(lte);
        nlr_pop();
        return lte != MP_OBJ_NULL;
    }
    mas_abort();
    masg_unlock();
    nlr_jump(nlr.ret_val);
}

int32_t masg_op_finish(int32_t begun, mas_outcome *out) {
    if (begun != 0) {
        return begun;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t lte = masg_modem();
        if (lte == MP_OBJ_NULL) {
            masg_raise_no_modem();
        }
        int32_t err = explain_failure(lte, drive(lte, out));
        nlr_pop();
        return err;
    }
    mas_abort();
    masg_unlock();
    nlr_jump(nlr.ret_val);
}

void masg_op_leave(void) {
    if (masg_tracing) {
        masg_trace_notes(); /* calls that needed no exchange (open, bind) */
    }
    masg_unlock();
}

