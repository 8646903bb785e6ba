//! Address and host-name validators on arbitrary bytes. Whatever they accept may go into an AT
//! command line, so it must hold no byte that could end or extend one, and an accepted address
//! must read back the same from its own text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microatsocket::addr::{format_ip, parse_ip, parse_modem_ip, parse_socket_addr};
use microatsocket::hostname::HostName;

fn safe_in_a_command(text: &[u8]) -> bool {
    text.iter().all(|&b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(name) = HostName::parse(data) {
        let text = name.as_str().as_bytes();
        assert!(!text.is_empty() && text.len() <= 253, "{text:?}");
        assert!(safe_in_a_command(text), "host name {text:?}");
        assert!(!text.windows(11).any(|w| w == b"Pycom_Dummy"), "firmware directive in {text:?}");
    }
    for ip in [parse_ip(data), parse_modem_ip(data)].into_iter().flatten() {
        let text = format_ip(&ip);
        assert!(safe_in_a_command(text.as_bytes()), "address text {text:?}");
        assert_eq!(parse_ip(text.as_bytes()), Some(ip), "{text} does not read back");
    }
    if let Some(addr) = parse_socket_addr(data, 5683) {
        assert_eq!(addr.port(), 5683);
        assert_eq!(parse_ip(data), Some(addr.ip()));
    }
});
