//! Trace notes: what the shim asked of the core, for `microATsocket.trace()` (c_glue/trace.c).
//!
//! While a trace is on, every C ABI call that changes the engine (configure, open, bind, each
//! `mas_*_begin`, abort) appends one line to a fixed buffer: its name, its arguments (lengths, not
//! the bytes) and its result. The shim takes the lines before and after each operation and writes
//! them to the trace, so a replay (tests/trace-replay) can make the same calls in the same order.
//! Off, a call costs one load of `ON`. A line that does not fit is counted, never truncated: the
//! shim writes the count so a replay knows the trace has a gap.

use core::cell::UnsafeCell;
use core::fmt::{self, Write};
use core::net::SocketAddr;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use heapless::String;

/// Room for the lines of one operation (the longest: a resolve with a 253-character name).
const NOTES_CAP: usize = 512;

static ON: AtomicBool = AtomicBool::new(false);
static LOST: AtomicU32 = AtomicU32::new(0);

struct Notes(UnsafeCell<String<NOTES_CAP>>);
// Safety: only reached from the C ABI functions, which the shim calls under its engine lock.
unsafe impl Sync for Notes {}
static NOTES: Notes = Notes(UnsafeCell::new(String::new()));

pub(super) fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Appends one line (`args` and a newline), or counts it as lost when it does not fit.
pub(super) fn note(args: fmt::Arguments) {
    // Safety: see `Notes`; no other reference to the buffer is live during this call.
    let notes = unsafe { &mut *NOTES.0.get() };
    let mark = notes.len();
    if notes.write_fmt(args).is_err() || notes.push('\n').is_err() {
        notes.truncate(mark);
        // Plain load/store: riscv32imc has no atomic read-modify-write (calls come one at a time).
        LOST.store(LOST.load(Ordering::Relaxed).saturating_add(1), Ordering::Relaxed);
    }
}

/// `peer=` of a note: `[ip]:port`, `a.b.c.d:port`, or `-` for none.
pub(super) struct Peer(pub Option<SocketAddr>);

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(addr) => write!(f, "{addr}"),
            None => f.write_str("-"),
        }
    }
}

/// A host name as note text: printable ASCII other than space and backslash as is, the rest
/// as `\xNN`, so a note stays one line of space-separated words.
pub(super) struct Text<'a>(pub &'a [u8]);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.0 {
            if b.is_ascii_graphic() && b != b'\\' {
                f.write_char(char::from(b))?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// Starts (`true`) or stops noting calls. Starting drops any old notes and notes the current
/// transport limits first, so a replay begins with the same configuration.
#[no_mangle]
pub extern "C" fn mas_trace_enable(on: bool) {
    // Safety: see `Notes`.
    unsafe { &mut *NOTES.0.get() }.clear();
    LOST.store(0, Ordering::Relaxed);
    ON.store(on, Ordering::Relaxed);
    if on {
        let limits = super::with_engine(None, |e| Some(e.limits()));
        if let Some(l) = limits {
            note(format_args!(
                "configure max_command={} send_hex={} recv_hex={} combined={} cid={} -> 0",
                l.max_command_len.unwrap_or(0),
                u8::from(l.send_hex),
                u8::from(l.recv_hex),
                u8::from(l.combined_send),
                l.pdp_cid
            ));
        }
    }
}

/// The noted lines (each ending in LF) since the last `mas_trace_notes_done`: `*text` points at
/// them (valid until the next `mas_*` call) and their length is returned; `*lost` (if not NULL)
/// gets the count of lines that did not fit. No copy: the shim writes them out, then calls
/// `mas_trace_notes_done`.
/// # Safety
/// `text` is valid for one write; `lost` is NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn mas_trace_notes(text: *mut *const u8, lost: *mut u32) -> usize {
    if !lost.is_null() {
        // Safety: non-NULL, valid for one write per the contract.
        unsafe { lost.write(LOST.load(Ordering::Relaxed)) };
    }
    if text.is_null() {
        return 0;
    }
    // Safety: see `Notes`.
    let notes = unsafe { &*NOTES.0.get() };
    // Safety: non-NULL, valid for one write per the contract.
    unsafe { text.write(notes.as_ptr()) };
    notes.len()
}

/// Forgets the lines `mas_trace_notes` gave and the lost count.
#[no_mangle]
pub extern "C" fn mas_trace_notes_done() {
    // Safety: see `Notes`.
    unsafe { &mut *NOTES.0.get() }.clear();
    LOST.store(0, Ordering::Relaxed);
}

/// SHA-256 of `len` bytes at `data` into `out` (32 bytes): how a trace names a payload it does
/// not show. 0, or `MAS_EINVAL` for a NULL pointer.
/// # Safety
/// `data` is valid for `len` reads (NULL only with 0); `out` for 32 writes.
#[no_mangle]
pub unsafe extern "C" fn mas_sha256(data: *const u8, len: usize, out: *mut u8) -> i32 {
    use sha2::Digest;
    // Safety: as this function's contract.
    let Some(data) = (unsafe { super::slice_arg(data, len) }) else { return super::MAS_EINVAL };
    if out.is_null() {
        return super::MAS_EINVAL;
    }
    let digest = sha2::Sha256::digest(data);
    // Safety: non-NULL, 32 writable bytes per the contract.
    unsafe { core::ptr::copy_nonoverlapping(digest.as_ptr(), out, 32) };
    0
}

/// Where the next received payload in `answer` lies, looking from `from`: the data after a
/// `+SQNSRECV: <id>,<n>` line (`n` bytes, `2n` hex digits in hex mode). Returns 1 with
/// `*start`/`*end` set, or 0 when there is none. A trace shows these bytes as length and
/// SHA-256 unless asked for payloads; the rest of the answer is kept as is.
/// # Safety
/// `answer` is valid for `len` reads; `start` and `end` for one write each.
#[no_mangle]
pub unsafe extern "C" fn mas_trace_payload_span(
    answer: *const u8,
    len: usize,
    from: usize,
    start: *mut usize,
    end: *mut usize,
) -> i32 {
    // Safety: as this function's contract.
    let Some(answer) = (unsafe { super::slice_arg(answer, len) }) else { return 0 };
    if start.is_null() || end.is_null() {
        return 0;
    }
    let hex = super::with_engine(true, |e| e.limits().recv_hex);
    match payload_span(answer, from, hex) {
        Some((s, e)) => {
            // Safety: non-NULL, checked above.
            unsafe {
                start.write(s);
                end.write(e);
            }
            1
        }
        None => 0,
    }
}

/// The data span of the first `+SQNSRECV: <id>,<n>\r\n` header at or after `from`.
pub fn payload_span(answer: &[u8], from: usize, hex: bool) -> Option<(usize, usize)> {
    const HEAD: &[u8] = b"+SQNSRECV: ";
    let mut at = from;
    while let Some(rest) = answer.get(at..) {
        let found = rest.windows(HEAD.len()).position(|w| w == HEAD)?;
        let fields_at = at + found + HEAD.len();
        at = fields_at;
        let line_end = match answer.get(fields_at..).and_then(|r| r.windows(2).position(|w| w == b"\r\n")) {
            Some(n) => fields_at + n,
            None => return None,
        };
        let fields = answer.get(fields_at..line_end)?;
        let Some(comma) = fields.iter().position(|&b| b == b',') else { continue };
        let count = fields.get(comma + 1..).and_then(parse_decimal);
        let Some(count) = count else { continue };
        let data_len = if hex { count.checked_mul(2)? } else { count };
        let data_start = line_end + 2;
        let data_end = data_start.checked_add(data_len)?.min(answer.len());
        if data_end > data_start {
            return Some((data_start, data_end));
        }
    }
    None
}

fn parse_decimal(text: &[u8]) -> Option<usize> {
    if text.is_empty() || text.len() > 6 {
        return None;
    }
    text.iter().try_fold(0usize, |n, &b| b.is_ascii_digit().then(|| n * 10 + usize::from(b - b'0')))
}

#[cfg(test)]
mod tests {
    use super::payload_span;

    #[test]
    fn finds_hex_and_raw_payloads() {
        let a = b"\r\n+SQNSRECV: 1,3\r\n616263\r\n\r\nOK\r\n";
        assert_eq!(payload_span(a, 0, true), Some((18, 24)));
        assert_eq!(a.get(18..24), Some(&b"616263"[..]));
        let r = b"\r\n+SQNSRECV: 2,2\r\nhi\r\nOK\r\n";
        assert_eq!(payload_span(r, 0, false), Some((18, 20)));
        assert_eq!(payload_span(b"\r\nOK\r\n", 0, true), None);
        assert_eq!(payload_span(b"+SQNSRECV: 1,0\r\n\r\nOK\r\n", 0, true), None);
    }
}
