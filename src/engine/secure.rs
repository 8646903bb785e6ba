//! TLS in the modem: credential uploads, the security profile, and the secure dial.
//!
//! The modem does the TLS itself (tcp-tls-facts §3): credentials live in its non-volatile
//! memory (`AT+SQNSNVW`, a prompt, then exactly `<size>` bytes of PEM), a security profile
//! (`AT+SQNSPCFG`) names the verification level and the credentials, and
//! `AT+SQNSSCFG=<id>,1,<sp>` makes the connId's next TCP dial a TLS one. After that the
//! stream commands carry plaintext, so a secure stream is an ordinary stream once dialled.
//!
//! Three operations:
//! * `CredWrite` sends `AT+SQNSNVW` and ends at the prompt (or at the answer of a delete);
//! * `CredPiece` sends one piece of the PEM after the prompt. Pieces end just before a line
//!   feed, so the terminator the firmware adds to every write (a CR, which the modem does not
//!   count) falls between lines; on firmware whose terminator is CR LF the line feed itself
//!   is left to the firmware. Only the last piece waits for the modem's answer;
//! * `SecureConnect` closes what the connId holds, configures it, writes the profile when it
//!   differs from the one written last, sets `AT+SQNSSCFG` and dials (by name when the server's
//!   name is to be checked or sent).
//!
//! Plain dials send `AT+SQNSSCFG=<id>,0,<sp>` first on a connId that was made secure, since
//! whether the flag outlives a dial is not known.

use core::net::SocketAddr;

use super::plan::Next;
use super::{Action, Engine, Op, Outcome, PAYLOAD_TEXT_CAP};
use crate::at::{ConnId, Final, CONN_IDS};
use crate::error::Error;
use crate::hostname::HostName;
use crate::socket::{Dialled, Handle, SlotKind, StreamLife};

/// Largest certificate file and private key the modem stores (Monarch manual; LR5 unknown).
pub const MAX_CERTIFICATE: usize = 8 * 1024;
pub const MAX_PRIVATE_KEY: usize = 2 * 1024;
/// How long a piece before the last waits for an answer that should not come.
const PIECE_WAIT_MS: u32 = 20;
/// The last piece: the modem checks the PEM and writes flash before it answers.
const LAST_PIECE_WAIT_MS: u32 = 20_000;
/// Security profile version: 2 gives TLS 1.2 on both Monarch generations.
const TLS_VERSION: u8 = 2;
/// Spellings tried for `AT+SQNSPCFG` until one is accepted: the empty cipher list quoted or
/// bare, then the Monarch 2 meaning of the level (bit 0 = CA and dates, bit 1 unused).
const DIALECTS: u8 = 4;

/// certValidLevel, LR5 reading: bit 0 chain to the CA, bit 1 dates, bit 2 host name.
pub const LEVEL_NONE: u8 = 0;
pub const LEVEL_CA_AND_DATES: u8 = 3;
pub const LEVEL_CA_DATES_AND_NAME: u8 = 7;

/// What a secure stream asks of the modem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecureParams {
    /// LR5 certValidLevel: `LEVEL_NONE`, `LEVEL_CA_AND_DATES` or `LEVEL_CA_DATES_AND_NAME`.
    pub level: u8,
    /// Certificate slot of the CA (trust root), client certificate and private-key slot.
    pub ca: Option<u8>,
    pub cert: Option<u8>,
    pub key: Option<u8>,
}

/// One `AT+SQNSPCFG` as sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileCmd {
    pub sp: u8,
    pub bare_ciphers: bool,
    pub level: u8,
    pub ca: Option<u8>,
    pub cert: Option<u8>,
    pub key: Option<u8>,
}

impl ProfileCmd {
    pub fn version(&self) -> u8 {
        TLS_VERSION
    }
}

/// A secure dial in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecureConnect {
    conn: ConnId,
    peer: SocketAddr,
    by_name: bool,
    params: SecureParams,
    profile_done: bool,
    secured: bool,
    dialled: bool,
    closes: u8,
    clock: ClockCheck,
}

/// The modem clock as read before a dial that checks certificate dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClockCheck {
    NotRead,
    /// Set, or unreadable (then the modem decides).
    Usable,
    Unset,
}

/// Years before this mean the network has not set the modem's clock (it starts at 1970).
const FIRST_PLAUSIBLE_YEAR: u32 = 2020;

/// The year of `+CCLK: "yy/MM/dd,hh:mm:ss±zz"` (the text after the name), if it reads as one.
pub fn clock_year(text: &[u8]) -> Option<u32> {
    let text = text.strip_prefix(b"\"").unwrap_or(text);
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(2..=4).contains(&digits) || text.get(digits) != Some(&b'/') {
        return None;
    }
    let value = text.get(..digits)?.iter().fold(0u32, |n, &b| n * 10 + u32::from(b - b'0'));
    Some(match (digits, value) {
        (4, y) => y,
        (_, y) if y >= 70 => 1900 + y,
        (_, y) => 2000 + y,
    })
}

/// What the engine believes of the modem's TLS settings. The rule: a belief is only as good as
/// the last answer seen. After a lost, late or unexpected answer the setting is unknown, and
/// unknown is never "done":
/// * a profile whose `AT+SQNSPCFG` went unanswered is forgotten, so the next secure dial on
///   that spId writes it again (never skipped on a cached copy);
/// * a connId whose `AT+SQNSSCFG` went unanswered (or was refused) counts as perhaps secure, so
///   the next plain dial on it turns TLS off first;
/// * an upload (`AT+SQNSNVW`) abandoned after its command left (prompt seen or not) counts as
///   still waiting for every byte not known to have arrived, and the next operation, whatever
///   it is, first writes that many filler bytes (`UploadFill`);
/// * which credential a slot holds is the store's business (`crate::tls_store`), which hears
///   of every write's outcome from the shim.
#[derive(Clone, Copy, Debug, Default)]
pub struct SecureState {
    /// The profile last written to each spId (one per connId: sp = connId); `None`: unknown.
    profiles: [Option<ProfileCmd>; CONN_IDS],
    /// The `AT+SQNSPCFG` spelling the modem accepted.
    dialect: u8,
    /// connIds whose TLS flag was last set to 1, or perhaps (an answer lost or refused).
    secured: u8,
    /// An upload the modem may still be counting bytes of.
    pub(super) upload: Option<UploadLeft>,
}

/// The bytes an abandoned upload may still be waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadLeft {
    /// Counted bytes not known to have reached the modem.
    pub remaining: u16,
    /// The transport ends every write with CR LF, and the modem counts the LF.
    pub lf_terminator: bool,
}

impl SecureState {
    pub const fn new() -> SecureState {
        SecureState { profiles: [None; CONN_IDS], dialect: 0, secured: 0, upload: None }
    }
}

/// The filler write that ends an abandoned upload: `(dashes, last)`, for a modem still counting
/// `left.remaining` bytes and writes of at most `max` bytes. `None` when nothing is owed.
pub fn upload_fill(left: UploadLeft, max: u16) -> Option<(u16, bool)> {
    let terminator = u16::from(left.lf_terminator);
    if left.remaining == 0 || max == 0 {
        return None;
    }
    if left.remaining <= max.saturating_add(terminator) {
        Some((left.remaining - terminator.min(left.remaining), true))
    } else {
        Some((max, false))
    }
}

/// The level in the spelling of `dialect`.
fn level_for(level: u8, dialect: u8) -> u8 {
    if dialect < 2 {
        return level;
    }
    match level {
        LEVEL_NONE => 0,
        LEVEL_CA_AND_DATES => 1,
        _ => 5,
    }
}

/// Whether `pem` is something the modem could take: ASCII text with LF line ends, a PEM
/// block, within the size limit of its kind.
pub fn check_pem(pem: &[u8], private_key: bool) -> Result<u16, Error> {
    let max = if private_key { MAX_PRIVATE_KEY } else { MAX_CERTIFICATE };
    if pem.is_empty() || pem.len() > max {
        return Err(Error::MessageTooLong);
    }
    let text_only = pem.iter().all(|&b| b == b'\n' || (0x20..0x7f).contains(&b));
    if !text_only || !pem.starts_with(b"-----BEGIN ") || !pem.ends_with(b"\n") {
        return Err(Error::InvalidArgument);
    }
    u16::try_from(pem.len()).map_err(|_| Error::MessageTooLong)
}

/// The next piece of `rest` for a write of at most `max` bytes: `(piece_len, taken)`, where
/// the piece is `rest[..piece_len]` and `taken` bytes of `rest` are used up. With
/// `lf_terminator` the firmware's CR LF supplies each piece's line feed.
pub fn next_piece(rest: &[u8], max: usize, lf_terminator: bool) -> Result<(usize, usize), Error> {
    if lf_terminator {
        // The piece goes without its final LF, which the firmware sends.
        let body = rest.strip_suffix(b"\n").unwrap_or(rest);
        if body.len() <= max {
            return Ok((body.len(), rest.len()));
        }
        let window = rest.get(..=max).ok_or(Error::InvalidArgument)?;
        let lf = window.iter().rposition(|&b| b == b'\n').ok_or(Error::MessageTooLong)?;
        return Ok((lf, lf + 1));
    }
    if rest.len() <= max {
        return Ok((rest.len(), rest.len()));
    }
    // End just before a line feed; the next piece starts with it.
    let window = rest.get(1..=max).ok_or(Error::InvalidArgument)?;
    let lf = window.iter().rposition(|&b| b == b'\n').ok_or(Error::MessageTooLong)? + 1;
    Ok((lf, lf))
}

impl Engine {
    /// Starts `AT+SQNSNVW`: a credential of `size` bytes into `index`, or a delete (size 0).
    /// Ends at the prompt; the PEM follows with [`Engine::begin_cred_piece`].
    pub fn begin_cred_write(&mut self, private_key: bool, index: u8, size: u16) -> Result<(), Error> {
        self.begin_cred_upload(private_key, index, size, false)
    }

    /// [`Engine::begin_cred_write`] on a transport that ends writes with CR LF
    /// (`lf_terminator`: the modem counts the LF), which an abandoned upload's filler must know.
    pub fn begin_cred_upload(&mut self, private_key: bool, index: u8, size: u16, lf_terminator: bool) -> Result<(), Error> {
        self.idle()?;
        let max = if private_key { MAX_PRIVATE_KEY } else { MAX_CERTIFICATE };
        if index > 19 || usize::from(size) > max {
            return Err(Error::InvalidArgument);
        }
        self.start(Op::CredWrite { private_key, index, size, lf_terminator, done: false });
        Ok(())
    }

    /// Whether `pem` can be written in pieces on this transport: every line must fit one write.
    /// Checked before `AT+SQNSNVW`, so a credential that cannot go is refused before the prompt.
    pub fn check_cred_pieces(&self, pem: &[u8], lf_terminator: bool) -> Result<(), Error> {
        let max = self.piece_max();
        let mut rest = pem;
        while !rest.is_empty() {
            let (_, taken) = next_piece(rest, max, lf_terminator)?;
            if taken == 0 {
                return Err(Error::MessageTooLong);
            }
            rest = rest.get(taken..).ok_or(Error::InvalidArgument)?;
        }
        Ok(())
    }

    fn piece_max(&self) -> usize {
        self.limits.max_command_len.map_or(PAYLOAD_TEXT_CAP, usize::from).min(PAYLOAD_TEXT_CAP)
    }

    /// Forgets every profile written (after a modem factory reset): each is written again.
    pub fn forget_security_profiles(&mut self) {
        self.secure.profiles = [None; CONN_IDS];
    }

    /// Starts writing the next piece of `rest` (what is left of the PEM after the prompt);
    /// returns how much of `rest` it uses up. The piece that uses up `rest` is the last and
    /// waits for the modem's verdict.
    pub fn begin_cred_piece(&mut self, rest: &[u8], lf_terminator: bool) -> Result<usize, Error> {
        self.idle()?;
        let (len, taken) = next_piece(rest, self.piece_max(), lf_terminator)?;
        let piece = rest.get(..len).ok_or(Error::InvalidArgument)?;
        let counted = u16::try_from(taken).map_err(|_| Error::MessageTooLong)?;
        self.payload.clear();
        self.payload.extend_from_slice(piece).map_err(|_| Error::MessageTooLong)?;
        let last = taken == rest.len();
        self.start(Op::CredPiece { last, sent: false, counted });
        Ok(taken)
    }

    /// Starts re-dialling the stream `handle` with TLS to `peer` (by `host` when given: the
    /// modem resolves it, sends it and checks it where the level says so).
    pub fn begin_secure_connect(&mut self, handle: Handle, peer: SocketAddr, host: Option<&[u8]>, params: SecureParams) -> Result<(), Error> {
        self.idle()?;
        let conn = self.pool.conn(handle)?;
        let slot = self.pool.slot(conn).ok_or(Error::BadHandle)?;
        if slot.kind != SlotKind::Stream {
            return Err(Error::WrongKind);
        }
        if !matches!(params.level, LEVEL_NONE | LEVEL_CA_AND_DATES | LEVEL_CA_DATES_AND_NAME) {
            return Err(Error::InvalidArgument);
        }
        let by_name = match host {
            Some(name) => {
                self.host = Some(HostName::parse(name).map_err(|_| Error::InvalidArgument)?);
                true
            }
            None => false,
        };
        if let Some(slot) = self.pool.slot_mut(conn) {
            // Whatever the plain connection was, the TLS one replaces it.
            slot.life = StreamLife::Fresh;
            slot.buffered_hint = 0;
        }
        self.start(Op::SecureConnect(SecureConnect {
            conn,
            peer,
            by_name,
            params,
            profile_done: false,
            secured: false,
            dialled: false,
            closes: 0,
            clock: ClockCheck::NotRead,
        }));
        Ok(())
    }

    /// The peer a connected stream was dialled to.
    pub fn stream_peer(&self, handle: Handle) -> Result<SocketAddr, Error> {
        let conn = self.pool.conn(handle)?;
        let slot = self.pool.slot(conn).ok_or(Error::BadHandle)?;
        match (slot.kind, slot.life, slot.modem.dialled) {
            (SlotKind::Stream, StreamLife::Open, Some(d)) => Ok(d.peer),
            (SlotKind::Stream, _, _) => Err(Error::NotConnected),
            _ => Err(Error::WrongKind),
        }
    }

    /// Before a plain dial on `conn`: turn TLS off if it was last turned on.
    pub(super) fn insecure_step(&self, conn: ConnId) -> Option<Action> {
        (self.secure.secured & (1 << conn.index()) != 0).then_some(Action::SecureConfig(conn, false))
    }

    pub(super) fn plan_cred_write(&mut self, private_key: bool, index: u8, size: u16, done: bool) -> Next {
        if done {
            return Next::Finish(Ok(Outcome::default()));
        }
        if !self.numeric_errors {
            return Next::Act(Action::NumericErrors);
        }
        Next::Act(Action::NvWrite(private_key, index, size))
    }

    /// The next filler write an abandoned upload is owed, before any other operation's first
    /// step (the upload's own pieces excepted).
    pub(super) fn upload_fill_step(&self) -> Option<Action> {
        // The upload's own pieces, and the write whose prompt just came, owe nothing.
        if matches!(self.op, Op::Idle | Op::CredPiece { .. } | Op::CredWrite { done: true, .. }) {
            return None;
        }
        let max = u16::try_from(self.piece_max().min(crate::at::command::COMMAND_CAP)).unwrap_or(u16::MAX);
        let (dashes, last) = upload_fill(self.secure.upload?, max)?;
        Some(Action::UploadFill(dashes, last))
    }

    /// What a lost (or unexpected) answer leaves the engine believing; see `SecureState`.
    pub(super) fn secure_unknown(&mut self, action: Action) {
        match action {
            Action::SecurityProfile(cmd) => {
                if let Some(entry) = self.secure.profiles.get_mut(usize::from(cmd.sp).saturating_sub(1)) {
                    *entry = None;
                }
            }
            Action::SecureConfig(conn, _) => self.secure.secured |= 1 << conn.index(),
            Action::NvWrite(_, _, size) if size > 0 => {
                let lf_terminator = matches!(self.op, Op::CredWrite { lf_terminator: true, .. });
                self.secure.upload = Some(UploadLeft { remaining: size, lf_terminator });
            }
            // A piece or a filler that may or may not have arrived: its bytes stay owed (a
            // filler longer than what the modem still waits for ends in a line it refuses).
            _ => {}
        }
    }

    pub(super) fn plan_cred_piece(&mut self, last: bool, sent: bool) -> Next {
        if sent {
            return Next::Finish(Ok(Outcome::default()));
        }
        if self.secure.upload.is_none() {
            // No prompt is pending (the modem answered, rebooted, or the upload was ended):
            // PEM text must never reach it as command lines.
            return Next::Finish(Err(Error::Modem));
        }
        if !self.numeric_errors {
            // The modem rebooted since its prompt (`AT+CMEE=1` came before it): the prompt
            // died with it, and PEM text must never reach it as command lines.
            return Next::Finish(Err(Error::Modem));
        }
        Next::Act(Action::CredPiece(last))
    }

    pub(super) fn plan_secure_connect(&mut self, s: SecureConnect) -> Next {
        if s.dialled {
            return Next::Finish(Ok(Outcome::default()));
        }
        if !self.numeric_errors {
            return Next::Act(Action::NumericErrors);
        }
        // Dates are checked against the modem's clock: refuse clearly rather than fail the
        // handshake when the network has not set it yet. Read on every such dial: a reboot
        // (whose +SYSSTART the firmware may flush away) starts the clock at 1970 again, and
        // one exchange is little beside a handshake.
        match s.clock {
            _ if s.params.level == LEVEL_NONE => {}
            ClockCheck::NotRead => return Next::Act(Action::ReadClock),
            ClockCheck::Unset => return Next::Finish(Err(Error::ClockNotSet)),
            ClockCheck::Usable => {}
        }
        let Some(slot) = self.pool.slot(s.conn) else { return Next::Finish(Err(Error::BadHandle)) };
        let modem = slot.modem;
        if modem.unknown || modem.dialled.is_some() {
            if s.closes >= 2 {
                return Next::Finish(Err(Error::Modem));
            }
            if let Op::SecureConnect(op) = &mut self.op {
                op.closes += 1;
            }
            return Next::Act(Action::Close(s.conn));
        }
        // The stream's connect timeout (8 s), so the dial's answer fits one send_at_cmd wait.
        if !modem.configured || !modem.stream_timeouts {
            return Next::Act(Action::ConfigureStream(s.conn));
        }
        if let Some(action) = self.data_modes_step(s.conn) {
            return Next::Act(action);
        }
        if !s.profile_done {
            let cmd = self.profile_cmd(s);
            if self.secure.profiles.get(s.conn.index()).copied().flatten() == Some(cmd) {
                if let Op::SecureConnect(op) = &mut self.op {
                    op.profile_done = true;
                }
            } else {
                return Next::Act(Action::SecurityProfile(cmd));
            }
        }
        if !s.secured {
            return Next::Act(Action::SecureConfig(s.conn, true));
        }
        if s.by_name {
            Next::Act(Action::DialSecureName(s.conn, s.peer.port()))
        } else {
            Next::Act(Action::DialSecure(s.conn, s.peer))
        }
    }

    fn profile_cmd(&self, s: SecureConnect) -> ProfileCmd {
        let dialect = self.secure.dialect;
        ProfileCmd {
            sp: s.conn.get(),
            bare_ciphers: dialect % 2 == 1,
            level: level_for(s.params.level, dialect),
            ca: s.params.ca,
            cert: s.params.cert,
            key: s.params.key,
        }
    }

    /// Applies a finished action of a TLS operation. `None` when it is not one.
    pub(super) fn complete_secure(&mut self, action: Action, result: Option<Final>, prompt: bool) -> Option<Result<(), Error>> {
        let ok = result == Some(Final::Ok);
        Some(match (action, self.op) {
            (Action::NvWrite(..), Op::CredWrite { size, lf_terminator, .. }) => {
                if (size > 0 && !prompt) || (size == 0 && !ok) {
                    return Some(Err(Error::Modem));
                }
                if size > 0 {
                    self.secure.upload = Some(UploadLeft { remaining: size, lf_terminator });
                }
                if let Op::CredWrite { done, .. } = &mut self.op {
                    *done = true;
                }
                Ok(())
            }
            (Action::UploadFill(..), _) => {
                // Answered: the upload is over (the filler ended it, or the modem was not
                // waiting and refused a line of dashes). Not the operation's business.
                self.secure.upload = None;
                Ok(())
            }
            (Action::CredPiece(last), _) => {
                // Any answer ends the upload. Only the last piece is answered; an answer to
                // another means the modem counted differently (or refused the bytes).
                self.secure.upload = None;
                if !ok || !last {
                    return Some(Err(Error::Modem));
                }
                if let Op::CredPiece { sent, .. } = &mut self.op {
                    *sent = true;
                }
                Ok(())
            }
            (Action::SecurityProfile(cmd), Op::SecureConnect(_)) => {
                let index = usize::from(cmd.sp).saturating_sub(1);
                if let Some(entry) = self.secure.profiles.get_mut(index) {
                    *entry = ok.then_some(cmd);
                }
                if !ok {
                    // Another spelling next time round, until each has been tried.
                    let next = self.secure.dialect + 1;
                    if next >= DIALECTS || result.is_none() {
                        self.secure.dialect = 0;
                        return Some(Err(Error::Modem));
                    }
                    self.secure.dialect = next;
                    return Some(Ok(()));
                }
                if let Op::SecureConnect(op) = &mut self.op {
                    op.profile_done = true;
                }
                Ok(())
            }
            (Action::ReadClock, Op::SecureConnect(s)) => {
                // No +CCLK line, or an error: the modem decides at the handshake.
                if s.clock == ClockCheck::NotRead {
                    if let Op::SecureConnect(op) = &mut self.op {
                        op.clock = ClockCheck::Usable;
                    }
                }
                Ok(())
            }
            (Action::SecureConfig(conn, enable), _) => {
                if !ok {
                    // Refused or garbled: perhaps secure, so a plain dial turns it off first.
                    self.secure.secured |= 1 << conn.index();
                    return Some(Err(Error::Modem));
                }
                let bit = 1u8 << conn.index();
                if enable {
                    self.secure.secured |= bit;
                } else {
                    self.secure.secured &= !bit;
                }
                if let Op::SecureConnect(op) = &mut self.op {
                    op.secured = true;
                }
                Ok(())
            }
            (Action::DialSecure(conn, _) | Action::DialSecureName(conn, _), Op::SecureConnect(s)) => match result {
                Some(Final::Ok) => {
                    if let Some(slot) = self.pool.slot_mut(conn) {
                        slot.modem.dialled = Some(Dialled { peer: s.peer, local_port: 0 });
                        slot.modem.unknown = false;
                        slot.buffered_hint = 0;
                        slot.life = StreamLife::Open;
                    }
                    if let Op::SecureConnect(op) = &mut self.op {
                        op.dialled = true;
                    }
                    Ok(())
                }
                // The handshake failed (or TCP did): the modem says no more than that.
                Some(Final::NoCarrier) => Err(Error::TlsHandshake),
                _ => {
                    // Refused before trying (a profile naming an empty slot, no network), or
                    // no answer in time: the next user closes the connId first.
                    self.mark_unknown(action);
                    if let Some(entry) = self.secure.profiles.get_mut(conn.index()) {
                        *entry = None;
                    }
                    Err(if result.is_none() { Error::TimedOut } else { Error::Modem })
                }
            },
            _ => return None,
        })
    }

    /// The year the pending `AT+CCLK?` answered (`clock_year`).
    pub(super) fn note_clock(&mut self, year: Option<u32>) {
        let unset = year.is_some_and(|y| y < FIRST_PLAUSIBLE_YEAR);
        if let Op::SecureConnect(op) = &mut self.op {
            op.clock = if unset { ClockCheck::Unset } else { ClockCheck::Usable };
        }
    }

    /// A piece before the last gets no answer: its silence is success.
    pub(super) fn piece_needs_no_answer(&mut self, action: Action) -> bool {
        match action {
            Action::CredPiece(false) => {
                let mut owed = 0;
                if let Op::CredPiece { sent, counted, .. } = &mut self.op {
                    *sent = true;
                    owed = *counted;
                }
                self.owe_less(owed);
                true
            }
            Action::UploadFill(dashes, false) => {
                let terminator = self.secure.upload.map_or(0, |u| u16::from(u.lf_terminator));
                self.owe_less(dashes.saturating_add(terminator));
                true
            }
            // The last filler went unanswered: the modem's own upload timeout ends it, if it
            // was waiting at all. Not repeated.
            Action::UploadFill(_, true) => {
                self.secure.upload = None;
                true
            }
            _ => false,
        }
    }

    fn owe_less(&mut self, counted: u16) {
        if let Some(left) = self.secure.upload.as_mut() {
            left.remaining = left.remaining.saturating_sub(counted);
            if left.remaining == 0 {
                self.secure.upload = None;
            }
        }
    }

    /// The secure dial: the TCP connect timeout, then the handshake (two network round trips
    /// and the modem's public-key work; seconds on LTE-M). On firmware whose send_at_cmd has
    /// no timeout keyword (a fixed 9.5 s wait) the answer must come within that wait.
    pub(super) const SECURE_DIAL_WAIT_MS: u32 = 30_000;

    /// How long the transport waits for the answer to a piece.
    pub(super) fn piece_wait_ms(last: bool) -> u32 {
        if last {
            LAST_PIECE_WAIT_MS
        } else {
            PIECE_WAIT_MS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_end_before_a_line_feed() {
        let pem = b"-----BEGIN X-----\nAAAA\nBBBB\n-----END X-----\n";
        // Room for everything: one piece.
        assert_eq!(next_piece(pem, 200, false), Ok((pem.len(), pem.len())));
        // Room for 24: as many whole lines as fit, the line feed left for the next piece.
        let (len, taken) = next_piece(pem, 24, false).unwrap();
        assert_eq!((&pem[..len], taken), (&b"-----BEGIN X-----\nAAAA"[..], 22));
        let rest = &pem[taken..];
        let (len, taken) = next_piece(rest, 24, false).unwrap();
        assert_eq!(&rest[..len], b"\nBBBB\n-----END X-----\n");
        assert_eq!(taken, rest.len());
        // A line longer than a piece cannot be cut at a line feed.
        assert_eq!(next_piece(b"-----BEGIN X-----\n", 10, false), Err(Error::MessageTooLong));
    }

    #[test]
    fn with_a_crlf_terminator_the_firmware_sends_the_line_feeds() {
        let pem = b"-----BEGIN X-----\nAAAA\n-----END X-----\n";
        let (len, taken) = next_piece(pem, 20, true).unwrap();
        assert_eq!((&pem[..len], taken), (&b"-----BEGIN X-----"[..], 18));
        let rest = &pem[taken..];
        let (len, taken) = next_piece(rest, 20, true).unwrap();
        assert_eq!((&rest[..len], taken), (&b"AAAA\n-----END X-----"[..], rest.len()));
    }

    #[test]
    fn pem_checks() {
        assert_eq!(check_pem(b"-----BEGIN X-----\nAA\n-----END X-----\n", false), Ok(37));
        assert_eq!(check_pem(b"-----BEGIN X-----\r\nAA\r\n", false), Err(Error::InvalidArgument));
        assert_eq!(check_pem(b"hello\n", false), Err(Error::InvalidArgument));
        assert_eq!(check_pem(b"", true), Err(Error::MessageTooLong));
        let big = [b'A'; MAX_PRIVATE_KEY + 1];
        assert_eq!(check_pem(&big, true), Err(Error::MessageTooLong));
    }

    #[test]
    fn clock_years() {
        assert_eq!(clock_year(b"\"70/01/01,00:00:12+00\""), Some(1970));
        assert_eq!(clock_year(b"\"26/12/03,00:45:00+04\""), Some(2026));
        assert_eq!(clock_year(b"\"2026/12/03,00:45:00\""), Some(2026));
        assert_eq!(clock_year(b"\"12:00\""), None);
        assert_eq!(clock_year(b""), None);
    }

    #[test]
    fn monarch2_levels() {
        assert_eq!(level_for(LEVEL_CA_DATES_AND_NAME, 0), 7);
        assert_eq!(level_for(LEVEL_CA_AND_DATES, 2), 1);
        assert_eq!(level_for(LEVEL_CA_DATES_AND_NAME, 3), 5);
        assert_eq!(level_for(LEVEL_NONE, 3), 0);
    }
}
