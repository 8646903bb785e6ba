/*
 * What the c_glue files share. The module is a thin shell around the Rust core
 * (include/microatsocket.h): C parses arguments, takes the engine lock, asks
 * the core for the next modem exchange, performs it through the LTE object and
 * feeds the answer back. No AT protocol knowledge lives on this side.
 */
#ifndef MICROATSOCKET_MAS_GLUE_H
#define MICROATSOCKET_MAS_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpcompat.h"
#include "py/objstr.h"
#include "microatsocket.h"

/* Constants of the Python API (usocket's numbering; SOL_SOCKET/SO_REUSEADDR as in Pycom's lwIP usocket). */
#define MASG_AF_INET (2)
#define MASG_AF_INET6 (10)
#define MASG_SOCK_STREAM (1)
#define MASG_SOCK_DGRAM (2)
/* The original microATsocket's constant; raw sockets are refused (EOPNOTSUPP). */
#define MASG_SOCK_RAW (3)
#define MASG_IPPROTO_TCP (6)
#define MASG_IPPROTO_UDP (17)
#define MASG_TCP_NODELAY (1)
#define MASG_SOL_SOCKET (0xfff)
#define MASG_SO_REUSEADDR (0x0004)
/* shutdown()'s how, as in POSIX and CPython. */
#define MASG_SHUT_RD (0)
#define MASG_SHUT_WR (1)
#define MASG_SHUT_RDWR (2)

/* The modem's connIds: sockets that can be open at once. */
#define MASG_MODEM_SOCKETS (6)

/* What MicroPython's lwIP getaddrinfo raises when a name does not resolve. */
#define MASG_EAI_FAIL (-202)

/* Longest IP text mas_addr_format can produce (IPv6 with an IPv4 tail). */
#define MASG_IP_TEXT_CAP (46)

/* ---- errors.c: errno values of the core as this port's OSError numbers ---- */
int masg_errno(int32_t mas_error);
/* Not a core errno: an operation failed and the modem says it is not attached (oprun.c). */
#define MASG_NOT_ATTACHED (-1)
#define MASG_NOT_ATTACHED_TEXT "the LTE is not attached: call lte.attach() and wait for lte.isattached()"
NORETURN void masg_raise(int32_t mas_error);
/* OSError(errno, message): an errno for code, a sentence for people. */
NORETURN void masg_raise_msg(int errno_value, const char *message);
/* socket.timeout (TimeoutError, an OSError) with errno ETIMEDOUT, as Pycom's usocket raises
 * it on a timed-out send, recv or connect; socket.gaierror for a failed lookup. */
NORETURN void masg_raise_timeout(const char *message);
NORETURN void masg_raise_gaierror(int errno_value, mp_obj_t message);
#if MPCOMPAT_VERSION >= 120
extern const mp_obj_type_t masg_type_timeout;
extern const mp_obj_type_t masg_type_gaierror;
#define MASG_TIMEOUT_TYPE (&masg_type_timeout)
#define MASG_GAIERROR_TYPE (&masg_type_gaierror)
#else
#define MASG_TIMEOUT_TYPE (&mp_type_TimeoutError)
#define MASG_GAIERROR_TYPE (&mp_type_OSError)
#endif

/* ---- vm.c: the VM the module's C state belongs to ---- */
/* For a file whose state must not outlive a soft reset (which runs neither
 * finalisers nor __init__): when the VM changed since `*seen` was set, runs
 * `forget` first (no I/O, no Python calls; other threads wait meanwhile). Call
 * it before reading that state. */
void masg_vm_sync(uint32_t *seen, void (*forget)(void));
/* VMs the module has been used in since the process (the board) started. */
uint32_t masg_vm_count(void);

/* ---- modem.c: which LTE object carries the sockets, and what it can carry ---- */
mp_obj_t masg_modem(void);                 /* MP_OBJ_NULL when none is set */
/* chunking: -1 keep the current setting, 0 stock 124-byte commands, 1 PR 429 chunking */
void masg_modem_set(mp_obj_t lte, int chunking);
/* What the next operation must sweep first: nothing, the whole pool (another
 * modem: every socket becomes stale), or only the modem (the first modem:
 * sockets made before it stay valid). */
typedef enum { MASG_SWEEP_NONE, MASG_SWEEP_FULL, MASG_SWEEP_KEEP_SOCKETS } masg_sweep;
masg_sweep masg_modem_needs_sweep(void);
void masg_modem_sweep_done(void);
/* Without a modem set, takes the board's (network.LTE()); called with the
 * engine lock held. Returns the modem, MP_OBJ_NULL when there is none to be
 * had; raises what the LTE object raises. */
mp_obj_t masg_modem_find_locked(void);
NORETURN void masg_raise_no_modem(void);
/* The transport limits (config() reads and sets them through these). */
mas_limits masg_modem_limits(void);
/* Called with the lock held: applies `wanted` to the core and keeps it, or
 * keeps the previous limits and returns the core's error. */
int32_t masg_modem_configure(const mas_limits *wanted);
/* The longest command send_at_cmd takes without PR 429's chunking. */
extern const uint16_t masg_unchunked_max_command;
/* Whether this transport carries raw payload bytes (lteppp layout 1202). */
extern const bool masg_transport_carries_raw;

/* ---- config.c: the module's settings ---- */
/* config(): set with keywords, or read one value by name. */
mp_obj_t masg_config(size_t n_args, const mp_obj_t *args, mp_map_t *kw_args);

/* ---- transport_mpcall.c: one exchange through lte.send_at_cmd ---- */
typedef struct {
    const uint8_t *data;
    size_t len;
    mp_obj_t keep; /* the str holding `data`, on the C stack so the GC keeps it */
} masg_reply;
void masg_transport_forget(void);          /* new modem or firmware: detect again */
#if !MICROATSOCKET_TRANSPORT_LTEPPP
/* send_at_cmd transport: find how `lte`'s send_at_cmd takes a timeout, with calls the
 * firmware refuses before any I/O (forgets first; MP_OBJ_NULL only forgets). */
void masg_transport_probe(mp_obj_t lte);
/* The longest command the probed firmware takes safely; 0: no cap of its own. */
uint16_t masg_transport_command_cap(void);
#endif
/* "send_at_cmd" or "lteppp": which transport this build was compiled with. */
extern const char masg_transport_name[];
/* Settings only a transport has (config() keys). set: false when `key` is not
 * one of them; raises ValueError for a bad value; changes the setting only if
 * `apply` (config() checks every keyword before it changes anything).
 * get: MP_OBJ_NULL when `key` is not one of them. */
bool masg_transport_config_set(qstr key, mp_obj_t value, bool apply);
mp_obj_t masg_transport_config_get(qstr key);
/* The operation has ended and its last reply is consumed: drop what holds it. */
void masg_transport_done(void);
/* Performs `x` and fills `reply`. May raise whatever the LTE object raises. */
void masg_transport_perform(mp_obj_t lte, const mas_exchange *x, masg_reply *reply);

/* ---- lock.c: the engine lock ---- */
/* Every call into the core happens between masg_lock() and masg_unlock().
 * Raises OSError(EALREADY) when the calling thread already holds the lock
 * (a callback re-entering the module mid-operation). */
void masg_lock(void);
void masg_unlock(void);

/* ---- trace.c: microATsocket.trace() ---- */
/* A trace is on: oprun.c calls the hooks below (and only then). */
extern bool masg_tracing;
MP_DECLARE_CONST_FUN_OBJ_KW(masg_trace_obj);
/* An operation's steps begin at `t` (the ms given to the core): writes the notes before it. */
void masg_trace_op_start(uint32_t t);
/* Performs `x` through the transport, writing it and its answer (or what it raised). */
void masg_trace_perform(mp_obj_t lte, const mas_exchange *x, masg_reply *reply, uint32_t t);
void masg_trace_outcome(uint32_t t, const mas_outcome *out);
/* Writes the calls the core noted since the last operation. */
void masg_trace_notes(void);

/* ---- oprun.c: one engine operation at a time ---- */
/* Lock, then run a pending reset sweep and the queued closes (without a
 * modem, queued slots are freed with no AT exchange). need_modem: raise when
 * no modem is set. Returns whether one is. Anything raised leaves the lock
 * released. */
bool masg_op_enter(bool need_modem);
/* Drives the operation a mas_*_begin call started (`begun` is its result)
 * to the end and returns the outcome's errno (0 = success). A raise from the
 * transport aborts the operation and releases the lock before propagating. */
int32_t masg_op_finish(int32_t begun, mas_outcome *out);
void masg_op_leave(void);
/* Queues a close: no modem I/O, no heap, no lock, so finalisers can call it.
 * The slot is closed by the next masg_op_enter(). */
void masg_defer_close(mas_handle handle);

/* ---- addrargs.c: Python address arguments <-> mas_addr ---- */
typedef enum { MASG_ADDR_PEER, MASG_ADDR_LOCAL } masg_addr_use;
/* Parses (host, port) or (host, port, flowinfo, scope_id); raises TypeError,
 * ValueError or OverflowError, and OSError(EAFNOSUPPORT) when an IPv6 address
 * is given to an AF_INET socket. For MASG_ADDR_LOCAL an empty host is allowed. */
void masg_addr_from_obj(mp_obj_t addr_in, int family, masg_addr_use use, mas_addr *out);
mp_obj_t masg_addr_ip_str(const mas_addr *addr);
mp_obj_t masg_addr_to_obj(const mas_addr *addr);   /* (ip_str, port) */

/* getaddrinfo.c */
mp_obj_t masg_dnsserver(size_t n_args, const mp_obj_t *args);
/* config(dns_cache=...): keep getaddrinfo answers (on by default). */
bool masg_dns_cache_enabled(void);
void masg_dns_cache_enable(bool on);
uint16_t masg_port_from_obj(mp_obj_t port_in, bool allow_zero);
/* True when `text` could be a DNS host name (letters, digits, '-', '_', '.'). */
bool masg_is_host_name(const char *text, size_t len);

/* ---- getaddrinfo.c ---- */
mp_obj_t masg_getaddrinfo(size_t n_args, const mp_obj_t *args, mp_map_t *kw_args);
/* The default fallback DNS servers as str objects (the original's DNS_SERVER_IP, DNS_SERVER_IPV6). */
extern mp_obj_str_t masg_default_dns_v4_obj;
extern mp_obj_str_t masg_default_dns_v6_obj;

/* ---- socket_type.c ---- */
/* Polling cache of a socket (socket_type.c). */
typedef enum { POLLED_UNKNOWN, POLLED_IDLE, POLLED_READABLE } polled_state;

typedef struct {
    mp_obj_base_t base;
    mp_obj_t modem; /* keeps the LTE object reachable while the socket lives */
    mas_handle handle;
    uint8_t family; /* MASG_AF_INET or MASG_AF_INET6 */
    bool open;
    int32_t timeout_ms; /* -1 blocks, 0 does not */
    uint32_t polled_ms;
    uint8_t polled; /* polled_state */
    /* The original microATsocket API (original_methods.c): a socket used through
     * it answers "nothing arrived" with (None, None) rather than an exception. */
    bool original;
    /* SOCKET_MESSAGE_ASCII: recv/recvfrom give str (the wire stays hex). */
    bool ascii;
    /* settimeout()/setblocking() was called: the original API's wait does not apply. */
    bool timeout_set;
    /* Where the last stream read's datagram ended in the caller's buffer (see socket_stream_read). */
    const uint8_t *read_end;
} masg_socket_t;

extern const mp_obj_type_t masg_socket_type;
mp_obj_t masg_socket_new(int family, mp_obj_t lte);
void masg_socket_close(masg_socket_t *self);

/* ---- socket_common.c: what the datagram and stream sockets share ---- */
/* settimeout()'s argument in ms (-1: None, block); ValueError below 0 or NaN,
 * OverflowError past 32-bit ms. */
int32_t masg_timeout_ms_arg(mp_obj_t timeout_in);
/* setsockopt(): returns for the options that change nothing on the modem
 * (SO_REUSEADDR; TCP_NODELAY on streams), raises OSError(EOPNOTSUPP) otherwise. */
void masg_check_sockopt(mp_obj_t level_in, mp_obj_t option_in, bool stream);
/* Closes a slot now (queued first, so a raise cannot leak it). */
void masg_close_slot(mas_handle handle);
/* The types' attribute hook: `cme_error`, the modem's last +CME ERROR code. */
void masg_socket_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest);
MP_DECLARE_CONST_FUN_OBJ_VAR_BETWEEN(masg_socket_exit_obj);
/* socket()'s arguments: EAFNOSUPPORT for a family other than AF_INET/AF_INET6;
 * an `lte=` object becomes the modem. */
void masg_check_new_socket(int family, mp_obj_t lte);
/* A slot from `open_slot` (mas_socket_open, mas_stream_open), after one GC pass
 * if all six are held by dropped sockets; raises OSError when none can be had.
 * Allocate the socket object first: a raise after this would leak the slot. */
mas_handle masg_take_slot(int32_t (*open_slot)(mas_handle *), bool need_modem);
/* select.poll's readiness of `handle`: one modem exchange (AT+SQNSS) answers
 * for every socket polled within a few ms of it. Returns 0 or a core errno. */
int32_t masg_poll_ready(mas_handle handle, bool *ready);
/* A receive found nothing: sleep until its next read is due (`wait_ms`, from
 * mas_recv_wait_ms, at least 1 ms), at most `left_ms` (negative: no limit),
 * with the engine free for other threads. */
void masg_wait_unlocked(int32_t wait_ms, int32_t left_ms);

/* ---- original_methods.c: the original microATsocket's dialect of the socket type ---- */
/* recvfrom()'s default bufsize, the original's. */
#define MASG_ORIGINAL_RECV_BUFSIZE (1024)
/* How long the original API's recvfrom() waits when no timeout was set: the
 * firmware's default send_at_cmd wait, which bounded the original's one read. */
#define MASG_ORIGINAL_RECV_WAIT_MS (9500)
/* The original's LOCAL_PORT_DEFAULT, kept as a name only: an unbound socket
 * here lets the modem pick its local port. */
#define MASG_ORIGINAL_LOCAL_PORT (8080)
extern const mp_obj_type_t masg_message_format_type;
MP_DECLARE_CONST_FUN_OBJ_VAR_BETWEEN(masg_original_close_obj);
MP_DECLARE_CONST_FUN_OBJ_2(masg_original_set_modem_obj);
MP_DECLARE_CONST_FUN_OBJ_2(masg_original_set_format_obj);
MP_DECLARE_CONST_FUN_OBJ_3(masg_original_open_obj);
MP_DECLARE_CONST_FUN_OBJ_VAR_BETWEEN(masg_original_dnsserver_obj);
void masg_socket_use_original_api(masg_socket_t *self);
/* The modem's refusals, which the original API answered with a value (sendto
 * -1, recvfrom (None, None), open False) rather than an exception. */
bool masg_original_quiet_error(int32_t mas_error);

/* ---- original_api.c: MicroATSocket and the original's module names, on top of the socket type ---- */
extern const mp_obj_type_t masg_original_type;
MP_DECLARE_CONST_FUN_OBJ_0(masg_original_has_available_sockets_obj);

/* ---- socket_stream.c: TCP stream sockets ---- */
extern const mp_obj_type_t masg_stream_type;
mp_obj_t masg_stream_new(int family, mp_obj_t lte);
/* For ssl.c: the core handle of an open stream socket; false for anything else. */
bool masg_stream_handle(mp_obj_t obj, mas_handle *out);
/* A dial asked for before connect() by a layer above (ssl.c's wrap): connect()
 * then calls `dial(sock, request, &peer)` instead of dialling plain. False
 * unless `obj` is an open stream that is neither connected nor listening. */
typedef void (*masg_stream_dial_fn)(mp_obj_t sock, mp_obj_t request, const mas_addr *peer);
bool masg_stream_defer_dial(mp_obj_t obj, masg_stream_dial_fn dial, mp_obj_t request);

/* ---- ssl.c: TLS in the modem (microATsocket.ssl, microATsocket.wrap_socket) ---- */
extern const mp_obj_module_t masg_ssl_module;
MP_DECLARE_CONST_FUN_OBJ_KW(masg_ssl_wrap_socket_obj);
/* The board self-check's certificate probe (probe.c): one write into a test slot the store
 * never uses, or a delete (len 0). Returns 0 or a core errno. */
int32_t masg_ssl_write_test_slot(int slot, const uint8_t *pem, size_t len);

/* ---- probe.c: the board self-check's certificate probe ---- */
MP_DECLARE_CONST_FUN_OBJ_1(masg_credential_probe_obj);

#endif /* MICROATSOCKET_MAS_GLUE_H */
