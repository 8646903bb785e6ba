//! Every trace committed under tests/traces/ replays through the core with no divergence, and
//! a trace that differs from what the core does is caught at the right line.
use std::path::PathBuf;

use trace_replay::{format, replay};

fn traces_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../traces")
}

fn committed() -> Vec<(PathBuf, String)> {
    let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(traces_dir())
        .expect("tests/traces")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "trace"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable trace");
            (p, text)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_committed_trace_replays() {
    let traces = committed();
    assert!(traces.len() >= 5, "one trace per operation kind at least: {}", traces.len());
    for (path, text) in traces {
        let lines = format::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let report = replay::replay(&lines);
        println!("{}: {report}", path.display());
        assert!(report.divergence.is_none(), "{}: {report}", path.display());
        assert!(report.exchanges > 0, "{}: nothing replayed", path.display());
    }
}

/// The UDP trace with one recorded command changed: the replay stops there.
#[test]
fn a_changed_command_is_reported_at_its_line() {
    let text = std::fs::read_to_string(traces_dir().join("emulation-udp.trace")).expect("udp trace");
    let (number, line) = text.lines().enumerate().find(|(_, l)| l.contains("AT+SQNSSENDEXT=")).expect("a send");
    let changed = text.replacen(line, &line.replace("AT+SQNSSENDEXT=1,", "AT+SQNSSENDEXT=2,"), 1);
    let report = replay::replay(&format::parse(&changed).expect("parses"));
    let d = report.divergence.expect("diverges");
    assert_eq!(d.line, number + 1, "{}", d.what);
    assert!(d.what.contains("AT+SQNSSENDEXT=1,"), "{}", d.what);
}

/// An answer changed to an error: the core ends the operation differently, reported at the
/// outcome (or the next exchange), never later.
#[test]
fn a_changed_answer_is_reported() {
    let text = std::fs::read_to_string(traces_dir().join("emulation-tcp.trace")).expect("tcp trace");
    let dial = text.lines().position(|l| l.contains("AT+SQNSD=")).expect("a dial");
    let answer = text.lines().nth(dial + 1).expect("its answer").to_string();
    assert!(answer.starts_with("A "), "{answer}");
    let changed = text.replacen(&answer, &answer.replace("\\r\\nOK\\r\\n", "\\r\\nNO CARRIER\\r\\n"), 1);
    let report = replay::replay(&format::parse(&changed).expect("parses"));
    let d = report.divergence.expect("diverges");
    assert_eq!(d.line, dial + 3, "{}", d.what);
}

/// With payloads hidden (the default), a trace still replays: lengths are checked, bytes not.
#[test]
fn a_hashed_trace_replays_by_length() {
    let text = std::fs::read_to_string(traces_dir().join("emulation-udp.trace")).expect("udp trace");
    let mut hashed = String::new();
    for line in text.lines() {
        let mut l = line.to_string();
        if let Some(at) = l.find(" p=\"") {
            let value = &l[at + 3..];
            let bytes = format::unquote(value).expect("quoted").0;
            l = format!("{} p=#{}:{}", &l[..at], bytes.len(), "0".repeat(64));
        }
        hashed.push_str(&l);
        hashed.push('\n');
    }
    let report = replay::replay(&format::parse(&hashed).expect("parses"));
    assert!(report.divergence.is_none(), "{report}");
    assert!(report.unchecked_payloads >= 2, "{report}");
}

/// A board that answered differently from the simulator: the difference is listed at its line,
/// and the exchanges that answer alike are not.
#[test]
fn sim_diff_lists_a_different_answer_at_its_line() {
    let text = std::fs::read_to_string(traces_dir().join("emulation-udp.trace")).expect("udp trace");
    let cfg = text.lines().position(|l| l.contains("c=\"AT+SQNSCFG=")).expect("a socket configuration");
    let answer = text.lines().nth(cfg + 1).expect("its answer").to_string();
    let board = text.replacen(&answer, &answer.replace("\\r\\nOK\\r\\n", "\\r\\n+CME ERROR: 4\\r\\n"), 1);
    let diffs = trace_replay::simdiff::diff(&format::parse(&board).expect("parses")).expect("simulator");
    let d = diffs.iter().find(|d| d.line == cfg + 2).expect("the changed answer is listed");
    assert_eq!(d.trace_only, vec!["+CME ERROR: 4".to_string()]);
    assert_eq!(d.sim_only, vec!["OK".to_string()]);
    assert!(diffs.iter().all(|d| !d.command.starts_with("AT+SQNSCFGEXT")), "{diffs:?}");
}
