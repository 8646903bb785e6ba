//! The C ABI: opaque handles, plain structs and errno results over one static engine.
//!
//! This folder is the only module with `unsafe` and `extern "C"`. Every pointer is checked;
//! results are written only on success; no Rust panic can reach here because the core denies the
//! constructs that panic (see `lib.rs`). Pointers handed out (`mas_exchange`, `mas_outcome`)
//! point into the static engine and stay valid until the next `mas_*` call.
//!
//! The engine is not thread-safe: the shim calls it from one thread at a time, under its own
//! engine lock (`c_glue/lock.c`; the unix port has no GIL, Pycom's firmware has one). A call
//! made while another is running (re-entry from a callback) gets `MAS_EALREADY`.
//!
//! One file per object family: [`socket`] (datagram sockets, handles, close), [`stream`]
//! (TCP streams and listeners), [`secure`] (TLS and credentials), [`resolve`] (host names),
//! [`modem`] (limits, reset, the exchange/outcome step and counters) and [`addr`] (address
//! text). This file holds what they share: the errno values and the one error mapping, the
//! handle and address types, the static engine cell and the pointer helpers.

#![allow(non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::engine::Engine;
use crate::error::Error;
use crate::socket::Handle;

/// The call's result, noted for a trace when one is on (`trace.rs`): `name args -> result`.
macro_rules! traced {
    ($result:expr, $($note:tt)*) => {{
        let result = $result;
        if $crate::ffi::trace::on() {
            $crate::ffi::trace::note(format_args!("{} -> {}", format_args!($($note)*), result));
        }
        result
    }};
}

pub mod addr;
pub mod modem;
pub mod resolve;
pub mod secure;
pub mod socket;
pub mod store;
pub mod stream;
mod trace;

// One flat namespace for Rust callers (the fuzz targets, tests), as the C header has one.
pub use addr::*;
pub use modem::*;
pub use resolve::*;
pub use secure::*;
pub use socket::*;
pub use store::*;
pub use stream::*;

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
/// `sendto` on a UDP server socket to an address other than the last datagram's sender
/// (the modem answers only that one). Not an errno: the shim raises EOPNOTSUPP with its reason.
pub const MAS_ENOTSENDER: i32 = 203;

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
        Error::NotLastSender => MAS_ENOTSENDER,
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

/// The engine's storage, all zero bytes until the first call builds the engine in it. A static
/// initialised with `Engine::new()` would sit in `.data` (its initial value is not all zero), so
/// its 10 KB would cost flash for the initial image as well as RAM; zeroed storage goes to
/// `.bss`, which costs RAM only.
struct EngineCell(UnsafeCell<MaybeUninit<Engine>>);

// Safety: the engine is only reached through `with_engine`, whose guard refuses re-entry;
// the shim calls from one thread at a time (its engine lock in `c_glue/lock.c`).
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
