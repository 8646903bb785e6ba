//! Deciding the next exchange from the operation and what is known of the modem.
//!
//! Planning is declarative: each call looks at the state afresh and names the first thing
//! still missing (numeric errors, slot configuration, a dial to the right peer, ...). So a
//! `+SYSSTART` or `+SQNSH` in the middle of an operation needs no special path: the state
//! it leaves behind simply plans the missing steps again.

use core::net::SocketAddr;

use super::{Action, Awaiting, Deadline, Engine, Exchange, ExchangeKind, Op, Outcome, Step};
use super::{FIRST_POLL_PAUSE_MS, MAX_COMMANDS_PER_OP, MAX_POLL_PAUSE_MS};
use crate::at::command::IpVersion;
use crate::at::{Command, ConnId, CONN_IDS};
use crate::dns::RecordType;
use crate::hostname::HostName;
use crate::limits::Limits;
use crate::error::Error;
use crate::MAX_DATAGRAM;

pub(super) enum Next {
    Act(Action),
    Finish(Result<Outcome, Error>),
}

impl Engine {
    pub(super) fn plan(&mut self, now_ms: u32) -> Next {
        // Before anything else, a modem perhaps left waiting for payload gets it.
        if self.resync && self.op != Op::Idle {
            if self.limits.command_fits(self.payload.len()) {
                return Next::Act(Action::Resync);
            }
            // The transport was reconfigured to one that cannot carry it: nothing to write.
            self.resync = false;
        }
        // Then a modem perhaps still counting the bytes of an abandoned upload gets them.
        if let Some(action) = self.upload_fill_step() {
            return Next::Act(action);
        }
        match self.op {
            Op::Idle => Next::Finish(Err(Error::InvalidArgument)),
            Op::Reset { status_read, open_mask } => self.plan_reset(status_read, open_mask),
            Op::Connect { conn, peer } => match self.dial_step(conn, peer) {
                Some(action) => Next::Act(action),
                None => {
                    if let Some(slot) = self.pool.slot_mut(conn) {
                        slot.peer = Some(peer);
                        slot.connected = true;
                    }
                    Next::Finish(Ok(Outcome::default()))
                }
            },
            Op::SendTo { conn, peer, len, prompted, sent, staged, .. } => {
                if !staged {
                    if let Err(error) = self.stage_deferred_payload(conn, peer) {
                        return Next::Finish(Err(error));
                    }
                    if let Op::SendTo { staged, .. } = &mut self.op {
                        *staged = true;
                    }
                }
                let server = self.is_udp_server(conn);
                if sent {
                    if let Some(slot) = self.pool.slot_mut(conn).filter(|_| !server) {
                        slot.peer = Some(peer);
                    }
                    return Next::Finish(Ok(Outcome { sent: usize::from(len), ..Outcome::default() }));
                }
                if server {
                    if let Some(next) = self.plan_udp_reply(conn, peer) {
                        return next;
                    }
                } else if let Some(action) = self.dial_step(conn, peer) {
                    return Next::Act(action);
                }
                Next::Act(match (self.limits.combined_send, prompted) {
                    (true, _) => Action::SendCombined(conn, len),
                    (false, false) => Action::SendExt(conn, len),
                    (false, true) => Action::Payload(conn),
                })
            }
            Op::Receive { conn, deadline, got, pause_ms, read_since_pause, .. } => {
                self.plan_receive(conn, deadline, got, pause_ms, read_since_pause, now_ms)
            }
            Op::Poll { conn, queried, status_failed } => self.plan_poll(conn, queried, status_failed),
            Op::Resolve(r) => self.plan_resolve(r, now_ms),
            Op::StreamConnect { conn, peer } => self.plan_stream_connect(conn, peer),
            Op::StreamSend { conn, len, prompted, sent, verify, .. } => {
                self.plan_stream_send(conn, len, prompted, sent, verify)
            }
            Op::StreamRecv(r) => self.plan_stream_recv(r, now_ms),
            Op::CredWrite { private_key, index, size, done, .. } => self.plan_cred_write(private_key, index, size, done),
            Op::CredPiece { last, sent, .. } => self.plan_cred_piece(last, sent),
            Op::SecureConnect(s) => self.plan_secure_connect(s),
            Op::Listen { conn, port } => self.plan_listen(conn, port),
            Op::Registration { asked: false, .. } => Next::Act(Action::Registration),
            Op::Registration { attached, .. } => Next::Finish(match attached {
                Some(attached) => Ok(Outcome { readable: attached, ..Outcome::default() }),
                None => Err(Error::Modem),
            }),
            Op::Accept(a) => self.plan_accept(a, now_ms),
            Op::Close { conn, tried } => {
                let modem = self.pool.slot(conn).map(|s| s.modem).unwrap_or_default();
                if !tried && (modem.dialled.is_some() || modem.unknown) {
                    Next::Act(Action::Close(conn))
                } else {
                    Next::Finish(Ok(Outcome::default()))
                }
            }
        }
    }

    fn plan_reset(&self, status_read: bool, open_mask: u8) -> Next {
        if !self.numeric_errors {
            return Next::Act(Action::NumericErrors);
        }
        if !status_read {
            return Next::Act(Action::Status);
        }
        match (0..CONN_IDS).find(|i| open_mask & (1 << i) != 0) {
            Some(index) => match ConnId::from_index(index) {
                Some(conn) => Next::Act(Action::Close(conn)),
                None => Next::Finish(Err(Error::InvalidArgument)),
            },
            None => Next::Finish(Ok(Outcome::default())),
        }
    }

    /// The first command still needed before `conn` is an open modem socket to `peer`.
    pub(super) fn dial_step(&self, conn: ConnId, peer: SocketAddr) -> Option<Action> {
        self.dial_step_for(conn, peer, true)
    }

    /// `dial_step`, with `AT+SQNSCFG` left out when `socket_settings` is false: its packet
    /// size and timeouts apply to online mode and to TCP, so a short command-mode UDP exchange
    /// (the resolver's borrowed socket) works with whatever the connId holds, and the connId
    /// stays "not configured" for its next user.
    pub(super) fn dial_step_for(&self, conn: ConnId, peer: SocketAddr, socket_settings: bool) -> Option<Action> {
        if !self.numeric_errors {
            return Some(Action::NumericErrors);
        }
        let slot = self.pool.slot(conn)?;
        let modem = slot.modem;
        let wanted = (peer, slot.local_port);
        let wrong_peer = modem.dialled.is_some_and(|d| (d.peer, d.local_port) != wanted);
        if modem.unknown || wrong_peer {
            return Some(Action::Close(conn));
        }
        if !modem.configured && socket_settings {
            return Some(Action::Configure(conn));
        }
        if let Some(action) = self.data_modes_step(conn) {
            return Some(action);
        }
        if modem.dialled.is_none() {
            if let Some(action) = self.insecure_step(conn) {
                return Some(action);
            }
            return Some(Action::Dial(conn, peer, slot.local_port));
        }
        None
    }

    fn plan_receive(
        &mut self,
        conn: ConnId,
        deadline: Deadline,
        got: bool,
        pause_ms: u32,
        read_since_pause: bool,
        now_ms: u32,
    ) -> Next {
        let server = self.is_udp_server(conn);
        if got && server {
            if let Some(action) = self.ask_sender() {
                return Next::Act(action);
            }
            return Next::Finish(Ok(self.udp_server_received(conn)));
        }
        let slot = self.pool.slot(conn);
        if got {
            let from = slot.and_then(|s| s.modem.dialled.map(|d| d.peer).or(s.peer));
            return Next::Finish(Ok(Outcome { received: self.datagram.len(), from, ..Outcome::default() }));
        }
        // After a reboot or a +SQNSH the modem socket is gone: dial it (or, for a UDP server,
        // listen) again to go on receiving.
        let step = if server {
            self.udp_listen_step(conn)
        } else {
            let Some(peer) = slot.and_then(|s| s.peer) else {
                return Next::Finish(Err(Error::NotConnected));
            };
            self.dial_step(conn, peer)
        };
        if let Some(action) = step {
            return Next::Act(action);
        }
        let slot = self.pool.slot(conn);
        if !read_since_pause {
            return Next::Act(Action::Receive(conn));
        }
        // The last read found nothing. The deadline comes first, even when a ring has since
        // announced data (the next receive reads it): a modem that rings after every empty
        // read would otherwise keep this one reading forever.
        let remaining = match deadline {
            Deadline::NonBlocking => return Next::Finish(Err(Error::WouldBlock)),
            Deadline::Forever => u32::MAX,
            Deadline::At(at) => {
                let left = at.wrapping_sub(now_ms);
                // A wrapped difference above half the range means the deadline is behind us.
                if left == 0 || left > u32::MAX / 2 {
                    self.keep_poll_schedule(conn, pause_ms, now_ms);
                    return Next::Finish(Err(Error::TimedOut));
                }
                left
            }
        };
        if slot.is_some_and(|s| s.buffered_hint > 0) {
            return Next::Act(Action::Receive(conn));
        }
        // Nothing is waiting: pause, then read again, until the deadline.
        let resume_at = match self.op {
            Op::Receive { resume_at, .. } => resume_at,
            _ => None,
        };
        let (pause, level) = match resume_at {
            Some(at) => {
                let until = at.wrapping_sub(now_ms);
                if until == 0 || until > u32::MAX / 2 {
                    // Due: read now.
                    if let Op::Receive { read_since_pause, resume_at, .. } = &mut self.op {
                        *read_since_pause = false;
                        *resume_at = None;
                    }
                    return Next::Act(Action::Receive(conn));
                }
                (until, pause_ms)
            }
            None => {
                let next = if pause_ms == 0 { FIRST_POLL_PAUSE_MS } else { (pause_ms * 2).min(MAX_POLL_PAUSE_MS) };
                (next, next)
            }
        };
        if self.yield_waits {
            // The caller waits (outside the engine) and starts the next read when it is due.
            let schedule = crate::socket::PollSchedule { pause_ms: level, next_read_ms: now_ms.wrapping_add(pause) };
            if let Some(slot) = self.pool.slot_mut(conn) {
                slot.poll = Some(schedule);
            }
            return Next::Finish(Err(Error::TimedOut));
        }
        if pause >= remaining {
            // The next read is due after the deadline: wait the deadline out and end there, with
            // no read of its own. A receive that goes on (the shim's next slice) reads on time.
            let next_read_ms = now_ms.wrapping_add(pause);
            if let Op::Receive { pause_ms, resume_at, .. } = &mut self.op {
                *pause_ms = level;
                *resume_at = Some(next_read_ms);
            }
            return Next::Act(Action::Pause(remaining));
        }
        if let Op::Receive { pause_ms, read_since_pause, resume_at, .. } = &mut self.op {
            *pause_ms = level;
            *read_since_pause = false;
            *resume_at = None;
        }
        Next::Act(Action::Pause(pause))
    }

    /// A receive ends at its deadline after an empty read: the next read is due one pause
    /// later (or when the pause it waited out ends), for a receive that goes on.
    fn keep_poll_schedule(&mut self, conn: ConnId, pause_ms: u32, now_ms: u32) {
        let schedule = match self.op {
            Op::Receive { resume_at: Some(at), .. } => crate::socket::PollSchedule { pause_ms, next_read_ms: at },
            _ => {
                let next = if pause_ms == 0 { FIRST_POLL_PAUSE_MS } else { (pause_ms * 2).min(MAX_POLL_PAUSE_MS) };
                crate::socket::PollSchedule { pause_ms: next, next_read_ms: now_ms.wrapping_add(next) }
            }
        };
        if let Some(slot) = self.pool.slot_mut(conn) {
            slot.poll = Some(schedule);
        }
    }

    /// Builds the exchange for `action` and remembers that its answer is pending.
    pub(super) fn issue(&mut self, action: Action, now_ms: u32) -> Step<'_> {
        // Receive polls are bounded by the caller's deadline, not by this count.
        // So are a listener's status polls while it waits for a connection. A resync counts: a
        // modem that never answers it must not keep it going for ever.
        let waiting_for_peer = matches!(action, Action::Status) && matches!(self.op, Op::Accept(_) | Op::StreamRecv(_));
        let is_command = !waiting_for_peer
            && !matches!(
                action,
                Action::Pause(_) | Action::Payload(_) | Action::Receive(_) | Action::ReceiveStream(..) | Action::CredPiece(_)
            );
        if is_command {
            self.commands_in_op += 1;
            if self.commands_in_op > MAX_COMMANDS_PER_OP {
                return Step::Done(self.finish(Err(Error::TooManyExchanges)));
            }
        }
        let (kind, budget_ms) = match action {
            Action::Pause(ms) => (ExchangeKind::Sleep, ms),
            Action::Payload(_) => (ExchangeKind::Payload, 10_000),
            Action::Resync => (ExchangeKind::Payload, 5_000),
            Action::SendCombined(..) => (ExchangeKind::CommandWithPayload, 10_000),
            Action::CredPiece(last) => (ExchangeKind::Payload, Self::piece_wait_ms(last)),
            Action::UploadFill(_, last) => (ExchangeKind::Command, Self::piece_wait_ms(last)),
            // The TCP connect timeout, then the handshake.
            Action::DialSecure(..) | Action::DialSecureName(..) => (ExchangeKind::Command, Self::SECURE_DIAL_WAIT_MS),
            _ => (ExchangeKind::Command, 0),
        };
        let budget_ms = match command_for(action, self.limits, self.host.as_ref()) {
            Some(command) => {
                if command.write(&mut self.command).is_err() {
                    return Step::Done(self.finish(Err(Error::InvalidArgument)));
                }
                budget_ms.max(command.timeout_ms())
            }
            None => {
                self.command.clear();
                if let Action::UploadFill(n, _) = action {
                    for _ in 0..n {
                        if self.command.push('-').is_err() {
                            return Step::Done(self.finish(Err(Error::InvalidArgument)));
                        }
                    }
                }
                budget_ms
            }
        };
        let written = match kind {
            ExchangeKind::CommandWithPayload => self.command.len() + 1 + self.payload.len(),
            _ => self.command.len(),
        };
        if !self.limits.command_fits(written) {
            return Step::Done(self.finish(Err(Error::MessageTooLong)));
        }
        if matches!(kind, ExchangeKind::Command | ExchangeKind::CommandWithPayload) {
            // The firmware flushes its receive ring before every command; what we hold of
            // earlier answers is as stale as what it discards.
            self.rx.clear();
        }
        self.awaiting = Some(Awaiting { action, started_ms: now_ms, budget_ms, prompt: false, result: None, done: None });
        let payload: &[u8] = match kind {
            ExchangeKind::Payload | ExchangeKind::CommandWithPayload => &self.payload,
            _ => &[],
        };
        Step::Exchange(Exchange { kind, command: self.command.as_bytes(), payload, timeout_ms: budget_ms })
    }
}

/// The AT command behind an action, if it has one. A free function over the fields it needs,
/// so the engine can write the command into its own buffer while `host` is borrowed.
pub(super) fn command_for(action: Action, limits: Limits, host: Option<&HostName>) -> Option<Command<'_>> {
    Some(match action {
        Action::NumericErrors => Command::NumericErrors,
        Action::PlainErrors => Command::PlainErrors,
        Action::Status => Command::Status,
        Action::Configure(conn) => Command::SocketConfig { conn, pdp_cid: limits.pdp_cid },
        Action::ConfigureStream(conn) => Command::StreamSocketConfig { conn, pdp_cid: limits.pdp_cid },
        Action::ConfigureExt(conn, modes) => Command::SocketConfigExt {
            conn,
            recv_hex: modes.recv_hex,
            send_hex: modes.send_hex,
        },
        Action::Dial(conn, peer, local_port) => Command::Dial { conn, peer, local_port },
        Action::DialStream(conn, peer) => Command::DialTcp { conn, peer },
        Action::ReceiveStream(conn, max) => Command::Receive { conn, max },
        Action::Listen(conn, port) => Command::Listen { conn, port },
        Action::Accept(conn) => Command::Accept { conn },
        Action::ListenUdp(conn, port) => Command::ListenUdp { conn, port },
        Action::SendExt(conn, len) | Action::SendCombined(conn, len) => Command::SendExt { conn, len },
        // Always ask for a whole datagram: what a shorter read does to the rest is unknown.
        Action::Receive(conn) => Command::Receive { conn, max: MAX_DATAGRAM as u16 },
        Action::Close(conn) => Command::Close { conn },
        Action::Info(conn) => Command::Info { conn },
        Action::Registration => Command::Registration,
        Action::DnsLookup(kind) => Command::DnsLookup {
            host: host?,
            version: Some(match kind {
                RecordType::A => IpVersion::V4,
                RecordType::Aaaa => IpVersion::V6,
            }),
        },
        Action::NvWrite(private_key, index, size) => Command::NvWrite { private_key, index, size },
        Action::SecurityProfile(p) => Command::SecurityProfile {
            sp: p.sp,
            version: p.version(),
            bare_ciphers: p.bare_ciphers,
            level: p.level,
            ca: p.ca,
            cert: p.cert,
            key: p.key,
        },
        Action::SecureConfig(conn, enable) => Command::SecureConfig { conn, enable, sp: conn.get() },
        Action::DialSecure(conn, peer) => Command::DialTcp { conn, peer },
        Action::DialSecureName(conn, port) => Command::DialTcpName { conn, host: host?, port },
        Action::ReadClock => Command::Clock,
        Action::Payload(_) | Action::Pause(_) | Action::CredPiece(_) | Action::UploadFill(..) | Action::Resync => return None,
    })
}
