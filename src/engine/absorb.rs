//! Learning from modem text: every reply is digested whole, URCs are applied wherever they
//! appear, and the pending action is settled once its final code (or prompt) is in.

use super::{Action, Engine, Op, Settled};
use core::net::IpAddr;

use crate::at::fields::{next_number, split};
use crate::dns::{Addresses, RecordType};
use crate::at::{digest, Event, Final, Pending, Urc};
use crate::at::{ConnId, CONN_IDS};
use crate::error::Error;

/// Consecutive `AT+SQNSRECV` errors after which the socket is taken for lost and re-dialled.
const RECEIVE_ERRORS_BEFORE_REDIAL: u8 = 3;

/// An event reduced to owned values, so it can be applied after the text is dropped.
enum Note {
    Final(Final),
    Prompt,
    /// The first four numeric fields of an information line (non-numbers are `None`).
    Info([Option<u32>; 4]),
    /// A `+SQNSRECV` datagram decoded into `Engine::datagram`; `len` 0 = nothing was waiting;
    /// `from`: the sender the header named.
    Received { conn: u8, len: usize, from: Option<core::net::SocketAddr> },
    /// A `+SQNSRECV` answer whose payload did not decode (odd or non-hex text).
    Garbled,
    Urc(Urc),
}

/// `+SQNDNSLKUP: <host>,<address>[,<address>...]`, quoted or not: keeps the addresses of the
/// asked family.
fn collect_addresses(text: &[u8], kind: RecordType, out: &mut Addresses) {
    for field in split(text).skip(1) {
        match (crate::addr::parse_modem_ip(field), kind) {
            (Some(ip @ IpAddr::V4(_)), RecordType::A) | (Some(ip @ IpAddr::V6(_)), RecordType::Aaaa) => {
                let _ = out.push(ip);
            }
            _ => {}
        }
    }
}

fn info_numbers(text: &[u8]) -> [Option<u32>; 4] {
    let mut fields = split(text);
    core::array::from_fn(|_| next_number(&mut fields))
}

impl Engine {
    fn pending(&self) -> Pending {
        let name = self
            .awaiting
            .and_then(|a| super::plan::command_for(a.action, self.limits, self.host.as_ref()))
            .map_or(&b""[..], |c| c.name());
        Pending { name, recv_hex: self.reads_hex() }
    }

    /// Whether the pending read's answer carries hex text: the data mode its connId was
    /// configured with.
    fn reads_hex(&self) -> bool {
        let conn = match self.awaiting.map(|a| a.action) {
            Some(Action::Receive(c) | Action::ReceiveStream(c, _)) => c,
            _ => return self.limits.recv_hex,
        };
        match self.pool.slot(conn).map(|s| s.modem) {
            Some(modem) if modem.extended => modem.modes.recv_hex,
            _ => self.limits.recv_hex,
        }
    }

    /// Whether the pending exchange is a read of `conn`.
    fn reads(&self, conn: u8) -> bool {
        matches!(
            self.awaiting.map(|a| a.action),
            Some(Action::Receive(c) | Action::ReceiveStream(c, _)) if c.get() == conn
        )
    }

    /// Digests `reply`, however long, through the fixed receive buffer.
    pub(super) fn absorb(&mut self, mut reply: &[u8]) {
        while !reply.is_empty() {
            if self.rx.is_full() {
                // A "line" longer than any answer we ask for is garbage: drop it.
                self.rx.clear();
            }
            let room = self.rx.capacity() - self.rx.len();
            let (now, later) = reply.split_at(room.min(reply.len()));
            // Cannot fail: `now` fits in the room just measured.
            let _ = self.rx.extend_from_slice(now);
            reply = later;
            self.digest_rx();
        }
    }

    fn digest_rx(&mut self) {
        loop {
            let pending = self.pending();
            let (event, used) = digest(&self.rx, &pending);
            let mut modes_lost = None;
            let mut status = None;
            let mut sweep = None;
            let mut sender_line = None;
            let mut clock = None;
            let note = match event {
                None => None,
                Some(Event::Final(f)) => Some(Note::Final(f)),
                Some(Event::Prompt) => Some(Note::Prompt),
                Some(Event::Info(text)) => match self.awaiting.map(|a| a.action) {
                    Some(Action::ReadClock) => {
                        clock = Some(super::secure::clock_year(text));
                        None
                    }
                    Some(Action::DnsLookup(kind)) => {
                        collect_addresses(text, kind, &mut self.addresses);
                        None
                    }
                    Some(Action::Status) if matches!(self.op, Op::Accept(_) | Op::StreamRecv(_) | Op::StreamSend { .. }) => {
                        status = super::stream::status_line(text);
                        None
                    }
                    Some(Action::Status) if matches!(self.op, Op::Receive { .. }) => {
                        sender_line = super::stream::status_line(text);
                        None
                    }
                    Some(Action::Status) if matches!(self.op, Op::Poll { .. }) => {
                        sweep = super::stream::status_line(text);
                        None
                    }
                    _ => Some(Note::Info(info_numbers(text))),
                },
                Some(Event::Urc(urc)) => Some(Note::Urc(urc)),
                Some(Event::Noise) => None,
                // Only a block with data for the socket being read is taken: an empty one or
                // another socket's, later in the same answer, must not replace what was taken.
                Some(Event::Received { conn, .. }) if !self.reads(conn) => None,
                Some(Event::Received { conn, data: [], .. }) => Some(Note::Received { conn, len: 0, from: None }),
                Some(Event::Received { conn, data, hex, from }) => {
                    if !hex && data.contains(&0) {
                        // The firmware idle-waited on this answer: this socket reads hex now.
                        if let Some(slot) = ConnId::new(conn).and_then(|c| self.pool.slot_mut(c)) {
                            slot.modem.recv_hex_forced = true;
                        }
                    }
                    let decoded = if hex {
                        self.datagram.resize(data.len() / 2, 0).ok().and_then(|_| {
                            crate::hex::decode(data, &mut self.datagram)
                        })
                    } else {
                        self.datagram.clear();
                        self.datagram.extend_from_slice(data).ok().map(|_| data.len())
                    };
                    if hex != pending.recv_hex {
                        modes_lost = ConnId::new(conn);
                    }
                    Some(match decoded {
                        Some(len) => Note::Received { conn, len, from },
                        None => Note::Garbled,
                    })
                }
            };
            let progressed = event.is_some();
            let used = used.min(self.rx.len());
            self.rx.copy_within(used.., 0);
            self.rx.truncate(self.rx.len() - used);
            if let Some(conn) = modes_lost {
                // Raw bytes where hex was configured: the modem lost its settings (a reboot
                // whose +SYSSTART was flushed away). Configure the connId again.
                self.forget_socket(conn);
            }
            if let Some(note) = note {
                self.apply(note);
            }
            if let Some(line) = status {
                self.note_status(line);
            }
            if let Some(line) = sweep {
                self.note_sweep_status(line);
            }
            if let (Some(line), Op::Receive { conn, .. }) = (sender_line, self.op) {
                self.note_sender_status(conn, line);
            }
            if let Some(year) = clock {
                self.note_clock(year);
            }
            if !progressed {
                break;
            }
        }
    }

    fn apply(&mut self, note: Note) {
        if let Note::Urc(urc) = note {
            self.apply_urc(urc);
            return;
        }
        let Some(awaiting) = self.awaiting.as_mut() else {
            return;
        };
        match note {
            Note::Final(f) => {
                if awaiting.result.is_none() {
                    awaiting.result = Some(f);
                }
                match f {
                    // A resync's answer says only whether the modem was waiting for payload.
                    _ if matches!(awaiting.action, Action::Resync) => {}
                    Final::CmeError(code) => {
                        self.last_cme = code.or(self.last_cme);
                        // Numeric codes: whatever we believed, the modem has AT+CMEE=1 or 2.
                        self.plain_errors = false;
                    }
                    // With numeric errors on, the modem never says plain ERROR: it has
                    // rebooted (its +SYSSTART flushed away unseen) and forgot AT+CMEE=1.
                    Final::Error if !matches!(awaiting.action, Action::NumericErrors | Action::PlainErrors) => {
                        self.numeric_errors = false;
                    }
                    _ => {}
                }
            }
            Note::Prompt => awaiting.prompt = true,
            Note::Info(numbers) => {
                let action = awaiting.action;
                self.apply_info(action, numbers);
            }
            Note::Received { conn, len, from } => self.apply_received(conn, len, from),
            Note::Garbled => {
                if let Op::Receive { .. } | Op::StreamRecv(_) = self.op {
                    self.datagram.clear();
                    self.garbled = true;
                }
            }
            Note::Urc(_) => {}
        }
        self.complete_if_answered();
    }

    /// Applies the pending action's effects as soon as its answer is complete.
    fn complete_if_answered(&mut self) {
        let Some(awaiting) = self.awaiting else { return };
        let expects_prompt = matches!(awaiting.action, Action::SendExt(..) | Action::NvWrite(_, _, 1..));
        let answered = awaiting.result.is_some() || (expects_prompt && awaiting.prompt);
        if awaiting.done.is_none() && answered {
            let done = self.complete(awaiting.action, awaiting.result, awaiting.prompt);
            if let Some(a) = self.awaiting.as_mut() {
                a.done = Some(done);
            }
        }
    }

    fn apply_info(&mut self, action: Action, numbers: [Option<u32>; 4]) {
        match (action, numbers) {
            // +SQNSS: <conn>,<state>[,...]: state 0 is closed, anything else holds a socket.
            (Action::Status, [Some(conn), Some(state), ..]) if state != 0 => {
                if let (Op::Reset { open_mask, .. }, Some(c)) =
                    (&mut self.op, u8::try_from(conn).ok().and_then(ConnId::new))
                {
                    *open_mask |= 1 << c.index();
                }
            }
            // +CGATT: <state>
            (Action::Registration, [Some(state), ..]) => {
                if let Op::Registration { attached, .. } = &mut self.op {
                    *attached = Some(state == 1);
                }
            }
            // +SQNSI: <conn>,<sent>,<received>,<buff_in>,<ack_waiting>
            (Action::Info(conn), [Some(id), _, _, Some(buffered)]) if id == u32::from(conn.get()) => {
                if let Some(slot) = self.pool.slot_mut(conn) {
                    slot.buffered_hint = buffered;
                }
            }
            _ => {}
        }
    }

    fn apply_received(&mut self, conn: u8, len: usize, from: Option<core::net::SocketAddr>) {
        let Some(conn) = ConnId::new(conn) else { return };
        if len > 0 {
            self.sender = from;
        }
        if let Some(slot) = self.pool.slot_mut(conn) {
            slot.buffered_hint = if len == 0 {
                0
            } else {
                slot.buffered_hint.saturating_sub(u32::try_from(len).unwrap_or(u32::MAX))
            };
        }
        match &mut self.op {
            Op::Receive { conn: wanted, got, .. } if *wanted == conn && len > 0 => *got = true,
            Op::StreamRecv(r) if r.conn == conn && len > 0 => r.got = true,
            Op::Resolve(r) if r.conn == Some(conn) && len > 0 => r.got = true,
            _ => {}
        }
    }

    fn apply_urc(&mut self, urc: Urc) {
        match urc {
            Urc::Ring { conn, buffered } => {
                if let Some(slot) = ConnId::new(conn).and_then(|c| self.pool.slot_mut(c)) {
                    let buffered = u32::from(buffered.unwrap_or(1).max(1));
                    slot.buffered_hint = slot.buffered_hint.max(buffered);
                }
            }
            Urc::Closed { conn } => {
                if let Some(slot) = ConnId::new(conn).and_then(|c| self.pool.slot_mut(c)) {
                    slot.modem.dialled = None;
                    slot.modem.unknown = false;
                    if slot.life == crate::socket::StreamLife::Open {
                        slot.life = crate::socket::StreamLife::Closed;
                    }
                }
            }
            Urc::SysStart | Urc::Shutdown | Urc::Exception => {
                if urc == Urc::SysStart {
                    self.modem_restarts = self.modem_restarts.wrapping_add(1);
                }
                self.pool.forget_modem_state();
                self.numeric_errors = false;
                self.plain_errors = false;
                // A rebooted modem waits for no payload, and for no upload.
                self.resync = false;
                self.secure.upload = None;
                // The pending command died with the modem: no answer will come. The operation
                // plans again from the state the reboot left.
                if let Some(a) = self.awaiting.as_mut() {
                    if a.done.is_none() && !matches!(a.action, Action::Pause(_)) {
                        a.done = Some(Ok(()));
                    }
                }
                match &mut self.op {
                    // The prompt, if any, died with the modem.
                    Op::SendTo { prompted, .. } => *prompted = false,
                    Op::Resolve(r) => r.prompted = false,
                    Op::Reset { status_read, open_mask } => {
                        *status_read = true;
                        *open_mask = 0;
                    }
                    _ => {}
                }
            }
            Urc::Registration { .. } | Urc::Ignored => {}
        }
    }

    /// Settles the pending action after a reply: complete, wait for more, or fail.
    pub(super) fn settle(&mut self, reply_was_empty: bool, now_ms: u32) -> Settled {
        let Some(awaiting) = self.awaiting else {
            return Settled::Continue;
        };
        if let Action::Pause(_) = awaiting.action {
            self.awaiting = None;
            return Settled::Continue;
        }
        if let (Action::Resync, None) = (awaiting.action, awaiting.done) {
            // No final code: the modem took the bytes silently or the answer was cut; either
            // way the payload it might have waited for is complete. Not repeated in a loop.
            let elapsed = now_ms.wrapping_sub(awaiting.started_ms);
            if reply_was_empty || elapsed >= awaiting.budget_ms {
                self.resync = false;
                self.awaiting = None;
                return Settled::Continue;
            }
        }
        match awaiting.done {
            Some(Ok(())) => {
                self.awaiting = None;
                Settled::Continue
            }
            Some(Err(error)) => {
                self.awaiting = None;
                Settled::Fail(error)
            }
            None => {
                // A read whose datagram came whole (header and every byte) but whose final
                // code did not: a NUL in the answer ends the firmware's string there. The
                // datagram is good, and the modem has let go of it: deliver it.
                if let (Action::Receive(_), Op::Receive { got: true, .. })
                | (Action::ReceiveStream(..), Op::StreamRecv(super::stream::Recv { got: true, .. })) =
                    (awaiting.action, &self.op)
                {
                    self.awaiting = None;
                    return Settled::Continue;
                }
                let elapsed = now_ms.wrapping_sub(awaiting.started_ms);
                let left = awaiting.budget_ms.saturating_sub(elapsed);
                if reply_was_empty || left == 0 {
                    if self.piece_needs_no_answer(awaiting.action) {
                        self.awaiting = None;
                        return Settled::Continue;
                    }
                    if reply_was_empty && self.payload_after_unseen_prompt(awaiting.action) {
                        self.awaiting = None;
                        return Settled::Continue;
                    }
                    self.mark_unknown(awaiting.action);
                    self.awaiting = None;
                    return Settled::Fail(Error::TimedOut);
                }
                Settled::ListenMore(left)
            }
        }
    }

    /// Applies a finished action's result to the pool and the operation.
    fn complete(&mut self, action: Action, result: Option<Final>, prompt: bool) -> Result<(), Error> {
        if let Some(done) = self.complete_stream(action, result, prompt) {
            return done;
        }
        if let Some(done) = self.complete_secure(action, result, prompt) {
            return done;
        }
        if let Some(done) = self.complete_udp_listen(action, result) {
            return done;
        }
        let ok = result == Some(Final::Ok);
        match action {
            // Without numeric codes errors are still recognised, only less precise.
            Action::NumericErrors => {
                self.numeric_errors = true;
                self.plain_errors = false;
            }
            Action::PlainErrors => {
                self.plain_errors = ok;
                if ok {
                    self.numeric_errors = false;
                }
                if let Op::Resolve(r) = &mut self.op {
                    r.plain_errors_asked = true;
                }
            }
            Action::Status if matches!(self.op, Op::Poll { .. }) => self.complete_sweep_status(ok),
            Action::Status => {
                if let Op::Reset { status_read, open_mask } = &mut self.op {
                    *status_read = true;
                    if !ok {
                        // No slot table: close every slot, the modem answers OK or ERROR to each.
                        *open_mask = (1 << CONN_IDS) - 1;
                    }
                }
            }
            Action::Configure(conn) | Action::ConfigureExt(conn, _) => {
                if !ok {
                    return Err(Error::Modem);
                }
                if let Some(slot) = self.pool.slot_mut(conn) {
                    match action {
                        Action::ConfigureExt(_, modes) => {
                            slot.modem.extended = true;
                            slot.modem.modes = modes;
                        }
                        _ => slot.modem.configured = true,
                    }
                }
            }
            Action::Dial(conn, peer, local_port) => match result {
                Some(Final::Ok) => {
                    if let Some(slot) = self.pool.slot_mut(conn) {
                        slot.modem.dialled = Some(crate::socket::Dialled { peer, local_port });
                        slot.modem.unknown = false;
                        slot.buffered_hint = 0;
                        slot.swept_ready = false;
                    }
                }
                Some(Final::NoCarrier) => return Err(Error::HostUnreachable),
                _ => {
                    // A refused dial may still have left something behind (or `CONNECT`
                    // put the slot in online mode): close it before the next dial.
                    self.mark_unknown(action);
                    return Err(Error::Modem);
                }
            },
            Action::SendExt(conn, _) => {
                if !prompt {
                    self.note_send_failure(conn, result);
                    // Refused before any payload went out, so trying once more cannot send
                    // twice. A socket the modem dropped unseen (a +SQNSH or +SYSSTART lost to
                    // the firmware's flush) is dialled afresh by the second attempt.
                    if let Op::SendTo { retried, .. } = &mut self.op {
                        if !*retried && result.is_some() {
                            *retried = true;
                            return Ok(());
                        }
                    }
                    return Err(Error::Modem);
                }
                match &mut self.op {
                    Op::SendTo { prompted, .. } => *prompted = true,
                    Op::Resolve(r) => r.prompted = true,
                    _ => {}
                }
            }
            Action::SendCombined(conn, _) if !ok => {
                self.note_send_failure(conn, result);
                // Command and payload went in one write, so the modem answered the command
                // before it saw the payload. An error answer means no datagram went out: either
                // the command was refused (its payload then read as a command line, which
                // the modem answers with ERROR; a transport that writes the payload last may
                // have flushed the refusal itself away), or the send failed and the modem said
                // so. Either way one more try on a fresh dial cannot send twice.
                if let Op::SendTo { retried, .. } = &mut self.op {
                    if !*retried && result.is_some() {
                        *retried = true;
                        return Ok(());
                    }
                }
                return Err(Error::Modem);
            }
            Action::Payload(conn) | Action::SendCombined(conn, _) => {
                if !ok {
                    self.note_send_failure(conn, result);
                    return Err(Error::Modem);
                }
                if let Op::SendTo { sent, .. } = &mut self.op {
                    *sent = true;
                }
                let now_ms = self.now_ms;
                self.note_query_sent(now_ms);
            }
            Action::Receive(conn) => {
                if self.garbled {
                    self.garbled = false;
                    return Err(Error::Modem);
                }
                if let Op::Resolve(r) = &mut self.op {
                    r.read_since_pause = true;
                }
                let mut socket_lost = false;
                if let Op::Receive { read_since_pause, errors, .. } = &mut self.op {
                    *read_since_pause = true;
                    // Some firmware answers ERROR for "nothing waiting"; several in a row
                    // mean the socket itself is gone (closed or rebooted unseen).
                    *errors = if ok { 0 } else { errors.saturating_add(1) };
                    if *errors >= RECEIVE_ERRORS_BEFORE_REDIAL {
                        *errors = 0;
                        socket_lost = true;
                    }
                }
                // A read answered without data (no +SQNSRECV line at all) leaves nothing of
                // what an earlier ring announced: forget it, or the next reads would follow it
                // with no pause and never look at the deadline.
                if let Op::Receive { got: false, .. } = self.op {
                    if let Some(slot) = self.pool.slot_mut(conn) {
                        slot.buffered_hint = 0;
                    }
                }
                if socket_lost {
                    self.forget_socket(conn);
                }
            }
            Action::Close(conn) => {
                if let Some(slot) = self.pool.slot_mut(conn) {
                    slot.modem.dialled = None;
                    // A refused close may have left the modem socket open: nothing is dialled
                    // on that connId before a close succeeds.
                    slot.modem.unknown = !ok;
                    slot.buffered_hint = 0;
                    // The next dial configures the connId again: a reboot whose +SYSSTART the
                    // firmware flushed away reset its data modes, and AT+SQNSH answers OK on a
                    // closed socket, so a stale "configured" would send hex text as raw bytes.
                    slot.modem.configured = false;
                    slot.modem.extended = false;
                }
                match &mut self.op {
                    // The socket is free for its next user, who closes it again first.
                    Op::Close { tried, .. } => *tried = true,
                    // Closing before a dial: try again with the next operation, not in a loop.
                    Op::Connect { .. } | Op::SendTo { .. } | Op::Receive { .. } | Op::Poll { .. } if !ok => return Err(Error::Modem),
                    _ => {}
                }
                if let Op::Reset { open_mask, .. } = &mut self.op {
                    *open_mask &= !(1 << conn.index());
                }
            }
            Action::Info(_) => {
                if let Op::Poll { queried, .. } = &mut self.op {
                    *queried = true;
                }
            }
            Action::Registration => {
                if let Op::Registration { asked, .. } = &mut self.op {
                    *asked = true;
                }
            }
            Action::DnsLookup(_) => {
                if !ok || self.addresses.is_empty() {
                    if let Op::Resolve(r) = &mut self.op {
                        r.modem_failed = true;
                    }
                }
            }
            // Handled by `complete_secure`.
            Action::NvWrite(..)
            | Action::CredPiece(_)
            | Action::UploadFill(..)
            | Action::SecurityProfile(_)
            | Action::SecureConfig(..)
            | Action::DialSecure(..)
            | Action::DialSecureName(..)
            | Action::ReadClock => {}
            // Handled by `complete_stream`.
            Action::DialStream(..)
            | Action::ReceiveStream(..)
            | Action::Listen(..)
            | Action::Accept(_)
            | Action::ConfigureStream(_) => {}
            // Handled by `complete_udp_listen`.
            Action::ListenUdp(..) => {}
            Action::Pause(_) => {}
            Action::Resync => self.resync = false,
        }
        Ok(())
    }

    /// An `AT+SQNSSENDEXT` with no answer at all (a NUL before the prompt ends the firmware's
    /// string there) may have left the modem waiting for the payload, and it would take the
    /// next commands as payload bytes, one operation after another. So the payload goes
    /// anyway: if the modem was waiting, the datagram is sent; if not, the line is a command
    /// line it refuses: hex text has no `T`, and a raw payload is staged raw only when it
    /// holds no AT prefix (`crate::payload::command_safe`).
    fn payload_after_unseen_prompt(&mut self, action: Action) -> bool {
        if !matches!(action, Action::SendExt(..)) {
            return false;
        }
        match &mut self.op {
            Op::SendTo { prompted, .. } => *prompted = true,
            Op::Resolve(r) => r.prompted = true,
            _ => return false,
        }
        true
    }

    /// The modem socket on `conn` is probably gone: configure and dial afresh.
    fn forget_socket(&mut self, conn: ConnId) {
        if let Some(slot) = self.pool.slot_mut(conn) {
            slot.modem.unknown = true;
            slot.modem.configured = false;
            slot.modem.extended = false;
        }
    }

    /// A send was refused: a closed modem socket is the usual reason, perhaps after a reboot
    /// whose `+SYSSTART` the firmware flushed away, and a reboot also drops the data modes.
    /// So configure and dial afresh next time: a payload must never go out in a mode the
    /// modem no longer expects.
    fn note_send_failure(&mut self, conn: ConnId, result: Option<Final>) {
        if result.is_some() {
            self.forget_socket(conn);
        }
    }

    /// A command on a slot did not finish: for a configuration, send it again; for anything
    /// that opens, uses or closes the modem socket, it may or may not be open now, so the next
    /// user closes it first.
    pub(super) fn mark_unknown(&mut self, action: Action) {
        match action {
            Action::Configure(conn) | Action::ConfigureStream(conn) | Action::ConfigureExt(conn, _) => {
                if let Some(slot) = self.pool.slot_mut(conn) {
                    slot.modem.configured = false;
                    slot.modem.extended = false;
                }
            }
            Action::Dial(conn, ..)
            | Action::DialStream(conn, _)
            | Action::DialSecure(conn, _)
            | Action::DialSecureName(conn, _)
            | Action::Listen(conn, _)
            | Action::ListenUdp(conn, _)
            | Action::Accept(conn)
            | Action::SendExt(conn, _)
            | Action::Payload(conn)
            | Action::SendCombined(conn, _)
            | Action::Close(conn) => {
                if let Some(slot) = self.pool.slot_mut(conn) {
                    slot.modem.unknown = true;
                }
            }
            // The modem may have taken AT+CMEE=0 or not: neither mode is known now.
            Action::PlainErrors => {
                self.plain_errors = false;
                self.numeric_errors = false;
            }
            Action::NumericErrors
            | Action::Status
            | Action::Receive(_)
            | Action::ReceiveStream(..)
            | Action::Info(_)
            | Action::DnsLookup(_)
            | Action::ReadClock
            | Action::Registration
            | Action::Pause(_)
            | Action::Resync => {}
            // What the modem's TLS settings are after a lost answer (`secure.rs`).
            Action::NvWrite(..) | Action::CredPiece(_) | Action::UploadFill(..) | Action::SecurityProfile(_) | Action::SecureConfig(..) => {
                self.secure_unknown(action)
            }
        }
    }
}
