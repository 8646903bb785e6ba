/*
 * Module `network` of the unix port: the LTE class and the test hooks of the
 * fake (names with a leading underscore; the firmware has none of them).
 */
#include <string.h>

#include "py/runtime.h"

#include "interrupt_hook.h"
#include "lte_model.h"
#include "lteppp.h"
#include "lte_profile.h"
#include "modlte.h"
#include "sim_control.h"

static void stats_put(mp_obj_t dict, qstr key, uint64_t value) {
    mp_obj_dict_store(dict, MP_OBJ_NEW_QSTR(key), mp_obj_new_int_from_ull(value));
}

// function network._lte_stats() -> dict of counters and the modelled clock (us)
static mp_obj_t network_lte_stats(void) {
    mp_obj_t d = mp_obj_new_dict(13);
    stats_put(d, MP_QSTR_calls, lte_stats.calls);
    stats_put(d, MP_QSTR_exchanges, lte_stats.exchanges);
    stats_put(d, MP_QSTR_commands, lte_stats.commands);
    stats_put(d, MP_QSTR_dummies, lte_stats.dummies);
    stats_put(d, MP_QSTR_continuations, lte_stats.continuations);
    stats_put(d, MP_QSTR_bytes_out, lte_stats.bytes_out);
    stats_put(d, MP_QSTR_bytes_in, lte_stats.bytes_in);
    stats_put(d, MP_QSTR_flushed_bytes, lte_stats.flushed_bytes);
    stats_put(d, MP_QSTR_idle_polls, lte_stats.idle_polls);
    stats_put(d, MP_QSTR_hangs, lte_stats.hangs);
    stats_put(d, MP_QSTR_prompt_races, lte_stats.prompt_races);
    stats_put(d, MP_QSTR_last_timeout_ms, lte_stats.last_timeout_ms);
    stats_put(d, MP_QSTR_modelled_us, lte_stats.modelled_ns / 1000u);
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_0(network_lte_stats_obj, network_lte_stats);

// function network._lte_reset_stats()
static mp_obj_t network_lte_reset_stats(void) {
    lte_model_reset();
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(network_lte_reset_stats_obj, network_lte_reset_stats);

// function network._lte_profile([name]) -> the profile name in force
static mp_obj_t network_lte_profile(size_t n_args, const mp_obj_t *args) {
    if (n_args == 1) {
        if (!lte_profile_set_by_name(mp_obj_str_get_str(args[0]))) {
            mp_raise_ValueError(MP_ERROR_TEXT("unknown firmware profile (expected " LTE_PROFILE_NAMES ")"));
        }
        network_lte_reset_for_profile_change();
    }
    return mp_obj_new_str_from_cstr(lte_profile_info()->name);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(network_lte_profile_obj, 0, 1, network_lte_profile);

// function network._sim(line) -> the simulator's one-line reply to a control line
static mp_obj_t network_sim(mp_obj_t line_in) {
    size_t len;
    const char *line = mp_obj_str_get_data(line_in, &len);
    if (memchr(line, '\n', len) != NULL) {
        mp_raise_ValueError(MP_ERROR_TEXT("one control line, without a newline"));
    }
    static char reply[SIM_CONTROL_REPLY_MAX];
    int err = sim_control_exchange(line, len, reply, sizeof(reply));
    if (err != 0) {
        mp_raise_OSError(err);
    }
    return mp_obj_new_str(reply, strlen(reply));
}
static MP_DEFINE_CONST_FUN_OBJ_1(network_sim_obj, network_sim);

// function network._lteppp_send(data, *, timeout=9500, expect_continuation=False)
// Queues one command through the C entry point lteppp_send_at_command, as a
// module linked into the firmware would: -> (text, data_remaining), or None
// for a continuation chunk (no answer is waited for).
static mp_obj_t network_lteppp_send(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_data, ARG_timeout, ARG_expect_continuation };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_data, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_timeout, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = LTE_RX_TIMEOUT_MAX_MS} },
        { MP_QSTR_expect_continuation, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_buffer_info_t data;
    mp_get_buffer_raise(args[ARG_data].u_obj, &data, MP_BUFFER_READ);
    if (data.len > LTE_AT_CMD_DATA_SIZE_MAX) {
        mp_raise_ValueError(MP_ERROR_TEXT("at most 124 bytes per queued command"));
    }
    lte_task_cmd_data_t cmd = {
        .timeout = (uint32_t)args[ARG_timeout].u_int,
        .dataLen = data.len,
        .expect_continuation = args[ARG_expect_continuation].u_bool,
    };
    memcpy(cmd.data, data.buf, data.len);
    /* Static, as a firmware module would keep it: 2 KiB is a lot of stack. */
    static lte_task_rsp_data_t rsp;
    lteppp_send_at_command(&cmd, &rsp);
    if (cmd.expect_continuation) {
        return mp_const_none;
    }
    vstr_t text;
    vstr_init(&text, 0);
    vstr_add_str(&text, rsp.data);
    mp_obj_t result[2] = { mp_obj_new_str_from_utf8_vstr(&text), mp_obj_new_bool(rsp.data_remaining) };
    return mp_obj_new_tuple(2, result);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(network_lteppp_send_obj, 1, network_lteppp_send);

// function network._lte_interrupt(items, kind): after the items-th item from now, "kbd"
// schedules a KeyboardInterrupt, "ppp" puts the task in data state (see interrupt_hook.c);
// items 0 disarms. -> whether a previous arming had not fired yet.
static mp_obj_t network_lte_interrupt(mp_obj_t items_in, mp_obj_t kind_in) {
    mp_int_t items = mp_obj_get_int(items_in);
    const char *kind = mp_obj_str_get_str(kind_in);
    fake_interrupt_kind_t k;
    if (strcmp(kind, "kbd") == 0) {
        k = FAKE_INTERRUPT_KBD;
    } else if (strcmp(kind, "ppp") == 0) {
        k = FAKE_INTERRUPT_PPP;
    } else {
        mp_raise_ValueError(MP_ERROR_TEXT("kind must be 'kbd' or 'ppp'"));
    }
    if (items < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("items must be >= 0"));
    }
    bool was_pending = fake_interrupt_pending();
    fake_interrupt_arm((uint32_t)items, k);
    return mp_obj_new_bool(was_pending);
}
static MP_DEFINE_CONST_FUN_OBJ_2(network_lte_interrupt_obj, network_lte_interrupt);

// function network._lte_lose(text, nth=1): the modem carries out the nth item from
// now that holds `text` (or the first answered item after it), and its answer is lost:
// the caller gets KeyboardInterrupt instead (see interrupt_hook.c); text '' disarms.
// -> whether a previous arming had not fired yet.
static mp_obj_t network_lte_lose(size_t n_args, const mp_obj_t *args) {
    size_t len;
    const char *text = mp_obj_str_get_data(args[0], &len);
    mp_int_t nth = n_args > 1 ? mp_obj_get_int(args[1]) : 1;
    if (nth < 1 || len > 64) {
        mp_raise_ValueError(MP_ERROR_TEXT("nth must be >= 1 and text at most 64 bytes"));
    }
    bool was_armed = fake_lose_armed();
    fake_lose_arm(text, len, (uint32_t)nth);
    return mp_obj_new_bool(was_armed);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(network_lte_lose_obj, 1, 2, network_lte_lose);

static const mp_rom_map_elem_t network_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_network) },
    { MP_ROM_QSTR(MP_QSTR_LTE), MP_ROM_PTR(&network_lte_type) },
    { MP_ROM_QSTR(MP_QSTR__lte_stats), MP_ROM_PTR(&network_lte_stats_obj) },
    { MP_ROM_QSTR(MP_QSTR__lte_reset_stats), MP_ROM_PTR(&network_lte_reset_stats_obj) },
    { MP_ROM_QSTR(MP_QSTR__lte_profile), MP_ROM_PTR(&network_lte_profile_obj) },
    { MP_ROM_QSTR(MP_QSTR__sim), MP_ROM_PTR(&network_sim_obj) },
    { MP_ROM_QSTR(MP_QSTR__lteppp_send), MP_ROM_PTR(&network_lteppp_send_obj) },
    { MP_ROM_QSTR(MP_QSTR__lte_interrupt), MP_ROM_PTR(&network_lte_interrupt_obj) },
    { MP_ROM_QSTR(MP_QSTR__lte_lose), MP_ROM_PTR(&network_lte_lose_obj) },
};
static MP_DEFINE_CONST_DICT(network_module_globals, network_module_globals_table);

const mp_obj_module_t network_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&network_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_network, network_module);
