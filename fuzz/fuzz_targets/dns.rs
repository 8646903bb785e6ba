//! The DNS codec. Arbitrary answers (raw, and grafted onto a real query so they get past the
//! header checks) decode to an error or to addresses, never panic, and never loop on
//! compression pointers or CNAME chains. And a round trip: for a generated valid name, the
//! query encodes, and a server's answer to it (CNAME or not, question in any letter case)
//! decodes to exactly the addresses of the asked family it holds.
#![no_main]

#[path = "common/dns_answer.rs"]
mod dns_answer;

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use microatsocket::dns::{decode_answer, encode_query, DnsError, RecordType, MAX_ADDRESSES, MAX_MESSAGE};
use microatsocket::hostname::HostName;

/// Reads the fuzzer's bytes; zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }
}

/// A valid DNS name: 1 to 5 labels of letters, digits, hyphens (not at a label's ends) and
/// underscores, at most 253 characters.
fn generated_name(bytes: &mut Bytes<'_>) -> Vec<u8> {
    const ALPHABET: &[u8; 38] = b"abcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut name = Vec::new();
    for _ in 0..1 + bytes.next() % 5 {
        let len = 1 + usize::from(bytes.next() % 63);
        if name.len() + len + 1 > 253 {
            break;
        }
        if !name.is_empty() {
            name.push(b'.');
        }
        for i in 0..len {
            let c = ALPHABET[usize::from(bytes.next()) % ALPHABET.len()];
            name.push(if c == b'-' && (i == 0 || i + 1 == len) { b'x' } else { c });
        }
    }
    name
}

/// `[flags] [host name] NUL [answer]`: the answer decoded as it is, and its bytes as the records
/// of a real response to the query (header and question right, `flags >> 1 & 7` records).
fn decode_arbitrary(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else { return };
    let kind = if flags & 1 != 0 { RecordType::Aaaa } else { RecordType::A };
    let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    let name = HostName::parse(&rest[..split]).unwrap_or_else(|_| HostName::parse(b"a.test").expect("valid"));
    let answer = rest.get(split + 1..).unwrap_or_default();
    let mut query = [0u8; MAX_MESSAGE];
    let len = encode_query(u16::from(flags), &name, kind, &mut query).expect("a valid name always encodes");
    let query = &query[..len];
    let mut grafted = query.to_vec();
    grafted[2..4].copy_from_slice(&0x8180u16.to_be_bytes());
    grafted[6..8].copy_from_slice(&u16::from(flags >> 1 & 7).to_be_bytes());
    grafted.extend_from_slice(answer);
    for msg in [answer, &grafted[..]] {
        if let Ok(addresses) = decode_answer(query, msg, kind) {
            assert!((1..=MAX_ADDRESSES).contains(&addresses.len()), "{addresses:?}");
        }
    }
}

fn round_trip(data: &[u8]) {
    let mut bytes = Bytes(data);
    let flags = bytes.next();
    let kind = if flags & 1 != 0 { RecordType::Aaaa } else { RecordType::A };
    let name = generated_name(&mut bytes);
    let host = HostName::parse(&name).unwrap_or_else(|e| panic!("{e:?} for a valid name {name:?}"));
    let mut query = [0u8; MAX_MESSAGE];
    let len = encode_query(u16::from_be_bytes([bytes.next(), bytes.next()]), &host, kind, &mut query)
        .expect("a valid name always encodes");
    let query = &query[..len];
    let addresses: Vec<IpAddr> = (0..bytes.next() % 7)
        .map(|i| {
            let b = bytes.next();
            if b & 1 == 0 {
                IpAddr::from([192, 0, 2, b])
            } else {
                IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, u16::from(i), u16::from(b)])
            }
        })
        .collect();
    let rcode = if flags & 6 == 6 { bytes.next() % 16 } else { 0 };
    let mut answer = dns_answer::answer(query, rcode, flags & 8 != 0, &addresses);
    if flags & 16 != 0 {
        // Servers may echo the question in another letter case (DNS 0x20): still ours.
        answer[12..len].make_ascii_uppercase();
    }
    let wanted: Vec<IpAddr> = addresses
        .iter()
        .filter(|ip| ip.is_ipv6() == (kind == RecordType::Aaaa))
        .take(MAX_ADDRESSES)
        .copied()
        .collect();
    let expected = match rcode {
        0 if wanted.is_empty() => Err(DnsError::NoAddress),
        0 => Ok(wanted),
        3 => Err(DnsError::NoSuchName),
        code => Err(DnsError::ServerFailure(code)),
    };
    let decoded = decode_answer(query, &answer, kind).map(|found| found.to_vec());
    assert_eq!(decoded, expected, "name {:?}", String::from_utf8_lossy(&name));
}

fuzz_target!(|data: &[u8]| {
    decode_arbitrary(data);
    round_trip(data);
});
