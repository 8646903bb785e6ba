//! Remote bytes never steer the engine: a `+SQNSRECV: <id>,<n>` header is followed by exactly
//! its payload (2n hex digits, or n raw bytes from a modem that lost its hex setting), and what
//! a peer puts in a datagram is delivered, never read as modem lines.

extern crate std;
use std::vec::Vec;

use super::{dialled, drive, happy, peer, sendto, Log};
use super::super::*;

/// The answer to `AT+SQNSRECV` carrying `payload` as the modem sends it.
fn answer(conn: u8, announced: usize, payload: &[u8]) -> Vec<u8> {
    let mut out = std::format!("\r\n+SQNSRECV: {conn},{announced}\r\n").into_bytes();
    out.extend_from_slice(payload);
    out.extend_from_slice(b"\r\n\r\nOK\r\n");
    out
}

/// Two sockets dialled (connIds 1 and 2), the first one's handle returned.
fn two_dialled() -> (Engine, Handle, Handle, Log) {
    let (mut e, h, mut log) = dialled();
    let other = e.open().unwrap();
    sendto(&mut e, other, b"x", peer(), &mut log).unwrap();
    log.clear();
    (e, h, other, log)
}

#[test]
fn a_raw_datagram_in_hex_mode_is_delivered_by_its_length_and_closes_nothing() {
    // The modem lost its settings (a reboot whose +SYSSTART was flushed away) and sends raw
    // bytes; a peer chose them to look like a +SQNSH for the other socket and a final code.
    let datagram = b"\r\n+SQNSH: 2\r\n\r\nOK\r\n";
    let (mut e, h, other, mut log) = two_dialled();
    e.begin_recvfrom(h, Some(1000), 0).unwrap();
    let reply = answer(1, datagram.len(), datagram);
    let out = drive(&mut e, |_| reply.clone(), &mut log).unwrap();
    assert_eq!((out.received, e.datagram()), (datagram.len(), &datagram[..]));
    // Socket 2 is still dialled: a send is one SQNSSENDEXT and its payload.
    log.clear();
    sendto(&mut e, other, b"y", peer(), &mut log).unwrap();
    assert_eq!(log, ["C AT+SQNSSENDEXT=2,1", "P 79"]);
    // Socket 1 is configured again before its next use: its modem lost the hex setting.
    log.clear();
    sendto(&mut e, h, b"z", peer(), &mut log).unwrap();
    assert!(log.iter().any(|l| l == "C AT+SQNSCFGEXT=1,1,1,0,0,1"), "re-configured: {log:?}");
}

#[test]
fn a_hex_datagram_is_exactly_twice_the_announced_length() {
    // More hex digits than announced: the rest is not part of the datagram.
    let (mut e, h, mut log) = dialled();
    e.begin_recvfrom(h, Some(1000), 0).unwrap();
    let reply = answer(1, 2, b"4142434445");
    let out = drive(&mut e, |_| reply.clone(), &mut log).unwrap();
    assert_eq!((out.received, e.datagram()), (2, &b"AB"[..]));
}

#[test]
fn a_raw_datagram_that_looks_like_hex_digits_is_taken_raw() {
    let (mut e, h, mut log) = dialled();
    e.begin_recvfrom(h, Some(1000), 0).unwrap();
    let reply = answer(1, 4, b"BEEF");
    let out = drive(&mut e, |_| reply.clone(), &mut log).unwrap();
    assert_eq!((out.received, e.datagram()), (4, &b"BEEF"[..]));
}

#[test]
fn a_raw_datagram_ending_the_answer_early_does_not_end_the_read() {
    // Without the length, "\r\nOK\r\n" inside the datagram ended the command early.
    let datagram = b"\r\nOK\r\n";
    let (mut e, h, mut log) = dialled();
    e.begin_recvfrom(h, Some(1000), 0).unwrap();
    let reply = answer(1, datagram.len(), datagram);
    let out = drive(&mut e, |_| reply.clone(), &mut log).unwrap();
    assert_eq!(e.datagram(), datagram);
    assert_eq!(out.received, datagram.len());
    let _ = happy;
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::vec;

    /// Everything the engine knows about the modem and its sockets, for before/after checks.
    fn knowledge(e: &Engine) -> Vec<std::string::String> {
        let mut out: Vec<std::string::String> = (0..crate::at::CONN_IDS)
            .filter_map(ConnId::from_index)
            .filter_map(|c| e.pool.slot(c).map(|s| std::format!("{c:?} {:?} {:?} {} {}", s.modem, s.peer, s.connected, s.local_port)))
            .collect();
        out.push(std::format!("cmee={} cme={:?} restarts={} in_use={}", e.numeric_errors, e.last_cme, e.modem_restarts, e.slots_in_use()));
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// No datagram content, in either receive mode and however the modem sends it, changes
        /// anything but delivering that datagram (and, for raw bytes where hex was configured,
        /// configuring that connId again; for raw bytes holding a NUL, hex reads on it).
        #[test]
        fn a_datagram_changes_nothing_but_its_delivery(
            datagram in prop_oneof![
                proptest::collection::vec(any::<u8>(), 1..64),
                proptest::collection::vec(prop_oneof![
                    Just(b"\r\n".to_vec()), Just(b"OK".to_vec()), Just(b"ERROR".to_vec()),
                    Just(b"+SQNSH: 2".to_vec()), Just(b"+SYSSTART".to_vec()), Just(b"> ".to_vec()),
                    Just(b"+SQNSRECV: 1,3".to_vec()), Just(b"+CME ERROR: 3".to_vec()),
                    Just(b"+SQNSRING: 2,9".to_vec()), Just(b"^EXIT".to_vec()), Just(b"NO CARRIER".to_vec()),
                    "[0-9A-Fa-f]{0,6}".prop_map(|s| s.into_bytes()),
                ], 1..12).prop_map(|t| t.concat()),
                proptest::collection::vec(any::<u8>(), 1400..=1500),
            ],
            configured_hex in any::<bool>(),
            modem_hex in any::<bool>(),
        ) {
            let datagram: Vec<u8> = datagram.into_iter().take(crate::MAX_DATAGRAM).collect();
            prop_assume!(!datagram.is_empty());
            let modem_hex = modem_hex && configured_hex;
            let (mut e, h, other, mut log) = two_dialled();
            if !configured_hex {
                e.configure(crate::limits::Limits { recv_hex: false, ..e.limits() }).unwrap();
                // Re-configure both connIds for raw receive.
                sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
                sendto(&mut e, other, b"x", peer(), &mut log).unwrap();
            }
            let before = knowledge(&e);
            let payload: Vec<u8> = if modem_hex {
                datagram.iter().flat_map(|b| std::format!("{b:02X}").into_bytes()).collect()
            } else {
                datagram.clone()
            };
            let reply = answer(1, datagram.len(), &payload);
            e.begin_recvfrom(h, Some(1000), 0).unwrap();
            let out = drive(&mut e, |_| reply.clone(), &mut log);
            prop_assert_eq!(out.map(|o| o.received), Ok(datagram.len()));
            prop_assert_eq!(e.datagram(), &datagram[..]);
            if !modem_hex && datagram.contains(&0) {
                // Also expected: a raw answer with a NUL byte (the firmware idle-waited on it)
                // turns connId 1 to hex reads.
                let slot = e.pool.slot_mut(ConnId::new(1).unwrap()).unwrap();
                prop_assert!(slot.modem.recv_hex_forced);
                slot.modem.recv_hex_forced = false;
            }
            let mut after = knowledge(&e);
            if configured_hex && !modem_hex {
                // The one expected change: connId 1 is closed and configured afresh on next use.
                let slot = e.pool.slot(ConnId::new(1).unwrap()).unwrap().modem;
                prop_assert!(slot.unknown && !slot.configured && !slot.extended);
                after[0] = before[0].clone();
            }
            prop_assert_eq!(after, before);
        }
    }
}
