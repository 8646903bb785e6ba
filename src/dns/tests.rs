//! DNS codec tests on hand-built answers, including hostile ones.

extern crate std;
use std::vec::Vec;

use super::*;

fn query(name: &str, kind: RecordType) -> Vec<u8> {
    let mut out = [0u8; MAX_MESSAGE];
    let len = encode_query(0x1234, &HostName::parse(name.as_bytes()).unwrap(), kind, &mut out).unwrap();
    out[..len].to_vec()
}

/// An answer to `q`: its header turned into a response, its question, then `records`.
fn answer(q: &[u8], flags: u16, records: &[Vec<u8>]) -> Vec<u8> {
    let mut msg = q.to_vec();
    msg[2..4].copy_from_slice(&flags.to_be_bytes());
    msg[6..8].copy_from_slice(&(records.len() as u16).to_be_bytes());
    for r in records {
        msg.extend_from_slice(r);
    }
    msg
}

/// A record whose owner name is the pointer `owner` (e.g. 0xC00C for the question's name).
fn record(owner: u16, rtype: u16, rdata: &[u8]) -> Vec<u8> {
    let mut r = owner.to_be_bytes().to_vec();
    r.extend_from_slice(&rtype.to_be_bytes());
    r.extend_from_slice(&CLASS_IN.to_be_bytes());
    r.extend_from_slice(&300u32.to_be_bytes());
    r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    r.extend_from_slice(rdata);
    r
}

const OK_FLAGS: u16 = 0x8180;

#[test]
fn query_wire_form() {
    let q = query("coap.me", RecordType::Aaaa);
    assert_eq!(
        q,
        [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, b'c', b'o', b'a', b'p', 2, b'm', b'e', 0, 0, 28, 0, 1]
    );
    let mut small = [0u8; 10];
    assert_eq!(encode_query(1, &HostName::parse(b"coap.me").unwrap(), RecordType::A, &mut small), None);
}

#[test]
fn a_and_aaaa_answers() {
    let q = query("host.test", RecordType::A);
    let msg = answer(&q, OK_FLAGS, &[record(0xC00C, TYPE_A, &[192, 0, 2, 1]), record(0xC00C, TYPE_A, &[192, 0, 2, 2])]);
    let got = decode_answer(&q, &msg, RecordType::A).unwrap();
    assert_eq!(got.as_slice(), &[IpAddr::from([192, 0, 2, 1]), IpAddr::from([192, 0, 2, 2])]);

    let q6 = query("HOST.test", RecordType::Aaaa);
    let mut v6 = [0u8; 16];
    v6[0] = 0x20;
    v6[1] = 0x01;
    v6[15] = 1;
    let msg = answer(&q6, OK_FLAGS, &[record(0xC00C, TYPE_AAAA, &v6)]);
    assert_eq!(decode_answer(&q6, &msg, RecordType::Aaaa).unwrap()[0], IpAddr::from(v6));
}

#[test]
fn cname_chain_with_compression() {
    let q = query("www.test", RecordType::A);
    // www.test CNAME edge.test ; edge.test A 198.51.100.7 (owner compressed into the CNAME's rdata)
    let cname_rdata = [4, b'e', b'd', b'g', b'e', 0xC0, 0x10]; // "edge" + pointer to "test" in the question
    let first = record(0xC00C, TYPE_CNAME, &cname_rdata);
    let target_at = (q.len() + first.len() - cname_rdata.len()) as u16;
    let second = record(0xC000 | target_at, TYPE_A, &[198, 51, 100, 7]);
    let msg = answer(&q, OK_FLAGS, &[first, second]);
    assert_eq!(decode_answer(&q, &msg, RecordType::A).unwrap()[0], IpAddr::from([198, 51, 100, 7]));
}

#[test]
fn server_refusals() {
    let q = query("gone.test", RecordType::A);
    assert_eq!(decode_answer(&q, &answer(&q, 0x8183, &[]), RecordType::A), Err(DnsError::NoSuchName));
    assert_eq!(decode_answer(&q, &answer(&q, 0x8182, &[]), RecordType::A), Err(DnsError::ServerFailure(2)));
    assert_eq!(decode_answer(&q, &answer(&q, 0x8380, &[]), RecordType::A), Err(DnsError::Truncated));
    assert_eq!(decode_answer(&q, &answer(&q, OK_FLAGS, &[]), RecordType::A), Err(DnsError::NoAddress));
    // Only an AAAA for an A question.
    let msg = answer(&q, OK_FLAGS, &[record(0xC00C, TYPE_AAAA, &[0; 16])]);
    assert_eq!(decode_answer(&q, &msg, RecordType::A), Err(DnsError::NoAddress));
}

#[test]
fn answers_that_are_not_ours() {
    let q = query("a.test", RecordType::A);
    let mut wrong_id = answer(&q, OK_FLAGS, &[record(0xC00C, TYPE_A, &[1, 2, 3, 4])]);
    wrong_id[1] ^= 1;
    assert_eq!(decode_answer(&q, &wrong_id, RecordType::A), Err(DnsError::NotOurs));
    let not_response = answer(&q, 0x0100, &[]);
    assert_eq!(decode_answer(&q, &not_response, RecordType::A), Err(DnsError::NotOurs));
    let other = query("b.test", RecordType::A);
    let msg = answer(&other, OK_FLAGS, &[record(0xC00C, TYPE_A, &[1, 2, 3, 4])]);
    assert_eq!(decode_answer(&q, &msg, RecordType::A), Err(DnsError::NotOurs));
    let msg = answer(&q, OK_FLAGS, &[]);
    assert_eq!(decode_answer(&q, &msg, RecordType::Aaaa), Err(DnsError::NotOurs));
}

#[test]
fn hostile_answers_end_in_errors() {
    let q = query("a.test", RecordType::A);
    // A record whose owner pointer points at itself.
    let looping_at = q.len() as u16;
    let msg = answer(&q, OK_FLAGS, &[record(0xC000 | looping_at, TYPE_A, &[1, 2, 3, 4])]);
    assert_eq!(decode_answer(&q, &msg, RecordType::A), Err(DnsError::Loop));
    // A count that claims more records than there are.
    let mut msg = answer(&q, OK_FLAGS, &[record(0xC00C, TYPE_A, &[1, 2, 3, 4])]);
    msg[7] = 9;
    assert_eq!(decode_answer(&q, &msg, RecordType::A), Err(DnsError::Malformed));
    let mut cut = answer(&q, OK_FLAGS, &[record(0xC00C, TYPE_A, &[1, 2, 3, 4])]);
    cut.truncate(cut.len() - 2);
    assert_eq!(decode_answer(&q, &cut, RecordType::A), Err(DnsError::Malformed));
    // A CNAME that names itself.
    let msg = answer(&q, OK_FLAGS, &[record(0xC00C, TYPE_CNAME, &[0xC0, 0x0C])]);
    assert_eq!(decode_answer(&q, &msg, RecordType::A), Err(DnsError::Loop));
    assert_eq!(decode_answer(&q, &[], RecordType::A), Err(DnsError::Malformed));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn arbitrary_answers_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..200), flip in 0usize..64, bit in 0u8..8) {
            let q = query("a.test", RecordType::A);
            let mut msg = answer(&q, OK_FLAGS, &[]);
            msg[7] = 3;
            msg.extend_from_slice(&tail);
            if let Some(b) = msg.get_mut(flip) { *b ^= 1 << bit; }
            let _ = decode_answer(&q, &msg, RecordType::A);
            let _ = decode_answer(&q, &tail, RecordType::Aaaa);
        }
    }
}
