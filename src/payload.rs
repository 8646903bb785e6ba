//! Which payload bytes may go to the modem raw (`sendDataMode` 0).
//!
//! The direct transport writes a payload behind a short pause for the `> ` prompt, without
//! seeing it. If the modem refused the `AT+SQNSSENDEXT` line (a socket the network closed, a
//! reboot whose `+SYSSTART` was flushed away), it reads the payload as command lines. Hex text
//! can only make it answer `ERROR`; raw bytes are sent raw only when they could not either.

/// Whether `data`, read by the modem as command text, holds no AT command prefix: no `A` or
/// `a` followed by `T`, `t` or `/` anywhere (a modem may skip what comes before the prefix on a
/// line, and `A/` repeats the last command), and no `T`, `t` or `/` first (after an
/// interrupted write the same payload is written again, behind an `A` the first write may
/// have ended with).
pub fn command_safe(data: &[u8]) -> bool {
    let starts_prefix_tail = |b: &u8| matches!(b, b'T' | b't' | b'/');
    if data.first().is_some_and(starts_prefix_tail) {
        return false;
    }
    !data.windows(2).any(|pair| matches!(pair, [b'A' | b'a', b'T' | b't' | b'/']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_that_could_read_as_a_command_is_not_safe() {
        assert!(command_safe(b"hello\r\nworld\x00\xff"));
        assert!(command_safe(b""));
        assert!(command_safe(b"A"));
        assert!(command_safe(&[0x41, 0x48, 0x0d, 0x0a]));
        assert!(!command_safe(b"AT+CFUN=0\r"));
        assert!(!command_safe(b"\r\nat+cfun=0\r"));
        assert!(!command_safe(b"xyzAt"));
        assert!(!command_safe(b"data"));
        assert!(!command_safe(b"A/"));
        assert!(!command_safe(b"T and more"));
        assert!(!command_safe(b"/"));
    }
}
