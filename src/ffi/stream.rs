//! TCP streams: open, dial, send, receive, peer; listeners and accept.

use super::trace::Peer;
use super::{errno_of, mas_addr, mas_handle, slice_arg, status, with_engine, write_opened, MAS_EALREADY, MAS_EINVAL};
use crate::engine::Engine;
use crate::socket::Handle;

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
        with_engine(MAS_EALREADY, |e| {
            e.set_yield_waits(true);
            status(e.begin_stream_recv(Handle(handle), max, timeout, now_ms))
        }),
        "stream_recv h={handle} max={max} timeout={timeout_ms} now={now_ms}"
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
