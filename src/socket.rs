//! The pool of the modem's six socket slots, and what we know of each.
//!
//! A [`Handle`] names a slot *and* the generation it was opened in, so a handle kept after
//! `close` (or after a module reset) can never reach the slot's next user: it gets
//! [`Error::BadHandle`] instead.

use core::net::SocketAddr;

use crate::at::{ConnId, CONN_IDS};
use crate::error::Error;

/// An open socket as the C side sees it: slot index in the low 8 bits, generation above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle(pub u32);

const GENERATION_MASK: u32 = 0x00ff_ffff;

impl Handle {
    fn new(index: usize, generation: u32) -> Handle {
        // index < 6, so the cast cannot truncate.
        Handle(((generation & GENERATION_MASK) << 8) | index as u32)
    }

    fn index(self) -> usize {
        (self.0 & 0xff) as usize
    }

    fn generation(self) -> u32 {
        self.0 >> 8
    }

    /// The slot this handle names, 0..6, or `None` for a value no handle has.
    pub fn slot_index(self) -> Option<usize> {
        Some(self.index()).filter(|&i| i < CONN_IDS)
    }

    /// Whether `self` names the same slot as `older` in a later generation: then `older` is
    /// stale (a slot's generation only grows, and a handle gets the slot's current one).
    pub fn supersedes(self, older: Handle) -> bool {
        let ahead = self.generation().wrapping_sub(older.generation()) & GENERATION_MASK;
        self.index() == older.index() && ahead != 0 && ahead <= GENERATION_MASK / 2
    }
}

/// How payloads travel each way on a connId (`AT+SQNSCFGEXT` recvDataMode, sendDataMode):
/// hex text, or raw bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DataModes {
    pub recv_hex: bool,
    pub send_hex: bool,
}

/// What the modem holds in a connId, independent of who uses the slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModemSocket {
    /// `AT+SQNSCFG` sent since the modem booted.
    pub configured: bool,
    /// ... with the short TCP connect timeout (streams and listeners need it).
    pub stream_timeouts: bool,
    /// `AT+SQNSCFGEXT` sent since the modem booted, with `modes`.
    pub extended: bool,
    /// The data modes that `AT+SQNSCFGEXT` set (meaningful while `extended`).
    pub modes: DataModes,
    /// A raw read on this connId held a NUL byte: Pycom's LTE task looks for the final code
    /// with a C-string search, which stops there, so each such answer costs its 1 s idle wait.
    /// The connId reads hex from then on, for its later users too (a client that opens a
    /// socket per request pays once), until the modem reboots.
    pub recv_hex_forced: bool,
    /// Peer and local port of the open modem socket, if it is open.
    pub dialled: Option<Dialled>,
    /// A command on this slot failed half-way (timeout, abort): the modem may or may not hold
    /// a socket here, so the next user closes it first.
    pub unknown: bool,
}

/// What a slot is used as. The six connIds are shared by all kinds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SlotKind {
    /// UDP: re-dialled transparently after a reboot or `+SQNSH`.
    #[default]
    Datagram,
    /// A TCP connection this side dialled, or one a listener accepted.
    Stream,
    /// A TCP listener (`AT+SQNSL`); accepting turns the connId into the connection.
    Listener,
}

/// Where a stream is in its life. A stream is dialled once: after its end it is never
/// re-dialled, because bytes in flight cannot be replayed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StreamLife {
    /// Not connected yet.
    #[default]
    Fresh,
    /// Connected.
    Open,
    /// The modem closed it (`+SQNSH`, or a read of a socket it no longer has): reads give EOF.
    Closed,
    /// The modem rebooted (or reset the connection) with the stream open: `ECONNRESET`.
    Reset,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialled {
    pub peer: SocketAddr,
    pub local_port: u16,
}

/// Where an idle socket's receive poll schedule stands: a blocking receive is run as several
/// operations, and the next one goes on with the same schedule instead of starting it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollSchedule {
    /// The pause between empty reads that was reached.
    pub pause_ms: u32,
    /// When the next read is due.
    pub next_read_ms: u32,
}

/// One of the six slots.
#[derive(Clone, Copy, Debug, Default)]
pub struct Slot {
    generation: u32,
    in_use: bool,
    /// Where sends go and receives come from: set by `connect` and by each `sendto`.
    pub peer: Option<SocketAddr>,
    /// Set by `connect`: `send` without an address is allowed.
    pub connected: bool,
    /// Local UDP port asked for by `bind` (0 = modem picks).
    pub local_port: u16,
    /// Bytes the modem said are waiting (`+SQNSRING`, `+SQNSI`); a hint, never trusted alone
    /// because Pycom firmware flushes URCs away before every command.
    pub buffered_hint: u32,
    /// The last readiness sweep (`AT+SQNSS`) showed data or a connection waiting here;
    /// cleared by the next read, accept or dial of this slot.
    pub swept_ready: bool,
    /// Set when a receive ended at its deadline between two reads.
    pub poll: Option<PollSchedule>,
    /// A bound datagram socket read before it had a peer: the modem listens on its port for
    /// any sender (`AT+SQNSLUDP`, engine/udp_server.rs).
    pub udp_server: bool,
    /// A UDP server's last datagram came from here (`None`: none yet, or the modem did not
    /// say): the only address a reply can go to.
    pub last_sender: Option<SocketAddr>,
    /// Which of this connId's payloads needed hex: whether it stays hex for one that need
    /// not (`Engine::sends_hex`).
    pub hex_history: crate::payload::HexHistory,
    pub modem: ModemSocket,
    pub kind: SlotKind,
    /// Streams only.
    pub life: StreamLife,
}

/// The six slots.
#[derive(Debug)]
pub struct Pool {
    slots: [Slot; CONN_IDS],
}

impl Pool {
    pub const fn new() -> Pool {
        const FREE: Slot = Slot {
            generation: 0,
            in_use: false,
            peer: None,
            connected: false,
            local_port: 0,
            buffered_hint: 0,
            swept_ready: false,
            poll: None,
            udp_server: false,
            last_sender: None,
            hex_history: crate::payload::HexHistory::NONE,
            modem: ModemSocket {
                configured: false,
                stream_timeouts: false,
                extended: false,
                modes: DataModes { recv_hex: false, send_hex: false },
                recv_hex_forced: false,
                dialled: None,
                unknown: false,
            },
            kind: SlotKind::Datagram,
            life: StreamLife::Fresh,
        };
        Pool { slots: [FREE; CONN_IDS] }
    }

    /// Takes a free slot. No AT exchange: the modem socket is dialled on first use.
    pub fn open(&mut self) -> Result<Handle, Error> {
        self.open_kind(SlotKind::Datagram)
    }

    /// Takes a free slot for a socket of `kind`.
    pub fn open_kind(&mut self, kind: SlotKind) -> Result<Handle, Error> {
        let (index, slot) = self
            .slots
            .iter_mut()
            .enumerate()
            .find(|(_, s)| !s.in_use)
            .ok_or(Error::NoFreeSlot)?;
        slot.in_use = true;
        slot.kind = kind;
        slot.life = StreamLife::Fresh;
        Ok(Handle::new(index, slot.generation))
    }

    /// Resolves a handle to its connId, or `BadHandle` for closed and stale handles.
    pub fn conn(&self, handle: Handle) -> Result<ConnId, Error> {
        let slot = self.slots.get(handle.index()).ok_or(Error::BadHandle)?;
        if slot.in_use && slot.generation == handle.generation() & GENERATION_MASK {
            ConnId::from_index(handle.index()).ok_or(Error::BadHandle)
        } else {
            Err(Error::BadHandle)
        }
    }

    pub fn slot(&self, conn: ConnId) -> Option<&Slot> {
        self.slots.get(conn.index())
    }

    pub fn slot_mut(&mut self, conn: ConnId) -> Option<&mut Slot> {
        self.slots.get_mut(conn.index())
    }

    /// Frees a slot for the next user; every handle to it becomes stale.
    /// What the modem holds (`modem`) is kept: it describes the connId, not the user.
    pub fn release(&mut self, conn: ConnId) {
        if let Some(slot) = self.slots.get_mut(conn.index()) {
            let modem = slot.modem;
            *slot = Slot {
                generation: (slot.generation + 1) & GENERATION_MASK,
                modem,
                ..Slot::default()
            };
        }
    }

    /// Frees every slot (module reset): all existing handles become stale.
    pub fn release_all(&mut self) {
        for index in 0..CONN_IDS {
            if let Some(conn) = ConnId::from_index(index) {
                self.release(conn);
            }
        }
    }

    /// The modem rebooted: no connId holds a socket or a configuration any more.
    pub fn forget_modem_state(&mut self) {
        for slot in &mut self.slots {
            slot.modem = ModemSocket::default();
            slot.buffered_hint = 0;
            slot.swept_ready = false;
            // An open stream died with the modem.
            if slot.life == StreamLife::Open {
                slot.life = StreamLife::Reset;
            }
        }
    }

    /// Data modes changed: every connId needs `AT+SQNSCFGEXT` again.
    pub fn forget_data_modes(&mut self) {
        for slot in &mut self.slots {
            slot.modem.extended = false;
        }
    }

    pub fn in_use(&self) -> usize {
        self.slots.iter().filter(|s| s.in_use).count()
    }
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_slots_then_no_free_slot() {
        let mut pool = Pool::new();
        let handles: [Handle; 6] = core::array::from_fn(|_| pool.open().unwrap());
        assert_eq!(pool.open(), Err(Error::NoFreeSlot));
        assert_eq!(pool.in_use(), 6);
        let conn = pool.conn(handles[2]).unwrap();
        assert_eq!(conn.get(), 3);
        pool.release(conn);
        assert_eq!(pool.in_use(), 5);
        assert!(pool.open().is_ok());
    }

    #[test]
    fn stale_handle_cannot_reach_reused_slot() {
        let mut pool = Pool::new();
        let first = pool.open().unwrap();
        let conn = pool.conn(first).unwrap();
        pool.release(conn);
        assert_eq!(pool.conn(first), Err(Error::BadHandle));
        let second = pool.open().unwrap();
        assert_ne!(first, second);
        assert_eq!(pool.conn(second), Ok(conn));
        assert_eq!(pool.conn(first), Err(Error::BadHandle));
        assert_eq!(pool.conn(Handle(0xdead_beef)), Err(Error::BadHandle));
    }

    #[test]
    fn a_later_handle_of_a_slot_supersedes_the_earlier_ones() {
        let mut pool = Pool::new();
        let first = pool.open().unwrap();
        let other = pool.open().unwrap();
        pool.release(pool.conn(first).unwrap());
        let second = pool.open().unwrap();
        assert_eq!((first.slot_index(), second.slot_index()), (Some(0), Some(0)));
        assert!(second.supersedes(first));
        assert!(!first.supersedes(second));
        assert!(!second.supersedes(second));
        assert!(!second.supersedes(other));
        // Across the generation counter's wrap.
        assert!(Handle::new(2, 0).supersedes(Handle::new(2, GENERATION_MASK)));
        assert_eq!(Handle(0x0000_0107).slot_index(), None);
    }

    #[test]
    fn release_keeps_modem_knowledge() {
        let mut pool = Pool::new();
        let h = pool.open().unwrap();
        let conn = pool.conn(h).unwrap();
        pool.slot_mut(conn).unwrap().modem.configured = true;
        pool.slot_mut(conn).unwrap().local_port = 99;
        pool.release(conn);
        assert!(pool.slot(conn).unwrap().modem.configured);
        assert_eq!(pool.slot(conn).unwrap().local_port, 0);
        pool.forget_modem_state();
        assert!(!pool.slot(conn).unwrap().modem.configured);
    }
}
