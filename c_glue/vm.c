/*
 * Which MicroPython VM the module's C state belongs to.
 *
 * Pycom's firmware (esp32/mptask.c, v1.20.2.r6: `soft_reset_exit:` lines
 * 366-383, `soft_reset:` lines 215-246) soft-resets by deleting the VM's
 * threads (mp_thread_deinit), then gc_init() on the same pool and mp_init():
 * no finaliser runs, and MICROPY_MODULE_BUILTIN_INIT is off, so no __init__
 * runs either. The module's C statics, the Rust core and the LTE task survive;
 * everything on the MicroPython heap is gone. So the module finds out by
 * itself: a marker kept in the loaded-modules dict, which mp_init() makes
 * anew on every release (1.11 and upstream alike), is missing on the first
 * call into a new VM.
 *
 * Each file that keeps state across calls asks, before it reads that state,
 * masg_vm_sync(&its_vm, its_forget): when the VM changed since it last asked,
 * its forget function runs first, under this file's mutex, so that no other
 * thread of the new VM can use the state half-forgotten. Nothing here calls
 * the files above; they pass their forget function down. What they forget:
 *   - lock.c: the engine lock and its tickets are made afresh (a deleted
 *     thread may have held the lock, or waited for its turn, forever; in the
 *     first VM this is where they are made), a half-done operation is aborted
 *     (a payload the modem may still wait for is written at the next
 *     operation) and every slot is freed without modem I/O (handles of the
 *     previous VM, queued closes included, are stale from then on);
 *   - modem.c: the modem object (it lived on the old heap; on >= 1.20 its
 *     root pointer is not cleared by mp_init) and the next modem, set or
 *     found, is "the first": its sweep closes whatever the modem still has
 *     open from the previous VM and keeps the sockets made since;
 *   - transport_lteppp.c: a joined answer on the old heap (dropped, not freed).
 * Kept, as they describe the modem and the network rather than the heap: the
 * TLS credential store, DNS answers and servers, the limits config() set.
 */
#include "py/mphal.h"
#include "py/runtime.h"
#include "py/mpthread.h"

#include "mas_glue.h"

#if MICROPY_PY_THREAD
/* Guards the marker and every forget function. Held only for a dict lookup
 * and store and the forgetting itself: no I/O, no wait, no Python call. */
static mp_thread_mutex_t vm_mutex;
/* The mutex is made by the first caller ever: a compare-and-swap decides who,
 * since threads may start together with nothing run before (no __init__). */
enum { VM_MUTEX_NONE, VM_MUTEX_MAKING, VM_MUTEX_READY };
static uint32_t vm_mutex_state;

static void vm_mutex_lock(void) {
    if (__atomic_load_n(&vm_mutex_state, __ATOMIC_ACQUIRE) != VM_MUTEX_READY) {
        uint32_t expected = VM_MUTEX_NONE;
        if (__atomic_compare_exchange_n(&vm_mutex_state, &expected, VM_MUTEX_MAKING, false,
            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            mp_thread_mutex_init(&vm_mutex);
            __atomic_store_n(&vm_mutex_state, VM_MUTEX_READY, __ATOMIC_RELEASE);
        }
        /* Another thread is making it (only without a GIL: with one, the
         * maker runs these few instructions without letting anyone in). */
        while (__atomic_load_n(&vm_mutex_state, __ATOMIC_ACQUIRE) != VM_MUTEX_READY) {
            mp_hal_delay_us(10);
        }
    }
    mp_thread_mutex_lock(&vm_mutex, 1);
}

static void vm_mutex_unlock(void) {
    mp_thread_mutex_unlock(&vm_mutex);
}
#else
static void vm_mutex_lock(void) {
}

static void vm_mutex_unlock(void) {
}
#endif

/* VMs this process has seen the module in (the first is 1). */
static uint32_t vm_count;

static mp_map_elem_t *marker(mp_map_lookup_kind_t kind) {
    return mp_map_lookup(&MP_STATE_VM(mp_loaded_modules_dict).map,
        MP_OBJ_NEW_QSTR(MP_QSTR__microATsocket_vm), kind);
}

/* With the mutex held: counts a new VM when the marker is missing. May raise
 * MemoryError (storing the marker), which leaves the count as it was. */
static void notice_new_vm(void) {
    if (marker(MP_MAP_LOOKUP) != NULL) {
        return;
    }
    marker(MP_MAP_LOOKUP_ADD_IF_NOT_FOUND)->value = MP_OBJ_NEW_SMALL_INT(vm_count + 1);
    vm_count++;
}

void masg_vm_sync(uint32_t *seen, void (*forget)(void)) {
    vm_mutex_lock();
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        notice_new_vm();
        nlr_pop();
    } else {
        vm_mutex_unlock();
        nlr_jump(nlr.ret_val);
    }
    if (*seen != vm_count) {
        forget();
        *seen = vm_count;
    }
    vm_mutex_unlock();
}

static void nothing_to_forget(void) {
}

uint32_t masg_vm_count(void) {
    static uint32_t seen;
    masg_vm_sync(&seen, nothing_to_forget);
    return vm_count;
}
