//! Address and host-name validators on arbitrary bytes, through the Rust API and the C ABI.
//! Whatever they accept goes into an AT command line, so it may hold no byte that could end,
//! extend or quote out of one; an accepted address must read back the same from its own text;
//! and the command built from an accepted value is still one clean AT line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microatsocket::addr::{format_ip, parse_decimal, parse_ip, parse_modem_ip, parse_socket_addr, strip_quotes};
use microatsocket::at::command::{CommandText, IpVersion};
use microatsocket::at::{Command, ConnId};
use microatsocket::ffi::{mas_addr, mas_addr_format, mas_addr_parse, MAS_EINVAL};
use microatsocket::hostname::HostName;

/// Bytes a host name may hold: no quote, comma, semicolon, CR, LF, NUL, space or non-ASCII.
fn host_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.".contains(&b)
}

/// Bytes of a textual IP address.
fn address_byte(b: u8) -> bool {
    b.is_ascii_hexdigit() || b".:".contains(&b)
}

/// One AT line with balanced quotes: what the firmware writes as it is.
fn assert_clean_command(command: Command<'_>) {
    let mut text = CommandText::new();
    command.write(&mut text).expect("every accepted value fits the command buffer");
    let bytes = text.as_bytes();
    assert!(bytes.iter().all(|&b| (0x20..0x7f).contains(&b)), "{text:?}");
    assert_eq!(bytes.iter().filter(|&&b| b == b'"').count(), 2, "{text:?}");
    assert!(!text.contains("Pycom_Dummy"), "{text:?}");
}

fn check_host_name(data: &[u8]) {
    let Ok(name) = HostName::parse(data) else { return };
    let text = name.as_str().as_bytes();
    assert!((1..=253).contains(&text.len()), "{text:?}");
    assert!(text.iter().all(|&b| host_name_byte(b)), "host name {text:?}");
    assert!(text.split(|&b| b == b'.').all(|label| (1..=63).contains(&label.len())), "{text:?}");
    assert!(!text.windows(11).any(|w| w == b"Pycom_Dummy"), "firmware directive in {text:?}");
    assert_eq!(HostName::parse(text).as_ref(), Ok(&name), "not stable when parsed again");
    assert_clean_command(Command::DnsLookup { host: &name, version: Some(IpVersion::V6) });
}

fn check_addresses(data: &[u8]) {
    if parse_ip(data).is_some() {
        assert!(data.iter().all(|&b| address_byte(b)), "accepted as an address: {data:?}");
    }
    if parse_modem_ip(data).is_some() {
        let inner = strip_quotes(data);
        assert!(inner.iter().all(|&b| address_byte(b)), "accepted from the modem: {data:?}");
    }
    let conn = ConnId::new(1).expect("connId 1");
    for ip in [parse_ip(data), parse_modem_ip(data)].into_iter().flatten() {
        let text = format_ip(&ip);
        assert!(text.bytes().all(address_byte), "address text {text:?}");
        assert_eq!(parse_ip(text.as_bytes()), Some(ip), "{text} does not read back");
        let peer = core::net::SocketAddr::new(ip, 5683);
        assert_clean_command(Command::Dial { conn, peer, local_port: 0 });
    }
    if let Some(addr) = parse_socket_addr(data, 5683) {
        assert_eq!((addr.port(), Some(addr.ip())), (5683, parse_ip(data)));
    }
}

/// `mas_addr_parse` agrees with the Rust parser, and its text form reads back the same.
fn check_c_abi(data: &[u8]) {
    let mut parsed = mas_addr::default();
    // Safety: live slices and locals.
    let rc = unsafe { mas_addr_parse(data.as_ptr().cast(), data.len(), 5683, &mut parsed) };
    assert_eq!(rc == 0, parse_socket_addr(data, 5683).is_some());
    if rc != 0 {
        assert_eq!(rc, MAS_EINVAL);
        return;
    }
    let mut text = [0u8; 64];
    // Safety: live locals; the capacity given is the buffer's.
    let len = unsafe { mas_addr_format(&parsed, text.as_mut_ptr().cast(), text.len()) };
    assert!(len > 0, "a parsed address does not format");
    let mut again = mas_addr::default();
    // Safety: live locals.
    let rc = unsafe { mas_addr_parse(text.as_ptr().cast(), len, 5683, &mut again) };
    assert_eq!((rc, again), (0, parsed), "{:?} does not read back", &text[..len]);
    // Too small a buffer: nothing written, 0 returned.
    // Safety: live locals; the capacity given is smaller than the buffer.
    assert_eq!(unsafe { mas_addr_format(&parsed, text.as_mut_ptr().cast(), len - 1) }, 0);
}

fuzz_target!(|data: &[u8]| {
    check_host_name(data);
    check_addresses(data);
    check_c_abi(data);
    if let Some(n) = parse_decimal(data) {
        assert!(data.len() <= 9 && n < 1_000_000_000);
    }
});
