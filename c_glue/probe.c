/*
 * What the board self-check (examples/board_check.py) needs that the socket
 * API does not offer: a certificate written into a test slot and deleted
 * again, to see how the modem's AT+SQNSNVW takes the module's upload.
 */
#include "mas_glue.h"

/* Outside the slots the credential store uses (ssl.c: 16..19). */
#define PROBE_SLOT (15)

// function microATsocket._credential_probe(pem_or_None): writes `pem` into slot 15
// (None deletes it); returns 0 or the errno the upload ended with.
static mp_obj_t mod_credential_probe(mp_obj_t pem_in) {
    const uint8_t *pem = NULL;
    size_t len = 0;
    if (pem_in != mp_const_none) {
        mp_buffer_info_t buf;
        mp_get_buffer_raise(pem_in, &buf, MP_BUFFER_READ);
        pem = buf.buf;
        len = buf.len;
        int32_t checked = mas_cred_check(pem, len, false);
        if (checked != 0) {
            mp_raise_ValueError(MP_ERROR_TEXT("not a PEM certificate the modem can store"));
        }
    }
    int32_t err = masg_ssl_write_test_slot(PROBE_SLOT, pem, len);
    return MP_OBJ_NEW_SMALL_INT(err == 0 ? 0 : masg_errno(err));
}
MP_DEFINE_CONST_FUN_OBJ_1(masg_credential_probe_obj, mod_credential_probe);
