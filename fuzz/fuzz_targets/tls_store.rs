//! The TLS fingerprint store's file parser on arbitrary bytes, through the Rust API and the C
//! ABI. The file lives on the board's flash, where a torn write, a flipped bit or an edit can
//! leave anything: loading must never panic, what is saved must read back the same, a line the
//! parser takes must be one it would write, and no credential may ever be found in a slot whose
//! line was not written for exactly it (a spoilt line matches nothing).
#![no_main]

use libfuzzer_sys::fuzz_target;
use microatsocket::ffi::{mas_store_forget, mas_store_load, mas_store_save, MAS_STORE_TEXT_MAX};
use microatsocket::tls_store::{fingerprint, parse_line, Belief, Claim, Kind, Store, FIRST_SLOT, SLOTS};

const PEMS: [&[u8]; 3] = [
    b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    b"-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n",
    b"-----BEGIN PRIVATE KEY-----\nCCCC\n-----END PRIVATE KEY-----\n",
];

fn saved(store: &Store) -> Vec<u8> {
    let mut out = [0u8; MAS_STORE_TEXT_MAX];
    let n = store.save(&mut out).expect("the largest store fits TEXT_MAX");
    out[..n].to_vec()
}

fuzz_target!(|data: &[u8]| {
    let mut store = Store::new();
    let report = store.load(data);
    assert!(usize::from(report.loaded) <= 2 * SLOTS);
    let text = saved(&store);
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        assert!(parse_line(line).is_some(), "a saved line does not parse: {line:?}");
    }
    let mut again = Store::new();
    again.load(&text);
    assert_eq!(saved(&again), text, "what is saved does not read back the same");

    // A credential found is one whose fingerprint the slot's line holds, bound to that slot.
    for (i, pem) in PEMS.iter().enumerate() {
        let kind = if i == 2 { Kind::PrivateKey } else { Kind::Certificate };
        match again.claim(kind, pem, None) {
            Claim::Held { slot, .. } => {
                let e = again.entry(kind, slot).expect("a slot of the store");
                assert!(matches!(e.belief, Belief::Stored | Belief::Confirmed));
                assert_eq!(e.fingerprint, fingerprint(kind, slot, pem));
                again.release(kind, slot);
            }
            Claim::Write { slot } => {
                assert!((FIRST_SLOT..FIRST_SLOT + SLOTS as u8).contains(&slot));
                again.release(kind, slot);
                assert_eq!(again.entry(kind, slot).map(|e| e.belief), Some(Belief::Unknown));
            }
            Claim::NoFreeSlot => panic!("nothing is pinned"),
        }
    }

    // The C ABI reads the same bytes to the same file.
    mas_store_forget();
    // Safety: live slices.
    let skipped = unsafe { mas_store_load(data.as_ptr(), data.len()) };
    assert_eq!(skipped, i32::from(report.skipped));
    let mut out = [0u8; MAS_STORE_TEXT_MAX];
    // Safety: a live buffer of the size given.
    let n = unsafe { mas_store_save(out.as_mut_ptr(), out.len()) };
    assert_eq!(&out[..usize::try_from(n).expect("saved")], &saved(&store)[..]);
});
