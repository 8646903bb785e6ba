//! A simulator of the Sequans Monarch modem on a Pycom GPy, as the host sees it on the UART.
//!
//! The host writes command bytes with [`Uart::write`] and reads answers and URCs with
//! [`Uart::read`]. A modem thread parses the commands (`modem.rs`), each dialled socket is a
//! real OS UDP socket on loopback (`net.rs`), and faults are injected at run time with the
//! same text lines the binary accepts on its control socket (`faults.rs`, `control.rs`).
//! See README.md beside this file for the model and the choices made where the AT facts are
//! uncertain.

mod control;
mod dns;
mod faults;
mod listen;
mod modem;
mod net;
mod radio;
mod stream;
mod tls_link;
mod uart;
mod udp_listen;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub use uart::Uart;

/// Simulator settings.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed for the fault injector's random choices (network drops).
    pub seed: u64,
    /// Delay before every answer.
    pub reply_delay: Duration,
    /// How long the modem waits for a `AT+SQNSSENDEXT` payload before answering ERROR.
    pub payload_timeout: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig { seed: 1, reply_delay: Duration::ZERO, payload_timeout: Duration::from_secs(10) }
    }
}

/// A running simulator. Dropping it stops its threads and closes its sockets.
pub struct Monarch {
    shared: Arc<Shared>,
    uart: Uart,
    modem_thread: Option<thread::JoinHandle<()>>,
    host_tx: Option<mpsc::Sender<Vec<u8>>>,
}

/// State every thread of the simulator reaches.
pub(crate) struct Shared {
    pub(crate) modem: Mutex<modem::Modem>,
    pub(crate) out: uart::Output,
}

impl Monarch {
    pub fn start(cfg: SimConfig) -> std::io::Result<Monarch> {
        let out = uart::Output::new();
        let shared = Arc::new(Shared { modem: Mutex::new(modem::Modem::new(&cfg)), out });
        let (host_tx, host_rx) = mpsc::channel::<Vec<u8>>();
        let uart = Uart::new(host_tx.clone(), Arc::clone(&shared));
        let worker = Arc::clone(&shared);
        let payload_timeout = cfg.payload_timeout;
        let modem_thread = thread::Builder::new()
            .name("monarch-modem".into())
            .spawn(move || modem::run(&worker, &host_rx, payload_timeout))?;
        Ok(Monarch { shared, uart, modem_thread: Some(modem_thread), host_tx: Some(host_tx) })
    }

    /// The host end of the UART.
    pub fn uart(&self) -> Uart {
        self.uart.clone()
    }

    /// Runs one control line (see README.md) and returns its one-line reply.
    pub fn control(&self, line: &str) -> String {
        control::handle(&self.shared, line)
    }

    /// The counters, as `key=value` pairs in the order `stats` prints them.
    pub fn stats(&self) -> Vec<(&'static str, u64)> {
        lock(&self.shared.modem).stats()
    }
}

impl Drop for Monarch {
    fn drop(&mut self) {
        lock(&self.shared.modem).close_all();
        self.uart.shutdown();
        self.host_tx.take();
        if let Some(t) = self.modem_thread.take() {
            let _ = t.join();
        }
    }
}

/// Locks a mutex, recovering the data if a thread panicked while holding it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
