//! The modem's sockets: each dialled UDP connId is a real UDP socket on loopback, connected to
//! the dialled peer (acceptAnyRemote 0: other senders are dropped by the OS, as by the modem);
//! each TCP connId a real TCP connection (`stream.rs`).

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread;
use std::time::Duration;

use crate::stream::TcpLink;
use crate::{lock, Shared};

/// What carries an open modem socket's bytes.
pub(crate) enum Link {
    Udp(UdpSocket),
    Tcp(TcpLink),
}

/// An open modem socket.
pub(crate) struct OpenSocket {
    pub(crate) link: Link,
    pub(crate) peer: SocketAddr,
    pub(crate) local: SocketAddr,
    /// Datagrams received and not yet read with `AT+SQNSRECV`.
    pub(crate) queue: VecDeque<Vec<u8>>,
    /// Unique per dial, so a reader of a closed socket cannot queue into its successor.
    pub(crate) token: u64,
    /// TCP: the peer closed its side; `+SQNSH` follows once the host has read the rest.
    pub(crate) peer_closed: bool,
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
        Ok(OpenSocket { link: Link::Udp(socket), peer, local, queue: VecDeque::new(), token, peer_closed: false, stop, reader: Some(reader) })
    }

    /// A connection a modem-side listener accepted (`AT+SQNSA`).
    pub(crate) fn accepted(stream: std::net::TcpStream, peer: SocketAddr, conn: u8, token: u64, shared: Weak<Shared>) -> std::io::Result<OpenSocket> {
        let (link, local) = TcpLink::start(stream, conn, token, shared)?;
        Ok(OpenSocket {
            link: Link::Tcp(link),
            peer,
            local,
            queue: VecDeque::new(),
            token,
            peer_closed: false,
            stop: Arc::new(AtomicBool::new(false)),
            reader: None,
        })
    }

    /// Opens a TCP connection to `peer` (loopback only) within `timeout`.
    pub(crate) fn dial_tcp(peer: SocketAddr, timeout: Duration, conn: u8, token: u64, shared: Weak<Shared>) -> std::io::Result<OpenSocket> {
        if !peer.ip().is_loopback() {
            return Err(std::io::Error::other("only loopback peers are reachable from the simulator"));
        }
        let (link, local) = TcpLink::dial(peer, timeout, conn, token, shared)?;
        Ok(OpenSocket {
            link: Link::Tcp(link),
            peer,
            local,
            queue: VecDeque::new(),
            token,
            peer_closed: false,
            stop: Arc::new(AtomicBool::new(false)),
            reader: None,
        })
    }

    /// A TCP socket whose link is already up (a TLS dial, `tls_link.rs`).
    pub(crate) fn from_tcp_link(link: TcpLink, peer: SocketAddr, local: SocketAddr, token: u64) -> OpenSocket {
        OpenSocket {
            link: Link::Tcp(link),
            peer,
            local,
            queue: VecDeque::new(),
            token,
            peer_closed: false,
            stop: Arc::new(AtomicBool::new(false)),
            reader: None,
        }
    }

    pub(crate) fn is_tcp(&self) -> bool {
        matches!(self.link, Link::Tcp(_))
    }

    /// Sends host bytes to the peer: one datagram, or more of the stream. False when the
    /// bytes could not be taken (TCP send buffer full, or the connection is gone).
    pub(crate) fn send(&self, data: &[u8], window: u64, stall: bool) -> bool {
        match &self.link {
            Link::Udp(socket) => socket.send(data).is_ok(),
            Link::Tcp(link) => link.send(data, window, stall),
        }
    }

    /// Bytes sent and not yet taken by the peer (TCP), for `AT+SQNSI`.
    pub(crate) fn unacked(&self) -> u64 {
        match &self.link {
            Link::Udp(_) => 0,
            Link::Tcp(link) => link.unacked(),
        }
    }

    /// Takes up to `max` bytes for `AT+SQNSRECV`: one datagram (cut to `max`) for UDP, any
    /// number of arrivals (the last one split) for TCP.
    pub(crate) fn take(&mut self, max: usize) -> Vec<u8> {
        if !self.is_tcp() {
            let mut data = self.queue.pop_front().unwrap_or_default();
            data.truncate(max);
            return data;
        }
        let mut out = Vec::new();
        while out.len() < max {
            let Some(mut front) = self.queue.pop_front() else { break };
            let want = max - out.len();
            if front.len() > want {
                let rest = front.split_off(want);
                self.queue.push_front(rest);
            }
            out.extend_from_slice(&front);
        }
        out
    }

    pub(crate) fn buffered(&self) -> usize {
        self.queue.iter().map(Vec::len).sum()
    }

    /// Stops the reader thread; it ends within its 50 ms read timeout. Not joined: the
    /// caller holds the modem lock the reader may be waiting for.
    pub(crate) fn close(mut self) {
        self.stop.store(true, Ordering::Release);
        self.reader.take();
        if let Link::Tcp(link) = &mut self.link {
            link.close();
        }
    }

    /// Like `close`, but a TCP connection is dropped with nothing more sent (modem reboot).
    pub(crate) fn abort(mut self) {
        if let Link::Tcp(link) = &mut self.link {
            link.abort();
        }
        self.close();
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
