//! `trace-replay FILE...`: replays each trace through the core; exit status 1 at the first
//! divergence (reported with its line), 2 for a file that is not a trace.
use std::process::ExitCode;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: trace-replay TRACE...");
        return ExitCode::from(2);
    }
    let mut status = 0u8;
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{file}: {e}");
                status = 2;
                continue;
            }
        };
        let lines = match trace_replay::format::parse(&text) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("{file}: {e}");
                status = 2;
                continue;
            }
        };
        let report = trace_replay::replay::replay(&lines);
        println!("{file}: {report}");
        if report.divergence.is_some() && status == 0 {
            status = 1;
        }
    }
    ExitCode::from(status)
}
