//! TLS operations against scripted modem replies: the exact exchanges of a credential upload
//! and of a secure re-dial, the profile written only when it changes, the spellings tried when
//! the modem refuses one, `NO CARRIER` as a handshake failure, and TLS turned off again
//! before a plain dial on the same connId.

extern crate std;
use std::string::String;
use std::vec::Vec;

use super::super::secure::*;
use super::super::*;
use crate::addr::parse_socket_addr;

pub(super) fn describe(x: &Exchange<'_>) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match x.kind {
        ExchangeKind::Command => std::format!("C {}", text(x.command)),
        ExchangeKind::Payload => std::format!("P{} {}", x.timeout_ms, text(x.payload)),
        ExchangeKind::CommandWithPayload => std::format!("CP {} {}", text(x.command), text(x.payload)),
        ExchangeKind::Listen => std::format!("L {}", x.timeout_ms),
        ExchangeKind::Sleep => std::format!("S {}", x.timeout_ms),
    }
}

pub(super) fn drive(engine: &mut Engine, modem: impl FnMut(&str) -> Vec<u8>, log: &mut Vec<String>) -> Result<Outcome, Error> {
    super::drive_described(engine, describe, modem, log)
}

/// A modem that accepts everything: the prompt for uploads, silence for pieces before the
/// last (their wait is 20 ms), OK for the rest.
pub(super) fn ok(line: &str) -> Vec<u8> {
    if line == "C AT+CCLK?" {
        b"\r\n+CCLK: \"26/12/03,00:45:00+00\"\r\n\r\nOK\r\n".to_vec()
    } else if line.starts_with("C AT+SQNSNVW") && !line.ends_with(",0") {
        b"\r\n> ".to_vec()
    } else if line.starts_with("P20 ") {
        Vec::new()
    } else {
        b"\r\nOK\r\n".to_vec()
    }
}

pub(super) fn broker() -> SocketAddr {
    parse_socket_addr(b"::1", 8883).unwrap()
}

pub(super) fn connected() -> (Engine, Handle) {
    let mut e = Engine::new();
    let h = e.open_stream().unwrap();
    let mut log = Vec::new();
    e.begin_stream_connect(h, broker()).unwrap();
    drive(&mut e, ok, &mut log).unwrap();
    (e, h)
}

pub(super) const CA: SecureParams = SecureParams { level: LEVEL_CA_DATES_AND_NAME, ca: Some(19), cert: None, key: None };

fn upload(e: &mut Engine, pem: &[u8], modem: impl FnMut(&str) -> Vec<u8> + Copy) -> (Result<(), Error>, Vec<String>) {
    let mut log = Vec::new();
    e.begin_cred_write(false, 19, u16::try_from(pem.len()).unwrap()).unwrap();
    if let Err(err) = drive(e, modem, &mut log) {
        return (Err(err), log);
    }
    let mut done = 0;
    while done < pem.len() {
        done += e.begin_cred_piece(&pem[done..], false).unwrap();
        if let Err(err) = drive(e, modem, &mut log) {
            return (Err(err), log);
        }
    }
    (Ok(()), log)
}

pub(super) fn pem(lines: usize) -> Vec<u8> {
    let mut text = b"-----BEGIN CERTIFICATE-----\n".to_vec();
    for i in 0..lines {
        text.extend(std::iter::repeat_n(b'A' + (i % 26) as u8, 64));
        text.push(b'\n');
    }
    text.extend_from_slice(b"-----END CERTIFICATE-----\n");
    text
}

#[test]
fn an_upload_on_stock_firmware_goes_in_whole_lines_and_only_the_last_waits() {
    let mut e = Engine::new();
    let pem = pem(3);
    let (result, log) = upload(&mut e, &pem, ok);
    assert_eq!(result, Ok(()));
    assert_eq!(log[0], "C AT+CMEE=1");
    assert_eq!(log[1], std::format!("C AT+SQNSNVW=\"certificate\",19,{}", pem.len()));
    // Pieces of at most 124 bytes, each ending before a line feed: as many whole lines as
    // fit (one 64-character line after the first), the line feed starting the next piece.
    let pieces: Vec<&String> = log.iter().filter(|l| l.starts_with('P')).collect();
    assert_eq!(pieces.len(), 3, "{log:?}");
    assert!(pieces[..2].iter().all(|p| p.starts_with("P20 ") && p.len() <= 4 + 124), "{pieces:?}");
    assert!(pieces[1].starts_with("P20 \nBBBB"), "{pieces:?}");
    assert!(pieces[2].starts_with("P20000 "), "{pieces:?}");
    let joined: String = pieces.iter().map(|p| p.split_once(' ').unwrap().1).collect();
    assert_eq!(joined.as_bytes(), &pem[..]);
}

#[test]
fn with_chunking_the_whole_pem_is_one_write() {
    let mut e = Engine::new();
    e.configure(Limits { max_command_len: None, ..Limits::STOCK }).unwrap();
    let pem = pem(18);
    let (result, log) = upload(&mut e, &pem, ok);
    assert_eq!(result, Ok(()));
    assert_eq!(log.iter().filter(|l| l.starts_with('P')).count(), 1);
}

#[test]
fn a_refused_pem_or_an_early_answer_fails_the_upload() {
    let mut e = Engine::new();
    let refuse_last = |line: &str| if line.starts_with("P20000") { b"\r\n+CME ERROR: 4\r\n".to_vec() } else { ok(line) };
    assert_eq!(upload(&mut e, &pem(1), refuse_last).0, Err(Error::Modem));
    // An answer to a piece before the last: the modem counted differently.
    let early = |line: &str| if line.starts_with("P20 ") { b"\r\nOK\r\n".to_vec() } else { ok(line) };
    assert_eq!(upload(&mut e, &pem(3), early).0, Err(Error::Modem));
    let no_prompt = |line: &str| if line.starts_with("C AT+SQNSNVW") { b"\r\n+CME ERROR: 50\r\n".to_vec() } else { ok(line) };
    assert_eq!(upload(&mut e, &pem(1), no_prompt).0, Err(Error::Modem));
}

#[test]
fn a_reboot_during_an_upload_fails_it_and_sends_no_more_pem() {
    let mut e = Engine::new();
    let reboot = |line: &str| if line.starts_with("P20 ") { b"\r\n+SYSSTART\r\n".to_vec() } else { ok(line) };
    let (result, log) = upload(&mut e, &pem(3), reboot);
    assert_eq!(result, Err(Error::Modem));
    assert_eq!(log.iter().filter(|l| l.starts_with('P')).count(), 1, "{log:?}");
}

#[test]
fn a_secure_redial_closes_configures_writes_the_profile_once_and_dials_by_name() {
    let (mut e, h) = connected();
    let mut log = Vec::new();
    e.begin_secure_connect(h, broker(), Some(b"broker.test"), CA).unwrap();
    assert_eq!(drive(&mut e, ok, &mut log), Ok(Outcome::default()));
    assert_eq!(
        log,
        [
            "C AT+CCLK?",
            "C AT+SQNSH=1",
            "C AT+SQNSCFG=1,1,300,0,80,50",
            "C AT+SQNSCFGEXT=1,1,1,0,0,1",
            "C AT+SQNSPCFG=1,2,\"\",7,19,,,\"\"",
            "C AT+SQNSSCFG=1,1,1",
            "C AT+SQNSD=1,0,8883,\"broker.test\",0,0,1",
        ]
    );
    assert_eq!(e.stream_peer(h), Ok(broker()));
    // The same profile again: not written again.
    let mut log = Vec::new();
    e.begin_secure_connect(h, broker(), None, CA).unwrap();
    drive(&mut e, ok, &mut log).unwrap();
    assert!(!log.iter().any(|l| l.contains("SQNSPCFG")), "{log:?}");
    assert_eq!(log.last().unwrap(), "C AT+SQNSD=1,0,8883,\"::1\",0,0,1");
}

#[test]
fn refused_profile_spellings_are_tried_in_turn_and_the_accepted_one_kept() {
    let (mut e, h) = connected();
    let mut log = Vec::new();
    // This modem takes only the bare cipher field with the Monarch 2 level.
    let picky = |line: &str| {
        if line.starts_with("C AT+SQNSPCFG") && line != "C AT+SQNSPCFG=1,2,,5,19,,,\"\"" {
            b"\r\n+CME ERROR: 50\r\n".to_vec()
        } else {
            ok(line)
        }
    };
    e.begin_secure_connect(h, broker(), None, CA).unwrap();
    assert_eq!(drive(&mut e, picky, &mut log), Ok(Outcome::default()));
    let tried: Vec<&String> = log.iter().filter(|l| l.contains("SQNSPCFG")).collect();
    assert_eq!(
        tried,
        [
            "C AT+SQNSPCFG=1,2,\"\",7,19,,,\"\"",
            "C AT+SQNSPCFG=1,2,,7,19,,,\"\"",
            "C AT+SQNSPCFG=1,2,\"\",5,19,,,\"\"",
            "C AT+SQNSPCFG=1,2,,5,19,,,\"\"",
        ]
    );
    // A second connId: straight to the spelling that worked.
    let h2 = e.open_stream().unwrap();
    let mut log = Vec::new();
    e.begin_stream_connect(h2, broker()).unwrap();
    drive(&mut e, ok, &mut log).unwrap();
    let mut log = Vec::new();
    e.begin_secure_connect(h2, broker(), None, SecureParams { level: LEVEL_CA_AND_DATES, ..CA }).unwrap();
    drive(&mut e, picky_level1, &mut log).unwrap();
    assert!(log.contains(&"C AT+SQNSPCFG=2,2,,1,19,,,\"\"".into()), "{log:?}");
    // A modem that refuses every spelling: an error, not a loop.
    let h3 = e.open_stream().unwrap();
    e.begin_stream_connect(h3, broker()).unwrap();
    drive(&mut e, ok, &mut Vec::new()).unwrap();
    let never = |line: &str| if line.contains("SQNSPCFG") { b"\r\nERROR\r\n".to_vec() } else { ok(line) };
    e.begin_secure_connect(h3, broker(), None, CA).unwrap();
    assert_eq!(drive(&mut e, never, &mut Vec::new()), Err(Error::Modem));
}

fn picky_level1(line: &str) -> Vec<u8> {
    if line.starts_with("C AT+SQNSPCFG") && line != "C AT+SQNSPCFG=2,2,,1,19,,,\"\"" {
        b"\r\n+CME ERROR: 50\r\n".to_vec()
    } else {
        ok(line)
    }
}

#[test]
fn no_carrier_on_the_secure_dial_is_a_handshake_failure_and_the_next_plain_dial_turns_tls_off() {
    let (mut e, h) = connected();
    let refuse = |line: &str| if line.starts_with("C AT+SQNSD") { b"\r\nNO CARRIER\r\n".to_vec() } else { ok(line) };
    e.begin_secure_connect(h, broker(), None, CA).unwrap();
    assert_eq!(drive(&mut e, refuse, &mut Vec::new()), Err(Error::TlsHandshake));
    assert_eq!(e.stream_peer(h), Err(Error::NotConnected));
    e.begin_close(h).unwrap();
    drive(&mut e, ok, &mut Vec::new()).unwrap();
    // The connId's next user dials plain TCP: TLS goes off first, once.
    let h2 = e.open_stream().unwrap();
    let mut log = Vec::new();
    e.begin_stream_connect(h2, broker()).unwrap();
    drive(&mut e, ok, &mut log).unwrap();
    assert_eq!(&log[log.len() - 2..], ["C AT+SQNSSCFG=1,0,1", "C AT+SQNSD=1,0,8883,\"::1\",0,0,1"]);
    let h3 = e.open_stream().unwrap();
    let mut log = Vec::new();
    e.begin_stream_connect(h3, broker()).unwrap();
    drive(&mut e, ok, &mut log).unwrap();
    assert!(!log.iter().any(|l| l.contains("SQNSSCFG")), "{log:?}");
}

#[test]
fn an_unset_modem_clock_refuses_a_date_check_before_anything_changes() {
    let (mut e, h) = connected();
    let epoch = |line: &str| {
        if line == "C AT+CCLK?" {
            b"\r\n+CCLK: \"70/01/01,00:00:09+00\"\r\n\r\nOK\r\n".to_vec()
        } else {
            ok(line)
        }
    };
    let mut log = Vec::new();
    e.begin_secure_connect(h, broker(), None, CA).unwrap();
    assert_eq!(drive(&mut e, epoch, &mut log), Err(Error::ClockNotSet));
    assert_eq!(log, ["C AT+CCLK?"]);
    // No date check, no clock read.
    let mut log = Vec::new();
    e.begin_secure_connect(h, broker(), None, SecureParams { level: LEVEL_NONE, ..CA }).unwrap();
    drive(&mut e, epoch, &mut log).unwrap();
    assert!(!log.iter().any(|l| l.contains("CCLK")), "{log:?}");
    // An answer that does not read as a date: the modem decides at the handshake.
    let (mut e, h) = connected();
    let odd = |line: &str| if line == "C AT+CCLK?" { b"\r\n+CCLK: 12:00\r\n\r\nOK\r\n".to_vec() } else { ok(line) };
    e.begin_secure_connect(h, broker(), None, CA).unwrap();
    assert_eq!(drive(&mut e, odd, &mut Vec::new()), Ok(Outcome::default()));
}

#[test]
fn arguments_are_checked_before_any_exchange() {
    let mut e = Engine::new();
    assert_eq!(e.begin_cred_write(false, 20, 10), Err(Error::InvalidArgument));
    assert_eq!(e.begin_cred_write(true, 16, 3000), Err(Error::InvalidArgument));
    let udp = e.open().unwrap();
    assert_eq!(e.begin_secure_connect(udp, broker(), None, CA), Err(Error::WrongKind));
    let h = e.open_stream().unwrap();
    let bad_level = SecureParams { level: 1, ..CA };
    assert_eq!(e.begin_secure_connect(h, broker(), None, bad_level), Err(Error::InvalidArgument));
    assert_eq!(e.begin_secure_connect(h, broker(), Some(b"bad name!"), CA), Err(Error::InvalidArgument));
    assert_eq!(e.stream_peer(h), Err(Error::NotConnected));
}
