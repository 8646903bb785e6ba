//! The radio and network-registration commands Pycom's `LTE.attach()`, `isattached()`,
//! `detach()` and `connect()` send (v1.20.2.r6's `esp32/mods/modlte.c`), so the fake LTE can
//! send what the firmware sends and each command flushes pending URCs as it does there.
//!
//! Only what those methods read is modelled: the radio's CFUN level (registration follows it
//! at once), a ready SIM, the "standard" carrier profile, a modem firmware that is not the
//! legacy LR5.1.1.0-33080, and `AT+CGDATA` answering `CONNECT`. No PPP runs afterwards: the
//! modem stays in command mode.

/// The radio's CFUN level. A reboot (the test runner's, before every test) turns it back on.
#[derive(Debug)]
pub(crate) struct Radio {
    cfun: u8,
    /// The network is there (control lines `network lose` / `network back`: coverage lost
    /// and found while the radio stays on).
    coverage: bool,
}

impl Default for Radio {
    fn default() -> Radio {
        // A Monarch that Pycom's firmware has run before boots with its radio on.
        Radio { cfun: 1, coverage: true }
    }
}

impl Radio {
    /// The `<stat>` of `+CEREG`: 1 (registered, home network) while the radio is on.
    pub(crate) fn registration_stat(&self) -> u8 {
        u8::from(self.cfun == 1 && self.coverage)
    }

    /// Whether the network is there for a radio that is on (`network lose` / `network back`).
    pub(crate) fn set_coverage(&mut self, coverage: bool) {
        self.coverage = coverage;
    }

    /// The answer to a radio command, or `None` when `body` (the command after "AT",
    /// upper case) is not one.
    pub(crate) fn answer(&mut self, body: &str, name: &str, args: Option<&str>) -> Option<Vec<u8>> {
        let query = body.ends_with('?');
        Some(match (body, name) {
            (b, _) if b.starts_with("!=") => ok(),
            ("I1", _) => info(&["UE6.0.0.0", "LR6.0.0.0-50000"]),
            ("O", _) => b"\r\nNO CARRIER\r\n".to_vec(),
            ("H", _) => ok(),
            (_, "CFUN") if query => info(&[&format!("+CFUN: {}", self.cfun)]),
            (_, "CFUN") => {
                let level = args.and_then(|a| a.split(',').next()).and_then(|v| v.trim().parse::<u8>().ok());
                match level.filter(|l| matches!(l, 0 | 1 | 4)) {
                    Some(l) => {
                        self.cfun = l;
                        ok()
                    }
                    None => b"\r\nERROR\r\n".to_vec(),
                }
            }
            (_, "CGATT") if query => info(&[&format!("+CGATT: {}", self.registration_stat())]),
            (_, "CPIN") if query => info(&["+CPIN: READY"]),
            (_, "SQNCTM") if query => info(&["+SQNCTM: \"standard\""]),
            (_, "SMDD") => info(&["MODEM DESCRIPTION"]),
            (_, "CGDCONT") => ok(),
            (_, "CGDATA") if self.registration_stat() == 1 => b"\r\nCONNECT\r\n".to_vec(),
            (_, "CGDATA") => b"\r\nNO CARRIER\r\n".to_vec(),
            _ => return None,
        })
    }
}

fn ok() -> Vec<u8> {
    b"\r\nOK\r\n".to_vec()
}

fn info(lines: &[&str]) -> Vec<u8> {
    format!("\r\n{}\r\n\r\nOK\r\n", lines.join("\r\n")).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_follows_the_radio() {
        let mut radio = Radio::default();
        assert_eq!(radio.answer("+CGATT?", "CGATT", None), Some(info(&["+CGATT: 1"])));
        assert_eq!(radio.answer("+CFUN=4", "CFUN", Some("4")), Some(ok()));
        assert_eq!(radio.registration_stat(), 0);
        assert_eq!(radio.answer("+CFUN?", "CFUN", None), Some(info(&["+CFUN: 4"])));
        assert_eq!(radio.answer("+CGDATA=\"PPP\",1", "CGDATA", Some("\"PPP\",1")), Some(b"\r\nNO CARRIER\r\n".to_vec()));
        assert_eq!(radio.answer("+CFUN=1", "CFUN", Some("1")), Some(ok()));
        assert_eq!(radio.answer("+CGDATA=\"PPP\",1", "CGDATA", Some("\"PPP\",1")), Some(b"\r\nCONNECT\r\n".to_vec()));
        assert_eq!(radio.answer("+CFUN=7", "CFUN", Some("7")), Some(b"\r\nERROR\r\n".to_vec()));
        assert_eq!(radio.answer("+SQNSD=1", "SQNSD", Some("1")), None);
    }
}
