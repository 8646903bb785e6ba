//! Name resolution: first the modem's own resolver (`AT+SQNDNSLKUP`), then, if it cannot
//! answer, our own DNS query over a borrowed modem UDP socket to a configured server, tried a
//! few times. The borrowed slot is closed and freed however the lookup ends.
//!
//! Both families at once (`begin_resolve_own_both`, getaddrinfo with af=0) share one borrowed
//! socket: the AAAA and the A query go back to back, then the answers are read as they come,
//! in whichever order. A round that goes unanswered sends again only the queries still
//! unanswered. The two queries differ only in their ID (the A query's is the AAAA query's
//! plus one) and their type, so one query buffer serves both.

use core::net::SocketAddr;

use super::plan::Next;
use super::{Action, Engine, Op, Outcome, FIRST_POLL_PAUSE_MS, MAX_POLL_PAUSE_MS};
use crate::at::ConnId;
use crate::dns::{decode_answer, encode_query, DnsError, RecordType};
use crate::error::Error;
use crate::hostname::HostName;

/// How long one query waits for its answer before it is sent again.
pub(super) const QUERY_WAIT_MS: u32 = 2_000;
/// Queries sent before the fallback gives up.
pub(super) const QUERY_ATTEMPTS: u8 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stage {
    /// `AT+SQNDNSLKUP` not answered yet.
    Modem,
    /// Our own query through `conn`.
    Fallback,
    /// Done: close the borrowed slot, then finish with this result.
    Closing(Result<usize, Error>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Resolve {
    /// The first (or only) query's type.
    pub(super) kind: RecordType,
    /// A second query's type, sent right after the first on the same socket (both families).
    pub(super) also: Option<RecordType>,
    /// The first query's ID (the second's is one more).
    pub(super) query_id: u16,
    pub(super) stage: Stage,
    pub(super) server: Option<SocketAddr>,
    /// The slot borrowed for the fallback query.
    pub(super) conn: Option<ConnId>,
    /// Rounds of queries sent.
    pub(super) attempts: u8,
    pub(super) prompted: bool,
    /// Queries (bit 0: `kind`, bit 1: `also`) still to send in this round.
    pub(super) to_send: u8,
    /// Queries answered (with addresses or without).
    pub(super) answered: u8,
    /// Which query the payload buffer holds (0 or 1).
    pub(super) staged: u8,
    pub(super) got: bool,
    pub(super) read_since_pause: bool,
    pub(super) pause_ms: u32,
    pub(super) wait_until: u32,
    /// The modem's resolver answered with an error or no address of this kind (or is not
    /// to be asked: an own query only).
    pub(super) modem_failed: bool,
    /// The modem's resolver is to be asked first (false: our own query only).
    pub(super) ask_modem: bool,
    /// `AT+CMEE=0` was tried in this lookup (whatever its answer): not again.
    pub(super) plain_errors_asked: bool,
}

impl Engine {
    /// Starts resolving `host` to addresses of `kind`. `server` is the DNS server for the
    /// fallback (None: the modem's resolver only); `query_id` should be random.
    pub fn begin_resolve(
        &mut self,
        host: &[u8],
        kind: RecordType,
        server: Option<SocketAddr>,
        query_id: u16,
    ) -> Result<(), Error> {
        self.begin_lookup(host, kind, None, server, query_id, true)
    }

    /// Starts our own DNS query for `host` to `server`, without asking the modem's resolver
    /// (the caller already did, for every family it needs).
    pub fn begin_resolve_own(&mut self, host: &[u8], kind: RecordType, server: SocketAddr, query_id: u16) -> Result<(), Error> {
        self.begin_lookup(host, kind, None, Some(server), query_id, false)
    }

    /// Starts our own DNS queries for both families of `host` to `server` over one borrowed
    /// socket: AAAA (ID `query_id`) and A (ID `query_id + 1`) back to back. The outcome holds
    /// the IPv6 addresses first; it succeeds when either family has an address.
    pub fn begin_resolve_own_both(&mut self, host: &[u8], server: SocketAddr, query_id: u16) -> Result<(), Error> {
        self.begin_lookup(host, RecordType::Aaaa, Some(RecordType::A), Some(server), query_id, false)
    }

    fn begin_lookup(
        &mut self,
        host: &[u8],
        kind: RecordType,
        also: Option<RecordType>,
        server: Option<SocketAddr>,
        query_id: u16,
        ask_modem: bool,
    ) -> Result<(), Error> {
        self.idle()?;
        let name = HostName::parse(host).map_err(|_| Error::InvalidArgument)?;
        self.query.clear();
        // Cannot fail: MAX_MESSAGE holds any query for a valid name.
        let _ = self.query.resize(crate::dns::MAX_MESSAGE, 0);
        let len = encode_query(query_id, &name, kind, &mut self.query).ok_or(Error::InvalidArgument)?;
        self.query.truncate(len);
        self.host = Some(name);
        self.addresses.clear();
        self.answer_ttl_s = None;
        let all = if also.is_some() { 0b11 } else { 0b01 };
        self.start(Op::Resolve(Resolve {
            kind,
            also,
            query_id,
            stage: Stage::Modem,
            server,
            conn: None,
            attempts: 0,
            prompted: false,
            to_send: all,
            answered: 0,
            staged: 0,
            got: false,
            read_since_pause: false,
            pause_ms: 0,
            wait_until: 0,
            modem_failed: false,
            ask_modem,
            plain_errors_asked: false,
        }));
        Ok(())
    }

    fn resolve_mut(&mut self) -> Option<&mut Resolve> {
        match &mut self.op {
            Op::Resolve(r) => Some(r),
            _ => None,
        }
    }

    pub(super) fn plan_resolve(&mut self, r: Resolve, now_ms: u32) -> Next {
        match r.stage {
            Stage::Modem => self.plan_modem_lookup(r),
            Stage::Fallback => self.plan_fallback(r, now_ms),
            Stage::Closing(result) => match r.conn {
                Some(conn) if self.pool.slot(conn).is_some_and(|s| s.modem.dialled.is_some() || s.modem.unknown) => {
                    Next::Act(Action::Close(conn))
                }
                _ => Next::Finish(result.map(|resolved| Outcome { resolved, ..Outcome::default() })),
            },
        }
    }

    fn plan_modem_lookup(&mut self, r: Resolve) -> Next {
        if !self.addresses.is_empty() {
            return Next::Finish(Ok(Outcome { resolved: self.addresses.len(), ..Outcome::default() }));
        }
        if r.ask_modem && !r.modem_failed {
            let fits = super::plan::command_for(Action::DnsLookup(r.kind), self.limits, self.host.as_ref())
                .and_then(|c| {
                    let mut text = crate::at::command::CommandText::new();
                    c.write(&mut text).ok().map(|_| self.limits.command_fits(text.len()))
                })
                .unwrap_or(false);
            if fits {
                // Plain errors for the lookup: a family the resolver has no address for is
                // refused at once, where a +CME ERROR costs Pycom's LTE task its 1 s idle wait.
                // The next socket command turns numeric errors on again first, so every socket
                // operation still tells a reboot (plain ERROR) from a refusal (+CME ERROR).
                if !self.plain_errors && !r.plain_errors_asked {
                    return Next::Act(Action::PlainErrors);
                }
                if !self.plain_errors && !self.numeric_errors {
                    return Next::Act(Action::NumericErrors);
                }
                return Next::Act(Action::DnsLookup(r.kind));
            }
        }
        // The modem could not answer: our own query, if a server is set and it fits. A name
        // that fits neither this firmware's command length nor its datagram is "too long",
        // not "not found": the caller says so.
        let modem_skipped = r.ask_modem && !r.modem_failed; // its command did not fit
        let Some(server) = r.server else {
            return Next::Finish(Err(if modem_skipped { Error::MessageTooLong } else { Error::NameNotFound }));
        };
        if self.stage_payload_from_query().is_err() {
            let nobody_asked = modem_skipped || !r.ask_modem;
            return Next::Finish(Err(if nobody_asked { Error::MessageTooLong } else { Error::NameNotFound }));
        }
        let conn = match self.pool.open().and_then(|h| self.pool.conn(h)) {
            Ok(conn) => conn,
            Err(error) => return Next::Finish(Err(error)),
        };
        if let Some(slot) = self.pool.slot_mut(conn) {
            slot.peer = Some(server);
            // A DNS answer always holds NUL bytes: read raw, it would cost the LTE task's 1 s
            // idle wait (`ModemSocket::recv_hex_forced`).
            slot.modem.recv_hex_forced = true;
        }
        if let Some(r) = self.resolve_mut() {
            r.stage = Stage::Fallback;
            r.conn = Some(conn);
        }
        match self.resolve_mut().copied() {
            Some(r) => self.plan_fallback(r, 0),
            None => Next::Finish(Err(Error::InvalidArgument)),
        }
    }

    fn stage_payload_from_query(&mut self) -> Result<(), Error> {
        let query = self.query.clone();
        self.stage_payload(None, None, &query)?;
        if query.len() > self.limits.max_datagram() {
            return Err(Error::MessageTooLong);
        }
        Ok(())
    }

    fn plan_fallback(&mut self, r: Resolve, now_ms: u32) -> Next {
        let (Some(conn), Some(server)) = (r.conn, r.server) else {
            return Next::Finish(Err(Error::InvalidArgument));
        };
        if let Some(action) = self.dial_step_for(conn, server, false) {
            return Next::Act(action);
        }
        if r.got {
            if let Some(done) = self.take_answer(r) {
                return done;
            }
            return match self.resolve_mut().copied() {
                Some(r) => self.plan_fallback(r, now_ms),
                None => Next::Finish(Err(Error::InvalidArgument)),
            };
        }
        if r.to_send != 0 {
            let which = if r.to_send & 1 != 0 { 0 } else { 1 };
            if which != r.staged {
                self.point_query_at(r, which);
                if let Err(error) = self.stage_payload_from_query() {
                    return self.close_resolver(Err(error));
                }
                if let Some(r) = self.resolve_mut() {
                    r.staged = which;
                    r.prompted = false;
                }
            }
            let len = self.query.len() as u16;
            return Next::Act(match (self.limits.combined_send, r.prompted && which == r.staged) {
                (true, _) => Action::SendCombined(conn, len),
                (false, false) => Action::SendExt(conn, len),
                (false, true) => Action::Payload(conn),
            });
        }
        if !r.read_since_pause {
            return Next::Act(Action::Receive(conn));
        }
        let left = r.wait_until.wrapping_sub(now_ms);
        if left == 0 || left > u32::MAX / 2 {
            // This round went (partly) unanswered: send what is unanswered again, or give up
            // with what was found.
            if r.attempts >= super::resolve::QUERY_ATTEMPTS {
                let found = self.addresses.len();
                return self.close_resolver(if found > 0 { Ok(found) } else { Err(Error::TimedOut) });
            }
            if let Some(r) = self.resolve_mut() {
                r.to_send = r.all_queries() & !r.answered;
                r.prompted = false;
                r.pause_ms = 0;
            }
            return match self.resolve_mut().copied() {
                Some(r) => self.plan_fallback(r, now_ms),
                None => Next::Finish(Err(Error::InvalidArgument)),
            };
        }
        let pause = if r.pause_ms == 0 { FIRST_POLL_PAUSE_MS } else { (r.pause_ms * 2).min(MAX_POLL_PAUSE_MS) };
        if let Some(r) = self.resolve_mut() {
            r.pause_ms = pause;
            r.read_since_pause = false;
        }
        Next::Act(Action::Pause(pause.min(left)))
    }

    /// Makes the query buffer the query `which` (0: `kind`, 1: `also`): its ID and type are
    /// all that differ.
    fn point_query_at(&mut self, r: Resolve, which: u8) {
        let (id, kind) = r.query(which);
        let len = self.query.len();
        // A query is a 12-byte header and a question ending in its type and class.
        if let Some(at) = self.query.get_mut(..2) {
            at.copy_from_slice(&id.to_be_bytes());
        }
        if let Some(at) = self.query.get_mut(len.saturating_sub(4)..len.saturating_sub(2)) {
            at.copy_from_slice(&kind.code().to_be_bytes());
        }
    }

    /// Decodes the datagram just read against the queries not answered yet. Returns how the
    /// lookup ends when this was the last answer it waited for.
    fn take_answer(&mut self, r: Resolve) -> Option<Next> {
        if let Some(r) = self.resolve_mut() {
            r.got = false;
            // A datagram was waiting: the other answer may be too, so read again at once.
            r.read_since_pause = false;
        }
        for which in 0..r.query_count() {
            if r.answered & (1 << which) != 0 {
                continue;
            }
            self.point_query_at(r, which);
            let (_, kind) = r.query(which);
            let verdict = decode_answer(&self.query, &self.datagram, kind);
            // The staged payload is the query of `r.staged`: a resend must not go out under
            // another query's ID.
            self.point_query_at(r, r.staged);
            let found = match verdict {
                // A late answer to an earlier query, or to the other one: try the next.
                Err(DnsError::NotOurs) => continue,
                Ok(found) => found,
                // The server answered, uselessly: no address of this family.
                Err(
                    DnsError::NoSuchName
                    | DnsError::NoAddress
                    | DnsError::ServerFailure(_)
                    | DnsError::Truncated
                    | DnsError::Malformed
                    | DnsError::Loop,
                ) => crate::dns::Addresses::new(),
            };
            if !found.is_empty() {
                self.keep_addresses(&found);
            }
            let answered = r.answered | (1 << which);
            if let Some(r) = self.resolve_mut() {
                r.answered = answered;
            }
            if answered != r.all_queries() {
                return None;
            }
            let count = self.addresses.len();
            return Some(self.close_resolver(if count > 0 { Ok(count) } else { Err(Error::NameNotFound) }));
        }
        None
    }

    /// Adds the addresses of one answer (its TTL too): IPv6 ones before IPv4 ones, whichever
    /// answer came first, as the caller lists them.
    fn keep_addresses(&mut self, found: &[core::net::IpAddr]) {
        let ttl = crate::dns::answer_ttl(&self.datagram);
        self.answer_ttl_s = match (self.answer_ttl_s, ttl) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        for ip in found {
            if ip.is_ipv4() {
                let _ = self.addresses.push(*ip);
                continue;
            }
            // An IPv6 address goes before every IPv4 one, taking the last one's place when
            // the list is full (the A answer came first).
            if self.addresses.is_full() && self.addresses.last().is_some_and(|last| last.is_ipv4()) {
                self.addresses.pop();
            }
            let at = self.addresses.iter().position(|a| a.is_ipv4()).unwrap_or(self.addresses.len());
            let _ = self.addresses.insert(at, *ip);
        }
    }

    fn close_resolver(&mut self, result: Result<usize, Error>) -> Next {
        if let Some(r) = self.resolve_mut() {
            r.stage = Stage::Closing(result);
        }
        match self.resolve_mut().copied() {
            Some(r) => self.plan_resolve(r, 0),
            None => Next::Finish(Err(Error::InvalidArgument)),
        }
    }

    /// Frees the borrowed slot when the lookup ends; a socket left open by a failure is
    /// closed by the slot's next user.
    pub(super) fn release_resolver_slot(&mut self, r: Resolve) {
        if let Some(conn) = r.conn {
            if let Some(slot) = self.pool.slot_mut(conn) {
                if slot.modem.dialled.is_some() {
                    slot.modem.unknown = true;
                }
            }
            self.pool.release(conn);
        }
        self.host = None;
    }

    /// Records that the staged query went out; after the last of a round, the answers are
    /// awaited until `now + QUERY_WAIT_MS`.
    pub(super) fn note_query_sent(&mut self, now_ms: u32) {
        if let Some(r) = self.resolve_mut() {
            r.to_send &= !(1 << r.staged);
            r.prompted = false;
            if r.to_send == 0 {
                r.attempts = r.attempts.saturating_add(1);
                r.read_since_pause = false;
                r.wait_until = now_ms.wrapping_add(QUERY_WAIT_MS);
            }
        }
    }
}

impl Resolve {
    /// 1 or 2.
    fn query_count(&self) -> u8 {
        if self.also.is_some() { 2 } else { 1 }
    }

    /// The bits of every query.
    fn all_queries(&self) -> u8 {
        (1 << self.query_count()) - 1
    }

    /// The ID and type of query `which`.
    fn query(&self, which: u8) -> (u16, RecordType) {
        match (which, self.also) {
            (1, Some(also)) => (self.query_id.wrapping_add(1), also),
            _ => (self.query_id, self.kind),
        }
    }
}
