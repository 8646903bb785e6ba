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

/// What a connId's payloads were like, for [`HexHistory::stays_hex`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HexHistory {
    /// Bytes of command-safe payloads since the last payload that needed hex (`None`: none
    /// did yet).
    safe_run: Option<u32>,
    /// `safe_run` when the last payload that needed hex came: the gap between the last two.
    last_gap: Option<u32>,
}

/// What one switch of a connId's send mode costs, in payload bytes: an `AT+SQNSCFGEXT`
/// exchange (~35 ms through Pycom's LTE task) is the wire time of ~3,000 bytes at 921,600
/// baud, which is what sending that many bytes as hex instead of raw adds.
pub const SWITCH_COST_BYTES: u32 = 3_000;

impl HexHistory {
    /// Nothing sent yet.
    pub const NONE: HexHistory = HexHistory { safe_run: None, last_gap: None };

    /// Whether a connId that sends hex keeps sending hex for a command-safe payload of `len`
    /// bytes, rather than switching back to raw.
    ///
    /// Going raw costs a switch now and another at the next payload that needs hex: two
    /// switches, against the hex surplus of the safe bytes in between. The gap between the
    /// last two payloads that needed hex predicts that: a short one (a protocol whose every
    /// other message holds "at") keeps the connId hex; a long one, or none seen yet (a binary
    /// stream with now and then an AT prefix), sends raw again at once. A run of safe bytes
    /// longer than two switches ends the hex stay whatever the history said.
    pub fn stays_hex(&self, len: usize) -> bool {
        let two_switches = 2 * SWITCH_COST_BYTES;
        let run = self.safe_run.unwrap_or(0).saturating_add(u32::try_from(len).unwrap_or(u32::MAX));
        self.last_gap.is_some_and(|gap| gap < two_switches) && run <= two_switches
    }

    /// Records a payload of `len` bytes; `needed_hex`: it could read as a command.
    pub fn note(&mut self, len: usize, needed_hex: bool) {
        if needed_hex {
            self.last_gap = self.safe_run;
            self.safe_run = Some(0);
        } else {
            let len = u32::try_from(len).unwrap_or(u32::MAX);
            self.safe_run = self.safe_run.map(|run| run.saturating_add(len));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_or_isolated_unsafe_payload_lets_the_next_go_raw() {
        let mut history = HexHistory::default();
        history.note(20, true);
        assert!(!history.stays_hex(20), "no gap seen yet");
        for _ in 0..7 {
            history.note(1500, false);
        }
        history.note(1500, true);
        assert!(!history.stays_hex(1500), "the last gap was 10,500 bytes");
    }

    #[test]
    fn frequent_unsafe_payloads_keep_hex_until_a_long_safe_run() {
        let mut history = HexHistory::default();
        history.note(20, true);
        history.note(20, false);
        history.note(20, true);
        assert!(history.stays_hex(20), "the last gap was 20 bytes");
        for _ in 0..4 {
            history.note(1500, false);
        }
        assert!(history.stays_hex(0));
        assert!(!history.stays_hex(1), "6,000 safe bytes: worth two switches");
    }

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
