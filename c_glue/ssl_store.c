/*
 * The fingerprint store's file: where the core's store (src/tls_store.rs)
 * is kept between runs. This file only reads and writes it; what a line
 * means, which lines count, which slot to write and when to trust it are
 * the core's rules.
 *
 * Read as bytes (a byte that is not UTF-8 costs only its own line), written
 * whole after every change of what the store trusts. A file that cannot be
 * read means nothing is known; one that cannot be written costs a rewrite
 * of the credentials next run.
 */
#include <string.h>

#include "py/builtin.h"
#include "py/runtime.h"

#include "mas_glue.h"
#include "ssl_internal.h"

#define PATH_CAP (128)

static char store_path[PATH_CAP] = "/flash/microATsocket_tls.txt";
static bool store_loaded;

static mp_obj_t open_file(const char *mode) {
    mp_obj_t args[2] = { mp_obj_new_str(store_path, strlen(store_path)), mp_obj_new_str(mode, strlen(mode)) };
    return mp_call_function_n_kw(MP_OBJ_FROM_PTR(&mp_builtin_open_obj), 2, 0, args);
}

static mp_obj_t call_method(mp_obj_t obj, qstr method, size_t n_args, mp_obj_t arg) {
    mp_obj_t dest[3];
    mp_load_method(obj, method, dest);
    dest[2] = arg;
    return mp_call_method_n_kw(n_args, 0, dest);
}

/* The core's store is one static: every call goes under the engine lock, so
 * threads wrapping at once (ports without a GIL run them in parallel) never
 * meet inside it. Nothing here raises while the lock is held. */
int32_t masg_store_claim(bool private_key, const vstr_t *pem, int avoid, mas_claim *out) {
    masg_lock();
    int32_t err = mas_store_claim(private_key, (const uint8_t *)pem->buf, pem->len, (int16_t)avoid, out);
    masg_unlock();
    return err;
}

void masg_store_written(bool private_key, int slot, bool ok) {
    masg_lock();
    mas_store_written(private_key, (uint8_t)slot, ok);
    masg_unlock();
}

bool masg_store_rewrite(bool private_key, int slot) {
    masg_lock();
    bool rewrite = mas_store_rewrite(private_key, (uint8_t)slot);
    masg_unlock();
    return rewrite;
}

void masg_store_confirm(bool private_key, int slot) {
    masg_lock();
    mas_store_confirm(private_key, (uint8_t)slot);
    masg_unlock();
}

void masg_store_release(bool private_key, int slot) {
    masg_lock();
    mas_store_release(private_key, (uint8_t)slot);
    masg_unlock();
}

static void load_text(const uint8_t *text, size_t len) {
    masg_lock();
    (void)mas_store_load(text, len);
    masg_unlock();
}

void masg_store_load(void) {
    if (store_loaded) {
        return;
    }
    store_loaded = true;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t f = open_file("rb");
        mp_obj_t text = call_method(f, MP_QSTR_read, 0, MP_OBJ_NULL);
        call_method(f, MP_QSTR_close, 0, MP_OBJ_NULL);
        mp_buffer_info_t buf;
        mp_get_buffer_raise(text, &buf, MP_BUFFER_READ);
        load_text(buf.buf, buf.len);
        nlr_pop();
    } else {
        /* No file yet (or unreadable): nothing is known to be in the modem. */
        load_text(NULL, 0);
    }
}

void masg_store_save(void) {
    uint8_t text[MAS_STORE_TEXT_MAX];
    masg_lock();
    intptr_t len = mas_store_save(text, sizeof(text));
    masg_unlock();
    if (len < 0) {
        return;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t f = open_file("wb");
        call_method(f, MP_QSTR_write, 1, mp_obj_new_bytes(text, (size_t)len));
        call_method(f, MP_QSTR_close, 0, MP_OBJ_NULL);
        nlr_pop();
    }
}

mp_obj_t masg_store_path_obj(void) {
    return mp_obj_new_str(store_path, strlen(store_path));
}

void masg_store_set_path(mp_obj_t path_in) {
    size_t len;
    const char *path = mp_obj_str_get_data(path_in, &len);
    if (len == 0 || len >= PATH_CAP || memchr(path, '\0', len) != NULL) {
        mp_raise_ValueError(MP_ERROR_TEXT("store path must be 1 to 127 characters"));
    }
    memcpy(store_path, path, len);
    store_path[len] = '\0';
    store_loaded = false;
    masg_store_load();
}

void masg_store_forget(void) {
    store_loaded = true;
    masg_lock();
    mas_store_forget();
    masg_unlock();
    masg_store_save();
}
