/*
 * Which MicroPython VM the module's C state belongs to.
 *
 * Pycom's firmware (esp32/mptask.c, v1.20.2.r6: `soft_reset_exit:` lines
 * 366-383, `soft_reset:` lines 215-246) soft-resets by deleting the VM's
 * threads (mp_thread_deinit), then gc_init() on the same pool and mp_init():
 * no finaliser runs, and MICROPY_MODULE_BUILTIN_INIT is off, so this module's
 * __init__ never runs either. The module's C statics, the Rust core and the
 * LTE task survive; everything on the MicroPython heap is gone. So the module
 * finds out by itself: a marker kept in the loaded-modules dict, which
 * mp_init() makes anew on every release (1.11 and upstream alike), is absent
 * on the first call into a new VM. The check runs before anything reads C
 * state that may name the previous heap or a deleted thread (masg_lock,
 * masg_modem), and then:
 *   - the engine lock and its tickets start afresh (a deleted thread may have
 *     held the lock, or waited for its turn, forever); in the first VM this is
 *     where they are made, before any thread can take them;
 *   - an operation a deleted thread left half-done is aborted (a payload the
 *     modem may still wait for is written at the next operation, as after any
 *     interruption), every slot is freed without modem I/O, queued closes are
 *     dropped (they name the freed slots);
 *   - the modem is forgotten (on >= 1.20 its root pointer may still name the
 *     previous heap), and the next modem found or set is "the first modem":
 *     its sweep closes whatever the modem still has open from the previous VM
 *     and keeps the sockets the new VM made before it;
 *   - transport state that points into the heap is dropped without a free.
 * What describes the modem and the network, not the heap, is kept: the TLS
 * credential store, the DNS answers and servers, the limits set by config().
 */
#include "py/mphal.h"
#include "py/runtime.h"
#include "py/mpthread.h"
#include "py/nlr.h"

#include "mas_glue.h"

#if MICROPY_PY_THREAD
/* Guards the check itself, so that two threads of a new VM cannot both start
 * it afresh. Held only for a dict lookup and store: no I/O, no wait. */
static mp_thread_mutex_t vm_mutex;
/* The mutex is made by the first caller ever: a compare-and-swap decides who,
 * since threads may start together with nothing run before (no __init__). */
enum { VM_MUTEX_NONE, VM_MUTEX_MAKING, VM_MUTEX_READY };
static uint32_t vm_mutex_state;

static void vm_mutex_make_once(void) {
    uint32_t expected = VM_MUTEX_NONE;
    if (__atomic_compare_exchange_n(&vm_mutex_state, &expected, VM_MUTEX_MAKING, false,
        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        mp_thread_mutex_init(&vm_mutex);
        __atomic_store_n(&vm_mutex_state, VM_MUTEX_READY, __ATOMIC_RELEASE);
        return;
    }
    /* Another thread is making it (only without a GIL: with one, the maker
     * runs these few instructions without letting anyone in). */
    while (__atomic_load_n(&vm_mutex_state, __ATOMIC_ACQUIRE) != VM_MUTEX_READY) {
        mp_hal_delay_us(10);
    }
}
#define VM_MUTEX_LOCK() mp_thread_mutex_lock(&vm_mutex, 1)
#define VM_MUTEX_UNLOCK() mp_thread_mutex_unlock(&vm_mutex)
#else
#define VM_MUTEX_LOCK()
#define VM_MUTEX_UNLOCK()
#endif

/* VMs this process has seen the module in (the first is 1). */
static uint32_t vm_count;

static mp_map_elem_t *marker(mp_map_lookup_kind_t kind) {
    return mp_map_lookup(&MP_STATE_VM(mp_loaded_modules_dict).map,
        MP_OBJ_NEW_QSTR(MP_QSTR__microATsocket_vm), kind);
}

/* Drops everything that belongs to the previous VM (see the top of the file).
 * Runs before any other call into the module in the new VM can. */
static void forget_previous_vm(void) {
    mas_abort();
    if (mas_reset_begin() == 0) {
        mas_abort(); /* the pool is free; the modem sweep waits for the first modem */
    }
    masg_oprun_forget_closes();
    masg_modem_forget_vm();
    masg_transport_forget_heap();
}

void masg_vm_check(void) {
    #if MICROPY_PY_THREAD
    if (__atomic_load_n(&vm_mutex_state, __ATOMIC_ACQUIRE) != VM_MUTEX_READY) {
        vm_mutex_make_once();
    }
    #endif
    VM_MUTEX_LOCK();
    if (marker(MP_MAP_LOOKUP) != NULL) {
        VM_MUTEX_UNLOCK();
        return;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        /* Stored first: it allocates, and a MemoryError here must leave the
         * previous VM's state untouched for the next call to find. */
        marker(MP_MAP_LOOKUP_ADD_IF_NOT_FOUND)->value = MP_OBJ_NEW_SMALL_INT(vm_count + 1);
        nlr_pop();
    } else {
        VM_MUTEX_UNLOCK();
        nlr_jump(nlr.ret_val);
    }
    /* The engine lock is made here in every VM, the first included: no thread
     * of this VM has got past this check yet, so none holds or waits for it. */
    masg_lock_reinit();
    if (vm_count > 0) {
        forget_previous_vm();
    }
    masg_modem_vm_start();
    vm_count++;
    VM_MUTEX_UNLOCK();
}

uint32_t masg_vm_count(void) {
    return vm_count;
}
