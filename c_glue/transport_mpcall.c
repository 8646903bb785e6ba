/*
 * The default transport: performs each exchange by calling the LTE object's
 * send_at_cmd, as any Python script on stock Pycom firmware can.
 *
 * What the firmware does with the call (sequans-at-sockets.md section 5):
 * a command starting with "AT" flushes the UART receive ring, gets a CR
 * appended and returns everything that arrived until the final code (or about
 * 1 s of silence); a string containing "Pycom_Dummy" writes nothing, flushes
 * nothing and returns what arrives within the timeout. The reply is a str cut
 * at the first NUL, which is why the core runs the modem in hex mode.
 *
 * send_at_cmd's signature varies, and so does how it takes a timeout in ms:
 *   - timeout=, keyword only: v1.20.2.r2 .. r6 and branch Release/v1.20;
 *   - delay, the second argument (positional or keyword): pull request 429's
 *     head, which has no timeout= keyword;
 *   - not at all (a fixed 9500 ms wait for the first byte): v1.20.0/1.20.1,
 *     and v1.18, whose keyword-only delay= is a sleep before the read, not a
 *     timeout.
 * set_modem finds out which without any I/O (masg_transport_probe): every
 * release parses its arguments first, raising TypeError for a form it lacks,
 * and then refuses a None command with ValueError, all before it queues
 * anything. So send_at_cmd(None, timeout=1), send_at_cmd(None, 1) and, for
 * 1.18, send_at_cmd(None, delay=0) tell the form apart; 1.18 (whose task
 * takes the length with strlen) also gets 123-byte commands. An LTE object
 * that answers the probes otherwise (not initialised yet, in the data state,
 * a wrapper) leaves the form to the first exchange: timeout= first, then the
 * second positional argument, then none, a refused form again costing no
 * exchange. The positional form is safe everywhere: the only firmware with a
 * second positional parameter is the one that reads it as the timeout.
 *
 * GIL: the firmware holds it during send_at_cmd, and a Python call needs it,
 * so nothing can be released around that call; mp_hal_delay_ms releases it
 * itself on the threaded ports (ESP32, Pycom) while it sleeps.
 */
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/nlr.h"

#include "mas_glue.h"

/* Largest timeout we pass: stays a small int on 32-bit ports. */
#define MAX_TIMEOUT_MS (0x3fffffff)

const char masg_transport_name[] = "send_at_cmd";

typedef enum {
    TIMEOUT_FORM_UNKNOWN,
    TIMEOUT_FORM_KEYWORD,     /* send_at_cmd(cmd, timeout=ms) */
    TIMEOUT_FORM_POSITIONAL,  /* send_at_cmd(cmd, ms) */
    TIMEOUT_FORM_NONE,        /* send_at_cmd(cmd) */
    TIMEOUT_FORM_DELAY_ZERO,  /* send_at_cmd(cmd, delay=0): only to recognise 1.18 */
} timeout_form_t;

static timeout_form_t timeout_form;
/* 1.18's send_at_cmd: strlen-measured commands, at most 123 bytes. */
static bool firmware_118;

/* 1.18's task takes the command's length with strlen: 124 bytes leave no NUL
 * in its data[124], and the stale answer bytes behind it would go out too. */
#define FIRMWARE_118_MAX_COMMAND (123)

void masg_transport_forget(void) {
    timeout_form = TIMEOUT_FORM_UNKNOWN;
    firmware_118 = false;
}

uint16_t masg_transport_command_cap(void) {
    return firmware_118 ? FIRMWARE_118_MAX_COMMAND : 0;
}

void masg_transport_done(void) {
    /* Replies are str objects: the GC takes them. */
}

bool masg_transport_config_set(qstr key, mp_obj_t value, bool apply) {
    (void)key;
    (void)value;
    (void)apply;
    return false;
}

/* config('timeout_form'): how this modem's send_at_cmd takes its timeout, as
 * found by the first exchange: 'keyword', 'positional' or 'none'; None before. */
mp_obj_t masg_transport_config_get(qstr key) {
    if (key != MP_QSTR_timeout_form) {
        return MP_OBJ_NULL;
    }
    switch (timeout_form) {
        case TIMEOUT_FORM_KEYWORD:
            return MP_OBJ_NEW_QSTR(MP_QSTR_keyword);
        case TIMEOUT_FORM_POSITIONAL:
            return MP_OBJ_NEW_QSTR(MP_QSTR_positional);
        case TIMEOUT_FORM_NONE:
            return MP_OBJ_NEW_QSTR(MP_QSTR_none);
        default:
            return mp_const_none;
    }
}

/* The firmware may read 0 as "wait forever"; the core never means that. */
static mp_obj_t timeout_arg(uint32_t timeout_ms) {
    uint32_t clamped = timeout_ms == 0 ? 1 : (timeout_ms > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : timeout_ms);
    return MP_OBJ_NEW_SMALL_INT((mp_int_t)clamped);
}

static mp_obj_t call_in_form(timeout_form_t form, mp_obj_t lte, mp_obj_t text, uint32_t timeout_ms) {
    mp_obj_t call[5];
    mp_load_method(lte, MP_QSTR_send_at_cmd, call);
    call[2] = text;
    switch (form) {
        case TIMEOUT_FORM_KEYWORD:
            call[3] = MP_OBJ_NEW_QSTR(MP_QSTR_timeout);
            call[4] = timeout_arg(timeout_ms);
            return mp_call_method_n_kw(1, 1, call);
        case TIMEOUT_FORM_POSITIONAL:
            call[3] = timeout_arg(timeout_ms);
            return mp_call_method_n_kw(2, 0, call);
        case TIMEOUT_FORM_DELAY_ZERO:
            call[3] = MP_OBJ_NEW_QSTR(MP_QSTR_delay);
            call[4] = MP_OBJ_NEW_SMALL_INT(0);
            return mp_call_method_n_kw(1, 1, call);
        default:
            return mp_call_method_n_kw(1, 0, call);
    }
}

typedef enum { PROBE_ACCEPTED, PROBE_REFUSED, PROBE_UNSURE } probe_result_t;

/* send_at_cmd(None, <form>): ValueError (the None command) means the form
 * parsed, TypeError that it did not; anything else says nothing. */
static probe_result_t probe_form(mp_obj_t lte, timeout_form_t form) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        (void)call_in_form(form, lte, mp_const_none, 1);
        nlr_pop();
        return PROBE_UNSURE;
    }
    mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
    if (mp_obj_exception_match(exc, MP_OBJ_FROM_PTR(&mp_type_ValueError))) {
        return PROBE_ACCEPTED;
    }
    if (mp_obj_exception_match(exc, MP_OBJ_FROM_PTR(&mp_type_TypeError))) {
        return PROBE_REFUSED;
    }
    return PROBE_UNSURE;
}

void masg_transport_probe(mp_obj_t lte) {
    masg_transport_forget();
    if (lte == MP_OBJ_NULL) {
        return;
    }
    static const timeout_form_t tried[] = { TIMEOUT_FORM_KEYWORD, TIMEOUT_FORM_POSITIONAL, TIMEOUT_FORM_DELAY_ZERO };
    for (size_t i = 0; i < MP_ARRAY_SIZE(tried); i++) {
        switch (probe_form(lte, tried[i])) {
            case PROBE_ACCEPTED:
                /* 1.18's delay= is a sleep, not a timeout: it passes none. */
                firmware_118 = tried[i] == TIMEOUT_FORM_DELAY_ZERO;
                timeout_form = firmware_118 ? TIMEOUT_FORM_NONE : tried[i];
                return;
            case PROBE_REFUSED:
                continue;
            default:
                return; /* left to the first exchange */
        }
    }
    timeout_form = TIMEOUT_FORM_NONE;
}

/* Calls send_at_cmd in `form`; returns MP_OBJ_NULL when the firmware refuses
 * that form with a TypeError (raised before any I/O). */
static mp_obj_t try_form(timeout_form_t form, mp_obj_t lte, mp_obj_t text, uint32_t timeout_ms) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t reply = call_in_form(form, lte, text, timeout_ms);
        nlr_pop();
        return reply;
    }
    if (!mp_obj_exception_match(MP_OBJ_FROM_PTR(nlr.ret_val), MP_OBJ_FROM_PTR(&mp_type_TypeError))) {
        nlr_jump(nlr.ret_val);
    }
    return MP_OBJ_NULL;
}

static mp_obj_t send_at_cmd(mp_obj_t lte, mp_obj_t text, uint32_t timeout_ms) {
    if (timeout_form != TIMEOUT_FORM_UNKNOWN) {
        return call_in_form(timeout_form, lte, text, timeout_ms);
    }
    /* First call on this modem: find the form, once. */
    mp_obj_t reply = try_form(TIMEOUT_FORM_KEYWORD, lte, text, timeout_ms);
    if (reply != MP_OBJ_NULL) {
        timeout_form = TIMEOUT_FORM_KEYWORD;
        return reply;
    }
    reply = try_form(TIMEOUT_FORM_POSITIONAL, lte, text, timeout_ms);
    if (reply != MP_OBJ_NULL) {
        timeout_form = TIMEOUT_FORM_POSITIONAL;
        return reply;
    }
    timeout_form = TIMEOUT_FORM_NONE;
    return call_in_form(TIMEOUT_FORM_NONE, lte, text, timeout_ms);
}

void masg_transport_perform(mp_obj_t lte, const mas_exchange *x, masg_reply *reply) {
    mp_obj_t text;
    switch (x->kind) {
        case MAS_EXCHANGE_SLEEP:
            mp_hal_delay_ms(x->timeout_ms);
            reply->data = NULL;
            reply->len = 0;
            reply->keep = MP_OBJ_NULL;
            return;
        case MAS_EXCHANGE_COMMAND:
            text = mp_obj_new_str((const char *)x->command, x->command_len);
            break;
        case MAS_EXCHANGE_PAYLOAD:
            /* Hex text: cannot start with "AT" (no flush) nor hold a directive. */
            text = mp_obj_new_str((const char *)x->payload, x->payload_len);
            break;
        case MAS_EXCHANGE_COMMAND_WITH_PAYLOAD: {
            /* One call: the firmware flushes, writes command, CR, payload and its own
             * terminator (an empty command line to the modem), then reads the prompt and
             * the OK together, ending at the OK with no idle wait. */
            vstr_t both;
            vstr_init(&both, x->command_len + 1 + x->payload_len);
            vstr_add_strn(&both, (const char *)x->command, x->command_len);
            vstr_add_byte(&both, '\r');
            vstr_add_strn(&both, (const char *)x->payload, x->payload_len);
            text = MPCOMPAT_STR_FROM_VSTR(&both);
            break;
        }
        case MAS_EXCHANGE_LISTEN:
            text = MP_OBJ_NEW_QSTR(MP_QSTR_Pycom_Dummy);
            break;
        default:
            mp_raise_OSError(MP_EIO);
    }
    mp_obj_t answer = send_at_cmd(lte, text, x->timeout_ms);
    if (answer == mp_const_none) {
        reply->data = NULL;
        reply->len = 0;
        reply->keep = MP_OBJ_NULL;
        return;
    }
    size_t len;
    const char *data = mp_obj_str_get_data(answer, &len);
    reply->data = (const uint8_t *)data;
    reply->len = len;
    reply->keep = answer;
}
