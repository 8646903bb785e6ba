
mod properties {
    use super::*;
    use proptest::prelude::*;

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
        /// configuring that connId again).
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
