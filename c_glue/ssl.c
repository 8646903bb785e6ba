/*
 * TLS in the modem: wrap_socket and SSLContext, as microATsocket.ssl (point
 * sys.modules['ssl'], ['ussl'] or ['tls'] at it) and microATsocket.wrap_socket.
 *
 * The Monarch does the TLS itself (src/engine/secure.rs): wrapping a stream
 * writes the credentials it needs into the modem (only when the store says
 * the modem does not hold them), then dials the connection with TLS: at once
 * for a connected stream (re-dialled: nothing has been sent on the plain
 * connection yet, as umqtt and urequests connect, then wrap), or at connect()
 * for a stream wrapped before it connected (CPython's order: one dial).
 *
 * Which slot holds what, which slot to write, when a credential is trusted
 * and when a failed dial is retried are the core's rules (src/tls_store.rs);
 * ssl_store.c keeps the store's file, ssl_creds.c turns the caller's paths,
 * PEM and DER into checked PEM. Any failure inside a wrap closes the socket,
 * so nothing can go out in clear after a wrap that did not happen.
 */
#include <string.h>

#include "py/builtin.h"
#include "py/mperrno.h"
#include "py/runtime.h"
#include "py/stream.h"

#include "mas_glue.h"
#include "ssl_internal.h"

#define CERT_NONE (0)
#define CERT_OPTIONAL (1)
#define CERT_REQUIRED (2)
#define PROTOCOL_TLS_CLIENT (0)
#define PROTOCOL_TLS_SERVER (1)

/* certValidLevel as LR5 reads it: MAS_TLS_LEVEL_* in microatsocket.h. */

static void call0(mp_obj_t obj, qstr method) {
    mp_obj_t dest[2];
    mp_load_method(obj, method, dest);
    mp_call_method_n_kw(0, 0, dest);
}

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

NORETURN static void refuse_server_side(void) {
    masg_raise_msg(MP_EOPNOTSUPP, "the modem is a TLS client only: server_side=True is not supported");
}

/* ---- the request ------------------------------------------------------------- */

/* What the caller asked for, as given. */
typedef struct {
    mp_obj_t ca;       /* MP_OBJ_NULL or None: absent */
    mp_obj_t cert;
    mp_obj_t key;
    mp_obj_t hostname;
    int cert_reqs;
    bool check_hostname;
} wrap_request;

/* The request checked and its credentials read: all that is left is the modem.
 * On the GC heap (a stream wrapped before connect() keeps it until then). */
typedef struct {
    vstr_t ca, cert, key; /* len 0: absent */
    mp_obj_t host;        /* a str, or MP_OBJ_NULL */
    bool dial_by_name;
    uint8_t level;
} prepared_wrap;

static prepared_wrap *prepare(const wrap_request *r) {
    if (given(r->cert) != given(r->key)) {
        masg_raise_msg(MP_EINVAL, "certfile and keyfile (cert and key) go together");
    }
    if (r->cert_reqs != CERT_NONE && !given(r->ca)) {
        masg_raise_msg(MP_EINVAL, "cert_reqs=CERT_REQUIRED needs ca_certs or cadata (load_verify_locations)");
    }
    prepared_wrap *p = m_new0(prepared_wrap, 1);
    p->host = MP_OBJ_NULL;
    /* Every credential is read and checked before anything reaches the modem. */
    if (given(r->ca)) {
        masg_cred_load(r->ca, "ca_certs", false, &p->ca);
    }
    if (given(r->cert)) {
        masg_cred_load(r->cert, "certfile", false, &p->cert);
        masg_cred_load(r->key, "keyfile", true, &p->key);
    }
    bool host_is_address = false;
    if (given(r->hostname)) {
        if (!mp_obj_is_str(r->hostname)) {
            mp_raise_TypeError(MP_ERROR_TEXT("server_hostname must be a str"));
        }
        size_t len;
        const char *host = mp_obj_str_get_data(r->hostname, &len);
        mas_addr literal;
        host_is_address = mas_addr_parse(host, len, 0, &literal) == 0;
        if (!host_is_address && !masg_is_host_name(host, len)) {
            mp_raise_ValueError(MP_ERROR_TEXT("server_hostname is not a host name"));
        }
        p->host = r->hostname;
    }
    p->level = MAS_TLS_LEVEL_NONE;
    if (r->cert_reqs != CERT_NONE) {
        /* The modem cannot report "unverified": CERT_OPTIONAL is checked as CERT_REQUIRED. */
        p->level = (p->host != MP_OBJ_NULL && r->check_hostname) ? MAS_TLS_LEVEL_CA_DATES_AND_NAME : MAS_TLS_LEVEL_CA_AND_DATES;
    }
    /* A name is dialled as a name: the modem resolves it, sends it (SNI) and checks it. */
    p->dial_by_name = p->host != MP_OBJ_NULL && !host_is_address;
    return p;
}

/* ---- credentials into the modem ------------------------------------------------ */

/* Writes `pem` into slot `slot` of the modem: AT+SQNSNVW, its prompt, then
 * pieces. Returns 0 or a core errno. An exception on the way leaves the core
 * owing the modem the rest of the upload, which it pays before the next
 * command (src/engine/secure.rs). */
static int32_t write_credential(bool private_key, int slot, const vstr_t *pem) {
    mas_outcome out;
    masg_op_enter(true);
    int32_t err = masg_op_finish(mas_cred_write_begin(private_key, (uint8_t)slot, (uint16_t)pem->len, MASG_SSL_LF_TERMINATOR), &out);
    size_t done = 0;
    while (err == 0 && done < pem->len) {
        size_t taken = 0;
        err = masg_op_finish(mas_cred_piece_begin((const uint8_t *)pem->buf + done, pem->len - done, MASG_SSL_LF_TERMINATOR, &taken), &out);
        done += taken;
    }
    masg_op_leave();
    return err;
}

/* One credential of a wrap: where the store put it and what was done. */
typedef struct {
    const vstr_t *pem;
    const char *what;
    bool private_key;
    int slot;   /* -1: not claimed */
    int action; /* MAS_CLAIM_* */
} cred_use;

#define USES (3)

static void write_claimed(cred_use *u) {
    /* The slot is out of the file before the modem sees a byte of it. */
    masg_store_save();
    int32_t err = write_credential(u->private_key, u->slot, u->pem);
    masg_store_written(u->private_key, u->slot, err == 0);
    masg_store_save();
    if (err != 0) {
        vstr_t msg;
        vstr_init(&msg, 96);
        vstr_printf(&msg, "the modem did not store %s (AT+SQNSNVW)", u->what);
        masg_ssl_raise_text(err == MAS_EMSGSIZE ? masg_errno(err) : MP_EIO, &msg);
    }
    u->action = MAS_CLAIM_HELD;
}

static void claim(cred_use *u, int avoid) {
    mas_claim c;
    if (masg_store_claim(u->private_key, u->pem, avoid, &c) != 0) {
        masg_raise_msg(MP_EBUSY, "the modem's four credential slots are all in use by TLS wraps in progress: "
            "try again when one has connected");
    }
    u->slot = c.slot;
    u->action = (int)c.action;
    if (u->action == MAS_CLAIM_WRITE) {
        write_claimed(u);
    }
}

static int32_t dial_once(mas_handle handle, const mas_addr *peer, const prepared_wrap *p, const cred_use *uses) {
    mas_secure params = { p->level, (int16_t)uses[0].slot, (int16_t)uses[1].slot, (int16_t)uses[2].slot };
    size_t host_len = 0;
    const char *host = p->dial_by_name ? mp_obj_str_get_data(p->host, &host_len) : NULL;
    mas_outcome out;
    masg_op_enter(true);
    int32_t err = masg_op_finish(mas_secure_connect_begin(handle, peer, host, host_len, &params), &out);
    masg_op_leave();
    return err;
}

/* Claims, writes what the modem lacks, dials; once more after writing again
 * what only the store's file vouched for, when the core says so. */
static int32_t dial_rounds(mas_handle handle, const mas_addr *peer, const prepared_wrap *p, cred_use *uses) {
    masg_store_load();
    for (int i = 0; i < USES; i++) {
        if (uses[i].pem->len > 0) {
            /* The client certificate never shares the CA's slot. */
            claim(&uses[i], i == 1 ? uses[0].slot : -1);
        }
    }
    for (uint8_t round = 0;; round++) {
        int32_t err = dial_once(handle, peer, p, uses);
        bool unconfirmed = false;
        for (int i = 0; i < USES; i++) {
            if (uses[i].slot < 0) {
                continue;
            }
            if (err == 0) {
                masg_store_confirm(uses[i].private_key, uses[i].slot);
            }
            unconfirmed = unconfirmed || uses[i].action == MAS_CLAIM_HELD_UNCONFIRMED;
        }
        int32_t verdict = mas_tls_after_dial(err, unconfirmed, round);
        if (verdict != MAS_DIAL_RETRY_UNCONFIRMED && verdict != MAS_DIAL_RETRY_ALL) {
            return err;
        }
        for (int i = 0; i < USES; i++) {
            bool suspect = verdict == MAS_DIAL_RETRY_ALL || uses[i].action == MAS_CLAIM_HELD_UNCONFIRMED;
            if (uses[i].slot >= 0 && suspect && masg_store_rewrite(uses[i].private_key, uses[i].slot)) {
                write_claimed(&uses[i]);
            }
        }
    }
}

static void release(cred_use *uses) {
    for (int i = 0; i < USES; i++) {
        if (uses[i].slot >= 0) {
            masg_store_release(uses[i].private_key, uses[i].slot);
            uses[i].slot = -1;
        }
    }
}

/* The secure dial of `handle` to `peer`; raises on failure. */
static void secure_dial(mas_handle handle, const mas_addr *peer, const prepared_wrap *p) {
    cred_use uses[USES] = {
        { &p->ca, "the CA certificate", false, -1, 0 },
        { &p->cert, "the client certificate", false, -1, 0 },
        { &p->key, "the private key", true, -1, 0 },
    };
    int32_t err;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        err = dial_rounds(handle, peer, p, uses);
        nlr_pop();
    } else {
        /* Slots this wrap pinned are free again; one it was writing is unknown. */
        release(uses);
        nlr_jump(nlr.ret_val);
    }
    release(uses);
    if (err == MAS_EAGAIN) {
        masg_raise_msg(MP_EAGAIN, "the modem's clock is not set (AT+CCLK? reads a year before 2020), so "
            "certificate dates cannot be checked: try again once the network has set it");
    }
    if (err == MAS_ECONNABORTED) {
        masg_raise_msg(masg_errno(err), "TLS handshake failed: the server's certificate is not trusted by ca_certs, "
            "has expired, or names another host, or no protocol or cipher is common (the modem does not say which)");
    }
    if (err != 0) {
        masg_raise(err);
    }
}

/* ---- wrapping ---------------------------------------------------------------- */

/* connect() of a stream wrapped before it connected (masg_stream_defer_dial). */
static void dial_at_connect(mp_obj_t sock, mp_obj_t request, const mas_addr *peer) {
    mas_handle handle;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        if (!masg_stream_handle(sock, &handle)) {
            mp_raise_OSError(MP_EBADF);
        }
        secure_dial(handle, peer, MP_OBJ_TO_PTR(request));
        nlr_pop();
        return;
    }
    close_socket(sock);
    nlr_jump(nlr.ret_val);
}

static void secure(mp_obj_t sock, const wrap_request *r) {
    mas_handle handle;
    if (!masg_stream_handle(sock, &handle)) {
        mp_raise_TypeError(MP_ERROR_TEXT("wrap_socket takes an open microATsocket stream socket"));
    }
    prepared_wrap *p = prepare(r);
    mas_addr peer;
    masg_op_enter(true);
    int32_t err = mas_stream_peer(handle, &peer);
    masg_op_leave();
    if (err == 0) {
        secure_dial(handle, &peer, p);
        return;
    }
    /* Not connected yet: the secure dial happens at connect(), one dial instead of two. */
    if (!masg_stream_defer_dial(sock, dial_at_connect, MP_OBJ_FROM_PTR(p))) {
        masg_raise_msg(masg_errno(err), "wrap a stream socket before connect() or once it is connected, "
            "not a listening or closed one");
    }
}

// function ssl.wrap_socket(sock, keyfile=None, certfile=None, server_side=False,
//     cert_reqs=CERT_NONE, ssl_version=None, ca_certs=None, server_hostname=None,
//     saved_session=None, timeout=None, do_handshake=True, *, key=None, cert=None,
//     cadata=None): Pycom's ussl keywords and MicroPython's ssl ones
static mp_obj_t ssl_wrap_socket_checked(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_sock, ARG_keyfile, ARG_certfile, ARG_server_side, ARG_cert_reqs, ARG_ssl_version, ARG_ca_certs,
           ARG_server_hostname, ARG_saved_session, ARG_timeout, ARG_do_handshake, ARG_key, ARG_cert, ARG_cadata };
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
        { MP_QSTR_key, MP_ARG_KW_ONLY | MP_ARG_OBJ, { .u_obj = mp_const_none } },
        { MP_QSTR_cert, MP_ARG_KW_ONLY | MP_ARG_OBJ, { .u_obj = mp_const_none } },
        { MP_QSTR_cadata, MP_ARG_KW_ONLY | MP_ARG_OBJ, { .u_obj = mp_const_none } },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed), allowed, args);
    if (args[ARG_server_side].u_bool) {
        refuse_server_side();
    }
    mp_int_t reqs = args[ARG_cert_reqs].u_int;
    if (reqs < CERT_NONE || reqs > CERT_REQUIRED) {
        mp_raise_ValueError(MP_ERROR_TEXT("cert_reqs must be CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED"));
    }
    /* The two spellings of each credential are one argument. */
    if ((given(args[ARG_keyfile].u_obj) && given(args[ARG_key].u_obj))
        || (given(args[ARG_certfile].u_obj) && given(args[ARG_cert].u_obj))
        || (given(args[ARG_ca_certs].u_obj) && given(args[ARG_cadata].u_obj))) {
        mp_raise_TypeError(MP_ERROR_TEXT("keyfile/key, certfile/cert and ca_certs/cadata are two spellings of one argument: give one"));
    }
    wrap_request r = {
        .ca = given(args[ARG_cadata].u_obj) ? args[ARG_cadata].u_obj : args[ARG_ca_certs].u_obj,
        .cert = given(args[ARG_cert].u_obj) ? args[ARG_cert].u_obj : args[ARG_certfile].u_obj,
        .key = given(args[ARG_key].u_obj) ? args[ARG_key].u_obj : args[ARG_keyfile].u_obj,
        .hostname = args[ARG_server_hostname].u_obj,
        .cert_reqs = (int)reqs,
        .check_hostname = true,
    };
    secure(args[ARG_sock].u_obj, &r);
    return args[ARG_sock].u_obj;
}

/* The socket a wrap call names, found without parsing (parsing may be what fails). */
static mp_obj_t sock_argument(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args, size_t index) {
    if (n_args > index) {
        return pos_args[index];
    }
    mp_map_elem_t *e = kw_args == NULL ? NULL : mp_map_lookup(kw_args, MP_OBJ_NEW_QSTR(MP_QSTR_sock), MP_MAP_LOOKUP);
    return e == NULL ? MP_OBJ_NULL : e->value;
}

typedef mp_obj_t (*wrap_fn)(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args);

/* Any failure inside a wrap, bad arguments included, closes the socket: a
 * plain connection must never be left open to be written in clear. */
static mp_obj_t wrap_or_close(wrap_fn fn, size_t sock_index, size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t sock = fn(n_args, pos_args, kw_args);
        nlr_pop();
        return sock;
    }
    mp_obj_t sock = sock_argument(n_args, pos_args, kw_args, sock_index);
    if (sock != MP_OBJ_NULL) {
        close_socket(sock);
    }
    nlr_jump(nlr.ret_val);
}

static mp_obj_t ssl_wrap_socket(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    return wrap_or_close(ssl_wrap_socket_checked, 0, n_args, pos_args, kw_args);
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
//     suppress_ragged_eofs=True, server_hostname=None, session=None)
static mp_obj_t context_wrap_socket_checked(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_sock, ARG_server_side, ARG_do_handshake_on_connect, ARG_suppress_ragged_eofs, ARG_server_hostname, ARG_session };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_sock, MP_ARG_REQUIRED | MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_server_side, MP_ARG_BOOL, { .u_bool = false } },
        { MP_QSTR_do_handshake_on_connect, MP_ARG_BOOL, { .u_bool = true } },
        { MP_QSTR_suppress_ragged_eofs, MP_ARG_BOOL, { .u_bool = true } },
        { MP_QSTR_server_hostname, MP_ARG_OBJ, { .u_obj = mp_const_none } },
        { MP_QSTR_session, MP_ARG_OBJ, { .u_obj = mp_const_none } },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed), allowed, args);
    context_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    if (args[ARG_server_side].u_bool) {
        refuse_server_side();
    }
    wrap_request r = {
        .ca = self->ca,
        .cert = self->cert,
        .key = self->key,
        .hostname = args[ARG_server_hostname].u_obj,
        .cert_reqs = self->verify_mode,
        .check_hostname = self->check_hostname,
    };
    secure(args[ARG_sock].u_obj, &r);
    return args[ARG_sock].u_obj;
}

static mp_obj_t context_wrap_socket(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    return wrap_or_close(context_wrap_socket_checked, 1, n_args, pos_args, kw_args);
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
        return masg_store_path_obj();
    }
    masg_store_set_path(args[0]);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(ssl_store_obj, 0, 1, ssl_store);

// function ssl.forget(): nothing is known to be in the modem (after a modem factory reset):
// every credential and security profile is written again before it is used
static mp_obj_t ssl_forget(void) {
    masg_store_forget();
    masg_op_enter(false);
    (void)mas_secure_forget();
    masg_op_leave();
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
    vstr_t text;
    vstr_init_fixed_buf(&text, len + 1, (char *)pem); /* read only: write_credential never writes to it */
    text.len = len;
    return write_credential(false, slot, &text);
}
