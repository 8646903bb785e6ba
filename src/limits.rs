//! What the AT transport can carry; decides the largest datagram.

use crate::MAX_DATAGRAM;

/// Longest command stock Pycom `send_at_cmd` can queue: `char data[124]` in the LTE task.
pub const STOCK_MAX_COMMAND: u16 = 124;

/// Longest `AT+SQNSSENDEXT=<id>,<n>` plus the CR that separates it from the payload when both
/// go in one exchange: `AT+SQNSSENDEXT=6,1500` and CR.
pub const COMBINED_SEND_OVERHEAD: u16 = 22;

/// Transport capabilities, chosen by the shim for the firmware it runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest text one exchange may write; `None` when the firmware chunks long commands (PR 429).
    pub max_command_len: Option<u16>,
    /// Payloads go to the modem as hex (`sendDataMode` 1).
    pub send_hex: bool,
    /// The modem returns received data as hex (`recvDataMode` 1).
    pub recv_hex: bool,
    /// The transport writes `AT+SQNSSENDEXT` and its payload in one exchange (direct lteppp).
    pub combined_send: bool,
    /// PDP context the sockets use (`AT+SQNSCFG` cid).
    pub pdp_cid: u8,
}

impl Limits {
    /// Stock Pycom firmware through `send_at_cmd`: 124-byte commands, hex both ways.
    pub const STOCK: Limits = Limits {
        max_command_len: Some(STOCK_MAX_COMMAND),
        send_hex: true,
        recv_hex: true,
        combined_send: false,
        pdp_cid: 1,
    };

    /// Largest datagram one `AT+SQNSSENDEXT` exchange can carry with these limits.
    pub fn max_datagram(&self) -> usize {
        let per_command = match self.max_command_len {
            None => return MAX_DATAGRAM,
            // Command, CR and payload share one write.
            Some(len) if self.combined_send => usize::from(len.saturating_sub(COMBINED_SEND_OVERHEAD)),
            Some(len) => usize::from(len),
        };
        let payload = if self.send_hex { per_command / 2 } else { per_command };
        payload.min(MAX_DATAGRAM)
    }

    /// Whether a command of `len` bytes fits in one exchange.
    pub fn command_fits(&self, len: usize) -> bool {
        self.max_command_len.is_none_or(|max| len <= usize::from(max))
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::STOCK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_hex_carries_62_bytes_and_chunking_carries_1500() {
        assert_eq!(Limits::STOCK.max_datagram(), 62);
        let raw = Limits { send_hex: false, ..Limits::STOCK };
        assert_eq!(raw.max_datagram(), 124);
        let chunked = Limits { max_command_len: None, ..Limits::STOCK };
        assert_eq!(chunked.max_datagram(), 1500);
        assert!(chunked.command_fits(3100));
        assert!(!Limits::STOCK.command_fits(125));
        let combined = Limits { combined_send: true, ..Limits::STOCK };
        assert_eq!(combined.max_datagram(), 51);
    }
}
