//! Name resolution: first the modem's own resolver (`AT+SQNDNSLKUP`), then, if it cannot
//! answer, our own DNS query over a borrowed modem UDP socket to a configured server, tried a
//! few times. The borrowed slot is closed and freed however the lookup ends.

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
    pub(super) kind: RecordType,
    pub(super) stage: Stage,
    pub(super) server: Option<SocketAddr>,
    /// The slot borrowed for the fallback query.
    pub(super) conn: Option<ConnId>,
    pub(super) attempts: u8,
    pub(super) prompted: bool,
    pub(super) sent: bool,
    pub(super) got: bool,
    pub(super) read_since_pause: bool,
    pub(super) pause_ms: u32,
    pub(super) wait_until: u32,
    /// The modem's resolver answered with an error or no address of this kind (or is not
    /// to be asked: an own query only).
    pub(super) modem_failed: bool,
    /// The modem's resolver is to be asked first (false: our own query only).
    pub(super) ask_modem: bool,
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
        self.begin_lookup(host, kind, server, query_id, true)
    }

    /// Starts our own DNS query for `host` to `server`, without asking the modem's resolver
    /// (the caller already did, for every family it needs).
    pub fn begin_resolve_own(&mut self, host: &[u8], kind: RecordType, server: SocketAddr, query_id: u16) -> Result<(), Error> {
        self.begin_lookup(host, kind, Some(server), query_id, false)
    }

    fn begin_lookup(
        &mut self,
        host: &[u8],
        kind: RecordType,
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
        self.start(Op::Resolve(Resolve {
            kind,
            stage: Stage::Modem,
            server,
            conn: None,
            attempts: 0,
            prompted: false,
            sent: false,
            got: false,
            read_since_pause: false,
            pause_ms: 0,
            wait_until: 0,
            modem_failed: false,
            ask_modem,
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
                if !self.numeric_errors {
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
        if let Some(action) = self.dial_step(conn, server) {
            return Next::Act(action);
        }
        if r.got {
            let verdict = decode_answer(&self.query, &self.datagram, r.kind);
            let r = self.resolve_mut();
            match verdict {
                Ok(found) => {
                    self.addresses = found;
                    self.answer_ttl_s = crate::dns::answer_ttl(&self.datagram);
                    let count = self.addresses.len();
                    return self.close_resolver(Ok(count));
                }
                // A late answer to an earlier query (the socket only hears the server): keep
                // waiting for ours.
                Err(DnsError::NotOurs) => {
                    if let Some(r) = r {
                        r.got = false;
                    }
                }
                // The server answered, uselessly: the name has no address we can use.
                Err(
                    DnsError::NoSuchName
                    | DnsError::NoAddress
                    | DnsError::ServerFailure(_)
                    | DnsError::Truncated
                    | DnsError::Malformed
                    | DnsError::Loop,
                ) => {
                    return self.close_resolver(Err(Error::NameNotFound));
                }
            }
            return match self.resolve_mut().copied() {
                Some(r) => self.plan_fallback(r, now_ms),
                None => Next::Finish(Err(Error::InvalidArgument)),
            };
        }
        if !r.sent {
            return Next::Act(match (self.limits.combined_send, r.prompted) {
                (true, _) => Action::SendCombined(conn, self.query.len() as u16),
                (false, false) => Action::SendExt(conn, self.query.len() as u16),
                (false, true) => Action::Payload(conn),
            });
        }
        if !r.read_since_pause {
            return Next::Act(Action::Receive(conn));
        }
        let left = r.wait_until.wrapping_sub(now_ms);
        if left == 0 || left > u32::MAX / 2 {
            // This query went unanswered: send it again, or give up.
            if r.attempts >= super::resolve::QUERY_ATTEMPTS {
                return self.close_resolver(Err(Error::TimedOut));
            }
            if let Some(r) = self.resolve_mut() {
                r.sent = false;
                r.prompted = false;
                r.pause_ms = 0;
            }
            return Next::Act(if self.limits.combined_send {
                Action::SendCombined(conn, self.query.len() as u16)
            } else {
                Action::SendExt(conn, self.query.len() as u16)
            });
        }
        let pause = if r.pause_ms == 0 { FIRST_POLL_PAUSE_MS } else { (r.pause_ms * 2).min(MAX_POLL_PAUSE_MS) };
        if let Some(r) = self.resolve_mut() {
            r.pause_ms = pause;
            r.read_since_pause = false;
        }
        Next::Act(Action::Pause(pause.min(left)))
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

    /// Records that a query went out: its answer is awaited until `now + QUERY_WAIT_MS`.
    pub(super) fn note_query_sent(&mut self, now_ms: u32) {
        if let Some(r) = self.resolve_mut() {
            r.sent = true;
            r.attempts = r.attempts.saturating_add(1);
            r.read_since_pause = false;
            r.wait_until = now_ms.wrapping_add(QUERY_WAIT_MS);
        }
    }
}
