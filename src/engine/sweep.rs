//! Readiness for `select.poll`: one exchange answers for every socket.
//!
//! `AT+SQNSS` lists all six connIds with their state (0 closed, 1 active, 2 suspended,
//! 3 suspended with pending data, 4 listening, 5 incoming connection). One sweep therefore
//! tells each registered socket whether the modem holds data (3) or a connection (5) for it,
//! and whether a socket we believe open has gone (0). The shim asks once per poll pass and
//! reads the other sockets' answers with [`Engine::ready`], without another exchange.
//!
//! Where the modem does not answer the status query (an error code, no lines), the socket the
//! poll was started for is asked with `AT+SQNSI` (its `buff_in`), as before the sweep existed.
//! Whether LR5 reports state 3 for UDP sockets is not shown by any capture (README: readiness).

use super::plan::Next;
use super::stream::{StatusLine, STATE_INCOMING};
use super::{Action, Engine, Op, Outcome};
use crate::at::ConnId;
use crate::error::Error;
use crate::socket::{Handle, SlotKind, StreamLife};

/// `AT+SQNSS` state: suspended (command mode) with data waiting to be read.
const STATE_PENDING_DATA: u32 = 3;
const STATE_CLOSED: u32 = 0;

impl Engine {
    pub(super) fn plan_poll(&mut self, conn: ConnId, queried: bool, status_failed: bool) -> Next {
        if self.is_udp_server(conn) {
            if let Some(action) = self.udp_listen_step(conn) {
                return Next::Act(action);
            }
        }
        if !queried {
            if status_failed {
                let dialled = self.pool.slot(conn).is_some_and(|s| s.modem.dialled.is_some());
                if dialled && !self.readable(conn) {
                    return Next::Act(Action::Info(conn));
                }
            } else if self.anything_to_sweep() {
                return Next::Act(Action::Status);
            }
        }
        Next::Finish(Ok(Outcome { readable: self.readable(conn), ..Outcome::default() }))
    }

    /// Whether any slot holds a modem socket whose readiness the modem could report.
    fn anything_to_sweep(&self) -> bool {
        (0..crate::at::CONN_IDS)
            .filter_map(ConnId::from_index)
            .filter_map(|c| self.pool.slot(c))
            .any(|s| s.modem.dialled.is_some())
    }

    /// What is known without an exchange: a ring or `buff_in` seen, the last sweep's state,
    /// or a stream's end (the read gives EOF or the reset at once).
    fn readable(&self, conn: ConnId) -> bool {
        self.pool.slot(conn).is_some_and(|s| {
            s.buffered_hint > 0
                || s.swept_ready
                || (s.kind != SlotKind::Datagram && matches!(s.life, StreamLife::Closed | StreamLife::Reset))
        })
    }

    /// Readiness of `handle` as of the last sweep; no exchange.
    pub fn ready(&self, handle: Handle) -> Result<bool, Error> {
        let conn = self.pool.conn(handle)?;
        Ok(self.readable(conn))
    }

    /// One `+SQNSS` line of a sweep.
    pub(super) fn note_sweep_status(&mut self, line: StatusLine) {
        let Some(conn) = u8::try_from(line.conn).ok().and_then(ConnId::new) else { return };
        let Some(slot) = self.pool.slot_mut(conn) else { return };
        if slot.modem.dialled.is_none() {
            return;
        }
        slot.swept_ready = match slot.kind {
            SlotKind::Listener => line.state == STATE_INCOMING,
            // A UDP server: which state LR5 shows for a listening connId with a datagram
            // waiting is not known (Telit's #SLUDP, the family this mirrors, shows 5): both
            // count (README: readiness and servers).
            SlotKind::Datagram if slot.udp_server => matches!(line.state, STATE_PENDING_DATA | STATE_INCOMING),
            SlotKind::Datagram | SlotKind::Stream => line.state == STATE_PENDING_DATA,
        };
        if line.state == STATE_CLOSED {
            // The modem no longer holds the socket (its +SQNSH was flushed away unseen): a
            // datagram socket is dialled again on use; a stream or listener has ended.
            slot.modem.dialled = None;
            slot.modem.unknown = false;
            if slot.life == StreamLife::Open {
                slot.life = if slot.kind == SlotKind::Listener { StreamLife::Reset } else { StreamLife::Closed };
            }
        }
    }

    /// The sweep's `AT+SQNSS` is answered (`ok`: with OK).
    pub(super) fn complete_sweep_status(&mut self, ok: bool) {
        if let Op::Poll { queried, status_failed, .. } = &mut self.op {
            if ok {
                *queried = true;
            } else {
                *status_failed = true;
            }
        }
    }
}
