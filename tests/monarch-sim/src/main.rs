//! `monarch-sim --socket PATH`: the simulator on a Unix socket. Each connection to PATH is
//! the UART (one at a time; the modem's state outlives a connection, as a real modem's does);
//! PATH.ctl takes control lines.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use monarch_sim::{Monarch, SimConfig, Uart};

struct Args {
    socket: PathBuf,
    cfg: SimConfig,
    exit_on_stdin_eof: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut socket = None;
    let mut cfg = SimConfig::default();
    let mut exit_on_stdin_eof = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--socket" => socket = Some(PathBuf::from(value("--socket")?)),
            "--seed" => cfg.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--reply-delay-ms" => {
                let ms: u64 = value("--reply-delay-ms")?.parse().map_err(|e| format!("--reply-delay-ms: {e}"))?;
                cfg.reply_delay = Duration::from_millis(ms);
            }
            "--exit-on-stdin-eof" => exit_on_stdin_eof = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let socket = socket.ok_or("usage: monarch-sim --socket PATH [--seed N] [--reply-delay-ms N] [--exit-on-stdin-eof]")?;
    Ok(Args { socket, cfg, exit_on_stdin_eof })
}

fn listen(path: &PathBuf) -> std::io::Result<UnixListener> {
    let _ = std::fs::remove_file(path);
    UnixListener::bind(path)
}

/// Pumps bytes both ways until the host hangs up.
fn serve_uart(stream: UnixStream, uart: &Uart) -> std::io::Result<()> {
    uart.begin_connection();
    let mut reader = stream.try_clone()?;
    let mut writer = stream;
    let connected = Arc::new(AtomicBool::new(true));
    let still = Arc::clone(&connected);
    let host_uart = uart.clone();
    let inbound = thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            host_uart.write(&buf[..n]);
        }
        still.store(false, Ordering::Release);
    });
    let mut buf = [0u8; 4096];
    while connected.load(Ordering::Acquire) {
        let n = uart.read_to_pump(&mut buf, Duration::from_millis(20));
        let written = n == 0 || writer.write_all(&buf[..n]).is_ok();
        uart.pumped();
        if !written {
            break;
        }
    }
    let _ = writer.shutdown(std::net::Shutdown::Both);
    let _ = inbound.join();
    Ok(())
}

fn serve_control(listener: UnixListener, sim: Arc<Monarch>) {
    for stream in listener.incoming().flatten() {
        let sim = Arc::clone(&sim);
        thread::spawn(move || {
            let Ok(mut writer) = stream.try_clone() else { return };
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { return };
                let reply = sim.control(line.trim());
                if writeln!(writer, "{reply}").is_err() {
                    return;
                }
            }
        });
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("monarch-sim: {e}");
            std::process::exit(2);
        }
    };
    let run = || -> std::io::Result<()> {
        let sim = Arc::new(Monarch::start(args.cfg.clone())?);
        let uart_listener = listen(&args.socket)?;
        let mut ctl_path = args.socket.clone().into_os_string();
        ctl_path.push(".ctl");
        let ctl_listener = listen(&PathBuf::from(ctl_path))?;
        let ctl_sim = Arc::clone(&sim);
        thread::spawn(move || serve_control(ctl_listener, ctl_sim));
        if args.exit_on_stdin_eof {
            thread::spawn(|| {
                let mut sink = Vec::new();
                let _ = std::io::stdin().read_to_end(&mut sink);
                std::process::exit(0);
            });
        }
        println!("monarch-sim ready {}", args.socket.display());
        std::io::stdout().flush()?;
        let uart = sim.uart();
        for stream in uart_listener.incoming() {
            serve_uart(stream?, &uart)?;
        }
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("monarch-sim: {e}");
        std::process::exit(1);
    }
}
