//! The control protocol: one text line in, one line out (`OK ...` or `ERR <reason>`).
//! The binary serves it on `<socket>.ctl`; tests call `Monarch::control`.

use crate::{lock, Shared};

pub(crate) fn handle(shared: &Shared, line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut modem = lock(&shared.modem);
    let out = &shared.out;
    match words.as_slice() {
        ["stats"] => {
            let pairs: Vec<String> = modem.stats().iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("OK {}", pairs.join(" "))
        }
        ["reset"] => {
            modem.faults = Default::default();
            modem.reset_counters();
            "OK".into()
        }
        // Whether the modem is in the middle of sending (see Output::busy), and how many host
        // bytes it has handled: a host that saw nothing (or part of an answer) can tell a
        // simulator the machine has not scheduled from a modem that stays silent.
        // Read in this order: a connection's bytes are counted as forwarded before they are
        // counted as read from it, and as handled only after they were forwarded.
        ["uart", "busy"] => {
            use std::sync::atomic::Ordering::SeqCst;
            let connection = out.connection.load(SeqCst);
            let read = out.connection_bytes.load(SeqCst);
            let forwarded = out.forwarded.load(SeqCst);
            let handled = out.handled.load(SeqCst);
            format!("OK {} {connection} {read} {forwarded} {handled}", u8::from(out.busy()))
        }
        ["reboot"] | ["inject", "sysstart"] => {
            modem.reboot(out);
            "OK".into()
        }
        ["fault", rest @ ..] => match modem.faults.arm(rest) {
            Ok(()) => "OK".into(),
            Err(e) => format!("ERR {e}"),
        },
        ["inject", "urc", text @ ..] if !text.is_empty() => {
            modem.emit_urc(out, &text.join(" "));
            "OK".into()
        }
        ["inject", "garbage", hex] => match decode(hex) {
            Some(bytes) => {
                modem.emit_raw(out, &bytes);
                "OK".into()
            }
            None => "ERR garbage wants hex bytes".into(),
        },
        ["inject", "sqnsh", conn] => match conn.parse::<usize>() {
            Ok(c) if modem.network_close(c, out) => "OK".into(),
            _ => "ERR no open socket with that connId".into(),
        },
        ["network", "lose"] | ["network", "back"] => {
            modem.set_coverage(words[1] == "back", out);
            "OK".into()
        }
        ["clock", "unset"] | ["clock", "network"] => {
            modem.tls.clock_unset = words[1] == "unset";
            "OK".into()
        }
        ["nvm", "clear"] => {
            modem.tls.factory_reset();
            "OK".into()
        }
        ["tls_error"] => format!("OK {}", modem.tls.last_error),
        ["dns", "none"] => {
            modem.dns = None;
            "OK".into()
        }
        ["dns", ip, port] => match format!("{}:{port}", bracket(ip)).parse() {
            Ok(addr) => {
                modem.dns = Some(addr);
                "OK".into()
            }
            Err(e) => format!("ERR {e}"),
        },
        ["cgpaddr", v4, v6] => {
            modem.cgpaddr = ((*v4).into(), (*v6).into());
            "OK".into()
        }
        _ => format!("ERR unknown control line {line:?}"),
    }
}

fn bracket(ip: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]")
    } else {
        ip.into()
    }
}

fn decode(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}
