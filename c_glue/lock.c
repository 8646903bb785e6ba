/*
 * The engine lock: every call into the core happens between masg_lock() and
 * masg_unlock(), one thread at a time, in the order the threads asked.
 */
#include "py/mperrno.h"
#include "py/mphal.h"
/* py/runtime.h (py/mpstate.h) before py/mpthread.h: Pycom's esp32
 * mpthreadport.h includes py/mpstate.h, which then meets its mutex type
 * before the port has declared it. */
#include "py/runtime.h"
#include "py/mpthread.h"

#include "mas_glue.h"

/* ---- the lock ------------------------------------------------------------ */

/* The core after a soft reset: the previous VM's operation and slots go. */
static void free_previous_slots(void) {
    mas_trace_enable(false); /* its target went with the previous VM (trace.c) */
    mas_abort();
    if (mas_reset_begin() == 0) {
        mas_abort(); /* every slot is free; the modem sweep waits for the first modem */
    }
}

#if MICROPY_PY_THREAD
static mp_thread_mutex_t engine_mutex;
static bool engine_mutex_ready;
static struct _mp_state_thread_t *volatile engine_owner;
/* The engine goes to callers in the order they asked for it (a ticket lock
 * over the mutex): a thread that runs a blocking receive as 200 ms slices
 * takes a new ticket for each slice, so a thread that asked meanwhile gets
 * the modem at the next slice boundary instead of racing the receiver for
 * the mutex it releases and takes again at once. Tickets are counted under
 * their own mutex, so ports without a GIL are served in order too. */
static mp_thread_mutex_t ticket_mutex;
static volatile uint32_t ticket_next;
static volatile uint32_t ticket_now;

static void mutexes_init(void) {
    if (!engine_mutex_ready) {
        mp_thread_mutex_init(&engine_mutex);
        mp_thread_mutex_init(&ticket_mutex);
        engine_mutex_ready = true;
    }
}

static uint32_t take_ticket(void) {
    mp_thread_mutex_lock(&ticket_mutex, 1);
    uint32_t mine = ticket_next++;
    mp_thread_mutex_unlock(&ticket_mutex);
    return mine;
}

static bool my_turn(uint32_t mine) {
    mp_thread_mutex_lock(&ticket_mutex, 1);
    bool turn = ticket_now == mine;
    mp_thread_mutex_unlock(&ticket_mutex);
    return turn;
}

/* The VM the lock was made in (vm.c). */
static uint32_t lock_vm;

/* A new VM (vm.c), the first included: the lock is made afresh (a thread the
 * soft reset deleted may have held it or a ticket, forever), an operation such
 * a thread left half-done is aborted, and every slot is freed without modem
 * I/O (the previous VM's handles, queued closes included, are stale now). */
static void lock_make(void) {
    mp_thread_mutex_init(&engine_mutex);
    mp_thread_mutex_init(&ticket_mutex);
    engine_mutex_ready = true;
    ticket_next = 0;
    ticket_now = 0;
    engine_owner = NULL;
    free_previous_slots();
}

void masg_lock(void) {
    masg_vm_sync(&lock_vm, lock_make);
    struct _mp_state_thread_t *me = mp_thread_get_state();
    if (engine_owner == me) {
        mp_raise_OSError(MP_EALREADY);
    }
    mutexes_init();
    uint32_t mine = take_ticket();
    if (my_turn(mine) && mp_thread_mutex_lock(&engine_mutex, 0)) {
        engine_owner = me;
        return;
    }
    /* Another thread is mid-operation (it may be waiting on the modem with the
     * GIL released) or asked first: let it run while we wait for our turn.
     * Nothing here raises, so a ticket is never abandoned. */
    MP_THREAD_GIL_EXIT();
    for (;;) {
        mp_thread_mutex_lock(&engine_mutex, 1);
        if (my_turn(mine)) {
            break;
        }
        /* Free, but another caller's turn: give it the mutex and a moment to take it. */
        mp_thread_mutex_unlock(&engine_mutex);
        mp_hal_delay_us(200);
    }
    MP_THREAD_GIL_ENTER();
    engine_owner = me;
}

void masg_unlock(void) {
    engine_owner = NULL;
    mp_thread_mutex_lock(&ticket_mutex, 1);
    ticket_now++;
    mp_thread_mutex_unlock(&ticket_mutex);
    mp_thread_mutex_unlock(&engine_mutex);
}
#else
static bool engine_busy;

static uint32_t lock_vm;

static void lock_make(void) {
    engine_busy = false;
    free_previous_slots();
}

void masg_lock(void) {
    masg_vm_sync(&lock_vm, lock_make);
    if (engine_busy) {
        mp_raise_OSError(MP_EALREADY);
    }
    engine_busy = true;
}

void masg_unlock(void) {
    engine_busy = false;
}
#endif
