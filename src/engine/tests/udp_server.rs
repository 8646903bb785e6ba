//! UDP servers (`udp_server.rs`): the listener, the sender from each header form, readiness
//! from the sweep, and the replies a server refuses before the modem.

extern crate std;
use std::vec::Vec;

use super::{drive, happy, Log};
use crate::addr::parse_socket_addr;
use crate::engine::*;
use crate::error::Error;
use crate::socket::Handle;

fn server(port: u16) -> (Engine, Handle, Log) {
    let mut e = Engine::new();
    let h = e.open().unwrap();
    e.bind(h, port).unwrap();
    (e, h, Log::new())
}

fn status_of_conn1(state: u8, remote: &str) -> Vec<u8> {
    let mut text = std::format!("\r\n+SQNSS: 1,{state},\"0.0.0.0\",5683,{remote}").into_bytes();
    for i in 2..=6 {
        text.extend_from_slice(std::format!("\r\n+SQNSS: {i},0").as_bytes());
    }
    text.extend_from_slice(b"\r\n\r\nOK\r\n");
    text
}

#[test]
fn a_poll_on_a_bound_socket_listens_then_sweeps_and_states_3_and_5_are_readable() {
    let (mut e, h, mut log) = server(5683);
    e.begin_poll(h).unwrap();
    let out = drive(&mut e, |l| if l == "C AT+SQNSS" { status_of_conn1(4, "\"0.0.0.0\",0") } else { happy(l) }, &mut log).unwrap();
    assert!(!out.readable, "state 4: listening, nothing waiting");
    assert_eq!(
        log,
        ["C AT+CMEE=1", "C AT+SQNSCFG=1,1,300,0,600,50", "C AT+SQNSCFGEXT=1,1,1,0,0,1", "C AT+SQNSLUDP=1,1,5683", "C AT+SQNSS"]
    );
    for (state, readable) in [(3, true), (5, true), (4, false), (1, false)] {
        log.clear();
        e.begin_poll(h).unwrap();
        let out = drive(&mut e, |_| status_of_conn1(state, "\"0.0.0.0\",0"), &mut log).unwrap();
        assert_eq!(out.readable, readable, "state {state}");
        assert_eq!(log, ["C AT+SQNSS"], "one exchange once listening");
    }
}

#[test]
fn each_header_form_gives_the_sender_the_modem_named_and_no_other() {
    let (mut e, h, mut log) = server(5683);
    let four = |l: &str| {
        if l == "C AT+SQNSRECV=1,1500" { b"\r\n+SQNSRECV: 1,2,\"::1\",40001\r\n4142\r\n\r\nOK\r\n".to_vec() } else { happy(l) }
    };
    e.begin_recvfrom(h, Some(0), 0).unwrap();
    let out = drive(&mut e, four, &mut log).unwrap();
    assert_eq!((e.datagram(), out.from), (&b"AB"[..], parse_socket_addr(b"::1", 40001)));
    assert_eq!(log.last().map(|s| s.as_str()), Some("C AT+SQNSRECV=1,1500"), "no status query");
    // A reply to that sender: AT+SQNSSENDEXT on the listening connId, no dial.
    log.clear();
    e.begin_sendto(h, b"re", parse_socket_addr(b"::1", 40001)).unwrap();
    assert_eq!(drive(&mut e, happy, &mut log).map(|o| o.sent), Ok(2));
    assert_eq!(log, ["C AT+SQNSSENDEXT=1,2", "P 7265"]);
    // Two fields: one AT+SQNSS, whose remote for the connId is the sender.
    log.clear();
    let two = |l: &str| match l {
        "C AT+SQNSRECV=1,1500" => b"\r\n+SQNSRECV: 1,1\r\n43\r\n\r\nOK\r\n".to_vec(),
        "C AT+SQNSS" => status_of_conn1(1, "\"127.0.0.1\",40002"),
        _ => happy(l),
    };
    e.begin_recvfrom(h, Some(0), 0).unwrap();
    let out = drive(&mut e, two, &mut log).unwrap();
    assert_eq!(out.from, parse_socket_addr(b"127.0.0.1", 40002));
    assert_eq!(log, ["C AT+SQNSRECV=1,1500", "C AT+SQNSS"]);
    // Two fields and no remote in the status line: no sender, and no reply can go.
    log.clear();
    let none = |l: &str| match l {
        "C AT+SQNSRECV=1,1500" => b"\r\n+SQNSRECV: 1,1\r\n44\r\n\r\nOK\r\n".to_vec(),
        "C AT+SQNSS" => status_of_conn1(1, "\"0.0.0.0\",0"),
        _ => happy(l),
    };
    e.begin_recvfrom(h, Some(0), 0).unwrap();
    let out = drive(&mut e, none, &mut log).unwrap();
    assert_eq!((e.datagram(), out.from), (&b"D"[..], None));
    log.clear();
    e.begin_sendto(h, b"x", parse_socket_addr(b"127.0.0.1", 40002)).unwrap();
    assert_eq!(drive(&mut e, happy, &mut log), Err(Error::NotLastSender));
    assert!(log.is_empty(), "refused before the modem");
}

#[test]
fn an_unbound_socket_still_needs_a_peer_and_connect_ends_the_server() {
    let mut e = Engine::new();
    let h = e.open().unwrap();
    assert_eq!(e.begin_recvfrom(h, Some(0), 0), Err(Error::NotConnected));
    let (mut e, h, mut log) = server(5683);
    e.begin_recvfrom(h, Some(0), 0).unwrap();
    assert_eq!(drive(&mut e, happy, &mut log), Err(Error::WouldBlock));
    log.clear();
    e.begin_connect(h, parse_socket_addr(b"::1", 7).unwrap()).unwrap();
    drive(&mut e, happy, &mut log).unwrap();
    assert_eq!(log.first().map(|s| s.as_str()), Some("C AT+SQNSH=1"), "the listener is closed first");
    assert!(log.iter().any(|l| l.starts_with("C AT+SQNSD=1,1,7,\"::1\",0,5683")), "{log:?}");
}
