//! Engine tests against scripted modem replies: the exact command sequences, and every
//! failure path ending in an error or a recovery with no slot leaked. (The same engine runs
//! against the full simulator in tests/engine_vs_sim.rs.)

extern crate std;
use std::string::String;
use std::vec::Vec;

use super::super::*;
use super::{dialled, dialled_raw, drive, happy, peer, sendto, v4peer, Log};
use crate::addr::parse_socket_addr;

#[test]
fn reset_closes_what_the_modem_still_holds() {
    let mut e = Engine::new();
    let stale = e.open().unwrap();
    let mut log = Log::new();
    e.begin_reset().unwrap();
    assert_eq!(drive(&mut e, happy, &mut log), Ok(Outcome::default()));
    assert_eq!(log, ["C AT+CMEE=1", "C AT+SQNSS", "C AT+SQNSH=2", "C AT+SQNSH=5"]);
    assert_eq!(e.begin_close(stale), Err(Error::BadHandle));
    assert_eq!(e.slots_in_use(), 0);
}

#[test]
fn first_sendto_configures_and_dials_then_steady_state_is_two_exchanges() {
    let mut e = Engine::new();
    let h = e.open().unwrap();
    let mut log = Log::new();
    let out = sendto(&mut e, h, b"Hello", peer(), &mut log).unwrap();
    assert_eq!(out.sent, 5);
    assert_eq!(
        log,
        [
            "C AT+CMEE=1",
            "C AT+SQNSCFG=1,1,300,0,600,50",
            "C AT+SQNSCFGEXT=1,1,1,0,0,1",
            "C AT+SQNSD=1,1,7,\"::1\",0,0,1,0",
            "C AT+SQNSSENDEXT=1,5",
            "P 48656C6C6F",
        ]
    );
    log.clear();
    sendto(&mut e, h, b"again", peer(), &mut log).unwrap();
    assert_eq!(log, ["C AT+SQNSSENDEXT=1,5", "P 616761696E"]);
}

#[test]
fn sendto_a_new_peer_redials_and_bind_sets_local_port() {
    let (mut e, h, mut log) = dialled();
    e.bind(h, 4000).unwrap();
    sendto(&mut e, h, b"y", v4peer(), &mut log).unwrap();
    assert_eq!(
        log,
        [
            "C AT+SQNSH=1",
            "C AT+SQNSCFG=1,1,300,0,600,50",
            "C AT+SQNSCFGEXT=1,1,1,0,0,1",
            "C AT+SQNSD=1,1,7,\"127.0.0.1\",0,4000,1,0",
            "C AT+SQNSSENDEXT=1,1",
            "P 79",
        ]
    );
}

#[test]
fn a_conn_id_is_configured_again_after_a_close() {
    // A reboot whose +SYSSTART the firmware flushed away leaves the modem in its default
    // (raw) data modes, and AT+SQNSH answers OK on the closed socket: a dial on the old
    // configuration would send the hex payload as raw bytes to the peer.
    let (mut e, h, mut log) = dialled();
    e.begin_close(h).unwrap();
    drive(&mut e, happy, &mut log).unwrap();
    let next = e.open().unwrap();
    log.clear();
    sendto(&mut e, next, b"y", peer(), &mut log).unwrap();
    assert_eq!(
        log,
        [
            "C AT+SQNSCFG=1,1,300,0,600,50",
            "C AT+SQNSCFGEXT=1,1,1,0,0,1",
            "C AT+SQNSD=1,1,7,\"::1\",0,0,1,0",
            "C AT+SQNSSENDEXT=1,1",
            "P 79",
        ]
    );
}

#[test]
fn oversize_and_empty_datagrams_are_refused_before_any_exchange() {
    let mut e = Engine::new();
    let h = e.open().unwrap();
    assert_eq!(e.begin_sendto(h, &[0u8; 63], Some(peer())), Err(Error::MessageTooLong));
    assert_eq!(e.begin_sendto(h, &[], Some(peer())), Err(Error::InvalidArgument));
    assert_eq!(e.begin_sendto(h, &[0u8; 62], None), Err(Error::NotConnected));
    e.configure(Limits { max_command_len: None, ..Limits::STOCK }).unwrap();
    assert_eq!(e.begin_sendto(h, &[0u8; 1501], Some(peer())), Err(Error::MessageTooLong));
    assert!(e.begin_sendto(h, &[0u8; 1500], Some(peer())).is_ok());
    assert_eq!(e.begin_sendto(h, b"x", Some(peer())), Err(Error::Busy));
}

#[test]
fn combined_send_is_one_exchange() {
    let (mut e, h, mut log) = dialled_raw();
    log.clear();
    e.begin_sendto(h, b"\r\n\0xy", Some(peer())).unwrap();
    let out = drive(&mut e, |_| b"\r\n> \r\nOK\r\n".to_vec(), &mut log).unwrap();
    assert_eq!(out.sent, 5);
    assert_eq!(log, ["CP AT+SQNSSENDEXT=1,5 \r\n\0xy"]);
}

#[test]
fn a_raw_payload_that_could_read_as_a_command_goes_as_hex() {
    // Streamed behind the prompt unseen, it would run as a command if the modem refused the
    // send: the connId switches to hex for it. With no earlier such payload to say they are
    // frequent, the next one goes raw again. After a second one soon after, the connId stays
    // hex (switching costs an exchange each way); a new dial configures it raw again.
    let (mut e, h, mut log) = dialled_raw();
    assert!(log.iter().any(|l| l == "C AT+SQNSCFGEXT=1,1,1,0,0,0"), "{log:?}");
    log.clear();
    e.begin_sendto(h, b"\r\nAT+CFUN=0", Some(peer())).unwrap();
    drive(&mut e, |_| b"\r\n> \r\nOK\r\n".to_vec(), &mut log).unwrap();
    assert_eq!(log, ["C AT+SQNSCFGEXT=1,1,1,0,0,1", "CP AT+SQNSSENDEXT=1,11 0D0A41542B4346554E3D30"]);
    log.clear();
    sendto(&mut e, h, b"ok", peer(), &mut log).unwrap();
    assert_eq!(log, ["C AT+SQNSCFGEXT=1,1,1,0,0,0", "CP AT+SQNSSENDEXT=1,2 ok"]);
    sendto(&mut e, h, b"AT", peer(), &mut log).unwrap();
    log.clear();
    sendto(&mut e, h, b"ok", peer(), &mut log).unwrap();
    assert_eq!(log, ["CP AT+SQNSSENDEXT=1,2 6F6B"]);
    // A new peer is a new dial: the connId is configured again, raw.
    log.clear();
    sendto(&mut e, h, b"ok", v4peer(), &mut log).unwrap();
    assert!(log.iter().any(|l| l == "C AT+SQNSCFGEXT=1,1,1,0,0,0"), "{log:?}");
    assert_eq!(log.last().map(String::as_str), Some("CP AT+SQNSSENDEXT=1,2 ok"), "{log:?}");
}

#[test]
fn an_isolated_unsafe_payload_in_a_binary_stream_costs_two_switches() {
    // A stream of full-size payloads, one of which needs hex: the next goes raw again at
    // once (two switches, no hex surplus), as often as it happens.
    let (mut e, h, mut log) = dialled_raw();
    log.clear();
    let safe = [b'x'; 1500];
    let mut unsafe_payload = [b'x'; 1500];
    unsafe_payload[0] = b'T';
    let mut hex_sends = 0;
    for i in 0..12 {
        let before = log.len();
        let data: &[u8] = if i % 6 == 1 { &unsafe_payload } else { &safe };
        sendto(&mut e, h, data, peer(), &mut log).unwrap();
        let send = log[before..].iter().find(|l| l.starts_with("CP ")).unwrap();
        hex_sends += usize::from(send.ends_with("7878"));
    }
    let switches = log.iter().filter(|l| l.starts_with("C AT+SQNSCFGEXT")).count();
    assert_eq!((hex_sends, switches), (2, 4), "{:?}", log.iter().filter(|l| l.starts_with("C ")).collect::<Vec<_>>());
}

#[test]
fn alternating_safe_and_unsafe_payloads_stay_hex_once_the_pattern_shows() {
    // Text that holds "at" in every other message: after the first gap is seen, no switch per
    // message; then a long run of safe bytes (more than two switches' worth) goes raw again.
    let (mut e, h, mut log) = dialled_raw();
    log.clear();
    for i in 0..10 {
        let data: &[u8] = if i % 2 == 0 { b"what a day" } else { b"fine" };
        sendto(&mut e, h, data, peer(), &mut log).unwrap();
    }
    let switches = |log: &Log| log.iter().filter(|l| l.starts_with("C AT+SQNSCFGEXT")).count();
    let sends = log.iter().filter(|l| l.starts_with("CP AT+SQNSSENDEXT")).count();
    assert_eq!((switches(&log), sends), (3, 10), "hex, raw, hex, then hex for good: {log:?}");
    log.clear();
    for _ in 0..5 {
        sendto(&mut e, h, &[b'x'; 1500], peer(), &mut log).unwrap();
    }
    assert_eq!(switches(&log), 1, "back to raw once: {log:?}");
    assert!(log.last().is_some_and(|l| l.ends_with("xxxx")), "{log:?}");
}

#[test]
fn combined_send_answered_with_an_error_is_retried_once_on_a_fresh_dial() {
    // The refusal of the command (the socket closed unseen) may have been flushed away by
    // the transport; what is left is the modem's ERROR for the payload read as a command line.
    let mut e = Engine::new();
    e.configure(Limits { max_command_len: None, combined_send: true, ..Limits::STOCK }).unwrap();
    let h = e.open().unwrap();
    let mut log = Log::new();
    sendto(&mut e, h, b"warm", peer(), &mut log).unwrap();
    log.clear();
    e.begin_sendto(h, b"x", Some(peer())).unwrap();
    let mut sends = 0;
    let out = drive(
        &mut e,
        |line| {
            if line.starts_with("CP ") {
                sends += 1;
                if sends == 1 {
                    return b"\r\nERROR\r\n".to_vec();
                }
            }
            happy(line)
        },
        &mut log,
    )
    .unwrap();
    assert_eq!(out.sent, 1);
    assert_eq!(log.first().map(String::as_str), Some("CP AT+SQNSSENDEXT=1,1 78"));
    assert_eq!(log.last().map(String::as_str), Some("CP AT+SQNSSENDEXT=1,1 78"));
    assert!(log.iter().any(|l| l.starts_with("C AT+SQNSD=1")), "dialled afresh: {log:?}");
    assert!(log.iter().any(|l| l == "C AT+CMEE=1"), "plain ERROR: numeric errors again: {log:?}");

    // Refused on the retry too: EIO, and the slot stays usable.
    e.begin_sendto(h, b"x", Some(peer())).unwrap();
    let result = drive(&mut e, |line| if line.starts_with("CP ") { b"\r\n+CME ERROR: 3\r\n".to_vec() } else { happy(line) }, &mut log);
    assert_eq!(result.map(|o| o.sent), Err(Error::Modem));
    assert_eq!(e.slots_in_use(), 1);
}

#[test]
fn a_ring_followed_by_reads_without_data_still_ends_at_the_deadline() {
    // Found by fuzzing: a ring promised data, then every read was answered with a bare OK.
    let (mut e, h, mut log) = dialled();
    e.begin_recvfrom(h, Some(100), 1_000).unwrap();
    let mut first = true;
    let result = drive(
        &mut e,
        |line| {
            if line.starts_with("S ") {
                return Vec::new();
            }
            if std::mem::take(&mut first) {
                return b"\r\n+SQNSRING: 1,10\r\n\r\nOK\r\n".to_vec();
            }
            b"\r\nOK\r\n".to_vec()
        },
        &mut log,
    );
    assert_eq!(result, Err(Error::TimedOut));
    assert!(log.iter().any(|l| l.starts_with("S ")), "paused between reads: {log:?}");
}

#[test]
fn a_refused_close_is_repeated_by_the_next_user_of_the_conn_id() {
    let (mut e, h, mut log) = dialled();
    e.begin_close(h).unwrap();
    let closed = drive(&mut e, |_| b"\r\n+CME ERROR: 3\r\n".to_vec(), &mut log);
    assert!(closed.is_ok() || closed == Err(Error::Modem), "{closed:?}");
    assert_eq!(e.slots_in_use(), 0, "the handle's slot is free either way");
    let next = e.open().unwrap();
    log.clear();
    sendto(&mut e, next, b"y", peer(), &mut log).unwrap();
    assert_eq!(log.first().map(String::as_str), Some("C AT+SQNSH=1"), "closed before the dial: {log:?}");
}

#[test]
fn a_datagram_whose_final_code_was_cut_off_is_delivered() {
    // The firmware's string ends at a NUL before the OK: header and data are all there.
    let (mut e, h, mut log) = dialled();
    e.begin_recvfrom(h, Some(1000), 0).unwrap();
    let out = drive(
        &mut e,
        |line| if line.starts_with("C AT+SQNSRECV") { b"\r\n+SQNSRECV: 1,2\r\n4142\r\n".to_vec() } else { Vec::new() },
        &mut log,
    )
    .unwrap();
    assert_eq!(e.datagram(), b"AB");
    assert_eq!(out.received, 2);
    assert_eq!(log, ["C AT+SQNSRECV=1,1500"]);
}

#[test]
fn a_modem_that_rings_after_every_empty_read_still_meets_the_deadline() {
    // Found by fuzzing: a ring after the final OK of an empty read was followed at once by
    // another read, without a look at the deadline, for as long as the modem kept ringing.
    let rings_after_ok = |line: &str| {
        if line.starts_with("S ") {
            Vec::new()
        } else {
            b"\r\n+SQNSRECV: 1,0\r\n\r\nOK\r\n+SQNSRING: 1,3\r\n".to_vec()
        }
    };
    let (mut e, h, mut log) = dialled();
    e.begin_recvfrom(h, Some(100), 1_000).unwrap();
    assert_eq!(drive(&mut e, rings_after_ok, &mut log), Err(Error::TimedOut));
    log.clear();
    e.begin_recvfrom(h, Some(0), 1_000).unwrap();
    assert_eq!(drive(&mut e, rings_after_ok, &mut log), Err(Error::WouldBlock));
    assert_eq!(log, ["C AT+SQNSRECV=1,1500"], "one read, not one per ring");
}

#[test]
fn a_later_empty_or_foreign_block_in_the_same_answer_keeps_the_datagram() {
    // Found by fuzzing: an empty +SQNSRECV block after the datagram cleared it, and the read
    // succeeded with 0 bytes; another socket's block replaced it with that socket's data.
    for later in ["\r\n+SQNSRECV: 1,0\r\n", "\r\n+SQNSRECV: 2,2\r\n5859\r\n"] {
        let (mut e, h, mut log) = dialled();
        e.begin_recvfrom(h, Some(1000), 0).unwrap();
        let answer = std::format!("\r\n+SQNSRECV: 1,2\r\n4142\r\n{later}\r\nOK\r\n");
        let out = drive(&mut e, |_| answer.clone().into_bytes(), &mut log).unwrap();
        assert_eq!((out.received, e.datagram()), (2, &b"AB"[..]), "{later:?}");
    }
}

fn receive_reply(conn: u8, hex: &str) -> Vec<u8> {
    std::format!("\r\n+SQNSRECV: {conn},{}\r\n{hex}\r\n\r\nOK\r\n", hex.len() / 2).into_bytes()
}

#[test]
fn recvfrom_with_data_waiting_is_one_exchange() {
    let (mut e, h, mut log) = dialled();
    e.begin_recvfrom(h, Some(1000), 0).unwrap();
    let out = drive(&mut e, |_| receive_reply(1, "00FF10"), &mut log).unwrap();
    assert_eq!(log, ["C AT+SQNSRECV=1,1500"]);
    assert_eq!(out.received, 3);
    assert_eq!(e.datagram(), [0x00, 0xff, 0x10]);
    assert_eq!(out.from, Some(peer()));
}

#[test]
fn recvfrom_polls_with_growing_pauses_until_data() {
    let (mut e, h, mut log) = dialled();
    e.begin_recvfrom(h, None, 0).unwrap();
    let mut reads = 0;
    let out = drive(
        &mut e,
        |line| {
            if line.starts_with("C AT+SQNSRECV") {
                reads += 1;
                if reads == 5 {
                    return receive_reply(1, "41");
                }
                return b"\r\n+SQNSRECV: 1,0\r\n\r\nOK\r\n".to_vec();
            }
            Vec::new()
        },
        &mut log,
    )
    .unwrap();
    assert_eq!(out.received, 1);
    let sleeps: Vec<&String> = log.iter().filter(|l| l.starts_with("S ")).collect();
    assert_eq!(sleeps, ["S 10", "S 20", "S 40", "S 80"]);
}

#[test]
fn a_ring_seen_in_any_answer_skips_the_pause() {
    let (mut e, h, mut log) = dialled();
    e.begin_recvfrom(h, Some(5000), 0).unwrap();
    let mut reads = 0;
    drive(
        &mut e,
        |_| {
            reads += 1;
            match reads {
                // Nothing yet, but the ring arrives behind the final code of the same answer.
                1 => b"\r\n+SQNSRECV: 1,0\r\n\r\nOK\r\n\r\n+SQNSRING: 1,2\r\n".to_vec(),
                _ => receive_reply(1, "4243"),
            }
        },
        &mut log,
    )
    .unwrap();
    assert_eq!(log, ["C AT+SQNSRECV=1,1500", "C AT+SQNSRECV=1,1500"]);
}

#[test]
fn recvfrom_timeouts_nonblocking_and_not_connected() {
    let mut e = Engine::new();
    let h = e.open().unwrap();
    assert_eq!(e.begin_recvfrom(h, Some(100), 0), Err(Error::NotConnected));
    let mut log = Log::new();
    sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
    log.clear();
    e.begin_recvfrom(h, Some(0), 0).unwrap();
    assert_eq!(drive(&mut e, happy, &mut log), Err(Error::WouldBlock));
    assert_eq!(log, ["C AT+SQNSRECV=1,1500"]);
    log.clear();
    e.begin_recvfrom(h, Some(300), 1_000).unwrap();
    assert_eq!(drive(&mut e, happy, &mut log), Err(Error::TimedOut));
    let slept: u32 = log.iter().filter_map(|l| l.strip_prefix("S ")).map(|n| n.parse::<u32>().unwrap()).sum();
    assert!(slept <= 300, "slept {slept} ms past a 300 ms timeout");
    assert!(slept >= 200, "gave up early after {slept} ms");
}

#[test]
fn a_long_wait_polls_until_its_deadline_not_an_exchange_cap() {
    let (mut e, h, mut log) = dialled();
    e.begin_recvfrom(h, Some(10_000), 1_000).unwrap();
    assert_eq!(drive(&mut e, happy, &mut log), Err(Error::TimedOut));
    assert!(log.len() > 100, "polled {} times", log.len());
}

#[test]
fn reboot_mid_send_redials_transparently() {
    let (mut e, h, mut log) = dialled();
    e.begin_sendto(h, b"y", Some(peer())).unwrap();
    let mut rebooted = false;
    let out = drive(
        &mut e,
        |line| {
            if line.starts_with("C AT+SQNSSENDEXT") && !rebooted {
                rebooted = true;
                return b"\r\n+SHUTDOWN\r\n\r\n+SYSSTART\r\n".to_vec();
            }
            happy(line)
        },
        &mut log,
    );
    // The command died with the modem; the send starts over on the rebooted modem.
    assert_eq!(out.map(|o| o.sent), Ok(1));
    assert_eq!(e.modem_restarts(), 1);
    assert_eq!(
        log,
        [
            "C AT+SQNSSENDEXT=1,1",
            "C AT+CMEE=1",
            "C AT+SQNSCFG=1,1,300,0,600,50",
            "C AT+SQNSCFGEXT=1,1,1,0,0,1",
            "C AT+SQNSD=1,1,7,\"::1\",0,0,1,0",
            "C AT+SQNSSENDEXT=1,1",
            "P 79",
        ]
    );
}

#[test]
fn errors_map_and_leave_the_slot_usable() {
    let mut e = Engine::new();
    let h = e.open().unwrap();
    let mut log = Log::new();
    e.begin_sendto(h, b"x", Some(peer())).unwrap();
    let r = drive(&mut e, |l| if l.starts_with("C AT+SQNSD=") { b"\r\nNO CARRIER\r\n".to_vec() } else { happy(l) }, &mut log);
    assert_eq!(r, Err(Error::HostUnreachable));
    e.begin_sendto(h, b"x", Some(peer())).unwrap();
    let r = drive(&mut e, |l| if l.starts_with("C AT+SQNSD=") { b"\r\n+CME ERROR: 3\r\n".to_vec() } else { happy(l) }, &mut log);
    assert_eq!(r, Err(Error::Modem));
    assert_eq!(e.last_cme(), Some(3));
    // The refused dial left the slot in doubt: the next send closes it first.
    log.clear();
    sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
    assert_eq!(log[0], "C AT+SQNSH=1");
    // A rejected SQNSSENDEXT answers a final code instead of the prompt: nothing is sent.
    log.clear();
    e.begin_sendto(h, b"x", Some(peer())).unwrap();
    let r = drive(&mut e, |l| if l.starts_with("C AT+SQNSSENDEXT") { b"\r\n+CME ERROR: 50\r\n".to_vec() } else { happy(l) }, &mut log);
    assert_eq!(r, Err(Error::Modem));
    assert!(log.iter().all(|l| !l.starts_with("P ")));
}

#[test]
fn silent_modem_times_out_and_close_still_frees() {
    let mut e = Engine::new();
    let h = e.open().unwrap();
    let mut log = Log::new();
    sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
    e.begin_close(h).unwrap();
    assert_eq!(drive(&mut e, |_| Vec::new(), &mut log), Err(Error::TimedOut));
    assert_eq!(e.slots_in_use(), 0);
    assert_eq!(e.begin_close(h), Err(Error::BadHandle));
    // The slot's next user closes what may still be open.
    let h2 = e.open().unwrap();
    log.clear();
    sendto(&mut e, h2, b"x", peer(), &mut log).unwrap();
    assert_eq!(log[0], "C AT+SQNSH=1");
}

#[test]
fn partial_answer_is_completed_by_listening() {
    let (mut e, h, mut log) = dialled();
    e.begin_recvfrom(h, Some(1000), 0).unwrap();
    let mut calls = 0;
    let out = drive(
        &mut e,
        |_| {
            calls += 1;
            match calls {
                1 => b"\r\n+SQNSRECV: 1,2\r\n41".to_vec(),
                _ => b"42\r\n\r\nOK\r\n".to_vec(),
            }
        },
        &mut log,
    )
    .unwrap();
    assert_eq!(out.received, 2);
    assert_eq!(log[1], "L 4995");
}

#[test]
fn sqnsh_crossing_a_read_delivers_then_redials() {
    let mut e = Engine::new();
    let h = e.open().unwrap();
    let mut log = Log::new();
    sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
    e.begin_recvfrom(h, Some(1000), 0).unwrap();
    let out = drive(&mut e, |_| b"\r\n+SQNSH: 1\r\n\r\n+SQNSRECV: 1,1\r\n7A\r\n\r\nOK\r\n".to_vec(), &mut log).unwrap();
    assert_eq!(e.datagram(), b"z");
    assert_eq!(out.from, Some(peer()));
    log.clear();
    sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
    assert_eq!(log[0], "C AT+SQNSD=1,1,7,\"::1\",0,0,1,0");
}

#[test]
fn poll_uses_hint_or_one_status_sweep() {
    let mut e = Engine::new();
    let h = e.open().unwrap();
    let mut log = Log::new();
    e.begin_poll(h).unwrap();
    assert_eq!(drive(&mut e, happy, &mut log).map(|o| o.readable), Ok(false));
    assert!(log.is_empty(), "an undialled socket needs no query");
    sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
    log.clear();
    e.begin_poll(h).unwrap();
    let r = drive(&mut e, |_| b"\r\n+SQNSS: 1,3,\"::1\",4000,\"::1\",7\r\n+SQNSS: 2,0\r\n\r\nOK\r\n".to_vec(), &mut log);
    assert_eq!(r.map(|o| o.readable), Ok(true));
    assert_eq!(log, ["C AT+SQNSS"]);
    assert_eq!(e.ready(h), Ok(true), "known without another query until it is read");
}

#[test]
fn abort_keeps_pool_consistent() {
    let mut e = Engine::new();
    let h = e.open().unwrap();
    e.begin_sendto(h, b"x", Some(peer())).unwrap();
    assert!(matches!(e.step(&[], 0), Step::Exchange(_)));
    e.abort();
    assert!(e.begin_close(h).is_ok());
    e.abort();
    assert_eq!(e.slots_in_use(), 0);
}

#[test]
fn endless_reboots_end_in_an_error() {
    let mut e = Engine::new();
    let h = e.open().unwrap();
    let mut log = Log::new();
    e.begin_sendto(h, b"x", Some(peer())).unwrap();
    let r = drive(&mut e, |l| if l.starts_with("C AT+SQNSD") { b"\r\nOK\r\n+SYSSTART\r\n".to_vec() } else { happy(l) }, &mut log);
    assert_eq!(r, Err(Error::TooManyExchanges));
}

// --- name resolution ----------------------------------------------------------------------

use crate::dns::RecordType;

fn dns_server() -> SocketAddr {
    parse_socket_addr(b"::1", 53).unwrap()
}

#[test]
fn modem_resolver_answers_in_one_exchange_quoted_or_not() {
    for answer in [
        &b"\r\n+SQNDNSLKUP: coap.me,2001:db8::1,2001:db8::2\r\n\r\nOK\r\n"[..],
        b"\r\n+SQNDNSLKUP: \"coap.me\",\"2001:db8::1\",\"2001:db8::2\",\"192.0.2.1\"\r\n\r\nOK\r\n",
    ] {
        let mut e = Engine::new();
        let mut log = Log::new();
        e.begin_resolve(b"coap.me", RecordType::Aaaa, Some(dns_server()), 7).unwrap();
        let out = drive(&mut e, |l| if l.starts_with("C AT+SQNDNSLKUP") { answer.to_vec() } else { happy(l) }, &mut log).unwrap();
        assert_eq!(log, ["C AT+CMEE=0", "C AT+SQNDNSLKUP=\"coap.me\",1"]);
        assert_eq!(out.resolved, 2);
        assert_eq!(e.addresses(), [parse_ip_text("2001:db8::1"), parse_ip_text("2001:db8::2")]);
        assert_eq!(e.slots_in_use(), 0);
    }
}

fn parse_ip_text(text: &str) -> core::net::IpAddr {
    crate::addr::parse_ip(text.as_bytes()).unwrap()
}

/// The DNS answer to the query in a payload line (`P <hex>`), with `rcode` and one A record.
fn dns_reply(payload_hex: &str, rcode: u8, with_record: bool) -> Vec<u8> {
    let mut query = std::vec![0u8; payload_hex.len() / 2];
    crate::hex::decode(payload_hex.as_bytes(), &mut query).unwrap();
    let mut msg = query.clone();
    msg[2] = 0x81;
    msg[3] = 0x80 | rcode;
    if with_record {
        msg[7] = 1;
        msg.extend_from_slice(&[0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 9]);
    }
    let mut hex = std::vec![0u8; msg.len() * 2];
    crate::hex::encode(&msg, &mut hex).unwrap();
    std::format!("\r\n+SQNSRECV: 1,{}\r\n{}\r\n\r\nOK\r\n", msg.len(), String::from_utf8(hex).unwrap()).into_bytes()
}

/// A modem whose resolver fails, and a DNS server behind its UDP socket.
fn modem_with_dns_server(rcode: u8, with_record: bool, answer_after: usize) -> impl FnMut(&str) -> Vec<u8> {
    let mut last_query = String::new();
    let mut queries = 0;
    move |line: &str| {
        if line.starts_with("C AT+SQNDNSLKUP") {
            return b"\r\n+CME ERROR: 4\r\n".to_vec();
        }
        if let Some(hex) = line.strip_prefix("P ") {
            last_query = String::from(hex);
            queries += 1;
        }
        if line.starts_with("C AT+SQNSRECV") && queries > answer_after {
            return dns_reply(&last_query, rcode, with_record);
        }
        happy(line)
    }
}

#[test]
fn fallback_query_over_a_borrowed_slot() {
    let mut e = Engine::new();
    let mut log = Log::new();
    e.begin_resolve(b"host.test", RecordType::A, Some(dns_server()), 0x4242).unwrap();
    let out = drive(&mut e, modem_with_dns_server(0, true, 0), &mut log).unwrap();
    assert_eq!(out.resolved, 1);
    assert_eq!(e.addresses(), [parse_ip_text("192.0.2.9")]);
    assert!(log.contains(&String::from("C AT+SQNSD=1,1,53,\"::1\",0,0,1,0")), "{log:?}");
    assert_eq!(log.last().map(String::as_str), Some("C AT+SQNSH=1"));
    assert_eq!(e.slots_in_use(), 0);
}

#[test]
fn fallback_retries_unanswered_queries_then_times_out() {
    let mut e = Engine::new();
    let mut log = Log::new();
    e.begin_resolve(b"host.test", RecordType::A, Some(dns_server()), 1).unwrap();
    let out = drive(&mut e, modem_with_dns_server(0, true, 2), &mut log).unwrap();
    assert_eq!(out.resolved, 1, "third query answered");
    assert_eq!(log.iter().filter(|l| l.starts_with("P ")).count(), 3);
    log.clear();
    e.begin_resolve(b"host.test", RecordType::A, Some(dns_server()), 1).unwrap();
    assert_eq!(drive(&mut e, modem_with_dns_server(0, true, 99), &mut log), Err(Error::TimedOut));
    assert_eq!(log.iter().filter(|l| l.starts_with("P ")).count(), 3);
    assert_eq!(e.slots_in_use(), 0);
}

#[test]
fn no_such_name_and_no_server() {
    let mut e = Engine::new();
    let mut log = Log::new();
    e.begin_resolve(b"gone.test", RecordType::A, Some(dns_server()), 1).unwrap();
    assert_eq!(drive(&mut e, modem_with_dns_server(3, false, 0), &mut log), Err(Error::NameNotFound));
    e.begin_resolve(b"gone.test", RecordType::A, None, 1).unwrap();
    assert_eq!(drive(&mut e, modem_with_dns_server(3, false, 0), &mut log), Err(Error::NameNotFound));
    assert_eq!(e.begin_resolve(b"bad\"name", RecordType::A, None, 1), Err(Error::InvalidArgument));
    assert_eq!(e.slots_in_use(), 0);
}

#[test]
fn a_send_whose_prompt_went_unseen_sends_the_payload_anyway() {
    // A NUL before the prompt empties the firmware's answer while the modem waits for the
    // payload; closing instead would feed it AT+SQNSH lines as payload, op after op.
    let unseen = |refusal: &'static [u8]| {
        move |l: &str| {
            if l.starts_with("C AT+SQNSSENDEXT") {
                Vec::new()
            } else if l.starts_with("P ") {
                refusal.to_vec()
            } else {
                happy(l)
            }
        }
    };
    let (mut e, h, mut log) = dialled();
    e.begin_sendto(h, b"Hi", Some(peer())).unwrap();
    assert_eq!(drive(&mut e, unseen(b"\r\nOK\r\n"), &mut log).map(|o| o.sent), Ok(2));
    assert_eq!(log, ["C AT+SQNSSENDEXT=1,2", "P 4869"]);
    // It was not waiting after all: the hex line is refused, the socket is dialled afresh.
    log.clear();
    e.begin_sendto(h, b"Hi", Some(peer())).unwrap();
    assert_eq!(drive(&mut e, unseen(b"\r\n+CME ERROR: 4\r\n"), &mut log), Err(Error::Modem));
    log.clear();
    sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
    assert_eq!(log[0], "C AT+SQNSH=1");
    // A raw payload is staged raw only when it holds no AT prefix: it goes unprompted too.
    e.configure(Limits { send_hex: false, ..Limits::STOCK }).unwrap();
    sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
    log.clear();
    e.begin_sendto(h, b"Hi", Some(peer())).unwrap();
    assert_eq!(drive(&mut e, unseen(b"\r\nOK\r\n"), &mut log).map(|o| o.sent), Ok(2));
    assert_eq!(log, ["C AT+SQNSSENDEXT=1,2", "P Hi"]);
    assert_eq!(e.slots_in_use(), 1);
}

#[test]
fn a_raw_read_holding_a_nul_byte_turns_the_socket_to_hex_reads() {
    // Pycom's task finds the final code with a C-string search: a NUL in a raw answer hides
    // it, and the task idle-waits 1 s. After one such read the socket reads hex.
    let mut e = Engine::new();
    e.configure(Limits { max_command_len: None, combined_send: true, send_hex: false, recv_hex: false, ..Limits::STOCK })
        .unwrap();
    let h = e.open().unwrap();
    let mut log = Log::new();
    sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
    assert!(log.iter().any(|l| l == "C AT+SQNSCFGEXT=1,1,0,0,0,0"), "{log:?}");
    let raw = |text: &'static [u8]| {
        move |l: &str| {
            if l.starts_with("C AT+SQNSRECV") {
                let mut answer = std::format!("\r\n+SQNSRECV: 1,{}\r\n", text.len()).into_bytes();
                answer.extend_from_slice(text);
                answer.extend_from_slice(b"\r\n\r\nOK\r\n");
                answer
            } else {
                happy(l)
            }
        }
    };
    log.clear();
    e.begin_recvfrom(h, Some(1000), 0).unwrap();
    assert_eq!(drive(&mut e, raw(b"OK\r\n"), &mut log).map(|o| o.received), Ok(4));
    assert_eq!(log, ["C AT+SQNSRECV=1,1500"]);
    e.begin_recvfrom(h, Some(1000), 0).unwrap();
    assert_eq!(drive(&mut e, raw(b"a\0b"), &mut log).map(|o| o.received), Ok(3));
    assert_eq!(e.datagram(), b"a\0b");
    log.clear();
    e.begin_recvfrom(h, Some(1000), 0).unwrap();
    drive(&mut e, |l| if l.starts_with("C AT+SQNSRECV") { receive_reply(1, "00FF") } else { happy(l) }, &mut log)
        .unwrap();
    assert_eq!(log, ["C AT+SQNSCFGEXT=1,1,1,0,0,0", "C AT+SQNSRECV=1,1500"]);
    assert_eq!(e.datagram(), [0x00, 0xff]);
}
