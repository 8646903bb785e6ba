//! The modem's sockets: each dialled connId is a real UDP socket on loopback, connected to
//! the dialled peer (acceptAnyRemote 0: other senders are dropped by the OS, as by the modem).

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread;
use std::time::Duration;

use crate::{lock, Shared};

/// An open modem socket.
pub(crate) struct OpenSocket {
    pub(crate) socket: UdpSocket,
    pub(crate) peer: SocketAddr,
    pub(crate) local: SocketAddr,
    /// Datagrams received and not yet read with `AT+SQNSRECV`.
    pub(crate) queue: VecDeque<Vec<u8>>,
    /// Unique per dial, so a reader of a closed socket cannot queue into its successor.
    pub(crate) token: u64,
    stop: Arc<AtomicBool>,
    reader: Option<thread::JoinHandle<()>>,
}

impl OpenSocket {
    /// Binds on the loopback address of the peer's family and connects to the peer.
    pub(crate) fn dial(peer: SocketAddr, local_port: u16, conn: u8, token: u64, shared: Weak<Shared>) -> std::io::Result<OpenSocket> {
        if !peer.ip().is_loopback() {
            return Err(std::io::Error::other("only loopback peers are reachable from the simulator"));
        }
        let bind_ip = match peer.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        };
        let socket = UdpSocket::bind(SocketAddr::new(bind_ip, local_port))?;
        socket.connect(peer)?;
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let local = socket.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let reader_socket = socket.try_clone()?;
        let reader_stop = Arc::clone(&stop);
        let reader = thread::Builder::new()
            .name(format!("monarch-udp-{conn}"))
            .spawn(move || receive_loop(reader_socket, conn, token, &reader_stop, &shared))?;
        Ok(OpenSocket { socket, peer, local, queue: VecDeque::new(), token, stop, reader: Some(reader) })
    }

    pub(crate) fn buffered(&self) -> usize {
        self.queue.iter().map(Vec::len).sum()
    }

    /// Stops the reader thread; it ends within its 50 ms read timeout. Not joined: the
    /// caller holds the modem lock the reader may be waiting for.
    pub(crate) fn close(mut self) {
        self.stop.store(true, Ordering::Release);
        self.reader.take();
    }
}

/// Reads datagrams until stopped; each one is queued on the slot and rung in.
fn receive_loop(socket: UdpSocket, conn: u8, token: u64, stop: &AtomicBool, shared: &Weak<Shared>) {
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Acquire) {
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            // ICMP port unreachable and the like: the modem ignores them for UDP.
            Err(_) => continue,
        };
        let Some(shared) = shared.upgrade() else { return };
        if stop.load(Ordering::Acquire) {
            return;
        }
        let mut modem = lock(&shared.modem);
        modem.datagram_arrived(conn, token, buf.get(..n).unwrap_or_default(), &shared.out);
    }
}
