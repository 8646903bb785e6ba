/*
 * microATsocket.trace(target, *, payloads=False): a line-oriented record of
 * every exchange with the modem, written as it happens (c_glue/README.md,
 * "Trace format"). oprun.c calls in here only while a trace is on
 * (`masg_tracing`), so a module without a trace pays one test per exchange.
 *
 * Lines are built in a small static buffer and written to the target in
 * pieces, so memory stays bounded whatever the trace's length. A target whose
 * write raises ends the trace; the operation in progress is not affected.
 */
#include <string.h>

#include "py/builtin.h"
#include "py/mphal.h"
#include "py/nlr.h"
#include "py/runtime.h"

#include "mas_glue.h"

bool masg_tracing;
static bool show_payloads;
static bool owns_target;
/* The transport's description last written (an `H` line), to write it again when it changes. */
static char last_header[96];

/* The VM the trace belongs to (vm.c). */
static uint32_t trace_vm;

/* A soft reset: the target went with the previous VM's loaded-modules dict;
 * the trace is off (lock.c turns the core's notes off with the slots). */
static void trace_forget(void) {
    masg_tracing = false;
    owns_target = false;
}

/* The target lives in the loaded-modules dict, which the GC always scans
 * (every MicroPython version this module builds on has it). */
static mp_obj_t target_get(void) {
    masg_vm_sync(&trace_vm, trace_forget);
    mp_map_elem_t *elem = mp_map_lookup(&MP_STATE_VM(mp_loaded_modules_dict).map,
        MP_OBJ_NEW_QSTR(MP_QSTR__microATsocket_trace), MP_MAP_LOOKUP);
    return elem == NULL ? MP_OBJ_NULL : elem->value;
}

static void target_set(mp_obj_t obj) {
    mp_map_t *map = &MP_STATE_VM(mp_loaded_modules_dict).map;
    mp_obj_t key = MP_OBJ_NEW_QSTR(MP_QSTR__microATsocket_trace);
    if (obj == MP_OBJ_NULL) {
        mp_map_lookup(map, key, MP_MAP_LOOKUP_REMOVE_IF_FOUND);
    } else {
        mp_map_lookup(map, key, MP_MAP_LOOKUP_ADD_IF_NOT_FOUND)->value = obj;
    }
}

/* ---- output: one piece buffer, written through ----------------------------- */

static char piece[256];
static size_t piece_len;
static bool write_failed;

static void piece_flush(void) {
    if (piece_len == 0 || write_failed) {
        piece_len = 0;
        return;
    }
    mp_obj_t target = target_get();
    nlr_buf_t nlr;
    if (target != MP_OBJ_NULL && nlr_push(&nlr) == 0) {
        mp_obj_t method[3];
        mp_load_method(target, MP_QSTR_write, method);
        method[2] = mp_obj_new_bytes((const byte *)piece, piece_len);
        mp_call_method_n_kw(1, 0, method);
        nlr_pop();
    } else {
        write_failed = true; /* ends the trace at the next line's end */
    }
    piece_len = 0;
}

static void put(const char *text, size_t len) {
    while (len > 0) {
        size_t room = sizeof(piece) - piece_len;
        size_t n = len < room ? len : room;
        memcpy(piece + piece_len, text, n);
        piece_len += n;
        text += n;
        len -= n;
        if (piece_len == sizeof(piece)) {
            piece_flush();
        }
    }
}

static void puts_(const char *text) {
    put(text, strlen(text));
}

static void put_uint(uint32_t value) {
    char digits[11];
    size_t i = sizeof(digits);
    do {
        digits[--i] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    put(digits + i, sizeof(digits) - i);
}

static void put_int(int32_t value) {
    if (value < 0) {
        put("-", 1);
        put_uint((uint32_t)(-(int64_t)value));
    } else {
        put_uint((uint32_t)value);
    }
}

static const char hex_digits[] = "0123456789abcdef";

/* `#<len>:<sha256 hex>`: bytes named, not shown. */
static void put_digest(const uint8_t *data, size_t len) {
    uint8_t digest[32];
    put("#", 1);
    put_uint((uint32_t)len);
    put(":", 1);
    if (mas_sha256(data, len, digest) != 0) {
        put("?", 1);
        return;
    }
    char text[64];
    for (size_t i = 0; i < 32; i++) {
        text[2 * i] = hex_digits[digest[i] >> 4];
        text[2 * i + 1] = hex_digits[digest[i] & 15];
    }
    put(text, sizeof(text));
}

/* Bytes inside double quotes: printable ASCII as is, \r \n \t \" \\, else \xNN. */
static void put_escaped(const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) {
        uint8_t b = data[i];
        char esc[4] = { '\\', 0, 0, 0 };
        size_t n = 2;
        switch (b) {
            case '\r': esc[1] = 'r'; break;
            case '\n': esc[1] = 'n'; break;
            case '\t': esc[1] = 't'; break;
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            default:
                if (b >= 0x20 && b < 0x7f) {
                    esc[0] = (char)b;
                    n = 1;
                } else {
                    esc[1] = 'x';
                    esc[2] = hex_digits[b >> 4];
                    esc[3] = hex_digits[b & 15];
                    n = 4;
                }
        }
        put(esc, n);
    }
}

static void put_quoted(const uint8_t *data, size_t len) {
    put("\"", 1);
    put_escaped(data, len);
    put("\"", 1);
}

/* A payload the caller may not want in a file: shown only if asked. */
static void put_payload(const uint8_t *data, size_t len) {
    if (show_payloads || len == 0) {
        put_quoted(data, len);
    } else {
        put_digest(data, len);
    }
}

/* An answer: received data (after a +SQNSRECV header) becomes `\#<len>:<sha>;`
 * inside the quotes unless payloads are shown. */
static void put_answer(const uint8_t *data, size_t len) {
    put("\"", 1);
    size_t at = 0;
    size_t start, end;
    while (!show_payloads && at < len && mas_trace_payload_span(data, len, at, &start, &end) == 1 && start >= at) {
        put_escaped(data + at, start - at);
        put("\\", 1);
        put_digest(data + start, end - start);
        put(";", 1);
        at = end;
    }
    put_escaped(data + at, len - at);
    put("\"", 1);
}

static void line_start(char kind, uint32_t t) {
    char head[2] = { kind, ' ' };
    put(head, 2);
    put("t=", 2);
    put_uint(t);
}

static void stop(void);

static void line_end(void) {
    put("\n", 1);
    piece_flush();
    if (write_failed) {
        stop();
    }
}

/* ---- what the core noted, and the transport ------------------------------- */

static void write_notes(uint32_t t) {
    const uint8_t *notes = NULL;
    uint32_t lost = 0;
    size_t n = mas_trace_notes(&notes, &lost);
    if (lost != 0) {
        line_start('L', t);
        puts_(" lost=");
        put_uint(lost);
        line_end();
    }
    /* Written straight from the core's buffer: nothing here calls the core meanwhile. */
    size_t from = 0;
    for (size_t i = 0; i < n && masg_tracing; i++) {
        if (notes[i] == '\n') {
            line_start('N', t);
            put(" ", 1);
            put((const char *)notes + from, i - from);
            line_end();
            from = i + 1;
        }
    }
    mas_trace_notes_done();
}

/* `key=value` words for what this transport found out about the firmware. */
static size_t describe_transport(char *buf, size_t cap) {
    static const qstr keys[] = { MP_QSTR_timeout_form, MP_QSTR_lteppp_layout, MP_QSTR_prompt_gap_ms };
    vstr_t text;
    vstr_init_fixed_buf(&text, cap, buf);
    vstr_add_str(&text, "transport=");
    vstr_add_str(&text, masg_transport_name);
    for (size_t i = 0; i < MP_ARRAY_SIZE(keys); i++) {
        mp_obj_t value = masg_transport_config_get(keys[i]);
        if (value == MP_OBJ_NULL) {
            continue;
        }
        vstr_add_byte(&text, ' ');
        vstr_add_str(&text, qstr_str(keys[i]));
        vstr_add_byte(&text, '=');
        if (value == mp_const_none) {
            vstr_add_str(&text, "unknown");
        } else if (mp_obj_is_small_int(value)) {
            char digits[12];
            size_t n = 0;
            mp_int_t v = MP_OBJ_SMALL_INT_VALUE(value);
            do {
                digits[n++] = (char)('0' + v % 10);
                v /= 10;
            } while (v > 0 && n < sizeof(digits));
            while (n > 0) {
                vstr_add_byte(&text, digits[--n]);
            }
        } else if (mp_obj_is_qstr(value)) {
            vstr_add_str(&text, qstr_str(MP_OBJ_QSTR_VALUE(value)));
        }
    }
    return text.len < cap ? text.len : cap - 1;
}

static void write_header_if_changed(uint32_t t) {
    char now[sizeof(last_header)];
    size_t n = describe_transport(now, sizeof(now));
    now[n] = '\0';
    if (strcmp(now, last_header) == 0) {
        return;
    }
    memcpy(last_header, now, n + 1);
    line_start('H', t);
    put(" ", 1);
    put(now, n);
    puts_(show_payloads ? " payloads=shown" : " payloads=hashed");
    line_end();
}

/* ---- the hooks oprun.c calls while a trace is on -------------------------- */

void masg_trace_op_start(uint32_t t) {
    write_header_if_changed(t);
    if (masg_tracing) {
        write_notes(t);
    }
}

void masg_trace_notes(void) {
    write_notes((uint32_t)mp_hal_ticks_ms());
}

static const char *kind_name(mas_exchange_kind kind) {
    switch (kind) {
        case MAS_EXCHANGE_COMMAND: return "command";
        case MAS_EXCHANGE_PAYLOAD: return "payload";
        case MAS_EXCHANGE_COMMAND_WITH_PAYLOAD: return "command+payload";
        case MAS_EXCHANGE_LISTEN: return "listen";
        case MAS_EXCHANGE_SLEEP: return "sleep";
        default: return "?";
    }
}

void masg_trace_perform(mp_obj_t lte, const mas_exchange *x, masg_reply *reply, uint32_t t) {
    line_start('X', t);
    put(" ", 1);
    puts_(kind_name(x->kind));
    puts_(" w=");
    put_uint(x->timeout_ms);
    if (x->kind == MAS_EXCHANGE_COMMAND || x->kind == MAS_EXCHANGE_COMMAND_WITH_PAYLOAD) {
        puts_(" c=");
        put_quoted(x->command, x->command_len);
    }
    if (x->kind == MAS_EXCHANGE_PAYLOAD || x->kind == MAS_EXCHANGE_COMMAND_WITH_PAYLOAD) {
        puts_(" p=");
        put_payload(x->payload, x->payload_len);
    }
    line_end();
    uint32_t began = (uint32_t)mp_hal_ticks_ms();
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        masg_transport_perform(lte, x, reply);
        nlr_pop();
    } else {
        if (masg_tracing) {
            line_start('R', began);
            puts_(" ms=");
            put_uint((uint32_t)mp_hal_ticks_ms() - began);
            puts_(" raised=");
            puts_(qstr_str(mp_obj_get_type(MP_OBJ_FROM_PTR(nlr.ret_val))->name));
            line_end();
        }
        nlr_jump(nlr.ret_val);
    }
    if (!masg_tracing) {
        return;
    }
    line_start('A', began);
    puts_(" ms=");
    put_uint((uint32_t)mp_hal_ticks_ms() - began);
    put(" ", 1);
    put_answer(reply->data, reply->len);
    line_end();
}

static void put_addr(const mas_addr *addr) {
    char ip[MASG_IP_TEXT_CAP];
    size_t n = mas_addr_format(addr, ip, sizeof(ip));
    if (n == 0) {
        put("-", 1);
        return;
    }
    if (addr->family == 6) {
        put("[", 1);
    }
    put(ip, n);
    if (addr->family == 6) {
        put("]", 1);
    }
    put(":", 1);
    put_uint(addr->port);
}

void masg_trace_outcome(uint32_t t, const mas_outcome *out) {
    line_start('D', t);
    puts_(" error=");
    put_int(out->error);
    if (out->error == 0) {
        puts_(" len=");
        put_uint((uint32_t)out->len);
        puts_(" data=");
        put_payload(out->data, out->data_len);
        puts_(" from=");
        put_addr(&out->from);
        puts_(" readable=");
        put_uint(out->readable ? 1 : 0);
        puts_(" addrs=");
        for (size_t i = 0; i < out->addr_count && i < MAS_MAX_ADDRESSES; i++) {
            if (i > 0) {
                put(",", 1);
            }
            put_addr(&out->addrs[i]);
        }
        if (out->addr_count == 0) {
            put("-", 1);
        }
        puts_(" ttl=");
        put_int((int32_t)out->ttl_s);
    }
    line_end();
    if (masg_tracing) {
        write_notes(t);
    }
}

/* ---- trace() --------------------------------------------------------------- */

static void stop(void) {
    bool was = masg_tracing;
    masg_tracing = false;
    mas_trace_enable(false);
    mp_obj_t target = target_get();
    target_set(MP_OBJ_NULL);
    piece_len = 0;
    if (was && owns_target && target != MP_OBJ_NULL) {
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            mp_obj_t method[2];
            mp_load_method(target, MP_QSTR_close, method);
            mp_call_method_n_kw(0, 0, method);
            nlr_pop();
        }
    }
    owns_target = false;
}

// function microATsocket.trace(target, *, payloads=False)
static mp_obj_t mod_trace(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_target, ARG_payloads };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_target, MP_ARG_REQUIRED | MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_payloads, MP_ARG_KW_ONLY | MP_ARG_BOOL, { .u_bool = false } },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed), allowed, args);
    mp_obj_t target = args[ARG_target].u_obj;
    bool opens = mp_obj_is_str(target);
    if (target != mp_const_none && !opens) {
        mp_obj_t method[2];
        mp_load_method_maybe(target, MP_QSTR_write, method);
        if (method[0] == MP_OBJ_NULL) {
            mp_raise_TypeError(MP_ERROR_TEXT("trace target must be a file path, a stream with write(), or None"));
        }
    }
    /* Stop the trace in progress: its last notes first (calls without exchanges). */
    masg_lock();
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        if (masg_tracing) {
            masg_trace_notes();
        }
        if (masg_tracing) {
            line_start('E', (uint32_t)mp_hal_ticks_ms());
            line_end();
        }
        stop();
        if (target != mp_const_none) {
            if (opens) {
                mp_obj_t open_args[2] = { target, mp_obj_new_str("w", 1) };
                target = mp_builtin_open(2, open_args, (mp_map_t *)&mp_const_empty_map);
            }
            target_set(target);
            owns_target = opens;
            show_payloads = args[ARG_payloads].u_bool;
            write_failed = false;
            last_header[0] = '\0';
            masg_tracing = true;
            puts_("# microATsocket trace 1 (format: c_glue/README.md, \"Trace format\")\n");
            piece_flush();
            mas_trace_enable(true);
            write_header_if_changed((uint32_t)mp_hal_ticks_ms());
            if (masg_tracing) {
                masg_trace_notes();
            }
        }
        nlr_pop();
    } else {
        stop();
        masg_unlock();
        nlr_jump(nlr.ret_val);
    }
    masg_unlock();
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_KW(masg_trace_obj, 1, mod_trace);
