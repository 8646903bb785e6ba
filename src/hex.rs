//! Hex text codec for the modem's hex data modes (`recvDataMode`/`sendDataMode` = 1).
//!
//! Hex doubles the bytes on the UART but survives every layer between Python and the modem:
//! Pycom's `send_at_cmd` cuts replies at NUL and swallows any command containing `Pycom_Dummy`.

const DIGITS: &[u8; 16] = b"0123456789ABCDEF";

/// Writes `2 * input.len()` upper-case hex digits into `out`; returns the count written,
/// or `None` when `out` is too small (nothing is then guaranteed about `out`).
pub fn encode(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let needed = input.len().checked_mul(2)?;
    let out = out.get_mut(..needed)?;
    for (byte, pair) in input.iter().zip(out.chunks_exact_mut(2)) {
        if let [high, low] = pair {
            *high = *DIGITS.get(usize::from(byte >> 4))?;
            *low = *DIGITS.get(usize::from(byte & 0x0f))?;
        }
    }
    Some(needed)
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Decodes hex text into `out`; returns the byte count, or `None` for an odd length,
/// a non-hex character, or an `out` that is too small.
pub fn decode(text: &[u8], out: &mut [u8]) -> Option<usize> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let count = text.len() / 2;
    let out = out.get_mut(..count)?;
    for (pair, byte) in text.chunks_exact(2).zip(out.iter_mut()) {
        if let [high, low] = pair {
            *byte = (nibble(*high)? << 4) | nibble(*low)?;
        }
    }
    Some(count)
}

/// True when every byte is a hex digit.
pub fn is_hex_digit(byte: u8) -> bool {
    nibble(byte).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_value_round_trips() {
        let input: [u8; 256] = core::array::from_fn(|i| i as u8);
        let mut text = [0u8; 512];
        assert_eq!(encode(&input, &mut text), Some(512));
        assert_eq!(&text[..4], b"0001");
        assert_eq!(&text[510..], b"FF");
        let mut back = [0u8; 256];
        assert_eq!(decode(&text, &mut back), Some(256));
        assert_eq!(back, input);
    }

    #[test]
    fn lower_case_decodes() {
        let mut out = [0u8; 2];
        assert_eq!(decode(b"abCD", &mut out), Some(2));
        assert_eq!(out, [0xab, 0xcd]);
    }

    #[test]
    fn rejects_odd_length_bad_digit_and_small_output() {
        let mut out = [0u8; 4];
        assert_eq!(decode(b"abc", &mut out), None);
        assert_eq!(decode(b"zz", &mut out), None);
        assert_eq!(decode(b"0011223344", &mut out), None);
        assert_eq!(encode(&[1, 2, 3], &mut out), None);
    }
}
