//! The one digester for all modem text.
//!
//! [`digest`] looks at the start of the unparsed text and returns the first complete event
//! plus how many bytes it used, or `(None, skipped)` when it needs more bytes. It never reads
//! past its input and returns a result for every input, so the caller can feed replies that
//! were cut anywhere (mid-token, between CR and LF, in 2048-byte pieces).
//!
//! Lines are classified by *name*, not by prefix (sequans-at-sockets.md §1): a `+NAME:` line
//! naming the pending command is that command's answer; URCs come from an explicit list;
//! any other `+SQN...` line belongs to features this module does not use and is ignored.

use core::net::SocketAddr;

use super::fields::{next_number, split};

/// A final result code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Final {
    Ok,
    Error,
    /// `+CME ERROR: <n>`; `None` for the text form (`AT+CMEE=2`).
    CmeError(Option<u16>),
    NoCarrier,
    Connect,
}

/// An unsolicited result code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Urc {
    /// `+SQNSRING: <conn>[,<buffered>[,<data>]]`: data waiting on `conn`.
    Ring { conn: u8, buffered: Option<u16> },
    /// `+SQNSH: <conn>`: the modem closed the socket itself.
    Closed { conn: u8 },
    /// `+SYSSTART`: the modem (re)booted; every socket is gone.
    SysStart,
    /// `+SHUTDOWN`: the modem is going down.
    Shutdown,
    /// `^EXIT...`: modem firmware exception (a reboot follows).
    Exception,
    /// Unsolicited `+CEREG: <stat>...`.
    Registration { stat: u8 },
    /// A URC of a feature this module does not use.
    Ignored,
}

/// One thing found in the modem text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    Final(Final),
    /// The `> ` data prompt after `AT+SQNSSENDEXT`.
    Prompt,
    /// An information line of the pending command: the text after `+NAME:`, trimmed.
    Info(&'a [u8]),
    /// An `AT+SQNSRECV` answer: header and payload, the payload as on the wire. `hex`: the
    /// payload is hex text; false when it came raw (always in raw mode, and in hex mode from a
    /// modem that lost its settings). `from`: the sender, when the header names it
    /// (`<conn>,<n>,<addr>,<port>`, the form Walter's driver reads for a socket that takes
    /// datagrams from any sender); `None` for the two-field header of a dialled socket.
    Received { conn: u8, data: &'a [u8], hex: bool, from: Option<SocketAddr> },
    Urc(Urc),
    /// Text that is none of the above (stray lines, garbage); skipped.
    Noise,
}

/// What the digester must know about the exchange in progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    /// Name of the pending command (`b"SQNSRECV"`), empty when none.
    pub name: &'static [u8],
    /// `AT+SQNSRECV` payloads are hex text.
    pub recv_hex: bool,
}

fn is_line_end(b: u8) -> bool {
    b == b'\r' || b == b'\n'
}

/// Bytes that separate tokens and carry nothing: line ends, stray spaces, NUL.
fn is_filler(b: u8) -> bool {
    is_line_end(b) || b == b' ' || b == 0
}

/// Digests the first event in `buf`. See the module docs.
pub fn digest<'a>(buf: &'a [u8], pending: &Pending) -> (Option<Event<'a>>, usize) {
    let skipped = buf.iter().take_while(|&&b| is_filler(b)).count();
    let Some(text) = buf.get(skipped..) else {
        return (None, buf.len());
    };
    if text.is_empty() {
        return (None, skipped);
    }
    if text.starts_with(b"> ") {
        return (Some(Event::Prompt), skipped + 2);
    }
    if text == b">" {
        return (None, skipped);
    }
    let Some(line_len) = text.iter().position(|&b| is_line_end(b)) else {
        return (None, skipped);
    };
    let line = text.get(..line_len).unwrap_or_default().trim_ascii_end();
    let after_line = skipped + line_len;
    match classify(line, pending) {
        Classified::Event(event) => (Some(event), after_line),
        Classified::ReceiveHeader { conn, len, from } => {
            match receive_payload(buf, after_line, len, pending.recv_hex) {
                PayloadScan::Complete { data, end, hex } => (Some(Event::Received { conn, data, hex, from }), end),
                PayloadScan::Incomplete => (None, skipped),
            }
        }
    }
}

enum Classified<'a> {
    Event(Event<'a>),
    ReceiveHeader { conn: u8, len: usize, from: Option<SocketAddr> },
}

fn classify<'a>(line: &'a [u8], pending: &Pending) -> Classified<'a> {
    let event = match line {
        b"OK" => Event::Final(Final::Ok),
        b"ERROR" => Event::Final(Final::Error),
        b"NO CARRIER" => Event::Final(Final::NoCarrier),
        _ if line.starts_with(b"CONNECT") => Event::Final(Final::Connect),
        _ if line.starts_with(b"+CME ERROR") => {
            let code = line
                .iter()
                .position(|&b| b == b':')
                .and_then(|i| line.get(i + 1..))
                .and_then(|rest| crate::addr::parse_decimal(rest.trim_ascii()))
                .and_then(|n| u16::try_from(n).ok());
            Event::Final(Final::CmeError(code))
        }
        _ if line.starts_with(b"^EXIT") => Event::Urc(Urc::Exception),
        [b'+', named @ ..] => return classify_named(named, pending),
        _ => Event::Noise,
    };
    Classified::Event(event)
}

fn classify_named<'a>(named: &'a [u8], pending: &Pending) -> Classified<'a> {
    let colon = named.iter().position(|&b| b == b':');
    let name = colon.and_then(|i| named.get(..i)).unwrap_or(named);
    let rest = colon.and_then(|i| named.get(i + 1..)).unwrap_or_default().trim_ascii();
    if !pending.name.is_empty() && name == pending.name {
        if name == b"SQNSRECV" {
            let mut fields = split(rest);
            let conn = next_number(&mut fields).and_then(|n| u8::try_from(n).ok());
            let len = next_number(&mut fields).and_then(|n| usize::try_from(n).ok());
            let from = sender(&mut fields);
            return match (conn, len) {
                (Some(conn), Some(len)) if len <= crate::MAX_DATAGRAM => {
                    Classified::ReceiveHeader { conn, len, from }
                }
                _ => Classified::Event(Event::Noise),
            };
        }
        return Classified::Event(Event::Info(rest));
    }
    let mut fields = split(rest);
    let first = next_number(&mut fields).and_then(|n| u8::try_from(n).ok());
    let urc = match (name, first) {
        (b"SQNSRING", Some(conn)) => Urc::Ring {
            conn,
            buffered: next_number(&mut fields).and_then(|n| u16::try_from(n).ok()),
        },
        (b"SQNSH", Some(conn)) => Urc::Closed { conn },
        (b"SYSSTART", _) => Urc::SysStart,
        (b"SHUTDOWN", _) => Urc::Shutdown,
        (b"CEREG", Some(stat)) => Urc::Registration { stat },
        _ => Urc::Ignored,
    };
    Classified::Event(Event::Urc(urc))
}

/// The sender fields after `<conn>,<n>`: `<addr>,<port>`, the address quoted or not, in any
/// form the modem prints addresses (dotted IPv4, colon IPv6, 16 dotted bytes). `None` when
/// they are absent, or are not exactly an address and a port: a header the module cannot
/// read the sender from never makes one up (the payload is still read by its count).
fn sender(fields: &mut super::fields::Fields<'_>) -> Option<SocketAddr> {
    let ip = fields.next().and_then(crate::addr::parse_modem_ip)?;
    let port = next_number(fields).and_then(|n| u16::try_from(n).ok())?;
    if fields.next().is_some() {
        return None;
    }
    Some(SocketAddr::new(ip, port))
}

enum PayloadScan<'a> {
    Complete { data: &'a [u8], end: usize, hex: bool },
    Incomplete,
}

/// Reads the payload that follows a `+SQNSRECV: <conn>,<len>` header ending at `header_end`.
/// The header's byte count is always honoured, so nothing a peer puts in a datagram is ever
/// read as a modem line: in hex mode the payload is exactly `2 * len` hex digits; if what
/// follows is not that (a modem that lost its settings after an unseen reboot sends raw
/// bytes), it is `len` raw bytes, which may hold CR, LF, "OK" or a URC's text.
fn receive_payload(buf: &[u8], header_end: usize, len: usize, hex: bool) -> PayloadScan<'_> {
    let Some(after_header) = buf.get(header_end..) else {
        return PayloadScan::Incomplete;
    };
    let line_end = match after_header {
        [b'\r', b'\n', ..] => 2,
        [b'\r'] | [] => return PayloadScan::Incomplete,
        [b'\r', ..] | [b'\n', ..] => 1,
        _ => 0,
    };
    let start = header_end + line_end;
    if len == 0 {
        return PayloadScan::Complete { data: &[], end: start, hex };
    }
    let Some(payload) = buf.get(start..) else {
        return PayloadScan::Incomplete;
    };
    if hex {
        let digits = payload.iter().take(2 * len).take_while(|&&b| crate::hex::is_hex_digit(b)).count();
        if digits == 2 * len {
            return PayloadScan::Complete { data: payload.get(..digits).unwrap_or_default(), end: start + digits, hex };
        }
        if digits == payload.len() {
            // Hex so far: wait for the rest before deciding.
            return PayloadScan::Incomplete;
        }
    }
    match payload.get(..len) {
        Some(data) => PayloadScan::Complete { data, end: start + len, hex: false },
        None => PayloadScan::Incomplete,
    }
}

#[cfg(test)]
mod tests;
