//! The modem as a whole: the transport's limits, the start-up sweep, the exchange/outcome
//! step every operation runs through, abort, and the counters.

use core::net::SocketAddr;

use super::resolve::MAS_MAX_ADDRESSES;
use super::{errno_of, mas_addr, slice_arg, status, with_engine, MAS_EALREADY, MAS_EINVAL};
use crate::engine::{ExchangeKind, Step};
use crate::limits::Limits;

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

/// Starts a registration check (`AT+CGATT?`): the outcome's `readable` is whether the modem
/// is attached to the network; `MAS_EIO` when its answer does not say.
#[no_mangle]
pub extern "C" fn mas_registration_begin() -> i32 {
    traced!(with_engine(MAS_EALREADY, |e| status(e.begin_registration())), "registration")
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
    if super::trace::on() {
        super::trace::note(format_args!("abort -> 0"));
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
