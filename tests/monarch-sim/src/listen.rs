//! TCP listening sockets (`AT+SQNSL`, `AT+SQNSA`): a modem-side listener on port P is a
//! real TCP listener on 127.0.0.1:P and [::1]:P, so any client on the machine reaches the
//! board. One incoming connection at a time waits on the connId (state 5 in `AT+SQNSS`,
//! announced with `+SQNSRING: <id>`); later ones wait in the kernel's backlog until it is
//! accepted, which turns the connId into that connection (the listener stops, as on the modem).

use std::collections::VecDeque;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread;
use std::time::Duration;

use crate::{lock, Shared};

pub(crate) struct Listener {
    pub(crate) port: u16,
    pub(crate) token: u64,
    /// Connections waiting for `AT+SQNSA`, with their peers (one, or two when both
    /// loopback listeners accepted at the same moment).
    pub(crate) pending: VecDeque<(TcpStream, SocketAddr)>,
    stop: Arc<AtomicBool>,
    /// The bound sockets (the accept threads hold duplicates), kept so a listener stopped by
    /// an accept can hand its port to the next `AT+SQNSL` on it (see [`Listener::park`]).
    sockets: Vec<TcpListener>,
}

/// A stopped listener's bound sockets, kept for the next `AT+SQNSL` on the same port.
pub(crate) struct Parked {
    pub(crate) port: u16,
    sockets: Vec<TcpListener>,
}

impl Listener {
    /// Listens on `port` on both loopback addresses (the IPv6 one only where the host has it).
    /// `parked`: the sockets of a listener an accept stopped on this port, taken over so the
    /// port stays open between two accepts (the modem listens again at once; binding afresh
    /// would race the old accept threads for the port).
    pub(crate) fn start(port: u16, conn: u8, token: u64, shared: Weak<Shared>, parked: Option<Parked>) -> std::io::Result<Listener> {
        let sockets = match parked.filter(|p| p.port == port) {
            Some(p) => p.sockets,
            None => {
                let v4 = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
                let port = v4.local_addr()?.port();
                let v6 = TcpListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port))).ok();
                std::iter::once(v4).chain(v6).collect()
            }
        };
        let port = sockets.first().map(TcpListener::local_addr).transpose()?.map_or(port, |a| a.port());
        let stop = Arc::new(AtomicBool::new(false));
        for socket in &sockets {
            let listener = socket.try_clone()?;
            listener.set_nonblocking(true)?;
            let stop = Arc::clone(&stop);
            let shared = shared.clone();
            thread::Builder::new()
                .name(format!("monarch-listen-{conn}"))
                .spawn(move || accept_loop(&listener, conn, token, &stop, &shared))?;
        }
        Ok(Listener { port, token, pending: VecDeque::new(), stop, sockets })
    }

    pub(crate) fn close(self) {
        self.stop.store(true, Ordering::Release);
    }

    /// Stops accepting but keeps the port bound for the next listen on it.
    pub(crate) fn park(self) -> Parked {
        self.stop.store(true, Ordering::Release);
        Parked { port: self.port, sockets: self.sockets }
    }
}

/// Accepts while the connId has no connection waiting; hands each one to the modem.
fn accept_loop(listener: &TcpListener, conn: u8, token: u64, stop: &AtomicBool, shared: &Weak<Shared>) {
    while !stop.load(Ordering::Acquire) {
        let Some(state) = shared.upgrade() else { return };
        // Its own statement: the lock is released before `incoming` takes it again.
        let free = lock(&state.modem).listener_free(conn, token);
        match free {
            None => return,
            Some(false) => {}
            Some(true) => {
                if let Ok((stream, peer)) = listener.accept() {
                    let mut modem = lock(&state.modem);
                    modem.incoming(conn, token, stream, peer, &state.out);
                    continue;
                }
            }
        }
        drop(state);
        thread::sleep(Duration::from_millis(10));
    }
}
