//! Builds a DNS server's answer to a query as sent, the way real servers write it: the header
//! turned into a response, the question echoed, records named by a pointer to the question.

use std::net::IpAddr;

const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_AAAA: u16 = 28;
/// Offset of the question's name: the records point there (0xC00C).
const QUESTION_NAME: u16 = 12;

/// An answer to `query`: response code `rcode`, an optional CNAME hop from the asked name to
/// `alias.test`, then one A or AAAA record per address (owned by the alias when there is one).
pub fn answer(query: &[u8], rcode: u8, cname: bool, addresses: &[IpAddr]) -> Vec<u8> {
    let mut msg = query.to_vec();
    if msg.len() < 12 {
        return msg;
    }
    msg[2..4].copy_from_slice(&(0x8180u16 | u16::from(rcode & 0x0f)).to_be_bytes());
    let records = addresses.len() + usize::from(cname);
    msg[6..8].copy_from_slice(&(records as u16).to_be_bytes());
    let mut owner = 0xC000 | QUESTION_NAME;
    if cname {
        let target = b"\x05alias\x04test\x00";
        push_record(&mut msg, owner, TYPE_CNAME, target);
        // The alias's name starts where its rdata did: the last bytes written.
        owner = 0xC000 | (msg.len() - target.len()) as u16;
    }
    for ip in addresses {
        match ip {
            IpAddr::V4(v4) => push_record(&mut msg, owner, TYPE_A, &v4.octets()),
            IpAddr::V6(v6) => push_record(&mut msg, owner, TYPE_AAAA, &v6.octets()),
        }
    }
    msg
}

fn push_record(msg: &mut Vec<u8>, owner: u16, rtype: u16, rdata: &[u8]) {
    msg.extend_from_slice(&owner.to_be_bytes());
    msg.extend_from_slice(&rtype.to_be_bytes());
    msg.extend_from_slice(&1u16.to_be_bytes()); // class IN
    msg.extend_from_slice(&300u32.to_be_bytes());
    msg.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    msg.extend_from_slice(rdata);
}
