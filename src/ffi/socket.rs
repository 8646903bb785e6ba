//! Datagram sockets, and what every handle has: slot, liveness, close.

use super::trace::Peer;
use super::{errno_of, mas_addr, mas_handle, slice_arg, status, with_engine, write_opened, MAS_EALREADY, MAS_EINVAL};
use crate::engine::Engine;
use crate::socket::Handle;

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
    traced!(
        with_engine(MAS_EALREADY, |e| {
            e.set_yield_waits(true);
            status(e.begin_recvfrom(Handle(handle), timeout, now_ms))
        }),
        "recvfrom h={handle} timeout={timeout_ms} now={now_ms}"
    )
}

/// After a receive that ended with `MAS_ETIMEDOUT` before its deadline: how many ms until its
/// next read is due. A receive that finds nothing ends at its first pause instead of sleeping
/// in the engine, so the caller waits this long with the engine free (another thread's
/// operation runs meanwhile), then starts the receive again. Negative: minus a core errno.
#[no_mangle]
pub extern "C" fn mas_recv_wait_ms(handle: mas_handle, now_ms: u32) -> i32 {
    with_engine(MAS_EALREADY, |e| match e.wait_hint_ms(Handle(handle), now_ms) {
        Ok(ms) => i32::try_from(ms).unwrap_or(i32::MAX),
        Err(error) => -errno_of(error),
    })
}

/// Readiness of `handle` as of the last poll sweep (`mas_poll_begin` on any socket): 1 data
/// or a connection is waiting (or a stream has ended), 0 not; no modem exchange.
/// Negative: minus a core errno.
#[no_mangle]
pub extern "C" fn mas_poll_ready(handle: mas_handle) -> i32 {
    with_engine(MAS_EALREADY, |e| match e.ready(Handle(handle)) {
        Ok(ready) => i32::from(ready),
        Err(error) => -errno_of(error),
    })
}

/// Starts a readiness sweep: one `AT+SQNSS` for all six slots. The outcome's `readable` is
/// `handle`'s; `mas_poll_ready` reads every other socket's without an exchange.
#[no_mangle]
pub extern "C" fn mas_poll_begin(handle: mas_handle, now_ms: u32) -> i32 {
    let _ = now_ms;
    traced!(with_engine(MAS_EALREADY, |e| status(e.begin_poll(Handle(handle)))), "poll h={handle} now={now_ms}")
}

/// Starts a close; the slot is freed when the operation ends, whatever happens.
#[no_mangle]
pub extern "C" fn mas_close_begin(handle: mas_handle) -> i32 {
    traced!(with_engine(MAS_EALREADY, |e| status(e.begin_close(Handle(handle)))), "close h={handle}")
}
