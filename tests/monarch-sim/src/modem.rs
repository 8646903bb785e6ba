//! The modem: command lines in, answers and URCs out, in the framing of
//! sequans-at-sockets.md §1 (CR LF around every line, a blank line between the last
//! information line and the final code, the 4-byte `\r\n> ` prompt).

use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub(crate) mod tls;

use crate::faults::{take, Faults};
use crate::net::OpenSocket;
use crate::radio::Radio;
use crate::uart::Output;
use crate::{lock, SimConfig, Shared};

const SLOTS: usize = 6;
const MAX_PAYLOAD: usize = 1500;

/// Per-connId settings and socket.
#[derive(Default)]
struct Slot {
    /// `AT+SQNSCFG` values: cid, pktSz, maxTo, connTo, txTo.
    cfg: [u32; 5],
    sr_mode: u8,
    recv_hex: bool,
    send_hex: bool,
    socket: Option<OpenSocket>,
    /// `AT+SQNSL`: a TCP listener on this connId.
    listener: Option<crate::listen::Listener>,
    /// `AT+SQNSLUDP`: a UDP listener on this connId.
    udp_listener: Option<crate::udp_listen::UdpListener>,
    sent: u64,
    received: u64,
}

/// A `AT+SQNSSENDEXT` waiting for its payload.
struct PayloadWait {
    conn: usize,
    len: usize,
    hex: bool,
    bytes: Vec<u8>,
    deadline: Instant,
}

#[derive(Default)]
struct Counters {
    commands: u64,
    urcs: u64,
    urcs_dropped: u64,
    dgrams_tx: u64,
    dgrams_rx: u64,
    dgrams_dropped: u64,
    uart_in: u64,
    uart_out: u64,
    sendext: u64,
    recv: u64,
    dial: u64,
    close: u64,
    dns_lookups: u64,
    errors_injected: u64,
    tcp_dials: u64,
    stream_bytes_tx: u64,
    stream_bytes_rx: u64,
}

pub(crate) struct Modem {
    cmee: u8,
    cereg: u8,
    radio: Radio,
    slots: [Slot; SLOTS],
    pub(crate) faults: Faults,
    counters: Counters,
    rng: StdRng,
    reply_delay: Duration,
    payload_timeout: Duration,
    pub(crate) cgpaddr: (String, String),
    pub(crate) dns: Option<SocketAddr>,
    line: Vec<u8>,
    payload: Option<PayloadWait>,
    next_token: u64,
    /// The port of the listener the last accept stopped, still bound for the next listen.
    parked: Option<crate::listen::Parked>,
    /// connIds whose `+SQNSH` goes out after the answers being written (a TCP peer closed
    /// and the host has just read the last of its bytes).
    close_after_answer: Vec<usize>,
    /// Set by `run` so readers can reach the shared state.
    shared: std::sync::Weak<Shared>,
    /// Credentials, security profiles and secure connIds (`modem/tls.rs`).
    pub(crate) tls: tls::TlsState,
}

/// One answer to write, with the faults that shape how it is written.
pub(crate) struct Answer {
    bytes: Vec<u8>,
    delay: Duration,
    split: usize,
    /// The pause between two pieces of a split answer.
    split_gap: Duration,
}

impl Modem {
    pub(crate) fn new(cfg: &SimConfig) -> Modem {
        Modem {
            cmee: 0,
            cereg: 1,
            radio: Radio::default(),
            slots: Default::default(),
            faults: Faults::default(),
            counters: Counters::default(),
            rng: StdRng::seed_from_u64(cfg.seed),
            reply_delay: cfg.reply_delay,
            payload_timeout: cfg.payload_timeout,
            cgpaddr: ("10.0.0.2".into(), "32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.2".into()),
            dns: None,
            line: Vec::new(),
            payload: None,
            next_token: 1,
            parked: None,
            close_after_answer: Vec::new(),
            shared: std::sync::Weak::new(),
            tls: tls::TlsState::default(),
        }
    }

    pub(crate) fn count_uart_in(&mut self, n: usize) {
        self.counters.uart_in += n as u64;
    }

    pub(crate) fn stats(&self) -> Vec<(&'static str, u64)> {
        let c = &self.counters;
        let open_mask = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.socket.is_some() || s.listener.is_some() || s.udp_listener.is_some())
            .fold(0u64, |m, (i, _)| m | 1 << i);
        let mut pairs = vec![
            ("commands", c.commands),
            ("urcs", c.urcs),
            ("urcs_dropped", c.urcs_dropped),
            ("dgrams_tx", c.dgrams_tx),
            ("dgrams_rx", c.dgrams_rx),
            ("dgrams_dropped", c.dgrams_dropped),
            ("open_slots", u64::from(open_mask.count_ones())),
            ("open_mask", open_mask),
            ("uart_in", c.uart_in),
            ("uart_out", c.uart_out),
            ("sendext", c.sendext),
            ("recv", c.recv),
            ("dial", c.dial),
            ("close", c.close),
            ("dns_lookups", c.dns_lookups),
            ("errors_injected", c.errors_injected),
            ("tcp_dials", c.tcp_dials),
            ("stream_bytes_tx", c.stream_bytes_tx),
            ("stream_bytes_rx", c.stream_bytes_rx),
        ];
        pairs.extend(self.tls.stats());
        pairs
    }

    pub(crate) fn reset_counters(&mut self) {
        self.counters = Counters::default();
        self.tls.reset_counters();
    }

    pub(crate) fn close_all(&mut self) {
        for slot in &mut self.slots {
            if let Some(s) = slot.socket.take() {
                s.abort();
            }
            if let Some(l) = slot.listener.take() {
                l.close();
            }
            if let Some(l) = slot.udp_listener.take() {
                l.close();
            }
        }
        self.parked = None;
    }

    /// A reboot: every socket and setting is gone; the modem says `+SYSSTART`.
    pub(crate) fn reboot(&mut self, out: &Output) {
        self.close_all();
        self.slots = Default::default();
        self.cmee = 0;
        self.radio = Radio::default();
        self.payload = None;
        self.tls.reboot();
        self.line.clear();
        self.emit_urc(out, "+SYSSTART");
    }

    /// The registration is gone (detach, or coverage lost): every open socket is closed by
    /// the network, each with its `+SQNSH`.
    pub(crate) fn network_lost(&mut self, out: &Output) {
        for conn in 1..=self.slots.len() {
            self.network_close(conn, out);
        }
    }

    /// Whether the network is there (control lines `network lose` / `network back`).
    pub(crate) fn set_coverage(&mut self, coverage: bool, out: &Output) {
        let registered = self.radio.registration_stat() == 1;
        self.radio.set_coverage(coverage);
        if registered && self.radio.registration_stat() == 0 {
            self.network_lost(out);
        }
    }

    /// The network closed `conn`: the modem says `+SQNSH: <conn>`.
    pub(crate) fn network_close(&mut self, conn: usize, out: &Output) -> bool {
        match self.slots.get_mut(conn.wrapping_sub(1)).and_then(|s| s.socket.take()) {
            Some(socket) => {
                socket.close();
                self.emit_urc(out, &format!("+SQNSH: {conn}"));
                true
            }
            None => false,
        }
    }

    /// Writes a URC now, unless a `drop_urc` fault eats it.
    pub(crate) fn emit_urc(&mut self, out: &Output, text: &str) {
        if take(&mut self.faults.drop_urc) {
            self.counters.urcs_dropped += 1;
            return;
        }
        self.counters.urcs += 1;
        let bytes = format!("\r\n{text}\r\n").into_bytes();
        self.counters.uart_out += bytes.len() as u64;
        let _whole = lock(&out.writer);
        out.push(&bytes);
    }

    pub(crate) fn emit_raw(&mut self, out: &Output, bytes: &[u8]) {
        self.counters.uart_out += bytes.len() as u64;
        let _whole = lock(&out.writer);
        out.push(bytes);
    }

    /// Called by a socket's reader thread for each datagram from the peer.
    pub(crate) fn datagram_arrived(&mut self, conn: u8, token: u64, data: &[u8], out: &Output) {
        let index = usize::from(conn) - 1;
        let drop_it = self.network_drops();
        let Some(slot) = self.slots.get_mut(index) else { return };
        let Some(socket) = slot.socket.as_mut().filter(|s| s.token == token) else { return };
        if socket.is_tcp() {
            // TCP is reliable: nothing is dropped, and every arrival is rung in.
            socket.queue.push_back(data.to_vec());
            slot.received += data.len() as u64;
            self.counters.stream_bytes_rx += data.len() as u64;
            let urc = format!("+SQNSRING: {conn},{}", socket.buffered());
            self.emit_urc(out, &urc);
            return;
        }
        if drop_it {
            self.counters.dgrams_dropped += 1;
            return;
        }
        let data = &data[..data.len().min(MAX_PAYLOAD)];
        socket.queue.push_back(data.to_vec());
        slot.received += data.len() as u64;
        self.counters.dgrams_rx += 1;
        let buffered = socket.buffered();
        let urc = match slot.sr_mode {
            0 => format!("+SQNSRING: {conn}"),
            2 => {
                // srMode 2 delivers the data in the URC itself; nothing stays buffered.
                let data = socket.queue.pop_back().unwrap_or_default();
                format!("+SQNSRING: {conn},{},{}", data.len(), encode(&data, slot.recv_hex))
            }
            _ => format!("+SQNSRING: {conn},{buffered}"),
        };
        self.emit_urc(out, &urc);
    }

    /// Called by a UDP listener's reader for each datagram, with its sender.
    pub(crate) fn udp_datagram_arrived(&mut self, conn: u8, token: u64, data: &[u8], from: SocketAddr, out: &Output) {
        let drop_it = self.network_drops();
        let Some(slot) = self.slots.get_mut(usize::from(conn).wrapping_sub(1)) else { return };
        let Some(listener) = slot.udp_listener.as_mut().filter(|l| l.token == token) else { return };
        if drop_it {
            self.counters.dgrams_dropped += 1;
            return;
        }
        let data = &data[..data.len().min(MAX_PAYLOAD)];
        listener.queue.push_back((data.to_vec(), from));
        slot.received += data.len() as u64;
        self.counters.dgrams_rx += 1;
        let urc = format!("+SQNSRING: {conn},{}", listener.buffered());
        self.emit_urc(out, &urc);
    }

    /// How many more bytes the TCP socket `conn` may buffer for the host; `None` when the
    /// socket is gone (its reader stops).
    pub(crate) fn stream_room(&self, conn: u8, token: u64) -> Option<usize> {
        let slot = self.slots.get(usize::from(conn).wrapping_sub(1))?;
        let socket = slot.socket.as_ref().filter(|s| s.token == token)?;
        Some(crate::stream::RX_WINDOW.saturating_sub(socket.buffered()))
    }

    /// The TCP peer closed or reset the connection. A close is reported (`+SQNSH`) once the
    /// host has read what is buffered; a reset drops the buffer and is reported at once.
    pub(crate) fn stream_ended(&mut self, conn: u8, token: u64, end: crate::stream::StreamEnd, out: &Output) {
        let index = usize::from(conn).wrapping_sub(1);
        let Some(socket) = self.slots.get_mut(index).and_then(|s| s.socket.as_mut()).filter(|s| s.token == token) else {
            return;
        };
        if end == crate::stream::StreamEnd::Reset {
            socket.queue.clear();
        }
        socket.peer_closed = true;
        if socket.buffered() == 0 {
            self.network_close(usize::from(conn), out);
        }
    }

    fn tx_window(&self) -> u64 {
        self.faults.tx_window.unwrap_or(crate::stream::TX_WINDOW)
    }

    /// Whether the listener on `conn` (of this `token`) has no connection waiting; `None`
    /// when it is gone (its threads stop).
    pub(crate) fn listener_free(&self, conn: u8, token: u64) -> Option<bool> {
        let slot = self.slots.get(usize::from(conn).wrapping_sub(1))?;
        let listener = slot.listener.as_ref().filter(|l| l.token == token)?;
        Some(listener.pending.is_empty())
    }

    /// A client connected to the listener on `conn`: it waits for `AT+SQNSA`, rung in.
    pub(crate) fn incoming(&mut self, conn: u8, token: u64, stream: std::net::TcpStream, peer: SocketAddr, out: &Output) {
        let Some(listener) = self
            .slots
            .get_mut(usize::from(conn).wrapping_sub(1))
            .and_then(|s| s.listener.as_mut())
            .filter(|l| l.token == token)
        else {
            return;
        };
        listener.pending.push_back((stream, peer));
        self.emit_urc(out, &format!("+SQNSRING: {conn}"));
    }

    /// `+SQNSH` for the TCP sockets whose last bytes the host has just read.
    fn close_drained(&mut self, out: &Output) {
        for conn in std::mem::take(&mut self.close_after_answer) {
            self.network_close(conn, out);
        }
    }

    fn network_drops(&mut self) -> bool {
        let permille = self.faults.net_drop_permille;
        permille > 0 && self.rng.gen_range(0..1000) < permille
    }

    /// Digests host bytes; returns the answers to write, in order.
    fn feed(&mut self, mut bytes: &[u8], out: &Output) -> Vec<Answer> {
        let mut answers = Vec::new();
        while !bytes.is_empty() {
            if self.tls.upload.is_some() {
                let (rest, answer) = self.feed_upload(bytes);
                bytes = rest;
                if let Some(answer) = answer {
                    if self.faults.take_lost("PAYLOAD") {
                        self.counters.errors_injected += 1;
                    } else {
                        answers.push(self.shape(answer));
                    }
                }
                continue;
            }
            if let Some(wait) = self.payload.as_mut() {
                let want = if wait.hex { wait.len * 2 } else { wait.len };
                let take = (want - wait.bytes.len()).min(bytes.len());
                wait.bytes.extend_from_slice(&bytes[..take]);
                bytes = &bytes[take..];
                if wait.bytes.len() == want {
                    if self.faults.take_reboot_at("PAYLOAD") {
                        // Rebooted with the payload in hand: nothing goes out, no OK.
                        self.counters.errors_injected += 1;
                        self.reboot(out);
                        continue;
                    }
                    let answer = self.finish_payload();
                    answers.push(self.shape(answer));
                }
                continue;
            }
            let byte = bytes[0];
            bytes = &bytes[1..];
            match byte {
                b'\r' => {
                    let line = std::mem::take(&mut self.line);
                    if let Some(answer) = self.execute(&line, out) {
                        answers.push(self.shape(answer));
                    }
                }
                b'\n' => {}
                _ => self.line.push(byte),
            }
        }
        answers
    }

    /// The payload did not come in time: the modem gives up on it.
    fn expire_payload(&mut self) -> Option<Answer> {
        let expired = self.payload.as_ref().is_some_and(|w| Instant::now() >= w.deadline);
        if expired || self.upload_expired() {
            self.payload = None;
            let answer = self.error(None);
            return Some(self.shape(answer));
        }
        None
    }

    fn finish_payload(&mut self) -> Vec<u8> {
        let Some(wait) = self.payload.take() else { return self.error(None) };
        let data = if wait.hex {
            match decode_hex(&wait.bytes) {
                Some(d) => d,
                None => return self.error(Some(50)),
            }
        } else {
            wait.bytes
        };
        let drop_it = self.network_drops();
        let (window, stall) = (self.tx_window(), self.faults.stall_tx);
        let Some(slot) = self.slots.get_mut(wait.conn) else { return self.error(None) };
        if let Some(listener) = slot.udp_listener.as_ref() {
            // A UDP listener answers the sender of the last datagram read.
            if drop_it {
                self.counters.dgrams_dropped += 1;
            } else if listener.reply(&data) {
                self.counters.dgrams_tx += 1;
            }
            slot.sent += data.len() as u64;
            return ok();
        }
        let Some(socket) = slot.socket.as_ref() else { return self.error(Some(3)) };
        if socket.is_tcp() {
            if !socket.send(&data, window, stall) {
                return self.error(Some(4));
            }
            self.counters.stream_bytes_tx += data.len() as u64;
        } else if drop_it {
            self.counters.dgrams_dropped += 1;
        } else if socket.send(&data, window, stall) {
            self.counters.dgrams_tx += 1;
        }
        slot.sent += data.len() as u64;
        ok()
    }

    /// Applies the faults that change an answer's bytes, and records how to write it.
    fn shape(&mut self, mut bytes: Vec<u8>) -> Answer {
        if take(&mut self.faults.urc_inside) {
            let conn = self.slots.iter().position(|s| s.socket.is_some()).map_or(6, |i| i + 1);
            let urc = format!("\r\n+SQNSRING: {conn},1");
            let at = final_code_start(&bytes);
            bytes.splice(at..at, urc.into_bytes());
        }
        if take(&mut self.faults.nul) {
            let at = final_code_start(&bytes);
            bytes.insert(at, 0);
        }
        if take(&mut self.faults.endless) {
            // A modem gone mad: line after line, never a final code.
            let line = b"\r\n+SQNSI: 1,0,0,0,0";
            bytes = line.iter().copied().cycle().take(crate::faults::ENDLESS_BYTES).collect();
        }
        self.counters.uart_out += bytes.len() as u64;
        Answer {
            bytes,
            delay: self.reply_delay + Duration::from_millis(self.faults.delay_ms),
            split: self.faults.split,
            split_gap: Duration::from_millis(self.faults.split_gap_ms),
        }
    }

    fn error(&mut self, code: Option<u16>) -> Vec<u8> {
        match (self.cmee, code) {
            (1, Some(code)) => format!("\r\n+CME ERROR: {code}\r\n").into_bytes(),
            (2, Some(code)) => format!("\r\n+CME ERROR: {}\r\n", cme_text(code)).into_bytes(),
            _ => b"\r\nERROR\r\n".to_vec(),
        }
    }

    /// Runs one command line; `None` when the modem stays silent (or its answer is lost:
    /// `fault lost`, the command carried out all the same).
    fn execute(&mut self, line: &[u8], out: &Output) -> Option<Vec<u8>> {
        let text = String::from_utf8_lossy(line).trim().to_ascii_uppercase();
        let name: String = text
            .strip_prefix("AT")
            .unwrap_or("")
            .trim_start_matches('+')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let lost = !name.is_empty() && self.faults.take_lost(&name);
        let answer = self.execute_line(line, out);
        if lost && answer.is_some() {
            self.counters.errors_injected += 1;
            return None;
        }
        answer
    }

    fn execute_line(&mut self, line: &[u8], out: &Output) -> Option<Vec<u8>> {
        let text = String::from_utf8_lossy(line).trim().to_string();
        if text.is_empty() {
            return None;
        }
        self.counters.commands += 1;
        let upper = text.to_ascii_uppercase();
        let Some(body) = upper.strip_prefix("AT") else { return Some(self.error(None)) };
        let body_raw = &text[2..];
        let name: String = body
            .trim_start_matches('+')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if self.faults.take_silent(&name) {
            return None;
        }
        if self.faults.take_reboot_at(&name) {
            // The command dies with the modem: +SYSSTART is all the host hears.
            self.counters.errors_injected += 1;
            self.reboot(out);
            return None;
        }
        if self.faults.take_sqnsh_at(&name) {
            // The network closes the socket just as the command arrives; the command then
            // meets a closed socket.
            let first = body_raw.split_once('=').and_then(|(_, a)| a.split(',').next());
            if let Some(conn) = conn_arg(first) {
                if self.network_close(conn + 1, out) {
                    self.counters.errors_injected += 1;
                }
            }
        }
        if let Some(code) = self.faults.take_error(&name) {
            self.counters.errors_injected += 1;
            return Some(match code {
                Some(n) => self.error(Some(n)),
                None => b"\r\nERROR\r\n".to_vec(),
            });
        }
        let args = body_raw.split_once('=').map(|(_, a)| a.trim());
        let query = body.ends_with('?');
        let registered = self.radio.registration_stat() == 1;
        if let Some(answer) = self.radio.answer(body, &name, args) {
            if registered && self.radio.registration_stat() == 0 {
                self.network_lost(out);
            }
            return Some(answer);
        }
        Some(match (body, name.as_str()) {
            ("", _) | ("E0", _) | ("E", _) => ok(),
            (_, "CMEE") => match args.and_then(|a| a.parse::<u8>().ok()).filter(|n| *n <= 2) {
                Some(n) => {
                    self.cmee = n;
                    ok()
                }
                None => self.error(Some(50)),
            },
            (_, "CEREG") if query => info(&[format!("+CEREG: {},{}", self.cereg, self.radio.registration_stat())]),
            (_, "CEREG") => match args.and_then(|a| a.parse::<u8>().ok()).filter(|n| *n <= 5) {
                Some(n) => {
                    self.cereg = n;
                    ok()
                }
                None => self.error(Some(50)),
            },
            // Not attached: no PDP context, so no address (the cid alone, as 27.007 lists it).
            (_, "CGPADDR") if self.radio.registration_stat() == 0 => info(&["+CGPADDR: 1".to_string()]),
            (_, "CGPADDR") => info(&[format!("+CGPADDR: 1,\"{}\",\"{}\"", self.cgpaddr.0, self.cgpaddr.1)]),
            // Not attached: nothing to dial over. The Monarch's answer here is not in any source
            // read; the module asks AT+CGATT? after any failed dial, whatever the code.
            (_, "SQNSD") if self.radio.registration_stat() == 0 => {
                self.counters.dial += 1;
                self.error(Some(4))
            }
            (_, "SQNSCFG") => self.socket_config(args),
            (_, "SQNSCFGEXT") if query => self.socket_config_ext_query(),
            (_, "SQNSCFGEXT") => self.socket_config_ext(args),
            (_, "SQNSD") => {
                self.counters.dial += 1;
                self.dial(args)
            }
            (_, "SQNSSENDEXT") => {
                self.counters.sendext += 1;
                self.send_ext(args)
            }
            (_, "SQNSRECV") => {
                self.counters.recv += 1;
                self.receive(args)
            }
            (_, "SQNSH") => {
                self.counters.close += 1;
                match conn_arg(args) {
                    Some(conn) => {
                        if let Some(s) = self.slots[conn].socket.take() {
                            s.close();
                        }
                        if let Some(l) = self.slots[conn].listener.take() {
                            l.close();
                        }
                        if let Some(l) = self.slots[conn].udp_listener.take() {
                            l.close();
                        }
                        ok()
                    }
                    None => self.error(Some(50)),
                }
            }
            (_, "SQNSI") => match conn_arg(args) {
                Some(conn) => {
                    let s = &self.slots[conn];
                    let buffered = s.socket.as_ref().map_or(0, OpenSocket::buffered)
                        + s.udp_listener.as_ref().map_or(0, crate::udp_listen::UdpListener::buffered);
                    let unacked = s.socket.as_ref().map_or(0, OpenSocket::unacked);
                    info(&[format!("+SQNSI: {},{},{},{},{}", conn + 1, s.sent, s.received, buffered, unacked)])
                }
                None => self.error(Some(50)),
            },
            (_, "SQNSS") => info(&self.status_lines()),
            (_, "SQNSL") => self.listen(args),
            (_, "SQNSLUDP") => self.listen_udp(args),
            (_, "SQNSA") => self.accept(args),
            (_, "SQNDNSLKUP") => {
                self.counters.dns_lookups += 1;
                self.dns_lookup(body_raw)
            }
            (_, "SQNSNVW") => self.nv_write(args),
            (_, "CCLK") if query => self.clock(),
            (_, "SQNSPCFG") => self.security_profile(args),
            (_, "SQNSSCFG") => self.secure_config(args),
            _ => {
                let _ = out;
                self.error(Some(4))
            }
        })
    }

    fn socket_config(&mut self, args: Option<&str>) -> Vec<u8> {
        let values: Option<Vec<u32>> = args.map(|a| a.split(',').map(|v| v.trim().parse().ok()).collect::<Option<_>>()).flatten();
        let Some(v) = values.filter(|v| v.len() == 6) else { return self.error(Some(50)) };
        let valid = (1..=6).contains(&v[0])
            && v[1] <= 6
            && v[2] <= 1500
            && v[3] <= 65535
            && (v[4] == 0 || (10..=1200).contains(&v[4]))
            && v[5] <= 255;
        if !valid {
            return self.error(Some(50));
        }
        self.slots[v[0] as usize - 1].cfg = [v[1], v[2], v[3], v[4], v[5]];
        ok()
    }

    fn socket_config_ext(&mut self, args: Option<&str>) -> Vec<u8> {
        let values: Option<Vec<u32>> = args.map(|a| a.split(',').map(|v| v.trim().parse().ok()).collect::<Option<_>>()).flatten();
        let Some(v) = values.filter(|v| (4..=8).contains(&v.len())) else { return self.error(Some(50)) };
        let send_mode = v.get(5).copied().unwrap_or(0);
        if !(1..=6).contains(&v[0]) || v[1] > 2 || v[2] > 1 || send_mode > 1 {
            return self.error(Some(50));
        }
        let slot = &mut self.slots[v[0] as usize - 1];
        slot.sr_mode = v[1] as u8;
        slot.recv_hex = v[2] == 1;
        slot.send_hex = send_mode == 1;
        ok()
    }

    fn socket_config_ext_query(&self) -> Vec<u8> {
        let lines: Vec<String> = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| format!("+SQNSCFGEXT: {},{},{},0,0,{}", i + 1, s.sr_mode, u8::from(s.recv_hex), u8::from(s.send_hex)))
            .collect();
        info(&lines)
    }

    fn dial(&mut self, args: Option<&str>) -> Vec<u8> {
        let fields: Vec<&str> = args.map(split_fields).unwrap_or_default();
        let number = |i: usize, default: u32| -> Option<u32> {
            match fields.get(i) {
                None => Some(default),
                Some(f) => f.parse().ok(),
            }
        };
        let (Some(conn), Some(prot), Some(port), Some(host)) =
            (fields.first().and_then(|f| f.parse::<usize>().ok()), number(1, 99), number(2, 70000), fields.get(3))
        else {
            return self.error(Some(50));
        };
        let (Some(_closure), Some(local_port), Some(conn_mode), Some(any_remote)) =
            (number(4, 0), number(5, 0), number(6, 0), number(7, 0))
        else {
            return self.error(Some(50));
        };
        if !(1..=6).contains(&conn) || port > 65535 || local_port > 65535 || prot > 1 {
            return self.error(Some(50));
        }
        if conn_mode == 0 || any_remote != 0 {
            // Online (data) mode and accept-any-remote are not simulated.
            return self.error(Some(4));
        }
        let index = conn - 1;
        if self.slots[index].socket.is_some() || self.slots[index].listener.is_some() || self.slots[index].udp_listener.is_some() {
            return self.error(Some(3));
        }
        let name = host.trim_matches('"').to_string();
        let Some(ip) = self.resolve_dial_host(&name) else {
            // A name the simulator's resolver does not know (see README.md).
            return self.error(Some(3));
        };
        if take(&mut self.faults.no_carrier) {
            self.counters.errors_injected += 1;
            return b"\r\nNO CARRIER\r\n".to_vec();
        }
        let token = self.next_token;
        self.next_token += 1;
        if prot == 0 {
            if let Some(sp) = self.tls.secure[index] {
                return self.dial_tls(index, SocketAddr::new(ip, port as u16), &name, sp, token);
            }
            return self.dial_tcp(index, SocketAddr::new(ip, port as u16), token);
        }
        match OpenSocket::dial(SocketAddr::new(ip, port as u16), local_port as u16, conn as u8, token, self.shared.clone()) {
            Ok(socket) => {
                let slot = &mut self.slots[index];
                slot.socket = Some(socket);
                slot.sent = 0;
                slot.received = 0;
                ok()
            }
            Err(_) => b"\r\nNO CARRIER\r\n".to_vec(),
        }
    }

    /// A TCP dial: `OK` once connected; `NO CARRIER` when the peer refuses (at once) or does
    /// not answer within the connect timeout (`AT+SQNSCFG` connTo).
    fn dial_tcp(&mut self, index: usize, peer: SocketAddr, token: u64) -> Vec<u8> {
        self.counters.tcp_dials += 1;
        let conn_to_ds = match self.slots[index].cfg[3] {
            0 => 600,
            ds => ds,
        };
        let timeout = Duration::from_millis(u64::from(conn_to_ds) * 100);
        match OpenSocket::dial_tcp(peer, timeout, (index + 1) as u8, token, self.shared.clone()) {
            Ok(socket) => {
                let slot = &mut self.slots[index];
                slot.socket = Some(socket);
                slot.sent = 0;
                slot.received = 0;
                ok()
            }
            Err(_) => b"\r\nNO CARRIER\r\n".to_vec(),
        }
    }

    /// `AT+SQNSL=<id>,<state>,<port>`: state 1 listens (2 too: Monarch 2's IPv6 value; the
    /// simulator listens on both loopbacks either way), 0 stops.
    fn listen(&mut self, args: Option<&str>) -> Vec<u8> {
        let fields: Vec<&str> = args.map(split_fields).unwrap_or_default();
        let conn = fields.first().and_then(|f| f.parse::<usize>().ok()).filter(|c| (1..=6).contains(c));
        let state = fields.get(1).and_then(|f| f.parse::<u8>().ok()).filter(|s| *s <= 2);
        let port = fields.get(2).and_then(|f| f.parse::<u16>().ok());
        let (Some(conn), Some(state), Some(port)) = (conn, state, port) else { return self.error(Some(50)) };
        let index = conn - 1;
        if state == 0 {
            return match self.slots[index].listener.take() {
                Some(l) => {
                    l.close();
                    ok()
                }
                None => self.error(Some(3)),
            };
        }
        if port == 0 || self.slots[index].socket.is_some() || self.slots[index].listener.is_some() || self.slots[index].udp_listener.is_some() {
            return self.error(Some(3));
        }
        let token = self.next_token;
        self.next_token += 1;
        match crate::listen::Listener::start(port, conn as u8, token, self.shared.clone(), self.parked.take()) {
            Ok(listener) => {
                self.slots[index].listener = Some(listener);
                ok()
            }
            // The port is taken on this machine: the modem's refusal.
            Err(_) => self.error(Some(3)),
        }
    }

    /// `AT+SQNSLUDP=<id>,<state>,<port>`: state 1 takes datagrams from any sender on the port
    /// (2 too, Monarch 2's IPv6 value: both loopbacks either way), 0 stops (udp_listen.rs).
    fn listen_udp(&mut self, args: Option<&str>) -> Vec<u8> {
        let fields: Vec<&str> = args.map(split_fields).unwrap_or_default();
        let conn = fields.first().and_then(|f| f.parse::<usize>().ok()).filter(|c| (1..=6).contains(c));
        let state = fields.get(1).and_then(|f| f.parse::<u8>().ok()).filter(|s| *s <= 2);
        let port = fields.get(2).and_then(|f| f.parse::<u16>().ok());
        let (Some(conn), Some(state), Some(port)) = (conn, state, port) else { return self.error(Some(50)) };
        if fields.len() != 3 {
            return self.error(Some(50));
        }
        let index = conn - 1;
        if state == 0 {
            return match self.slots[index].udp_listener.take() {
                Some(l) => {
                    l.close();
                    ok()
                }
                None => self.error(Some(3)),
            };
        }
        let slot = &self.slots[index];
        if port == 0 || slot.socket.is_some() || slot.listener.is_some() || slot.udp_listener.is_some() {
            return self.error(Some(3));
        }
        let token = self.next_token;
        self.next_token += 1;
        match crate::udp_listen::UdpListener::start(port, conn as u8, token, self.shared.clone()) {
            Ok(listener) => {
                let slot = &mut self.slots[index];
                slot.udp_listener = Some(listener);
                slot.sent = 0;
                slot.received = 0;
                ok()
            }
            // The port is taken on this machine: the modem's refusal.
            Err(_) => self.error(Some(3)),
        }
    }

    /// `AT+SQNSA=<id>[,<connMode>]`: the waiting connection becomes this connId's socket.
    fn accept(&mut self, args: Option<&str>) -> Vec<u8> {
        let fields: Vec<&str> = args.map(split_fields).unwrap_or_default();
        let conn = fields.first().and_then(|f| f.parse::<usize>().ok()).filter(|c| (1..=6).contains(c));
        let mode = fields.get(1).map_or(Some(0), |f| f.parse::<u8>().ok());
        let (Some(conn), Some(mode)) = (conn, mode) else { return self.error(Some(50)) };
        if mode != 1 {
            // Online (data) mode is not simulated.
            return self.error(Some(4));
        }
        let index = conn - 1;
        let Some(mut listener) = self.slots[index].listener.take() else { return self.error(Some(3)) };
        let Some((stream, peer)) = listener.pending.pop_front() else {
            self.slots[index].listener = Some(listener);
            return self.error(Some(3));
        };
        // The connId now carries the connection: the listener stops, and connections that
        // waited behind this one are refused. Its port stays bound for the host's next
        // AT+SQNSL on it (a server listens again at once).
        self.parked = Some(listener.park());
        let token = self.next_token;
        self.next_token += 1;
        match OpenSocket::accepted(stream, peer, conn as u8, token, self.shared.clone()) {
            Ok(socket) => {
                let slot = &mut self.slots[index];
                slot.socket = Some(socket);
                slot.sent = 0;
                slot.received = 0;
                ok()
            }
            Err(_) => self.error(Some(3)),
        }
    }

    fn send_ext(&mut self, args: Option<&str>) -> Vec<u8> {
        let fields: Vec<&str> = args.map(split_fields).unwrap_or_default();
        let conn = fields.first().and_then(|f| f.parse::<usize>().ok()).filter(|c| (1..=6).contains(c));
        let len = fields.get(1).and_then(|f| f.parse::<usize>().ok()).filter(|n| (1..=MAX_PAYLOAD).contains(n));
        let (Some(conn), Some(len)) = (conn, len) else { return self.error(Some(50)) };
        if fields.len() != 2 {
            // RAI and the remote-address form exist only on Monarch 2.
            return self.error(Some(50));
        }
        let window = self.tx_window();
        let listener_can_answer = self.slots[conn - 1].udp_listener.as_ref().is_some_and(|l| l.last_sender.is_some());
        let Some(socket) = self.slots[conn - 1].socket.as_ref().filter(|_| !listener_can_answer) else {
            if !listener_can_answer {
                return self.error(Some(3));
            }
            if take(&mut self.faults.no_prompt) {
                self.counters.errors_injected += 1;
                return self.error(Some(50));
            }
            self.payload = Some(PayloadWait {
                conn: conn - 1,
                len,
                hex: self.slots[conn - 1].send_hex,
                bytes: Vec::with_capacity(len * 2),
                deadline: Instant::now() + self.payload_timeout,
            });
            return b"\r\n> ".to_vec();
        };
        if let crate::net::Link::Tcp(link) = &socket.link {
            if !link.room_for_send(len, window) {
                // The peer has not taken what was sent: the modem's send buffer is full.
                return self.error(Some(4));
            }
        }
        if take(&mut self.faults.no_prompt) {
            self.counters.errors_injected += 1;
            return self.error(Some(50));
        }
        self.payload = Some(PayloadWait {
            conn: conn - 1,
            len,
            hex: self.slots[conn - 1].send_hex,
            bytes: Vec::with_capacity(len * 2),
            deadline: Instant::now() + self.payload_timeout,
        });
        b"\r\n> ".to_vec()
    }

    fn receive(&mut self, args: Option<&str>) -> Vec<u8> {
        let fields: Vec<&str> = args.map(split_fields).unwrap_or_default();
        let conn = fields.first().and_then(|f| f.parse::<usize>().ok()).filter(|c| (1..=6).contains(c));
        let max = fields.get(1).and_then(|f| f.parse::<usize>().ok()).filter(|n| (1..=MAX_PAYLOAD).contains(n));
        let (Some(conn), Some(max)) = (conn, max) else { return self.error(Some(50)) };
        let empty_error = self.faults.empty_read_error;
        if self.slots[conn - 1].udp_listener.is_some() {
            return self.receive_udp_listener(conn, max);
        }
        let slot = &mut self.slots[conn - 1];
        let hex = slot.recv_hex;
        let Some(socket) = slot.socket.as_mut() else { return self.error(Some(3)) };
        if empty_error && socket.buffered() == 0 {
            return self.error(Some(4));
        }
        // UDP: one read returns at most one datagram, cut to `max`. TCP: up to `max` bytes
        // of the stream; the rest stays for the next read.
        let data = socket.take(max);
        if socket.peer_closed && socket.buffered() == 0 {
            self.close_after_answer.push(conn);
        }
        let mut answer = format!("\r\n+SQNSRECV: {conn},{}\r\n", data.len()).into_bytes();
        if !data.is_empty() {
            if hex {
                answer.extend_from_slice(encode(&data, true).as_bytes());
            } else {
                answer.extend_from_slice(&data);
            }
            answer.extend_from_slice(b"\r\n");
        }
        answer.extend_from_slice(b"\r\nOK\r\n");
        answer
    }

    /// `AT+SQNSRECV` on a UDP listener: one datagram, the header naming its sender (unless the
    /// `udp_sender_hidden` fault drops the sender fields).
    fn receive_udp_listener(&mut self, conn: usize, max: usize) -> Vec<u8> {
        let empty_error = self.faults.empty_read_error;
        let slot = &mut self.slots[conn - 1];
        let hex = slot.recv_hex;
        let Some(listener) = slot.udp_listener.as_mut() else { return self.error(Some(3)) };
        let Some((data, from)) = listener.take(max) else {
            if empty_error {
                return self.error(Some(4));
            }
            return format!("\r\n+SQNSRECV: {conn},0\r\n\r\nOK\r\n").into_bytes();
        };
        let hidden = take(&mut self.faults.udp_sender_hidden);
        let short = take(&mut self.faults.udp_header_short);
        listener.sender_hidden = hidden;
        let header = if hidden || short {
            self.counters.errors_injected += 1;
            format!("\r\n+SQNSRECV: {conn},{}\r\n", data.len())
        } else {
            format!("\r\n+SQNSRECV: {conn},{},\"{}\",{}\r\n", data.len(), from.ip(), from.port())
        };
        let mut answer = header.into_bytes();
        if hex {
            answer.extend_from_slice(encode(&data, true).as_bytes());
        } else {
            answer.extend_from_slice(&data);
        }
        answer.extend_from_slice(b"\r\n\r\nOK\r\n");
        answer
    }

    fn status_lines(&self) -> Vec<String> {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, s)| match &s.socket {
                // A UDP listener: 4 listening, 3 with a datagram waiting (which LR5 shows is
                // not known; the module takes 3 and 5 as readable).
                None if s.udp_listener.is_some() => {
                    let l = s.udp_listener.as_ref();
                    let (port, waiting) = l.map_or((0, false), |l| (l.port, !l.queue.is_empty()));
                    let remote = l.filter(|l| !l.sender_hidden).and_then(|l| l.last_sender);
                    let (rip, rport) = remote.map_or(("0.0.0.0".to_string(), 0), |r| (r.ip().to_string(), r.port()));
                    format!("+SQNSS: {},{},\"0.0.0.0\",{port},\"{rip}\",{rport}", i + 1, if waiting { 3 } else { 4 })
                }
                None if s.listener.is_some() => {
                    let l = s.listener.as_ref().map(|l| (l.port, l.pending.front().map(|p| p.1)));
                    match l {
                        Some((port, Some(peer))) => {
                            format!("+SQNSS: {},5,\"127.0.0.1\",{port},\"{}\",{}", i + 1, peer.ip(), peer.port())
                        }
                        Some((port, None)) => format!("+SQNSS: {},4,\"0.0.0.0\",{port},\"0.0.0.0\",0", i + 1),
                        None => format!("+SQNSS: {},0", i + 1),
                    }
                }
                None => format!("+SQNSS: {},0", i + 1),
                // State 3: suspended (command mode) with data waiting to be read.
                Some(o) => format!(
                    "+SQNSS: {},{},\"{}\",{},\"{}\",{}",
                    i + 1,
                    if o.buffered() > 0 { 3 } else { 1 },
                    o.local.ip(),
                    o.local.port(),
                    o.peer.ip(),
                    o.peer.port()
                ),
            })
            .collect()
    }

    fn dns_lookup(&mut self, body: &str) -> Vec<u8> {
        let fields: Vec<&str> = body.split_once('=').map(|(_, a)| split_fields(a)).unwrap_or_default();
        let host = fields.first().map(|h| h.trim_matches('"')).unwrap_or_default();
        let v6 = match fields.get(1).copied() {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => return self.error(Some(50)),
        };
        if host.is_empty() || fields.len() > 2 {
            return self.error(Some(50));
        }
        // Resolution needs a DNS server on loopback (control line `dns`); the modem's own
        // network resolver is not reachable here.
        let answer = self.dns.and_then(|server| crate::dns::lookup(server, host, v6));
        match answer {
            Some(addresses) => {
                let list: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
                info(&[format!("+SQNDNSLKUP: {host},{}", list.join(","))])
            }
            None => self.error(Some(4)),
        }
    }
}

fn ok() -> Vec<u8> {
    b"\r\nOK\r\n".to_vec()
}

/// Information lines, a blank line, then OK.
fn info(lines: &[String]) -> Vec<u8> {
    format!("\r\n{}\r\n\r\nOK\r\n", lines.join("\r\n")).into_bytes()
}

/// Where the final code of an answer starts (the answer's end if it has none).
fn final_code_start(answer: &[u8]) -> usize {
    let body = answer.len().saturating_sub(2);
    answer[..body].windows(2).rposition(|w| w == b"\r\n").unwrap_or(answer.len())
}

fn conn_arg(args: Option<&str>) -> Option<usize> {
    args?.trim().parse::<usize>().ok().filter(|c| (1..=6).contains(c)).map(|c| c - 1)
}

/// Splits parameters at commas outside quotes.
fn split_fields(args: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in args.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                fields.push(args[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    fields.push(args[start..].trim());
    fields
}

fn encode(data: &[u8], hex: bool) -> String {
    if hex {
        data.iter().map(|b| format!("{b:02X}")).collect()
    } else {
        String::from_utf8_lossy(data).into_owned()
    }
}

fn decode_hex(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    text.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

fn cme_text(code: u16) -> &'static str {
    match code {
        3 => "operation not allowed",
        4 => "operation not supported",
        50 => "incorrect parameters",
        _ => "unknown",
    }
}

/// The modem thread: takes host bytes, answers them, and times out unfinished payloads.
pub(crate) fn run(shared: &Arc<Shared>, host: &Receiver<Vec<u8>>, payload_timeout: Duration) {
    lock(&shared.modem).shared = Arc::downgrade(shared);
    let _ = payload_timeout; // kept in the modem; the 100 ms tick below enforces it
    loop {
        let (answers, taken) = match host.recv_timeout(Duration::from_millis(100)) {
            Ok(bytes) => (lock(&shared.modem).feed(&bytes, &shared.out), bytes.len()),
            Err(RecvTimeoutError::Timeout) if shared.out.is_closed() => return,
            Err(RecvTimeoutError::Timeout) => (lock(&shared.modem).expire_payload().into_iter().collect(), 0),
            Err(RecvTimeoutError::Disconnected) => return,
        };
        for answer in answers {
            write_answer(&shared.out, &answer);
        }
        shared.out.handled.fetch_add(taken as u64, std::sync::atomic::Ordering::AcqRel);
        let mut modem = lock(&shared.modem);
        modem.close_drained(&shared.out);
    }
}

fn write_answer(out: &Output, answer: &Answer) {
    if !answer.delay.is_zero() {
        thread::sleep(answer.delay);
    }
    let _whole = lock(&out.writer);
    if answer.split == 0 {
        out.push(&answer.bytes);
        return;
    }
    for piece in answer.bytes.chunks(answer.split) {
        out.push(piece);
        thread::sleep(answer.split_gap);
    }
}
