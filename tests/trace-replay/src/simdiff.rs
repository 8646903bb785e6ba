//! A trace's exchanges sent to the simulator: where its answers differ from the trace's, the
//! difference is listed line by line. For a trace taken on a board, each difference is
//! evidence of how the real modem answers where the simulator guessed (tests/monarch-sim/README.md
//! lists its choices). The simulator dials real sockets on loopback only: a trace's dials to
//! other addresses answer `NO CARRIER` here, which shows as a difference of the environment.

use std::time::{Duration, Instant};

use monarch_sim::{Monarch, SimConfig, Uart};

use crate::format::{Bytes, Line, Record};

/// One exchange whose answers differ.
#[derive(Debug)]
pub struct Difference {
    /// The trace line of the answer.
    pub line: usize,
    pub command: String,
    /// Answer lines only the trace has, and only the simulator has.
    pub trace_only: Vec<String>,
    pub sim_only: Vec<String>,
}

fn show(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

fn answer_lines(answer: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(answer)
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn complete(answer: &[u8]) -> bool {
    let lines = answer_lines(answer);
    answer.ends_with(b"\r\n> ")
        || lines.last().is_some_and(|l| {
            l == "OK" || l == "ERROR" || l == "NO CARRIER" || l == "CONNECT" || l.starts_with("+CME ERROR")
        })
}

/// Reads until the answer is complete or `wait` has passed without it.
fn read_answer(uart: &Uart, wait: Duration) -> Vec<u8> {
    let deadline = Instant::now() + wait;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        let n = uart.read(&mut buf, Duration::from_millis(20));
        answer.extend_from_slice(&buf[..n]);
        if n == 0 && complete(&answer) {
            break;
        }
    }
    answer
}

fn bytes_of(b: &Bytes) -> Vec<u8> {
    match b {
        Bytes::Shown(v) => v.clone(),
        Bytes::Hashed { len, .. } => vec![b'0'; *len],
    }
}

/// Sends the trace's exchanges to a fresh simulator and lists the answers that differ.
pub fn diff(lines: &[Line]) -> std::io::Result<Vec<Difference>> {
    let sim = Monarch::start(SimConfig::default())?;
    let uart = sim.uart();
    let mut out = Vec::new();
    let mut pending: Option<(String, Vec<u8>)> = None;
    for line in lines {
        match &line.record {
            Record::Exchange { kind, wait_ms, command, payload, .. } => {
                let wait = Duration::from_millis(u64::from((*wait_ms).min(3000)));
                let cmd = command.as_ref().map(bytes_of).unwrap_or_default();
                let data = payload.as_ref().map(bytes_of).unwrap_or_default();
                let answer = match kind.as_str() {
                    "command" => {
                        uart.discard_pending();
                        uart.write(&[cmd.as_slice(), b"\r"].concat());
                        read_answer(&uart, wait)
                    }
                    "payload" => {
                        uart.write(&data);
                        read_answer(&uart, wait)
                    }
                    "command+payload" => {
                        uart.discard_pending();
                        uart.write(&[cmd.as_slice(), b"\r", data.as_slice()].concat());
                        let mut a = read_answer(&uart, wait);
                        if a.ends_with(b"\r\n> ") {
                            a.extend(read_answer(&uart, wait));
                        }
                        a
                    }
                    "listen" => read_answer(&uart, Duration::from_millis(u64::from((*wait_ms).min(500)))),
                    _ => Vec::new(),
                };
                let label = if cmd.is_empty() { format!("{kind} ({} bytes)", data.len()) } else { show(&cmd) };
                pending = Some((label, answer));
            }
            Record::Answer { answer, .. } => {
                if let Some((command, sim_answer)) = pending.take() {
                    let recorded = answer_lines(&answer.bytes);
                    let simulated = answer_lines(&sim_answer);
                    let trace_only: Vec<String> = recorded.iter().filter(|l| !simulated.contains(l)).cloned().collect();
                    let sim_only: Vec<String> = simulated.iter().filter(|l| !recorded.contains(l)).cloned().collect();
                    if !trace_only.is_empty() || !sim_only.is_empty() {
                        out.push(Difference { line: line.number, command, trace_only, sim_only });
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}
