//! Shared by the engine-vs-simulator tests: Pycom's `send_at_cmd` transport modelled over the
//! simulator's UART, and a driver that runs one engine operation through it.

#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use microatsocket::engine::{Engine, ExchangeKind, Outcome, Step};
use microatsocket::error::Error;
use microatsocket::limits::Limits;
use monarch_sim::{Monarch, SimConfig, Uart};

/// The final tokens lteppp looks for before it stops waiting for more text.
const FINAL_TOKENS: [&[u8]; 4] = [b"\r\nOK\r\n", b"\r\nERROR\r\n", b"+SYSSTART", b"\r\nCONNECT\r\n"];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Counters a test can assert on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub commands: u32,
    pub payloads: u32,
    pub listens: u32,
    pub sleeps: u32,
    pub bytes_out: usize,
    pub bytes_in: usize,
}

impl Counters {
    /// Exchanges that touched the UART.
    pub fn exchanges(&self) -> u32 {
        self.commands + self.payloads + self.listens
    }
}

/// `LTE.send_at_cmd` as Pycom firmware does it: flush RX, write, CR, wait for the first byte,
/// read while bytes come; without a final token, poll a while longer (10 × `idle_poll`).
pub struct PycomTransport {
    pub uart: Uart,
    pub idle_poll: Duration,
    pub counters: Counters,
}

impl PycomTransport {
    pub fn new(uart: Uart) -> PycomTransport {
        // The firmware polls 10 × 100 ms; a tenth of that keeps tests quick and still lets a
        // loopback simulator answer.
        PycomTransport { uart, idle_poll: Duration::from_millis(10), counters: Counters::default() }
    }

    pub fn send_at_cmd(&mut self, text: &[u8], timeout: Duration) -> Vec<u8> {
        self.uart.discard_pending();
        let mut line = text.to_vec();
        line.push(b'\r');
        self.counters.bytes_out += line.len();
        self.uart.write(&line);
        self.read_answer(timeout)
    }

    /// `send_at_cmd("Pycom_Dummy")`: no write, no flush.
    pub fn listen(&mut self, timeout: Duration) -> Vec<u8> {
        self.read_answer(timeout)
    }

    fn read_answer(&mut self, timeout: Duration) -> Vec<u8> {
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        let n = self.uart.read(&mut buf, timeout);
        if n == 0 {
            return answer;
        }
        answer.extend_from_slice(&buf[..n]);
        let mut idle_polls = 0;
        loop {
            let n = self.uart.read(&mut buf, Duration::from_millis(2));
            if n > 0 {
                answer.extend_from_slice(&buf[..n]);
                continue;
            }
            if FINAL_TOKENS.iter().any(|t| contains(&answer, t)) || idle_polls >= 10 {
                break;
            }
            let n = self.uart.read(&mut buf, self.idle_poll);
            idle_polls += 1;
            answer.extend_from_slice(&buf[..n]);
        }
        self.counters.bytes_in += answer.len();
        answer
    }
}

fn now_ms(start: Instant) -> u32 {
    start.elapsed().as_millis() as u32
}

/// Runs the started operation to its end through `transport`.
pub fn run(engine: &mut Engine, transport: &mut PycomTransport) -> Result<Outcome, Error> {
    let start = Instant::now();
    let mut reply: Vec<u8> = Vec::new();
    loop {
        let step = engine.step(&reply, now_ms(start));
        let exchange = match step {
            Step::Done(result) => return result,
            Step::Exchange(x) => x,
        };
        let timeout = Duration::from_millis(u64::from(exchange.timeout_ms));
        let trace = std::env::var_os("MAS_TRACE").is_some();
        if trace {
            eprintln!(">> {:?} {:?} {:?}", exchange.kind, String::from_utf8_lossy(exchange.command), String::from_utf8_lossy(exchange.payload));
        }
        reply = match exchange.kind {
            ExchangeKind::Command => {
                transport.counters.commands += 1;
                transport.send_at_cmd(exchange.command, timeout)
            }
            ExchangeKind::Payload => {
                transport.counters.payloads += 1;
                transport.send_at_cmd(exchange.payload, timeout)
            }
            ExchangeKind::CommandWithPayload => {
                transport.counters.commands += 1;
                let mut both = exchange.command.to_vec();
                both.push(b'\r');
                both.extend_from_slice(exchange.payload);
                transport.send_at_cmd(&both, timeout)
            }
            ExchangeKind::Listen => {
                transport.counters.listens += 1;
                transport.listen(timeout)
            }
            ExchangeKind::Sleep => {
                transport.counters.sleeps += 1;
                std::thread::sleep(timeout);
                Vec::new()
            }
        };
        if trace {
            eprintln!("<< {:?}", String::from_utf8_lossy(&reply));
        }
    }
}

/// Where an operation is interrupted, as an exception from the transport would: before the
/// `at`-th exchange reaches the modem (nothing written), or after it was written and before
/// its answer was read (the answer is lost).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupt {
    Before(u32),
    After(u32),
}

/// What an interrupted run ended in.
#[derive(Debug, PartialEq, Eq)]
pub enum Interrupted {
    /// The operation ended before the interruption point.
    Finished(Result<Outcome, Error>),
    /// The operation was aborted at the interruption point (the engine was told).
    Aborted,
}

/// Runs the started operation like [`run`], but aborts it at `at` (exchanges counted from 1,
/// waits included: a wait is where a pending Ctrl-C is raised).
pub fn run_interrupted(engine: &mut Engine, transport: &mut PycomTransport, at: Interrupt) -> Interrupted {
    let start = Instant::now();
    let mut reply: Vec<u8> = Vec::new();
    let mut count = 0u32;
    loop {
        let exchange = match engine.step(&reply, now_ms(start)) {
            Step::Done(result) => return Interrupted::Finished(result),
            Step::Exchange(x) => x,
        };
        count += 1;
        if at == Interrupt::Before(count) {
            engine.abort();
            return Interrupted::Aborted;
        }
        let timeout = Duration::from_millis(u64::from(exchange.timeout_ms));
        reply = match exchange.kind {
            ExchangeKind::Command => transport.send_at_cmd(exchange.command, timeout),
            ExchangeKind::Payload => transport.send_at_cmd(exchange.payload, timeout),
            ExchangeKind::CommandWithPayload => {
                let mut both = exchange.command.to_vec();
                both.push(b'\r');
                both.extend_from_slice(exchange.payload);
                transport.send_at_cmd(&both, timeout)
            }
            ExchangeKind::Listen => transport.listen(timeout),
            ExchangeKind::Sleep => {
                std::thread::sleep(timeout);
                Vec::new()
            }
        };
        if at == Interrupt::After(count) {
            engine.abort();
            return Interrupted::Aborted;
        }
    }
}

/// A UDP echo server on `bind`, answering until the test process ends.
pub fn echo_peer(bind: &str) -> SocketAddr {
    let socket = UdpSocket::bind(bind).expect("bind echo peer");
    let addr = socket.local_addr().expect("echo address");
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(&buf[..n], from);
        }
    });
    addr
}

/// The simulator, the transport to it and an engine on it, after the module-start reset sweep.
pub struct Rig {
    pub sim: Monarch,
    pub transport: PycomTransport,
    pub engine: Engine,
}

impl Rig {
    pub fn new(limits: Limits) -> Rig {
        let sim = Monarch::start(SimConfig::default()).expect("start simulator");
        let transport = PycomTransport::new(sim.uart());
        let mut engine = Engine::new();
        engine.configure(limits).unwrap();
        let mut rig = Rig { sim, transport, engine };
        rig.engine.begin_reset().unwrap();
        run(&mut rig.engine, &mut rig.transport).expect("reset sweep");
        rig
    }
}
