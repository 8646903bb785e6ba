//! UDP servers: a datagram socket bound to a port and read before it has a peer
//! (`bind(('', port))` + `recvfrom`) takes datagrams from any sender through
//! `AT+SQNSLUDP=<conn>,1,<port>` (sequans-at-sockets.md §2.10; LR5's listenState 1).
//!
//! * The modem listens from the first receive or poll of the bound socket; the connId holds
//!   the listener (a close sends `AT+SQNSH`, a reboot or a `+SQNSH` makes the next read listen
//!   again).
//! * The sender comes from the `+SQNSRECV` header when the modem prints it
//!   (`<conn>,<n>,<addr>,<port>`); when it does not, the datagram is delivered with no sender
//!   and `recvfrom` says so (the shim raises), nothing is made up.
//! * A reply leaves with `AT+SQNSSENDEXT` on the listening connId, which the modem sends to the
//!   sender of the last datagram read (c_glue/README.md: the sources and their confidence). So
//!   `sendto` takes only that sender's address: any other address, or a sender the modem did
//!   not name, is refused before anything reaches the modem.

use core::net::{IpAddr, Ipv6Addr, SocketAddr};

use super::plan::Next;
use super::{Action, Engine, Outcome};
use crate::at::{ConnId, Final};
use crate::error::Error;
use crate::socket::{Dialled, SlotKind};

/// What a listening connId records as its "peer": the same mark a TCP listener uses.
fn listening(port: u16) -> Dialled {
    Dialled { peer: SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0), local_port: port }
}

impl Engine {
    /// A receive or poll on a datagram socket with no peer: a socket bound to a port becomes
    /// a UDP server (true); any other has nothing to read from (false).
    pub(super) fn serve_if_bound(&mut self, conn: ConnId) -> bool {
        let Some(slot) = self.pool.slot_mut(conn) else { return false };
        if slot.udp_server {
            return true;
        }
        if slot.kind != SlotKind::Datagram || slot.peer.is_some() || slot.connected || slot.local_port == 0 {
            return false;
        }
        slot.udp_server = true;
        slot.last_sender = None;
        true
    }

    pub(super) fn is_udp_server(&self, conn: ConnId) -> bool {
        self.pool.slot(conn).is_some_and(|s| s.udp_server)
    }

    /// The first command still needed before `conn` listens for datagrams on its port.
    pub(super) fn udp_listen_step(&self, conn: ConnId) -> Option<Action> {
        if !self.numeric_errors {
            return Some(Action::NumericErrors);
        }
        let slot = self.pool.slot(conn)?;
        let wanted = listening(slot.local_port);
        let modem = slot.modem;
        if modem.unknown || modem.dialled.is_some_and(|d| d != wanted) {
            return Some(Action::Close(conn));
        }
        if !modem.configured {
            return Some(Action::Configure(conn));
        }
        if let Some(action) = self.data_modes_step(conn) {
            return Some(action);
        }
        if modem.dialled.is_none() {
            return Some(Action::ListenUdp(conn, slot.local_port));
        }
        None
    }

    /// A reply from a UDP server: only to the sender of the last datagram read, on the
    /// listening connId. `None`: the send goes on as planned (the listener is in place).
    pub(super) fn plan_udp_reply(&self, conn: ConnId, peer: SocketAddr) -> Option<Next> {
        let slot = self.pool.slot(conn)?;
        if slot.last_sender != Some(peer) {
            return Some(Next::Finish(Err(Error::NotLastSender)));
        }
        // A listener that is gone (reboot, +SQNSH) or in doubt no longer knows the sender:
        // listening again would answer no one.
        if self.udp_listen_step(conn).is_some() {
            return Some(Next::Finish(Err(Error::Modem)));
        }
        None
    }

    /// A datagram whose header did not name its sender: `AT+SQNSS` once, whose line for the
    /// listening connId shows the remote the modem last heard from (Telit's `#SS` does, for
    /// a `#SLUDP` socket, in the family these commands mirror); an unspecified remote or no
    /// answer leaves the sender unknown.
    pub(super) fn ask_sender(&mut self) -> Option<Action> {
        if self.sender.is_some() || self.sender_asked {
            return None;
        }
        self.sender_asked = true;
        Some(Action::Status)
    }

    /// One `+SQNSS` line read for the sender of the datagram just read on `conn`.
    pub(super) fn note_sender_status(&mut self, conn: ConnId, line: super::stream::StatusLine) {
        if line.conn != u32::from(conn.get()) {
            return;
        }
        self.sender = line.peer.filter(|p| p.port() != 0 && !p.ip().is_unspecified());
    }

    /// The outcome of a server's receive: the sender the header named, if any.
    pub(super) fn udp_server_received(&mut self, conn: ConnId) -> Outcome {
        let from = self.sender;
        if let Some(slot) = self.pool.slot_mut(conn) {
            slot.last_sender = from;
        }
        Outcome { received: self.datagram.len(), from, ..Outcome::default() }
    }

    /// `AT+SQNSLUDP` answered.
    pub(super) fn complete_udp_listen(&mut self, action: Action, result: Option<Final>) -> Option<Result<(), Error>> {
        let Action::ListenUdp(conn, port) = action else { return None };
        if result != Some(Final::Ok) {
            self.mark_unknown(action);
            return Some(Err(Error::AddressInUse));
        }
        if let Some(slot) = self.pool.slot_mut(conn) {
            slot.modem.dialled = Some(listening(port));
            slot.modem.unknown = false;
            slot.buffered_hint = 0;
            slot.swept_ready = false;
            slot.last_sender = None;
        }
        Some(Ok(()))
    }
}
