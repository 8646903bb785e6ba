/*
 * Credentials from the caller: a file path, PEM bytes or str, or DER bytes
 * (MicroPython's ssl/tls and CPython's cadata take DER), made into the LF-ended
 * PEM text the modem stores, and checked before anything reaches the modem:
 * kind and size (the core's mas_cred_check), and that every line fits one
 * write of this transport (mas_cred_pieces_check), so an upload is never
 * refused after the modem's prompt.
 */
#include <string.h>

#include "py/builtin.h"
#include "py/runtime.h"

#include "mas_glue.h"
#include "ssl_internal.h"

NORETURN void masg_ssl_raise_text(int errno_value, vstr_t *message) {
    mp_obj_t args[2] = { MP_OBJ_NEW_SMALL_INT(errno_value), mp_obj_new_str(message->buf, message->len) };
    nlr_raise(mp_obj_new_exception_args(&mp_type_OSError, 2, args));
}

static mp_obj_t read_file(mp_obj_t path, const char *what) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t args[2] = { path, MP_OBJ_NEW_QSTR(MP_QSTR_rb) };
        mp_obj_t f = mp_call_function_n_kw(MP_OBJ_FROM_PTR(&mp_builtin_open_obj), 2, 0, args);
        mp_obj_t dest[2];
        mp_load_method(f, MP_QSTR_read, dest);
        mp_obj_t data = mp_call_method_n_kw(0, 0, dest);
        mp_load_method(f, MP_QSTR_close, dest);
        mp_call_method_n_kw(0, 0, dest);
        nlr_pop();
        return data;
    }
    vstr_t msg;
    vstr_init(&msg, 64);
    vstr_printf(&msg, "%s: cannot read the file %s", what, mp_obj_str_get_str(path));
    masg_ssl_raise_text(MP_ENOENT, &msg);
}

/* A str that holds PEM text is the text itself, as CPython's cadata takes it;
 * any other str is a path. */
static bool is_pem_text(const char *text, size_t len) {
    for (size_t i = 0; i + 10 <= len; i++) {
        if (memcmp(text + i, "-----BEGIN", 10) == 0) {
            return true;
        }
    }
    return false;
}

static void pem_from_text(const char *text, size_t len, vstr_t *pem) {
    const char *begin = NULL;
    for (size_t i = 0; i + 10 <= len; i++) {
        if (memcmp(text + i, "-----BEGIN", 10) == 0) {
            begin = text + i;
            break;
        }
    }
    vstr_init(pem, len + 1);
    if (begin == NULL) {
        return;
    }
    for (const char *p = begin; p < text + len; p++) {
        if (*p != '\r') {
            vstr_add_byte(pem, (byte)*p);
        }
    }
    if (pem->len > 0 && pem->buf[pem->len - 1] != '\n') {
        vstr_add_byte(pem, '\n');
    }
}

static void pem_from_der(const uint8_t *der, size_t len, bool private_key, const char *what, vstr_t *pem) {
    intptr_t need = mas_cred_der_to_pem(der, len, private_key, NULL, 0);
    if (need < 0) {
        vstr_t msg;
        vstr_init(&msg, 64);
        vstr_printf(&msg, "%s is neither PEM nor DER %s", what, private_key ? "(a private key)" : "(certificates)");
        masg_ssl_raise_text(MP_EINVAL, &msg);
    }
    vstr_init(pem, (size_t)need + 1);
    (void)mas_cred_der_to_pem(der, len, private_key, (uint8_t *)pem->buf, (size_t)need);
    pem->len = (size_t)need;
}

void masg_cred_load(mp_obj_t src, const char *what, bool private_key, vstr_t *pem) {
    mp_obj_t data = src;
    if (mp_obj_is_str(src)) {
        size_t len;
        const char *text = mp_obj_str_get_data(src, &len);
        if (!is_pem_text(text, len)) {
            data = read_file(src, what);
        }
    }
    mp_buffer_info_t buf;
    if (!mp_get_buffer(data, &buf, MP_BUFFER_READ)) {
        mp_raise_TypeError(MP_ERROR_TEXT("certificates and keys are file paths, PEM or DER bytes"));
    }
    if (!is_pem_text(buf.buf, buf.len) && mas_cred_is_der(buf.buf, buf.len)) {
        pem_from_der(buf.buf, buf.len, private_key, what, pem);
    } else {
        pem_from_text(buf.buf, buf.len, pem);
    }
    int32_t err = mas_cred_check((const uint8_t *)pem->buf, pem->len, private_key);
    if (err != 0) {
        vstr_t msg;
        vstr_init(&msg, 64);
        vstr_printf(&msg, "%s is not %s", what,
            err == MAS_EMSGSIZE ? (private_key ? "a PEM key of at most 2 KiB" : "a PEM certificate file of at most 8 KiB")
                                : (private_key ? "a private key (PEM or DER)" : "certificates (PEM or DER)"));
        masg_ssl_raise_text(MP_EINVAL, &msg);
    }
    /* The core reads the transport's limits: under the engine lock, as another
     * thread may be mid-operation in it (ports without a GIL run threads at once). */
    masg_lock();
    err = mas_cred_pieces_check((const uint8_t *)pem->buf, pem->len, MASG_SSL_LF_TERMINATOR);
    masg_unlock();
    if (err != 0) {
        vstr_t msg;
        vstr_init(&msg, 96);
        vstr_printf(&msg, "%s has a line longer than one command of this transport (config('max_command'))", what);
        masg_ssl_raise_text(masg_errno(err), &msg);
    }
}
