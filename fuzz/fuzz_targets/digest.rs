//! The response/URC digester on arbitrary bytes: fed whole, and fed in arbitrary pieces as a
//! UART delivers them (piece sizes drawn from the input). Both must give the same events and
//! leave the same bytes over; every event consumes bytes; received data is at most a datagram
//! (raw) or two digits per byte of one (hex); nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microatsocket::at::digest::{digest, Event, Pending};

/// Commands whose answers the engine waits for (the digester reads info lines by name).
const PENDING: [&[u8]; 8] = [b"", b"SQNSRECV", b"SQNSSENDEXT", b"SQNDNSLKUP", b"SQNSI", b"SQNSS", b"CGPADDR", b"SQNSD"];

/// Digests everything `buf` holds now; returns the events and how many bytes were consumed.
fn drain(buf: &[u8], pending: &Pending, events: &mut Vec<String>) -> usize {
    let mut at = 0;
    loop {
        let rest = &buf[at..];
        let (event, used) = digest(rest, pending);
        assert!(used <= rest.len(), "consumed {used} of {}", rest.len());
        at += used;
        match event {
            Some(event) => {
                assert!(used > 0, "an event from no bytes: {event:?}");
                if let Event::Received { data, hex, .. } = event {
                    // Taken by the header's count: 2n hex digits, or n raw bytes (at most a
                    // datagram) where hex was configured but what came is not hex.
                    if hex {
                        assert!(pending.recv_hex, "hex data in raw mode");
                        assert!(data.iter().all(u8::is_ascii_hexdigit), "{data:?}");
                        assert!(data.len() <= 2 * microatsocket::MAX_DATAGRAM, "{} hex digits", data.len());
                    } else {
                        assert!(data.len() <= microatsocket::MAX_DATAGRAM, "{} bytes of data", data.len());
                    }
                }
                events.push(format!("{event:?}"));
            }
            None => return at,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else { return };
    let Some((&cuts, text)) = rest.split_first() else { return };
    let pending = Pending { name: PENDING[usize::from(head & 7)], recv_hex: head & 8 != 0 };

    let mut whole = Vec::new();
    let consumed = drain(text, &pending, &mut whole);

    // The same bytes in pieces of 1..=16 bytes, the sizes drawn from the text itself.
    let mut pieces = Vec::new();
    let mut buffer: Vec<u8> = Vec::new();
    let mut at = 0;
    let mut step = usize::from(cuts);
    while at < text.len() {
        let size = 1 + (step % 16);
        step = step.wrapping_mul(31).wrapping_add(usize::from(text[at]));
        let end = (at + size).min(text.len());
        buffer.extend_from_slice(&text[at..end]);
        at = end;
        let used = drain(&buffer, &pending, &mut pieces);
        buffer.drain(..used);
    }
    assert_eq!(whole, pieces, "whole and in pieces differ");
    assert_eq!(text.len() - consumed, buffer.len(), "different bytes left over");
});
