/*
 * TLS in the modem: wrap_socket and SSLContext, as microATsocket.ssl (point
 * sys.modules['ssl'] or ['ussl'] at it) and microATsocket.wrap_socket.
 *
 * The Monarch does the TLS itself (src/engine/secure.rs): wrapping a connected
 * stream writes the certificates it needs into the modem (only when they
 * differ from what it holds), then re-dials the connection with TLS. Nothing
 * has been sent on the plain connection yet (umqtt and urequests connect,
 * then wrap), so the peer sees one connection closed unused and a TLS one.
 *
 * Fingerprints: the SHA-256 of each credential written (with its kind) is kept
 * per modem slot (certificates and keys in slots 16..19) in RAM and in a small
 * text file on the board's flash (ssl.store(), default
 * /flash/microATsocket_tls.txt), so a credential the modem already holds is
 * not written again, not even after the board restarts. After a modem factory
 * reset or a modem swap, call ssl.forget() so everything is written afresh.
 */
#include <string.h>

#include "py/builtin.h"
#include "py/mperrno.h"
#include "py/runtime.h"
#include "py/stream.h"

#include "mas_glue.h"

#define CERT_NONE (0)
#define CERT_OPTIONAL (1)
#define CERT_REQUIRED (2)
#define PROTOCOL_TLS_CLIENT (0)
#define PROTOCOL_TLS_SERVER (1)

/* certValidLevel as LR5 reads it: MAS_TLS_LEVEL_* in microatsocket.h. */

/* Firmware 1.18 ends every write with CR LF: the core then leaves each PEM
 * line's LF to the firmware. Every later release ends writes with CR. */
#if defined(MICROATSOCKET_TRANSPORT_LTEPPP) && MICROATSOCKET_LTEPPP_LAYOUT == 118
#define LF_TERMINATOR (true)
#else
#define LF_TERMINATOR (false)
#endif

/* ---- the fingerprint store ------------------------------------------------- */

#define FIRST_SLOT (16)
#define SLOTS (4)
#define HASH_LEN (32)
#define PATH_CAP (128)

typedef struct {
    bool used;
    uint32_t stamp; /* last use, for choosing which slot to overwrite */
    uint8_t hash[HASH_LEN];
} store_entry;

static store_entry store[2][SLOTS]; /* [private key?][slot - FIRST_SLOT] */
static bool store_loaded;
static uint32_t store_clock;
static char store_path[PATH_CAP] = "/flash/microATsocket_tls.txt";

static mp_obj_t open_file(const char *path, size_t len, const char *mode) {
    mp_obj_t args[2] = { mp_obj_new_str(path, len), mp_obj_new_str(mode, strlen(mode)) };
    return mp_call_function_n_kw(MP_OBJ_FROM_PTR(&mp_builtin_open_obj), 2, 0, args);
}

static mp_obj_t call0(mp_obj_t obj, qstr method) {
    mp_obj_t dest[2];
    mp_load_method(obj, method, dest);
    return mp_call_method_n_kw(0, 0, dest);
}

static void call1(mp_obj_t obj, qstr method, mp_obj_t arg) {
    mp_obj_t dest[3];
    mp_load_method(obj, method, dest);
    dest[2] = arg;
    mp_call_method_n_kw(1, 0, dest);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* Lines "<k|c> <slot> <stamp> <64 hex digits>". Anything else is skipped. */
static void store_parse(const char *text, size_t len) {
    const char *end = text + len;
    while (text < end) {
        const char *nl = memchr(text, '\n', (size_t)(end - text));
        const char *line_end = nl == NULL ? end : nl;
        unsigned slot = 0;
        unsigned long stamp = 0;
        const char *p = text;
        int kind = (p < line_end && (*p == 'c' || *p == 'k')) ? (*p == 'k') : -1;
        p += 2;
        while (p < line_end && *p >= '0' && *p <= '9') {
            slot = slot * 10 + (unsigned)(*p++ - '0');
        }
        p++;
        while (p < line_end && *p >= '0' && *p <= '9') {
            stamp = stamp * 10 + (unsigned long)(*p++ - '0');
        }
        p++;
        if (kind >= 0 && slot >= FIRST_SLOT && slot < FIRST_SLOT + SLOTS && line_end - p == 2 * HASH_LEN) {
            store_entry *e = &store[kind][slot - FIRST_SLOT];
            bool good = true;
            for (int i = 0; i < HASH_LEN; i++) {
                int hi = hex_digit(p[2 * i]);
                int lo = hex_digit(p[2 * i + 1]);
                good = good && hi >= 0 && lo >= 0;
                e->hash[i] = (uint8_t)((hi << 4) | lo);
            }
            e->used = good;
            e->stamp = (uint32_t)stamp;
            if (e->stamp > store_clock) {
                store_clock = e->stamp;
            }
        }
        text = line_end + 1;
    }
}

static void store_load(void) {
    if (store_loaded) {
        return;
    }
    store_loaded = true;
    memset(store, 0, sizeof(store));
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t f = open_file(store_path, strlen(store_path), "r");
        mp_obj_t text = call0(f, MP_QSTR_read);
        call0(f, MP_QSTR_close);
        size_t len;
        const char *data = mp_obj_str_get_data(text, &len);
        store_parse(data, len);
        nlr_pop();
    }
    /* No file yet (or unreadable): nothing is known to be in the modem. */
}

/* Best effort: a store that cannot be written costs a rewrite next time. */
static void store_save(void) {
    vstr_t text;
    vstr_init(&text, 128);
    static const char hex[] = "0123456789abcdef";
    for (int kind = 0; kind < 2; kind++) {
        for (int i = 0; i < SLOTS; i++) {
            const store_entry *e = &store[kind][i];
            if (!e->used) {
                continue;
            }
            vstr_printf(&text, "%c %d %u ", kind ? 'k' : 'c', FIRST_SLOT + i, (unsigned)e->stamp);
            for (int b = 0; b < HASH_LEN; b++) {
                vstr_add_byte(&text, (byte)hex[e->hash[b] >> 4]);
                vstr_add_byte(&text, (byte)hex[e->hash[b] & 15]);
            }
            vstr_add_byte(&text, '\n');
        }
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t f = open_file(store_path, strlen(store_path), "w");
        call1(f, MP_QSTR_write, mp_obj_new_str(text.buf, text.len));
        call0(f, MP_QSTR_close);
        nlr_pop();
    }
    vstr_clear(&text);
}

NORETURN static void raise_text(int errno_value, vstr_t *message) {
    mp_obj_t args[2] = { MP_OBJ_NEW_SMALL_INT(errno_value), mp_obj_new_str(message->buf, message->len) };
    nlr_raise(mp_obj_new_exception_args(&mp_type_OSError, 2, args));
}

/* Writes `pem` into slot `slot` of the modem: AT+SQNSNVW, its prompt, then
 * pieces. Returns 0 or a core errno. */
static int32_t write_credential(bool private_key, int slot, const uint8_t *pem, size_t len) {
    mas_outcome out;
    masg_op_enter(true);
    int32_t err = masg_op_finish(mas_cred_write_begin(private_key, (uint8_t)slot, (uint16_t)len), &out);
    size_t done = 0;
    while (err == 0 && done < len) {
        size_t taken = 0;
        err = masg_op_finish(mas_cred_piece_begin(pem + done, len - done, LF_TERMINATOR, &taken), &out);
        done += taken;
    }
    masg_op_leave();
    return err;
}

/* The modem slot holding `pem`, written there first if no slot holds it.
 * `avoid`: a slot this connection already uses for another credential. */
static int ensure_credential(bool private_key, const uint8_t *pem, size_t len, int avoid, const char *what, bool *known) {
    uint8_t hash[HASH_LEN];
    (void)mas_cred_fingerprint(pem, len, private_key, hash);
    store_load();
    store_entry *entries = store[private_key];
    int pick = -1;
    for (int i = 0; i < SLOTS; i++) {
        if (entries[i].used && memcmp(entries[i].hash, hash, HASH_LEN) == 0) {
            entries[i].stamp = ++store_clock;
            *known = true;
            return FIRST_SLOT + i;
        }
    }
    for (int i = 0; i < SLOTS && pick < 0; i++) {
        if (!entries[i].used && FIRST_SLOT + i != avoid) {
            pick = i;
        }
    }
    for (int i = 0; i < SLOTS && pick < 0; i++) {
        if (FIRST_SLOT + i != avoid && (pick < 0 || entries[i].stamp < entries[pick].stamp)) {
            pick = i;
        }
    }
    /* Whatever happens next, the slot no longer holds what the store said. */
    entries[pick].used = false;
    int32_t err = write_credential(private_key, FIRST_SLOT + pick, pem, len);
    if (err != 0) {
        store_save();
        vstr_t msg;
        vstr_init(&msg, 96);
        vstr_printf(&msg, "the modem did not store %s (AT+SQNSNVW)%s", what,
            err == MAS_EMSGSIZE ? ": a PEM line is longer than one command of this transport" : "");
        raise_text(err == MAS_EMSGSIZE ? masg_errno(err) : MP_EIO, &msg);
    }
    entries[pick].used = true;
    entries[pick].stamp = ++store_clock;
    memcpy(entries[pick].hash, hash, HASH_LEN);
    store_save();
    return FIRST_SLOT + pick;
}

/* The store said the modem holds the credential in `slot`, and the modem says otherwise. */
static void store_drop(bool private_key, int slot) {
    if (slot >= FIRST_SLOT && slot < FIRST_SLOT + SLOTS) {
        store[private_key][slot - FIRST_SLOT].used = false;
    }
}

/* ---- credentials from the caller ------------------------------------------- */

/* `src` as PEM text with LF line ends (CR dropped), from the first
 * "-----BEGIN" on, ending in LF: bytes, or the path of a file. */
static void load_pem(mp_obj_t src, const char *what, bool private_key, vstr_t *pem) {
    mp_buffer_info_t buf;
    mp_obj_t data = src;
    if (mp_obj_is_str(src)) {
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            size_t len;
            const char *path = mp_obj_str_get_data(src, &len);
            mp_obj_t f = open_file(path, len, "rb");
            data = call0(f, MP_QSTR_read);
            call0(f, MP_QSTR_close);
            nlr_pop();
        } else {
            vstr_t msg;
            vstr_init(&msg, 64);
            vstr_printf(&msg, "%s: cannot read the file %s", what, mp_obj_str_get_str(src));
            raise_text(MP_ENOENT, &msg);
        }
    }
    if (!mp_get_buffer(data, &buf, MP_BUFFER_READ)) {
        mp_raise_TypeError(MP_ERROR_TEXT("certificates and keys are file paths or bytes"));
    }
    const char *text = buf.buf;
    const char *begin = NULL;
    for (size_t i = 0; i + 10 <= buf.len; i++) {
        if (memcmp(text + i, "-----BEGIN", 10) == 0) {
            begin = text + i;
            break;
        }
    }
    vstr_init(pem, buf.len + 1);
    if (begin != NULL) {
        for (const char *p = begin; p < text + buf.len; p++) {
            if (*p != '\r') {
                vstr_add_byte(pem, (byte)*p);
            }
        }
        if (pem->len > 0 && pem->buf[pem->len - 1] != '\n') {
            vstr_add_byte(pem, '\n');
        }
    }
    int32_t err = mas_cred_check((const uint8_t *)pem->buf, pem->len, private_key);
    if (err != 0) {
        vstr_t msg;
        vstr_init(&msg, 64);
        vstr_printf(&msg, "%s is not %s", what,
            err == MAS_EMSGSIZE ? (private_key ? "a PEM key of at most 2 KiB" : "a PEM certificate file of at most 8 KiB")
                                : (private_key ? "a PEM private key" : "a PEM certificate"));
        raise_text(MP_EINVAL, &msg);
    }
}

/* ---- wrapping ---------------------------------------------------------------- */

typedef struct {
    mp_obj_t ca;       /* MP_OBJ_NULL or None: absent */
    mp_obj_t cert;
    mp_obj_t key;
    mp_obj_t hostname;
    int cert_reqs;
    bool check_hostname;
} wrap_request;

static bool given(mp_obj_t o) {
    return o != MP_OBJ_NULL && o != mp_const_none;
}

static void close_socket(mp_obj_t sock) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        call0(sock, MP_QSTR_close);
        nlr_pop();
    }
}

static void secure(mp_obj_t sock, const wrap_request *r) {
    mas_handle handle;
    if (!masg_stream_handle(sock, &handle)) {
        mp_raise_TypeError(MP_ERROR_TEXT("wrap_socket takes an open microATsocket stream socket"));
    }
    mas_addr peer;
    masg_op_enter(true);
    int32_t err = mas_stream_peer(handle, &peer);
    masg_op_leave();
    if (err != 0) {
        masg_raise_msg(masg_errno(err), "connect() the socket before wrapping it");
    }
    if (given(r->cert) != given(r->key)) {
        masg_raise_msg(MP_EINVAL, "certfile and keyfile go together");
    }
    if (r->cert_reqs != CERT_NONE && !given(r->ca)) {
        masg_raise_msg(MP_EINVAL, "cert_reqs=CERT_REQUIRED needs ca_certs (load_verify_locations)");
    }
    /* Every credential is read and checked before anything reaches the modem. */
    vstr_t ca, cert, key;
    vstr_init(&ca, 0);
    vstr_init(&cert, 0);
    vstr_init(&key, 0);
    if (given(r->ca)) {
        load_pem(r->ca, "ca_certs", false, &ca);
    }
    if (given(r->cert)) {
        load_pem(r->cert, "certfile", false, &cert);
        load_pem(r->key, "keyfile", true, &key);
    }
    const char *host = NULL;
    size_t host_len = 0;
    bool host_is_address = false;
    if (given(r->hostname)) {
        host = mp_obj_str_get_data(r->hostname, &host_len);
        mas_addr literal;
        host_is_address = mas_addr_parse(host, host_len, 0, &literal) == 0;
        if (!host_is_address && !masg_is_host_name(host, host_len)) {
            mp_raise_ValueError(MP_ERROR_TEXT("server_hostname is not a host name"));
        }
    }
    mas_secure params = { MAS_TLS_LEVEL_NONE, -1, -1, -1 };
    if (r->cert_reqs != CERT_NONE) {
        /* The modem cannot report "unverified": CERT_OPTIONAL is checked as CERT_REQUIRED. */
        params.level = (host != NULL && r->check_hostname) ? MAS_TLS_LEVEL_CA_DATES_AND_NAME : MAS_TLS_LEVEL_CA_AND_DATES;
    }
    /* A name is dialled as a name: the modem resolves it, sends it (SNI) and checks it. */
    const char *dial_name = host_is_address ? NULL : host;
    /* Two rounds at most: if the modem refuses the dial (a profile naming an empty slot)
     * after credentials were taken from the store unwritten, the store was wrong (a modem
     * factory reset): write them again and dial once more. */
    for (int round = 0;; round++) {
        bool known = false;
        if (given(r->ca)) {
            params.ca_slot = (int16_t)ensure_credential(false, (const uint8_t *)ca.buf, ca.len, -1, "the CA certificate", &known);
        }
        if (given(r->cert)) {
            params.cert_slot = (int16_t)ensure_credential(false, (const uint8_t *)cert.buf, cert.len, params.ca_slot, "the client certificate", &known);
            params.key_slot = (int16_t)ensure_credential(true, (const uint8_t *)key.buf, key.len, -1, "the private key", &known);
        }
        mas_outcome out;
        masg_op_enter(true);
        err = masg_op_finish(mas_secure_connect_begin(handle, &peer, dial_name, dial_name ? host_len : 0, &params), &out);
        masg_op_leave();
        if (err == MAS_EAGAIN) {
            masg_raise_msg(MP_EAGAIN, "the modem's clock is not set (AT+CCLK? reads a year before 2020), so "
                "certificate dates cannot be checked: try again once the network has set it");
        }
        if (err != MAS_EIO || !known || round > 0) {
            break;
        }
        store_drop(false, params.ca_slot);
        store_drop(false, params.cert_slot);
        store_drop(true, params.key_slot);
        store_save();
    }
    vstr_clear(&ca);
    vstr_clear(&cert);
    vstr_clear(&key);
    if (err == MAS_ECONNABORTED) {
        masg_raise_msg(masg_errno(err), "TLS handshake failed: the server's certificate is not trusted by ca_certs, "
            "has expired, or names another host, or no protocol or cipher is common (the modem does not say which)");
    }
    if (err != 0) {
        masg_raise(err);
    }
}

/* Wraps `sock` in place and returns it; on any failure the socket is closed
 * (its modem slot freed) and the error raised. */
static mp_obj_t wrap(mp_obj_t sock, const wrap_request *r) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        secure(sock, r);
        nlr_pop();
        return sock;
    }
    close_socket(sock);
    nlr_jump(nlr.ret_val);
}

// function ssl.wrap_socket(sock, keyfile=None, certfile=None, server_side=False,
//     cert_reqs=CERT_NONE, ssl_version=0, ca_certs=None, server_hostname=None,
//     saved_session=None, timeout=None, do_handshake=True): Pycom's ussl signature
static mp_obj_t ssl_wrap_socket(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_sock, ARG_keyfile, ARG_certfile, ARG_server_side, ARG_cert_reqs, ARG_ssl_version, ARG_ca_certs,
           ARG_server_hostname, ARG_saved_session, ARG_timeout, ARG_do_handshake };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_sock, MP_ARG_REQUIRED | MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_keyfile, MP_ARG_OBJ, { .u_obj = mp_const_none } },
        { MP_QSTR_certfile, MP_ARG_OBJ, { .u_obj = mp_const_none } },
        { MP_QSTR_server_side, MP_ARG_BOOL, { .u_bool = false } },
        { MP_QSTR_cert_reqs, MP_ARG_INT, { .u_int = CERT_NONE } },
        { MP_QSTR_ssl_version, MP_ARG_OBJ, { .u_obj = mp_const_none } },
        { MP_QSTR_ca_certs, MP_ARG_OBJ, { .u_obj = mp_const_none } },
        { MP_QSTR_server_hostname, MP_ARG_OBJ, { .u_obj = mp_const_none } },
        { MP_QSTR_saved_session, MP_ARG_OBJ, { .u_obj = mp_const_none } },
        { MP_QSTR_timeout, MP_ARG_OBJ, { .u_obj = mp_const_none } },
        { MP_QSTR_do_handshake, MP_ARG_BOOL, { .u_bool = true } },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed), allowed, args);
    if (args[ARG_server_side].u_bool) {
        close_socket(args[ARG_sock].u_obj);
        masg_raise_msg(MP_EOPNOTSUPP, "the modem's TLS is client-only: server_side is not supported");
    }
    mp_int_t reqs = args[ARG_cert_reqs].u_int;
    if (reqs < CERT_NONE || reqs > CERT_REQUIRED) {
        mp_raise_ValueError(MP_ERROR_TEXT("cert_reqs must be CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED"));
    }
    wrap_request r = {
        .ca = args[ARG_ca_certs].u_obj,
        .cert = args[ARG_certfile].u_obj,
        .key = args[ARG_keyfile].u_obj,
        .hostname = args[ARG_server_hostname].u_obj,
        .cert_reqs = (int)reqs,
        .check_hostname = true,
    };
    return wrap(args[ARG_sock].u_obj, &r);
}
MP_DEFINE_CONST_FUN_OBJ_KW(masg_ssl_wrap_socket_obj, 1, ssl_wrap_socket);

/* ---- SSLContext ---------------------------------------------------------------- */

typedef struct {
    mp_obj_base_t base;
    mp_obj_t ca;
    mp_obj_t cert;
    mp_obj_t key;
    int verify_mode;
    bool check_hostname;
} context_obj_t;

extern const mp_obj_type_t masg_context_type;

// class ssl.SSLContext(protocol=PROTOCOL_TLS_CLIENT): verify_mode CERT_REQUIRED and
// check_hostname True, as CPython's client contexts
static mp_obj_t context_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 1, false);
    mp_int_t protocol = n_args > 0 ? mp_obj_get_int(args[0]) : PROTOCOL_TLS_CLIENT;
    if (protocol != PROTOCOL_TLS_CLIENT) {
        masg_raise_msg(MP_EOPNOTSUPP, "the modem's TLS is client-only: use PROTOCOL_TLS_CLIENT");
    }
    context_obj_t *self = m_new_obj(context_obj_t);
    self->base.type = type;
    self->ca = mp_const_none;
    self->cert = mp_const_none;
    self->key = mp_const_none;
    self->verify_mode = CERT_REQUIRED;
    self->check_hostname = true;
    return MP_OBJ_FROM_PTR(self);
}

static void context_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    (void)kind;
    context_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_printf(print, "<SSLContext verify_mode=%d>", self->verify_mode);
}

// method SSLContext.load_verify_locations(cafile=None, capath=None, cadata=None)
static mp_obj_t context_load_verify_locations(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_cafile, ARG_capath, ARG_cadata };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_cafile, MP_ARG_OBJ, { .u_obj = mp_const_none } },
        { MP_QSTR_capath, MP_ARG_OBJ, { .u_obj = mp_const_none } },
        { MP_QSTR_cadata, MP_ARG_OBJ, { .u_obj = mp_const_none } },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed), allowed, args);
    context_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    if (given(args[ARG_capath].u_obj)) {
        masg_raise_msg(MP_EOPNOTSUPP, "capath is not supported: pass one PEM file (it may hold several certificates)");
    }
    mp_obj_t ca = given(args[ARG_cadata].u_obj) ? args[ARG_cadata].u_obj : args[ARG_cafile].u_obj;
    if (!given(ca)) {
        mp_raise_TypeError(MP_ERROR_TEXT("cafile or cadata is required"));
    }
    self->ca = ca;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(context_load_verify_locations_obj, 1, context_load_verify_locations);

// method SSLContext.load_cert_chain(certfile, keyfile=None): keyfile None means the key is
// in certfile
static mp_obj_t context_load_cert_chain(size_t n_args, const mp_obj_t *args) {
    context_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    self->cert = args[1];
    self->key = n_args > 2 && args[2] != mp_const_none ? args[2] : args[1];
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(context_load_cert_chain_obj, 2, 3, context_load_cert_chain);

// method SSLContext.wrap_socket(sock, server_side=False, do_handshake_on_connect=True,
//     server_hostname=None)
static mp_obj_t context_wrap_socket(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_sock, ARG_server_side, ARG_do_handshake_on_connect, ARG_server_hostname };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_sock, MP_ARG_REQUIRED | MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_server_side, MP_ARG_BOOL, { .u_bool = false } },
        { MP_QSTR_do_handshake_on_connect, MP_ARG_BOOL, { .u_bool = true } },
        { MP_QSTR_server_hostname, MP_ARG_OBJ, { .u_obj = mp_const_none } },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed), allowed, args);
    context_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    if (args[ARG_server_side].u_bool) {
        close_socket(args[ARG_sock].u_obj);
        masg_raise_msg(MP_EOPNOTSUPP, "the modem's TLS is client-only: server_side is not supported");
    }
    wrap_request r = {
        .ca = self->ca,
        .cert = self->cert,
        .key = self->key,
        .hostname = args[ARG_server_hostname].u_obj,
        .cert_reqs = self->verify_mode,
        .check_hostname = self->check_hostname,
    };
    return wrap(args[ARG_sock].u_obj, &r);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(context_wrap_socket_obj, 2, context_wrap_socket);

static void context_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    context_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (attr == MP_QSTR_verify_mode || attr == MP_QSTR_check_hostname) {
        if (dest[0] == MP_OBJ_NULL) {
            dest[0] = attr == MP_QSTR_verify_mode ? MP_OBJ_NEW_SMALL_INT(self->verify_mode)
                                                  : mp_obj_new_bool(self->check_hostname);
            return;
        }
        if (dest[0] == MP_OBJ_SENTINEL && dest[1] != MP_OBJ_NULL) {
            if (attr == MP_QSTR_verify_mode) {
                mp_int_t mode = mp_obj_get_int(dest[1]);
                if (mode < CERT_NONE || mode > CERT_REQUIRED) {
                    mp_raise_ValueError(MP_ERROR_TEXT("verify_mode must be CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED"));
                }
                self->verify_mode = (int)mode;
            } else {
                self->check_hostname = mp_obj_is_true(dest[1]);
            }
            dest[0] = MP_OBJ_NULL;
            return;
        }
    }
    mpcompat_attr_continue(self_in, attr, dest);
}

static const mp_rom_map_elem_t context_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_load_verify_locations), MP_ROM_PTR(&context_load_verify_locations_obj) },
    { MP_ROM_QSTR(MP_QSTR_load_cert_chain), MP_ROM_PTR(&context_load_cert_chain_obj) },
    { MP_ROM_QSTR(MP_QSTR_wrap_socket), MP_ROM_PTR(&context_wrap_socket_obj) },
};
static MP_DEFINE_CONST_DICT(context_locals_dict, context_locals_table);

MPCOMPAT_DEFINE_STREAM_TYPE(
    masg_context_type,
    MP_QSTR_SSLContext,
    context_make_new,
    context_print,
    context_attr,
    NULL,
    &context_locals_dict
    );

/* ---- the module -------------------------------------------------------------- */

// function ssl.store([path]): the file that keeps the fingerprints of what the modem holds
static mp_obj_t ssl_store(size_t n_args, const mp_obj_t *args) {
    if (n_args == 0) {
        return mp_obj_new_str(store_path, strlen(store_path));
    }
    size_t len;
    const char *path = mp_obj_str_get_data(args[0], &len);
    if (len == 0 || len >= PATH_CAP) {
        mp_raise_ValueError(MP_ERROR_TEXT("store path must be 1 to 127 characters"));
    }
    memcpy(store_path, path, len);
    store_path[len] = '\0';
    store_loaded = false;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(ssl_store_obj, 0, 1, ssl_store);

// function ssl.forget(): nothing is known to be in the modem (after a modem factory reset)
static mp_obj_t ssl_forget(void) {
    memset(store, 0, sizeof(store));
    store_loaded = true;
    store_save();
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(ssl_forget_obj, ssl_forget);

static const mp_rom_map_elem_t ssl_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_ssl) },
    { MP_ROM_QSTR(MP_QSTR_wrap_socket), MP_ROM_PTR(&masg_ssl_wrap_socket_obj) },
    { MP_ROM_QSTR(MP_QSTR_SSLContext), MP_ROM_PTR(&masg_context_type) },
    { MP_ROM_QSTR(MP_QSTR_store), MP_ROM_PTR(&ssl_store_obj) },
    { MP_ROM_QSTR(MP_QSTR_forget), MP_ROM_PTR(&ssl_forget_obj) },
    { MP_ROM_QSTR(MP_QSTR_CERT_NONE), MP_ROM_INT(CERT_NONE) },
    { MP_ROM_QSTR(MP_QSTR_CERT_OPTIONAL), MP_ROM_INT(CERT_OPTIONAL) },
    { MP_ROM_QSTR(MP_QSTR_CERT_REQUIRED), MP_ROM_INT(CERT_REQUIRED) },
    { MP_ROM_QSTR(MP_QSTR_PROTOCOL_TLS_CLIENT), MP_ROM_INT(PROTOCOL_TLS_CLIENT) },
    { MP_ROM_QSTR(MP_QSTR_PROTOCOL_TLS_SERVER), MP_ROM_INT(PROTOCOL_TLS_SERVER) },
};
static MP_DEFINE_CONST_DICT(ssl_globals, ssl_globals_table);

const mp_obj_module_t masg_ssl_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&ssl_globals,
};

/* The board self-check's certificate probe (probe.c): one write into a test
 * slot the store never uses, or a delete (len 0). Returns 0 or a core errno. */
int32_t masg_ssl_write_test_slot(int slot, const uint8_t *pem, size_t len) {
    return write_credential(false, slot, pem, len);
}
