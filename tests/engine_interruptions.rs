//! Every interruption point of every operation, against the Monarch simulator: an exception
//! from the transport (a KeyboardInterrupt, a MemoryError while building the payload, the
//! firmware's data-state error) before an exchange reaches the modem, or after it was written
//! with its answer lost. Afterwards the module must be whole: the socket closes for real (the
//! modem holds no socket), and a fresh socket's first echo works. The dangerous points are
//! between `AT+SQNSSENDEXT` and its payload: a modem left waiting for payload would eat the
//! next commands as payload bytes.

mod common;

use std::net::SocketAddr;

use common::{echo_peer, run, run_interrupted, Interrupt, Interrupted, PycomTransport};
use microatsocket::engine::Engine;
use microatsocket::limits::Limits;
use microatsocket::socket::Handle;
use monarch_sim::{Monarch, SimConfig};


struct Rig {
    sim: Monarch,
    transport: PycomTransport,
    engine: Engine,
    peer: SocketAddr,
    other_peer: SocketAddr,
}

impl Rig {
    fn new(limits: Limits, peer: SocketAddr, other_peer: SocketAddr) -> Rig {
        // A modem left waiting for payload gives up after this long (how long the Monarch
        // waits is undocumented): a test that fails does so quickly.
        let cfg = SimConfig { payload_timeout: std::time::Duration::from_millis(500), ..SimConfig::default() };
        let sim = Monarch::start(cfg).expect("start simulator");
        let transport = PycomTransport::new(sim.uart());
        let mut engine = Engine::new();
        engine.configure(limits).unwrap();
        let mut rig = Rig { sim, transport, engine, peer, other_peer };
        rig.engine.begin_reset().unwrap();
        run(&mut rig.engine, &mut rig.transport).expect("reset sweep");
        rig
    }

    fn stat(&self, key: &str) -> u64 {
        let reply = self.sim.control("stats");
        reply
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {reply}"))
    }

    /// A socket with one datagram sent (dialled) and its echo read.
    fn warm_socket(&mut self) -> Handle {
        let h = self.engine.open().unwrap();
        self.engine.begin_sendto(h, b"warm", Some(self.peer)).unwrap();
        run(&mut self.engine, &mut self.transport).expect("warm-up send");
        self.engine.begin_recvfrom(h, Some(5_000), 0).unwrap();
        run(&mut self.engine, &mut self.transport).expect("warm-up echo");
        h
    }
}

/// One operation under test: set-up (not interrupted), then `begin` starts it.
struct Operation {
    name: &'static str,
    /// Interruption points tried: the first this many exchanges (a long poll repeats itself).
    points: u32,
    limits: Limits,
    /// Whether the socket is used before the operation (dialled to `peer`).
    warm: bool,
    begin: fn(&mut Rig, Handle),
    /// What the shim does after an abort of this operation before anything else.
    after_abort: fn(&mut Rig),
}

fn nothing(_: &mut Rig) {}

/// The shim repeats an unfinished reset sweep before the next operation.
fn sweep_again(rig: &mut Rig) {
    rig.engine.begin_reset().unwrap();
    run(&mut rig.engine, &mut rig.transport).expect("reset sweep");
}

fn operations() -> Vec<Operation> {
    let chunked = Limits { max_command_len: None, ..Limits::STOCK };
    let combined = Limits { combined_send: true, ..Limits::STOCK };
    vec![
        Operation { points: 16, name: "first sendto", limits: Limits::STOCK, warm: false, begin: |r, h| r.engine.begin_sendto(h, b"first", Some(r.peer)).unwrap(), after_abort: nothing },
        Operation { points: 16, name: "steady sendto", limits: Limits::STOCK, warm: true, begin: |r, h| r.engine.begin_sendto(h, b"steady", Some(r.peer)).unwrap(), after_abort: nothing },
        Operation { points: 16, name: "sendto, 1500 bytes", limits: chunked, warm: true, begin: |r, h| r.engine.begin_sendto(h, &[0x5a; 1500], Some(r.peer)).unwrap(), after_abort: nothing },
        Operation { points: 16, name: "sendto another peer", limits: Limits::STOCK, warm: true, begin: |r, h| r.engine.begin_sendto(h, b"other", Some(r.other_peer)).unwrap(), after_abort: nothing },
        Operation { points: 16, name: "combined sendto", limits: combined, warm: true, begin: |r, h| r.engine.begin_sendto(h, b"combined", Some(r.peer)).unwrap(), after_abort: nothing },
        Operation { points: 16, name: "first combined sendto", limits: combined, warm: false, begin: |r, h| r.engine.begin_sendto(h, b"first", Some(r.peer)).unwrap(), after_abort: nothing },
        // The harness clock is the host's: a receive that ends at its deadline makes as many
        // exchanges as fit before it, fewer on a loaded host than in the run that counted them
        // (which then ends before the point it was to be interrupted at). The deadline here is
        // far beyond the points tried, so each run reaches them all: four reads and the four
        // pauses after them (10, 20, 40, 80 ms), as many points as a 150 ms receive made.
        Operation { points: 8, name: "recvfrom, nothing coming", limits: Limits::STOCK, warm: true, begin: |r, h| r.engine.begin_recvfrom(h, Some(10_000), 0).unwrap(), after_abort: nothing },
        Operation { points: 16, name: "poll", limits: Limits::STOCK, warm: true, begin: |r, h| r.engine.begin_poll(h).unwrap(), after_abort: nothing },
        Operation { points: 16, name: "connect", limits: Limits::STOCK, warm: false, begin: |r, h| r.engine.begin_connect(h, r.peer).unwrap(), after_abort: nothing },
        Operation { points: 16, name: "close", limits: Limits::STOCK, warm: true, begin: |r, h| r.engine.begin_close(h).unwrap(), after_abort: nothing },
        Operation {
            points: 16,
            name: "resolve, own query",
            limits: Limits::STOCK,
            warm: false,
            begin: |r, _| {
                let server = r.peer;
                r.engine.begin_resolve(b"name.test", microatsocket::dns::RecordType::Aaaa, Some(server), 1).unwrap()
            },
            after_abort: nothing,
        },
        Operation { points: 16, name: "reset sweep", limits: Limits::STOCK, warm: true, begin: |r, _| r.engine.begin_reset().unwrap(), after_abort: sweep_again },
    ]
}

/// The module is whole: every socket closes, the next sockets on the connIds the operation
/// used (1, and 2 for the resolver) work at once (a connId whose close was interrupted is
/// closed by its next user, by design), and then the modem holds no socket at all.
fn check_whole(rig: &mut Rig, h: Handle, what: &str) {
    let sent_before = rig.transport.counters.commands;
    let executed_before = rig.stat("commands");
    if rig.engine.is_open(h) {
        rig.engine.begin_close(h).unwrap();
        let closed = run(&mut rig.engine, &mut rig.transport);
        assert!(closed.is_ok(), "{what}: close: {closed:?}");
    }
    assert_eq!(rig.engine.slots_in_use(), 0, "{what}: a slot leaked");
    let fresh: Vec<Handle> = (0..2).map(|_| rig.engine.open().expect("free slots")).collect();
    for (i, &s) in fresh.iter().enumerate() {
        let data = format!("fresh {i}").into_bytes();
        rig.engine.begin_sendto(s, &data, Some(rig.peer)).unwrap();
        let sent = run(&mut rig.engine, &mut rig.transport);
        assert_eq!(sent.map(|o| o.sent), Ok(data.len()), "{what}: socket {i}'s first sendto");
        rig.engine.begin_recvfrom(s, Some(5_000), 0).unwrap();
        let got = run(&mut rig.engine, &mut rig.transport).map(|_| rig.engine.datagram().to_vec());
        assert_eq!(got, Ok(data), "{what}: socket {i}'s echo");
    }
    for s in fresh {
        rig.engine.begin_close(s).unwrap();
        let closed = run(&mut rig.engine, &mut rig.transport);
        assert!(closed.is_ok(), "{what}: close: {closed:?}");
    }
    assert_eq!(rig.stat("open_slots"), 0, "{what}: the modem still holds a socket");
    // Every command line reached the modem as a command, none was taken as payload bytes.
    let sent = rig.transport.counters.commands - sent_before;
    let executed = rig.stat("commands") - executed_before;
    assert!(u64::from(sent) <= executed, "{what}: {sent} commands sent, {executed} executed: some were eaten as payload");
}

///
/// Two tests, so the harness runs the halves side by side.
#[test]
fn every_interruption_point_of_every_send_leaves_the_module_whole() {
    every_interruption_point(|op| op.name.contains("sendto"));
}

#[test]
fn every_interruption_point_of_every_other_operation_leaves_the_module_whole() {
    every_interruption_point(|op| !op.name.contains("sendto"));
}

fn every_interruption_point(of: impl Fn(&Operation) -> bool) {
    let peer = echo_peer("[::1]:0");
    let other_peer = echo_peer("127.0.0.1:0");
    let mut failures = Vec::new();
    let mut points = 0;
    // INTERRUPT_OPS=<substring> runs only the operations whose name holds it.
    let only = std::env::var("INTERRUPT_OPS").unwrap_or_default();
    for op in operations().into_iter().filter(|op| of(op) && op.name.contains(only.as_str())) {
        let started = std::time::Instant::now();
        // Count the operation's exchanges when nothing interrupts it.
        let mut rig = Rig::new(op.limits, peer, other_peer);
        let h = if op.warm { rig.warm_socket() } else { rig.engine.open().unwrap() };
        (op.begin)(&mut rig, h);
        let mut total = 0u32;
        while total < op.points
            && run_interrupted(&mut rig.engine, &mut rig.transport, Interrupt::After(total + 1)) == Interrupted::Aborted
        {
            total += 1;
            rig = Rig::new(op.limits, peer, other_peer);
            let h = if op.warm { rig.warm_socket() } else { rig.engine.open().unwrap() };
            (op.begin)(&mut rig, h);
        }
        assert!(total > 0, "{}: no exchange at all", op.name);
        eprintln!("{}: {total} exchanges", op.name);
        for n in 1..=total {
            for at in [Interrupt::Before(n), Interrupt::After(n)] {
                points += 1;
                let what = format!("{} interrupted {at:?} of {total}", op.name);
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut rig = Rig::new(op.limits, peer, other_peer);
                    let h = if op.warm { rig.warm_socket() } else { rig.engine.open().unwrap() };
                    (op.begin)(&mut rig, h);
                    let ended = run_interrupted(&mut rig.engine, &mut rig.transport, at);
                    assert_eq!(ended, Interrupted::Aborted, "{what}");
                    (op.after_abort)(&mut rig);
                    check_whole(&mut rig, h, &what);
                }));
                if let Err(panic) = result {
                    eprintln!("FAILED: {what}");
                    let text = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push(text);
                }
            }
        }
        eprintln!("{}: done in {:?}", op.name, started.elapsed());
    }
    if only.is_empty() {
        assert!(points > 0, "no operation in this half");
    }
    assert!(failures.is_empty(), "{} of {points} interruption points failed:\n{}", failures.len(), failures.join("\n"));
}
