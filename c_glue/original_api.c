/*
 * The original pure-Python microATsocket's names (insighio/microATsocket), so
 * scripts written for it run unmodified:
 *
 *     sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)   # or MicroATSocket(lte)
 *     sock.setModemInstance(lte)
 *     sock.setMessageFormat(socket.socket.SOCKET_MESSAGE_FORMAT.SOCKET_MESSAGE_ASCII)
 *     sock.sendto(data, addr); resp, address = sock.recvfrom()
 *
 * A socket used through one of these names speaks the original's dialect:
 * recvfrom() with nothing arriving answers (None, None) instead of raising,
 * and without settimeout() it waits as long as the original's one read could
 * (the firmware's default AT wait). Everything else is the usocket socket.
 * c_glue/README.md lists each original name beside ours.
 *
 * This file is the layer on top of the socket type: MicroATSocket and the
 * module-level names. The dialect's socket methods and its per-socket flag
 * are original_methods.c's, which the socket type lists without depending on
 * this file.
 */
#include "py/mperrno.h"
#include "py/nlr.h"
#include "py/runtime.h"
#include "py/stream.h"

#include "mas_glue.h"

// function microATsocket.has_available_sockets(): a modem socket is free
static mp_obj_t original_has_available_sockets(void) {
    masg_op_enter(false);
    uint32_t in_use = mas_slots_in_use();
    masg_op_leave();
    return mp_obj_new_bool(in_use < MASG_MODEM_SOCKETS);
}
MP_DEFINE_CONST_FUN_OBJ_0(masg_original_has_available_sockets_obj, original_has_available_sockets);

/* ---- MicroATSocket ------------------------------------------------------- */

// constructor MicroATSocket(lte=None): the first API's IPv6 UDP socket
static mp_obj_t original_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    (void)type;
    mp_arg_check_num(n_args, n_kw, 0, 1, false);
    mp_obj_t sock = masg_socket_new(MASG_AF_INET6, n_args > 0 ? args[0] : MP_OBJ_NULL);
    masg_socket_use_original_api(MP_OBJ_TO_PTR(sock));
    return sock;
}

static const mp_rom_map_elem_t original_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_SOCKET_MESSAGE_FORMAT), MP_ROM_PTR(&masg_message_format_type) },
};
static MP_DEFINE_CONST_DICT(original_locals, original_locals_table);

MPCOMPAT_DEFINE_CONSTRUCTOR_TYPE(
    masg_original_type,
    MP_QSTR_MicroATSocket,
    original_make_new,
    &original_locals
    );
