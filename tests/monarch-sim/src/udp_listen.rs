//! UDP listeners (`AT+SQNSLUDP=<id>,1,<port>`): the modem takes datagrams from any sender on
//! port P, so the simulator listens on 127.0.0.1:P and [::1]:P (the IPv6 one where the host
//! has it). Each datagram is queued with its sender and rung in; `AT+SQNSRECV` reads one with
//! the header `+SQNSRECV: <id>,<n>,"<addr>",<port>` (the four-field form Walter's driver
//! reads; the `udp_sender_hidden` fault drops the sender fields, the two-field form other
//! drivers read). `AT+SQNSS` shows the last sender as the connId's remote (as Telit's `#SS`
//! does for a `#SLUDP` socket), except after a read the fault hid it from. A send on the connId (`AT+SQNSSENDEXT`) goes to the sender of the last
//! datagram read, from the listening socket of its family.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread;
use std::time::{Duration, Instant};

use crate::{lock, Shared};

pub(crate) struct UdpListener {
    pub(crate) port: u16,
    pub(crate) token: u64,
    /// Datagrams not yet read, with their senders.
    pub(crate) queue: VecDeque<(Vec<u8>, SocketAddr)>,
    /// The sender of the last datagram read: where a send on the connId goes.
    pub(crate) last_sender: Option<SocketAddr>,
    /// The `udp_sender_hidden` fault hid the last sender: `AT+SQNSS` does not show it either.
    pub(crate) sender_hidden: bool,
    sockets: Vec<UdpSocket>,
    stop: Arc<AtomicBool>,
}

/// How long a listen waits for a port a just-closed listener's readers still hold (they end
/// within their 50 ms read timeout).
const REBIND_WAIT: Duration = Duration::from_millis(300);

fn bind_retrying(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let start = Instant::now();
    loop {
        match UdpSocket::bind(addr) {
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && start.elapsed() < REBIND_WAIT => {
                thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

impl UdpListener {
    pub(crate) fn start(port: u16, conn: u8, token: u64, shared: Weak<Shared>) -> std::io::Result<UdpListener> {
        let v4 = bind_retrying(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
        let v6 = bind_retrying(SocketAddr::from((Ipv6Addr::LOCALHOST, port))).ok();
        let sockets: Vec<UdpSocket> = std::iter::once(v4).chain(v6).collect();
        let stop = Arc::new(AtomicBool::new(false));
        for socket in &sockets {
            socket.set_read_timeout(Some(Duration::from_millis(50)))?;
            let reader = socket.try_clone()?;
            let reader_stop = Arc::clone(&stop);
            let reader_shared = shared.clone();
            thread::Builder::new()
                .name(format!("monarch-udp-listen-{conn}"))
                .spawn(move || receive_loop(&reader, conn, token, &reader_stop, &reader_shared))?;
        }
        Ok(UdpListener { port, token, queue: VecDeque::new(), last_sender: None, sender_hidden: false, sockets, stop })
    }

    pub(crate) fn buffered(&self) -> usize {
        self.queue.iter().map(|(d, _)| d.len()).sum()
    }

    /// Takes the next datagram (cut to `max`); its sender becomes the one sends answer.
    pub(crate) fn take(&mut self, max: usize) -> Option<(Vec<u8>, SocketAddr)> {
        let (mut data, from) = self.queue.pop_front()?;
        data.truncate(max);
        self.last_sender = Some(from);
        Some((data, from))
    }

    /// Sends to the last sender, from the listening socket of its family.
    pub(crate) fn reply(&self, data: &[u8]) -> bool {
        let Some(to) = self.last_sender else { return false };
        self.sockets
            .iter()
            .find(|s| s.local_addr().is_ok_and(|a| a.is_ipv4() == to.is_ipv4()))
            .is_some_and(|s| s.send_to(data, to).is_ok())
    }

    /// Stops the readers; they end within their 50 ms read timeout and release the port.
    pub(crate) fn close(self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn receive_loop(socket: &UdpSocket, conn: u8, token: u64, stop: &AtomicBool, shared: &Weak<Shared>) {
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Acquire) {
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(_) => continue,
        };
        let Some(shared) = shared.upgrade() else { return };
        if stop.load(Ordering::Acquire) {
            return;
        }
        let mut modem = lock(&shared.modem);
        modem.udp_datagram_arrived(conn, token, buf.get(..n).unwrap_or_default(), from, &shared.out);
    }
}
