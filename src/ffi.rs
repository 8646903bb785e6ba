//! The C ABI: opaque handles, plain structs and errno results over one static engine.
//!
//! This is the only module with `unsafe` and `extern "C"`. Every pointer is checked; results
//! are written only on success; no Rust panic can reach here because the core denies the
//! constructs that panic (see `lib.rs`). Pointers handed out (`mas_exchange`, `mas_outcome`)
//! point into the static engine and stay valid until the next `mas_*` call.
//!
//! The engine is not thread-safe: the shim calls it under MicroPython's GIL. A call made
//! while another is running (re-entry from a callback) gets `MAS_EALREADY`.

#![allow(non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::engine::{Engine, ExchangeKind, Step};
use crate::error::Error;
use crate::limits::Limits;
use crate::socket::Handle;

mod trace;
use trace::{Peer, Text};

/// The call's result, noted for a trace when one is on (`trace.rs`): `name args -> result`.
macro_rules! traced {
    ($result:expr, $($note:tt)*) => {{
        let result = $result;
        if trace::on() {
            trace::note(format_args!("{} -> {}", format_args!($($note)*), result));
        }
        result
    }};
}

/// Largest datagram any transport can carry (the modem's limit).
pub const MAS_MAX_DATAGRAM: usize = 1500;
const _: () = assert!(MAS_MAX_DATAGRAM == crate::MAX_DATAGRAM);

// Linux errno values; MicroPython's MP_E* constants use the same numbers.
pub const MAS_EIO: i32 = 5;
pub const MAS_EPIPE: i32 = 32;
pub const MAS_ECONNABORTED: i32 = 103;
pub const MAS_EOPNOTSUPP: i32 = 95;
pub const MAS_ECONNRESET: i32 = 104;
pub const MAS_EISCONN: i32 = 106;
pub const MAS_ECONNREFUSED: i32 = 111;
pub const MAS_EBADF: i32 = 9;
pub const MAS_EAGAIN: i32 = 11;
pub const MAS_ENOMEM: i32 = 12;
pub const MAS_EINVAL: i32 = 22;
pub const MAS_EMSGSIZE: i32 = 90;
pub const MAS_EAFNOSUPPORT: i32 = 97;
pub const MAS_EADDRINUSE: i32 = 98;
pub const MAS_ENOTCONN: i32 = 107;
pub const MAS_ETIMEDOUT: i32 = 110;
pub const MAS_EHOSTUNREACH: i32 = 113;
pub const MAS_EALREADY: i32 = 114;
/// Not an errno: name resolution failed. MicroPython's ports raise `OSError(-202)` for it.
pub const MAS_ENONAME: i32 = 202;

/// The one place errors become errno values.
pub fn errno_of(error: Error) -> i32 {
    match error {
        Error::BadHandle => MAS_EBADF,
        Error::NoFreeSlot => MAS_ENOMEM,
        Error::MessageTooLong => MAS_EMSGSIZE,
        Error::NotConnected => MAS_ENOTCONN,
        Error::TimedOut => MAS_ETIMEDOUT,
        Error::WouldBlock => MAS_EAGAIN,
        Error::Modem | Error::TooManyExchanges => MAS_EIO,
        Error::HostUnreachable => MAS_EHOSTUNREACH,
        Error::InvalidArgument => MAS_EINVAL,
        Error::Busy => MAS_EALREADY,
        Error::NameNotFound => MAS_ENONAME,
        Error::ConnectionRefused => MAS_ECONNREFUSED,
        Error::ConnectionReset => MAS_ECONNRESET,
        Error::BrokenPipe => MAS_EPIPE,
        Error::IsConnected => MAS_EISCONN,
        Error::WrongKind => MAS_EOPNOTSUPP,
        Error::TlsHandshake => MAS_ECONNABORTED,
        // Try again later: the network sets the clock some time after attach.
        Error::ClockNotSet => MAS_EAGAIN,
        Error::AddressInUse => MAS_EADDRINUSE,
    }
}

fn status(result: Result<(), Error>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(error) => errno_of(error),
    }
}

/// An open socket: slot and generation, opaque to C.
pub type mas_handle = u32;

/// An IP address and port. `family` is 4 or 6; IPv4 uses the first 4 bytes of `ip`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct mas_addr {
    pub family: u8,
    pub port: u16,
    pub ip: [u8; 16],
}

impl mas_addr {
    fn from_socket_addr(addr: SocketAddr) -> mas_addr {
        let mut ip = [0u8; 16];
        let family = match addr.ip() {
            IpAddr::V4(v4) => {
                if let Some(head) = ip.get_mut(..4) {
                    head.copy_from_slice(&v4.octets());
                }
                4
            }
            IpAddr::V6(v6) => {
                ip = v6.octets();
                6
            }
        };
        mas_addr { family, port: addr.port(), ip }
    }

    fn to_socket_addr(self) -> Option<SocketAddr> {
        let ip = match self.family {
            4 => {
                let [a, b, c, d, ..] = self.ip;
                IpAddr::V4(Ipv4Addr::new(a, b, c, d))
            }
            6 => IpAddr::V6(Ipv6Addr::from(self.ip)),
            _ => return None,
        };
        Some(SocketAddr::new(ip, self.port))
    }
}

/// What the transport can carry (see `Limits`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mas_limits {
    /// Longest text one exchange may write; 0 = no limit (firmware chunks long commands).
    pub max_command_len: u16,
    pub send_hex: bool,
    pub recv_hex: bool,
    /// The transport writes command and payload of a send in one exchange.
    pub combined_send: bool,
    /// PDP context id for the sockets (1 on most networks).
    pub pdp_cid: u8,
}

#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum mas_exchange_kind {
    /// Send `command` as an AT command (firmware flushes RX, appends CR); return the answer.
    MAS_EXCHANGE_COMMAND = 1,
    /// Send `payload` after the `> ` prompt; return the answer.
    MAS_EXCHANGE_PAYLOAD = 2,
    /// Send `command`, CR, `payload` in one go; return the answer.
    MAS_EXCHANGE_COMMAND_WITH_PAYLOAD = 3,
    /// Write nothing (`Pycom_Dummy`); return what arrives within `timeout_ms`.
    MAS_EXCHANGE_LISTEN = 4,
    /// No modem I/O: wait `timeout_ms`, then step with an empty reply.
    MAS_EXCHANGE_SLEEP = 5,
}

/// The next exchange for the transport.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mas_exchange {
    pub kind: mas_exchange_kind,
    pub command: *const u8,
    pub command_len: usize,
    pub payload: *const u8,
    pub payload_len: usize,
    pub timeout_ms: u32,
}

/// The result of a finished operation.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mas_outcome {
    /// 0 on success, else an errno (`MAS_E*`).
    pub error: i32,
    /// sendto: bytes the modem accepted.
    pub len: usize,
    /// recvfrom: the datagram.
    pub data: *const u8,
    pub data_len: usize,
    /// recvfrom: the sender.
    pub from: mas_addr,
    /// poll: a datagram is waiting.
    pub readable: bool,
    /// resolve: the addresses found (`addr_count` of them; ports 0).
    pub addrs: [mas_addr; MAS_MAX_ADDRESSES],
    pub addr_count: usize,
    /// resolve: how long the answer may be kept, in seconds (the DNS records' TTL); -1 when
    /// the modem's resolver answered, which does not say.
    pub ttl_s: i64,
}

/// Most addresses one resolve returns.
pub const MAS_MAX_ADDRESSES: usize = 4;
const _: () = assert!(MAS_MAX_ADDRESSES == crate::dns::MAX_ADDRESSES);

/// The engine's storage, all zero bytes until the first call builds the engine in it. A static
/// initialised with `Engine::new()` would sit in `.data` (its initial value is not all zero), so
/// its 10 KB would cost flash for the initial image as well as RAM; zeroed storage goes to
/// `.bss`, which costs RAM only.
struct EngineCell(UnsafeCell<MaybeUninit<Engine>>);

// Safety: the engine is only reached through `with_engine`, whose guard refuses re-entry;
// the shim calls from one thread at a time (MicroPython's GIL).
unsafe impl Sync for EngineCell {}

static ENGINE: EngineCell = EngineCell(UnsafeCell::new(MaybeUninit::zeroed()));
/// Whether `ENGINE` holds an engine yet.
static ENGINE_BUILT: AtomicBool = AtomicBool::new(false);
/// Set while a call is inside the engine. Plain load/store: riscv32imc has no atomic swap, and
/// the guard only has to catch re-entry on the same thread.
static IN_ENGINE: AtomicBool = AtomicBool::new(false);

fn with_engine<R>(busy: R, f: impl FnOnce(&mut Engine) -> R) -> R {
    if IN_ENGINE.load(Ordering::Acquire) {
        return busy;
    }
    IN_ENGINE.store(true, Ordering::Release);
    // Safety: the guard above makes this the only live reference to the storage.
    let storage = unsafe { &mut *ENGINE.0.get() };
    if !ENGINE_BUILT.load(Ordering::Acquire) {
        build_engine(storage);
    }
    // Safety: built above or by an earlier call.
    let result = f(unsafe { storage.assume_init_mut() });
    IN_ENGINE.store(false, Ordering::Release);
    result
}

/// Builds the engine in its zeroed storage, once. Out of line, so the many instances of the
/// generic `with_engine` share one copy. The release build writes the buffers in place; only the
/// slot pool (about 0.5 KB) is assembled on the stack first, so this call needs about 1 KB of
/// stack, once.
#[inline(never)]
fn build_engine(storage: &mut MaybeUninit<Engine>) {
    storage.write(Engine::new());
    ENGINE_BUILT.store(true, Ordering::Release);
}

/// Reads a `(pointer, length)` pair as a slice; NULL is allowed only with length 0.
///
/// Safety: a non-NULL `ptr` must point to `len` readable bytes.
unsafe fn slice_arg<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if ptr.is_null() {
        return (len == 0).then_some(&[]);
    }
    // Safety: non-NULL and `len` readable bytes, per this function's contract.
    Some(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// Sets the transport limits. 0 or an errno.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_configure(limits: *const mas_limits) -> i32 {
    // Safety: NULL is checked; otherwise the caller passes a valid `mas_limits`.
    let Some(limits) = (unsafe { limits.as_ref() }) else { return MAS_EINVAL };
    let limits = Limits {
        max_command_len: (limits.max_command_len != 0).then_some(limits.max_command_len),
        send_hex: limits.send_hex,
        recv_hex: limits.recv_hex,
        combined_send: limits.combined_send,
        pdp_cid: limits.pdp_cid,
    };
    traced!(
        with_engine(MAS_EALREADY, |e| status(e.configure(limits))),
        "configure max_command={} send_hex={} recv_hex={} combined={} cid={}",
        limits.max_command_len.unwrap_or(0),
        u8::from(limits.send_hex),
        u8::from(limits.recv_hex),
        u8::from(limits.combined_send),
        limits.pdp_cid
    )
}

/// Largest datagram the configured transport can send.
#[no_mangle]
pub extern "C" fn mas_max_datagram() -> usize {
    with_engine(0, |e| e.limits().max_datagram())
}

/// Starts the module-start sweep (numeric errors; close slots a previous run left open).
/// Every existing handle becomes stale.
#[no_mangle]
pub extern "C" fn mas_reset_begin() -> i32 {
    traced!(with_engine(MAS_EALREADY, |e| status(e.begin_reset())), "reset")
}

/// Starts the same sweep for the first modem the module meets: handles of sockets made before
/// any modem was known stay valid (they have never been dialled).
#[no_mangle]
pub extern "C" fn mas_reset_keep_sockets_begin() -> i32 {
    traced!(with_engine(MAS_EALREADY, |e| status(e.begin_reset_keeping_sockets())), "reset_keep_sockets")
}

/// Takes a slot with `open` and writes its handle to `out`.
/// # Safety
/// `out` is NULL or valid for one write.
unsafe fn write_opened(out: *mut mas_handle, open: impl FnOnce(&mut Engine) -> Result<Handle, Error>) -> i32 {
    if out.is_null() {
        return MAS_EINVAL;
    }
    with_engine(MAS_EALREADY, |e| match open(e) {
        Ok(handle) => {
            // Safety: checked non-NULL above; the caller passes a writable handle.
            unsafe { out.write(handle.0) };
            0
        }
        Err(error) => errno_of(error),
    })
}

/// Takes a free modem slot (no AT exchange). `MAS_ENOMEM` when all six are in use.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_socket_open(out: *mut mas_handle) -> i32 {
    // Safety: as this function's own contract.
    let result = unsafe { write_opened(out, Engine::open) };
    // Safety: written when `result` is 0.
    traced!(result, "socket_open handle={}", if result == 0 { unsafe { out.read() } } else { 0 })
}

/// Sets the local port the socket will be dialled from (0 = modem picks).
#[no_mangle]
pub extern "C" fn mas_socket_bind(handle: mas_handle, port: u16) -> i32 {
    traced!(with_engine(MAS_EALREADY, |e| status(e.bind(Handle(handle), port))), "bind h={handle} port={port}")
}

/// Whether `handle` is a live socket (not closed, not stale).
#[no_mangle]
pub extern "C" fn mas_socket_is_open(handle: mas_handle) -> bool {
    with_engine(false, |e| e.is_open(Handle(handle)))
}

/// The slot (0..5) `handle` names, or -1 for a value no handle has. Pure: reads no engine
/// state, so a finaliser may call it in the middle of an operation.
#[no_mangle]
pub extern "C" fn mas_handle_slot(handle: mas_handle) -> i32 {
    Handle(handle).slot_index().and_then(|i| i32::try_from(i).ok()).unwrap_or(-1)
}

/// Whether `newer` names the same slot as `older` in a later generation, which makes `older`
/// stale (closing it would do nothing). Pure, like `mas_handle_slot`.
#[no_mangle]
pub extern "C" fn mas_handle_supersedes(newer: mas_handle, older: mas_handle) -> bool {
    Handle(newer).supersedes(Handle(older))
}

/// Starts dialling the modem socket to `peer`.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_connect_begin(handle: mas_handle, peer: *const mas_addr) -> i32 {
    // Safety: NULL is checked; otherwise the caller passes a valid `mas_addr`.
    let Some(peer) = (unsafe { peer.as_ref() }).and_then(|p| p.to_socket_addr()) else {
        return MAS_EINVAL;
    };
    traced!(with_engine(MAS_EALREADY, |e| status(e.begin_connect(Handle(handle), peer))), "connect h={handle} peer={}", Peer(Some(peer)))
}

/// Starts a send of `len` bytes to `peer` (NULL: the connected peer). The bytes are copied.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_sendto_begin(handle: mas_handle, data: *const u8, len: usize, peer: *const mas_addr) -> i32 {
    // Safety: the caller passes `len` readable bytes at `data` (NULL only with 0).
    let Some(data) = (unsafe { slice_arg(data, len) }) else { return MAS_EINVAL };
    let peer = if peer.is_null() {
        None
    } else {
        // Safety: non-NULL, so the caller passes a valid `mas_addr`.
        match unsafe { &*peer }.to_socket_addr() {
            Some(addr) => Some(addr),
            None => return MAS_EINVAL,
        }
    };
    traced!(with_engine(MAS_EALREADY, |e| status(e.begin_sendto(Handle(handle), data, peer))), "sendto h={handle} len={len} peer={}", Peer(peer))
}

/// Starts a receive. `timeout_ms`: negative blocks forever, 0 does not block.
#[no_mangle]
pub extern "C" fn mas_recvfrom_begin(handle: mas_handle, timeout_ms: i32, now_ms: u32) -> i32 {
    let timeout = u32::try_from(timeout_ms).ok();
    traced!(with_engine(MAS_EALREADY, |e| status(e.begin_recvfrom(Handle(handle), timeout, now_ms))), "recvfrom h={handle} timeout={timeout_ms} now={now_ms}")
}

/// Starts a readiness check: is a datagram waiting?
#[no_mangle]
pub extern "C" fn mas_poll_begin(handle: mas_handle, now_ms: u32) -> i32 {
    let _ = now_ms;
    traced!(with_engine(MAS_EALREADY, |e| status(e.begin_poll(Handle(handle)))), "poll h={handle} now={now_ms}")
}

/// The arguments both resolve calls take, checked: the name, the record type for `family`
/// (4 or 6) and the server (`None` for NULL).
///
/// # Safety
/// As for the callers.
unsafe fn resolve_args<'a>(
    host: *const cty::c_char,
    len: usize,
    family: u8,
    server: *const mas_addr,
) -> Result<(&'a [u8], crate::dns::RecordType, Option<SocketAddr>), i32> {
    // Safety: the caller passes `len` readable bytes at `host` (NULL only with 0).
    let host = (unsafe { slice_arg(host.cast::<u8>(), len) }).ok_or(MAS_EINVAL)?;
    let kind = match family {
        4 => crate::dns::RecordType::A,
        6 => crate::dns::RecordType::Aaaa,
        _ => return Err(MAS_EINVAL),
    };
    let server = if server.is_null() {
        None
    } else {
        // Safety: non-NULL, so the caller passes a valid `mas_addr`.
        Some(unsafe { &*server }.to_socket_addr().ok_or(MAS_EINVAL)?)
    };
    Ok((host, kind, server))
}

/// Takes a free modem slot for a TCP stream (no AT exchange). `MAS_ENOMEM` when all six
/// connIds (shared by every kind of socket) are in use.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_stream_open(out: *mut mas_handle) -> i32 {
    // Safety: as this function's own contract.
    let result = unsafe { write_opened(out, Engine::open_stream) };
    // Safety: written when `result` is 0.
    traced!(result, "stream_open handle={}", if result == 0 { unsafe { out.read() } } else { 0 })
}

/// Starts dialling a stream to `peer` (once per stream: `MAS_EISCONN` after that). The
/// operation ends with `MAS_ECONNREFUSED` when the modem answers `NO CARRIER`.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_stream_connect_begin(handle: mas_handle, peer: *const mas_addr) -> i32 {
    // Safety: NULL is checked; otherwise the caller passes a valid `mas_addr`.
    let Some(peer) = (unsafe { peer.as_ref() }).and_then(|p| p.to_socket_addr()) else {
        return MAS_EINVAL;
    };
    traced!(with_engine(MAS_EALREADY, |e| status(e.begin_stream_connect(Handle(handle), peer))), "stream_connect h={handle} peer={}", Peer(Some(peer)))
}

/// Starts sending the first bytes of `data` (`len` > 0) that one command of this transport
/// carries; `*taken` is set to that count, which the outcome's `len` confirms. The bytes are
/// copied. `MAS_EPIPE` once the modem closed the stream, `MAS_ECONNRESET` after a reboot; the
/// operation ends with `MAS_EAGAIN` while the modem's send buffer is full.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_stream_send_begin(handle: mas_handle, data: *const u8, len: usize, taken: *mut usize) -> i32 {
    // Safety: the caller passes `len` readable bytes at `data` (NULL only with 0).
    let Some(data) = (unsafe { slice_arg(data, len) }) else { return MAS_EINVAL };
    if taken.is_null() {
        return MAS_EINVAL;
    }
    let result = with_engine(MAS_EALREADY, |e| match e.begin_stream_send(Handle(handle), data) {
        Ok(n) => {
            // Safety: checked non-NULL above.
            unsafe { taken.write(n) };
            0
        }
        Err(error) => errno_of(error),
    });
    // Safety: checked non-NULL above; written when `result` is 0.
    traced!(result, "stream_send h={handle} len={len} taken={}", if result == 0 { unsafe { taken.read() } } else { 0 })
}

/// Starts a read of at most `max` bytes (capped at `MAS_MAX_DATAGRAM`; the rest stays at the
/// modem). `timeout_ms`: negative blocks forever, 0 does not block. The outcome's `data_len`
/// is 0 at the end of the stream (the peer closed it); `MAS_ECONNRESET` after a reboot.
#[no_mangle]
pub extern "C" fn mas_stream_recv_begin(handle: mas_handle, max: usize, timeout_ms: i32, now_ms: u32) -> i32 {
    let timeout = u32::try_from(timeout_ms).ok();
    traced!(
        with_engine(MAS_EALREADY, |e| status(e.begin_stream_recv(Handle(handle), max, timeout, now_ms))),
        "stream_recv h={handle} max={max} timeout={timeout_ms} now={now_ms}"
    )
}

/// certValidLevel values `mas_secure.level` takes (LR5 reading): none; the CA and the dates;
/// the CA, the dates and the host name.
pub const MAS_TLS_LEVEL_NONE: u8 = 0;
pub const MAS_TLS_LEVEL_CA_AND_DATES: u8 = 3;
pub const MAS_TLS_LEVEL_CA_DATES_AND_NAME: u8 = 7;
const _: () = assert!(
    MAS_TLS_LEVEL_NONE == crate::engine::secure::LEVEL_NONE
        && MAS_TLS_LEVEL_CA_AND_DATES == crate::engine::secure::LEVEL_CA_AND_DATES
        && MAS_TLS_LEVEL_CA_DATES_AND_NAME == crate::engine::secure::LEVEL_CA_DATES_AND_NAME
);

/// What a secure stream asks of the modem (see `engine::secure`). Slots are -1 when absent.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mas_secure {
    /// certValidLevel as on LR5: 0 none, 3 CA and dates, 7 CA, dates and host name.
    pub level: u8,
    pub ca_slot: i16,
    pub cert_slot: i16,
    pub key_slot: i16,
}

fn slot_of(value: i16) -> Result<Option<u8>, ()> {
    match value {
        -1 => Ok(None),
        0..=19 => u8::try_from(value).map(Some).map_err(|_| ()),
        _ => Err(()),
    }
}

/// Whether `pem` (`len` bytes, LF line ends) is a credential the modem can store: 0, or
/// `MAS_EINVAL` (not PEM text) / `MAS_EMSGSIZE` (over 8 KiB, 2 KiB for a key).
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_cred_check(pem: *const u8, len: usize, private_key: bool) -> i32 {
    // Safety: the caller passes `len` readable bytes at `pem` (NULL only with 0).
    let Some(pem) = (unsafe { slice_arg(pem, len) }) else { return MAS_EINVAL };
    status(crate::engine::secure::check_pem(pem, private_key).map(|_| ()))
}

/// SHA-256 of the credential's kind and bytes, into `out` (32 bytes): the fingerprint the
/// shim keeps to write a credential only when it differs from what the modem holds.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_cred_fingerprint(pem: *const u8, len: usize, private_key: bool, out: *mut u8) -> i32 {
    use sha2::Digest;
    // Safety: the caller passes `len` readable bytes at `pem` (NULL only with 0).
    let Some(pem) = (unsafe { slice_arg(pem, len) }) else { return MAS_EINVAL };
    if out.is_null() {
        return MAS_EINVAL;
    }
    let mut hash = sha2::Sha256::new();
    hash.update([u8::from(private_key)]);
    hash.update(pem);
    let digest = hash.finalize();
    // Safety: non-NULL, and the caller passes 32 writable bytes.
    unsafe { core::ptr::copy_nonoverlapping(digest.as_ptr(), out, 32) };
    0
}

/// Starts `AT+SQNSNVW` for a certificate or private key of `size` bytes into `index` (0..19);
/// size 0 deletes. The operation ends at the modem's prompt; the PEM follows with
/// `mas_cred_piece_begin`.
#[no_mangle]
pub extern "C" fn mas_cred_write_begin(private_key: bool, index: u8, size: u16) -> i32 {
    traced!(
        with_engine(MAS_EALREADY, |e| status(e.begin_cred_write(private_key, index, size))),
        "cred_write key={} index={index} size={size}",
        u8::from(private_key)
    )
}

/// Starts writing the next piece of the PEM after the prompt: `rest` is what is left of it;
/// `*taken` is set to how much of it this piece uses. The piece that uses all of `rest` is
/// the last and ends with the modem's verdict (`MAS_EIO` when it refuses the PEM).
/// `lf_terminator`: the transport ends every write with CR LF (firmware 1.18).
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_cred_piece_begin(rest: *const u8, len: usize, lf_terminator: bool, taken: *mut usize) -> i32 {
    // Safety: the caller passes `len` readable bytes at `rest` (NULL only with 0).
    let Some(rest) = (unsafe { slice_arg(rest, len) }) else { return MAS_EINVAL };
    if taken.is_null() || rest.is_empty() {
        return MAS_EINVAL;
    }
    let result = with_engine(MAS_EALREADY, |e| match e.begin_cred_piece(rest, lf_terminator) {
        Ok(n) => {
            // Safety: checked non-NULL above.
            unsafe { taken.write(n) };
            0
        }
        Err(error) => errno_of(error),
    });
    // Safety: checked non-NULL above; written when `result` is 0.
    traced!(
        result,
        "cred_piece len={len} lf={} taken={}",
        u8::from(lf_terminator),
        if result == 0 { unsafe { taken.read() } } else { 0 }
    )
}

/// The peer a stream is connected to (`MAS_ENOTCONN` when it is not).
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_stream_peer(handle: mas_handle, out: *mut mas_addr) -> i32 {
    if out.is_null() {
        return MAS_EINVAL;
    }
    with_engine(MAS_EALREADY, |e| match e.stream_peer(Handle(handle)) {
        Ok(peer) => {
            // Safety: checked non-NULL above.
            unsafe { out.write(mas_addr::from_socket_addr(peer)) };
            0
        }
        Err(error) => errno_of(error),
    })
}

/// Starts re-dialling the stream `handle` with TLS to `peer`, by the host name `host` (`len`
/// bytes; NULL to dial the address) with the verification and credentials of `params`. The
/// operation ends with `MAS_ECONNABORTED` when the handshake fails, `MAS_EAGAIN` when the
/// certificate dates are to be checked and the modem's clock is not set; the stream is then not
/// connected and should be closed.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_secure_connect_begin(
    handle: mas_handle,
    peer: *const mas_addr,
    host: *const cty::c_char,
    len: usize,
    params: *const mas_secure,
) -> i32 {
    // Safety: NULL is checked; otherwise the caller passes a valid `mas_addr`.
    let Some(peer) = (unsafe { peer.as_ref() }).and_then(|p| p.to_socket_addr()) else {
        return MAS_EINVAL;
    };
    // Safety: NULL is checked; otherwise the caller passes a valid `mas_secure`.
    let Some(p) = (unsafe { params.as_ref() }) else { return MAS_EINVAL };
    let host = if host.is_null() {
        None
    } else {
        // Safety: the caller passes `len` readable bytes at `host`.
        match unsafe { slice_arg(host.cast::<u8>(), len) } {
            Some(h) => Some(h),
            None => return MAS_EINVAL,
        }
    };
    let (Ok(ca), Ok(cert), Ok(key)) = (slot_of(p.ca_slot), slot_of(p.cert_slot), slot_of(p.key_slot)) else {
        return MAS_EINVAL;
    };
    let params = crate::engine::secure::SecureParams { level: p.level, ca, cert, key };
    traced!(
        with_engine(MAS_EALREADY, |e| status(e.begin_secure_connect(Handle(handle), peer, host, params))),
        "secure_connect h={handle} peer={} host={} level={} ca={} cert={} key={}",
        Peer(Some(peer)),
        host.map_or(Text(b"-"), Text),
        p.level,
        p.ca_slot,
        p.cert_slot,
        p.key_slot
    )
}

/// Starts listening on `port` with a stream that has not connected (`AT+SQNSL`); the
/// handle becomes a listener. The operation ends with `MAS_EADDRINUSE` when the modem refuses.
#[no_mangle]
pub extern "C" fn mas_listen_begin(handle: mas_handle, port: u16) -> i32 {
    traced!(with_engine(MAS_EALREADY, |e| status(e.begin_listen(Handle(handle), port))), "listen h={handle} port={port}")
}

/// Starts waiting for a connection on a listener and accepting it (`AT+SQNSS` polls, then
/// `AT+SQNSA`). On success the handle *is* the accepted connection (the modem keeps the
/// connId; the listener has stopped) and `outcome.from` its peer: listen again with a new
/// stream to take the next one. `timeout_ms` as for receives.
#[no_mangle]
pub extern "C" fn mas_accept_begin(handle: mas_handle, timeout_ms: i32, now_ms: u32) -> i32 {
    let timeout = u32::try_from(timeout_ms).ok();
    traced!(
        with_engine(MAS_EALREADY, |e| status(e.begin_accept(Handle(handle), timeout, now_ms))),
        "accept h={handle} timeout={timeout_ms} now={now_ms}"
    )
}

/// Starts resolving the host name `host` (`len` bytes) to IPv4 (`family` 4) or IPv6 (6)
/// addresses: the modem's resolver first, then, if `server` is not NULL, a DNS query to it over
/// a modem socket borrowed for the lookup. `query_id` should be random. `MAS_EINVAL` for a
/// name that is not a valid DNS name (nothing reaches the modem); the operation ends with
/// `MAS_ENONAME` when no address is found, `MAS_EMSGSIZE` when the name fits neither the
/// modem's command nor a query the transport can carry.
///
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_resolve_begin(
    host: *const cty::c_char,
    len: usize,
    family: u8,
    server: *const mas_addr,
    query_id: u16,
) -> i32 {
    // Safety: as documented above, passed on.
    match unsafe { resolve_args(host, len, family, server) } {
        Ok((host, kind, server)) => traced!(
            with_engine(MAS_EALREADY, |e| status(e.begin_resolve(host, kind, server, query_id))),
            "resolve host={} family={family} server={} id={query_id}",
            Text(host),
            Peer(server)
        ),
        Err(code) => code,
    }
}

/// Starts our own DNS query for `host` to `server` (over a borrowed modem socket) without
/// asking the modem's resolver first: for a caller that already asked it for every family it
/// needs. `server` must not be NULL. `MAS_EMSGSIZE` at the end when the query does not fit the
/// transport.
///
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_resolve_own_begin(
    host: *const cty::c_char,
    len: usize,
    family: u8,
    server: *const mas_addr,
    query_id: u16,
) -> i32 {
    // Safety: as documented above, passed on.
    match unsafe { resolve_args(host, len, family, server) } {
        Ok((host, kind, Some(server))) => {
            traced!(
                with_engine(MAS_EALREADY, |e| status(e.begin_resolve_own(host, kind, server, query_id))),
                "resolve_own host={} family={family} server={} id={query_id}",
                Text(host),
                Peer(Some(server))
            )
        }
        Ok((_, _, None)) => MAS_EINVAL,
        Err(code) => code,
    }
}

/// Starts a registration check (`AT+CGATT?`): the outcome's `readable` is whether the modem
/// is attached to the network; `MAS_EIO` when its answer does not say.
#[no_mangle]
pub extern "C" fn mas_registration_begin() -> i32 {
    traced!(with_engine(MAS_EALREADY, |e| status(e.begin_registration())), "registration")
}

/// Starts a close; the slot is freed when the operation ends, whatever happens.
#[no_mangle]
pub extern "C" fn mas_close_begin(handle: mas_handle) -> i32 {
    traced!(with_engine(MAS_EALREADY, |e| status(e.begin_close(Handle(handle)))), "close h={handle}")
}

/// Feeds the reply to the previous exchange (NULL/0 on the first call) and returns 1 with
/// `*next` filled when another exchange is needed, or 0 with `*outcome` filled when the
/// operation is over (`outcome->error` 0 = success).
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_step(
    reply: *const u8,
    reply_len: usize,
    now_ms: u32,
    next: *mut mas_exchange,
    outcome: *mut mas_outcome,
) -> i32 {
    if next.is_null() || outcome.is_null() {
        return 0;
    }
    let finished = |error: i32| mas_outcome {
        error,
        len: 0,
        data: core::ptr::null(),
        data_len: 0,
        from: mas_addr::default(),
        readable: false,
        addrs: [mas_addr::default(); MAS_MAX_ADDRESSES],
        addr_count: 0,
        ttl_s: -1,
    };
    // Safety: the caller passes `reply_len` readable bytes at `reply` (NULL only with 0).
    let Some(reply) = (unsafe { slice_arg(reply, reply_len) }) else {
        with_engine((), |e| e.abort());
        // Safety: checked non-NULL above.
        unsafe { outcome.write(finished(MAS_EINVAL)) };
        return 0;
    };
    let written = with_engine(None, |e| match e.step(reply, now_ms) {
        Step::Exchange(x) => {
            let kind = match x.kind {
                ExchangeKind::Command => mas_exchange_kind::MAS_EXCHANGE_COMMAND,
                ExchangeKind::Payload => mas_exchange_kind::MAS_EXCHANGE_PAYLOAD,
                ExchangeKind::CommandWithPayload => mas_exchange_kind::MAS_EXCHANGE_COMMAND_WITH_PAYLOAD,
                ExchangeKind::Listen => mas_exchange_kind::MAS_EXCHANGE_LISTEN,
                ExchangeKind::Sleep => mas_exchange_kind::MAS_EXCHANGE_SLEEP,
            };
            let exchange = mas_exchange {
                kind,
                command: x.command.as_ptr(),
                command_len: x.command.len(),
                payload: x.payload.as_ptr(),
                payload_len: x.payload.len(),
                timeout_ms: x.timeout_ms,
            };
            // Safety: checked non-NULL above.
            unsafe { next.write(exchange) };
            Some(1)
        }
        Step::Done(result) => {
            let out = match result {
                Ok(o) => {
                    let mut addrs = [mas_addr::default(); MAS_MAX_ADDRESSES];
                    let mut addr_count = 0;
                    for (slot, ip) in addrs.iter_mut().zip(e.addresses().iter().take(o.resolved)) {
                        *slot = mas_addr::from_socket_addr(SocketAddr::new(*ip, 0));
                        addr_count += 1;
                    }
                    mas_outcome {
                        error: 0,
                        len: o.sent,
                        data: e.datagram().as_ptr(),
                        data_len: o.received,
                        from: o.from.map(mas_addr::from_socket_addr).unwrap_or_default(),
                        readable: o.readable,
                        addrs,
                        addr_count,
                        ttl_s: e.answer_ttl_s().map_or(-1, i64::from),
                    }
                }
                Err(error) => finished(errno_of(error)),
            };
            // Safety: checked non-NULL above.
            unsafe { outcome.write(out) };
            Some(0)
        }
    });
    match written {
        Some(code) => code,
        None => {
            // Safety: checked non-NULL above.
            unsafe { outcome.write(finished(MAS_EALREADY)) };
            0
        }
    }
}

/// Ends the operation in progress (the transport raised). The pool stays consistent: a
/// close still frees its slot, a half-done command marks its slot for a fresh dial.
#[no_mangle]
pub extern "C" fn mas_abort() {
    with_engine((), |e| e.abort());
    if trace::on() {
        trace::note(format_args!("abort -> 0"));
    }
}

/// The last `+CME ERROR` code the modem gave, or -1.
#[no_mangle]
pub extern "C" fn mas_last_cme() -> i32 {
    with_engine(-1, |e| e.last_cme().map_or(-1, i32::from))
}

/// Sockets currently open (for leak checks).
#[no_mangle]
pub extern "C" fn mas_slots_in_use() -> u32 {
    with_engine(0, |e| e.slots_in_use() as u32)
}

/// Modem reboots (`+SYSSTART`) seen since start.
#[no_mangle]
pub extern "C" fn mas_modem_restarts() -> u32 {
    with_engine(0, |e| e.modem_restarts())
}

/// Parses dotted IPv4 or textual IPv6 (`len` bytes, no NUL needed) with `port`.
/// 0, or `MAS_EINVAL` for anything else (host names, brackets, zones, junk).
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_addr_parse(text: *const cty::c_char, len: usize, port: u16, out: *mut mas_addr) -> i32 {
    if out.is_null() {
        return MAS_EINVAL;
    }
    // Safety: the caller passes `len` readable bytes at `text` (NULL only with 0).
    let Some(text) = (unsafe { slice_arg(text.cast::<u8>(), len) }) else { return MAS_EINVAL };
    match crate::addr::parse_socket_addr(text, port) {
        Some(addr) => {
            // Safety: checked non-NULL above.
            unsafe { out.write(mas_addr::from_socket_addr(addr)) };
            0
        }
        None => MAS_EINVAL,
    }
}

/// Writes the IP of `addr` as text (no NUL) into `buf`; returns its length, 0 if it does not
/// fit or `addr` is invalid.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_addr_format(addr: *const mas_addr, buf: *mut cty::c_char, cap: usize) -> usize {
    // Safety: NULL is checked; otherwise the caller passes a valid `mas_addr`.
    let Some(addr) = (unsafe { addr.as_ref() }).and_then(|a| a.to_socket_addr()) else { return 0 };
    if buf.is_null() {
        return 0;
    }
    let text = crate::addr::format_ip(&addr.ip());
    if text.len() > cap {
        return 0;
    }
    // Safety: `buf` is non-NULL with `cap` writable bytes, and `text.len() <= cap`.
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len()) };
    text.len()
}
