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
 * send_at_cmd's signature varies: 1.20.2.r2 and later take a keyword-only
 * timeout in ms; 1.18 and 1.20.0/1.20.1 take none (fixed 9500 ms wait). The
 * first call tries the keyword and remembers a TypeError as "not supported".
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

static enum { TIMEOUT_KW_UNKNOWN, TIMEOUT_KW_YES, TIMEOUT_KW_NO } timeout_kw;

void masg_transport_forget(void) {
    timeout_kw = TIMEOUT_KW_UNKNOWN;
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

mp_obj_t masg_transport_config_get(qstr key) {
    (void)key;
    return MP_OBJ_NULL;
}

static mp_obj_t call_with_timeout(mp_obj_t lte, mp_obj_t text, uint32_t timeout_ms) {
    mp_obj_t call[5];
    mp_load_method(lte, MP_QSTR_send_at_cmd, call);
    call[2] = text;
    /* The firmware reads 0 as "wait forever"; the core never means that. */
    uint32_t clamped = timeout_ms == 0 ? 1 : (timeout_ms > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : timeout_ms);
    call[3] = MP_OBJ_NEW_QSTR(MP_QSTR_timeout);
    call[4] = MP_OBJ_NEW_SMALL_INT((mp_int_t)clamped);
    return mp_call_method_n_kw(1, 1, call);
}

static mp_obj_t call_plain(mp_obj_t lte, mp_obj_t text) {
    mp_obj_t call[3];
    mp_load_method(lte, MP_QSTR_send_at_cmd, call);
    call[2] = text;
    return mp_call_method_n_kw(1, 0, call);
}

static mp_obj_t send_at_cmd(mp_obj_t lte, mp_obj_t text, uint32_t timeout_ms) {
    switch (timeout_kw) {
        case TIMEOUT_KW_YES:
            return call_with_timeout(lte, text, timeout_ms);
        case TIMEOUT_KW_NO:
            return call_plain(lte, text);
        default:
            break;
    }
    /* First call on this modem: does send_at_cmd take timeout=? A firmware
     * without it raises TypeError while parsing arguments, before any I/O. */
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t reply = call_with_timeout(lte, text, timeout_ms);
        nlr_pop();
        timeout_kw = TIMEOUT_KW_YES;
        return reply;
    }
    if (!mp_obj_exception_match(MP_OBJ_FROM_PTR(nlr.ret_val), MP_OBJ_FROM_PTR(&mp_type_TypeError))) {
        nlr_jump(nlr.ret_val);
    }
    timeout_kw = TIMEOUT_KW_NO;
    return call_plain(lte, text);
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
