//! The modem's own resolver (`AT+SQNDNSLKUP`), asking a real DNS server on loopback.
//! Deliberately minimal and independent of the module's DNS codec, so a bug there is not
//! mirrored here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

/// Looks up `host` (A, or AAAA when `v6`) at `server`; `None` on any failure or no answer.
pub(crate) fn lookup(server: SocketAddr, host: &str, v6: bool) -> Option<Vec<IpAddr>> {
    let bind: SocketAddr = if server.is_ipv6() { "[::1]:0".parse().ok()? } else { "127.0.0.1:0".parse().ok()? };
    let socket = UdpSocket::bind(bind).ok()?;
    socket.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let qtype: u16 = if v6 { 28 } else { 1 };
    let mut query = vec![0x5a, 0x5a, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in host.trim_end_matches('.').split('.') {
        query.push(u8::try_from(label.len()).ok()?);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, (qtype >> 8) as u8, qtype as u8, 0, 1]);
    socket.send_to(&query, server).ok()?;
    let mut buf = [0u8; 1500];
    let n = socket.recv(&mut buf).ok()?;
    let msg = buf.get(..n)?;
    if msg.get(..2)? != [0x5a, 0x5a] || msg.get(3)? & 0x0f != 0 {
        return None;
    }
    let answers = u16::from_be_bytes([*msg.get(6)?, *msg.get(7)?]);
    let mut at = skip_name(msg, 12)? + 4;
    let mut found = Vec::new();
    for _ in 0..answers {
        at = skip_name(msg, at)?;
        let rtype = u16::from_be_bytes([*msg.get(at)?, *msg.get(at + 1)?]);
        let len = usize::from(u16::from_be_bytes([*msg.get(at + 8)?, *msg.get(at + 9)?]));
        let data = msg.get(at + 10..at + 10 + len)?;
        at += 10 + len;
        match (rtype, data.len()) {
            (1, 4) if !v6 => found.push(IpAddr::V4(Ipv4Addr::new(data[0], data[1], data[2], data[3]))),
            (28, 16) if v6 => {
                let octets: [u8; 16] = data.try_into().ok()?;
                found.push(IpAddr::V6(Ipv6Addr::from(octets)));
            }
            _ => {}
        }
    }
    (!found.is_empty()).then_some(found)
}

fn skip_name(msg: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *msg.get(at)?;
        if len & 0xc0 == 0xc0 {
            return Some(at + 2);
        }
        if len == 0 {
            return Some(at + 1);
        }
        at += 1 + usize::from(len);
    }
}
