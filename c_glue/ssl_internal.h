/* Shared by the TLS files: ssl.c (the Python API and the secure dial),
 * ssl_store.c (the fingerprint store's file) and ssl_creds.c (credentials
 * from the caller). */
#ifndef MICROATSOCKET_SSL_INTERNAL_H
#define MICROATSOCKET_SSL_INTERNAL_H

#include "py/obj.h"
#include "py/misc.h"

#include "microatsocket.h"

/* Firmware 1.18 ends every write with CR LF: the core then leaves each PEM
 * line's LF to the firmware. Every later release ends writes with CR. */
#if defined(MICROATSOCKET_TRANSPORT_LTEPPP) && MICROATSOCKET_LTEPPP_LAYOUT == 118
#define MASG_SSL_LF_TERMINATOR (true)
#else
#define MASG_SSL_LF_TERMINATOR (false)
#endif

/* ---- ssl_store.c ---- */
/* Reads the file into the core's store, the first time and after a new path. */
void masg_store_load(void);
/* Writes what the core's store trusts to the file; best effort. */
void masg_store_save(void);
/* The core's store calls (mas_store_*), each under the engine lock. */
int32_t masg_store_claim(bool private_key, const vstr_t *pem, int avoid, mas_claim *out);
void masg_store_written(bool private_key, int slot, bool ok);
bool masg_store_rewrite(bool private_key, int slot);
void masg_store_confirm(bool private_key, int slot);
void masg_store_release(bool private_key, int slot);
/* ssl.store([path]) and ssl.forget(). */
mp_obj_t masg_store_path_obj(void);
void masg_store_set_path(mp_obj_t path);
void masg_store_forget(void);

/* ---- ssl_creds.c ---- */
/* `src` (a path, or PEM or DER bytes) as LF-ended PEM text in `pem`, checked as
 * the modem takes it (kind, size, every line within one write of this
 * transport) before anything reaches the modem. `what` names it in errors. */
void masg_cred_load(mp_obj_t src, const char *what, bool private_key, vstr_t *pem);
NORETURN void masg_ssl_raise_text(int errno_value, vstr_t *message);

#endif
