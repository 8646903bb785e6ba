//! Replays a trace through the core with no modem: the calls the trace noted are made again on
//! a fresh engine, each step is given the recorded answer at the recorded time, and every
//! exchange and outcome the engine produces is compared with the recorded one. The first
//! difference ends the replay and is reported with its line.

use std::net::{IpAddr, SocketAddr};

use microatsocket::dns::RecordType;
use microatsocket::engine::secure::SecureParams;
use microatsocket::engine::{Engine, ExchangeKind, Step};
use microatsocket::error::Error;
use microatsocket::ffi::errno_of;
use microatsocket::limits::Limits;
use microatsocket::socket::Handle;

use crate::format::{Bytes, Line, Record};

/// What a replay found.
#[derive(Debug, Default)]
pub struct Report {
    pub operations: usize,
    pub exchanges: usize,
    /// Payloads the trace names by hash only: their length was checked, not their bytes.
    pub unchecked_payloads: usize,
    /// Received bytes the trace hides (replayed as `0` filler).
    pub hidden_answers: usize,
    /// The trace began after the session's reset sweep; the replay ran one first.
    pub primed: bool,
    pub divergence: Option<Divergence>,
}

#[derive(Debug)]
pub struct Divergence {
    pub line: usize,
    pub what: String,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.divergence {
            None => write!(
                f,
                "same: {} operations, {} exchanges ({} payloads checked by length only, {} received payloads hidden{})",
                self.operations,
                self.exchanges,
                self.unchecked_payloads,
                self.hidden_answers,
                if self.primed { "; began after the reset sweep" } else { "" }
            ),
            Some(d) => write!(f, "diverges at line {}: {}", d.line, d.what),
        }
    }
}

fn arg<'a>(args: &'a [(String, String)], key: &str) -> Result<&'a str, String> {
    args.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).ok_or_else(|| format!("note lacks {key}="))
}

fn num<T: std::str::FromStr>(args: &[(String, String)], key: &str) -> Result<T, String> {
    let v = arg(args, key)?;
    v.parse().map_err(|_| format!("{key}={v}: not a number"))
}

fn peer(args: &[(String, String)], key: &str) -> Result<Option<SocketAddr>, String> {
    let v = arg(args, key)?;
    if v == "-" {
        return Ok(None);
    }
    v.parse().map(Some).map_err(|_| format!("{key}={v}: not an address"))
}

fn timeout(args: &[(String, String)]) -> Result<Option<u32>, String> {
    let ms: i32 = num(args, "timeout")?;
    Ok(u32::try_from(ms).ok())
}

/// A host name from a note (`\xNN` for bytes outside printable ASCII).
fn host(text: &str) -> Result<Vec<u8>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 3 < b.len() {
            let v = u8::from_str_radix(&text[i + 2..i + 4], 16).map_err(|_| "bad \\x in host")?;
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn status(r: Result<(), Error>) -> i32 {
    r.map_or_else(errno_of, |()| 0)
}

fn unhex(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    text.chunks(2)
        .map(|p| std::str::from_utf8(p).ok().and_then(|s| u8::from_str_radix(s, 16).ok()))
        .collect()
}

fn kind_name(kind: ExchangeKind) -> &'static str {
    match kind {
        ExchangeKind::Command => "command",
        ExchangeKind::Payload => "payload",
        ExchangeKind::CommandWithPayload => "command+payload",
        ExchangeKind::Listen => "listen",
        ExchangeKind::Sleep => "sleep",
    }
}

fn show(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes.iter().take(200) {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    if bytes.len() > 200 {
        s.push_str("...");
    }
    s
}

struct Replayer<'a> {
    lines: &'a [Line],
    engine: Box<Engine>,
    report: Report,
    /// An operation is running: the next X or D line is its next step.
    running: bool,
    reply: Vec<u8>,
    /// Recorded handle -> the replay's: generations differ when the trace began after other
    /// sockets had come and gone; the slot, which the commands show, must not.
    handles: std::collections::HashMap<u32, u32>,
}

impl<'a> Replayer<'a> {
    fn diverge(&mut self, line: usize, what: String) -> Result<(), ()> {
        self.report.divergence = Some(Divergence { line, what });
        Err(())
    }

    /// The bytes a send's note stands for: from the first payload of its operation when the
    /// trace shows it, else filler of the same length (`lf_at`: a line feed there, as a PEM
    /// piece ends).
    fn data_for(&self, from: usize, len: usize, lf_at: Option<usize>) -> Vec<u8> {
        let mut data = vec![b'A'; len];
        let mut known = 0;
        let hex = self.engine.limits().send_hex && lf_at.is_none();
        for line in &self.lines[from + 1..] {
            match &line.record {
                Record::Exchange { payload: Some(Bytes::Shown(p)), .. } => {
                    let decoded = if hex { unhex(p).unwrap_or_else(|| p.clone()) } else { p.clone() };
                    known = decoded.len().min(len);
                    data[..known].copy_from_slice(&decoded[..known]);
                    break;
                }
                Record::Done { .. } | Record::Note { .. } => break,
                _ => {}
            }
        }
        if let Some(at) = lf_at.filter(|&at| at < len && at >= known) {
            data[at] = b'\n';
        }
        data
    }

    fn note(&mut self, index: usize, name: &str, args: &[(String, String)], recorded: i32) -> Result<(), ()> {
        let number = self.lines[index].number;
        if self.running && name != "abort" {
            return self.diverge(number, format!("the core was still in an operation when the trace noted `{name}`"));
        }
        let mapped: Vec<(String, String)> = args
            .iter()
            .map(|(k, v)| match (k.as_str(), v.parse::<u32>()) {
                ("h", Ok(h)) => (k.clone(), self.handles.get(&h).copied().unwrap_or(h).to_string()),
                _ => (k.clone(), v.clone()),
            })
            .collect();
        let args = &mapped[..];
        let got: Result<i32, String> = (|| {
            let e = &mut self.engine;
            Ok(match name {
                "configure" => {
                    let max: u16 = num(args, "max_command")?;
                    let limits = Limits {
                        max_command_len: (max != 0).then_some(max),
                        send_hex: num::<u8>(args, "send_hex")? != 0,
                        recv_hex: num::<u8>(args, "recv_hex")? != 0,
                        combined_send: num::<u8>(args, "combined")? != 0,
                        pdp_cid: num(args, "cid")?,
                    };
                    status(e.configure(limits))
                }
                "reset" => status(e.begin_reset()),
                "reset_keep_sockets" => status(e.begin_reset_keeping_sockets()),
                "socket_open" | "stream_open" => {
                    let opened = if name == "socket_open" { e.open() } else { e.open_stream() };
                    match opened {
                        Ok(h) => {
                            let recorded: u32 = num(args, "handle")?;
                            if h.slot_index() != Handle(recorded).slot_index() {
                                return Err(format!(
                                    "{name} took slot {:?} where the trace has slot {:?}",
                                    h.slot_index(),
                                    Handle(recorded).slot_index()
                                ));
                            }
                            self.handles.insert(recorded, h.0);
                            0
                        }
                        Err(err) => errno_of(err),
                    }
                }
                "bind" => status(e.bind(Handle(num(args, "h")?), num(args, "port")?)),
                "connect" => status(e.begin_connect(Handle(num(args, "h")?), peer(args, "peer")?.ok_or("no peer")?)),
                "sendto" => {
                    let len: usize = num(args, "len")?;
                    let data = self.data_for(index, len, None);
                    let e = &mut self.engine;
                    status(e.begin_sendto(Handle(num(args, "h")?), &data, peer(args, "peer")?))
                }
                "recvfrom" => {
                    // As the C ABI does: a receive that finds nothing ends at its first pause.
                    e.set_yield_waits(true);
                    status(e.begin_recvfrom(Handle(num(args, "h")?), timeout(args)?, num(args, "now")?))
                }
                "poll" => status(e.begin_poll(Handle(num(args, "h")?))),
                "stream_connect" => {
                    status(e.begin_stream_connect(Handle(num(args, "h")?), peer(args, "peer")?.ok_or("no peer")?))
                }
                "stream_send" => {
                    let len: usize = num(args, "len")?;
                    let want: usize = num(args, "taken")?;
                    let data = self.data_for(index, len, None);
                    match self.engine.begin_stream_send(Handle(num(args, "h")?), &data) {
                        Ok(n) if n == want => 0,
                        Ok(n) => return Err(format!("stream_send took {n} bytes where the trace took {want}")),
                        Err(err) => errno_of(err),
                    }
                }
                "stream_recv" => status({
                    e.set_yield_waits(true);
                    e.begin_stream_recv(
                    Handle(num(args, "h")?),
                    num(args, "max")?,
                    timeout(args)?,
                    num(args, "now")?,
                    )
                }),
                "cred_write" => {
                    let lf = args.iter().any(|(k, v)| k == "lf" && v == "1");
                    status(e.begin_cred_upload(num::<u8>(args, "key")? != 0, num(args, "index")?, num(args, "size")?, lf))
                }
                "secure_forget" => {
                    e.forget_security_profiles();
                    0
                }
                "cred_piece" => {
                    let len: usize = num(args, "len")?;
                    let want: usize = num(args, "taken")?;
                    let lf = num::<u8>(args, "lf")? != 0;
                    // A piece ends just before a line feed; where the transport supplies the
                    // line feed itself (1.18), the piece takes it too.
                    let data = self.data_for(index, len, Some(if lf { want.saturating_sub(1) } else { want }));
                    match self.engine.begin_cred_piece(&data, lf) {
                        Ok(n) if n == want => 0,
                        Ok(n) => return Err(format!("cred_piece took {n} bytes where the trace took {want}")),
                        Err(err) => errno_of(err),
                    }
                }
                "secure_connect" => {
                    let slot = |k: &str| -> Result<Option<u8>, String> {
                        let v: i16 = num(args, k)?;
                        Ok(u8::try_from(v).ok())
                    };
                    let name_text = arg(args, "host")?;
                    let name_bytes = if name_text == "-" { None } else { Some(host(name_text)?) };
                    let params = SecureParams { level: num(args, "level")?, ca: slot("ca")?, cert: slot("cert")?, key: slot("key")? };
                    status(e.begin_secure_connect(
                        Handle(num(args, "h")?),
                        peer(args, "peer")?.ok_or("no peer")?,
                        name_bytes.as_deref(),
                        params,
                    ))
                }
                "listen" => status(e.begin_listen(Handle(num(args, "h")?), num(args, "port")?)),
                "accept" => status(e.begin_accept(Handle(num(args, "h")?), timeout(args)?, num(args, "now")?)),
                "resolve" | "resolve_own" => {
                    let name_bytes = host(arg(args, "host")?)?;
                    let family: u8 = num(args, "family")?;
                    let kind = if family == 4 { RecordType::A } else { RecordType::Aaaa };
                    let server = peer(args, "server")?;
                    let id: u16 = num(args, "id")?;
                    if name == "resolve" {
                        status(e.begin_resolve(&name_bytes, kind, server, id))
                    } else if family == 0 {
                        status(e.begin_resolve_own_both(&name_bytes, server.ok_or("no server")?, id))
                    } else {
                        status(e.begin_resolve_own(&name_bytes, kind, server.ok_or("no server")?, id))
                    }
                }
                "close" => status(e.begin_close(Handle(num(args, "h")?))),
                "registration" => status(e.begin_registration()),
                "abort" => {
                    e.abort();
                    self.running = false;
                    0
                }
                other => return Err(format!("unknown call `{other}`")),
            })
        })();
        let got = match got {
            Ok(code) => code,
            Err(message) => return self.diverge(number, message),
        };
        if got != recorded {
            return self.diverge(number, format!("`{name}` returned {got} where the trace has {recorded}"));
        }
        let begins = name.ends_with("connect")
            || matches!(
                name,
                "reset" | "reset_keep_sockets" | "sendto" | "recvfrom" | "poll" | "stream_send" | "stream_recv"
                    | "cred_write" | "cred_piece" | "listen" | "accept" | "resolve" | "resolve_own" | "close"
                    | "registration"
            );
        if begins && got == 0 {
            self.running = true;
            self.reply.clear();
            self.report.operations += 1;
        }
        Ok(())
    }

    fn exchange(&mut self, index: usize) -> Result<(), ()> {
        let line = &self.lines[index];
        let Record::Exchange { t, kind, wait_ms, command, payload } = &line.record else { return Ok(()) };
        let number = line.number;
        if !self.running {
            return self.diverge(number, "an exchange outside any operation the trace noted".into());
        }
        let reply = std::mem::take(&mut self.reply);
        let step = self.engine.step(&reply, *t);
        let x = match step {
            Step::Exchange(x) => x,
            Step::Done(r) => {
                let what = format!("the core ended the operation ({r:?}) where the trace has a {kind} exchange");
                return self.diverge(number, what);
            }
        };
        let mut problems = Vec::new();
        if kind_name(x.kind) != kind {
            problems.push(format!("kind {} (trace: {kind})", kind_name(x.kind)));
        }
        if x.timeout_ms != *wait_ms {
            problems.push(format!("wait {} ms (trace: {wait_ms})", x.timeout_ms));
        }
        let has_command = matches!(x.kind, ExchangeKind::Command | ExchangeKind::CommandWithPayload);
        if let (true, Some(c)) = (has_command, command) {
            if c.matches(x.command) != Some(true) {
                let want = match c {
                    Bytes::Shown(b) => show(b),
                    Bytes::Hashed { len, .. } => format!("{len} hidden bytes"),
                };
                problems.push(format!("command \"{}\" (trace: \"{want}\")", show(x.command)));
            }
        }
        let has_payload = matches!(x.kind, ExchangeKind::Payload | ExchangeKind::CommandWithPayload);
        if let (true, Some(p)) = (has_payload, payload) {
            match p.matches(x.payload) {
                Some(true) => {}
                None => self.report.unchecked_payloads += 1,
                Some(false) => problems.push(format!("payload of {} bytes (trace: {} bytes)", x.payload.len(), p.len())),
            }
        }
        if !problems.is_empty() {
            return self.diverge(number, format!("the core asked for {}", problems.join(", ")));
        }
        self.report.exchanges += 1;
        Ok(())
    }

    fn done(&mut self, index: usize) -> Result<(), ()> {
        let line = &self.lines[index];
        let Record::Done { t, fields } = &line.record else { return Ok(()) };
        let number = line.number;
        if !self.running {
            return self.diverge(number, "an outcome outside any operation the trace noted".into());
        }
        let reply = std::mem::take(&mut self.reply);
        let result = match self.engine.step(&reply, *t) {
            Step::Done(r) => r,
            Step::Exchange(x) => {
                let what = format!(
                    "the core asked for one more exchange ({} \"{}\") where the trace ends the operation",
                    kind_name(x.kind),
                    show(x.command)
                );
                return self.diverge(number, what);
            }
        };
        self.running = false;
        let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        let want_error: i32 = get("error").and_then(|v| v.parse().ok()).unwrap_or(-1);
        let outcome = match result {
            Err(err) => {
                let got = errno_of(err);
                if got != want_error {
                    return self.diverge(number, format!("outcome error {got} ({err:?}) where the trace has {want_error}"));
                }
                return Ok(());
            }
            Ok(o) => o,
        };
        if want_error != 0 {
            return self.diverge(number, format!("outcome success where the trace has error {want_error}"));
        }
        let mut problems = Vec::new();
        if get("len").and_then(|v| v.parse::<usize>().ok()) != Some(outcome.sent) {
            problems.push(format!("len {} (trace: {})", outcome.sent, get("len").unwrap_or("?")));
        }
        if let Some(data) = get("data").map(crate::format::parse_bytes) {
            let got = &self.engine.datagram()[..outcome.received];
            match data {
                Ok(b) => match b.matches(got) {
                    Some(true) => {}
                    None => self.report.unchecked_payloads += 1,
                    Some(false) => problems.push(format!("data of {} bytes (trace: {})", got.len(), b.len())),
                },
                Err(e) => problems.push(e),
            }
        }
        let from = outcome.from.map_or_else(|| "-".to_string(), |a| a.to_string());
        if get("from").is_some_and(|v| v != from) {
            problems.push(format!("from {from} (trace: {})", get("from").unwrap_or("?")));
        }
        let readable = if outcome.readable { "1" } else { "0" };
        if get("readable").is_some_and(|v| v != readable) {
            problems.push(format!("readable {readable}"));
        }
        let addrs: Vec<String> = self.engine.addresses()[..outcome.resolved]
            .iter()
            .map(|ip: &IpAddr| SocketAddr::new(*ip, 0).to_string())
            .collect();
        let addrs = if addrs.is_empty() { "-".to_string() } else { addrs.join(",") };
        if get("addrs").is_some_and(|v| v != addrs) {
            problems.push(format!("addrs {addrs} (trace: {})", get("addrs").unwrap_or("?")));
        }
        if !problems.is_empty() {
            return self.diverge(number, format!("outcome differs: {}", problems.join(", ")));
        }
        Ok(())
    }

    /// A session runs its reset sweep before any other operation (c_glue/oprun.c), so a trace
    /// whose first operation is not that sweep began after it: the fresh engine is brought to
    /// the same point with a sweep that finds no socket open (answered `OK` throughout).
    fn prime_if_begun_late(&mut self) {
        let first = self.lines.iter().find_map(|l| match &l.record {
            Record::Note { name, .. } if !matches!(name.as_str(), "configure" | "socket_open" | "stream_open" | "bind") => {
                Some(name.as_str())
            }
            _ => None,
        });
        if matches!(first, None | Some("reset") | Some("reset_keep_sockets")) {
            return;
        }
        if self.engine.begin_reset().is_ok() {
            let mut reply: &[u8] = b"";
            for _ in 0..32 {
                if let Step::Done(_) = self.engine.step(reply, 0) {
                    break;
                }
                reply = b"\r\nOK\r\n";
            }
        }
        self.report.primed = true;
    }

    fn run(&mut self) -> Result<(), ()> {
        self.prime_if_begun_late();
        for index in 0..self.lines.len() {
            let number = self.lines[index].number;
            match &self.lines[index].record {
                Record::Note { name, args, result, .. } => {
                    let (name, args, result) = (name.clone(), args.clone(), *result);
                    self.note(index, &name, &args, result)?
                }
                Record::Exchange { .. } => self.exchange(index)?,
                Record::Answer { answer, .. } => {
                    self.report.hidden_answers += answer.hidden;
                    self.reply = answer.bytes.clone();
                }
                Record::Raised { .. } => {
                    // The shim aborts the operation; its `abort` note follows.
                }
                Record::Done { .. } => self.done(index)?,
                Record::Lost { count, .. } => {
                    let what = format!("the trace lost {count} notes here: it cannot be replayed past this line");
                    return self.diverge(number, what);
                }
                Record::Header { .. } | Record::End { .. } => {}
            }
        }
        Ok(())
    }
}

/// Replays `lines` through a fresh engine.
pub fn replay(lines: &[Line]) -> Report {
    let mut r = Replayer { lines, engine: Box::new(Engine::new()), report: Report::default(), running: false, reply: Vec::new(), handles: Default::default() };
    let _ = r.run();
    r.report
}
