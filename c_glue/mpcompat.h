/*
 * MicroPython API differences between Pycom's 1.11 fork and upstream >= 1.20,
 * kept in this one header so the rest of c_glue/ is written once.
 *
 * Version tests, not #ifdef on the macros themselves: during the qstr/module
 * scan (NO_QSTR) upstream leaves MP_REGISTER_* undefined on purpose, so an
 * #ifdef there would silently drop the registration.
 */
#ifndef MICROATSOCKET_MPCOMPAT_H
#define MICROATSOCKET_MPCOMPAT_H

#include "py/mpconfig.h"
#include "py/obj.h"
#include "py/runtime.h"

/*
 * py/mpconfig.h has carried the version since 1.11. Older trees generate it
 * into genhdr/mpversion.h from `git describe`, which in Pycom's tree is the
 * firmware's tag (v1.20.0.rc13 would read as MicroPython 1.20): so no
 * version there means "before 1.11", and the generated header is not read.
 * Pycom releases v1.20.1 and later are MicroPython 1.11; v1.20.0.x are
 * based on 1.9.4 and v1.18.x on an older one. Building the module into
 * firmware needs 1.11's user C modules; the few pre-1.11 names below only
 * let the files compile against those older headers.
 */
#ifdef MICROPY_VERSION_MAJOR
#define MPCOMPAT_VERSION (MICROPY_VERSION_MAJOR * 100 + MICROPY_VERSION_MINOR)
#else
#define MPCOMPAT_VERSION (110)
#endif

/* Object tests: early 1.11 trees still spell them in capitals. */
#if !defined(mp_obj_is_type) && defined(MP_OBJ_IS_TYPE)
#define mp_obj_is_type MP_OBJ_IS_TYPE
#define mp_obj_is_str MP_OBJ_IS_STR
#define mp_obj_is_int MP_OBJ_IS_INT
#endif

/* Map slots: named in capitals before 1.11. */
#if MPCOMPAT_VERSION < 111
#define mp_map_slot_is_filled MP_MAP_SLOT_IS_FILLED
#endif

/* Error message wrapper: 1.11 takes plain C strings. */
#ifndef MP_ERROR_TEXT
#define MP_ERROR_TEXT(text) text
#endif

/*
 * Module registration. The build scans the source for the literal
 * MP_REGISTER_MODULE(...) line, so it cannot hide behind a macro here; the
 * registering file picks one of two literal lines with this switch.
 * 1.11: MP_REGISTER_MODULE(name, module, enabled_macro); >= 1.19: (name, module).
 */
#define MPCOMPAT_REGISTER_MODULE_TAKES_ENABLE (MPCOMPAT_VERSION < 119)
/* Before 1.11 there is no registration macro: the line compiles to nothing
 * and the port's MICROPY_PORT_BUILTIN_MODULES must list the module. */
#if MPCOMPAT_VERSION < 111 && !defined(MP_REGISTER_MODULE)
#define MP_REGISTER_MODULE(module_name, obj_module, enabled_define)
#endif

/*
 * Where the current modem object lives so the GC sees it. Upstream registers a
 * root pointer (the line itself is in modem.c, for the same scan reason as
 * above); 1.11 cannot add root pointers from a user module, so the object is
 * parked in the loaded-modules dict, which the GC always scans.
 */
#define MPCOMPAT_HAS_ROOT_POINTERS (MPCOMPAT_VERSION >= 120)
#if MPCOMPAT_HAS_ROOT_POINTERS
#define MPCOMPAT_MODEM_ROOT_GET() (MP_STATE_VM(microatsocket_modem))
#define MPCOMPAT_MODEM_ROOT_SET(obj) (MP_STATE_VM(microatsocket_modem) = (obj))
#else
static inline mp_obj_t mpcompat_modem_root_get(void) {
    mp_map_elem_t *elem = mp_map_lookup(&MP_STATE_VM(mp_loaded_modules_dict).map,
        MP_OBJ_NEW_QSTR(MP_QSTR__microATsocket_modem), MP_MAP_LOOKUP);
    return elem == NULL ? MP_OBJ_NULL : elem->value;
}
static inline void mpcompat_modem_root_set(mp_obj_t obj) {
    mp_map_elem_t *elem = mp_map_lookup(&MP_STATE_VM(mp_loaded_modules_dict).map,
        MP_OBJ_NEW_QSTR(MP_QSTR__microATsocket_modem),
        obj == MP_OBJ_NULL ? MP_MAP_LOOKUP_REMOVE_IF_FOUND : MP_MAP_LOOKUP_ADD_IF_NOT_FOUND);
    if (elem != NULL && obj != MP_OBJ_NULL) {
        elem->value = obj;
    }
}
#define MPCOMPAT_MODEM_ROOT_GET() mpcompat_modem_root_get()
#define MPCOMPAT_MODEM_ROOT_SET(obj) mpcompat_modem_root_set(obj)
#endif

/* str/bytes from a vstr: before 1.20 one function took the type. */
#if MPCOMPAT_VERSION >= 120
#define MPCOMPAT_STR_FROM_VSTR(vstr) mp_obj_new_str_from_vstr(vstr)
#define MPCOMPAT_BYTES_FROM_VSTR(vstr) mp_obj_new_bytes_from_vstr(vstr)
#else
#define MPCOMPAT_STR_FROM_VSTR(vstr) mp_obj_new_str_from_vstr(&mp_type_str, (vstr))
#define MPCOMPAT_BYTES_FROM_VSTR(vstr) mp_obj_new_str_from_vstr(&mp_type_bytes, (vstr))
#endif

/* Stream poll flag for a closed object; 1.11 does not name it (same value upstream). */
#include "py/stream.h"
#ifndef MP_STREAM_POLL_NVAL
#define MP_STREAM_POLL_NVAL (0x0020)
#endif

/* An object whose type has __del__: the GC calls it before freeing. */
#if defined(mp_obj_malloc_with_finaliser)
#define MPCOMPAT_NEW_OBJ_WITH_FINALISER(struct_type, obj_type) \
    mp_obj_malloc_with_finaliser(struct_type, obj_type)
#else
static inline void *mpcompat_new_obj_with_finaliser(void *obj, const mp_obj_type_t *type) {
    ((mp_obj_base_t *)obj)->type = type;
    return obj;
}
#define MPCOMPAT_NEW_OBJ_WITH_FINALISER(struct_type, obj_type) \
    ((struct_type *)mpcompat_new_obj_with_finaliser(m_new_obj_with_finaliser(struct_type), (obj_type)))
#endif

/*
 * A type with make_new, print, attr, the stream protocol and a locals dict.
 * >= 1.20: slot-based MP_DEFINE_CONST_OBJ_TYPE; 1.11: designated initializers.
 */
#if MPCOMPAT_VERSION >= 120
#define MPCOMPAT_DEFINE_STREAM_TYPE(type_name, qstr_name, make_new_fn, print_fn, attr_fn, stream_p, locals) \
    MP_DEFINE_CONST_OBJ_TYPE(type_name, qstr_name, MP_TYPE_FLAG_NONE, \
        make_new, make_new_fn, print, print_fn, attr, attr_fn, \
        protocol, stream_p, locals_dict, locals)
#else
#define MPCOMPAT_DEFINE_STREAM_TYPE(type_name, qstr_name, make_new_fn, print_fn, attr_fn, stream_p, locals) \
    const mp_obj_type_t type_name = { \
        { &mp_type_type }, \
        .name = qstr_name, \
        .print = print_fn, \
        .make_new = make_new_fn, \
        .attr = attr_fn, \
        .protocol = stream_p, \
        .locals_dict = (mp_obj_dict_t *)(locals), \
    }
#endif

/* A class that only carries constants in its locals dict, optionally with a
 * constructor (MicroATSocket, SOCKET_MESSAGE_FORMAT). */
#if MPCOMPAT_VERSION >= 120
#define MPCOMPAT_DEFINE_CONSTRUCTOR_TYPE(type_name, qstr_name, make_new_fn, locals) \
    MP_DEFINE_CONST_OBJ_TYPE(type_name, qstr_name, MP_TYPE_FLAG_NONE, \
        make_new, make_new_fn, locals_dict, locals)
#define MPCOMPAT_DEFINE_CONSTANTS_TYPE(type_name, qstr_name, locals) \
    MP_DEFINE_CONST_OBJ_TYPE(type_name, qstr_name, MP_TYPE_FLAG_NONE, \
        locals_dict, locals)
#else
#define MPCOMPAT_DEFINE_CONSTRUCTOR_TYPE(type_name, qstr_name, make_new_fn, locals) \
    const mp_obj_type_t type_name = { \
        { &mp_type_type }, \
        .name = qstr_name, \
        .make_new = make_new_fn, \
        .locals_dict = (mp_obj_dict_t *)(locals), \
    }
#define MPCOMPAT_DEFINE_CONSTANTS_TYPE(type_name, qstr_name, locals) \
    const mp_obj_type_t type_name = { \
        { &mp_type_type }, \
        .name = qstr_name, \
        .locals_dict = (mp_obj_dict_t *)(locals), \
    }
#endif

/*
 * An attr handler that serves a few attributes itself and hands every other
 * load to the type's locals dict (methods). >= 1.20 continues the normal
 * lookup when dest[1] is MP_OBJ_SENTINEL; 1.11 never looks at the locals dict
 * once a type has attr, so the lookup is done here.
 */
#if MPCOMPAT_VERSION >= 120
static inline void mpcompat_attr_continue(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    (void)self_in;
    (void)attr;
    dest[1] = MP_OBJ_SENTINEL;
}
#else
static inline void mpcompat_attr_continue(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] != MP_OBJ_NULL) {
        return; /* store or delete: not supported */
    }
    const mp_obj_type_t *type = mp_obj_get_type(self_in);
    mp_map_elem_t *elem = mp_map_lookup(&type->locals_dict->map, MP_OBJ_NEW_QSTR(attr), MP_MAP_LOOKUP);
    if (elem != NULL) {
        mp_convert_member_lookup(self_in, type, elem->value, dest);
    }
}
#endif

#endif /* MICROATSOCKET_MPCOMPAT_H */
