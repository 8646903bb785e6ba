//! The core through its C ABI, as the MicroPython shim drives it, fed arbitrary modem answers
//! and clock values for every operation (reset, open, bind, connect, sendto, recvfrom, poll,
//! resolve, close, configure), sometimes abandoned half-way or interrupted by a second call.
//!
//! Must hold, whatever the modem says: no panic; every exchange is a well-formed one (see
//! `engine/abi.rs`); an operation ends within a bounded number of exchanges: at most
//! `COMMAND_CAP` commands, receive polls only until its timeout (past its deadline a receive
//! reads at most once more between two commands), and a receive that blocks forever makes
//! nothing but polls; a second call while an operation runs is refused; the slots in use are
//! always exactly the open sockets, and none is left once every socket is closed or after a
//! reset. `engine/ops.rs` starts the operations, `engine/drive.rs` steps and checks them.
#![no_main]

#[path = "engine/abi.rs"]
mod abi;
#[path = "common/dns_answer.rs"]
mod dns_answer;
#[path = "engine/drive.rs"]
mod drive;
#[path = "engine/modem.rs"]
mod modem;
#[path = "engine/ops.rs"]
mod ops;
#[path = "engine/script.rs"]
mod script;

use libfuzzer_sys::fuzz_target;
use microatsocket::ffi::*;

use abi::{step, Stepped};
use script::Script;

/// Commands and payloads (not receive polls, not waits) one operation may write: twice the
/// core's own per-operation cap of 24 commands, since each send adds its payload.
const COMMAND_CAP: usize = 2 * 24 + 2;
/// A receive that blocks forever is abandoned after this many exchanges (the user's Ctrl-C).
const FOREVER_STEPS: usize = 1_000;
/// Longest the resolver's own DNS query waits: three attempts of 2 s.
const RESOLVE_WAIT_MS: u32 = 3 * 2_000;
const OPS_PER_INPUT: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpKind {
    Reset,
    Connect,
    SendTo { len: usize },
    RecvFrom { timeout_ms: Option<u32> },
    Poll,
    Resolve { family: u8 },
    Close,
}

struct Socket {
    handle: mas_handle,
    live: bool,
}

struct Harness<'a> {
    script: Script<'a>,
    now: u32,
    limits: mas_limits,
    sockets: Vec<Socket>,
    /// The last payload sent, decoded: a DNS answer template answers it.
    last_payload: Vec<u8>,
    /// Whether any socket was bound: a bound socket's receive makes it a UDP server, whose
    /// datagrams may come without a sender when the modem does not report one.
    any_bound: bool,
}

fn limits_from(b: u8) -> mas_limits {
    mas_limits {
        max_command_len: [0, 124, 64, 20][usize::from(b & 3)],
        send_hex: b & 4 == 0,
        recv_hex: b & 8 == 0,
        combined_send: b & 16 != 0,
        pdp_cid: if b & 32 == 0 { 1 } else { 3 },
    }
}

impl<'a> Harness<'a> {
    fn new(data: &'a [u8]) -> Self {
        let mut script = Script::new(data);
        let limits = limits_from(script.byte_or(0));
        let now = match script.byte_or(0) % 4 {
            // Just before the millisecond clock wraps: deadlines cross zero.
            2 => u32::MAX - 2_500,
            3 => script.u32(),
            _ => 1_000,
        };
        Harness { script, now, limits, sockets: Vec::new(), last_payload: Vec::new(), any_bound: false }
    }

    /// The core is one static engine shared by every input: end what the previous input left
    /// and sweep the modem with plain `OK`s, so each input starts alike and replays alone.
    fn start(&mut self) {
        mas_abort();
        // Safety: a live local.
        assert_eq!(unsafe { mas_configure(&self.limits) }, 0);
        assert_eq!(mas_reset_begin(), 0);
        let mut reply = Vec::new();
        loop {
            match step(&reply, self.now) {
                Stepped::Exchange(_) => reply = b"\r\nOK\r\n".to_vec(),
                Stepped::Done(outcome) => {
                    assert_eq!(outcome.error, 0);
                    break;
                }
            }
        }
        assert_eq!(mas_slots_in_use(), 0);
    }

    fn run(&mut self) {
        for _ in 0..OPS_PER_INPUT {
            let Some(op) = self.script.byte() else { break };
            let interrupt = self.script.byte_or(0);
            self.one_op(op, interrupt);
            self.check_pool();
        }
        // Close everything, whatever the modem answers: every slot must come back.
        for i in 0..self.sockets.len() {
            if self.sockets[i].live {
                assert_eq!(mas_close_begin(self.sockets[i].handle), 0);
                self.drive(OpKind::Close, 0);
                self.sockets[i].live = false;
                self.check_pool();
            }
        }
        assert_eq!(mas_slots_in_use(), 0, "a slot leaked");
    }

}


fuzz_target!(|data: &[u8]| {
    let mut harness = Harness::new(data);
    harness.start();
    harness.run();
});
