//! The engine fed arbitrary modem replies for every operation. Each operation must end within a
//! bounded number of exchanges (no hang), nothing may panic, and once every socket is closed no
//! slot may be left in use — whatever the modem said, and also when an operation is abandoned
//! half-way (the transport raised).
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use microatsocket::dns::RecordType;
use microatsocket::engine::{Engine, ExchangeKind, Step};
use microatsocket::limits::Limits;
use microatsocket::socket::Handle;

/// Far more exchanges than any operation needs: receive polls are bounded by their timeout
/// (the clock below advances at least 1 ms per exchange), everything else by the engine's cap.
const MAX_STEPS: usize = 20_000;

/// Replies a modem really gives, so the fuzzer reaches deep paths quickly; mixed with raw bytes.
const REPLIES: [&[u8]; 16] = [
    b"\r\nOK\r\n",
    b"\r\nERROR\r\n",
    b"\r\n+CME ERROR: 3\r\n",
    b"\r\n> ",
    b"\r\n> \r\nOK\r\n",
    b"\r\nNO CARRIER\r\n",
    b"\r\n+SQNSRECV: 1,0\r\n\r\nOK\r\n",
    b"\r\n+SQNSRECV: 1,3\r\n414243\r\n\r\nOK\r\n",
    b"\r\n+SQNSRING: 1,3\r\n",
    b"\r\n+SQNSH: 1\r\n",
    b"\r\n+SYSSTART\r\n",
    b"\r\n+SQNSS: 1,0\r\n+SQNSS: 2,2,\"::1\",7,\"::1\",9\r\n\r\nOK\r\n",
    b"\r\n+SQNDNSLKUP: a.test,2001:db8::1\r\n\r\nOK\r\n",
    b"\r\n+SQNSI: 1,10,10,3,0\r\n\r\nOK\r\n",
    b"",
    b"\r\n+CGPADDR: 1,\"10.0.0.2\",\"2001:db8::2\"\r\n\r\nOK\r\n",
];

/// Reads the fuzzer's bytes as a script.
struct Script<'a> {
    data: &'a [u8],
}

impl<'a> Script<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    /// The next modem reply: a known one, or up to 255 raw bytes.
    fn reply(&mut self) -> Vec<u8> {
        let Some(choice) = self.byte() else { return b"\r\nOK\r\n".to_vec() };
        if choice < 160 {
            return REPLIES[usize::from(choice) % REPLIES.len()].to_vec();
        }
        let len = usize::from(self.byte().unwrap_or(0)).min(self.data.len());
        let (raw, rest) = self.data.split_at(len);
        self.data = rest;
        raw.to_vec()
    }
}

/// Steps the started operation to its end; `abandon_at` abandons it after that many exchanges.
fn drive(engine: &mut Engine, script: &mut Script<'_>, now: &mut u32, abandon_at: Option<usize>) {
    let mut reply = Vec::new();
    for step in 0..MAX_STEPS {
        match engine.step(&reply, *now) {
            Step::Done(_) => return,
            Step::Exchange(x) => {
                if x.kind == ExchangeKind::Sleep {
                    *now = now.wrapping_add(x.timeout_ms);
                }
                *now = now.wrapping_add(1 + u32::from(script.byte().unwrap_or(0)));
                if abandon_at == Some(step) {
                    engine.abort();
                    return;
                }
                reply = if x.kind == ExchangeKind::Sleep { Vec::new() } else { script.reply() };
            }
        }
    }
    panic!("an operation did not end within {MAX_STEPS} exchanges");
}

fn peer(b: u8) -> SocketAddr {
    if b & 1 == 0 {
        SocketAddr::from(([127, 0, 0, 1], 7 + u16::from(b)))
    } else {
        SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], 7 + u16::from(b)))
    }
}

fuzz_target!(|data: &[u8]| {
    let mut script = Script { data };
    let mut engine = Engine::new();
    let flags = script.byte().unwrap_or(0);
    let limits = Limits {
        max_command_len: if flags & 1 != 0 { None } else { Some(124) },
        send_hex: flags & 2 == 0,
        recv_hex: flags & 4 == 0,
        combined_send: flags & 8 != 0,
        pdp_cid: 1,
    };
    if engine.configure(limits).is_err() {
        return;
    }
    let mut now = 1_000u32;
    let mut handles: Vec<Handle> = Vec::new();
    for _ in 0..24 {
        let Some(op) = script.byte() else { break };
        let abandon_at = if op & 0x80 != 0 { Some(usize::from(op & 0x0f)) } else { None };
        let pick = |handles: &[Handle], b: u8| handles.get(usize::from(b) % handles.len().max(1)).copied();
        let arg = script.byte().unwrap_or(0);
        let begun = match (op >> 4) & 7 {
            0 => engine.begin_reset(),
            1 => match engine.open() {
                Ok(h) => {
                    handles.push(h);
                    continue;
                }
                Err(_) => continue,
            },
            2 => match pick(&handles, arg) {
                Some(h) => engine.begin_sendto(h, &[arg; 40][..usize::from(arg % 40) + 1], Some(peer(arg))),
                None => continue,
            },
            3 => match pick(&handles, arg) {
                Some(h) => engine.begin_recvfrom(h, Some(u32::from(arg) * 20), now),
                None => continue,
            },
            4 => match pick(&handles, arg) {
                Some(h) => engine.begin_poll(h),
                None => continue,
            },
            5 => match pick(&handles, arg) {
                Some(h) => engine.begin_connect(h, peer(arg)),
                None => continue,
            },
            6 => {
                let server = if arg & 1 != 0 { Some(peer(arg)) } else { None };
                let kind = if arg & 2 != 0 { RecordType::Aaaa } else { RecordType::A };
                engine.begin_resolve(b"a.test", kind, server, u16::from(arg))
            }
            _ => match pick(&handles, arg) {
                Some(h) => {
                    handles.retain(|&k| k != h);
                    engine.begin_close(h)
                }
                None => continue,
            },
        };
        if begun.is_ok() {
            drive(&mut engine, &mut script, &mut now, abandon_at);
        }
    }
    // Close everything, whatever the modem answers: every slot must come back.
    for h in handles {
        if engine.begin_close(h).is_ok() {
            drive(&mut engine, &mut script, &mut now, None);
        }
    }
    assert_eq!(engine.slots_in_use(), 0, "a slot leaked");
});
