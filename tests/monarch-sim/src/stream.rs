//! The modem's TCP sockets: each dialled TCP connId is a real TCP connection on loopback.
//!
//! A reader thread moves what the peer sends into the slot's buffer (one `+SQNSRING` per
//! arrival) and stops reading while the buffer holds `RX_WINDOW` bytes, so a host that does
//! not read closes the TCP window as a modem's finite buffer would. A writer thread carries
//! what the host sends to the peer; bytes it has not yet handed to the kernel are the
//! "waiting for acknowledgement" count of `AT+SQNSI`, so a peer that never reads makes it grow.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Weak};
use std::thread;
use std::time::Duration;

use crate::{lock, Shared};

/// Bytes the modem buffers for the host before it stops reading from the peer.
pub(crate) const RX_WINDOW: usize = 16 * 1024;
/// Bytes the modem holds for a peer that does not take them before it refuses more sends.
pub(crate) const TX_WINDOW: u64 = 64 * 1024;
/// Largest piece the reader takes from the kernel at once (one TCP segment on Ethernet).
const SEGMENT: usize = 1460;

/// The TCP side of an open modem socket.
pub(crate) struct TcpLink {
    stream: TcpStream,
    to_writer: Option<Sender<Vec<u8>>>,
    /// Bytes sent by the host and not yet taken by the peer's kernel.
    pub(crate) unacked: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

/// How a stream ended, as the reader saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamEnd {
    /// The peer closed its side (FIN): what is buffered can still be read.
    Closed,
    /// The peer reset the connection: buffered data is lost.
    Reset,
}

impl TcpLink {
    /// Connects to `peer` within `timeout`, and starts the reader and writer threads.
    pub(crate) fn dial(peer: SocketAddr, timeout: Duration, conn: u8, token: u64, shared: Weak<Shared>) -> std::io::Result<(TcpLink, SocketAddr)> {
        let stream = TcpStream::connect_timeout(&peer, timeout)?;
        TcpLink::start(stream, conn, token, shared)
    }

    /// Starts the reader and writer threads of a connected stream (dialled or accepted).
    pub(crate) fn start(stream: TcpStream, conn: u8, token: u64, shared: Weak<Shared>) -> std::io::Result<(TcpLink, SocketAddr)> {
        stream.set_nonblocking(false)?;
        stream.set_nodelay(true)?;
        let local = stream.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let unacked = Arc::new(AtomicU64::new(0));
        let reader = stream.try_clone()?;
        reader.set_read_timeout(Some(Duration::from_millis(50)))?;
        let reader_stop = Arc::clone(&stop);
        thread::Builder::new()
            .name(format!("monarch-tcp-rx-{conn}"))
            .spawn(move || read_loop(reader, conn, token, &reader_stop, &shared))?;
        let (to_writer, from_host) = channel::<Vec<u8>>();
        let writer = stream.try_clone()?;
        writer.set_write_timeout(Some(Duration::from_millis(50)))?;
        let writer_unacked = Arc::clone(&unacked);
        let writer_stop = Arc::clone(&stop);
        thread::Builder::new()
            .name(format!("monarch-tcp-tx-{conn}"))
            .spawn(move || write_loop(writer, &from_host, &writer_unacked, &writer_stop))?;
        Ok((TcpLink { stream, to_writer: Some(to_writer), unacked, stop }, local))
    }

    /// A link whose threads someone else runs (the TLS pump, `tls_link.rs`): `to_writer`
    /// takes the host's bytes, `unacked` counts those not yet handed to the kernel.
    pub(crate) fn from_parts(stream: TcpStream, to_writer: Sender<Vec<u8>>, unacked: Arc<AtomicU64>, stop: Arc<AtomicBool>) -> TcpLink {
        TcpLink { stream, to_writer: Some(to_writer), unacked, stop }
    }

    /// Queues bytes for the peer; false when the modem's send buffer (`window` bytes) is
    /// full. `stall`: the peer takes nothing, so the bytes stay unacknowledged.
    pub(crate) fn send(&self, data: &[u8], window: u64, stall: bool) -> bool {
        if !self.room_for_send(data.len(), window) {
            return false;
        }
        self.unacked.fetch_add(data.len() as u64, Ordering::AcqRel);
        stall || self.to_writer.as_ref().is_some_and(|tx| tx.send(data.to_vec()).is_ok())
    }

    pub(crate) fn room_for_send(&self, len: usize, window: u64) -> bool {
        self.unacked.load(Ordering::Acquire) + len as u64 <= window
    }

    pub(crate) fn unacked(&self) -> u64 {
        self.unacked.load(Ordering::Acquire)
    }

    /// Closes the connection: the writer hands the peer what is queued, then sends FIN.
    pub(crate) fn close(&mut self) {
        self.to_writer.take();
    }

    /// Drops the connection at once (modem reboot): nothing queued goes out.
    pub(crate) fn abort(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.to_writer.take();
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// Hands queued host bytes to the kernel; after the last (the socket was closed) it shuts
/// the connection down, which also ends the reader. A peer that does not read holds the
/// writer here, and `unacked` grows with every send the host makes.
fn write_loop(mut stream: TcpStream, from_host: &Receiver<Vec<u8>>, unacked: &AtomicU64, stop: &AtomicBool) {
    while let Ok(data) = from_host.recv() {
        let mut rest = &data[..];
        while !rest.is_empty() {
            if stop.load(Ordering::Acquire) {
                return;
            }
            match stream.write(rest) {
                Ok(0) => return,
                Ok(n) => {
                    rest = &rest[n..];
                    unacked.fetch_sub(n as u64, Ordering::AcqRel);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                Err(_) => return,
            }
        }
    }
    stop.store(true, Ordering::Release);
    let _ = stream.shutdown(Shutdown::Both);
}

/// Reads what the peer sends until the connection ends or the socket is closed.
fn read_loop(mut stream: TcpStream, conn: u8, token: u64, stop: &AtomicBool, shared: &Weak<Shared>) {
    let mut buf = vec![0u8; SEGMENT];
    while !stop.load(Ordering::Acquire) {
        let Some(state) = shared.upgrade() else { return };
        let room = lock(&state.modem).stream_room(conn, token);
        drop(state);
        match room {
            None => return,
            Some(0) => {
                // The host has not read: leave the peer's bytes in its kernel (window closes).
                thread::sleep(Duration::from_millis(10));
                continue;
            }
            Some(_) => {}
        }
        let result = stream.read(&mut buf);
        let Some(shared) = shared.upgrade() else { return };
        if stop.load(Ordering::Acquire) {
            return;
        }
        let mut modem = lock(&shared.modem);
        match result {
            Ok(0) => {
                modem.stream_ended(conn, token, StreamEnd::Closed, &shared.out);
                return;
            }
            Ok(n) => modem.datagram_arrived(conn, token, buf.get(..n).unwrap_or_default(), &shared.out),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(_) => {
                modem.stream_ended(conn, token, StreamEnd::Reset, &shared.out);
                return;
            }
        }
    }
}
