//! What the AT transport can carry; decides the largest datagram.

use crate::MAX_DATAGRAM;

/// Longest command stock Pycom `send_at_cmd` can queue: `char data[124]` in the LTE task.
pub const STOCK_MAX_COMMAND: u16 = 124;

/// `AT+SQNSSENDEXT=<id>,` (connIds are one digit, 1..6): the part of the send command that does
/// not depend on the datagram's length.
const SEND_COMMAND_HEAD: usize = "AT+SQNSSENDEXT=1,".len();

/// `AT+SQNSSENDEXT=<id>,<n>` plus the CR that separates it from the payload when both go in
/// one exchange: 20 bytes for a 10..99-byte datagram, 22 for 1000..1500.
pub const fn combined_send_overhead(len: usize) -> usize {
    let digits = if len >= 1000 {
        4
    } else if len >= 100 {
        3
    } else if len >= 10 {
        2
    } else {
        1
    };
    SEND_COMMAND_HEAD + digits + 1
}

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

    /// Largest datagram one `AT+SQNSSENDEXT` exchange can carry with these limits: the exact
    /// limit, counting the digits of the length in the command when both share one write.
    pub fn max_datagram(&self) -> usize {
        let Some(max) = self.max_command_len else {
            return MAX_DATAGRAM;
        };
        let max = usize::from(max);
        let per_command = if self.send_hex { max / 2 } else { max };
        let mut len = per_command.min(MAX_DATAGRAM);
        while len > 0 && !self.payload_fits_command(len) {
            len -= 1;
        }
        len
    }

    /// Bytes of payload text for `len` bytes of data.
    pub fn payload_text_len(&self, len: usize) -> usize {
        if self.send_hex {
            len * 2
        } else {
            len
        }
    }

    /// Whether a `len`-byte datagram's payload (and, with `combined_send`, its command and CR)
    /// fits one exchange.
    pub fn payload_fits_command(&self, len: usize) -> bool {
        let overhead = if self.combined_send { combined_send_overhead(len) } else { 0 };
        self.command_fits(self.payload_text_len(len) + overhead)
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
        assert_eq!(combined.max_datagram(), 52);
    }

    #[test]
    fn firmware_1_18_carries_51_bytes_in_one_combined_write() {
        // `AT+SQNSSENDEXT=1,51`, CR and 102 hex digits: 122 bytes, within 1.18's 123; 52 bytes
        // would take 124.
        let fw_1_18 = Limits { max_command_len: Some(123), combined_send: true, ..Limits::STOCK };
        assert_eq!(fw_1_18.max_datagram(), 51);
        assert!(fw_1_18.payload_fits_command(51));
        assert!(!fw_1_18.payload_fits_command(52));
        assert_eq!(combined_send_overhead(51), 20);
        assert_eq!(combined_send_overhead(1500), 22);
        assert_eq!(combined_send_overhead(5), 19);
        let raw = Limits { send_hex: false, ..fw_1_18 };
        assert_eq!(raw.max_datagram(), 102);
    }
}
