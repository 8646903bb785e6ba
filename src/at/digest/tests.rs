//! Digester tests: every reply shape of sequans-at-sockets.md §1–§2, fed whole, byte by byte
//! and in arbitrary pieces.

use super::*;

extern crate std;
use std::vec::Vec;

/// Owned copy of an event, so events can outlive the buffer they were found in.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Owned {
    Final(Final),
    Prompt,
    Info(Vec<u8>),
    /// Hex text.
    Received(u8, Vec<u8>),
    /// Raw bytes.
    ReceivedRaw(u8, Vec<u8>),
    /// A header that named its sender: conn, payload as on the wire, hex, sender.
    ReceivedFrom(u8, Vec<u8>, bool, core::net::SocketAddr),
    Urc(Urc),
}

fn own(event: Event<'_>) -> Option<Owned> {
    Some(match event {
        Event::Final(f) => Owned::Final(f),
        Event::Prompt => Owned::Prompt,
        Event::Info(text) => Owned::Info(text.to_vec()),
        Event::Received { conn, data, hex, from: Some(from) } => Owned::ReceivedFrom(conn, data.to_vec(), hex, from),
        Event::Received { conn, data, hex: true, from: None } => Owned::Received(conn, data.to_vec()),
        Event::Received { conn, data, hex: false, from: None } => Owned::ReceivedRaw(conn, data.to_vec()),
        Event::Urc(u) => Owned::Urc(u),
        Event::Noise => return None,
    })
}

/// Feeds `pieces` one after another into a growing buffer, digesting as the engine does.
fn run_pieces<'p>(pieces: impl IntoIterator<Item = &'p [u8]>, pending: &Pending) -> Vec<Owned> {
    let mut buf: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            let (event, used) = digest(&buf, pending);
            assert!(used <= buf.len(), "digest claimed more than it was given");
            let needs_more = event.is_none();
            let found = event.and_then(own);
            buf.drain(..used);
            if let Some(e) = found {
                out.push(e);
            } else if needs_more {
                break;
            }
        }
    }
    out
}

fn run(text: &[u8], pending: &Pending) -> Vec<Owned> {
    run_pieces([text], pending)
}

/// Whole, byte by byte, and cut at every position: all must give the same events.
fn check_all_cuts(text: &[u8], pending: &Pending, expected: &[Owned]) {
    assert_eq!(run(text, pending), expected, "whole: {:?}", std::string::String::from_utf8_lossy(text));
    let bytes: Vec<&[u8]> = text.chunks(1).collect();
    assert_eq!(run_pieces(bytes, pending), expected, "bytewise");
    for cut in 0..=text.len() {
        let (a, b) = text.split_at(cut);
        assert_eq!(run_pieces([a, b], pending), expected, "cut at {cut}");
    }
}

const NONE: Pending = Pending { name: b"", recv_hex: false };
const fn pending(name: &'static [u8]) -> Pending {
    Pending { name, recv_hex: false }
}

#[test]
fn final_codes() {
    check_all_cuts(b"\r\nOK\r\n", &NONE, &[Owned::Final(Final::Ok)]);
    check_all_cuts(b"\r\nERROR\r\n", &NONE, &[Owned::Final(Final::Error)]);
    check_all_cuts(b"\r\n+CME ERROR: 50\r\n", &NONE, &[Owned::Final(Final::CmeError(Some(50)))]);
    check_all_cuts(
        b"\r\n+CME ERROR: operation not allowed\r\n",
        &NONE,
        &[Owned::Final(Final::CmeError(None))],
    );
    check_all_cuts(b"\r\nNO CARRIER\r\n", &NONE, &[Owned::Final(Final::NoCarrier)]);
    check_all_cuts(b"\r\nCONNECT\r\n", &NONE, &[Owned::Final(Final::Connect)]);
}

#[test]
fn prompt_has_no_line_end() {
    check_all_cuts(b"\r\n> ", &pending(b"SQNSSENDEXT"), &[Owned::Prompt]);
    // A rejected command line: the final code comes instead of the prompt.
    check_all_cuts(
        b"\r\n+CME ERROR: 50\r\n",
        &pending(b"SQNSSENDEXT"),
        &[Owned::Final(Final::CmeError(Some(50)))],
    );
    check_all_cuts(
        b"\r\n> \r\nOK\r\n",
        &pending(b"SQNSSENDEXT"),
        &[Owned::Prompt, Owned::Final(Final::Ok)],
    );
}

#[test]
fn info_line_then_blank_then_final() {
    check_all_cuts(
        b"\r\n+CGPADDR: 1,\"10.0.1.197\"\r\n\r\nOK\r\n",
        &pending(b"CGPADDR"),
        &[Owned::Info(b"1,\"10.0.1.197\"".to_vec()), Owned::Final(Final::Ok)],
    );
}

#[test]
fn several_info_lines_sqnss() {
    let text = b"\r\n+SQNSS: 1,1,\"127.0.0.1\",4000,\"127.0.0.1\",7\r\n+SQNSS: 2,0\r\n+SQNSS: 3,0\r\n\
+SQNSS: 4,0\r\n+SQNSS: 5,0\r\n+SQNSS: 6,0\r\n\r\nOK\r\n";
    let got = run(text, &pending(b"SQNSS"));
    assert_eq!(got.len(), 7);
    assert_eq!(got[0], Owned::Info(b"1,1,\"127.0.0.1\",4000,\"127.0.0.1\",7".to_vec()));
    assert_eq!(got[5], Owned::Info(b"6,0".to_vec()));
    assert_eq!(got[6], Owned::Final(Final::Ok));
}

#[test]
fn sqnsi_and_sqnscfgext_read_forms() {
    check_all_cuts(
        b"\r\n+SQNSI: 1,10,20,5,0\r\n\r\nOK\r\n",
        &pending(b"SQNSI"),
        &[Owned::Info(b"1,10,20,5,0".to_vec()), Owned::Final(Final::Ok)],
    );
    let got = run(b"\r\n+SQNSCFGEXT: 1,1,1,0,0,1\r\n+SQNSCFGEXT:2,1,0,0\r\n\r\nOK\r\n", &pending(b"SQNSCFGEXT"));
    assert_eq!(got[1], Owned::Info(b"2,1,0,0".to_vec()));
}

#[test]
fn urcs_in_three_ring_forms_and_others() {
    let text = b"\r\n+SQNSRING: 1\r\n\r\n+SQNSRING: 2,318\r\n+SQNSRING: 3,5,48656C6C6F\r\n\
+SQNSH: 4\r\n+SYSSTART\r\n+SHUTDOWN\r\n^EXIT: exception 3\r\n+CEREG: 5\r\n\
+SQNSMQTTONCONNECT:0,0\r\n+SQNHTTPRING: 1,200\r\n";
    check_all_cuts(
        text,
        &NONE,
        &[
            Owned::Urc(Urc::Ring { conn: 1, buffered: None }),
            Owned::Urc(Urc::Ring { conn: 2, buffered: Some(318) }),
            Owned::Urc(Urc::Ring { conn: 3, buffered: Some(5) }),
            Owned::Urc(Urc::Closed { conn: 4 }),
            Owned::Urc(Urc::SysStart),
            Owned::Urc(Urc::Shutdown),
            Owned::Urc(Urc::Exception),
            Owned::Urc(Urc::Registration { stat: 5 }),
            Owned::Urc(Urc::Ignored),
            Owned::Urc(Urc::Ignored),
        ],
    );
}

#[test]
fn cereg_is_an_answer_only_while_queried() {
    let text = b"\r\n+CEREG: 2,1\r\n\r\nOK\r\n";
    assert_eq!(run(text, &pending(b"CEREG"))[0], Owned::Info(b"2,1".to_vec()));
    assert_eq!(run(text, &NONE)[0], Owned::Urc(Urc::Registration { stat: 2 }));
}

#[test]
fn urc_inside_another_answer_and_after_final() {
    let text = b"\r\n+SQNSI: 1,0,0,0,0\r\n\r\n+SQNSRING: 2,10\r\n\r\nOK\r\n\r\n+SQNSH: 3\r\n";
    check_all_cuts(
        text,
        &pending(b"SQNSI"),
        &[
            Owned::Info(b"1,0,0,0,0".to_vec()),
            Owned::Urc(Urc::Ring { conn: 2, buffered: Some(10) }),
            Owned::Final(Final::Ok),
            Owned::Urc(Urc::Closed { conn: 3 }),
        ],
    );
}

#[test]
fn receive_raw_by_length_even_with_ok_inside() {
    let text = b"\r\n+SQNSRECV: 1,8\r\nOK\r\n> \0\xff\r\n\r\nOK\r\n";
    check_all_cuts(
        text,
        &pending(b"SQNSRECV"),
        &[Owned::ReceivedRaw(1, b"OK\r\n> \0\xff".to_vec()), Owned::Final(Final::Ok)],
    );
}

#[test]
fn receive_hex_and_empty_and_crossing_urcs() {
    let hex = Pending { name: b"SQNSRECV", recv_hex: true };
    check_all_cuts(
        b"\r\n+SQNSRING: 1,5\r\n\r\n+SQNSRECV: 1,5\r\n48656c6C6F\r\n\r\nOK\r\n",
        &hex,
        &[
            Owned::Urc(Urc::Ring { conn: 1, buffered: Some(5) }),
            Owned::Received(1, b"48656c6C6F".to_vec()),
            Owned::Final(Final::Ok),
        ],
    );
    check_all_cuts(
        b"\r\n+SQNSRECV: 2,0\r\n\r\nOK\r\n",
        &hex,
        &[Owned::Received(2, Vec::new()), Owned::Final(Final::Ok)],
    );
    // +SQNSH between command and answer does not cancel the read.
    check_all_cuts(
        b"\r\n+SQNSH: 1\r\n\r\n+SQNSRECV: 1,1\r\n00\r\n\r\nOK\r\n",
        &hex,
        &[Owned::Urc(Urc::Closed { conn: 1 }), Owned::Received(1, b"00".to_vec()), Owned::Final(Final::Ok)],
    );
}

#[test]
fn receive_hex_takes_exactly_the_announced_length() {
    let hex = Pending { name: b"SQNSRECV", recv_hex: true };
    // More digits than announced: only 2n are the datagram; the rest is a stray line.
    check_all_cuts(
        b"\r\n+SQNSRECV: 1,2\r\n41424344\r\n\r\nOK\r\n",
        &hex,
        &[Owned::Received(1, b"4142".to_vec()), Owned::Final(Final::Ok)],
    );
}

#[test]
fn receive_in_hex_mode_takes_raw_bytes_by_length_when_they_are_not_hex() {
    // A modem that lost its hex setting sends the datagram raw: a peer's bytes that look like
    // a URC and a final code are the datagram, never modem lines.
    let hex = Pending { name: b"SQNSRECV", recv_hex: true };
    check_all_cuts(
        b"\r\n+SQNSRECV: 1,19\r\n\r\n+SQNSH: 2\r\n\r\nOK\r\n\r\n\r\nOK\r\n",
        &hex,
        &[Owned::ReceivedRaw(1, b"\r\n+SQNSH: 2\r\n\r\nOK\r\n".to_vec()), Owned::Final(Final::Ok)],
    );
    // Raw bytes that happen to be hex digits: the line end after n of them tells.
    check_all_cuts(
        b"\r\n+SQNSRECV: 1,4\r\nBEEF\r\n\r\nOK\r\n",
        &hex,
        &[Owned::ReceivedRaw(1, b"BEEF".to_vec()), Owned::Final(Final::Ok)],
    );
}

#[test]
fn receive_1500_raw_bytes_every_value() {
    let payload: Vec<u8> = (0..1500u32).map(|i| (i % 256) as u8).collect();
    let mut text = b"\r\n+SQNSRECV: 6,1500\r\n".to_vec();
    text.extend_from_slice(&payload);
    text.extend_from_slice(b"\r\n\r\nOK\r\n");
    let pieces: Vec<&[u8]> = text.chunks(2046).collect();
    assert_eq!(
        run_pieces(pieces, &pending(b"SQNSRECV")),
        [Owned::ReceivedRaw(6, payload), Owned::Final(Final::Ok)]
    );
}

#[test]
fn garbage_and_stray_lines_are_skipped() {
    check_all_cuts(
        b"\x01\x02garbage\r\n\0\0\r\nATI text\r\n+SQNSRECV: x,y\r\nOK\r\n",
        &pending(b"SQNSRECV"),
        &[Owned::Final(Final::Ok)],
    );
}

#[test]
fn a_line_that_never_ends_needs_more_input() {
    let (event, used) = digest(b"\r\n+SQNSRECV: 1,5", &pending(b"SQNSRECV"));
    assert_eq!((event, used), (None, 2));
    let (event, used) = digest(b"\r\n>", &NONE);
    assert_eq!((event, used), (None, 2));
    let (event, used) = digest(b"\r\n+SQNSRECV: 1,5\r\nABCD", &Pending { name: b"SQNSRECV", recv_hex: true });
    assert_eq!((event, used), (None, 2));
}

#[test]
fn oversize_receive_header_is_noise() {
    let got = run(b"\r\n+SQNSRECV: 1,99999\r\nOK\r\n", &pending(b"SQNSRECV"));
    assert_eq!(got, [Owned::Final(Final::Ok)]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn names() -> impl Strategy<Value = &'static [u8]> {
        prop_oneof![
            Just(&b""[..]),
            Just(&b"SQNSRECV"[..]),
            Just(&b"SQNSS"[..]),
            Just(&b"SQNSSENDEXT"[..]),
        ]
    }

    fn modemish() -> impl Strategy<Value = Vec<u8>> {
        let token = prop_oneof![
            Just(b"\r\n".to_vec()),
            Just(b"OK".to_vec()),
            Just(b"> ".to_vec()),
            Just(b"+SQNSRECV: 1,".to_vec()),
            Just(b"+SQNSRING: 2,".to_vec()),
            Just(b"+CME ERROR: ".to_vec()),
            Just(b"+SQNSH: ".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
            "[0-9A-F,]{0,6}".prop_map(|s| s.into_bytes()),
        ];
        proptest::collection::vec(token, 0..40).prop_map(|t| t.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn never_panics_and_always_progresses_or_waits(
            text in prop_oneof![modemish(), proptest::collection::vec(any::<u8>(), 0..300)],
            name in names(),
            hex in any::<bool>(),
            cuts in proptest::collection::vec(1usize..64, 1..8),
        ) {
            let p = Pending { name, recv_hex: hex };
            // Digest everything whole; every step must consume bytes or stop.
            let mut rest: &[u8] = &text;
            loop {
                let (event, used) = digest(rest, &p);
                prop_assert!(used <= rest.len());
                rest = &rest[used..];
                if event.is_none() { break; }
                prop_assert!(used > 0, "an event must consume input");
            }
            // Cut into pieces: the events must match the whole run.
            let whole = run(&text, &p);
            let mut pieces = Vec::new();
            let mut at = 0;
            for c in cuts.iter().cycle() {
                if at >= text.len() { break; }
                let end = (at + c).min(text.len());
                pieces.push(&text[at..end]);
                at = end;
            }
            prop_assert_eq!(run_pieces(pieces, &p), whole);
        }
    }
}

fn addr(text: &str) -> core::net::SocketAddr {
    text.parse().unwrap()
}

#[test]
fn receive_header_with_the_sender_in_every_address_form() {
    // `+SQNSRECV: <conn>,<n>,<addr>,<port>` (the four-field header Walter's driver reads for
    // a socket that takes datagrams from any sender): the address as printed, quoted or not.
    let hex = Pending { name: b"SQNSRECV", recv_hex: true };
    let cases: [(&[u8], &str); 5] = [
        (b"\r\n+SQNSRECV: 5,2,127.0.0.1,40001\r\n4142\r\n\r\nOK\r\n", "127.0.0.1:40001"),
        (b"\r\n+SQNSRECV: 5,2,\"127.0.0.1\",40001\r\n4142\r\n\r\nOK\r\n", "127.0.0.1:40001"),
        (b"\r\n+SQNSRECV: 5,2,::1,40002\r\n4142\r\n\r\nOK\r\n", "[::1]:40002"),
        (b"\r\n+SQNSRECV: 5,2,\"2001:db8::7\",5683\r\n4142\r\n\r\nOK\r\n", "[2001:db8::7]:5683"),
        (b"\r\n+SQNSRECV: 5,2,\"32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.7\",5683\r\n4142\r\n\r\nOK\r\n", "[2001:db8::7]:5683"),
    ];
    for (text, from) in cases {
        check_all_cuts(text, &hex, &[Owned::ReceivedFrom(5, b"4142".to_vec(), true, addr(from)), Owned::Final(Final::Ok)]);
    }
}

#[test]
fn receive_header_with_the_sender_still_reads_the_payload_by_its_count() {
    // Raw mode: a peer's bytes that look like a header, a URC and a final code are payload.
    let text = b"\r\n+SQNSRECV: 5,24,::1,40002\r\n\r\n+SQNSRECV: 1,0\r\n\r\nOK\r\n\r\n\r\nOK\r\n";
    check_all_cuts(
        text,
        &pending(b"SQNSRECV"),
        &[Owned::ReceivedFrom(5, b"\r\n+SQNSRECV: 1,0\r\n\r\nOK\r\n".to_vec(), false, addr("[::1]:40002")), Owned::Final(Final::Ok)],
    );
}

#[test]
fn receive_header_without_a_readable_sender_names_none() {
    // Two fields (a dialled socket, or a modem that does not report the sender), or sender
    // fields that are not exactly an address and a port: no sender is made up, and the
    // payload is read by its count all the same.
    let hex = Pending { name: b"SQNSRECV", recv_hex: true };
    let headers: [&[u8]; 6] = [
        b"5,2",
        b"5,2,127.0.0.1",
        b"5,2,127.0.0.1,70000",
        b"5,2,not-an-address,40001",
        b"5,2,127.0.0.1,40001,9",
        b"5,2,,",
    ];
    for header in headers {
        let mut text = b"\r\n+SQNSRECV: ".to_vec();
        text.extend_from_slice(header);
        text.extend_from_slice(b"\r\n4142\r\n\r\nOK\r\n");
        check_all_cuts(&text, &hex, &[Owned::Received(5, b"4142".to_vec()), Owned::Final(Final::Ok)]);
    }
}
