use super::*;
use proptest::prelude::*;
use std::format;
use std::string::String;
use std::vec::Vec;

const CA_A: &[u8] = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
const CA_B: &[u8] = b"-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n";

fn pem(n: u8) -> Vec<u8> {
    let mut v = b"-----BEGIN CERTIFICATE-----\n".to_vec();
    v.extend(std::iter::repeat_n(b'A' + n % 26, 8 + usize::from(n / 26)));
    v.extend_from_slice(b"\n-----END CERTIFICATE-----\n");
    v
}

/// One wrap's use of a CA, start to end, with the write succeeding: the slot it used.
fn use_ca(store: &mut Store, ca: &[u8]) -> (u8, bool) {
    match store.claim(Kind::Certificate, ca, None) {
        Claim::Held { slot, .. } => {
            store.release(Kind::Certificate, slot);
            (slot, false)
        }
        Claim::Write { slot } => {
            store.written(Kind::Certificate, slot, true);
            store.release(Kind::Certificate, slot);
            (slot, true)
        }
        Claim::NoFreeSlot => panic!("no free slot with nothing pinned"),
    }
}

fn saved(store: &Store) -> Vec<u8> {
    let mut out = [0u8; TEXT_MAX];
    let n = store.save(&mut out).unwrap();
    out[..n].to_vec()
}

#[test]
fn a_credential_written_is_held_next_time() {
    let mut s = Store::new();
    assert_eq!(use_ca(&mut s, CA_A), (16, true));
    assert_eq!(s.claim(Kind::Certificate, CA_A, None), Claim::Held { slot: 16, confirmed: true });
}

#[test]
fn two_cas_used_in_turn_on_a_full_store_are_written_once_each() {
    // Regression: eviction always took slot 16, so two CAs in turn rewrote it on every wrap.
    let mut s = Store::new();
    for n in 0..4 {
        use_ca(&mut s, &pem(n));
    }
    let (x, y) = (pem(10), pem(11));
    let mut writes = 0;
    for _ in 0..4 {
        writes += usize::from(use_ca(&mut s, &x).1);
        writes += usize::from(use_ca(&mut s, &y).1);
    }
    assert_eq!(writes, 2);
}

#[test]
fn concurrent_wraps_get_different_slots() {
    // Regression: a second wrap chose the slot the first was still writing.
    let mut s = Store::new();
    let a = s.claim(Kind::Certificate, CA_A, None);
    let b = s.claim(Kind::Certificate, CA_B, None);
    let (Claim::Write { slot: sa }, Claim::Write { slot: sb }) = (a, b) else { panic!("{a:?} {b:?}") };
    assert_ne!(sa, sb);
    // And a slot in use by a wrap is not evicted by others while it dials.
    s.written(Kind::Certificate, sa, true);
    s.written(Kind::Certificate, sb, true);
    for n in 0..6 {
        if let Claim::Write { slot } = s.claim(Kind::Certificate, &pem(n), None) {
            assert!(slot != sa && slot != sb);
        }
    }
}

#[test]
fn a_write_whose_outcome_was_not_seen_leaves_the_slot_unknown_and_out_of_the_file() {
    let mut s = Store::new();
    use_ca(&mut s, CA_A);
    let Claim::Write { slot } = s.claim(Kind::Certificate, CA_B, Some(16)) else { panic!() };
    // The file as saved before the write: the slot being written is not in it.
    assert!(!String::from_utf8(saved(&s)).unwrap().contains(&format!(" {slot} ")));
    s.release(Kind::Certificate, slot); // an exception: no written() report
    assert_eq!(s.entry(Kind::Certificate, slot).unwrap().belief, Belief::Unknown);
    let mut again = Store::new();
    again.load(&saved(&s));
    assert!(matches!(again.claim(Kind::Certificate, CA_B, None), Claim::Write { .. }));
}

#[test]
fn a_line_naming_another_slot_matches_nothing() {
    let mut s = Store::new();
    use_ca(&mut s, CA_A);
    use_ca(&mut s, CA_B);
    let text = String::from_utf8(saved(&s)).unwrap();
    let swapped = text.replace("c 16 ", "c 99 ").replace("c 17 ", "c 16 ").replace("c 99 ", "c 17 ");
    let mut t = Store::new();
    assert_eq!(t.load(swapped.as_bytes()).loaded, 2);
    assert!(matches!(t.claim(Kind::Certificate, CA_A, None), Claim::Write { .. }));
}

#[test]
fn bad_lines_are_skipped_one_by_one() {
    let mut s = Store::new();
    use_ca(&mut s, CA_A);
    use_ca(&mut s, CA_B);
    let mut text = saved(&s);
    let second = text.iter().position(|&b| b == b'\n').unwrap() + 1;
    text[second + 10] = 0xff;
    let mut t = Store::new();
    let report = t.load(&text);
    assert_eq!(report, ParseReport { loaded: 1, skipped: 1 });
    assert_eq!(t.claim(Kind::Certificate, CA_A, None), Claim::Held { slot: 16, confirmed: false });
}

#[test]
fn a_stored_credential_is_written_again_once_after_a_failed_dial() {
    assert_eq!(after_dial(DialEnd::HandshakeFailed, true, 0), DialVerdict::RewriteUnconfirmed);
    assert_eq!(after_dial(DialEnd::Refused, false, 0), DialVerdict::RewriteAll);
    assert_eq!(after_dial(DialEnd::Refused, true, 1), DialVerdict::Fail);
    assert_eq!(after_dial(DialEnd::HandshakeFailed, true, 1), DialVerdict::Fail);
    assert_eq!(after_dial(DialEnd::HandshakeFailed, false, 0), DialVerdict::Fail);
    assert_eq!(after_dial(DialEnd::Other, true, 0), DialVerdict::Fail);
    assert_eq!(after_dial(DialEnd::Connected, true, 0), DialVerdict::Done);
    let mut s = Store::new();
    use_ca(&mut s, CA_A);
    let mut t = Store::new();
    t.load(&saved(&s));
    let Claim::Held { slot, confirmed: false } = t.claim(Kind::Certificate, CA_A, None) else { panic!() };
    assert!(t.rewrite(Kind::Certificate, slot));
    t.written(Kind::Certificate, slot, true);
    t.release(Kind::Certificate, slot);
    assert_eq!(t.claim(Kind::Certificate, CA_A, None), Claim::Held { slot, confirmed: true });
}

#[test]
fn forget_keeps_writes_in_progress() {
    let mut s = Store::new();
    use_ca(&mut s, CA_A);
    let Claim::Write { slot } = s.claim(Kind::Certificate, CA_B, None) else { panic!() };
    s.forget();
    assert_eq!(s.entry(Kind::Certificate, 16).unwrap().belief, Belief::Unknown);
    s.written(Kind::Certificate, slot, true);
    assert_eq!(s.entry(Kind::Certificate, slot).unwrap().belief, Belief::Confirmed);
}

#[test]
fn all_slots_pinned_is_refused() {
    let mut s = Store::new();
    for n in 0..4 {
        assert!(matches!(s.claim(Kind::Certificate, &pem(n), None), Claim::Write { .. }));
    }
    assert_eq!(s.claim(Kind::Certificate, &pem(9), None), Claim::NoFreeSlot);
    assert!(matches!(s.claim(Kind::PrivateKey, &pem(9), None), Claim::Write { slot: 16 }));
}

/// A model of the modem's slots, to check the store against.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// A wrap claims CA n; its write succeeds, fails, or its outcome is lost.
    Wrap(u8, u8),
    /// The store is saved and read again (a restart).
    Restart,
    Forget,
    /// A line of the file is spoilt.
    Spoil(u16),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..7, 0u8..3).prop_map(|(n, w)| Step::Wrap(n, w)),
        1 => Just(Step::Restart),
        1 => Just(Step::Forget),
        1 => any::<u16>().prop_map(Step::Spoil),
    ]
}

proptest! {
    /// Whatever happens, a slot the store says holds a credential holds exactly it in the modem:
    /// the store never claims more than the modem has, so no dial is verified against a
    /// credential other than the one asked for.
    #[test]
    fn the_store_never_claims_more_than_the_modem_holds(steps in proptest::collection::vec(step(), 1..60)) {
        let mut store = Store::new();
        let mut modem: [Option<u8>; SLOTS] = [None; SLOTS];
        for s in steps {
            match s {
                Step::Wrap(n, outcome) => {
                    let ca = pem(n);
                    match store.claim(Kind::Certificate, &ca, None) {
                        Claim::Held { slot, .. } => {
                            prop_assert_eq!(modem[usize::from(slot - FIRST_SLOT)], Some(n));
                            store.release(Kind::Certificate, slot);
                        }
                        Claim::Write { slot } => {
                            let i = usize::from(slot - FIRST_SLOT);
                            match outcome {
                                0 => { modem[i] = Some(n); store.written(Kind::Certificate, slot, true); }
                                1 => { store.written(Kind::Certificate, slot, false); }
                                // The modem stored it and the answer was lost.
                                _ => { modem[i] = Some(n); }
                            }
                            store.release(Kind::Certificate, slot);
                        }
                        Claim::NoFreeSlot => prop_assert!(false, "nothing is pinned between wraps"),
                    }
                }
                Step::Restart => {
                    let text = saved(&store);
                    store = Store::new();
                    store.load(&text);
                }
                Step::Forget => store.forget(),
                Step::Spoil(at) => {
                    let mut text = saved(&store);
                    if !text.is_empty() {
                        let i = usize::from(at) % text.len();
                        text[i] ^= 1 << (at % 7);
                    }
                    store = Store::new();
                    store.load(&text);
                }
            }
            for (i, held) in modem.iter().enumerate() {
                let slot = FIRST_SLOT + i as u8;
                let e = store.entry(Kind::Certificate, slot).unwrap();
                prop_assert_eq!(e.pins, 0);
                if e.belief == Belief::Stored || e.belief == Belief::Confirmed {
                    let matches = held.is_some_and(|n| fingerprint(Kind::Certificate, slot, &pem(n)) == e.fingerprint);
                    // A spoilt hex digit can only make a line match nothing.
                    let modem_held = (0..7).any(|n| fingerprint(Kind::Certificate, slot, &pem(n)) == e.fingerprint);
                    prop_assert!(matches || !modem_held, "slot {} believed to hold another CA", slot);
                }
            }
        }
    }

    /// Any bytes load without a panic, and what the store then saves reads back the same.
    #[test]
    fn any_text_loads_and_what_is_saved_reads_back(text in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut s = Store::new();
        s.load(&text);
        let first = saved(&s);
        let mut t = Store::new();
        t.load(&first);
        prop_assert_eq!(saved(&t), first);
    }

    /// A least-recently-used victim: never pinned, and the oldest stamp among the trusted
    /// ones when no slot is unknown.
    #[test]
    fn the_victim_is_the_least_recently_used_free_slot(uses in proptest::collection::vec(0u8..9, 4..40)) {
        let mut s = Store::new();
        for n in uses {
            use_ca(&mut s, &pem(n));
        }
        let v = s.victim(Kind::Certificate, None).unwrap();
        let oldest = (0..SLOTS).map(|i| s.entry(Kind::Certificate, FIRST_SLOT + i as u8).unwrap().stamp).min().unwrap();
        prop_assert_eq!(s.entry(Kind::Certificate, v).unwrap().stamp, oldest);
    }
}
