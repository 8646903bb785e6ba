//! The C ABI as the MicroPython shim calls it, and the checks every exchange it hands out must
//! pass: whatever the modem said, a command is one printable AT line that fits the transport.

use microatsocket::ffi::{mas_exchange, mas_exchange_kind, mas_limits, mas_outcome, mas_step};

/// One step of the operation in progress.
pub enum Stepped {
    Exchange(Exchange),
    Done(mas_outcome),
}

/// An exchange with its text copied out: the core's pointers are valid only until the next call.
pub struct Exchange {
    pub kind: mas_exchange_kind,
    pub command: Vec<u8>,
    pub payload: Vec<u8>,
    pub timeout_ms: u32,
}

impl Exchange {
    /// A receive poll: bounded by the caller's timeout, not by the core's command cap.
    pub fn is_read(&self) -> bool {
        self.command.starts_with(b"AT+SQNSRECV=")
    }

    /// The connId the exchange names (`AT+SQNSH=3`, `AT+SQNSRECV=3,1500`), if any.
    pub fn conn(&self) -> Option<u8> {
        let eq = self.command.iter().position(|&b| b == b'=')?;
        let digit = *self.command.get(eq + 1)?;
        digit.is_ascii_digit().then(|| digit - b'0')
    }
}

pub fn idle_exchange() -> mas_exchange {
    mas_exchange {
        kind: mas_exchange_kind::MAS_EXCHANGE_SLEEP,
        command: std::ptr::null(),
        command_len: 0,
        payload: std::ptr::null(),
        payload_len: 0,
        timeout_ms: 0,
    }
}

pub fn empty_outcome() -> mas_outcome {
    mas_outcome {
        error: -1,
        len: 0,
        data: std::ptr::null(),
        data_len: 0,
        from: Default::default(),
        readable: false,
        addrs: Default::default(),
        addr_count: 0,
        ttl_s: -1,
    }
}

/// Reads `len` bytes the core handed out.
fn copied(ptr: *const u8, len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    assert!(!ptr.is_null(), "NULL pointer with length {len}");
    // Safety: the core hands out pointers into its own buffers, valid until the next call.
    unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec()
}

/// Feeds `reply` and returns what the core wants next.
pub fn step(reply: &[u8], now_ms: u32) -> Stepped {
    let mut next = idle_exchange();
    let mut outcome = empty_outcome();
    // Safety: `reply` is a live slice; `next` and `outcome` are writable locals.
    let more = unsafe { mas_step(reply.as_ptr(), reply.len(), now_ms, &mut next, &mut outcome) };
    match more {
        1 => Stepped::Exchange(Exchange {
            kind: next.kind,
            command: copied(next.command, next.command_len),
            payload: copied(next.payload, next.payload_len),
            timeout_ms: next.timeout_ms,
        }),
        0 => Stepped::Done(outcome),
        other => panic!("mas_step returned {other}"),
    }
}

/// A command line the firmware writes as it is: `AT`, printable ASCII, balanced quotes, and
/// never the firmware's read-only directive.
fn check_command_line(command: &[u8]) {
    assert!(command.starts_with(b"AT"), "not a command: {:?}", String::from_utf8_lossy(command));
    assert!(
        command.iter().all(|&b| (0x20..0x7f).contains(&b)),
        "a byte that would end or corrupt the command line: {command:?}"
    );
    assert_eq!(command.iter().filter(|&&b| b == b'"').count() % 2, 0, "unbalanced quotes: {command:?}");
    assert!(!command.windows(11).any(|w| w == b"Pycom_Dummy"), "firmware directive in {command:?}");
}

pub fn check_exchange(x: &Exchange, limits: &mas_limits) {
    use mas_exchange_kind::*;
    let max = usize::from(limits.max_command_len);
    let fits = |len: usize| max == 0 || len <= max;
    match x.kind {
        MAS_EXCHANGE_COMMAND => {
            check_command_line(&x.command);
            assert!(x.payload.is_empty(), "a command with a payload");
            assert!(fits(x.command.len()), "{} bytes over the {max}-byte limit", x.command.len());
        }
        MAS_EXCHANGE_PAYLOAD | MAS_EXCHANGE_COMMAND_WITH_PAYLOAD => {
            let combined = x.kind == MAS_EXCHANGE_COMMAND_WITH_PAYLOAD;
            // A plain payload also follows an aborted combined send: the resync that brings
            // a modem perhaps left waiting for payload back to command mode.
            assert!(!combined || limits.combined_send, "a combined send without combined_send");
            if combined {
                check_command_line(&x.command);
                assert!(x.command.starts_with(b"AT+SQNSSENDEXT="), "{:?}", x.command);
            } else {
                assert!(x.command.is_empty(), "a payload exchange with a command");
            }
            assert!(!x.payload.is_empty(), "an empty payload");
            let written = if combined { x.command.len() + 1 + x.payload.len() } else { x.payload.len() };
            assert!(fits(written), "{written} bytes over the {max}-byte limit");
            assert!(x.payload.len() <= 2 * microatsocket::MAX_DATAGRAM);
            // Hex text, or raw bytes that could not read as an AT command: a payload is written
            // without the prompt seen (and again after an abort), so a modem that refused the
            // command reads it as command lines. A resync writes the payload as it was staged,
            // raw perhaps, whatever the limits became since.
            let hex = x.payload.len().is_multiple_of(2) && x.payload.iter().all(u8::is_ascii_hexdigit);
            assert!(hex || microatsocket::payload::command_safe(&x.payload), "{:?}", x.payload);
            if limits.send_hex && combined {
                assert!(hex, "a new payload in raw where hex is configured");
            }
        }
        MAS_EXCHANGE_LISTEN | MAS_EXCHANGE_SLEEP => {
            assert!(x.command.is_empty() && x.payload.is_empty(), "a wait that writes");
            assert!(x.timeout_ms > 0, "a wait of 0 ms");
            if x.kind == MAS_EXCHANGE_SLEEP {
                assert!(x.timeout_ms <= 100, "a receive pause of {} ms", x.timeout_ms);
            }
        }
    }
}
