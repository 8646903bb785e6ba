//! The trace format (c_glue/README.md, "Trace format"): one record per line, a letter, `t=<ms>`,
//! then fields. Quoted fields use C escapes (`\r \n \t \" \\ \xNN`); `\#<len>:<sha256>;` inside
//! an answer stands for received bytes not shown; `#<len>:<sha256>` as a field value for a
//! payload not shown.

use sha2::{Digest, Sha256};

/// Bytes as the trace gives them: shown, or named by length and SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bytes {
    Shown(Vec<u8>),
    Hashed { len: usize, sha256: String },
}

impl Bytes {
    pub fn len(&self) -> usize {
        match self {
            Bytes::Shown(b) => b.len(),
            Bytes::Hashed { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How `actual` compares: `Some(true)` same bytes, `Some(false)` different, `None` same
    /// length but the trace does not show the bytes and their hash differs (filler in a replay).
    pub fn matches(&self, actual: &[u8]) -> Option<bool> {
        match self {
            Bytes::Shown(b) => Some(b == actual),
            Bytes::Hashed { len, sha256 } => {
                if *sha256 == sha256_hex(actual) {
                    Some(true)
                } else if *len == actual.len() {
                    None
                } else {
                    Some(false)
                }
            }
        }
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// An answer: its bytes, with hidden spans replaced by `0` filler, and how many spans were hidden.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub bytes: Vec<u8>,
    pub hidden: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// `H`: the transport and what it found out about the firmware.
    Header { t: u32, fields: Vec<(String, String)> },
    /// `N`: a call into the core: name, arguments, result.
    Note { t: u32, name: String, args: Vec<(String, String)>, result: i32 },
    /// `L`: notes the core could not keep.
    Lost { t: u32, count: u32 },
    /// `X`: an exchange the core asked for.
    Exchange { t: u32, kind: String, wait_ms: u32, command: Option<Bytes>, payload: Option<Bytes> },
    /// `A`: the answer to the last exchange, after `ms`.
    Answer { t: u32, ms: u32, answer: Answer },
    /// `R`: the transport raised instead of answering.
    Raised { t: u32, ms: u32, exception: String },
    /// `D`: the operation's outcome.
    Done { t: u32, fields: Vec<(String, String)> },
    /// `E`: the trace was stopped.
    End { t: u32 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub number: usize,
    pub record: Record,
}

#[derive(Debug)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

pub fn parse(text: &str) -> Result<Vec<Line>, ParseError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let line = raw.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let record = parse_line(line).map_err(|message| ParseError { line: number, message })?;
        out.push(Line { number, record });
    }
    Ok(out)
}

/// Splits `rest` into words; a quoted value keeps its spaces.
fn words(rest: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for ch in rest.chars() {
        if quoted {
            cur.push(ch);
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                quoted = false;
            }
        } else if ch == ' ' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            if ch == '"' {
                quoted = true;
            }
            cur.push(ch);
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

fn key_values(words: &[String]) -> Vec<(String, String)> {
    words
        .iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (w.clone(), String::new()),
        })
        .collect()
}

fn field<'a>(kv: &'a [(String, String)], key: &str) -> Result<&'a str, String> {
    kv.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).ok_or_else(|| format!("no {key}="))
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("{what}: not a number: {text}"))
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// A quoted value's bytes; hidden spans become `0` filler (counted in the second value).
pub fn unquote(text: &str) -> Result<(Vec<u8>, usize), String> {
    let b = text.as_bytes();
    if b.len() < 2 || b[0] != b'"' || b[b.len() - 1] != b'"' {
        return Err(format!("not a quoted value: {text}"));
    }
    let inner = &b[1..b.len() - 1];
    let mut out = Vec::with_capacity(inner.len());
    let mut hidden = 0;
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = *inner.get(i + 1).ok_or("dangling backslash")?;
        match e {
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'"' => out.push(b'"'),
            b'\\' => out.push(b'\\'),
            b'x' => {
                let (h, l) = (inner.get(i + 2).copied().and_then(hex_val), inner.get(i + 3).copied().and_then(hex_val));
                let (Some(h), Some(l)) = (h, l) else { return Err("bad \\x escape".into()) };
                out.push(h << 4 | l);
                i += 2;
            }
            b'#' => {
                let end = inner[i..].iter().position(|&c| c == b';').ok_or("unterminated \\# span")? + i;
                let span = std::str::from_utf8(&inner[i + 2..end]).map_err(|_| "bad \\# span")?;
                let len: usize = number(span.split(':').next().unwrap_or(""), "hidden span")?;
                out.extend(std::iter::repeat(b'0').take(len));
                hidden += 1;
                i = end + 1;
                continue;
            }
            _ => return Err(format!("unknown escape \\{}", e as char)),
        }
        i += 2;
    }
    Ok((out, hidden))
}

pub fn parse_bytes(text: &str) -> Result<Bytes, String> {
    if let Some(rest) = text.strip_prefix('#') {
        let (len, sha) = rest.split_once(':').ok_or("bad #len:sha256")?;
        return Ok(Bytes::Hashed { len: number(len, "length")?, sha256: sha.to_string() });
    }
    Ok(Bytes::Shown(unquote(text)?.0))
}

fn parse_line(line: &str) -> Result<Record, String> {
    let (letter, rest) = line.split_at(1);
    let w = words(rest)?;
    let kv = key_values(&w);
    let t: u32 = number(field(&kv, "t")?, "t")?;
    let after_t: Vec<String> = w.iter().skip(1).cloned().collect();
    Ok(match letter {
        "H" => Record::Header { t, fields: key_values(&after_t) },
        "N" => {
            let name = after_t.first().ok_or("note without a name")?.clone();
            let arrow = after_t.iter().position(|x| x == "->").ok_or("note without -> result")?;
            let result = number(after_t.get(arrow + 1).ok_or("note without a result")?, "result")?;
            Record::Note { t, name, args: key_values(&after_t[1..arrow]), result }
        }
        "L" => Record::Lost { t, count: number(field(&kv, "lost")?, "lost")? },
        "X" => {
            let kind = after_t.first().ok_or("exchange without a kind")?.clone();
            let get = |k: &str| field(&kv, k).ok().map(parse_bytes).transpose();
            Record::Exchange { t, kind, wait_ms: number(field(&kv, "w")?, "w")?, command: get("c")?, payload: get("p")? }
        }
        "A" => {
            let ms = number(field(&kv, "ms")?, "ms")?;
            let quoted = after_t.get(1).ok_or("answer without its bytes")?;
            let (bytes, hidden) = unquote(quoted)?;
            Record::Answer { t, ms, answer: Answer { bytes, hidden } }
        }
        "R" => Record::Raised { t, ms: number(field(&kv, "ms")?, "ms")?, exception: field(&kv, "raised")?.to_string() },
        "D" => Record::Done { t, fields: key_values(&after_t) },
        "E" => Record::End { t },
        other => return Err(format!("unknown record {other}")),
    })
}
