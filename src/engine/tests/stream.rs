//! Stream operations against scripted modem replies: the exact exchanges of a TCP dial, a
//! send cut at the transport's limit, reads bounded by what was asked, and how a stream ends
//! (EOF at `+SQNSH` or at a read the modem refuses, `ECONNRESET` after a reboot, never a
//! re-dial).

extern crate std;
use std::string::String;
use std::vec::Vec;

use super::super::*;
use super::{describe, drive};
use crate::addr::parse_socket_addr;

fn ok(line: &str) -> Vec<u8> {
    if line.starts_with("C AT+SQNSSENDEXT") {
        b"\r\n> ".to_vec()
    } else if line.starts_with("S ") {
        Vec::new()
    } else {
        b"\r\nOK\r\n".to_vec()
    }
}

fn broker() -> SocketAddr {
    parse_socket_addr(b"::1", 1883).unwrap()
}

/// An engine with a stream connected to `broker()`, and the exchanges the dial took.
fn connected() -> (Engine, Handle, Vec<String>) {
    let mut e = Engine::new();
    let h = e.open_stream().unwrap();
    let mut log = Vec::new();
    e.begin_stream_connect(h, broker()).unwrap();
    assert_eq!(drive(&mut e, ok, &mut log), Ok(Outcome::default()));
    (e, h, log)
}

#[test]
fn connect_configures_and_dials_tcp_in_command_mode_once() {
    let (mut e, h, log) = connected();
    assert_eq!(
        log,
        [
            "C AT+CMEE=1",
            "C AT+SQNSCFG=1,1,300,0,80,50",
            "C AT+SQNSCFGEXT=1,1,1,0,0,1",
            "C AT+SQNSD=1,0,1883,\"::1\",0,0,1",
        ]
    );
    assert_eq!(e.begin_stream_connect(h, broker()), Err(Error::IsConnected));
    // Datagram operations are not for streams, and stream operations not for datagrams.
    let udp = e.open().unwrap();
    assert_eq!(e.begin_stream_send(udp, b"x"), Err(Error::WrongKind));
    assert_eq!(e.begin_stream_connect(udp, broker()), Err(Error::WrongKind));
}

#[test]
fn refused_dial_is_econnrefused_and_sends_before_connect_are_enotconn() {
    let mut e = Engine::new();
    let h = e.open_stream().unwrap();
    assert_eq!(e.begin_stream_send(h, b"x"), Err(Error::NotConnected));
    assert_eq!(e.begin_stream_recv(h, 10, None, 0), Err(Error::NotConnected));
    e.begin_stream_connect(h, broker()).unwrap();
    let mut log = Vec::new();
    let refused = |line: &str| if line.starts_with("C AT+SQNSD") { b"\r\nNO CARRIER\r\n".to_vec() } else { ok(line) };
    assert_eq!(drive(&mut e, refused, &mut log), Err(Error::ConnectionRefused));
    // Still fresh: a second connect may try again.
    assert!(e.begin_stream_connect(h, broker()).is_ok());
}

#[test]
fn send_takes_what_one_command_carries_and_reports_it() {
    let (mut e, h, _) = connected();
    let data = [0x41u8; 200];
    // Stock send_at_cmd: 124 characters of hex per command, so 62 bytes.
    assert_eq!(e.begin_stream_send(h, &data), Ok(62));
    let mut log = Vec::new();
    assert_eq!(drive(&mut e, ok, &mut log).map(|o| o.sent), Ok(62));
    assert_eq!(log[0], "C AT+SQNSSENDEXT=1,62");
    assert_eq!(log[1].len(), 2 + 124);
    e.configure(Limits { max_command_len: None, ..Limits::STOCK }).unwrap();
    assert_eq!(e.begin_stream_send(h, &[1u8; 4000]), Ok(1500));
    assert_eq!(drive(&mut e, ok, &mut Vec::new()).map(|o| o.sent), Ok(1500));
}

#[test]
fn recv_asks_for_at_most_what_was_asked_and_polls_until_data() {
    let (mut e, h, _) = connected();
    e.begin_stream_recv(h, 5, Some(1000), 1_000).unwrap();
    let mut reads = 0;
    let modem = |line: &str| {
        if line.starts_with("C AT+SQNSRECV=1,5") {
            reads += 1;
            if reads < 3 {
                return b"\r\n+SQNSRECV: 1,0\r\n\r\nOK\r\n".to_vec();
            }
            return b"\r\n+SQNSRECV: 1,5\r\n68656C6C6F\r\n\r\nOK\r\n".to_vec();
        }
        ok(line)
    };
    let mut log = Vec::new();
    let out = drive(&mut e, modem, &mut log).unwrap();
    assert_eq!(out.received, 5);
    assert_eq!(e.datagram(), b"hello");
    assert_eq!(log, ["C AT+SQNSRECV=1,5", "S 10", "C AT+SQNSRECV=1,5", "S 20", "C AT+SQNSRECV=1,5"]);
    // Nothing waiting and non-blocking: EAGAIN after one read.
    e.begin_stream_recv(h, 1500, Some(0), 0).unwrap();
    let empty = |line: &str| {
        if line.starts_with("C AT+SQNSRECV") { b"\r\n+SQNSRECV: 1,0\r\n\r\nOK\r\n".to_vec() } else { ok(line) }
    };
    assert_eq!(drive(&mut e, empty, &mut Vec::new()), Err(Error::WouldBlock));
}

#[test]
fn sqnsh_means_eof_and_is_never_redialled() {
    let (mut e, h, _) = connected();
    e.begin_stream_recv(h, 100, None, 0).unwrap();
    let mut log = Vec::new();
    let closing = |line: &str| {
        if line.starts_with("C AT+SQNSRECV") {
            b"\r\n+SQNSRECV: 1,0\r\n\r\nOK\r\n\r\n+SQNSH: 1\r\n".to_vec()
        } else {
            ok(line)
        }
    };
    assert_eq!(drive(&mut e, closing, &mut log).map(|o| o.received), Ok(0));
    assert_eq!(log, ["C AT+SQNSRECV=1,100"]);
    // EOF again, with no exchange; a send is a broken pipe; close needs no AT+SQNSH.
    e.begin_stream_recv(h, 100, None, 0).unwrap();
    let mut log = Vec::new();
    assert_eq!(drive(&mut e, ok, &mut log).map(|o| o.received), Ok(0));
    assert!(log.is_empty());
    assert_eq!(e.begin_stream_send(h, b"x"), Err(Error::BrokenPipe));
    e.begin_close(h).unwrap();
    assert_eq!(drive(&mut e, ok, &mut log), Ok(Outcome::default()));
    assert!(log.is_empty(), "{log:?}");
}

#[test]
fn a_read_the_modem_refuses_with_a_code_is_eof_and_plain_error_is_a_reset() {
    // +CME ERROR: the modem is alive (numeric errors still on); the slot table shows the
    // socket gone: closed.
    let (mut e, h, _) = connected();
    e.begin_stream_recv(h, 100, None, 0).unwrap();
    let cme = |line: &str| match line {
        "C AT+SQNSRECV=1,100" => b"\r\n+CME ERROR: 3\r\n".to_vec(),
        "C AT+SQNSS" => b"\r\n+SQNSS: 1,0\r\n+SQNSS: 2,0\r\n\r\nOK\r\n".to_vec(),
        _ => ok(line),
    };
    let mut log = Vec::new();
    assert_eq!(drive(&mut e, cme, &mut log).map(|o| o.received), Ok(0));
    assert_eq!(log, ["C AT+SQNSRECV=1,100", "C AT+SQNSS"]);

    // Plain ERROR: the modem forgot AT+CMEE=1, so it rebooted: ECONNRESET, and no re-dial.
    let (mut e, h, _) = connected();
    e.begin_stream_recv(h, 100, None, 0).unwrap();
    let mut log = Vec::new();
    let rebooted = |line: &str| if line.starts_with("C AT+SQNSRECV") { b"\r\nERROR\r\n".to_vec() } else { ok(line) };
    assert_eq!(drive(&mut e, rebooted, &mut log), Err(Error::ConnectionReset));
    assert_eq!(log, ["C AT+SQNSRECV=1,100"]);
    assert_eq!(e.begin_stream_send(h, b"x"), Err(Error::ConnectionReset));
}

#[test]
fn sysstart_mid_send_is_a_reset() {
    let (mut e, h, _) = connected();
    e.begin_stream_send(h, b"abc").unwrap();
    let mut log = Vec::new();
    let reboot = |line: &str| if line.starts_with("P ") { b"\r\n+SYSSTART\r\n".to_vec() } else { ok(line) };
    assert_eq!(drive(&mut e, reboot, &mut log), Err(Error::ConnectionReset));
    assert_eq!(log, ["C AT+SQNSSENDEXT=1,3", "P 616263"]);
    e.begin_stream_recv(h, 10, None, 0).unwrap();
    assert_eq!(drive(&mut e, ok, &mut Vec::new()), Err(Error::ConnectionReset));
}

#[test]
fn a_full_send_buffer_is_eagain_and_the_stream_stays_open() {
    let (mut e, h, _) = connected();
    e.begin_stream_send(h, b"abc").unwrap();
    let full = |line: &str| if line.starts_with("C AT+SQNSSENDEXT") { b"\r\n+CME ERROR: 4\r\n".to_vec() } else { ok(line) };
    assert_eq!(drive(&mut e, full, &mut Vec::new()), Err(Error::WouldBlock));
    e.begin_stream_send(h, b"abc").unwrap();
    assert_eq!(drive(&mut e, ok, &mut Vec::new()).map(|o| o.sent), Ok(3));
}

#[test]
fn poll_sees_the_end_of_a_stream_as_readable() {
    let (mut e, h, _) = connected();
    let mut log = Vec::new();
    e.begin_poll(h).unwrap();
    let info = |line: &str| if line == "C AT+SQNSS" { b"\r\n+SQNSS: 1,1\r\n\r\nOK\r\n\r\n+SQNSH: 1\r\n".to_vec() } else { ok(line) };
    // The close rides in after the answer: the poll already reports it.
    assert_eq!(drive(&mut e, info, &mut log).map(|o| o.readable), Ok(true));
    assert_eq!(log, ["C AT+SQNSS"]);
    e.begin_poll(h).unwrap();
    assert_eq!(drive(&mut e, ok, &mut log).map(|o| o.readable), Ok(true));
    assert_eq!(log.len(), 1, "no exchange once the end is known");
}

#[test]
fn six_connids_are_shared_by_streams_and_datagrams() {
    let mut e = Engine::new();
    for i in 0..6 {
        if i % 2 == 0 {
            e.open_stream().unwrap();
        } else {
            e.open().unwrap();
        }
    }
    assert_eq!(e.open_stream(), Err(Error::NoFreeSlot));
    assert_eq!(e.open(), Err(Error::NoFreeSlot));
}

#[test]
fn listen_then_accept_polls_status_and_takes_the_waiting_connection() {
    let mut e = Engine::new();
    let h = e.open_stream().unwrap();
    let mut log = Vec::new();
    e.begin_listen(h, 8080).unwrap();
    assert_eq!(drive(&mut e, ok, &mut log), Ok(Outcome::default()));
    assert_eq!(log.last().map(String::as_str), Some("C AT+SQNSL=1,1,8080"));
    assert_eq!(e.begin_stream_send(h, b"x"), Err(Error::WrongKind));
    let mut polls = 0;
    let modem = |line: &str| {
        if line == "C AT+SQNSS" {
            polls += 1;
            let state = if polls < 3 { "+SQNSS: 1,4,\"0.0.0.0\",8080,\"0.0.0.0\",0" } else { "+SQNSS: 1,5,\"127.0.0.1\",8080,\"::1\",50000" };
            return std::format!("\r\n{state}\r\n+SQNSS: 2,0\r\n\r\nOK\r\n").into_bytes();
        }
        ok(line)
    };
    let mut log = Vec::new();
    e.begin_accept(h, None, 0).unwrap();
    let out = drive(&mut e, modem, &mut log).unwrap();
    assert_eq!(out.from, Some(parse_socket_addr(b"::1", 50000).unwrap()));
    assert_eq!(log, ["C AT+SQNSS", "S 10", "C AT+SQNSS", "S 20", "C AT+SQNSS", "C AT+SQNSA=1,1"]);
    // The handle is the connection now.
    assert_eq!(e.begin_stream_send(h, b"hi"), Ok(2));
    assert_eq!(drive(&mut e, ok, &mut Vec::new()).map(|o| o.sent), Ok(2));
}

#[test]
fn a_refused_listen_is_eaddrinuse_and_a_nonblocking_accept_is_eagain() {
    let mut e = Engine::new();
    let h = e.open_stream().unwrap();
    e.begin_listen(h, 80).unwrap();
    let refuse = |line: &str| if line.starts_with("C AT+SQNSL") { b"\r\n+CME ERROR: 3\r\n".to_vec() } else { ok(line) };
    assert_eq!(drive(&mut e, refuse, &mut Vec::new()), Err(Error::AddressInUse));
    assert_eq!(e.begin_accept(h, None, 0), Err(Error::WrongKind));
    let h2 = e.open_stream().unwrap();
    e.begin_listen(h2, 81).unwrap();
    drive(&mut e, ok, &mut Vec::new()).unwrap();
    e.begin_accept(h2, Some(0), 0).unwrap();
    let idle = |line: &str| if line == "C AT+SQNSS" { b"\r\n+SQNSS: 2,4,\"0.0.0.0\",81,\"0.0.0.0\",0\r\n\r\nOK\r\n".to_vec() } else { ok(line) };
    assert_eq!(drive(&mut e, idle, &mut Vec::new()), Err(Error::WouldBlock));
}

#[test]
fn no_carrier_at_the_connect_timeout_is_etimedout() {
    let mut e = Engine::new();
    let h = e.open_stream().unwrap();
    e.begin_stream_connect(h, broker()).unwrap();
    // The test clock moves 5 ms an exchange: a dial answered after 8 s of silence.
    let mut now = 1_000u32;
    let mut reply: Vec<u8> = Vec::new();
    let result = loop {
        match e.step(&reply, now) {
            Step::Done(result) => break result,
            Step::Exchange(x) => {
                let line = describe(&x);
                now = now.wrapping_add(5);
                if line.starts_with("C AT+SQNSD") {
                    now = now.wrapping_add(8_000);
                    reply = b"\r\nNO CARRIER\r\n".to_vec();
                } else {
                    reply = ok(&line);
                }
            }
        }
    };
    assert_eq!(result, Err(Error::TimedOut));
}

#[test]
fn an_error_for_nothing_waiting_on_an_open_socket_keeps_reading() {
    // Some firmware answers +CME ERROR: 4 to a read with nothing buffered: the slot table
    // shows the socket open, so the read goes on polling until the data is there.
    let (mut e, h, _) = connected();
    e.begin_stream_recv(h, 100, Some(5_000), 1_000).unwrap();
    let mut reads = 0;
    let modem = |line: &str| match line {
        "C AT+SQNSRECV=1,100" => {
            reads += 1;
            if reads < 3 {
                b"\r\n+CME ERROR: 4\r\n".to_vec()
            } else {
                b"\r\n+SQNSRECV: 1,2\r\n6869\r\n\r\nOK\r\n".to_vec()
            }
        }
        "C AT+SQNSS" => b"\r\n+SQNSS: 1,1,\"10.0.0.2\",40000,\"::1\",1883\r\n+SQNSS: 2,0\r\n\r\nOK\r\n".to_vec(),
        _ => ok(line),
    };
    let mut log = Vec::new();
    assert_eq!(drive(&mut e, modem, &mut log).map(|o| o.received), Ok(2));
    assert_eq!(e.datagram(), b"hi");
    assert_eq!(
        log,
        ["C AT+SQNSRECV=1,100", "C AT+SQNSS", "S 10", "C AT+SQNSRECV=1,100", "C AT+SQNSS", "S 20", "C AT+SQNSRECV=1,100"]
    );
}

#[test]
fn a_refused_combined_send_asks_the_slot_table() {
    // Command and payload in one write: the command's refusal may be flushed away, leaving
    // the modem's ERROR for the payload read as a command line. AT+SQNSS decides.
    for (state, expected) in [("1", Error::WouldBlock), ("0", Error::BrokenPipe)] {
        let (mut e, h, _) = connected();
        e.configure(Limits { combined_send: true, ..Limits::STOCK }).unwrap();
        e.begin_stream_send(h, b"abc").unwrap();
        let table = std::format!("\r\n+SQNSS: 1,{state}\r\n+SQNSS: 2,0\r\n\r\nOK\r\n");
        let modem = |line: &str| {
            if line.starts_with("CP AT+SQNSSENDEXT") {
                b"\r\nERROR\r\n".to_vec()
            } else if line == "C AT+SQNSS" {
                table.clone().into_bytes()
            } else {
                ok(line)
            }
        };
        let mut log = Vec::new();
        assert_eq!(drive(&mut e, modem, &mut log), Err(expected));
        assert_eq!(log, ["CP AT+SQNSSENDEXT=1,3 616263", "C AT+SQNSS"]);
    }
}
