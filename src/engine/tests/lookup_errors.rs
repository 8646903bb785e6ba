//! The modem's resolver is asked with plain errors (`AT+CMEE=0`): a family it has no address
//! for is refused with `ERROR`, a final code for Pycom's LTE task, instead of a `+CME ERROR`
//! that costs the task's 1 s idle wait. Socket commands still run with numeric errors, so a
//! plain `ERROR` there keeps meaning "the modem rebooted unseen".

extern crate std;
use std::string::String;
use std::vec::Vec;

use super::*;
use crate::dns::RecordType;

fn lookup(e: &mut Engine, kind: RecordType, modem: impl FnMut(&str) -> Vec<u8>, log: &mut Log) -> Result<Outcome, Error> {
    e.begin_resolve(b"v4only.test", kind, None, 1).unwrap();
    drive(e, modem, log)
}

/// A modem whose resolver knows only an A record, and answers as its CMEE setting says.
fn modem_with_cmee() -> impl FnMut(&str) -> Vec<u8> {
    let mut cmee = 0;
    move |line: &str| {
        if let Some(n) = line.strip_prefix("C AT+CMEE=") {
            cmee = n.parse().unwrap();
            return b"\r\nOK\r\n".to_vec();
        }
        if line == "C AT+SQNDNSLKUP=\"v4only.test\",0" {
            return b"\r\n+SQNDNSLKUP: v4only.test,192.0.2.4\r\n\r\nOK\r\n".to_vec();
        }
        if line.starts_with("C AT+SQNDNSLKUP") {
            return if cmee == 0 { b"\r\nERROR\r\n".to_vec() } else { b"\r\n+CME ERROR: 4\r\n".to_vec() };
        }
        happy(line)
    }
}

#[test]
fn a_family_the_resolver_lacks_is_refused_with_plain_error_then_sockets_get_numeric_errors() {
    let mut e = Engine::new();
    let mut log = Log::new();
    let mut modem = modem_with_cmee();
    assert_eq!(lookup(&mut e, RecordType::Aaaa, &mut modem, &mut log), Err(Error::NameNotFound));
    assert_eq!(log, ["C AT+CMEE=0", "C AT+SQNDNSLKUP=\"v4only.test\",1"]);
    log.clear();
    assert_eq!(lookup(&mut e, RecordType::A, &mut modem, &mut log).map(|o| o.resolved), Ok(1));
    assert_eq!(log, ["C AT+SQNDNSLKUP=\"v4only.test\",0"], "the window stays open across lookups");
    // The plain ERROR of the refused lookup was no sign of a reboot: nothing else was forgotten.
    assert_eq!(e.modem_restarts(), 0);
    log.clear();
    let h = e.open().unwrap();
    sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
    assert_eq!(log.first().map(String::as_str), Some("C AT+CMEE=1"), "numeric errors before any socket command");
    log.clear();
    // And back to plain errors for the next lookup.
    assert_eq!(lookup(&mut e, RecordType::Aaaa, &mut modem, &mut log), Err(Error::NameNotFound));
    assert_eq!(log, ["C AT+CMEE=0", "C AT+SQNDNSLKUP=\"v4only.test\",1"]);
}

#[test]
fn a_modem_that_refuses_plain_errors_is_asked_with_numeric_ones() {
    let mut e = Engine::new();
    let mut log = Log::new();
    let modem = |line: &str| match line {
        "C AT+CMEE=0" => b"\r\n+CME ERROR: 3\r\n".to_vec(),
        l if l.starts_with("C AT+SQNDNSLKUP") => b"\r\n+CME ERROR: 4\r\n".to_vec(),
        l => happy(l),
    };
    assert_eq!(lookup(&mut e, RecordType::Aaaa, modem, &mut log), Err(Error::NameNotFound));
    assert_eq!(log, ["C AT+CMEE=0", "C AT+CMEE=1", "C AT+SQNDNSLKUP=\"v4only.test\",1"]);
}

#[test]
fn a_numeric_code_or_a_reboot_ends_the_window() {
    // A +CME ERROR inside the window means someone set AT+CMEE=1 (a user's lte.send_at_cmd);
    // a +SYSSTART means the modem is back to its default. Either way the next lookup writes
    // AT+CMEE=0 again.
    for answer in [&b"\r\n+CME ERROR: 4\r\n"[..], b"\r\n+SYSSTART\r\n"] {
        let mut e = Engine::new();
        let mut log = Log::new();
        let mut modem = modem_with_cmee();
        lookup(&mut e, RecordType::Aaaa, &mut modem, &mut log).unwrap_err();
        log.clear();
        let interrupted = |line: &str| if line.starts_with("C AT+SQNDNSLKUP") { answer.to_vec() } else { happy(line) };
        let _ = lookup(&mut e, RecordType::Aaaa, interrupted, &mut log);
        assert_eq!(log.first().map(String::as_str), Some("C AT+SQNDNSLKUP=\"v4only.test\",1"), "still in the window");
        log.clear();
        lookup(&mut e, RecordType::Aaaa, &mut modem, &mut log).unwrap_err();
        assert_eq!(log, ["C AT+CMEE=0", "C AT+SQNDNSLKUP=\"v4only.test\",1"], "{answer:?}");
    }
}
