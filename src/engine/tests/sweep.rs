//! Readiness sweeps (`sweep.rs`) and receives that wait outside the engine.

extern crate std;
use std::format;
use std::vec::Vec;

use super::{drive, happy, peer, sendto, Log};
use crate::engine::*;
use crate::socket::Handle;
use crate::error::Error;

/// Three datagram sockets dialled to `peer()` on local ports 1..3 (connIds 1..3).
fn three_dialled() -> (Engine, [Handle; 3], Log) {
    let mut e = Engine::new();
    let mut log = Log::new();
    let handles: [Handle; 3] = core::array::from_fn(|i| {
        let h = e.open().unwrap();
        e.bind(h, 1 + i as u16).unwrap();
        sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
        h
    });
    log.clear();
    (e, handles, log)
}

fn status(states: [u8; 6]) -> Vec<u8> {
    let mut text = Vec::new();
    for (i, state) in states.iter().enumerate() {
        let line = if *state == 0 {
            format!("\r\n+SQNSS: {},0", i + 1)
        } else {
            format!("\r\n+SQNSS: {},{state},\"::1\",{},\"::1\",7", i + 1, 1 + i)
        };
        text.extend_from_slice(line.as_bytes());
    }
    text.extend_from_slice(b"\r\n\r\nOK\r\n");
    text
}

#[test]
fn one_status_query_answers_for_every_socket() {
    let (mut e, [a, b, c], mut log) = three_dialled();
    // Data waits on the second socket only; the poll was started for the first.
    e.begin_poll(a).unwrap();
    let out = drive(&mut e, |_| status([1, 3, 2, 0, 0, 0]), &mut log).unwrap();
    assert!(!out.readable);
    assert_eq!(log, ["C AT+SQNSS"]);
    assert_eq!((e.ready(a), e.ready(b), e.ready(c)), (Ok(false), Ok(true), Ok(false)));
    // Reading the datagram clears its readiness; the next sweep tells again.
    e.begin_recvfrom(b, Some(0), 0).unwrap();
    let data = |line: &str| {
        if line == "C AT+SQNSRECV=2,1500" { b"\r\n+SQNSRECV: 2,1\r\n7A\r\n\r\nOK\r\n".to_vec() } else { happy(line) }
    };
    drive(&mut e, data, &mut log).unwrap();
    assert_eq!(e.ready(b), Ok(false));
}

#[test]
fn a_read_after_pollin_reads_at_once_even_on_a_schedule() {
    let (mut e, [a, _, _], mut log) = three_dialled();
    e.set_yield_waits(true);
    // An empty read leaves a poll schedule (next read in 10 ms) ...
    e.begin_recvfrom(a, Some(1_000), 0).unwrap();
    assert_eq!(drive(&mut e, happy, &mut log), Err(Error::TimedOut));
    // ... then a sweep shows data: the next receive reads without waiting for the schedule.
    e.begin_poll(a).unwrap();
    assert_eq!(drive(&mut e, |_| status([3, 1, 1, 0, 0, 0]), &mut log).map(|o| o.readable), Ok(true));
    log.clear();
    e.begin_recvfrom(a, Some(1_000), 1_001).unwrap();
    let data = |line: &str| {
        if line == "C AT+SQNSRECV=1,1500" { b"\r\n+SQNSRECV: 1,1\r\n7A\r\n\r\nOK\r\n".to_vec() } else { happy(line) }
    };
    assert_eq!(drive(&mut e, data, &mut log).map(|o| o.received), Ok(1));
    assert_eq!(log, ["C AT+SQNSRECV=1,1500"]);
}

#[test]
fn a_refused_status_query_falls_back_to_the_socket_counters() {
    let (mut e, [a, b, _], mut log) = three_dialled();
    e.begin_poll(a).unwrap();
    let modem = |line: &str| match line {
        "C AT+SQNSS" => b"\r\n+CME ERROR: 4\r\n".to_vec(),
        "C AT+SQNSI=1" => b"\r\n+SQNSI: 1,1,0,12,0\r\n\r\nOK\r\n".to_vec(),
        _ => happy(line),
    };
    assert_eq!(drive(&mut e, modem, &mut log).map(|o| o.readable), Ok(true));
    assert_eq!(log, ["C AT+SQNSS", "C AT+SQNSI=1"]);
    assert_eq!(e.ready(b), Ok(false));
}

#[test]
fn a_socket_the_modem_no_longer_holds_is_dialled_again() {
    let (mut e, [a, _, _], mut log) = three_dialled();
    e.begin_poll(a).unwrap();
    drive(&mut e, |_| status([0, 1, 1, 0, 0, 0]), &mut log).unwrap();
    log.clear();
    sendto(&mut e, a, b"y", peer(), &mut log).unwrap();
    assert!(log[0].starts_with("C AT+SQNSD=1,"), "{log:?}");
}

#[test]
fn a_listener_with_a_connection_waiting_is_readable() {
    let mut e = Engine::new();
    let h = e.open_stream().unwrap();
    e.begin_listen(h, 8080).unwrap();
    drive(&mut e, happy, &mut Log::new()).unwrap();
    let mut log = Log::new();
    e.begin_poll(h).unwrap();
    let idle = |_: &str| b"\r\n+SQNSS: 1,4,\"0.0.0.0\",8080,\"0.0.0.0\",0\r\n\r\nOK\r\n".to_vec();
    assert_eq!(drive(&mut e, idle, &mut log).map(|o| o.readable), Ok(false));
    e.begin_poll(h).unwrap();
    let waiting = |_: &str| b"\r\n+SQNSS: 1,5,\"127.0.0.1\",8080,\"::1\",50000\r\n\r\nOK\r\n".to_vec();
    assert_eq!(drive(&mut e, waiting, &mut log).map(|o| o.readable), Ok(true));
    assert_eq!(log, ["C AT+SQNSS", "C AT+SQNSS"]);
}

#[test]
fn a_yielding_receive_ends_at_its_first_pause_and_goes_on_with_the_schedule() {
    let (mut e, [a, _, _], mut log) = three_dialled();
    e.set_yield_waits(true);
    e.begin_recvfrom(a, None, 0).unwrap();
    assert_eq!(drive(&mut e, happy, &mut log), Err(Error::TimedOut));
    assert_eq!(log, ["C AT+SQNSRECV=1,1500"], "no sleep inside the operation");
    // The drive clock read at 1000 and stepped on at 1005: the next read is due 10 ms later.
    assert_eq!(e.wait_hint_ms(a, 1_005), Ok(10));
    log.clear();
    e.begin_recvfrom(a, None, 1_015).unwrap();
    assert_eq!(drive(&mut e, happy, &mut log), Err(Error::TimedOut));
    assert_eq!(log, ["C AT+SQNSRECV=1,1500"]);
    // The pause doubles as it did inside one operation.
    assert_eq!(e.wait_hint_ms(a, 1_005), Ok(20));
}
