/*
 * network.LTE for the unix port: the Python face of Pycom's esp32/mods/modlte.c,
 * driving the fake LTE task (fake_lteppp.c) instead of the ESP32's.
 *
 * send_at_cmd follows the firmware profile selected at run time (see
 * lte_profile.h), down to how each release breaks on commands longer than
 * the 124 bytes its queued struct holds. The attach/connect family keeps
 * only what a socket module can observe: they send few AT commands (each one
 * flushes pending URCs, as on the device) and track the PPP state that makes
 * send_at_cmd refuse to run.
 */
#include "interrupt_hook.h"
#include "modlte.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "py/mperrno.h"
#include "py/objstr.h"
#include "py/runtime.h"

#include "esp32_cmd_image.h"
#include "fake_uart.h"
#include "lte_model.h"
#include "lte_profile.h"
#include "lteppp.h"
#include "lteppp_task.h"

typedef struct {
    mp_obj_base_t base;
    bool init;
} lte_obj_t;

/* The firmware has one LTE object and one static answer buffer; the buffer
 * keeps the previous answer when a command gets none. */
static lte_obj_t lte_obj = { .base = { &network_lte_type } };
static lte_task_rsp_data_t modlte_rsp;
/* The PDP context of attach(apn=)/connect(): lte_obj.cid, 1 by default. */
static int lte_cid = 1;

static const char pycom_dummy[] = "Pycom_Dummy";

static void lte_check_init(void) {
    if (!lte_obj.init) {
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("LTE modem not initialized"));
    }
}

static void lte_check_inppp(void) {
    if (lteppp_get_state() == E_LTE_PPP) {
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("LTE modem is in data state, cannot send AT commands"));
    }
}

static NORETURN void raise_task_hung(void) {
    static const char msg[] =
        "fake LTE: the LTE task is hung (an overlong command corrupted its queued struct); "
        "the firmware would block here forever";
    mp_obj_t args[2] = { MP_OBJ_NEW_SMALL_INT(MP_ETIMEDOUT), mp_obj_new_str(msg, sizeof(msg) - 1) };
    nlr_raise(mp_obj_new_exception_args(&mp_type_OSError, 2, args));
}

/* 1.18 copies the command into its 124-byte struct with no bounds check: a
 * longer one smashes the MicroPython task's stack. There is no honest way to
 * go on from that. */
static NORETURN void crash_stack_overrun(size_t len) {
    fprintf(stderr,
        "fake LTE (firmware 1.18): send_at_cmd with %u bytes overran the %u-byte command "
        "buffer on the stack; the device would crash here\n",
        (unsigned)len, (unsigned)LTE_AT_CMD_DATA_SIZE_MAX);
    fflush(stderr);
    abort();
}

/* lte_push_at_command_ext_cont: build the queued struct on "the stack" the
 * way the firmware's caller does, including any overrun, and queue it. */
static lteppp_task_result_t push_at_command(const char *cmd, size_t len, uint32_t timeout_ms,
    bool continuation) {
    const lte_profile_info_t *fw = lte_profile_info();
    esp32_cmd_image_t item;
    esp32_cmd_image_fill(&item, fw->cmd_layout, timeout_ms, cmd, len, continuation);
    /* The firmware decides whether to wait from the struct, after the copy. */
    bool flagged = fw->cmd_layout >= LTEPPP_CMD_LAYOUT_1_20_2 && item.bytes[ESP32_CMD_OFF_CONT] != 0;
    lteppp_task_result_t result = lteppp_task_submit(&item, lteppp_task_caller_waits(flagged), &modlte_rsp);
    fake_lose_raise_if_fired(false);
    return result;
}

static void push_or_raise(const char *cmd, size_t len, uint32_t timeout_ms, bool continuation) {
    if (push_at_command(cmd, len, timeout_ms, continuation) == LTEPPP_TASK_HUNG) {
        raise_task_hung();
    }
}

/* lte_push_at_command_ext(cmd, timeout, NULL): what the firmware's own
 * methods use; each one flushes pending URCs like any command. */
static const char *push_with(const char *cmd, uint32_t timeout_ms) {
    push_or_raise(cmd, strlen(cmd), timeout_ms, false);
    return modlte_rsp.data;
}

static const char *push_simple(const char *cmd) {
    return push_with(cmd, LTE_RX_TIMEOUT_MAX_MS);
}

/* lte_push_at_command: true when the answer holds `expected` (OK by default). */
static bool push_expect(const char *cmd, uint32_t timeout_ms, const char *expected) {
    return strstr(push_with(cmd, timeout_ms), expected != NULL ? expected : "OK") != NULL;
}

/* The firmware's vTaskDelay/mp_hal_delay_ms between its commands. */
static void firmware_pause_ms(uint32_t ms) {
    lteppp_fake_delay_ms(ms);
}

/* Appends this answer piece and any further ones, each cut at its first NUL
 * (the firmware adds them with strlen). */
static mp_obj_t collect_answer(uint32_t dummy_timeout_ms, void (*after_push)(void *), void *ctx) {
    vstr_t vstr;
    vstr_init(&vstr, strlen(modlte_rsp.data) + 1);
    vstr_add_str(&vstr, modlte_rsp.data);
    while (modlte_rsp.data_remaining) {
        push_or_raise(pycom_dummy, strlen(pycom_dummy), dummy_timeout_ms, false);
        if (after_push != NULL) {
            after_push(ctx);
        }
        vstr_add_str(&vstr, modlte_rsp.data);
    }
    /* Like 1.11's str constructor, no UTF-8 validation: the modem's bytes are
     * passed through as they came. */
    return mp_obj_new_str_from_utf8_vstr(&vstr);
}

/* ---- send_at_cmd, 1.18: (cmd, *, delay=0), strlen, caller sleeps `delay` ---- */

typedef struct {
    uint32_t delay_ms;
    uint64_t model_start_ns;
    int64_t real_start_us;
} caller_delay_t;

static void caller_delay_start(void *ctx) {
    caller_delay_t *d = ctx;
    d->model_start_ns = lte_model_now_ns();
    d->real_start_us = lte_real_now_us();
}

/* lteppp_send_at_command_delay sleeps `delay` ticks between queueing and
 * blocking on the answer, so a call lasts the longer of the two. */
static void caller_delay_finish(void *ctx) {
    caller_delay_t *d = ctx;
    uint64_t spent_ns = lte_model_now_ns() - d->model_start_ns;
    uint64_t delay_ns = (uint64_t)d->delay_ms * 1000000u;
    if (delay_ns > spent_ns) {
        lte_model_advance_ns(delay_ns - spent_ns);
    }
    int64_t real_spent = lte_real_now_us() - d->real_start_us;
    lte_real_sleep_us(lte_real_us_for_model_us((uint64_t)d->delay_ms * 1000u) - real_spent);
    caller_delay_start(d);
}

static mp_obj_t send_at_cmd_1_18(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_cmd, ARG_delay };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_cmd, MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_delay, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    if (args[ARG_cmd].u_obj == mp_const_none) {
        mp_raise_ValueError(MP_ERROR_TEXT("the command must be specified!"));
    }
    const char *cmd = mp_obj_str_get_str(args[ARG_cmd].u_obj);
    size_t len = strlen(cmd);
    if (len > LTE_AT_CMD_DATA_SIZE_MAX) {
        crash_stack_overrun(len);
    }
    caller_delay_t delay = { .delay_ms = args[ARG_delay].u_int > 0 ? (uint32_t)args[ARG_delay].u_int : 0 };
    caller_delay_start(&delay);
    push_or_raise(cmd, len, LTE_RX_TIMEOUT_MAX_MS, false);
    caller_delay_finish(&delay);
    return collect_answer(LTE_RX_TIMEOUT_MAX_MS, caller_delay_finish, &delay);
}

/* ---- send_at_cmd, 1.20.x: str or bytes, length from the object ----
 * 1.20.1: (cmd); 1.20.2 and release-v1.20: (cmd, *, timeout=9500);
 * pr429: (cmd, delay=9500), cmd required, delay positional or keyword. */

static const mp_arg_t args_no_timeout[] = {
    { MP_QSTR_cmd, MP_ARG_OBJ, {.u_obj = mp_const_none} },
};
static const mp_arg_t args_timeout_kw[] = {
    { MP_QSTR_cmd, MP_ARG_OBJ, {.u_obj = mp_const_none} },
    { MP_QSTR_timeout, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = LTE_RX_TIMEOUT_MAX_MS} },
};
static const mp_arg_t args_delay[] = {
    { MP_QSTR_cmd, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = mp_const_none} },
    { MP_QSTR_delay, MP_ARG_INT, {.u_int = LTE_RX_TIMEOUT_MAX_MS} },
};

/* Queues a long command the way the profile's firmware splits it: every full
 * chunk but the command's last piece as a continuation. */
static void push_chunked(const char *cmd, size_t len, uint32_t timeout_ms, lte_chunks_t chunks) {
    size_t full = len / LTE_AT_CMD_DATA_SIZE_MAX;
    size_t rest = len % LTE_AT_CMD_DATA_SIZE_MAX;
    for (size_t i = 0; i < full; i++) {
        /* Release/v1.20 always ends with the remainder item (just the CR when
         * it is empty); PR 429's head lets the last full chunk end the command. */
        bool last = chunks == LTE_CHUNKS_NO_EMPTY_TAIL && rest == 0 && i + 1 == full;
        push_or_raise(cmd + i * LTE_AT_CMD_DATA_SIZE_MAX, LTE_AT_CMD_DATA_SIZE_MAX, timeout_ms, !last);
    }
    if (rest > 0 || chunks == LTE_CHUNKS_WITH_TAIL) {
        push_or_raise(cmd + full * LTE_AT_CMD_DATA_SIZE_MAX, rest, timeout_ms, false);
    }
}

static mp_obj_t send_at_cmd_1_20(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    const lte_profile_info_t *fw = lte_profile_info();
    const mp_arg_t *allowed = args_no_timeout;
    size_t n_allowed = MP_ARRAY_SIZE(args_no_timeout);
    if (fw->timeout_arg == LTE_TIMEOUT_ARG_KW) {
        allowed = args_timeout_kw;
        n_allowed = MP_ARRAY_SIZE(args_timeout_kw);
    } else if (fw->timeout_arg == LTE_TIMEOUT_ARG_DELAY) {
        allowed = args_delay;
        n_allowed = MP_ARRAY_SIZE(args_delay);
    }
    mp_arg_val_t args[2] = { { .u_obj = mp_const_none }, { .u_int = LTE_RX_TIMEOUT_MAX_MS } };
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, n_allowed, allowed, args);
    mp_obj_t cmd_obj = args[0].u_obj;
    if (cmd_obj == mp_const_none) {
        mp_raise_ValueError(MP_ERROR_TEXT("the command must be specified!"));
    }
    if (!mp_obj_is_str_or_bytes(cmd_obj)) {
        mp_raise_TypeError(MP_ERROR_TEXT("invalid argument(s) num/type"));
    }
    /* The firmware stores the int in a uint32_t: -1 becomes ~49 days. */
    uint32_t timeout_ms = n_allowed > 1 ? (uint32_t)args[1].u_int : LTE_RX_TIMEOUT_MAX_MS;
    size_t len;
    const char *cmd = mp_obj_str_get_data(cmd_obj, &len);

    if (fw->chunks != LTE_CHUNKS_NONE && len > LTE_AT_CMD_DATA_SIZE_MAX) {
        push_chunked(cmd, len, timeout_ms, fw->chunks);
    } else {
        /* Stock: no bounds check, see esp32_cmd_image_fill. */
        push_or_raise(cmd, len, timeout_ms, false);
    }
    return collect_answer(fw->dummy_uses_timeout ? timeout_ms : LTE_RX_TIMEOUT_MAX_MS, NULL, NULL);
}

// method LTE.send_at_cmd(cmd, ...)
static mp_obj_t lte_send_at_cmd(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    lte_check_init();
    lte_check_inppp();
    lte_stats.calls++;
    if (lte_profile_get() == LTE_PROFILE_1_18) {
        return send_at_cmd_1_18(n_args, pos_args, kw_args);
    }
    return send_at_cmd_1_20(n_args, pos_args, kw_args);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lte_send_at_cmd_obj, 1, lte_send_at_cmd);

/* ---- life cycle ---- */

static void lte_init_helper(lte_obj_t *self) {
    const char *profile_error = lte_profile_env_error();
    if (profile_error != NULL) {
        mp_raise_ValueError(MP_ERROR_TEXT("unknown MICROATSOCKET_FW_PROFILE (expected " LTE_PROFILE_NAMES ")"));
    }
    int err = fake_uart_open();
    if (err == EINVAL) {
        mp_raise_msg(&mp_type_OSError,
            MP_ERROR_TEXT("fake LTE: MONARCH_SIM_SOCKET is not set (path of the modem simulator's UART socket)"));
    }
    if (err != 0) {
        mp_obj_t args[2] = {
            MP_OBJ_NEW_SMALL_INT(err),
            mp_obj_new_str_from_cstr("fake LTE: cannot connect to the modem simulator at MONARCH_SIM_SOCKET"),
        };
        nlr_raise(mp_obj_new_exception_args(&mp_type_OSError, 2, args));
    }
    if (!self->init) {
        /* Coming up from deinit (or boot) is a fresh start of the LTE task. */
        lteppp_task_reset();
        memset(&modlte_rsp, 0, sizeof(modlte_rsp));
        lteppp_set_state(E_LTE_IDLE);
        self->init = true;
    }
}

// LTE(*args, **kwargs): the one LTE object; carrier=, cid=, ... are accepted and ignored
static mp_obj_t lte_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args) {
    (void)type;
    (void)n_args;
    (void)n_kw;
    (void)all_args;
    lte_init_helper(&lte_obj);
    return MP_OBJ_FROM_PTR(&lte_obj);
}

// method LTE.init(*args, **kwargs)
static mp_obj_t lte_init(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    (void)n_args;
    (void)kw_args;
    lte_init_helper(MP_OBJ_TO_PTR(pos_args[0]));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lte_init_obj, 1, lte_init);

// method LTE.deinit(detach=True, reset=False)
static mp_obj_t lte_deinit(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    (void)n_args;
    (void)kw_args;
    lte_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    if (self->init) {
        if (lteppp_get_state() == E_LTE_PPP) {
            lteppp_set_state(E_LTE_ATTACHED);
        }
        lteppp_set_state(E_LTE_INIT);
        self->init = false;
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lte_deinit_obj, 1, lte_deinit);

/* ---- attach / detach / connect: the commands v1.20.2.r6's modlte.c sends ---- */

#define LTE_RX_TIMEOUT_MIN_MS_FW (300)  /* LTE_RX_TIMEOUT_MIN_MS */
#define FW_CMD_MAX (LTE_AT_CMD_SIZE_MAX - 4)

/* legacyattach=: True until attach() says otherwise, as in the firmware. */
static bool legacy_attach = true;

/* "+CEREG: <n>,<stat>..." with stat 1 (home) or 5 (roaming). The firmware
 * looks for "+CEREG: 1,1" / "+CEREG: 1,5" (it sets n = 1 at start-up); the
 * simulator's n is whatever the last AT+CEREG=<n> set, so only stat counts. */
static bool cereg_registered(const char *answer) {
    const char *p = strstr(answer, "+CEREG:");
    if (p == NULL) {
        return false;
    }
    const char *comma = strchr(p, ',');
    if (comma == NULL) {
        return false;
    }
    return comma[1] == '1' || comma[1] == '5';
}

/* lte_check_attached: AT, AT+CGATT?, AT+CEREG? (legacy), AT+CFUN?. */
static bool lte_check_attached(bool legacy) {
    if (lteppp_get_state() == E_LTE_PPP) {
        /* The firmware pauses PPP (+++) first; the fake runs no PPP link. */
        return true;
    }
    push_expect("AT", LTE_RX_TIMEOUT_MIN_MS_FW, NULL);
    const char *answer = push_with("AT+CGATT?", LTE_RX_TIMEOUT_MIN_MS_FW);
    const char *pos = strstr(answer, "+CGATT");
    bool cgatt = pos != NULL && strlen(pos) >= 9 && (pos[7] == '1' || pos[8] == '1');
    bool attached = cgatt;
    if (legacy) {
        answer = push_with("AT+CEREG?", LTE_RX_TIMEOUT_MIN_MS_FW);
        if (!cgatt && strstr(answer, "ERROR") != NULL) {
            firmware_pause_ms(LTE_RX_TIMEOUT_MIN_MS_FW);
            answer = push_with("AT+CEREG?", LTE_RX_TIMEOUT_MIN_MS_FW);
        }
        attached = cereg_registered(answer);
    }
    bool radio_on = strstr(push_with("AT+CFUN?", LTE_RX_TIMEOUT_MIN_MS_FW), "+CFUN: 1") != NULL;
    if (lteppp_get_state() >= E_LTE_ATTACHING) {
        if (!radio_on) {
            push_with("AT+CFUN=1", LTE_RX_TIMEOUT_MIN_MS_FW);
        }
    } else {
        lteppp_set_state(radio_on ? E_LTE_ATTACHING : E_LTE_IDLE);
    }
    if (attached && lteppp_get_state() < E_LTE_PPP) {
        lteppp_set_state(E_LTE_ATTACHED);
    }
    if (!attached && lteppp_get_state() > E_LTE_IDLE) {
        lteppp_set_state(E_LTE_ATTACHING);
    }
    return attached;
}

/* lte_check_sim_present: AT+CFUN? (AT+CFUN=4 from CFUN 0), then AT+CPIN?,
 * retried four times a second apart. */
static bool lte_check_sim_present(void) {
    if (strstr(push_with("AT+CFUN?", LTE_RX_TIMEOUT_MIN_MS_FW), "+CFUN: 0") != NULL) {
        push_simple("AT+CFUN=4");
        firmware_pause_ms(LTE_RX_TIMEOUT_MIN_MS_FW);
    }
    if (strstr(push_simple("AT+CPIN?"), "READY") != NULL) {
        return true;
    }
    for (int n = 0; n < 4; n++) {
        firmware_pause_ms(1000);
        if (strstr(push_simple("AT+CPIN?"), "READY") != NULL) {
            return true;
        }
    }
    return false;
}

/* Reads the rest of a long answer, as the firmware's loop after AT+SMDD does. */
static void drain_answer(void) {
    while (modlte_rsp.data_remaining) {
        push_or_raise(pycom_dummy, strlen(pycom_dummy), LTE_RX_TIMEOUT_MAX_MS, false);
    }
}

static const char *const default_scan_bands[] = { "3", "4", "12", "13", "20", "28" };

// method LTE.attach(*, band=None, apn=None, log=False, cid=None, type=None, legacyattach=None, bands=None)
static mp_obj_t lte_attach(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_band, ARG_apn, ARG_log, ARG_cid, ARG_type, ARG_legacyattach, ARG_bands };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_band, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_apn, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_log, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_false} },
        { MP_QSTR_cid, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_type, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_legacyattach, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_bands, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
    };
    lte_check_init();
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    if (args[ARG_legacyattach].u_obj != mp_const_none) {
        legacy_attach = mp_obj_is_true(args[ARG_legacyattach].u_obj);
    }
    lte_check_inppp();
    lte_check_attached(legacy_attach);
    if (lteppp_get_state() >= E_LTE_ATTACHING) {
        return mp_const_none;
    }
    if (!lte_check_sim_present()) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("Sim card not present"));
    }
    if (!push_expect("AT+SQNCTM?", LTE_RX_TIMEOUT_MAX_MS, NULL)
        && !push_expect("AT+SQNCTM?", LTE_RX_TIMEOUT_MAX_MS, NULL)) {
        mp_raise_ValueError(MP_ERROR_TEXT("Modem did not respond!\n"));
    }
    if (strstr(modlte_rsp.data, "standard") != NULL) {
        /* The band list: read the modem's bands and version, then scan the
         * default bands (band=/bands= pick others; the fake scans the defaults). */
        push_simple("AT+SMDD");
        drain_answer();
        push_simple("AT!=\"showver\"");
        push_with("AT!=\"clearscanconfig\"", LTE_RX_TIMEOUT_MIN_MS_FW);
        firmware_pause_ms(1000);
        for (size_t i = 0; i < MP_ARRAY_SIZE(default_scan_bands); i++) {
            char cmd[FW_CMD_MAX];
            snprintf(cmd, sizeof(cmd), "AT!=\"RRC::addScanBand band=%s\"", default_scan_bands[i]);
            push_with(cmd, LTE_RX_TIMEOUT_MIN_MS_FW);
        }
    }
    if (args[ARG_cid].u_obj != mp_const_none) {
        lte_cid = mp_obj_get_int(args[ARG_cid].u_obj);
    }
    if (args[ARG_apn].u_obj != mp_const_none || args[ARG_type].u_obj != mp_const_none) {
        const char *apn = args[ARG_apn].u_obj == mp_const_none ? "" : mp_obj_str_get_str(args[ARG_apn].u_obj);
        const char *type = args[ARG_type].u_obj == mp_const_none ? "IP" : mp_obj_str_get_str(args[ARG_type].u_obj);
        char cmd[FW_CMD_MAX];
        snprintf(cmd, sizeof(cmd), "AT+CGDCONT=%d,\"%s\",\"%s\"", lte_cid, type, apn);
        if (!push_expect(cmd, LTE_RX_TIMEOUT_MAX_MS, NULL)) {
            mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("the requested operation failed"));
        }
    }
    push_simple(args[ARG_log].u_obj == mp_const_false ? "AT!=\"disablelog 1\"" : "AT!=\"disablelog 0\"");
    lteppp_set_state(E_LTE_ATTACHING);
    if (!push_expect("AT+CFUN=1", LTE_RX_TIMEOUT_MAX_MS, NULL)) {
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("the requested operation failed"));
    }
    push_simple("AT!=\"setlpm airplane=1 enable=1\"");
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lte_attach_obj, 1, lte_attach);

// method LTE.isattached()
static mp_obj_t lte_isattached(mp_obj_t self_in) {
    (void)self_in;
    lte_check_init();
    return mp_obj_new_bool(lte_check_attached(legacy_attach));
}
static MP_DEFINE_CONST_FUN_OBJ_1(lte_isattached_obj, lte_isattached);

// method LTE.detach(reset=False): the SIM check, then AT+CFUN=4
static mp_obj_t lte_detach(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    (void)n_args;
    (void)kw_args;
    lte_check_init();
    if (lteppp_get_state() == E_LTE_PPP) {
        lteppp_set_state(E_LTE_ATTACHED);
    }
    const char *off = lte_check_sim_present() ? "AT+CFUN=4" : "AT+CFUN=0";
    if (!push_expect(off, LTE_RX_TIMEOUT_MAX_MS, NULL)) {
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("the requested operation failed"));
    }
    lteppp_set_state(E_LTE_IDLE);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lte_detach_obj, 1, lte_detach);

/* ---- data state (PPP): the commands are sent, no PPP runs ---- */

// method LTE.connect(*, cid=None, legacy=None)
static mp_obj_t lte_connect(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_cid, ARG_legacy };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_cid, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_legacy, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none} },
    };
    lte_check_init();
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    if (lteppp_get_state() == E_LTE_PPP) {
        /* The firmware returns None only once PPP has an IPv4 address; before
         * that it escapes to command mode, asks again and raises this. The
         * fake runs no PPP link, so it never has an address. */
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("modem already connected"));
    }
    /* legacy=None: ATI1 tells (the old LR5.1.1.0-33080 modem firmware is legacy). */
    bool legacy;
    if (args[ARG_legacy].u_obj == mp_const_none) {
        if (!push_expect("ATI1", LTE_RX_TIMEOUT_MAX_MS, NULL) && !push_expect("ATI1", LTE_RX_TIMEOUT_MAX_MS, NULL)) {
            mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("LTE modem version not read"));
        }
        legacy = strstr(modlte_rsp.data, "LR5.1.1.0-33080") != NULL;
    } else {
        legacy = mp_obj_is_true(args[ARG_legacy].u_obj);
    }
    lte_check_attached(legacy_attach);
    if (legacy) {
        push_with("ATH", LTE_RX_TIMEOUT_MIN_MS_FW);
        do {
            firmware_pause_ms(LTE_RX_TIMEOUT_MIN_MS_FW);
        } while (!push_expect("AT", LTE_RX_TIMEOUT_MAX_MS, NULL));
    }
    if (lteppp_get_state() == E_LTE_SUSPENDED) {
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("modem is suspended"));
    }
    if (lteppp_get_state() != E_LTE_ATTACHED) {
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("modem not attached"));
    }
    /* ATO resumes a suspended data session; without one, AT+CGDATA starts it. */
    if (legacy || !push_expect("ATO", LTE_RX_TIMEOUT_MAX_MS, "CONNECT")) {
        if (args[ARG_cid].u_obj != mp_const_none) {
            lte_cid = mp_obj_get_int(args[ARG_cid].u_obj);
        }
        char cmd[FW_CMD_MAX];
        snprintf(cmd, sizeof(cmd), "AT+CGDATA=\"PPP\",%d", lte_cid);
        if (!push_expect(cmd, LTE_RX_TIMEOUT_MAX_MS, "CONNECT")) {
            mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("the requested operation failed"));
        }
    }
    /* lteppp_connect flushes the UART and waits 25 ms; connect() then 1 s. */
    lte_stats.flushed_bytes += fake_uart_flush();
    lteppp_set_state(E_LTE_PPP);
    firmware_pause_ms(25 + 1000);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lte_connect_obj, 1, lte_connect);

// method LTE.isconnected()
static mp_obj_t lte_isconnected(mp_obj_t self_in) {
    (void)self_in;
    lte_check_init();
    return mp_obj_new_bool(lteppp_get_state() == E_LTE_PPP);
}
static MP_DEFINE_CONST_FUN_OBJ_1(lte_isconnected_obj, lte_isconnected);

// method LTE.disconnect()
static mp_obj_t lte_disconnect(mp_obj_t self_in) {
    (void)self_in;
    lte_check_init();
    if (lteppp_get_state() == E_LTE_PPP || lteppp_get_state() == E_LTE_SUSPENDED) {
        lteppp_set_state(E_LTE_ATTACHED);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(lte_disconnect_obj, lte_disconnect);

/* ---- identity ---- */

// method LTE.iccid(): the first quoted field of +SQNCCID, or None
static mp_obj_t lte_iccid(mp_obj_t self_in) {
    (void)self_in;
    lte_check_init();
    lte_check_inppp();
    const char *answer = push_simple("AT+SQNCCID?");
    const char *p = strstr(answer, "SQNCCID:");
    const char *open = p != NULL ? strchr(p, '"') : NULL;
    const char *close = open != NULL ? strchr(open + 1, '"') : NULL;
    if (close == NULL) {
        return mp_const_none;
    }
    return mp_obj_new_str(open + 1, (size_t)(close - open - 1));
}
static MP_DEFINE_CONST_FUN_OBJ_1(lte_iccid_obj, lte_iccid);

// method LTE.imei(): the first 15-digit run in the AT+CGSN answer, or None
static mp_obj_t lte_imei(mp_obj_t self_in) {
    (void)self_in;
    lte_check_init();
    lte_check_inppp();
    const char *answer = push_simple("AT+CGSN");
    size_t run = 0;
    for (const char *p = answer; *p != '\0'; p++) {
        run = (*p >= '0' && *p <= '9') ? run + 1 : 0;
        if (run == 15 && !(p[1] >= '0' && p[1] <= '9')) {
            return mp_obj_new_str(p - 14, 15);
        }
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(lte_imei_obj, lte_imei);

static const mp_rom_map_elem_t lte_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_init), MP_ROM_PTR(&lte_init_obj) },
    { MP_ROM_QSTR(MP_QSTR_deinit), MP_ROM_PTR(&lte_deinit_obj) },
    { MP_ROM_QSTR(MP_QSTR_attach), MP_ROM_PTR(&lte_attach_obj) },
    { MP_ROM_QSTR(MP_QSTR_isattached), MP_ROM_PTR(&lte_isattached_obj) },
    { MP_ROM_QSTR(MP_QSTR_detach), MP_ROM_PTR(&lte_detach_obj) },
    { MP_ROM_QSTR(MP_QSTR_connect), MP_ROM_PTR(&lte_connect_obj) },
    { MP_ROM_QSTR(MP_QSTR_isconnected), MP_ROM_PTR(&lte_isconnected_obj) },
    { MP_ROM_QSTR(MP_QSTR_disconnect), MP_ROM_PTR(&lte_disconnect_obj) },
    { MP_ROM_QSTR(MP_QSTR_iccid), MP_ROM_PTR(&lte_iccid_obj) },
    { MP_ROM_QSTR(MP_QSTR_imei), MP_ROM_PTR(&lte_imei_obj) },
    { MP_ROM_QSTR(MP_QSTR_send_at_cmd), MP_ROM_PTR(&lte_send_at_cmd_obj) },
};
static MP_DEFINE_CONST_DICT(lte_locals_dict, lte_locals_dict_table);

MP_DEFINE_CONST_OBJ_TYPE(
    network_lte_type,
    MP_QSTR_LTE,
    MP_TYPE_FLAG_NONE,
    make_new, lte_make_new,
    locals_dict, &lte_locals_dict
    );

void network_lte_reset_for_profile_change(void) {
    lteppp_task_reset();
    memset(&modlte_rsp, 0, sizeof(modlte_rsp));
}
