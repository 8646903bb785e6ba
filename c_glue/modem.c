/*
 * The modem the sockets use and the limits its firmware sets.
 *
 * A GPy has one modem, so there is one modem object for the module; the Rust
 * core's slot pool mirrors that modem's six connIds. Setting a different LTE
 * object schedules a reset sweep (numeric errors on, close what the modem
 * still has open) before the next operation, which also makes every existing
 * socket stale (EBADF). Setting the same object again only re-applies the
 * limits and re-detects the send_at_cmd signature (tests switch firmware
 * profiles on one object); on the send_at_cmd transport that detection
 * happens here, without I/O (transport_mpcall.c).
 *
 * Chunking (PR 429 firmware: commands longer than 124 bytes are split by
 * send_at_cmd) is not auto-detected: the only probe is sending a longer
 * command, which stock firmware answers with undefined behaviour (a crash, a
 * hang, or the previous answer). It is a setting: set_modem(lte,
 * chunking=True) or config(max_command=0).
 */
#include <string.h>

#include "py/mperrno.h"
#include "py/nlr.h"
#include "py/runtime.h"

#include "mas_glue.h"

#if MPCOMPAT_HAS_ROOT_POINTERS
MP_REGISTER_ROOT_POINTER(mp_obj_t microatsocket_modem);
#endif

/* Stock send_at_cmd queues at most 124 bytes per command (char data[124]). */
#define STOCK_MAX_COMMAND (124)

#if MICROATSOCKET_TRANSPORT_LTEPPP && MICROATSOCKET_LTEPPP_LAYOUT == 118
/* 1.18's struct has no byte count: the LTE task takes the command's length
 * with strlen. 124 bytes fill data[] with no NUL after them, so strlen runs on
 * into the stale answer bytes behind the struct in the task's buffer and sends
 * them too. 123 bytes always leave a NUL in data[]. */
#define UNCHUNKED_MAX_COMMAND (123)
#else
#define UNCHUNKED_MAX_COMMAND (STOCK_MAX_COMMAND)
#endif

#if MICROATSOCKET_TRANSPORT_LTEPPP
/* The direct transport streams long commands as continuation items where the
 * firmware's struct has them (layout 1202), and always sends AT+SQNSSENDEXT
 * with its payload in one exchange (transport_lteppp.c says why and how). */
#if MICROATSOCKET_LTEPPP_LAYOUT >= 1202
#define TRANSPORT_MAX_COMMAND (0)
#else
#define TRANSPORT_MAX_COMMAND (UNCHUNKED_MAX_COMMAND)
#endif
#define TRANSPORT_COMBINED_SEND (true)
/* Raw payloads where every byte goes in an item with an explicit length and the
 * payload can be cut into items freely (continuation items, layout 1202);
 * transport_lteppp.c says what the task does with raw bytes. */
#define TRANSPORT_CARRIES_RAW (MICROATSOCKET_LTEPPP_LAYOUT >= 1202)
/* set_modem(chunking=) describes send_at_cmd, which this transport does not use. */
#define CHUNKING_APPLIES (false)
#else
#define TRANSPORT_MAX_COMMAND (STOCK_MAX_COMMAND)
/* Command and payload in two calls, as the modem's prompt expects; one call
 * (config(combined_send=True)) saves the 1 s idle wait, and is needed on 1.18
 * firmware, whose CR LF terminator puts an LF in front of the payload. */
#define TRANSPORT_COMBINED_SEND (false)
/* send_at_cmd takes a C string (strlen, no NUL) and answers a str cut at NUL. */
#define TRANSPORT_CARRIES_RAW (false)
#define CHUNKING_APPLIES (true)
#endif

#define DEFAULT_LIMITS { \
        .max_command_len = TRANSPORT_MAX_COMMAND, \
        /* Hex both ways through send_at_cmd: replies are cut at NUL bytes, and a \
         * raw payload holding "Pycom_Dummy" would be taken as a firmware directive. \
         * Raw both ways on the direct transport where it can (config raw_send, \
         * raw_recv). */ \
        .send_hex = !TRANSPORT_CARRIES_RAW, \
        .recv_hex = !TRANSPORT_CARRIES_RAW, \
        .combined_send = TRANSPORT_COMBINED_SEND, \
        .pdp_cid = 1, \
}

/* Set here once: a soft reset keeps them (vm.c). */
static mas_limits limits = DEFAULT_LIMITS;
static masg_sweep sweep_needed;
/* A modem was set since the module started: sockets may have been dialled on it. */
static bool ever_had_modem;

/* The VM the modem state belongs to (vm.c). */
static uint32_t modem_vm;

/* A new VM: the modem object was on the previous heap (on >= 1.20 its root
 * pointer may still name it), and the next modem is the first one again. */
static void modem_forget(void) {
    MPCOMPAT_MODEM_ROOT_SET(MP_OBJ_NULL);
    sweep_needed = MASG_SWEEP_NONE;
    ever_had_modem = false;
}

mp_obj_t masg_modem(void) {
    masg_vm_sync(&modem_vm, modem_forget);
    return MPCOMPAT_MODEM_ROOT_GET();
}

masg_sweep masg_modem_needs_sweep(void) {
    return sweep_needed;
}

void masg_modem_sweep_done(void) {
    sweep_needed = MASG_SWEEP_NONE;
}

void masg_raise_no_modem(void) {
    masg_raise_msg(MP_ENODEV, "no modem: no LTE object was given and network.LTE() is not available");
}

/* Applies `limits` to the core. Called with the lock held. */
static int32_t apply_limits(void) {
    return mas_configure(&limits);
}

const uint16_t masg_unchunked_max_command = UNCHUNKED_MAX_COMMAND;
const bool masg_transport_carries_raw = TRANSPORT_CARRIES_RAW;

mas_limits masg_modem_limits(void) {
    return limits;
}

int32_t masg_modem_configure(const mas_limits *wanted) {
    mas_limits previous = limits;
    limits = *wanted;
    int32_t err = apply_limits();
    if (err != 0) {
        limits = previous;
    }
    return err;
}

static void check_modem_object(mp_obj_t lte) {
    if (lte != MP_OBJ_NULL) {
        mp_obj_t method[2];
        mp_load_method_maybe(lte, MP_QSTR_send_at_cmd, method);
        if (method[0] == MP_OBJ_NULL) {
            mp_raise_TypeError(MP_ERROR_TEXT("the modem must be an LTE object with send_at_cmd()"));
        }
    }
}

/* Makes `lte` the modem; the caller holds the lock and has probed `lte`.
 * Returns what mas_configure returned. */
static int32_t set_locked(mp_obj_t lte, int chunking) {
    mp_obj_t previous = masg_modem();
    if (lte != previous) {
        MPCOMPAT_MODEM_ROOT_SET(lte);
        bool had_modem = ever_had_modem;
        ever_had_modem = ever_had_modem || lte != MP_OBJ_NULL;
        if (lte == MP_OBJ_NULL) {
            sweep_needed = MASG_SWEEP_NONE;
        } else if (!had_modem) {
            /* The first modem since start: sockets made so far never reached a
             * modem and stay valid. */
            sweep_needed = MASG_SWEEP_KEEP_SOCKETS;
        } else {
            /* Another modem: its connIds are not the ones our sockets were dialled on. */
            sweep_needed = MASG_SWEEP_FULL;
        }
    }
#if MICROATSOCKET_TRANSPORT_LTEPPP
    masg_transport_forget();
#endif
    if (chunking >= 0 && CHUNKING_APPLIES) {
        limits.max_command_len = chunking ? 0 : UNCHUNKED_MAX_COMMAND;
    }
#if !MICROATSOCKET_TRANSPORT_LTEPPP
    /* A firmware that takes fewer bytes than the stock 124 (1.18) lowers the limit. */
    uint16_t cap = masg_transport_command_cap();
    if (cap != 0 && limits.max_command_len > cap) {
        limits.max_command_len = cap;
    }
#endif
    return apply_limits();
}

/* A GPy has one modem, and Pycom's network.LTE() hands back its one LTE object
 * (initialising it on first use), so a script that never named the modem gets
 * the board's. Called with the engine lock held, so that threads starting
 * together make one LTE() call and one sweep; LTE() and the send_at_cmd probe
 * are the firmware's own methods, which never call back into this module. */
mp_obj_t masg_modem_find_locked(void) {
    mp_obj_t lte = masg_modem();
    if (lte != MP_OBJ_NULL) {
        return lte;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t network = mp_import_name(MP_QSTR_network, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        mp_obj_t lte_type = mp_load_attr(network, MP_QSTR_LTE);
        lte = mp_call_function_0(lte_type);
        nlr_pop();
    } else {
        /* No network module or no LTE class: this is not a board with an LTE modem.
         * Anything else (the LTE object's own errors) goes to the caller. */
        mp_obj_t exc_type = MP_OBJ_FROM_PTR(((mp_obj_base_t *)nlr.ret_val)->type);
        if (!mp_obj_is_subclass_fast(exc_type, MP_OBJ_FROM_PTR(&mp_type_ImportError))
            && !mp_obj_is_subclass_fast(exc_type, MP_OBJ_FROM_PTR(&mp_type_AttributeError))) {
            nlr_jump(nlr.ret_val);
        }
        return MP_OBJ_NULL;
    }
    if (lte == mp_const_none) {
        return MP_OBJ_NULL;
    }
    check_modem_object(lte);
#if !MICROATSOCKET_TRANSPORT_LTEPPP
    masg_transport_probe(lte);
#endif
    int32_t err = set_locked(lte, -1);
    if (err != 0) {
        masg_raise(err);
    }
    return lte;
}

void masg_modem_set(mp_obj_t lte, int chunking) {
    if (lte == mp_const_none) {
        lte = MP_OBJ_NULL;
    }
    check_modem_object(lte);
#if !MICROATSOCKET_TRANSPORT_LTEPPP
    /* Python calls: made before the engine lock is taken (a modem object of
     * the script's own may call back into the module). */
    masg_transport_probe(lte);
#endif
    masg_lock();
    int32_t err = set_locked(lte, chunking);
    masg_unlock();
    if (err != 0) {
        masg_raise(err);
    }
}
