//! An operation aborted by the transport (an exception in the shim) between `AT+SQNSSENDEXT`
//! and the end of its payload leaves the modem perhaps waiting for payload: the next
//! operation, whatever it is, first writes that payload again.

extern crate std;
use std::string::String;

use super::{describe, dialled, dialled_raw, drive, happy, peer, v4peer};
use super::super::*;

/// Starts a send and steps it until the exchange `stop` describes is handed out; then aborts.
fn abort_send_at(e: &mut Engine, h: Handle, data: &[u8], stop: &str) {
    e.begin_sendto(h, data, Some(peer())).unwrap();
    let mut reply: std::vec::Vec<u8> = std::vec::Vec::new();
    for _ in 0..20 {
        let Step::Exchange(x) = e.step(&reply, 0) else { panic!("ended before {stop}") };
        let line = describe(&x);
        if line.starts_with(stop) {
            e.abort();
            return;
        }
        reply = happy(&line);
    }
    panic!("never reached {stop}");
}

#[test]
fn an_abort_at_the_payload_call_is_followed_by_the_payload_before_the_close() {
    let (mut e, h, mut log) = dialled();
    abort_send_at(&mut e, h, b"hi", "P ");
    e.begin_close(h).unwrap();
    drive(&mut e, happy, &mut log).unwrap();
    assert_eq!(log.first().map(String::as_str), Some("P 6869"), "{log:?}");
    assert!(log.iter().any(|l| l == "C AT+SQNSH=1"), "{log:?}");
}

#[test]
fn an_abort_while_the_prompt_is_awaited_resyncs_the_next_operation_of_another_socket() {
    let (mut e, h, mut log) = dialled();
    abort_send_at(&mut e, h, b"hi", "C AT+SQNSSENDEXT");
    let other = e.open().unwrap();
    e.begin_sendto(other, b"yo", Some(v4peer())).unwrap();
    drive(&mut e, happy, &mut log).unwrap();
    // The resync goes first, with the aborted send's payload; then the new send, whose data
    // waited aside, with its own.
    assert_eq!(log.first().map(String::as_str), Some("P 6869"), "{log:?}");
    assert_eq!(log.last().map(String::as_str), Some("P 796F"), "{log:?}");
    // Once only.
    log.clear();
    e.begin_sendto(other, b"yo", Some(v4peer())).unwrap();
    drive(&mut e, happy, &mut log).unwrap();
    assert_eq!(log, ["C AT+SQNSSENDEXT=2,2", "P 796F"]);
}

#[test]
fn a_refused_resync_counts_as_done_and_is_not_an_error() {
    // The modem was not waiting: it reads the hex line as a command and answers ERROR.
    let (mut e, h, mut log) = dialled();
    abort_send_at(&mut e, h, b"hi", "P ");
    e.begin_recvfrom(h, Some(0), 0).unwrap();
    let result = drive(&mut e, |line| if line.starts_with("P ") { b"\r\nERROR\r\n".to_vec() } else { happy(line) }, &mut log);
    assert_eq!(result, Err(Error::WouldBlock));
    assert_eq!(e.last_cme(), None);
    assert_eq!(log.first().map(String::as_str), Some("P 6869"));
    // Numeric errors are still known to be on: no AT+CMEE=1 was needed.
    assert!(!log.iter().any(|l| l == "C AT+CMEE=1"), "{log:?}");
}

#[test]
fn an_abort_elsewhere_needs_no_resync() {
    let (mut e, h, mut log) = dialled();
    e.begin_recvfrom(h, Some(1000), 0).unwrap();
    let Step::Exchange(_) = e.step(&[], 0) else { panic!() };
    e.abort();
    e.begin_close(h).unwrap();
    drive(&mut e, happy, &mut log).unwrap();
    assert_eq!(log, ["C AT+SQNSH=1"]);
}

#[test]
fn an_abort_in_raw_mode_resyncs_with_the_raw_payload() {
    // Direct transport: raw payloads, command and payload in one exchange.
    let (mut e, h, mut log) = dialled_raw();
    abort_send_at(&mut e, h, b"hi\r\n\0", "CP ");
    log.clear();
    e.begin_close(h).unwrap();
    drive(&mut e, happy, &mut log).unwrap();
    assert_eq!(log.first().map(String::as_str), Some("P hi\r\n\0"), "{log:?}");
    assert!(log.iter().any(|l| l == "C AT+SQNSH=1"), "{log:?}");
}

#[test]
fn registration_reads_the_attach_state() {
    use crate::engine::{Engine, Step};
    let mut e = Engine::new();
    for (answer, expected) in [
        (&b"\r\n+CGATT: 0\r\n\r\nOK\r\n"[..], Some(false)),
        (&b"\r\n+CGATT: 1\r\n\r\nOK\r\n"[..], Some(true)),
        (&b"\r\nERROR\r\n"[..], None),
    ] {
        e.begin_registration().expect("idle");
        match e.step(b"", 0) {
            Step::Exchange(x) => assert_eq!(x.command, b"AT+CGATT?"),
            other => panic!("{other:?}"),
        }
        match (e.step(answer, 1), expected) {
            (Step::Done(Ok(o)), Some(attached)) => assert_eq!(o.readable, attached),
            (Step::Done(Err(_)), None) => {}
            (other, _) => panic!("{other:?}"),
        }
    }
}
