//! Engine tests against scripted modem replies, one file per kind of operation, and the
//! set-up they share: a transport that logs each exchange as one line, a loop that runs an
//! operation to its end, a well-behaved modem, and a socket already dialled.

extern crate std;
use std::string::String;
use std::vec::Vec;

use super::*;
use crate::addr::parse_socket_addr;

mod abort;
mod datagram;
mod lookup_errors;
mod poll_schedule;
mod remote_bytes;
mod resolve_both;
mod secure;
mod secure_lost;
mod stream;
mod sweep;
mod udp_server;

/// What the test transport saw: one line per exchange, e.g. `C AT+SQNSH=1`, `P 48656C6C6F`, `S 10`.
pub(super) type Log = Vec<String>;

pub(super) fn describe(x: &Exchange<'_>) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match x.kind {
        ExchangeKind::Command => std::format!("C {}", text(x.command)),
        ExchangeKind::Payload => std::format!("P {}", text(x.payload)),
        ExchangeKind::CommandWithPayload => std::format!("CP {} {}", text(x.command), text(x.payload)),
        ExchangeKind::Listen => std::format!("L {}", x.timeout_ms),
        ExchangeKind::Sleep => std::format!("S {}", x.timeout_ms),
    }
}

/// Runs the operation to the end. `modem` answers each exchange (by its description);
/// time advances by `tick_ms` per exchange plus any sleep.
pub(super) fn drive(
    engine: &mut Engine,
    modem: impl FnMut(&str) -> Vec<u8>,
    log: &mut Log,
) -> Result<Outcome, Error> {
    drive_described(engine, describe, modem, log)
}

/// `drive`, with each exchange written to the log (and given to `modem`) as `describe` has it.
pub(super) fn drive_described(
    engine: &mut Engine,
    describe: fn(&Exchange<'_>) -> String,
    mut modem: impl FnMut(&str) -> Vec<u8>,
    log: &mut Log,
) -> Result<Outcome, Error> {
    let mut now = 1_000u32;
    let mut reply: Vec<u8> = Vec::new();
    for _ in 0..500 {
        match engine.step(&reply, now) {
            Step::Done(result) => return result,
            Step::Exchange(x) => {
                let line = describe(&x);
                if x.kind == ExchangeKind::Sleep {
                    now = now.wrapping_add(x.timeout_ms);
                }
                now = now.wrapping_add(5);
                reply = modem(&line);
                log.push(line);
            }
        }
    }
    panic!("operation did not finish: {log:?}");
}

/// A well-behaved modem: OK to everything, prompt to SQNSSENDEXT, no data waiting.
pub(super) fn happy(line: &str) -> Vec<u8> {
    if line.starts_with("C AT+SQNSSENDEXT") {
        b"\r\n> ".to_vec()
    } else if line.starts_with("C AT+SQNSRECV=") {
        let conn = &line[14..15];
        std::format!("\r\n+SQNSRECV: {conn},0\r\n\r\nOK\r\n").into_bytes()
    } else if line.starts_with("S ") {
        Vec::new()
    } else if line == "C AT+SQNSS" {
        b"\r\n+SQNSS: 1,0\r\n+SQNSS: 2,1,\"127.0.0.1\",5000,\"127.0.0.1\",7\r\n+SQNSS: 3,0\r\n+SQNSS: 4,0\r\n+SQNSS: 5,2,\"::1\",1,\"::1\",2\r\n+SQNSS: 6,0\r\n\r\nOK\r\n".to_vec()
    } else {
        b"\r\nOK\r\n".to_vec()
    }
}

pub(super) fn peer() -> SocketAddr {
    parse_socket_addr(b"::1", 7).unwrap()
}

pub(super) fn v4peer() -> SocketAddr {
    parse_socket_addr(b"127.0.0.1", 7).unwrap()
}

/// An engine set up as on the direct transport (raw payloads, command and payload in one
/// exchange) with one socket that sent a first datagram to `peer()`, and the log of that.
pub(super) fn dialled_raw() -> (Engine, Handle, Log) {
    let mut e = Engine::new();
    e.configure(Limits { max_command_len: None, combined_send: true, send_hex: false, ..Limits::STOCK })
        .unwrap();
    let h = e.open().unwrap();
    let mut log = Log::new();
    sendto(&mut e, h, b"warm", peer(), &mut log).unwrap();
    (e, h, log)
}

/// An engine with one socket already dialled to `peer()`, and an empty log.
pub(super) fn dialled() -> (Engine, Handle, Log) {
    let mut e = Engine::new();
    let h = e.open().unwrap();
    let mut log = Log::new();
    sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
    log.clear();
    (e, h, log)
}

pub(super) fn sendto(engine: &mut Engine, h: Handle, data: &[u8], to: SocketAddr, log: &mut Log) -> Result<Outcome, Error> {
    engine.begin_sendto(h, data, Some(to))?;
    drive(engine, happy, log)
}
