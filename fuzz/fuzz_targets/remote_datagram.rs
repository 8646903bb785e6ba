//! What a peer on the internet controls: the bytes of a datagram. The engine reads one into a
//! socket while a second socket is open, with hex or raw receive configured and the modem
//! sending hex or (having lost its settings) raw bytes.
//!
//! Must hold for every datagram: it is delivered whole and unchanged; the other socket still
//! sends with one `AT+SQNSSENDEXT` and its payload (nothing closed or re-dialled it); no error
//! code, reboot or slot change was taken from the datagram; the reading socket sends again
//! plainly, or, after raw bytes where hex was configured, after configuring its connId afresh,
//! or, after raw bytes holding a NUL (Pycom's task idle-waits on them), after turning it to hex reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microatsocket::engine::{Engine, ExchangeKind, Step};
use microatsocket::limits::Limits;
use microatsocket::socket::Handle;

const PEER: &[u8] = b"::1";

/// A modem that answers every exchange as a healthy one would, and `datagram_answer` to reads.
fn answer(kind: ExchangeKind, command: &[u8], datagram_answer: &[u8]) -> Vec<u8> {
    match kind {
        ExchangeKind::Sleep | ExchangeKind::Listen => Vec::new(),
        _ if command.starts_with(b"AT+SQNSRECV=") => datagram_answer.to_vec(),
        ExchangeKind::Command if command.starts_with(b"AT+SQNSSENDEXT=") => b"\r\n> ".to_vec(),
        _ => b"\r\nOK\r\n".to_vec(),
    }
}

/// Runs the started operation; returns its result and the exchanges it made.
fn drive(e: &mut Engine, datagram_answer: &[u8]) -> (Result<usize, microatsocket::error::Error>, Vec<Vec<u8>>) {
    let mut reply = Vec::new();
    let mut log = Vec::new();
    let mut now = 0u32;
    for _ in 0..200 {
        match e.step(&reply, now) {
            Step::Done(result) => return (result.map(|o| o.sent.max(o.received)), log),
            Step::Exchange(x) => {
                reply = answer(x.kind, x.command, datagram_answer);
                log.push(if x.command.is_empty() { x.payload.to_vec() } else { x.command.to_vec() });
                now = now.wrapping_add(5);
            }
        }
    }
    panic!("operation did not end: {log:?}");
}

fn send(e: &mut Engine, h: Handle) -> Vec<Vec<u8>> {
    let peer = microatsocket::addr::parse_socket_addr(PEER, 7).expect("peer");
    e.begin_sendto(h, b"x", Some(peer)).expect("begin_sendto");
    let (result, log) = drive(e, b"");
    assert_eq!(result, Ok(1), "send failed: {log:?}");
    log
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, datagram)) = data.split_first() else { return };
    let datagram = &datagram[..datagram.len().min(microatsocket::MAX_DATAGRAM)];
    if datagram.is_empty() {
        return;
    }
    let configured_hex = mode & 1 == 0;
    let modem_hex = configured_hex && mode & 2 == 0;

    let mut e = Engine::new();
    e.configure(Limits { max_command_len: None, recv_hex: configured_hex, ..Limits::STOCK }).expect("configure");
    let reader = e.open().expect("open");
    let other = e.open().expect("open");
    send(&mut e, reader);
    send(&mut e, other);

    let mut reply = format!("\r\n+SQNSRECV: 1,{}\r\n", datagram.len()).into_bytes();
    if modem_hex {
        reply.extend(datagram.iter().flat_map(|b| format!("{b:02X}").into_bytes()));
    } else {
        reply.extend_from_slice(datagram);
    }
    reply.extend_from_slice(b"\r\n\r\nOK\r\n");
    e.begin_recvfrom(reader, Some(1000), 0).expect("begin_recvfrom");
    let (result, log) = drive(&mut e, &reply);
    assert_eq!(result, Ok(datagram.len()), "read: {log:?}");
    assert_eq!(e.datagram(), datagram, "delivered differently");
    assert_eq!(log.len(), 1, "one read: {log:?}");

    assert_eq!((e.last_cme(), e.modem_restarts(), e.slots_in_use()), (None, 0, 2), "state taken from the datagram");
    let sends = send(&mut e, other);
    assert_eq!(sends, [b"AT+SQNSSENDEXT=2,1".to_vec(), b"78".to_vec()], "the other socket was disturbed");
    let sends = send(&mut e, reader);
    if configured_hex && !modem_hex {
        assert!(sends.iter().any(|c| c.starts_with(b"AT+SQNSCFGEXT=1,")), "not configured again: {sends:?}");
    } else if !modem_hex && datagram.contains(&0) {
        // Raw bytes holding a NUL (Pycom's task idle-waits on such an answer): hex reads now.
        let expected = [b"AT+SQNSCFGEXT=1,1,1,0,0,1".to_vec(), b"AT+SQNSSENDEXT=1,1".to_vec(), b"78".to_vec()];
        assert_eq!(sends, expected, "not turned to hex reads");
    } else {
        assert_eq!(sends, [b"AT+SQNSSENDEXT=1,1".to_vec(), b"78".to_vec()], "the reader was disturbed");
    }
});
