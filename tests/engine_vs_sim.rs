//! The engine against the Monarch simulator, through a model of Pycom's `send_at_cmd`, with
//! real datagrams to real UDP echo peers on 127.0.0.1 and ::1. Counts AT exchanges per
//! operation and checks every fault the simulator can inject ends in an error or a recovery.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::Duration;

use common::{echo_peer, run, Rig};
use microatsocket::error::Error;
use microatsocket::limits::Limits;
use microatsocket::socket::Handle;


impl Rig {
    fn stock() -> Rig {
        Rig::new(Limits::STOCK)
    }

    fn chunked() -> Rig {
        Rig::new(Limits { max_command_len: None, ..Limits::STOCK })
    }

    fn control(&self, line: &str) -> String {
        let reply = self.sim.control(line);
        assert!(reply.starts_with("OK"), "control {line:?} -> {reply}");
        reply
    }

    fn stat(&self, key: &str) -> u64 {
        let reply = self.control("stats");
        reply
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {reply}"))
    }

    fn sendto(&mut self, h: Handle, data: &[u8], to: SocketAddr) -> Result<usize, Error> {
        self.engine.begin_sendto(h, data, Some(to))?;
        run(&mut self.engine, &mut self.transport).map(|o| o.sent)
    }

    fn recvfrom(&mut self, h: Handle, timeout_ms: u32) -> Result<(Vec<u8>, SocketAddr), Error> {
        self.engine.begin_recvfrom(h, Some(timeout_ms), 0)?;
        let out = run(&mut self.engine, &mut self.transport)?;
        Ok((self.engine.datagram().to_vec(), out.from.expect("sender")))
    }

    fn close(&mut self, h: Handle) -> Result<(), Error> {
        self.engine.begin_close(h)?;
        run(&mut self.engine, &mut self.transport).map(|_| ())
    }

    /// Runs `op` and returns how many UART exchanges it took.
    fn exchanges<R>(&mut self, op: impl FnOnce(&mut Rig) -> R) -> (R, u32) {
        let before = self.transport.counters.exchanges();
        let r = op(self);
        (r, self.transport.counters.exchanges() - before)
    }
}

fn round_trip(rig: &mut Rig, peer: SocketAddr, payload: &[u8]) {
    let h = rig.engine.open().unwrap();
    assert_eq!(rig.sendto(h, payload, peer), Ok(payload.len()));
    let (data, from) = rig.recvfrom(h, 5_000).expect("echo");
    assert_eq!(data, payload);
    assert_eq!(from, peer);
    rig.close(h).unwrap();
    assert_eq!(rig.engine.slots_in_use(), 0);
}

#[test]
fn echo_ipv4_and_ipv6_small_and_62_bytes_on_stock() {
    let mut rig = Rig::stock();
    for peer in [echo_peer("127.0.0.1:0"), echo_peer("[::1]:0")] {
        round_trip(&mut rig, peer, b"x");
        round_trip(&mut rig, peer, &[0xA5; 62]);
    }
    assert_eq!(rig.stat("open_slots"), 0);
}

#[test]
fn echo_1500_bytes_and_every_byte_value_with_chunking() {
    let mut rig = Rig::chunked();
    let all: Vec<u8> = (0..=255u8).collect();
    let big: Vec<u8> = (0..1500u32).map(|i| (i * 7 % 256) as u8).collect();
    for peer in [echo_peer("127.0.0.1:0"), echo_peer("[::1]:0")] {
        round_trip(&mut rig, peer, &all);
        round_trip(&mut rig, peer, &big);
    }
}

#[test]
fn every_byte_value_raw_mode() {
    let mut rig = Rig::new(Limits { max_command_len: None, send_hex: false, recv_hex: false, ..Limits::STOCK });
    let all: Vec<u8> = (0..=255u8).collect();
    round_trip(&mut rig, echo_peer("[::1]:0"), &all);
}

#[test]
fn stock_refuses_63_bytes_without_touching_the_modem() {
    let mut rig = Rig::stock();
    let h = rig.engine.open().unwrap();
    let before = rig.stat("commands");
    assert_eq!(rig.sendto(h, &[0; 63], echo_peer("[::1]:0")), Err(Error::MessageTooLong));
    assert_eq!(rig.stat("commands"), before);
}

#[test]
fn exchange_counts_first_steady_and_receive() {
    let mut rig = Rig::stock();
    let peer = echo_peer("[::1]:0");
    let h = rig.engine.open().unwrap();
    let (r, first) = rig.exchanges(|r| r.sendto(h, b"one", peer));
    r.unwrap();
    thread::sleep(Duration::from_millis(50));
    let (r, receive) = rig.exchanges(|r| r.recvfrom(h, 1000));
    r.unwrap();
    let (r, steady) = rig.exchanges(|r| r.sendto(h, b"two", peer));
    r.unwrap();
    // The engine has already sent AT+CMEE=1 in the reset sweep.
    assert_eq!(first, 5, "SQNSCFG, SQNSCFGEXT, SQNSD, SQNSSENDEXT, payload");
    assert_eq!(steady, 2, "SQNSSENDEXT, payload");
    assert_eq!(receive, 1, "SQNSRECV with the datagram waiting");
    println!("exchanges: first sendto {first}, steady sendto {steady}, recvfrom with data {receive}");
}

#[test]
fn receive_does_not_depend_on_urcs() {
    let mut rig = Rig::stock();
    let peer = echo_peer("127.0.0.1:0");
    let h = rig.engine.open().unwrap();
    rig.control("fault drop_urc 100");
    rig.sendto(h, b"ping", peer).unwrap();
    assert_eq!(rig.recvfrom(h, 3000).unwrap().0, b"ping");
}

#[test]
fn two_sockets_with_crossing_rings() {
    let mut rig = Rig::stock();
    let (p4, p6) = (echo_peer("127.0.0.1:0"), echo_peer("[::1]:0"));
    let a = rig.engine.open().unwrap();
    let b = rig.engine.open().unwrap();
    rig.sendto(a, b"to-a", p4).unwrap();
    rig.sendto(b, b"to-b", p6).unwrap();
    thread::sleep(Duration::from_millis(50));
    assert_eq!(rig.recvfrom(b, 2000).unwrap(), (b"to-b".to_vec(), p6));
    assert_eq!(rig.recvfrom(a, 2000).unwrap(), (b"to-a".to_vec(), p4));
}

#[test]
fn timeout_and_nonblocking_with_nothing_waiting() {
    let mut rig = Rig::stock();
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer = silent.local_addr().unwrap();
    let h = rig.engine.open().unwrap();
    rig.sendto(h, b"anyone?", peer).unwrap();
    assert_eq!(rig.recvfrom(h, 300), Err(Error::TimedOut));
    assert_eq!(rig.recvfrom(h, 0), Err(Error::WouldBlock));
}

#[test]
fn seven_sockets_and_stale_handles() {
    let mut rig = Rig::stock();
    let handles: Vec<Handle> = (0..6).map(|_| rig.engine.open().unwrap()).collect();
    assert_eq!(rig.engine.open(), Err(Error::NoFreeSlot));
    for &h in &handles {
        rig.close(h).unwrap();
    }
    assert_eq!(rig.close(handles[0]), Err(Error::BadHandle));
    let peer = echo_peer("[::1]:0");
    for _ in 0..50 {
        round_trip(&mut rig, peer, b"cycle");
    }
    assert_eq!(rig.stat("open_slots"), 0);
}

// --- faults -------------------------------------------------------------------------------

#[test]
fn error_and_cme_error_on_each_command_then_recovery() {
    let mut rig = Rig::stock();
    let peer = echo_peer("[::1]:0");
    for command in ["SQNSCFG", "SQNSCFGEXT", "SQNSD", "SQNSSENDEXT"] {
        let h = rig.engine.open().unwrap();
        // A refused SQNSSENDEXT is tried once more (nothing went out), so it needs two.
        let count = if command == "SQNSSENDEXT" { 2 } else { 1 };
        rig.control(&format!("fault error {command} {count} cme 3"));
        assert_eq!(rig.sendto(h, b"x", peer), Err(Error::Modem), "{command}");
        // The next attempt on the same socket works.
        round_trip_on(&mut rig, h, peer);
        rig.close(h).unwrap();
        // Fresh configuration for the next command's fault.
        rig.control("reboot");
        rig.engine.begin_reset().unwrap();
        run(&mut rig.engine, &mut rig.transport).unwrap();
    }
    assert_eq!(rig.engine.slots_in_use(), 0);
    assert_eq!(rig.stat("open_slots"), 0);
}

fn round_trip_on(rig: &mut Rig, h: Handle, peer: SocketAddr) {
    assert_eq!(rig.sendto(h, b"again", peer), Ok(5));
    assert_eq!(rig.recvfrom(h, 5000).unwrap().0, b"again");
}

#[test]
fn receive_errors_count_as_nothing_waiting() {
    let mut rig = Rig::stock();
    let peer = echo_peer("[::1]:0");
    let h = rig.engine.open().unwrap();
    rig.sendto(h, b"x", peer).unwrap();
    rig.control("fault error SQNSRECV 2 cme 4");
    assert_eq!(rig.recvfrom(h, 3000).unwrap().0, b"x");
}

#[test]
fn no_carrier_on_dial_is_host_unreachable() {
    let mut rig = Rig::stock();
    let h = rig.engine.open().unwrap();
    rig.control("fault no_carrier 1");
    assert_eq!(rig.sendto(h, b"x", echo_peer("[::1]:0")), Err(Error::HostUnreachable));
    round_trip_on(&mut rig, h, echo_peer("127.0.0.1:0"));
}

#[test]
fn no_prompt_sends_nothing() {
    let mut rig = Rig::stock();
    let peer = echo_peer("[::1]:0");
    let h = rig.engine.open().unwrap();
    rig.sendto(h, b"warm", peer).unwrap();
    let sent = rig.stat("dgrams_tx");
    rig.control("fault no_prompt 2");
    assert_eq!(rig.sendto(h, b"x", peer), Err(Error::Modem));
    assert_eq!(rig.stat("dgrams_tx"), sent);
    // One refusal is retried on a fresh dial, and the datagram goes out exactly once.
    rig.control("fault no_prompt 1");
    assert_eq!(rig.sendto(h, b"y", peer), Ok(1));
    assert_eq!(rig.stat("dgrams_tx"), sent + 1);
    assert_eq!(rig.recvfrom(h, 2000).unwrap().0, b"y");
    round_trip_on(&mut rig, h, peer);
}

#[test]
fn spontaneous_sqnsh_and_reboot_recover() {
    let mut rig = Rig::stock();
    let peer = echo_peer("[::1]:0");
    let h = rig.engine.open().unwrap();
    rig.sendto(h, b"warm", peer).unwrap();
    rig.recvfrom(h, 2000).unwrap();
    for event in ["inject sqnsh 1", "inject sysstart"] {
        rig.control(event);
        // The URC is lost to the next command's flush: the send is refused on the closed
        // socket, and its second attempt dials afresh.
        thread::sleep(Duration::from_millis(20));
        assert_eq!(rig.sendto(h, b"x", peer), Ok(1), "{event}");
        assert_eq!(rig.recvfrom(h, 2000).unwrap().0, b"x");
    }
}

#[test]
fn silent_modem_times_out_and_frees_on_close() {
    let mut rig = Rig::stock();
    let peer = echo_peer("[::1]:0");
    let h = rig.engine.open().unwrap();
    rig.sendto(h, b"warm", peer).unwrap();
    rig.control("fault silent SQNSH 1");
    assert_eq!(rig.close(h), Err(Error::TimedOut));
    assert_eq!(rig.engine.slots_in_use(), 0);
    // The slot's next user closes the socket the modem may still hold, then works.
    let h2 = rig.engine.open().unwrap();
    round_trip_on(&mut rig, h2, peer);
}

#[test]
fn split_replies_nul_garbage_delays_and_urcs_inside_answers() {
    let mut rig = Rig::stock();
    let peer = echo_peer("[::1]:0");
    let h = rig.engine.open().unwrap();
    for fault in ["fault split 3", "fault urc_inside 20", "fault delay_ms 30", "inject garbage 00ff0d0a4f4b"] {
        eprintln!("fault: {fault}");
        rig.control(fault);
        round_trip_on(&mut rig, h, peer);
        rig.control("fault clear");
    }
}

#[test]
fn nul_inside_an_answer_is_survived() {
    let mut rig = Rig::stock();
    let peer = echo_peer("[::1]:0");
    let h = rig.engine.open().unwrap();
    rig.sendto(h, b"warm", peer).unwrap();
    rig.recvfrom(h, 2000).unwrap();
    rig.control("fault nul 1");
    // The NUL lands in the prompt; the digester skips it like any filler byte.
    assert_eq!(rig.sendto(h, b"x", peer), Ok(1));
    assert_eq!(rig.recvfrom(h, 2000).unwrap().0, b"x");
    round_trip_on(&mut rig, h, peer);
}

#[test]
fn reboot_whose_sysstart_is_flushed_away_is_recovered_by_the_next_send() {
    let mut rig = Rig::stock();
    let peer = echo_peer("[::1]:0");
    let h = rig.engine.open().unwrap();
    round_trip_on(&mut rig, h, peer);
    rig.control("reboot");
    // The +SYSSTART sits in the UART until the next command flushes it unread.
    thread::sleep(Duration::from_millis(20));
    round_trip_on(&mut rig, h, peer);
    // Numeric error codes were turned back on: a later fault reports its code.
    rig.control("fault error SQNSSENDEXT 2 cme 3");
    assert_eq!(rig.sendto(h, b"x", peer), Err(Error::Modem));
    assert_eq!(rig.engine.last_cme(), Some(3));
}

#[test]
fn a_socket_lost_unseen_while_receiving_is_redialled() {
    let mut rig = Rig::stock();
    let peer = echo_peer("127.0.0.1:0");
    let h = rig.engine.open().unwrap();
    round_trip_on(&mut rig, h, peer);
    rig.control("reboot");
    thread::sleep(Duration::from_millis(20));
    // Reads fail on the vanished socket; after a few the engine dials again and reads on.
    assert_eq!(rig.recvfrom(h, 1500), Err(Error::TimedOut));
    assert_eq!(rig.stat("open_slots"), 1, "re-dialled while waiting");
    round_trip_on(&mut rig, h, peer);
}

#[test]
fn combined_send_on_stock_firmware_is_one_exchange() {
    let mut rig = Rig::new(Limits { combined_send: true, ..Limits::STOCK });
    let peer = echo_peer("[::1]:0");
    let h = rig.engine.open().unwrap();
    // AT+SQNSSENDEXT=1,52, CR and 104 hex digits: the 124 bytes of one command, exactly.
    assert_eq!(rig.sendto(h, &[7; 53], peer), Err(Error::MessageTooLong));
    round_trip_on(&mut rig, h, peer);
    let (r, steady) = rig.exchanges(|r| r.sendto(h, &[9; 52], peer));
    assert_eq!(r, Ok(52));
    assert_eq!(steady, 1);
    assert_eq!(rig.recvfrom(h, 2000).unwrap().0, vec![9; 52]);
}
