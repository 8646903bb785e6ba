//! The UART between host and modem: a byte queue each way.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::{lock, Shared};

/// Modem -> host bytes, with a condition variable for readers waiting on the first byte.
pub(crate) struct Output {
    queue: Mutex<OutQueue>,
    ready: Condvar,
    /// Held while one answer or URC is written (even in pieces), so a URC lands between
    /// answers and never inside a token, as on the modem.
    pub(crate) writer: Mutex<()>,
    /// Host bytes the modem has taken and answered (or stayed silent to), over the
    /// simulator's life: with what it wrote, a host can tell whether the modem still has
    /// something of its to work on (the control line `uart busy`).
    pub(crate) handled: AtomicU64,
    /// Host bytes passed on to the modem over the simulator's life (never fewer than
    /// `handled`: counted before they are passed on).
    pub(crate) forwarded: AtomicU64,
    /// Which UART connection is being served (1 for the first), and the bytes read from it:
    /// a host compares them with what it wrote on its own connection.
    pub(crate) connection: AtomicU64,
    pub(crate) connection_bytes: AtomicU64,
}

#[derive(Default)]
struct OutQueue {
    bytes: VecDeque<u8>,
    closed: bool,
    /// Bytes taken by the pump of the binary's socket and not yet written to it.
    in_flight: bool,
}

impl Output {
    pub(crate) fn new() -> Output {
        Output {
            queue: Mutex::new(OutQueue::default()),
            ready: Condvar::new(),
            writer: Mutex::new(()),
            handled: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
            connection: AtomicU64::new(0),
            connection_bytes: AtomicU64::new(0),
        }
    }

    /// True once the simulator is shutting down.
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.queue).closed
    }

    /// True while an answer or URC is being written (its pieces still to come) or written
    /// bytes wait for the host end of the line: the modem is still sending.
    pub(crate) fn busy(&self) -> bool {
        let q = lock(&self.queue);
        !q.bytes.is_empty() || q.in_flight || self.writer.try_lock().is_err()
    }

    /// Appends bytes the modem sends.
    pub(crate) fn push(&self, bytes: &[u8]) {
        let mut q = lock(&self.queue);
        q.bytes.extend(bytes);
        self.ready.notify_all();
    }
}

/// The host end of the UART. Clones share the same line.
#[derive(Clone)]
pub struct Uart {
    to_modem: Sender<Vec<u8>>,
    shared: Arc<Shared>,
}

impl Uart {
    pub(crate) fn new(to_modem: Sender<Vec<u8>>, shared: Arc<Shared>) -> Uart {
        Uart { to_modem, shared }
    }

    /// Host -> modem.
    pub fn write(&self, bytes: &[u8]) {
        lock(&self.shared.modem).count_uart_in(bytes.len());
        // Counted as passed on before they are, and as read from the connection after: a
        // host that sees all its bytes read sees them in `forwarded` too (control `uart busy`).
        let out = &self.shared.out;
        out.forwarded.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        let _ = self.to_modem.send(bytes.to_vec());
        out.connection_bytes.fetch_add(bytes.len() as u64, Ordering::SeqCst);
    }

    /// A new host connection is served from now on (the previous one's reader is done).
    pub fn begin_connection(&self) {
        let out = &self.shared.out;
        out.connection_bytes.store(0, Ordering::SeqCst);
        out.connection.fetch_add(1, Ordering::SeqCst);
    }

    /// Modem -> host: waits up to `timeout` for the first byte, then returns what is there.
    pub fn read(&self, buf: &mut [u8], timeout: Duration) -> usize {
        self.take(buf, timeout, false)
    }

    fn take(&self, buf: &mut [u8], timeout: Duration, pump: bool) -> usize {
        let out = &self.shared.out;
        let deadline = Instant::now() + timeout;
        let mut q = lock(&out.queue);
        while q.bytes.is_empty() && !q.closed {
            let now = Instant::now();
            if now >= deadline {
                return 0;
            }
            q = out.ready.wait_timeout(q, deadline - now).map(|(g, _)| g).unwrap_or_else(|e| e.into_inner().0);
        }
        let n = buf.len().min(q.bytes.len());
        for (slot, byte) in buf.iter_mut().zip(q.bytes.drain(..n)) {
            *slot = byte;
        }
        // Under the same lock, so that the bytes never look sent before they are.
        if pump {
            q.in_flight = n > 0;
        }
        n
    }

    /// [`Uart::read`] for the pump that writes to the host's socket: the bytes count as
    /// still being sent (the control line `uart busy`) until [`Uart::pumped`].
    pub fn read_to_pump(&self, buf: &mut [u8], timeout: Duration) -> usize {
        self.take(buf, timeout, true)
    }

    /// The bytes of the last [`Uart::read_to_pump`] are written.
    pub fn pumped(&self) {
        lock(&self.shared.out.queue).in_flight = false;
    }

    /// Drops every byte the host has not read yet (what Pycom firmware does before a command).
    pub fn discard_pending(&self) -> usize {
        let mut q = lock(&self.shared.out.queue);
        let n = q.bytes.len();
        q.bytes.clear();
        n
    }

    pub(crate) fn shutdown(&self) {
        let mut q = lock(&self.shared.out.queue);
        q.closed = true;
        self.shared.out.ready.notify_all();
    }
}
