//! The DNS codec: answers of arbitrary bytes to a real query must decode to an error or to
//! addresses, never panic and never loop (compression pointers); any valid name encodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microatsocket::dns::{decode_answer, encode_query, RecordType};
use microatsocket::hostname::HostName;

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else { return };
    let kind = if head & 1 != 0 { RecordType::Aaaa } else { RecordType::A };
    // The first bytes up to a NUL name the host; the rest is the answer.
    let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    let (name, answer) = rest.split_at(split);
    let name = HostName::parse(name).unwrap_or_else(|_| HostName::parse(b"a.test").unwrap());
    let mut query = [0u8; 512];
    let id = u16::from_be_bytes([head, head.rotate_left(3)]);
    let len = encode_query(id, &name, kind, &mut query).expect("a valid name always encodes");
    let query = &query[..len];
    // Answers that start as a real reply to this query reach deeper than random headers.
    let mut message = query.to_vec();
    if let Some(flags) = message.get_mut(2) {
        *flags |= 0x80;
    }
    message.extend_from_slice(answer.get(1..).unwrap_or_default());
    for msg in [answer, &message[..]] {
        if let Ok(addresses) = decode_answer(query, msg, kind) {
            assert!(!addresses.is_empty(), "success with no address");
        }
    }
});
