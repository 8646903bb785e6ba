//! DNS wire codec for the module's own resolver (the fallback when the modem's
//! `AT+SQNDNSLKUP` cannot answer): one question out, the A or AAAA answers back.
//!
//! Decoding follows CNAME chains inside the answer section and reads compressed names with a
//! bound on the number of jumps, so a hostile answer (a compression loop, a pointer past the
//! end, a count larger than the message) ends in an error, never a hang or a panic.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::hostname::HostName;
// Renamed: cbindgen mistakes any `Vec<T, N>` for std's Vec and gives up.
use heapless::Vec as FixedList;

/// Largest DNS message over UDP without EDNS.
pub const MAX_MESSAGE: usize = 512;
/// Addresses kept from one answer.
pub const MAX_ADDRESSES: usize = 4;

const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;
/// Compression pointers followed while reading one name; a longer chain is a loop.
const MAX_POINTER_JUMPS: usize = 16;
/// CNAME links followed from the asked name.
const MAX_CNAME_HOPS: usize = 8;

/// Which records to ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordType {
    A,
    Aaaa,
}

impl RecordType {
    pub(crate) fn code(self) -> u16 {
        match self {
            RecordType::A => TYPE_A,
            RecordType::Aaaa => TYPE_AAAA,
        }
    }
}

/// Why an answer gave no address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsError {
    /// Shorter than its header or its counts claim, or a name that runs off the end.
    Malformed,
    /// Not an answer to our query (ID, question or flags differ).
    NotOurs,
    /// Truncated (TC): the answer did not fit in UDP.
    Truncated,
    /// The server said no: RCODE 3 (no such name) or another error code.
    NoSuchName,
    ServerFailure(u8),
    /// A valid answer with no record of the asked type.
    NoAddress,
    /// Compression pointers or CNAMEs loop.
    Loop,
}

/// Addresses found in an answer.
pub type Addresses = FixedList<IpAddr, MAX_ADDRESSES>;

/// Writes a recursive query for `name` into `out`; returns its length.
pub fn encode_query(id: u16, name: &HostName, kind: RecordType, out: &mut [u8]) -> Option<usize> {
    let mut w = Writer { out, len: 0 };
    w.u16(id)?;
    w.u16(0x0100)?; // standard query, recursion desired
    w.u16(1)?; // one question
    w.u16(0)?;
    w.u16(0)?;
    w.u16(0)?;
    for label in name.as_str().split('.') {
        let len = u8::try_from(label.len()).ok()?;
        w.byte(len)?;
        w.bytes(label.as_bytes())?;
    }
    w.byte(0)?;
    w.u16(kind.code())?;
    w.u16(CLASS_IN)?;
    Some(w.len)
}

struct Writer<'a> {
    out: &'a mut [u8],
    len: usize,
}

impl Writer<'_> {
    fn byte(&mut self, b: u8) -> Option<()> {
        *self.out.get_mut(self.len)? = b;
        self.len += 1;
        Some(())
    }

    fn u16(&mut self, v: u16) -> Option<()> {
        self.bytes(&v.to_be_bytes())
    }

    fn bytes(&mut self, b: &[u8]) -> Option<()> {
        self.out.get_mut(self.len..self.len + b.len())?.copy_from_slice(b);
        self.len += b.len();
        Some(())
    }
}

fn u16_at(msg: &[u8], at: usize) -> Result<u16, DnsError> {
    match msg.get(at..at + 2) {
        Some(&[hi, lo]) => Ok(u16::from_be_bytes([hi, lo])),
        _ => Err(DnsError::Malformed),
    }
}

/// Compares the (possibly compressed) name at `at` with `other` at `other_at`, case-insensitively.
fn same_name(msg: &[u8], at: usize, other: &[u8], other_at: usize) -> Result<bool, DnsError> {
    let mut a = Labels::new(msg, at);
    let mut b = Labels::new(other, other_at);
    loop {
        match (a.next_label()?, b.next_label()?) {
            (None, None) => return Ok(true),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
            _ => return Ok(false),
        }
    }
}

/// Offset just past the name that starts at `at` (a pointer ends the name in place).
fn skip_name(msg: &[u8], mut at: usize) -> Result<usize, DnsError> {
    loop {
        let len = *msg.get(at).ok_or(DnsError::Malformed)?;
        match len {
            0 => return Ok(at + 1),
            l if l & 0xc0 == 0xc0 => return Ok(at + 2),
            l if l & 0xc0 != 0 => return Err(DnsError::Malformed),
            l => at += 1 + usize::from(l),
        }
    }
}

/// Reads the labels of a name, following compression pointers.
struct Labels<'a> {
    msg: &'a [u8],
    at: usize,
    jumps: usize,
}

impl<'a> Labels<'a> {
    fn new(msg: &'a [u8], at: usize) -> Self {
        Labels { msg, at, jumps: 0 }
    }

    fn next_label(&mut self) -> Result<Option<&'a [u8]>, DnsError> {
        loop {
            let len = *self.msg.get(self.at).ok_or(DnsError::Malformed)?;
            if len & 0xc0 == 0xc0 {
                self.jumps += 1;
                if self.jumps > MAX_POINTER_JUMPS {
                    return Err(DnsError::Loop);
                }
                self.at = usize::from(u16_at(self.msg, self.at)? & 0x3fff);
                continue;
            }
            if len & 0xc0 != 0 {
                return Err(DnsError::Malformed);
            }
            if len == 0 {
                return Ok(None);
            }
            let start = self.at + 1;
            let label = self.msg.get(start..start + usize::from(len)).ok_or(DnsError::Malformed)?;
            self.at = start + usize::from(len);
            return Ok(Some(label));
        }
    }
}

/// Decodes the answer to the query `query` (as sent) and returns the addresses of the asked
/// type, following CNAMEs from the asked name.
pub fn decode_answer(query: &[u8], msg: &[u8], kind: RecordType) -> Result<Addresses, DnsError> {
    let id = u16_at(query, 0)?;
    if u16_at(msg, 0)? != id {
        return Err(DnsError::NotOurs);
    }
    let flags = u16_at(msg, 2)?;
    if flags & 0x8000 == 0 || u16_at(msg, 4)? != 1 {
        return Err(DnsError::NotOurs);
    }
    if flags & 0x0200 != 0 {
        return Err(DnsError::Truncated);
    }
    match (flags & 0x000f) as u8 {
        0 => {}
        3 => return Err(DnsError::NoSuchName),
        code => return Err(DnsError::ServerFailure(code)),
    }
    // The question must be ours: same name, type and class.
    const HEADER: usize = 12;
    if !same_name(msg, HEADER, query, HEADER)? {
        return Err(DnsError::NotOurs);
    }
    let question_end = skip_name(msg, HEADER)?;
    if u16_at(msg, question_end)? != kind.code() || u16_at(msg, question_end + 2)? != CLASS_IN {
        return Err(DnsError::NotOurs);
    }
    let answers = u16_at(msg, 6)?;
    let records_start = question_end + 4;

    // The name we are looking for: the question's, then each CNAME's target in turn.
    let (mut wanted_msg, mut wanted_at): (&[u8], usize) = (msg, HEADER);
    let mut found = Addresses::new();
    for _hop in 0..=MAX_CNAME_HOPS {
        let mut next_target = None;
        let mut at = records_start;
        for _ in 0..answers {
            let name_at = at;
            at = skip_name(msg, at)?;
            let rtype = u16_at(msg, at)?;
            let class = u16_at(msg, at + 2)?;
            let rdlen = usize::from(u16_at(msg, at + 8)?);
            let rdata_at = at + 10;
            let rdata = msg.get(rdata_at..rdata_at + rdlen).ok_or(DnsError::Malformed)?;
            at = rdata_at + rdlen;
            if class != CLASS_IN || !same_name(msg, name_at, wanted_msg, wanted_at)? {
                continue;
            }
            match (rtype, rdata) {
                (TYPE_A, &[a, b, c, d]) if kind == RecordType::A => {
                    let _ = found.push(IpAddr::V4(Ipv4Addr::new(a, b, c, d)));
                }
                (TYPE_AAAA, bytes) if kind == RecordType::Aaaa && bytes.len() == 16 => {
                    let mut octets = [0u8; 16];
                    octets.copy_from_slice(bytes);
                    let _ = found.push(IpAddr::V6(Ipv6Addr::from(octets)));
                }
                (TYPE_CNAME, _) => next_target = Some(rdata_at),
                _ => {}
            }
        }
        if !found.is_empty() {
            return Ok(found);
        }
        match next_target {
            Some(target) => (wanted_msg, wanted_at) = (msg, target),
            None => return Err(DnsError::NoAddress),
        }
    }
    Err(DnsError::Loop)
}

/// The shortest TTL (seconds) among the answer records of `msg`: how long the answer may be
/// kept. `None` for a message whose records do not parse.
pub fn answer_ttl(msg: &[u8]) -> Option<u32> {
    const HEADER: usize = 12;
    let answers = u16_at(msg, 6).ok()?;
    let mut at = skip_name(msg, HEADER).ok()? + 4;
    let mut shortest: Option<u32> = None;
    for _ in 0..answers {
        at = skip_name(msg, at).ok()?;
        let high = u32::from(u16_at(msg, at + 4).ok()?);
        let low = u32::from(u16_at(msg, at + 6).ok()?);
        let ttl = (high << 16) | low;
        shortest = Some(shortest.map_or(ttl, |s| s.min(ttl)));
        at += 10 + usize::from(u16_at(msg, at + 8).ok()?);
    }
    shortest
}

#[cfg(test)]
mod tests;
