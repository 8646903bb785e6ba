//! Answers the modem acted on and the engine never saw (the transport raised, or the answer
//! never came): afterwards the engine must write again or turn off, never skip on a belief.

extern crate std;
use std::string::String;
use std::vec::Vec;

use super::super::secure::*;
use super::super::*;
use super::secure::{broker, connected, describe, drive, ok, pem, CA};

/// Steps the started operation, answering with `ok`, until it issues a line starting with
/// `stop`; then the transport "raises": `abort()`. Returns the lines issued.
fn abort_at(e: &mut Engine, stop: &str) -> Vec<String> {
    let mut log = Vec::new();
    let mut reply: Vec<u8> = Vec::new();
    let mut now = 1_000u32;
    for _ in 0..200 {
        match e.step(&reply, now) {
            Step::Done(r) => panic!("finished before {stop}: {r:?} {log:?}"),
            Step::Exchange(x) => {
                let line = describe(&x);
                log.push(line.clone());
                if line.starts_with(stop) {
                    e.abort();
                    return log;
                }
                reply = ok(&line);
                now += 5;
            }
        }
    }
    panic!("{stop} never issued: {log:?}");
}

const NONE: SecureParams = SecureParams { level: LEVEL_NONE, ca: None, cert: None, key: None };

#[test]
fn a_profile_whose_answer_was_lost_is_written_again() {
    let (mut e, h) = connected();
    e.begin_secure_connect(h, broker(), None, CA).unwrap();
    drive(&mut e, ok, &mut Vec::new()).unwrap();
    // A CERT_NONE profile is sent and its answer lost.
    e.begin_secure_connect(h, broker(), None, NONE).unwrap();
    abort_at(&mut e, "C AT+SQNSPCFG=1,2,\"\",0");
    // The CERT_REQUIRED profile is not skipped on the belief it is still there.
    let mut log = Vec::new();
    e.begin_secure_connect(h, broker(), None, CA).unwrap();
    drive(&mut e, ok, &mut log).unwrap();
    assert!(log.contains(&String::from("C AT+SQNSPCFG=1,2,\"\",7,19,,,\"\"")), "{log:?}");
}

#[test]
fn a_connid_whose_secure_answer_was_lost_is_turned_off_before_a_plain_dial() {
    let (mut e, h) = connected();
    e.begin_secure_connect(h, broker(), None, NONE).unwrap();
    abort_at(&mut e, "C AT+SQNSSCFG=1,1,1");
    let mut log = Vec::new();
    e.begin_stream_connect(h, broker()).unwrap();
    let _ = drive(&mut e, ok, &mut log);
    let off = log.iter().position(|l| l == "C AT+SQNSSCFG=1,0,1").expect("turned off");
    let dial = log.iter().position(|l| l.starts_with("C AT+SQNSD=1")).expect("dialled");
    assert!(off < dial, "{log:?}");
}

#[test]
fn an_upload_abandoned_at_its_prompt_is_paid_in_filler_before_the_next_command() {
    for lf_terminator in [false, true] {
        let mut e = Engine::new();
        let pem = pem(3);
        let size = u16::try_from(pem.len()).unwrap();
        e.begin_cred_upload(false, 19, size, lf_terminator).unwrap();
        abort_at(&mut e, "C AT+SQNSNVW");
        let h = e.open_stream().unwrap();
        let mut log = Vec::new();
        e.begin_stream_connect(h, broker()).unwrap();
        // The modem counts the filler silently (its last answer may be lost too: not repeated).
        let _ = drive(&mut e, |l| if l.starts_with("C -") { Vec::new() } else { ok(l) }, &mut log);
        let fills: Vec<&String> = log.iter().take_while(|l| l.starts_with("C -") || l == &"C ").collect();
        let counted: usize = fills.iter().map(|l| l.len() - 2 + usize::from(lf_terminator)).sum();
        assert_eq!(counted, pem.len(), "lf {lf_terminator}: {log:?}");
        assert!(log.iter().skip(fills.len()).all(|l| !l.starts_with("C -")), "{log:?}");
        assert!(log.iter().any(|l| l.starts_with("C AT+SQNSD=1")), "{log:?}");
    }
}

#[test]
fn a_piece_in_flight_stays_owed_and_a_reboot_cancels_the_debt() {
    let mut e = Engine::new();
    let pem = pem(3);
    e.begin_cred_upload(false, 19, u16::try_from(pem.len()).unwrap(), false).unwrap();
    drive(&mut e, ok, &mut Vec::new()).unwrap();
    let taken = e.begin_cred_piece(&pem, false).unwrap();
    abort_at(&mut e, "P20 ");
    assert_eq!(e.secure.upload.map(|u| u.remaining), Some(u16::try_from(pem.len()).unwrap()), "taken {taken}");
    // A +SYSSTART: the modem waits for nothing any more.
    let h = e.open_stream().unwrap();
    let mut log = Vec::new();
    e.begin_stream_connect(h, broker()).unwrap();
    let _ = drive(&mut e, |l| if l.starts_with("C -") { b"\r\n+SYSSTART\r\n".to_vec() } else { ok(l) }, &mut log);
    assert_eq!(e.secure.upload, None);
    assert_eq!(log.iter().filter(|l| l.starts_with("C -")).count(), 1, "{log:?}");
}

#[test]
fn fillers_add_up_to_what_is_owed() {
    for remaining in 1..400u16 {
        for lf_terminator in [false, true] {
            for max in [1u16, 20, 124, 280] {
                let mut left = UploadLeft { remaining, lf_terminator };
                let mut writes = 0;
                while let Some((dashes, last)) = upload_fill(left, max) {
                    assert!(dashes <= max);
                    let counted = dashes + u16::from(lf_terminator);
                    assert!(counted <= left.remaining);
                    left.remaining -= counted;
                    writes += 1;
                    if last {
                        assert_eq!(left.remaining, 0);
                        break;
                    }
                }
                assert_eq!(left.remaining, 0);
                assert!(writes >= 1);
            }
        }
    }
}
