//! `trace-replay FILE...`: replays each trace through the core; exit status 1 at the first
//! divergence (reported with its line), 2 for a file that is not a trace.
//! `trace-replay --sim-diff FILE...`: sends each trace's exchanges to the simulator and lists,
//! line by line, where its answers differ from the trace's (exit status 0: a report).
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut files: Vec<String> = std::env::args().skip(1).collect();
    let sim_diff = files.first().is_some_and(|f| f == "--sim-diff");
    if sim_diff {
        files.remove(0);
    }
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
        if sim_diff {
            match trace_replay::simdiff::diff(&lines) {
                Ok(diffs) => {
                    println!("{file}: {} exchanges answer differently in the simulator", diffs.len());
                    for d in diffs {
                        println!("  line {}: {}", d.line, d.command);
                        for l in d.trace_only {
                            println!("    - trace:     {l}");
                        }
                        for l in d.sim_only {
                            println!("    + simulator: {l}");
                        }
                    }
                }
                Err(e) => {
                    eprintln!("{file}: the simulator did not start: {e}");
                    status = 2;
                }
            }
            continue;
        }
        let report = trace_replay::replay::replay(&lines);
        println!("{file}: {report}");
        if report.divergence.is_some() && status == 0 {
            status = 1;
        }
    }
    ExitCode::from(status)
}
