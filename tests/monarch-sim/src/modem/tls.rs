//! The modem's TLS commands: credentials in non-volatile memory (`AT+SQNSNVW`), security
//! profiles (`AT+SQNSPCFG`), secure connIds (`AT+SQNSSCFG`), and the secure TCP dial, which
//! runs a real TLS client (`crate::tls_link`) over the loopback connection.
//!
//! Choices where the facts are uncertain (tcp-tls-facts §3, summarised in README.md):
//! * `AT+SQNSNVW`: CR bytes in the payload are dropped and not counted (the manual's rule);
//!   the upload is checked as PEM when the count is reached (bad PEM: `+CME ERROR: 4`);
//!   size 0 deletes and fails on an empty slot; certificates up to 8 KiB, keys up to 2 KiB.
//! * `AT+SQNSPCFG`: 7 to 12 fields, the empty cipher list quoted or bare; certValidLevel
//!   read the LR5 way: bit 0 = chain to the stored CA, bit 1 = validity dates, bit 2 = the
//!   dialled name against the certificate (only together with bit 0).
//! * TLS 1.2 only (what LR5-era firmware negotiates); a handshake that fails for any reason
//!   answers the dial `NO CARRIER` and leaves the connId closed.
//! * NV memory and profiles survive a reboot; the secure flag of a connId does not.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::{ok, split_fields, Modem};

/// What `AT+SQNSNVW` stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum CredKind {
    Certificate,
    PrivateKey,
}

impl CredKind {
    fn parse(text: &str) -> Option<CredKind> {
        match text.trim_matches('"') {
            "certificate" => Some(CredKind::Certificate),
            "privatekey" => Some(CredKind::PrivateKey),
            _ => None,
        }
    }

    fn max_size(self) -> usize {
        match self {
            CredKind::Certificate => 8 * 1024,
            CredKind::PrivateKey => 2 * 1024,
        }
    }
}

/// One `AT+SQNSPCFG` profile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Profile {
    pub(crate) version: u8,
    /// IANA suite numbers; empty = the modem's default list.
    pub(crate) ciphers: Vec<u16>,
    pub(crate) level: u8,
    pub(crate) ca: Option<u8>,
    pub(crate) cert: Option<u8>,
    pub(crate) key: Option<u8>,
}

/// An `AT+SQNSNVW` waiting for its bytes.
pub(crate) struct Upload {
    kind: CredKind,
    index: u8,
    size: usize,
    bytes: Vec<u8>,
    deadline: Instant,
}

#[derive(Default)]
pub(crate) struct TlsState {
    pub(crate) nvm: BTreeMap<(CredKind, u8), Vec<u8>>,
    pub(crate) profiles: [Option<Profile>; 6],
    /// connId index -> security profile, when `AT+SQNSSCFG=<id>,1,<sp>` made it secure.
    pub(crate) secure: [Option<u8>; 6],
    pub(crate) upload: Option<Upload>,
    /// Why the last secure dial failed (control line `tls_error`).
    pub(crate) last_error: String,
    /// The modem's clock has not been set by the network: it reads 1970, and certificate
    /// dates are checked against that (control line `clock unset` / `clock network`).
    pub(crate) clock_unset: bool,
    pub(crate) nvm_writes: u64,
    pub(crate) nvm_deletes: u64,
    pub(crate) nvm_bytes: u64,
    pub(crate) profile_writes: u64,
    pub(crate) handshakes: u64,
    pub(crate) handshake_failures: u64,
}

impl TlsState {
    pub(crate) fn reboot(&mut self) {
        self.upload = None;
        self.secure = Default::default();
    }

    /// `AT+SQNSFACTORYRESET`'s effect on credentials and profiles (control line `nvm clear`).
    pub(crate) fn factory_reset(&mut self) {
        self.nvm.clear();
        self.profiles = Default::default();
        self.secure = Default::default();
    }

    pub(crate) fn reset_counters(&mut self) {
        self.nvm_writes = 0;
        self.nvm_deletes = 0;
        self.nvm_bytes = 0;
        self.profile_writes = 0;
        self.handshakes = 0;
        self.handshake_failures = 0;
    }

    pub(crate) fn stats(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("nvm_writes", self.nvm_writes),
            ("nvm_deletes", self.nvm_deletes),
            ("nvm_bytes", self.nvm_bytes),
            ("nvm_entries", self.nvm.len() as u64),
            ("profile_writes", self.profile_writes),
            ("tls_handshakes", self.handshakes),
            ("tls_failures", self.handshake_failures),
        ]
    }
}

/// Parses `"0x2F;0x35"` (quoted or not, empty allowed).
fn parse_ciphers(text: &str) -> Option<Vec<u16>> {
    let text = text.trim_matches('"');
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(';')
        .map(|s| {
            let s = s.trim();
            let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
            u16::from_str_radix(hex, 16).ok()
        })
        .collect()
}

/// An empty field is "no credential"; otherwise an index 0..19.
fn parse_index(field: Option<&&str>) -> Result<Option<u8>, ()> {
    match field.map(|f| f.trim_matches('"')) {
        None | Some("") => Ok(None),
        Some(f) => f.parse::<u8>().ok().filter(|i| *i <= 19).map(Some).ok_or(()),
    }
}

impl Modem {
    /// `AT+SQNSNVW=<type>,<index>,<size>`: the prompt, or (size 0) a delete.
    pub(super) fn nv_write(&mut self, args: Option<&str>) -> Vec<u8> {
        let fields: Vec<&str> = args.map(split_fields).unwrap_or_default();
        let kind = fields.first().and_then(|f| CredKind::parse(f));
        let index = fields.get(1).and_then(|f| f.parse::<u8>().ok()).filter(|i| *i <= 19);
        let size = fields.get(2).and_then(|f| f.parse::<usize>().ok());
        let (Some(kind), Some(index), Some(size), 3) = (kind, index, size, fields.len()) else {
            return self.error(Some(50));
        };
        if size > kind.max_size() {
            return self.error(Some(50));
        }
        if size == 0 {
            return match self.tls.nvm.remove(&(kind, index)) {
                Some(_) => {
                    self.tls.nvm_deletes += 1;
                    ok()
                }
                // Deleting an empty slot fails (seen on Monarch 2).
                None => self.error(Some(4)),
            };
        }
        self.tls.upload = Some(Upload {
            kind,
            index,
            size,
            bytes: Vec::with_capacity(size),
            deadline: Instant::now() + self.payload_timeout,
        });
        b"\r\n> ".to_vec()
    }

    /// Takes upload bytes (CR dropped, not counted); returns what is left of `bytes` and the
    /// answer once the count is reached.
    pub(super) fn feed_upload<'a>(&mut self, bytes: &'a [u8]) -> (&'a [u8], Option<Vec<u8>>) {
        let Some(upload) = self.tls.upload.as_mut() else { return (bytes, None) };
        let mut used = 0;
        for &b in bytes {
            if upload.bytes.len() == upload.size {
                break;
            }
            used += 1;
            if b != b'\r' {
                upload.bytes.push(b);
            }
        }
        let rest = &bytes[used..];
        if upload.bytes.len() < upload.size {
            return (rest, None);
        }
        let Some(upload) = self.tls.upload.take() else { return (rest, None) };
        if self.faults.take_reboot_at("PAYLOAD") {
            // Rebooted with the PEM in hand: nothing stored, no answer but +SYSSTART.
            self.counters.errors_injected += 1;
            if let Some(shared) = self.shared.upgrade() {
                self.reboot(&shared.out);
            }
            return (rest, None);
        }
        let valid = match upload.kind {
            CredKind::Certificate => crate::tls_link::parse_certificates(&upload.bytes).is_some_and(|c| !c.is_empty()),
            CredKind::PrivateKey => crate::tls_link::parse_key(&upload.bytes).is_some(),
        };
        if !valid {
            return (rest, Some(self.error(Some(4))));
        }
        self.tls.nvm_writes += 1;
        self.tls.nvm_bytes += upload.size as u64;
        self.tls.nvm.insert((upload.kind, upload.index), upload.bytes);
        (rest, Some(ok()))
    }

    /// The upload did not complete in time: `ERROR`.
    pub(super) fn upload_expired(&mut self) -> bool {
        let expired = self.tls.upload.as_ref().is_some_and(|u| Instant::now() >= u.deadline);
        if expired {
            self.tls.upload = None;
        }
        expired
    }

    /// `AT+SQNSPCFG=<sp>,<version>,<ciphers>,<level>,<ca>,<cert>,<key>,<psk>[,...]`.
    pub(super) fn security_profile(&mut self, args: Option<&str>) -> Vec<u8> {
        let fields: Vec<&str> = args.map(split_fields).unwrap_or_default();
        if !(7..=12).contains(&fields.len()) {
            return self.error(Some(50));
        }
        let sp = fields[0].parse::<usize>().ok().filter(|s| (1..=6).contains(s));
        let version = fields[1].parse::<u8>().ok().filter(|v| *v <= 3 || *v == 255);
        let ciphers = parse_ciphers(fields[2]);
        let level = fields[3].parse::<u8>().ok().filter(|l| *l <= 7);
        let ids = (parse_index(fields.get(4)), parse_index(fields.get(5)), parse_index(fields.get(6)));
        let (Some(sp), Some(version), Some(ciphers), Some(level), (Ok(ca), Ok(cert), Ok(key))) =
            (sp, version, ciphers, level, ids)
        else {
            return self.error(Some(50));
        };
        self.tls.profile_writes += 1;
        self.tls.profiles[sp - 1] = Some(Profile { version, ciphers, level, ca, cert, key });
        ok()
    }

    /// `AT+SQNSSCFG=<connId>,<enable>,<spId>`.
    pub(super) fn secure_config(&mut self, args: Option<&str>) -> Vec<u8> {
        let values: Option<Vec<usize>> = args.and_then(|a| a.split(',').map(|v| v.trim().parse().ok()).collect());
        let Some(v) = values.filter(|v| v.len() == 3) else { return self.error(Some(50)) };
        if !(1..=6).contains(&v[0]) || v[1] > 1 || !(1..=6).contains(&v[2]) {
            return self.error(Some(50));
        }
        if self.slots[v[0] - 1].socket.is_some() {
            return self.error(Some(3));
        }
        self.tls.secure[v[0] - 1] = (v[1] == 1).then_some(v[2] as u8);
        ok()
    }

    /// `AT+CCLK?`: `+CCLK: "yy/MM/dd,hh:mm:ss+zz"` (quarter hours), UTC from the host, or the
    /// 1970 epoch when the clock is unset.
    pub(super) fn clock(&mut self) -> Vec<u8> {
        let secs = if self.tls.clock_unset {
            0
        } else {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
        };
        let (days, rest) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = civil_from_days(days as i64);
        super::info(&[format!(
            "+CCLK: \"{:02}/{:02}/{:02},{:02}:{:02}:{:02}+00\"",
            y % 100,
            m,
            d,
            rest / 3600,
            rest % 3600 / 60,
            rest % 60
        )])
    }

    /// The dial's address field: an IP literal, or a name resolved through the DNS server of
    /// the control line `dns` (AAAA first), `localhost` as `::1`.
    pub(super) fn resolve_dial_host(&mut self, host: &str) -> Option<IpAddr> {
        if let Ok(ip) = IpAddr::from_str(host) {
            return Some(ip);
        }
        if host.eq_ignore_ascii_case("localhost") {
            return IpAddr::from_str("::1").ok();
        }
        let server = self.dns?;
        for v6 in [true, false] {
            if let Some(ip) = crate::dns::lookup(server, host, v6).and_then(|a| a.first().copied()) {
                return Some(ip);
            }
        }
        None
    }

    /// A secure TCP dial: TCP, then the TLS handshake with the profile's credentials.
    pub(super) fn dial_tls(&mut self, index: usize, peer: SocketAddr, name: &str, sp: u8, token: u64) -> Vec<u8> {
        self.counters.tcp_dials += 1;
        let Some(profile) = self.tls.profiles.get(usize::from(sp) - 1).cloned().flatten() else {
            return self.error(Some(4));
        };
        let material = crate::tls_link::Material {
            ca: profile.ca.and_then(|i| self.tls.nvm.get(&(CredKind::Certificate, i)).cloned()),
            cert: profile.cert.and_then(|i| self.tls.nvm.get(&(CredKind::Certificate, i)).cloned()),
            key: profile.key.and_then(|i| self.tls.nvm.get(&(CredKind::PrivateKey, i)).cloned()),
        };
        // A profile naming an empty slot is refused before anything goes out.
        if (profile.ca.is_some() && material.ca.is_none())
            || (profile.cert.is_some() && material.cert.is_none())
            || (profile.key.is_some() && material.key.is_none())
            || profile.cert.is_some() != profile.key.is_some()
        {
            self.tls.last_error = "profile names an empty credential slot".into();
            self.tls.handshake_failures += 1;
            return self.error(Some(4));
        }
        let conn_to_ds = match self.slots[index].cfg[3] {
            0 => 600,
            ds => ds,
        };
        let timeout = Duration::from_millis(u64::from(conn_to_ds) * 100).min(Duration::from_secs(5));
        let dial = crate::tls_link::dial(
            peer,
            name,
            &profile,
            &material,
            self.tls.clock_unset,
            timeout,
            (index + 1) as u8,
            token,
            self.shared.clone(),
        );
        match dial {
            Ok(socket) => {
                self.tls.handshakes += 1;
                let slot = &mut self.slots[index];
                slot.socket = Some(socket);
                slot.sent = 0;
                slot.received = 0;
                ok()
            }
            Err(reason) => {
                self.tls.handshake_failures += 1;
                self.tls.last_error = reason;
                b"\r\nNO CARRIER\r\n".to_vec()
            }
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's method).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(super::civil_from_days(11_016), (2000, 2, 29));
    }
}
