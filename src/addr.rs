//! Peer addresses: parsed from user text with `core::net`, printed for AT commands.
//!
//! Only text that parses as an IPv4 or IPv6 address becomes a [`SocketAddr`], so an address
//! can never carry quotes, commas or line breaks into an AT command.

// Renamed: cbindgen mistakes any `String<N>` for std's String and gives up.
use heapless::String as TextBuf;
use core::fmt::Write;
use core::net::{IpAddr, SocketAddr};
use core::str::FromStr;

/// Longest textual IP address we print: a full IPv6 address with an embedded IPv4 tail.
pub const IP_TEXT_CAP: usize = 45;

/// Textual form of an IP address, as the modem expects it (IPv6 without brackets).
pub type IpText = TextBuf<IP_TEXT_CAP>;

/// Parses dotted IPv4 or textual IPv6 (no brackets, no zone) into an address.
pub fn parse_ip(text: &[u8]) -> Option<IpAddr> {
    let text = core::str::from_utf8(text).ok()?;
    IpAddr::from_str(text).ok()
}

/// Parses an IP address and joins it with `port`.
pub fn parse_socket_addr(text: &[u8], port: u16) -> Option<SocketAddr> {
    parse_ip(text).map(|ip| SocketAddr::new(ip, port))
}

/// Prints an IP address in its canonical short form.
pub fn format_ip(ip: &IpAddr) -> IpText {
    let mut text = IpText::new();
    // 45 characters hold every IPv4 and IPv6 address `core` can print.
    let _ = write!(text, "{ip}");
    text
}

/// Reads the address forms the modem prints in `+SQNSS`, `+CGPADDR` and `+SQNDNSLKUP`:
/// optional quotes, dotted IPv4, colon IPv6, or 3GPP's 16 dot-separated decimal bytes.
pub fn parse_modem_ip(field: &[u8]) -> Option<IpAddr> {
    let field = strip_quotes(field);
    if let Some(ip) = parse_ip(field) {
        return Some(ip);
    }
    let mut octets = [0u8; 16];
    let mut count = 0usize;
    for part in field.split(|&b| b == b'.') {
        let slot = octets.get_mut(count)?;
        *slot = parse_decimal(part).and_then(|n| u8::try_from(n).ok())?;
        count += 1;
    }
    (count == 16).then(|| IpAddr::from(octets))
}

/// Removes one pair of surrounding double quotes, if present.
pub fn strip_quotes(field: &[u8]) -> &[u8] {
    match field {
        [b'"', inner @ .., b'"'] => inner,
        _ => field,
    }
}

/// Parses a short unsigned decimal number (at most 9 digits, no sign, no spaces).
pub fn parse_decimal(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 9 {
        return None;
    }
    text.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn parses_both_families() {
        assert_eq!(parse_ip(b"127.0.0.1"), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert_eq!(parse_ip(b"::1"), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(
            parse_socket_addr(b"2001:db8::1", 5683).map(|a| a.port()),
            Some(5683)
        );
    }

    #[test]
    fn rejects_anything_that_could_inject() {
        for bad in [
            &b"1.2.3.4\""[..],
            b"1.2.3.4\r\nAT+SQNSH=1",
            b"::1,",
            b"[::1]",
            b"fe80::1%eth0",
            b"example.com",
            b"",
            b"1.2.3.4;",
            b"\xff\xfe",
        ] {
            assert_eq!(parse_ip(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn prints_short_forms() {
        let ip = parse_ip(b"2001:0db8:0000:0000:0000:0000:0000:0001").unwrap();
        assert_eq!(format_ip(&ip).as_str(), "2001:db8::1");
        let longest = parse_ip(b"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255").unwrap();
        assert!(format_ip(&longest).len() <= IP_TEXT_CAP);
        assert!(!format_ip(&longest).is_empty());
    }

    #[test]
    fn reads_modem_address_forms() {
        assert_eq!(parse_modem_ip(b"\"10.0.1.197\""), parse_ip(b"10.0.1.197"));
        assert_eq!(
            parse_modem_ip(b"\"32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.1\""),
            parse_ip(b"2001:db8::1")
        );
        assert_eq!(parse_modem_ip(b"1.2.3"), None);
        assert_eq!(parse_modem_ip(b"1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.256"), None);
    }
}
