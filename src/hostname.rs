//! Host names that may be sent to the modem's resolver.
//!
//! A name is accepted only if it is a plain DNS name: labels of letters, digits and hyphens
//! (underscore tolerated for service-style names), 1..63 characters each, at most 253 in all,
//! no leading or trailing hyphen. Nothing else can reach `AT+SQNDNSLKUP="<host>"`.
//! A name containing `Pycom_Dummy` is refused too: Pycom's LTE task takes any command holding
//! that text as "read only" and writes nothing, so the lookup would silently never happen.

// Renamed: cbindgen mistakes any `String<N>` for std's String and gives up.
use heapless::String as TextBuf;
/// Longest DNS name in text form, without the trailing dot.
pub const HOST_NAME_CAP: usize = 253;

/// A validated host name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostName(TextBuf<HOST_NAME_CAP>);

/// Why a host name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostNameError {
    Empty,
    TooLong,
    BadLabel,
    BadCharacter,
    /// Holds `Pycom_Dummy`, the firmware's read-only directive (matched as the firmware does:
    /// anywhere, case-sensitive).
    FirmwareDirective,
}

/// What Pycom's LTE task looks for in a queued command to skip writing it.
const FIRMWARE_DIRECTIVE: &[u8] = b"Pycom_Dummy";

impl HostName {
    /// Validates `text` (one trailing dot is allowed and dropped).
    pub fn parse(text: &[u8]) -> Result<HostName, HostNameError> {
        let text = text.strip_suffix(b".").unwrap_or(text);
        if text.is_empty() {
            return Err(HostNameError::Empty);
        }
        if text.len() > HOST_NAME_CAP {
            return Err(HostNameError::TooLong);
        }
        for label in text.split(|&b| b == b'.') {
            check_label(label)?;
        }
        if text.windows(FIRMWARE_DIRECTIVE.len()).any(|w| w == FIRMWARE_DIRECTIVE) {
            return Err(HostNameError::FirmwareDirective);
        }
        let text = core::str::from_utf8(text).map_err(|_| HostNameError::BadCharacter)?;
        let mut name = TextBuf::new();
        name.push_str(text).map_err(|_| HostNameError::TooLong)?;
        Ok(HostName(name))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

fn check_label(label: &[u8]) -> Result<(), HostNameError> {
    if label.is_empty() || label.len() > 63 {
        return Err(HostNameError::BadLabel);
    }
    if label.first() == Some(&b'-') || label.last() == Some(&b'-') {
        return Err(HostNameError::BadLabel);
    }
    if label
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(HostNameError::BadCharacter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for good in [&b"localhost"[..], b"coap.me", b"a-b.example.org.", b"_srv.x1.io"] {
            assert!(HostName::parse(good).is_ok(), "{good:?}");
        }
        assert_eq!(HostName::parse(b"example.com.").unwrap().as_str(), "example.com");
    }

    #[test]
    fn refuses_injection_and_malformed_names() {
        let cases: [(&[u8], HostNameError); 12] = [
            (b"Pycom_Dummy", HostNameError::FirmwareDirective),
            (b"x.Pycom_Dummy_1.example", HostNameError::FirmwareDirective),
            (b"", HostNameError::Empty),
            (b"evil\".com", HostNameError::BadCharacter),
            (b"a.com\r\nAT+SQNSH=1", HostNameError::BadCharacter),
            (b"a,b.com", HostNameError::BadCharacter),
            (b"a;b", HostNameError::BadCharacter),
            (b"a\0b", HostNameError::BadCharacter),
            (b"caf\xc3\xa9.fr", HostNameError::BadCharacter),
            (b"a..b", HostNameError::BadLabel),
            (b"-a.b", HostNameError::BadLabel),
            (b"+++", HostNameError::BadCharacter),
        ];
        for (text, expected) in cases {
            assert_eq!(HostName::parse(text), Err(expected), "{text:?}");
        }
        let long_label = [b'a'; 64];
        assert_eq!(HostName::parse(&long_label), Err(HostNameError::BadLabel));
        let mut long_name = [b'a'; 255];
        for i in (63..255).step_by(64) {
            long_name[i] = b'.';
        }
        assert_eq!(HostName::parse(&long_name), Err(HostNameError::TooLong));
    }
}
