//! The sans-IO driver: one operation at a time, one modem exchange at a time.
//!
//! A caller starts an operation (`sendto`, `recvfrom`, ...) and then calls [`Engine::step`]
//! in a loop, each time with the modem's reply to the previous exchange, until it returns
//! [`Step::Done`]. The engine decides every exchange from what it knows of the modem
//! (`plan.rs`), and learns from every byte of every reply (`absorb.rs`): a `+SQNSRING`,
//! `+SQNSH` or `+SYSSTART` inside any answer updates the pool, whatever the pending command.

mod absorb;
mod plan;
mod resolve;
pub mod secure;
mod stream;
mod sweep;
mod udp_server;
#[cfg(test)]
mod tests;

use core::net::SocketAddr;

use crate::at::command::CommandText;
use crate::at::{ConnId, Final};
use crate::dns::{Addresses, RecordType};
use crate::error::Error;
use crate::hostname::HostName;
use crate::limits::Limits;
use crate::socket::{DataModes, Handle, Pool};
use crate::MAX_DATAGRAM;

/// Room for unparsed modem text: a 1500-byte datagram in hex (3000 characters) with its
/// `+SQNSRECV` header, final code and a few URCs around it.
pub const RX_CAP: usize = 4096;
/// Staged payload text: a 1500-byte datagram in hex.
pub const PAYLOAD_TEXT_CAP: usize = 2 * MAX_DATAGRAM;

const _: () = assert!(RX_CAP >= PAYLOAD_TEXT_CAP + 64, "a hex SQNSRECV answer must fit");

/// Most modem commands (not counting receive polls and waits) one operation may take before
/// it gives up: a send that meets a reboot re-configures and re-dials (about 8 commands);
/// three times that means the modem is not converging.
const MAX_COMMANDS_PER_OP: u16 = 24;

/// Receive polling: first pause after an empty read, and the longest pause. Doubling in
/// between keeps the first answers of a request/response exchange quick while an idle
/// socket costs at most ten reads a second.
const FIRST_POLL_PAUSE_MS: u32 = 10;
const MAX_POLL_PAUSE_MS: u32 = 100;

/// What the transport must do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExchangeKind {
    /// Write `command` as an AT command line (the firmware flushes RX and appends CR); read the answer.
    Command,
    /// Write `payload` after a `> ` prompt; read the answer.
    Payload,
    /// Write `command`, CR and `payload` in one go (direct lteppp transport); read the answer.
    CommandWithPayload,
    /// Write nothing, flush nothing; read what arrives within `timeout_ms` (`Pycom_Dummy`).
    Listen,
    /// No modem I/O: wait `timeout_ms`, then step again with an empty reply.
    Sleep,
}

/// One exchange for the transport. The slices live in the engine until the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exchange<'a> {
    pub kind: ExchangeKind,
    pub command: &'a [u8],
    pub payload: &'a [u8],
    pub timeout_ms: u32,
}

/// The result of a finished operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// `sendto`: bytes the modem accepted.
    pub sent: usize,
    /// `recvfrom`: length of the datagram in [`Engine::datagram`].
    pub received: usize,
    /// `recvfrom`: the sender.
    pub from: Option<SocketAddr>,
    /// `poll`: data is waiting.
    pub readable: bool,
    /// `resolve`: how many addresses [`Engine::addresses`] holds.
    pub resolved: usize,
}

/// What [`Engine::step`] asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<'a> {
    Exchange(Exchange<'a>),
    Done(Result<Outcome, Error>),
}

/// The operation in progress and its progress so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Idle,
    /// Module start: numeric errors, read the slot table, close what a previous run left open.
    Reset { status_read: bool, open_mask: u8 },
    Connect { conn: ConnId, peer: SocketAddr },
    /// `staged`: the payload text is in `Engine::payload`; false while a resync still needs
    /// the previous one there (the data waits in `Engine::datagram`).
    SendTo { conn: ConnId, peer: SocketAddr, len: u16, prompted: bool, sent: bool, retried: bool, staged: bool },
    /// `resume_at`: the next read is due then (a receive going on with an earlier one's poll
    /// schedule, or one that waits out its deadline), not after a pause of its own.
    Receive { conn: ConnId, deadline: Deadline, got: bool, pause_ms: u32, read_since_pause: bool, errors: u8, resume_at: Option<u32> },
    /// `select.poll`: one `AT+SQNSS` answers for every slot (`sweep.rs`); `AT+SQNSI` for
    /// this socket only where the modem did not answer the status query.
    Poll { conn: ConnId, queried: bool, status_failed: bool },
    /// `tried`: AT+SQNSH was sent once; a refusal is not repeated (the connId's next user does).
    Close { conn: ConnId, tried: bool },
    Resolve(resolve::Resolve),
    /// Streams (`stream.rs`): dial once; send one command's worth; read at most `max`.
    StreamConnect { conn: ConnId, peer: SocketAddr },
    /// `verify`: a combined send was refused, `AT+SQNSS` tells whether the socket is still
    /// there (`alive`): the refusal of the command itself may have been flushed away, and
    /// what is left is the modem's ERROR for the payload read as a command line.
    StreamSend { conn: ConnId, len: u16, prompted: bool, sent: bool, verify: bool, alive: bool },
    StreamRecv(stream::Recv),
    /// TLS (`secure.rs`): `AT+SQNSNVW` to its prompt; one piece of the PEM; a secure dial.
    /// `lf_terminator`: the transport ends every write with CR LF (the LF counts).
    CredWrite { private_key: bool, index: u8, size: u16, lf_terminator: bool, done: bool },
    /// `counted`: the bytes of the upload this piece accounts for.
    CredPiece { last: bool, sent: bool, counted: u16 },
    SecureConnect(secure::SecureConnect),
    /// Listeners: start listening; wait for a connection and accept it.
    Listen { conn: ConnId, port: u16 },
    Accept(stream::Accept),
    /// `AT+CGATT?` after a failure: is the modem attached to the network (`attached`, once read)?
    Registration { asked: bool, attached: Option<bool> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Deadline {
    NonBlocking,
    Forever,
    At(u32),
}

/// One exchange the engine issued and is waiting to hear back from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    NumericErrors,
    /// `AT+CMEE=0`, for the modem's resolver only (engine/resolve.rs).
    PlainErrors,
    Status,
    Configure(ConnId),
    /// `AT+SQNSCFG` with the TCP connect timeout.
    ConfigureStream(ConnId),
    /// `AT+SQNSCFGEXT` with these data modes.
    ConfigureExt(ConnId, DataModes),
    Dial(ConnId, SocketAddr, u16),
    DialStream(ConnId, SocketAddr),
    SendExt(ConnId, u16),
    Payload(ConnId),
    SendCombined(ConnId, u16),
    Receive(ConnId),
    /// `AT+SQNSLUDP=<conn>,1,<port>`: a UDP server's listener.
    ListenUdp(ConnId, u16),
    /// `AT+SQNSRECV=<conn>,<max>` for a stream.
    ReceiveStream(ConnId, u16),
    Listen(ConnId, u16),
    Accept(ConnId),
    Close(ConnId),
    Info(ConnId),
    DnsLookup(RecordType),
    Pause(u32),
    /// The staged payload written again after an abort that may have left the modem waiting
    /// for it (see `Engine::resync`).
    Resync,
    /// TLS (`secure.rs`): `AT+SQNSNVW` (private key?, index, size), a PEM piece (last?),
    /// `AT+SQNSPCFG`, `AT+SQNSSCFG` (on?), and the secure dial by address or by name (port).
    NvWrite(bool, u8, u16),
    CredPiece(bool),
    /// Filler for an upload abandoned half-way (`secure.rs`, `UploadLeft`): this many `-`
    /// bytes as one write (last?), so a modem still counting PEM bytes ends the upload before
    /// any command reaches it. A modem that was not waiting reads a line of dashes, never a
    /// command, and refuses it.
    UploadFill(u16, bool),
    SecurityProfile(secure::ProfileCmd),
    SecureConfig(ConnId, bool),
    DialSecure(ConnId, SocketAddr),
    DialSecureName(ConnId, u16),
    /// `AT+CCLK?` before a dial that checks certificate dates.
    ReadClock,
    /// `AT+CGATT?`: packet-domain attach state.
    Registration,
}

/// Progress of the pending action's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Awaiting {
    action: Action,
    started_ms: u32,
    budget_ms: u32,
    prompt: bool,
    result: Option<Final>,
    /// Set the moment the answer is complete (so URCs later in the same reply apply after
    /// its effects): what completing it meant for the operation.
    done: Option<Result<(), Error>>,
}

/// The engine. One static instance lives in `ffi`; tests make their own.
pub struct Engine {
    limits: Limits,
    pool: Pool,
    /// `AT+CMEE=1` sent since the modem booted.
    numeric_errors: bool,
    /// `AT+CMEE=0` answered OK, and no `AT+CMEE=1` since: name lookups refused cheaply.
    plain_errors: bool,
    op: Op,
    awaiting: Option<Awaiting>,
    commands_in_op: u16,
    rx: heapless::Vec<u8, RX_CAP>,
    command: CommandText,
    payload: heapless::Vec<u8, PAYLOAD_TEXT_CAP>,
    /// The staged payload is hex text (else raw bytes, `crate::payload::command_safe`).
    payload_hex: bool,
    datagram: heapless::Vec<u8, MAX_DATAGRAM>,
    last_cme: Option<u16>,
    /// The modem rebooted (`+SYSSTART`) this many times since start: for diagnostics.
    modem_restarts: u32,
    /// The pending `+SQNSRECV` answer did not decode.
    garbled: bool,
    /// The sender the last `+SQNSRECV` header named (UDP servers; `None`: it named none), or
    /// the remote `AT+SQNSS` showed for the listening connId right after the read.
    sender: Option<SocketAddr>,
    /// This receive asked `AT+SQNSS` for the sender a two-field header did not name.
    sender_asked: bool,
    /// The name being resolved, and the query sent for it on the fallback path.
    host: Option<HostName>,
    query: heapless::Vec<u8, { crate::dns::MAX_MESSAGE }>,
    addresses: Addresses,
    /// How long the last resolve's answer may be kept (the records' TTL), when our own query
    /// found it; `None` for the modem's resolver, which does not say.
    answer_ttl_s: Option<u32>,
    /// The time given to the current `step`.
    now_ms: u32,
    /// An operation was aborted between `AT+SQNSSENDEXT` and the end of its payload: the modem
    /// may still be waiting for payload bytes and would take the next command as some. Before
    /// anything else, the payload (still staged) is written again: a waiting modem sends the
    /// datagram and is back in command mode; one that was not waiting reads a line that is
    /// never a command (hex text has no `T`; raw payloads are staged raw only when they hold
    /// no AT prefix either), and answers ERROR.
    resync: bool,
    /// The modem's TLS settings as last written (`secure.rs`).
    secure: secure::SecureState,
    /// A receive that finds nothing ends at its first pause (keeping its poll schedule in the
    /// slot) instead of sleeping inside the operation: the caller waits outside the engine
    /// ([`Engine::wait_hint_ms`]), so another thread's operation starts in between.
    yield_waits: bool,
}

impl Engine {
    pub const fn new() -> Engine {
        Engine {
            limits: Limits::STOCK,
            pool: Pool::new(),
            numeric_errors: false,
            plain_errors: false,
            op: Op::Idle,
            awaiting: None,
            commands_in_op: 0,
            rx: heapless::Vec::new(),
            command: CommandText::new(),
            payload: heapless::Vec::new(),
            payload_hex: true,
            datagram: heapless::Vec::new(),
            last_cme: None,
            modem_restarts: 0,
            garbled: false,
            sender: None,
            sender_asked: false,
            host: None,
            query: heapless::Vec::new(),
            addresses: heapless::Vec::new(),
            answer_ttl_s: None,
            now_ms: 0,
            resync: false,
            secure: secure::SecureState::new(),
            yield_waits: false,
        }
    }

    /// See `yield_waits`. The C ABI turns it on: the shim sleeps between reads unlocked.
    pub fn set_yield_waits(&mut self, on: bool) {
        self.yield_waits = on;
    }

    /// How long until `handle`'s next receive read is due (0: now), after a receive that
    /// yielded at a pause.
    pub fn wait_hint_ms(&self, handle: Handle, now_ms: u32) -> Result<u32, Error> {
        let conn = self.pool.conn(handle)?;
        let until = self
            .pool
            .slot(conn)
            .and_then(|s| s.poll)
            .map_or(0, |s| s.next_read_ms.wrapping_sub(now_ms));
        Ok(if until > u32::MAX / 2 { 0 } else { until })
    }

    fn idle(&self) -> Result<(), Error> {
        if self.op == Op::Idle {
            Ok(())
        } else {
            Err(Error::Busy)
        }
    }

    /// Sets what the transport can carry. Changing data modes re-configures each slot on use.
    pub fn configure(&mut self, limits: Limits) -> Result<(), Error> {
        self.idle()?;
        if limits.max_command_len == Some(0) {
            return Err(Error::InvalidArgument);
        }
        if (limits.send_hex, limits.recv_hex) != (self.limits.send_hex, self.limits.recv_hex) {
            self.pool.forget_data_modes();
        }
        self.limits = limits;
        Ok(())
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Starts the module-start sweep. Every open handle becomes stale.
    pub fn begin_reset(&mut self) -> Result<(), Error> {
        self.idle()?;
        self.pool.release_all();
        self.sweep_modem();
        Ok(())
    }

    /// The same sweep when the module meets its first modem: sockets made before any modem was
    /// known have never reached one, so their handles stay valid (`socket()` needs no modem).
    pub fn begin_reset_keeping_sockets(&mut self) -> Result<(), Error> {
        self.idle()?;
        self.sweep_modem();
        Ok(())
    }

    fn sweep_modem(&mut self) {
        // What we knew of the modem may be from before a reboot whose +SYSSTART was flushed
        // away: configure and dial everything afresh.
        self.pool.forget_modem_state();
        self.numeric_errors = false;
        self.plain_errors = false;
        self.start(Op::Reset { status_read: false, open_mask: 0 });
    }

    /// Takes a slot; no modem exchange.
    pub fn open(&mut self) -> Result<Handle, Error> {
        self.pool.open()
    }

    /// Sets the local port used when the socket is dialled. Re-dials only if it changes.
    pub fn bind(&mut self, handle: Handle, port: u16) -> Result<(), Error> {
        let conn = self.pool.conn(handle)?;
        if let Some(slot) = self.pool.slot_mut(conn) {
            slot.local_port = port;
        }
        Ok(())
    }

    pub fn begin_connect(&mut self, handle: Handle, peer: SocketAddr) -> Result<(), Error> {
        self.idle()?;
        let conn = self.pool.conn(handle)?;
        // A UDP server that connects becomes a client of that peer (its listener is closed).
        if let Some(slot) = self.pool.slot_mut(conn) {
            slot.udp_server = false;
        }
        self.start(Op::Connect { conn, peer });
        Ok(())
    }

    /// Stages `data` for sending to `peer` (or the connected peer). Refuses, before any
    /// exchange, what the transport cannot carry.
    pub fn begin_sendto(&mut self, handle: Handle, data: &[u8], peer: Option<SocketAddr>) -> Result<(), Error> {
        self.idle()?;
        let conn = self.pool.conn(handle)?;
        let slot = self.pool.slot(conn).ok_or(Error::BadHandle)?;
        let peer = match peer {
            Some(peer) => peer,
            None if slot.connected => slot.peer.ok_or(Error::NotConnected)?,
            None => return Err(Error::NotConnected),
        };
        if data.len() > self.limits.max_datagram() {
            return Err(Error::MessageTooLong);
        }
        // The modem cannot send an empty datagram: AT+SQNSSENDEXT takes 1..1500 bytes.
        let len = u16::try_from(data.len()).map_err(|_| Error::MessageTooLong)?;
        if len == 0 {
            return Err(Error::InvalidArgument);
        }
        let staged = !self.resync;
        if staged {
            self.stage_payload(Some(conn), Some(peer), data)?;
        } else {
            // The payload buffer still holds the text the resync writes: keep the data aside.
            payload_fits(data.len(), self.limits, self.sends_hex(Some(conn), Some(peer), data).0)?;
            self.datagram.clear();
            self.datagram.extend_from_slice(data).map_err(|_| Error::MessageTooLong)?;
        }
        // A request going out: its answer may come soon, so the next receive polls quickly.
        if let Some(slot) = self.pool.slot_mut(conn) {
            slot.poll = None;
        }
        self.start(Op::SendTo { conn, peer, len, prompted: false, sent: false, retried: false, staged });
        Ok(())
    }

    /// Whether `data` goes to `conn` (and `peer`; `None`: the one dialled) as hex text, and
    /// whether it had to.
    ///
    /// Hex where the transport needs it and where the bytes could read as a command
    /// (`crate::payload::command_safe`). A connId that sends hex may also keep sending hex
    /// for a payload that need not, when its history says a switch back to raw would soon
    /// be undone ([`crate::payload::HexHistory::stays_hex`]): each switch costs an
    /// `AT+SQNSCFGEXT` exchange. A new dial (another peer) configures the connId again, raw.
    fn sends_hex(&self, conn: Option<ConnId>, peer: Option<SocketAddr>, data: &[u8]) -> (bool, bool) {
        if self.limits.send_hex || !crate::payload::command_safe(data) {
            return (true, true);
        }
        let stays_hex = conn.and_then(|c| self.pool.slot(c)).is_some_and(|s| {
            let same_dial = s.modem.dialled.is_some_and(|d| peer.is_none_or(|p| p == d.peer));
            s.modem.extended && s.modem.modes.send_hex && same_dial && s.hex_history.stays_hex(data.len())
        });
        (stays_hex, false)
    }

    /// Stages the payload text for `data` going to `conn` (`None`: a connId not chosen yet)
    /// and `peer` (`None`: the one it dialled): raw or hex as [`Self::sends_hex`] says.
    fn stage_payload(&mut self, conn: Option<ConnId>, peer: Option<SocketAddr>, data: &[u8]) -> Result<(), Error> {
        let (hex, needed) = self.sends_hex(conn, peer, data);
        stage_payload_into(&mut self.payload, data, self.limits, hex)?;
        self.payload_hex = hex;
        self.note_hex_need(conn, data.len(), needed && !self.limits.send_hex);
        Ok(())
    }

    /// Records on `conn` whether a payload of `len` bytes needed hex: see [`Self::sends_hex`].
    fn note_hex_need(&mut self, conn: Option<ConnId>, len: usize, needed: bool) {
        if let Some(slot) = conn.and_then(|c| self.pool.slot_mut(c)) {
            slot.hex_history.note(len, needed);
        }
    }

    /// Stages the data a send to `conn` and `peer` kept aside while a resync was pending.
    fn stage_deferred_payload(&mut self, conn: ConnId, peer: SocketAddr) -> Result<(), Error> {
        let (hex, needed) = self.sends_hex(Some(conn), Some(peer), &self.datagram);
        stage_payload_into(&mut self.payload, &self.datagram, self.limits, hex)?;
        self.payload_hex = hex;
        self.note_hex_need(Some(conn), self.datagram.len(), needed && !self.limits.send_hex);
        Ok(())
    }

    /// The data modes `conn` needs for the operation in progress: hex reads where the
    /// transport needs them or a raw read on this socket held a NUL byte; the staged payload's
    /// encoding for an operation that sends one, else whatever the connId has.
    fn wanted_modes(&self, conn: ConnId) -> DataModes {
        let slot = self.pool.slot(conn);
        let recv_hex = self.limits.recv_hex || slot.is_some_and(|s| s.modem.recv_hex_forced);
        let sends = matches!(self.op, Op::SendTo { .. } | Op::StreamSend { .. } | Op::Resolve(_));
        let send_hex = match slot.map(|s| s.modem) {
            _ if sends => self.payload_hex,
            Some(modem) if modem.extended => modem.modes.send_hex,
            _ => self.limits.send_hex,
        };
        DataModes { recv_hex, send_hex }
    }

    /// `AT+SQNSCFGEXT`, when `conn` was not configured since the modem booted or has other
    /// data modes than the operation needs.
    fn data_modes_step(&self, conn: ConnId) -> Option<Action> {
        let modem = self.pool.slot(conn)?.modem;
        let wanted = self.wanted_modes(conn);
        (!modem.extended || modem.modes != wanted).then_some(Action::ConfigureExt(conn, wanted))
    }

    /// `AT+SQNSCFGEXT` on a connId that holds an open connection, when the operation needs
    /// other data modes than it has (a connection whose configuration was lost is dead and
    /// not configured again here).
    fn data_modes_switch(&self, conn: ConnId) -> Option<Action> {
        let modem = self.pool.slot(conn)?.modem;
        let wanted = self.wanted_modes(conn);
        (modem.extended && modem.modes != wanted).then_some(Action::ConfigureExt(conn, wanted))
    }

    /// Starts a receive. `timeout_ms`: `None` blocks forever, `Some(0)` does not block.
    pub fn begin_recvfrom(&mut self, handle: Handle, timeout_ms: Option<u32>, now_ms: u32) -> Result<(), Error> {
        self.idle()?;
        let conn = self.pool.conn(handle)?;
        // A socket bound to a port and read before it has a peer is a UDP server.
        if !self.serve_if_bound(conn) && self.pool.slot(conn).is_some_and(|s| s.peer.is_none()) {
            return Err(Error::NotConnected);
        }
        let slot = self.pool.slot(conn).ok_or(Error::BadHandle)?;
        self.sender = None;
        self.sender_asked = false;
        let deadline = match timeout_ms {
            None => Deadline::Forever,
            Some(0) => Deadline::NonBlocking,
            Some(ms) => Deadline::At(now_ms.wrapping_add(ms)),
        };
        self.datagram.clear();
        // A receive that starts where the last one on this socket stopped at its deadline (the
        // shim's next slice of one blocking receive) goes on with its poll schedule.
        // A read that must not wait, or data announced: read at once (a non-blocking read after
        // POLLIN must never answer EAGAIN without asking the modem).
        let read_now = deadline == Deadline::NonBlocking || slot.buffered_hint > 0 || slot.swept_ready;
        if let Some(slot) = self.pool.slot_mut(conn) {
            slot.swept_ready = false;
        }
        let schedule = self.pool.slot_mut(conn).and_then(|s| s.poll.take());
        let (pause_ms, read_since_pause, resume_at) = match schedule {
            Some(_) if read_now => (0, false, None),
            Some(s) => {
                let until = s.next_read_ms.wrapping_sub(now_ms);
                let overdue = now_ms.wrapping_sub(s.next_read_ms);
                if until != 0 && until <= MAX_POLL_PAUSE_MS {
                    (s.pause_ms, true, Some(s.next_read_ms))
                } else if overdue <= MAX_POLL_PAUSE_MS {
                    (s.pause_ms, false, None)
                } else {
                    (0, false, None)
                }
            }
            None => (0, false, None),
        };
        self.start(Op::Receive { conn, deadline, got: false, pause_ms, read_since_pause, errors: 0, resume_at });
        Ok(())
    }

    /// Starts a readiness sweep (for `select.poll`): one `AT+SQNSS` for all six slots; the
    /// outcome says whether `handle` is readable, [`Engine::ready`] tells for the others.
    pub fn begin_poll(&mut self, handle: Handle) -> Result<(), Error> {
        self.idle()?;
        let conn = self.pool.conn(handle)?;
        self.serve_if_bound(conn);
        self.start(Op::Poll { conn, queried: false, status_failed: false });
        Ok(())
    }

    /// Starts a registration check (`AT+CGATT?`): the outcome's `readable` is whether the
    /// modem is attached; an answer without the state ends with `Error::Modem`. The shim asks
    /// after an operation failed, to tell a detached modem from a refusing peer.
    pub fn begin_registration(&mut self) -> Result<(), Error> {
        self.idle()?;
        self.start(Op::Registration { asked: false, attached: None });
        Ok(())
    }

    /// Starts a close. The slot is freed when the operation ends, whatever happens.
    pub fn begin_close(&mut self, handle: Handle) -> Result<(), Error> {
        self.idle()?;
        let conn = self.pool.conn(handle)?;
        self.start(Op::Close { conn, tried: false });
        Ok(())
    }

    fn start(&mut self, op: Op) {
        self.op = op;
        self.awaiting = None;
        self.commands_in_op = 0;
    }

    /// Feeds the reply to the previous exchange (empty on the first call) and returns the next
    /// exchange, or the outcome once the operation is over.
    pub fn step(&mut self, reply: &[u8], now_ms: u32) -> Step<'_> {
        if self.op == Op::Idle {
            return Step::Done(Err(Error::InvalidArgument));
        }
        self.now_ms = now_ms;
        if self.awaiting.is_some() {
            self.absorb(reply);
            match self.settle(reply.is_empty(), now_ms) {
                Settled::Continue => {}
                Settled::ListenMore(timeout_ms) => {
                    return Step::Exchange(Exchange {
                        kind: ExchangeKind::Listen,
                        command: &[],
                        payload: &[],
                        timeout_ms,
                    })
                }
                Settled::Fail(error) => return Step::Done(self.finish(Err(error))),
            }
        }
        match self.plan(now_ms) {
            plan::Next::Finish(result) => Step::Done(self.finish(result)),
            plan::Next::Act(action) => self.issue(action, now_ms),
        }
    }

    /// The transport raised mid-operation (e.g. the firmware's data-state error, a
    /// KeyboardInterrupt). Whatever the exchange was, the modem may have received part of it.
    pub fn abort(&mut self) {
        if let Some(awaiting) = self.awaiting {
            self.mark_unknown(awaiting.action);
            let payload_pending = matches!(
                awaiting.action,
                Action::SendExt(..) | Action::Payload(_) | Action::SendCombined(..) | Action::Resync
            );
            // Every staged payload is safe for a modem that is perhaps not waiting for it: hex
            // text, or raw bytes that hold no AT prefix (`stage_payload`).
            if payload_pending && !self.payload.is_empty() {
                self.resync = true;
            }
        }
        let _ = self.finish(Err(Error::Modem));
    }

    fn finish(&mut self, result: Result<Outcome, Error>) -> Result<Outcome, Error> {
        match self.op {
            Op::Close { conn, .. } => self.pool.release(conn),
            Op::Resolve(r) => self.release_resolver_slot(r),
            _ => {}
        }
        self.op = Op::Idle;
        self.awaiting = None;
        self.garbled = false;
        result
    }

    pub fn last_cme(&self) -> Option<u16> {
        self.last_cme
    }

    /// The addresses of the last successful resolve.
    pub fn addresses(&self) -> &[core::net::IpAddr] {
        &self.addresses
    }

    /// How long the last resolve's answer may be kept, in seconds (`None`: unknown).
    pub fn answer_ttl_s(&self) -> Option<u32> {
        self.answer_ttl_s
    }

    /// The datagram of the last successful `recvfrom`.
    pub fn datagram(&self) -> &[u8] {
        &self.datagram
    }

    pub fn slots_in_use(&self) -> usize {
        self.pool.in_use()
    }

    pub fn modem_restarts(&self) -> u32 {
        self.modem_restarts
    }

    /// Whether `handle` is still a live socket.
    pub fn is_open(&self, handle: Handle) -> bool {
        self.pool.conn(handle).is_ok()
    }
}

/// Whether `len` bytes of data fit one payload on this transport, as hex text or raw.
fn payload_fits(len: usize, limits: Limits, hex: bool) -> Result<(), Error> {
    let limits = Limits { send_hex: hex, ..limits };
    if limits.payload_text_len(len) <= PAYLOAD_TEXT_CAP && limits.payload_fits_command(len) {
        Ok(())
    } else {
        Err(Error::MessageTooLong)
    }
}

/// Writes the payload text for `data`: hex or raw.
fn stage_payload_into(payload: &mut heapless::Vec<u8, PAYLOAD_TEXT_CAP>, data: &[u8], limits: Limits, hex: bool) -> Result<(), Error> {
    payload_fits(data.len(), limits, hex)?;
    payload.clear();
    if hex {
        payload.resize(data.len() * 2, 0).map_err(|_| Error::MessageTooLong)?;
        crate::hex::encode(data, payload).ok_or(Error::MessageTooLong)?;
    } else {
        payload.extend_from_slice(data).map_err(|_| Error::MessageTooLong)?;
    }
    Ok(())
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

/// What happened to the pending action after its reply was absorbed.
enum Settled {
    Continue,
    ListenMore(u32),
    Fail(Error),
}
