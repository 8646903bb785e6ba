//! Faults armed at run time by control lines. Each counted fault fires for its next N
//! occasions, then disarms itself.

use std::collections::HashMap;

#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Command name -> (remaining, optional CME code) answered with an error.
    pub(crate) error: HashMap<String, (u32, Option<u16>)>,
    /// Command name -> remaining answers never sent.
    pub(crate) silent: HashMap<String, u32>,
    /// Command name (or `PAYLOAD`, an upload's bytes after the prompt) -> remaining arrivals
    /// the modem runs in full and whose answer is then lost on the way to the host.
    pub(crate) lost: HashMap<String, u32>,
    pub(crate) no_carrier: u32,
    pub(crate) no_prompt: u32,
    pub(crate) drop_urc: u32,
    /// Datagrams dropped per thousand, in both directions.
    pub(crate) net_drop_permille: u32,
    pub(crate) delay_ms: u64,
    /// Answers written in pieces of at most this many bytes (0 = whole).
    pub(crate) split: usize,
    /// Milliseconds between two pieces of a split answer.
    pub(crate) split_gap_ms: u64,
    pub(crate) nul: u32,
    pub(crate) urc_inside: u32,
    /// Answers replaced by a stream of lines with no final code, ENDLESS_BYTES long.
    pub(crate) endless: u32,
    /// Command name (or `PAYLOAD`, the bytes after the prompt) -> remaining arrivals on
    /// which the modem reboots instead of answering.
    pub(crate) reboot_at: HashMap<String, u32>,
    /// Command name -> remaining arrivals on which the network closes the socket the
    /// command names (its first parameter) just before the modem runs it.
    pub(crate) sqnsh_at: HashMap<String, u32>,
    /// A read with nothing buffered answers `+CME ERROR: 4` instead of `+SQNSRECV: <id>,0`
    /// (the other shape sources report for "nothing waiting").
    pub(crate) empty_read_error: bool,
    /// TCP: the peer takes nothing more (sends pile up as unacknowledged bytes).
    pub(crate) stall_tx: bool,
    /// The next N reads of a UDP listener (`AT+SQNSLUDP`) answer the two-field header
    /// `+SQNSRECV: <id>,<n>`, without the sender.
    pub(crate) udp_sender_hidden: u32,
    /// The next N reads of a UDP listener answer the two-field header, but `AT+SQNSS` still
    /// shows the sender as the connId's remote (the shape Telit documents for `#SLUDP`).
    pub(crate) udp_header_short: u32,
    /// TCP: unacknowledged bytes the modem holds before it refuses sends (None: 64 KiB).
    pub(crate) tx_window: Option<u64>,
}

/// How long an "endless" answer runs: far past anything a host should read (2048-byte pieces:
/// 128 of them), short enough to drain in a test.
pub(crate) const ENDLESS_BYTES: usize = 256 * 1024;

/// Takes one shot of a counted fault: true if it fires now.
pub(crate) fn take(counter: &mut u32) -> bool {
    if *counter > 0 {
        *counter -= 1;
        true
    } else {
        false
    }
}

impl Faults {
    pub(crate) fn take_error(&mut self, name: &str) -> Option<Option<u16>> {
        let entry = self.error.get_mut(name)?;
        if take(&mut entry.0) {
            Some(entry.1)
        } else {
            None
        }
    }

    pub(crate) fn take_silent(&mut self, name: &str) -> bool {
        self.silent.get_mut(name).is_some_and(take)
    }

    pub(crate) fn take_lost(&mut self, name: &str) -> bool {
        self.lost.get_mut(name).is_some_and(take)
    }

    pub(crate) fn take_reboot_at(&mut self, name: &str) -> bool {
        self.reboot_at.get_mut(name).is_some_and(take)
    }

    pub(crate) fn take_sqnsh_at(&mut self, name: &str) -> bool {
        self.sqnsh_at.get_mut(name).is_some_and(take)
    }

    /// Arms a fault from the words after `fault`. Returns an error text for bad lines.
    pub(crate) fn arm(&mut self, words: &[&str]) -> Result<(), String> {
        let number = |i: usize| -> Result<u64, String> {
            words.get(i).ok_or("missing number")?.parse::<u64>().map_err(|e| e.to_string())
        };
        let count = |i: usize| number(i).map(|n| n.min(u64::from(u32::MAX)) as u32);
        match words.first().copied() {
            Some("clear") => *self = Faults::default(),
            Some("error") => {
                let name = words.get(1).ok_or("missing command name")?.to_ascii_uppercase();
                let cme = match (words.get(3).copied(), words.get(4)) {
                    (Some("cme"), Some(code)) => Some(code.parse::<u16>().map_err(|e| e.to_string())?),
                    (None, _) => None,
                    _ => return Err("expected: fault error CMD COUNT [cme N]".into()),
                };
                self.error.insert(name, (count(2)?, cme));
            }
            Some("silent") => {
                let name = words.get(1).ok_or("missing command name")?.to_ascii_uppercase();
                self.silent.insert(name, count(2)?);
            }
            Some("lost") => {
                let name = words.get(1).ok_or("missing command name")?.to_ascii_uppercase();
                self.lost.insert(name, count(2)?);
            }
            Some("no_carrier") => self.no_carrier = count(1)?,
            Some("no_prompt") => self.no_prompt = count(1)?,
            Some("drop_urc") => self.drop_urc = count(1)?,
            Some("net_drop") => self.net_drop_permille = count(1)?.min(1000),
            Some("delay_ms") => self.delay_ms = number(1)?,
            Some("split") => {
                self.split = number(1)? as usize;
                self.split_gap_ms = if words.len() > 2 { number(2)? } else { 1 };
            }
            Some("nul") => self.nul = count(1)?,
            Some("urc_inside") => self.urc_inside = count(1)?,
            Some("endless") => self.endless = count(1)?,
            Some("reboot_at") => {
                let name = words.get(1).ok_or("missing command name")?.to_ascii_uppercase();
                self.reboot_at.insert(name, count(2)?);
            }
            Some("sqnsh_at") => {
                let name = words.get(1).ok_or("missing command name")?.to_ascii_uppercase();
                self.sqnsh_at.insert(name, count(2)?);
            }
            Some("empty_read_error") => self.empty_read_error = count(1)? > 0,
            Some("stall_tx") => self.stall_tx = count(1)? > 0,
            Some("udp_sender_hidden") => self.udp_sender_hidden = count(1)?,
            Some("udp_header_short") => self.udp_header_short = count(1)?,
            Some("tx_window") => self.tx_window = Some(number(1)?),
            _ => return Err(format!("unknown fault {:?}", words.first())),
        }
        Ok(())
    }
}
