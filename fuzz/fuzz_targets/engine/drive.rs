//! Stepping one operation to its end, answering from the script, and the checks on its
//! exchanges, its outcome and the pool.

use microatsocket::ffi::*;

use crate::abi::{self, check_exchange, step, Exchange, Stepped};
use crate::modem::Context;
use crate::{Harness, OpKind, COMMAND_CAP, FOREVER_STEPS, RESOLVE_WAIT_MS};

impl Harness<'_> {
    /// Steps the operation just begun to its end, answering from the script. `interrupt`:
    /// bit 7 abandons it after `interrupt & 15` exchanges (bit 5: as the shim does when the
    /// transport raised, `mas_abort`; else a bad reply pointer); bit 6 makes a second call
    /// at exchange `(interrupt >> 4) & 3`, which must be refused.
    pub(crate) fn drive(&mut self, kind: OpKind, interrupt: u8) -> Option<mas_outcome> {
        let deadline = match kind {
            OpKind::RecvFrom { timeout_ms: Some(ms) } => Some(self.now.wrapping_add(ms)),
            _ => None,
        };
        let cap = match kind {
            OpKind::RecvFrom { timeout_ms: None } => FOREVER_STEPS,
            _ => {
                let wait_ms = match kind {
                    OpKind::RecvFrom { timeout_ms: Some(ms) } => ms,
                    OpKind::Resolve { .. } => RESOLVE_WAIT_MS,
                    _ => 0,
                };
                // Commands, a pause and a read per 10 ms of waiting, one answer per script byte.
                COMMAND_CAP + 2 * (wait_ms as usize / 10 + 4) + self.script.remaining() + 8
            }
        };
        trace(|| format!("{:>10} {kind:?} begins", self.now));
        let abandon_at = (interrupt & 0x80 != 0).then_some(usize::from(interrupt & 0x0f));
        let meddle_at = (interrupt & 0x40 != 0).then_some(usize::from((interrupt >> 4) & 3));
        let (mut commands, mut late_reads) = (0, 0);
        let mut reply = Vec::new();
        for steps in 0.. {
            let x = match step(&reply, self.now) {
                Stepped::Done(outcome) => {
                    trace(|| format!("{kind:?} done: {outcome:?}"));
                    self.check_outcome(kind, &outcome);
                    return Some(outcome);
                }
                Stepped::Exchange(x) => x,
            };
            check_exchange(&x, &self.limits);
            trace(|| format!("{:>10} {:?} {:?} {:?} {}", self.now, x.kind, text(&x.command), text(&x.payload), x.timeout_ms));
            if x.is_read() {
                if deadline.is_some_and(|d| (self.now.wrapping_sub(d) as i32) > 0) {
                    late_reads += 1;
                    assert!(late_reads <= 1, "{kind:?}: read again and again past its deadline");
                }
            } else if !x.command.is_empty() || !x.payload.is_empty() {
                // A read cut short by a reboot is made again once the socket is dialled anew:
                // one more late read per re-dial, and re-dials are bounded by the command cap.
                late_reads = 0;
                commands += 1;
                assert!(commands <= COMMAND_CAP, "{kind:?}: more than {COMMAND_CAP} commands");
            }
            if steps >= cap {
                assert_eq!(kind, OpKind::RecvFrom { timeout_ms: None }, "no end within {cap} exchanges");
                mas_abort();
                return None;
            }
            if meddle_at == Some(steps) {
                self.meddle();
            }
            if abandon_at == Some(steps) {
                self.abandon(interrupt & 0x20 != 0);
                return None;
            }
            self.advance_clock(&x);
            if !x.payload.is_empty() {
                self.remember_payload(&x.payload);
            }
            reply = if x.kind == mas_exchange_kind::MAS_EXCHANGE_SLEEP {
                Vec::new()
            } else {
                let cx = Context { conn: x.conn().unwrap_or(1), recv_hex: self.limits.recv_hex, last_payload: &self.last_payload };
                self.script.reply(&cx)
            };
            trace(|| format!("{:>10} <- {:?}", self.now, text(&reply)));
        }
        unreachable!()
    }

    /// A second call while an operation runs (a callback re-entering the module) is refused.
    pub(crate) fn meddle(&mut self) {
        let handle = self.sockets.first().map_or(0, |s| s.handle);
        assert_eq!(mas_reset_begin(), MAS_EALREADY);
        assert_eq!(mas_close_begin(handle), MAS_EALREADY);
        assert_eq!(mas_poll_begin(handle, self.now), MAS_EALREADY);
        // Safety: a live local.
        assert_eq!(unsafe { mas_configure(&self.limits) }, MAS_EALREADY);
    }

    /// The transport failed mid-operation: the operation ends there.
    pub(crate) fn abandon(&mut self, by_abort: bool) {
        if by_abort {
            mas_abort();
            return;
        }
        let mut next = abi::idle_exchange();
        let mut outcome = abi::empty_outcome();
        // Safety: a NULL reply with a length is refused before it is read; the rest are locals.
        let more = unsafe { mas_step(std::ptr::null(), 5, self.now, &mut next, &mut outcome) };
        assert_eq!((more, outcome.error), (0, MAS_EINVAL));
    }

    pub(crate) fn advance_clock(&mut self, x: &Exchange) {
        let ms = match x.kind {
            mas_exchange_kind::MAS_EXCHANGE_SLEEP => x.timeout_ms + u32::from(self.script.byte_or(0) & 3),
            _ => self.script.elapsed_ms(x.timeout_ms),
        };
        self.now = self.now.wrapping_add(ms);
    }

    pub(crate) fn remember_payload(&mut self, payload: &[u8]) {
        self.last_payload = if self.limits.send_hex {
            payload
                .chunks(2)
                .filter_map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
                .collect()
        } else {
            payload.to_vec()
        };
    }

    pub(crate) fn check_outcome(&self, kind: OpKind, o: &mas_outcome) {
        let expected_errors = [MAS_EIO, MAS_ETIMEDOUT, MAS_EHOSTUNREACH, MAS_EMSGSIZE, MAS_ENOTCONN];
        match o.error {
            0 => {}
            MAS_EAGAIN => assert_eq!(kind, OpKind::RecvFrom { timeout_ms: Some(0) }, "EAGAIN"),
            MAS_ENONAME | MAS_ENOMEM => assert!(matches!(kind, OpKind::Resolve { .. }), "{kind:?}: {}", o.error),
            // A listening UDP socket answers only the sender of the datagram it read last.
            MAS_ENOTSENDER => assert!(matches!(kind, OpKind::SendTo { .. }), "{kind:?}: {}", o.error),
            // A bound socket's first receive or poll listens (AT+SQNSLUDP); a refused listen.
            MAS_EADDRINUSE => assert!(matches!(kind, OpKind::RecvFrom { .. } | OpKind::Poll), "{kind:?}: {}", o.error),
            e => assert!(expected_errors.contains(&e), "{kind:?} ended with errno {e}"),
        }
        if !matches!(kind, OpKind::Resolve { .. }) || o.error != 0 {
            assert_eq!(o.addr_count, 0);
        }
        if o.error != 0 {
            return;
        }
        match kind {
            OpKind::SendTo { len } => assert_eq!(o.len, len, "sent"),
            OpKind::RecvFrom { .. } => {
                assert!((1..=MAS_MAX_DATAGRAM).contains(&o.data_len), "received {} bytes", o.data_len);
                assert!(!o.data.is_null());
                let unreported = o.from.family == 0 && self.any_bound;
                assert!(matches!(o.from.family, 4 | 6) || unreported, "sender family {}", o.from.family);
            }
            OpKind::Resolve { family } => {
                assert!((1..=MAS_MAX_ADDRESSES).contains(&o.addr_count), "{} addresses", o.addr_count);
                let found = &o.addrs[..o.addr_count];
                if family == 0 {
                    // Both families: IPv6 addresses first.
                    assert!(found.iter().all(|a| matches!(a.family, 4 | 6)), "{found:?}");
                    assert!(found.windows(2).all(|w| w[0].family >= w[1].family), "IPv6 first: {found:?}");
                } else {
                    assert!(found.iter().all(|a| a.family == family), "{found:?}");
                }
            }
            _ => {}
        }
    }

    /// The slots in use are exactly the open sockets; closed handles stay closed.
    pub(crate) fn check_pool(&self) {
        let live = self.sockets.iter().filter(|s| s.live).count();
        assert_eq!(mas_slots_in_use() as usize, live, "slots in use vs sockets open");
        for s in &self.sockets {
            assert_eq!(mas_socket_is_open(s.handle), s.live, "handle {:#x}", s.handle);
        }
    }
}

/// `ENGINE_TRACE=1` prints every exchange and answer, for reading a saved input.
fn trace(line: impl FnOnce() -> String) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("ENGINE_TRACE").is_some()) {
        eprintln!("{}", line());
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
