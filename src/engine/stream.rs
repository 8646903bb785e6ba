//! Streams (TCP) as operations of the same engine: connect, send, receive.
//!
//! A stream shares the datagram machinery (configuration, `AT+SQNSSENDEXT`, `AT+SQNSRECV`,
//! the digester, receive polling) and differs in three ways:
//! * it is dialled once (`AT+SQNSD=<id>,0,...`) and never again: bytes in flight cannot be
//!   replayed, so a reboot gives `ConnectionReset` and a close by the modem gives EOF;
//! * a send takes what one command can carry (the transport's limit) and reports the count;
//! * a read asks for at most what the caller wants (`AT+SQNSRECV=<id>,<n>`) and leaves the
//!   rest at the modem.
//!
//! Without URCs (the firmware flushes them) a stream's end shows as a failed command. The
//! answer tells which end it was: numeric errors were turned on with `AT+CMEE=1`, so a plain
//! `ERROR` means the modem rebooted and forgot that (reset); a `+CME ERROR` means the modem
//! is alive. To a send that is a closed socket; to a read it may also mean "nothing waiting"
//! (sources disagree), so `AT+SQNSS` decides: state 0 is closed (EOF), anything else reads on.

use core::net::SocketAddr;

use super::plan::Next;
use super::{Action, Deadline, Engine, Op, Outcome};
use super::{FIRST_POLL_PAUSE_MS, MAX_POLL_PAUSE_MS};
use crate::at::{ConnId, Final};
use crate::error::Error;
use crate::socket::{Dialled, Handle, SlotKind, StreamLife};
use crate::MAX_DATAGRAM;

/// A stream read in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Recv {
    pub(super) conn: ConnId,
    max: u16,
    deadline: Deadline,
    /// Bytes are in `Engine::datagram`.
    pub(super) got: bool,
    pause_ms: u32,
    read_since_pause: bool,
    /// The modem refused a read with an error code: some firmware says "nothing waiting"
    /// that way, so `AT+SQNSS` decides whether the socket is still there.
    verify: bool,
    /// The last `AT+SQNSS` showed the socket open.
    alive: bool,
}

/// One `+SQNSS` line: connId, state and the peer fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct StatusLine {
    pub(super) conn: u32,
    pub(super) state: u32,
    pub(super) peer: Option<SocketAddr>,
}

/// An accept in progress: status polls until the listener shows a waiting connection
/// (state 5 in `AT+SQNSS`, announced by `+SQNSRING: <id>` when URCs get through), then
/// `AT+SQNSA`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Accept {
    conn: ConnId,
    deadline: Deadline,
    /// The last status poll is in (since the last pause).
    polled: bool,
    pause_ms: u32,
    /// The waiting connection's peer, from the listener's `AT+SQNSS` line.
    incoming: Option<SocketAddr>,
    accepted: bool,
}

/// The TCP connect timeout, and how close to it a `NO CARRIER` counts as the timeout.
const STREAM_CONNECT_MS: u32 = crate::at::command::STREAM_CONNECT_TIMEOUT_DS as u32 * 100;
const DIAL_TIMEOUT_SLACK_MS: u32 = 1_000;

/// `AT+SQNSS` state of a listening connId with a connection waiting.
pub(super) const STATE_INCOMING: u32 = 5;

/// Parses one `+SQNSS` line: `<id>,<state>[,"<locIP>",<locPort>,"<remIP>",<remPort>]`.
pub(super) fn status_line(text: &[u8]) -> Option<StatusLine> {
    let mut fields = crate::at::fields::split(text);
    let conn = crate::at::fields::next_number(&mut fields)?;
    let state = crate::at::fields::next_number(&mut fields)?;
    let _local_ip = fields.next();
    let _local_port = fields.next();
    let peer_ip = fields.next().and_then(crate::addr::parse_modem_ip);
    let peer_port = crate::at::fields::next_number(&mut fields).and_then(|p| u16::try_from(p).ok());
    let peer = match (peer_ip, peer_port) {
        (Some(ip), Some(port)) => Some(SocketAddr::new(ip, port)),
        _ => None,
    };
    Some(StatusLine { conn, state, peer })
}

/// `+CME ERROR: 4` to `AT+SQNSSENDEXT` on an open stream: the modem holds as much unsent data
/// as it will (the peer is not reading). The socket is still open.
const CME_SEND_BUFFER_FULL: u16 = 4;

impl Engine {
    /// Takes a slot for a stream; no modem exchange until `connect`.
    pub fn open_stream(&mut self) -> Result<Handle, Error> {
        self.pool.open_kind(SlotKind::Stream)
    }

    fn stream_conn(&self, handle: Handle) -> Result<(ConnId, StreamLife), Error> {
        let conn = self.pool.conn(handle)?;
        let slot = self.pool.slot(conn).ok_or(Error::BadHandle)?;
        if slot.kind != SlotKind::Stream {
            return Err(Error::WrongKind);
        }
        Ok((conn, slot.life))
    }

    /// Where a stream's life forbids sending or receiving.
    fn life_error(life: StreamLife) -> Option<Error> {
        match life {
            StreamLife::Fresh => Some(Error::NotConnected),
            StreamLife::Open => None,
            StreamLife::Closed => Some(Error::BrokenPipe),
            StreamLife::Reset => Some(Error::ConnectionReset),
        }
    }

    /// Starts listening on `port` with a fresh stream's connId; the slot becomes a listener.
    pub fn begin_listen(&mut self, handle: Handle, port: u16) -> Result<(), Error> {
        self.idle()?;
        let (conn, life) = self.stream_conn(handle)?;
        if life != StreamLife::Fresh {
            return Err(Error::IsConnected);
        }
        if port == 0 {
            return Err(Error::InvalidArgument);
        }
        self.start(Op::Listen { conn, port });
        Ok(())
    }

    /// Starts waiting for a connection on a listener and accepting it. On success the
    /// handle is the accepted connection (same connId: the listener has stopped) and the
    /// outcome's `from` is its peer.
    pub fn begin_accept(&mut self, handle: Handle, timeout_ms: Option<u32>, now_ms: u32) -> Result<(), Error> {
        self.idle()?;
        let conn = self.pool.conn(handle)?;
        let slot = self.pool.slot(conn).ok_or(Error::BadHandle)?;
        if slot.kind != SlotKind::Listener {
            return Err(Error::WrongKind);
        }
        let deadline = match timeout_ms {
            None => Deadline::Forever,
            Some(0) => Deadline::NonBlocking,
            Some(ms) => Deadline::At(now_ms.wrapping_add(ms)),
        };
        if let Some(slot) = self.pool.slot_mut(conn) {
            slot.swept_ready = false;
        }
        self.start(Op::Accept(Accept { conn, deadline, polled: false, pause_ms: 0, incoming: None, accepted: false }));
        Ok(())
    }

    pub(super) fn plan_listen(&mut self, conn: ConnId, port: u16) -> Next {
        if !self.numeric_errors {
            return Next::Act(Action::NumericErrors);
        }
        let Some(slot) = self.pool.slot(conn) else { return Next::Finish(Err(Error::BadHandle)) };
        if slot.kind == SlotKind::Listener {
            return match slot.life {
                StreamLife::Open => Next::Finish(Ok(Outcome::default())),
                _ => Next::Finish(Err(Error::ConnectionReset)),
            };
        }
        let modem = slot.modem;
        if modem.unknown || modem.dialled.is_some() {
            return Next::Act(Action::Close(conn));
        }
        if !modem.configured || !modem.stream_timeouts {
            return Next::Act(Action::ConfigureStream(conn));
        }
        if let Some(action) = self.data_modes_step(conn) {
            return Next::Act(action);
        }
        Next::Act(Action::Listen(conn, port))
    }

    pub(super) fn plan_accept(&mut self, a: Accept, now_ms: u32) -> Next {
        let Some(slot) = self.pool.slot(a.conn) else { return Next::Finish(Err(Error::BadHandle)) };
        if a.accepted {
            return Next::Finish(Ok(Outcome { from: slot.peer, ..Outcome::default() }));
        }
        if slot.life != StreamLife::Open {
            // The listener died with a reboot (or the modem closed it).
            return Next::Finish(Err(Error::ConnectionReset));
        }
        if a.incoming.is_some() {
            return Next::Act(Action::Accept(a.conn));
        }
        if !a.polled || slot.buffered_hint > 0 {
            return Next::Act(Action::Status);
        }
        let remaining = match a.deadline {
            Deadline::NonBlocking => return Next::Finish(Err(Error::WouldBlock)),
            Deadline::Forever => u32::MAX,
            Deadline::At(at) => {
                let left = at.wrapping_sub(now_ms);
                if left == 0 || left > u32::MAX / 2 {
                    return Next::Finish(Err(Error::TimedOut));
                }
                left
            }
        };
        let pause = if a.pause_ms == 0 { FIRST_POLL_PAUSE_MS } else { (a.pause_ms * 2).min(MAX_POLL_PAUSE_MS) };
        if let Op::Accept(a) = &mut self.op {
            a.pause_ms = pause;
            a.polled = false;
        }
        Next::Act(Action::Pause(pause.min(remaining)))
    }

    /// A `+SQNSS` line while an accept waits (a connection waiting: state 5, and its peer)
    /// or while a read checks its socket (any state but 0: still open).
    pub(super) fn note_status(&mut self, line: StatusLine) {
        match &mut self.op {
            Op::Accept(a) if line.conn == u32::from(a.conn.get()) && line.state == STATE_INCOMING => {
                // A waiting connection whose peer the line does not show is still accepted.
                let any = SocketAddr::new(core::net::IpAddr::V6(core::net::Ipv6Addr::UNSPECIFIED), 0);
                a.incoming = Some(line.peer.unwrap_or(any));
            }
            Op::StreamRecv(r) if line.conn == u32::from(r.conn.get()) => r.alive = line.state != 0,
            Op::StreamSend { conn, alive, .. } if line.conn == u32::from(conn.get()) => *alive = line.state != 0,
            _ => {}
        }
    }

    /// Starts dialling a stream to `peer`. A stream connects once.
    pub fn begin_stream_connect(&mut self, handle: Handle, peer: SocketAddr) -> Result<(), Error> {
        self.idle()?;
        let (conn, life) = self.stream_conn(handle)?;
        if life != StreamLife::Fresh {
            return Err(Error::IsConnected);
        }
        self.start(Op::StreamConnect { conn, peer });
        Ok(())
    }

    /// Starts sending the first bytes of `data` that one command carries; returns how many
    /// that is (the operation's outcome confirms them).
    pub fn begin_stream_send(&mut self, handle: Handle, data: &[u8]) -> Result<usize, Error> {
        self.idle()?;
        let (conn, life) = self.stream_conn(handle)?;
        if let Some(error) = Self::life_error(life) {
            return Err(error);
        }
        let take = data.len().min(self.limits.max_datagram()).min(MAX_DATAGRAM);
        let len = u16::try_from(take).map_err(|_| Error::MessageTooLong)?;
        if len == 0 {
            return Err(Error::InvalidArgument);
        }
        self.stage_payload(Some(conn), None, data.get(..take).ok_or(Error::InvalidArgument)?)?;
        self.start(Op::StreamSend { conn, len, prompted: false, sent: false, verify: false, alive: false });
        Ok(take)
    }

    /// Starts a read of at most `max` bytes (at most 1500). `timeout_ms` as for datagrams.
    /// The outcome's `received` is 0 at the end of the stream.
    pub fn begin_stream_recv(&mut self, handle: Handle, max: usize, timeout_ms: Option<u32>, now_ms: u32) -> Result<(), Error> {
        self.idle()?;
        let (conn, life) = self.stream_conn(handle)?;
        if life == StreamLife::Fresh {
            return Err(Error::NotConnected);
        }
        let max = u16::try_from(max.min(MAX_DATAGRAM)).map_err(|_| Error::InvalidArgument)?;
        if max == 0 {
            return Err(Error::InvalidArgument);
        }
        let deadline = match timeout_ms {
            None => Deadline::Forever,
            Some(0) => Deadline::NonBlocking,
            Some(ms) => Deadline::At(now_ms.wrapping_add(ms)),
        };
        self.datagram.clear();
        // A read going on after a yielded pause keeps its pause level.
        let mut pause_ms = 0;
        if let Some(slot) = self.pool.slot_mut(conn) {
            slot.swept_ready = false;
            pause_ms = slot.poll.take().map_or(0, |s| s.pause_ms);
        }
        self.start(Op::StreamRecv(Recv {
            conn,
            max,
            deadline,
            got: false,
            pause_ms,
            read_since_pause: false,
            verify: false,
            alive: false,
        }));
        Ok(())
    }

    pub(super) fn plan_stream_connect(&mut self, conn: ConnId, peer: SocketAddr) -> Next {
        if !self.numeric_errors {
            return Next::Act(Action::NumericErrors);
        }
        let Some(slot) = self.pool.slot(conn) else { return Next::Finish(Err(Error::BadHandle)) };
        match slot.life {
            // Closed here means the dial succeeded and the peer (or the network) closed it at
            // once: the connect still succeeded, as with lwIP and Linux, and reads give EOF.
            StreamLife::Open | StreamLife::Closed => return Next::Finish(Ok(Outcome::default())),
            StreamLife::Fresh => {}
            life => return Next::Finish(Err(Self::life_error(life).unwrap_or(Error::ConnectionReset))),
        }
        let modem = slot.modem;
        // Whatever a previous user left on the connId goes first.
        if modem.unknown || modem.dialled.is_some() {
            return Next::Act(Action::Close(conn));
        }
        if !modem.configured || !modem.stream_timeouts {
            return Next::Act(Action::ConfigureStream(conn));
        }
        if let Some(action) = self.data_modes_step(conn) {
            return Next::Act(action);
        }
        if let Some(action) = self.insecure_step(conn) {
            return Next::Act(action);
        }
        Next::Act(Action::DialStream(conn, peer))
    }

    pub(super) fn plan_stream_send(&mut self, conn: ConnId, len: u16, prompted: bool, sent: bool, verify: bool) -> Next {
        if sent {
            return Next::Finish(Ok(Outcome { sent: usize::from(len), ..Outcome::default() }));
        }
        if verify {
            return Next::Act(Action::Status);
        }
        let life = self.pool.slot(conn).map_or(StreamLife::Reset, |s| s.life);
        if let Some(error) = Self::life_error(life) {
            return Next::Finish(Err(error));
        }
        if let Some(action) = self.data_modes_switch(conn).filter(|_| !prompted) {
            return Next::Act(action);
        }
        Next::Act(match (self.limits.combined_send, prompted) {
            (true, _) => Action::SendCombined(conn, len),
            (false, false) => Action::SendExt(conn, len),
            (false, true) => Action::Payload(conn),
        })
    }

    pub(super) fn plan_stream_recv(&mut self, r: Recv, now_ms: u32) -> Next {
        let Recv { conn, max, deadline, got, pause_ms, read_since_pause, verify, .. } = r;
        if got {
            return Next::Finish(Ok(Outcome { received: self.datagram.len(), ..Outcome::default() }));
        }
        let Some(slot) = self.pool.slot(conn) else { return Next::Finish(Err(Error::BadHandle)) };
        match slot.life {
            StreamLife::Fresh => return Next::Finish(Err(Error::NotConnected)),
            StreamLife::Reset => return Next::Finish(Err(Error::ConnectionReset)),
            // Closed: a ring may have announced bytes before the close; read them once, then EOF.
            StreamLife::Closed if slot.buffered_hint > 0 && !read_since_pause => {
                return Next::Act(Action::ReceiveStream(conn, max));
            }
            StreamLife::Closed => return Next::Finish(Ok(Outcome::default())),
            StreamLife::Open => {}
        }
        if verify {
            return Next::Act(Action::Status);
        }
        if let Some(action) = self.data_modes_switch(conn) {
            return Next::Act(action);
        }
        if !read_since_pause {
            return Next::Act(Action::ReceiveStream(conn, max));
        }
        let remaining = match deadline {
            Deadline::NonBlocking => return Next::Finish(Err(Error::WouldBlock)),
            Deadline::Forever => u32::MAX,
            Deadline::At(at) => {
                let left = at.wrapping_sub(now_ms);
                if left == 0 || left > u32::MAX / 2 {
                    return Next::Finish(Err(Error::TimedOut));
                }
                left
            }
        };
        if slot.buffered_hint > 0 {
            return Next::Act(Action::ReceiveStream(conn, max));
        }
        let pause = if pause_ms == 0 { FIRST_POLL_PAUSE_MS } else { (pause_ms * 2).min(MAX_POLL_PAUSE_MS) };
        if self.yield_waits {
            // As for datagrams: the caller waits outside the engine, then reads again.
            if let Some(slot) = self.pool.slot_mut(conn) {
                slot.poll = Some(crate::socket::PollSchedule { pause_ms: pause, next_read_ms: now_ms.wrapping_add(pause) });
            }
            return Next::Finish(Err(Error::TimedOut));
        }
        if let Op::StreamRecv(r) = &mut self.op {
            r.pause_ms = pause;
            r.read_since_pause = false;
        }
        Next::Act(Action::Pause(pause.min(remaining)))
    }

    /// Applies a finished action of a stream operation. `None` when `action` is not one.
    pub(super) fn complete_stream(&mut self, action: Action, result: Option<Final>, prompt: bool) -> Option<Result<(), Error>> {
        let ok = result == Some(Final::Ok);
        Some(match (action, self.op) {
            (Action::ConfigureStream(conn), _) => {
                if !ok {
                    return Some(Err(Error::Modem));
                }
                if let Some(slot) = self.pool.slot_mut(conn) {
                    slot.modem.configured = true;
                    slot.modem.stream_timeouts = true;
                }
                Ok(())
            }
            (Action::DialStream(conn, peer), _) => match result {
                Some(Final::Ok) => {
                    if let Some(slot) = self.pool.slot_mut(conn) {
                        slot.modem.dialled = Some(Dialled { peer, local_port: 0 });
                        slot.modem.unknown = false;
                        slot.buffered_hint = 0;
                        slot.life = StreamLife::Open;
                    }
                    Ok(())
                }
                // No source tells refusal from silence by code: a NO CARRIER that comes
                // before the connect timeout is a refusal (a reset comes back at once), one
                // at the timeout is a peer that never answered.
                Some(Final::NoCarrier) if self.dial_took_ms() + DIAL_TIMEOUT_SLACK_MS >= STREAM_CONNECT_MS => {
                    Err(Error::TimedOut)
                }
                Some(Final::NoCarrier) => Err(Error::ConnectionRefused),
                _ => {
                    self.mark_unknown(action);
                    Err(Error::Modem)
                }
            },
            (Action::Listen(conn, port), _) => {
                if !ok {
                    self.mark_unknown(action);
                    return Some(Err(Error::AddressInUse));
                }
                if let Some(slot) = self.pool.slot_mut(conn) {
                    // Something the modem holds: a close sends AT+SQNSH.
                    let any = SocketAddr::new(core::net::IpAddr::V6(core::net::Ipv6Addr::UNSPECIFIED), 0);
                    slot.modem.dialled = Some(Dialled { peer: any, local_port: port });
                    slot.kind = SlotKind::Listener;
                    slot.life = StreamLife::Open;
                    slot.local_port = port;
                    slot.buffered_hint = 0;
                }
                Ok(())
            }
            (Action::Status, Op::Accept(a)) => {
                if let Op::Accept(a) = &mut self.op {
                    a.polled = true;
                }
                // The ring that announced the connection is answered by this poll.
                if let Some(slot) = self.pool.slot_mut(a.conn) {
                    slot.buffered_hint = 0;
                }
                Ok(())
            }
            (Action::Accept(conn), Op::Accept(a)) => {
                if !ok {
                    // The connection went away before it was taken: wait for the next one.
                    if let Op::Accept(a) = &mut self.op {
                        a.incoming = None;
                        a.polled = false;
                    }
                    return Some(Ok(()));
                }
                if let Some(slot) = self.pool.slot_mut(conn) {
                    let peer = a.incoming.unwrap_or(SocketAddr::new(core::net::IpAddr::V6(core::net::Ipv6Addr::UNSPECIFIED), 0));
                    slot.kind = SlotKind::Stream;
                    slot.life = StreamLife::Open;
                    slot.peer = Some(peer);
                    slot.modem.dialled = Some(Dialled { peer, local_port: slot.local_port });
                    slot.buffered_hint = 0;
                }
                if let Op::Accept(a) = &mut self.op {
                    a.accepted = true;
                }
                Ok(())
            }
            (Action::SendExt(conn, _), Op::StreamSend { .. }) if !prompt => Err(self.stream_failure(conn, result)),
            (Action::SendExt(..), Op::StreamSend { .. }) => {
                if let Op::StreamSend { prompted, .. } = &mut self.op {
                    *prompted = true;
                }
                Ok(())
            }
            (Action::SendCombined(..), Op::StreamSend { .. }) if !ok => {
                if let Op::StreamSend { verify, alive, .. } = &mut self.op {
                    *verify = true;
                    *alive = false;
                }
                Ok(())
            }
            (Action::Status, Op::StreamSend { conn, alive, .. }) => {
                // Nothing went out either way: the payload was refused or read as a command.
                if alive {
                    return Some(Err(Error::WouldBlock));
                }
                if let Some(slot) = self.pool.slot_mut(conn) {
                    slot.modem.dialled = None;
                    if slot.life == StreamLife::Open {
                        slot.life = StreamLife::Closed;
                    }
                }
                Err(Error::BrokenPipe)
            }
            (Action::Payload(conn) | Action::SendCombined(conn, _), Op::StreamSend { .. }) => {
                if !ok {
                    return Some(Err(self.stream_failure(conn, result)));
                }
                if let Op::StreamSend { sent, .. } = &mut self.op {
                    *sent = true;
                }
                Ok(())
            }
            (Action::ReceiveStream(conn, _), _) => {
                if self.garbled {
                    self.garbled = false;
                    return Some(Err(Error::Modem));
                }
                let got = matches!(self.op, Op::StreamRecv(Recv { got: true, .. }));
                if let Op::StreamRecv(r) = &mut self.op {
                    r.read_since_pause = true;
                }
                if !got {
                    if let Some(slot) = self.pool.slot_mut(conn) {
                        slot.buffered_hint = 0;
                    }
                }
                match result {
                    _ if ok || got => {}
                    // Numeric errors were on: a plain ERROR means the modem rebooted.
                    Some(Final::Error) if !self.numeric_errors => {
                        let _ = self.stream_failure(conn, result);
                    }
                    // "Nothing waiting" on some firmware, "no such socket" on others:
                    // the slot table decides.
                    Some(_) => {
                        if let Op::StreamRecv(r) = &mut self.op {
                            r.verify = true;
                            r.alive = false;
                        }
                    }
                    None => {}
                }
                Ok(())
            }
            (Action::Status, Op::StreamRecv(r)) => {
                if let Op::StreamRecv(r) = &mut self.op {
                    r.verify = false;
                }
                if !ok && !self.numeric_errors {
                    // The modem forgot AT+CMEE=1: it rebooted.
                    self.pool.forget_modem_state();
                } else if !r.alive {
                    if let Some(slot) = self.pool.slot_mut(r.conn) {
                        slot.modem.dialled = None;
                        if slot.life == StreamLife::Open {
                            slot.life = StreamLife::Closed;
                        }
                    }
                }
                Ok(())
            }
            _ => return None,
        })
    }

    /// How long the pending exchange has run.
    fn dial_took_ms(&self) -> u32 {
        self.awaiting.map_or(0, |a| self.now_ms.wrapping_sub(a.started_ms))
    }

    /// A command on an open stream failed: decide how the stream ended (see the module docs).
    fn stream_failure(&mut self, conn: ConnId, result: Option<Final>) -> Error {
        match result {
            // Timeouts are reported by `settle`; nothing is learnt here.
            None => Error::TimedOut,
            Some(Final::Error) if !self.numeric_errors => {
                // The modem forgot AT+CMEE=1: it rebooted, and every stream died with it.
                self.pool.forget_modem_state();
                Error::ConnectionReset
            }
            Some(Final::CmeError(Some(CME_SEND_BUFFER_FULL))) if matches!(self.op, Op::StreamSend { .. }) => {
                Error::WouldBlock
            }
            Some(_) => {
                if let Some(slot) = self.pool.slot_mut(conn) {
                    slot.modem.dialled = None;
                    if slot.life == StreamLife::Open {
                        slot.life = StreamLife::Closed;
                    }
                }
                Error::BrokenPipe
            }
        }
    }
}
