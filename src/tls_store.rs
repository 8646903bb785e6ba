//! The fingerprint store: what the modem's credential slots hold, as far as the module knows,
//! and the rules for using it. Pure and allocation-free; the shim only reads and writes the
//! file and calls these.
//!
//! The modem keeps certificates and private keys in non-volatile slots (`AT+SQNSNVW`); writing
//! one costs a flash write and seconds on the UART, so a credential already there is not written
//! again. What is there is remembered as a fingerprint per slot, in RAM and in a small text file.
//! The store is a cache and is never trusted over the modem:
//!
//! * a fingerprint binds the credential to its slot (SHA-256 of kind, slot number and PEM), so a
//!   line that names the wrong slot (a flipped bit, an edited file) matches nothing and the
//!   credential is written again;
//! * a line that does not parse is skipped on its own; the others still count;
//! * a slot being written is out of the file until the modem has said OK, so an exception, a
//!   reboot or a lost answer half-way leaves it unknown (never "holds the old credential");
//! * a fingerprint read from the file (`Belief::Stored`) is confirmed by the first dial that
//!   succeeds with it; when a handshake that used one fails, it is written again and the dial
//!   made once more; when the modem refuses a dial outright, everything it used is written
//!   again and the dial made once more ([`after_dial`]);
//! * a slot a wrap in progress has chosen is pinned: no other wrap evicts or reuses it until
//!   the first one is done (threads wrap at once), and eviction takes the least recently used
//!   of the unpinned slots.
//!
//! File format, one line per known slot, in any order (`\n` or `\r\n` line ends):
//! `<c|k> <slot 16..19> <last use, decimal u32> <64 lowercase hex digits>`.

use sha2::Digest;

/// The modem's credential slots this module uses (the Monarch has 0..19; 16..19 are left to
/// applications by convention in Sequans' examples).
pub const FIRST_SLOT: u8 = 16;
pub const SLOTS: usize = 4;
pub const HASH_LEN: usize = 32;
/// Longest line: kind, slot, a u32 stamp, the hash, spaces and the line feed.
pub const LINE_MAX: usize = 1 + 1 + 2 + 1 + 10 + 1 + 2 * HASH_LEN + 1;
/// Longest file the store writes.
pub const TEXT_MAX: usize = 2 * SLOTS * LINE_MAX;

/// Certificates and private keys have separate slot tables in the modem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Certificate = 0,
    PrivateKey = 1,
}

impl Kind {
    fn letter(self) -> u8 {
        match self {
            Kind::Certificate => b'c',
            Kind::PrivateKey => b'k',
        }
    }

    fn of_letter(letter: u8) -> Option<Kind> {
        match letter {
            b'c' => Some(Kind::Certificate),
            b'k' => Some(Kind::PrivateKey),
            _ => None,
        }
    }
}

/// What the store believes a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Belief {
    /// Nothing known: never written, forgotten, or a write whose outcome was not seen.
    Unknown,
    /// The file says so; no dial has confirmed it in this run.
    Stored,
    /// Written in this run with the modem's OK, or a dial with it succeeded.
    Confirmed,
    /// A wrap is writing it now; unknown until the modem answers.
    Writing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub belief: Belief,
    /// Last use, on the store's own clock (for least-recently-used eviction).
    pub stamp: u32,
    pub fingerprint: [u8; HASH_LEN],
    /// Wraps in progress that use this slot.
    pub pins: u8,
}

impl Entry {
    const EMPTY: Entry = Entry { belief: Belief::Unknown, stamp: 0, fingerprint: [0; HASH_LEN], pins: 0 };

    fn trusted(&self) -> bool {
        matches!(self.belief, Belief::Stored | Belief::Confirmed)
    }
}

/// What a wrap is to do about one credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The slot holds it: use it. `confirmed`: the modem has shown it in this run (if not, a
    /// failed dial writes it again).
    Held { slot: u8, confirmed: bool },
    /// Write it into this slot, then report the outcome with [`Store::written`].
    Write { slot: u8 },
    /// Every slot is pinned by wraps in progress.
    NoFreeSlot,
}

/// How a secure dial ended, as far as the retry rule cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialEnd {
    Connected,
    /// The handshake failed (`NO CARRIER`): a wrong or missing credential among the reasons.
    HandshakeFailed,
    /// The modem refused the dial (`ERROR`): a profile naming an empty slot among the reasons.
    Refused,
    /// Anything else (a timeout, no clock, an exception): not the credentials' fault.
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialVerdict {
    Done,
    /// Write again ([`Store::rewrite`]) the credentials only the file vouched for, dial once more.
    RewriteUnconfirmed,
    /// Write again every credential the dial used, dial once more.
    RewriteAll,
    Fail,
}

/// After a dial, in round `round` (0 first): retry once when the failure is one a wrong or
/// missing credential explains.
/// * The modem refused to dial (`ERROR`): it lacks what the profile names (a factory reset, a
///   modem swap), so every credential is written again (the engine has already forgotten the
///   profile, which is written again too).
/// * The handshake failed: only a credential the file vouched for and no dial has confirmed
///   in this run is suspect. A server that is really not trusted costs one extra dial per run
///   and no flash write once its CA is confirmed or written.
pub fn after_dial(end: DialEnd, used_unconfirmed: bool, round: u8) -> DialVerdict {
    match end {
        DialEnd::Connected => DialVerdict::Done,
        DialEnd::Refused if round == 0 => DialVerdict::RewriteAll,
        DialEnd::HandshakeFailed if used_unconfirmed && round == 0 => DialVerdict::RewriteUnconfirmed,
        _ => DialVerdict::Fail,
    }
}

/// The fingerprint of `pem` as a credential of `kind` in `slot`.
pub fn fingerprint(kind: Kind, slot: u8, pem: &[u8]) -> [u8; HASH_LEN] {
    let mut hash = sha2::Sha256::new();
    hash.update([kind as u8, slot]);
    hash.update(pem);
    hash.finalize().into()
}

/// What parsing a file found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseReport {
    pub loaded: u8,
    pub skipped: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Store {
    entries: [[Entry; SLOTS]; 2],
    clock: u32,
}

impl Default for Store {
    fn default() -> Store {
        Store::new()
    }
}

fn slot_index(slot: u8) -> Option<usize> {
    let i = usize::from(slot.checked_sub(FIRST_SLOT)?);
    (i < SLOTS).then_some(i)
}

fn slot_number(index: usize) -> u8 {
    // SLOTS is 4: every index fits.
    FIRST_SLOT + (index as u8)
}

/// One line of the file: `(kind, slot, stamp, fingerprint)`, or `None` if it is not one.
pub fn parse_line(line: &[u8]) -> Option<(Kind, u8, u32, [u8; HASH_LEN])> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut fields = line.split(|&b| b == b' ');
    let kind = match fields.next()? {
        [letter] => Kind::of_letter(*letter)?,
        _ => return None,
    };
    let slot = decimal(fields.next()?, 2)?;
    let slot = u8::try_from(slot).ok().filter(|s| slot_index(*s).is_some())?;
    let stamp = u32::try_from(decimal(fields.next()?, 10)?).ok()?;
    let hex = fields.next()?;
    if fields.next().is_some() || hex.len() != 2 * HASH_LEN {
        return None;
    }
    let mut fingerprint = [0u8; HASH_LEN];
    for (byte, pair) in fingerprint.iter_mut().zip(hex.chunks_exact(2)) {
        let (hi, lo) = match pair {
            [hi, lo] => (hex_value(*hi)?, hex_value(*lo)?),
            _ => return None,
        };
        *byte = (hi << 4) | lo;
    }
    Some((kind, slot, stamp, fingerprint))
}

fn decimal(text: &[u8], max_digits: usize) -> Option<u64> {
    if text.is_empty() || text.len() > max_digits {
        return None;
    }
    text.iter().try_fold(0u64, |n, &b| b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0')))
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl Store {
    pub const fn new() -> Store {
        Store { entries: [[Entry::EMPTY; SLOTS]; 2], clock: 0 }
    }

    pub fn entry(&self, kind: Kind, slot: u8) -> Option<&Entry> {
        self.entries.get(kind as usize)?.get(slot_index(slot)?)
    }

    fn entry_mut(&mut self, kind: Kind, slot: u8) -> Option<&mut Entry> {
        self.entries.get_mut(kind as usize)?.get_mut(slot_index(slot)?)
    }

    fn tick(&mut self) -> u32 {
        self.clock = self.clock.saturating_add(1);
        self.clock
    }

    /// Reads the file's text: every slot no wrap is using takes what its line says (or becomes
    /// unknown without one). Lines that do not parse are skipped one by one; of two lines for
    /// one slot, the later use wins.
    pub fn load(&mut self, text: &[u8]) -> ParseReport {
        let mut report = ParseReport::default();
        for table in self.entries.iter_mut() {
            for e in table.iter_mut().filter(|e| e.pins == 0 && e.belief != Belief::Writing) {
                e.belief = Belief::Unknown;
            }
        }
        for line in text.split(|&b| b == b'\n') {
            if line.iter().all(|&b| b == b'\r' || b == b' ') {
                continue;
            }
            let Some((kind, slot, stamp, fingerprint)) = parse_line(line) else {
                report.skipped = report.skipped.saturating_add(1);
                continue;
            };
            self.clock = self.clock.max(stamp);
            let Some(e) = self.entry_mut(kind, slot) else { continue };
            if e.pins > 0 || e.belief == Belief::Writing || (e.belief == Belief::Stored && e.stamp > stamp) {
                continue;
            }
            if e.belief == Belief::Unknown {
                report.loaded = report.loaded.saturating_add(1);
            }
            *e = Entry { belief: Belief::Stored, stamp, fingerprint, pins: 0 };
        }
        report
    }

    /// The file's text for what the store trusts, into `out` (at least [`TEXT_MAX`] bytes
    /// suffice): the length written, or `None` if `out` is too small.
    pub fn save(&self, out: &mut [u8]) -> Option<usize> {
        let mut at = 0;
        for (k, table) in self.entries.iter().enumerate() {
            let kind = if k == 0 { Kind::Certificate } else { Kind::PrivateKey };
            for (i, e) in table.iter().enumerate().filter(|(_, e)| e.trusted()) {
                at += write_line(out.get_mut(at..)?, kind, slot_number(i), e)?;
            }
        }
        Some(at)
    }

    /// Nothing is known to be in the modem any more (a modem factory reset or swap). Slots a
    /// wrap is writing stay so until it reports.
    pub fn forget(&mut self) {
        for table in self.entries.iter_mut() {
            for e in table.iter_mut().filter(|e| e.belief != Belief::Writing) {
                e.belief = Belief::Unknown;
            }
        }
    }

    /// Chooses the slot for `pem` and pins it for the caller's wrap, which must later
    /// [`Store::release`] it. `avoid`: a slot the same wrap already uses for another credential
    /// of this kind.
    pub fn claim(&mut self, kind: Kind, pem: &[u8], avoid: Option<u8>) -> Claim {
        for i in 0..SLOTS {
            let slot = slot_number(i);
            let Some(e) = self.entry(kind, slot) else { continue };
            if Some(slot) != avoid && e.trusted() && e.fingerprint == fingerprint(kind, slot, pem) {
                let stamp = self.tick();
                let Some(e) = self.entry_mut(kind, slot) else { continue };
                e.pins = e.pins.saturating_add(1);
                e.stamp = stamp;
                return Claim::Held { slot, confirmed: e.belief == Belief::Confirmed };
            }
        }
        let Some(slot) = self.victim(kind, avoid) else { return Claim::NoFreeSlot };
        let stamp = self.tick();
        let fingerprint = fingerprint(kind, slot, pem);
        if let Some(e) = self.entry_mut(kind, slot) {
            *e = Entry { belief: Belief::Writing, stamp, fingerprint, pins: 1 };
        }
        Claim::Write { slot }
    }

    /// The slot to write: an unknown one if any, else the least recently used; never one a wrap
    /// in progress uses.
    pub fn victim(&self, kind: Kind, avoid: Option<u8>) -> Option<u8> {
        let table = self.entries.get(kind as usize)?;
        let free = |(i, e): &(usize, &Entry)| e.pins == 0 && e.belief != Belief::Writing && Some(slot_number(*i)) != avoid;
        let candidates = table.iter().enumerate().filter(free);
        let unknown = candidates.clone().find(|(_, e)| e.belief == Belief::Unknown);
        let (i, _) = unknown.or_else(|| candidates.min_by_key(|(_, e)| e.stamp))?;
        Some(slot_number(i))
    }

    /// The outcome of writing the slot a claim chose: the modem's OK, or anything else (then
    /// the slot is unknown).
    pub fn written(&mut self, kind: Kind, slot: u8, ok: bool) {
        if let Some(e) = self.entry_mut(kind, slot) {
            if e.belief == Belief::Writing {
                e.belief = if ok { Belief::Confirmed } else { Belief::Unknown };
            }
        }
    }

    /// Before writing again a credential the caller's wrap holds (after [`after_dial`] said so):
    /// the slot is being written. False if the caller holds no trusted credential there.
    pub fn rewrite(&mut self, kind: Kind, slot: u8) -> bool {
        match self.entry_mut(kind, slot) {
            Some(e) if e.trusted() && e.pins > 0 => {
                e.belief = Belief::Writing;
                true
            }
            _ => false,
        }
    }

    /// A dial with this slot's credential succeeded: the modem holds what the store says.
    pub fn confirm(&mut self, kind: Kind, slot: u8) {
        if let Some(e) = self.entry_mut(kind, slot) {
            if e.belief == Belief::Stored {
                e.belief = Belief::Confirmed;
            }
        }
    }

    /// The caller's wrap is done with the slot. A write it never reported is unknown.
    pub fn release(&mut self, kind: Kind, slot: u8) {
        if let Some(e) = self.entry_mut(kind, slot) {
            e.pins = e.pins.saturating_sub(1);
            if e.belief == Belief::Writing {
                e.belief = Belief::Unknown;
            }
        }
    }
}

fn write_line(out: &mut [u8], kind: Kind, slot: u8, e: &Entry) -> Option<usize> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut line = heapless::Vec::<u8, LINE_MAX>::new();
    let mut digits = [0u8; 10];
    let mut n = e.stamp;
    let mut count = 0;
    loop {
        *digits.get_mut(count)? = b'0' + (n % 10) as u8;
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    line.extend_from_slice(&[kind.letter(), b' ', b'0' + slot / 10, b'0' + slot % 10, b' ']).ok()?;
    for d in digits.get(..count)?.iter().rev() {
        line.push(*d).ok()?;
    }
    line.push(b' ').ok()?;
    for b in e.fingerprint {
        line.push(*HEX.get(usize::from(b >> 4))?).ok()?;
        line.push(*HEX.get(usize::from(b & 15))?).ok()?;
    }
    line.push(b'\n').ok()?;
    out.get_mut(..line.len())?.copy_from_slice(&line);
    Some(line.len())
}

#[cfg(test)]
mod tests;
