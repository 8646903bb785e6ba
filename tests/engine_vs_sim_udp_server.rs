//! A UDP server through the engine against the Monarch simulator: a bound socket read before
//! it has a peer listens with `AT+SQNSLUDP`, takes datagrams from real UDP peers on 127.0.0.1
//! and ::1 with their senders, answers each on the listening connId, and never makes up a
//! sender the modem did not name.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use common::{run, Rig};
use microatsocket::error::Error;
use microatsocket::limits::Limits;
use microatsocket::socket::Handle;

/// A port free on both loopbacks (the simulator opens the modem's listener on both).
fn free_port() -> u16 {
    loop {
        let v4 = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = v4.local_addr().unwrap().port();
        if UdpSocket::bind(("::1", port)).is_ok() {
            return port;
        }
    }
}

fn peer(bind: &str) -> UdpSocket {
    let s = UdpSocket::bind(bind).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn control(rig: &Rig, line: &str) -> String {
    let reply = rig.sim.control(line);
    assert!(reply.starts_with("OK"), "control {line:?} -> {reply}");
    reply
}

fn stat(rig: &Rig, key: &str) -> u64 {
    let reply = control(rig, "stats");
    reply
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {reply}"))
}

fn recvfrom(rig: &mut Rig, h: Handle, timeout_ms: u32) -> Result<(Vec<u8>, Option<SocketAddr>), Error> {
    rig.engine.begin_recvfrom(h, Some(timeout_ms), 0)?;
    let out = run(&mut rig.engine, &mut rig.transport)?;
    Ok((rig.engine.datagram().to_vec(), out.from))
}

fn sendto(rig: &mut Rig, h: Handle, data: &[u8], to: SocketAddr) -> Result<usize, Error> {
    rig.engine.begin_sendto(h, data, Some(to))?;
    run(&mut rig.engine, &mut rig.transport).map(|o| o.sent)
}

fn server(rig: &mut Rig, port: u16) -> Handle {
    let h = rig.engine.open().unwrap();
    rig.engine.bind(h, port).unwrap();
    // The first read starts the listener; nothing is waiting yet.
    assert_eq!(recvfrom(rig, h, 0).unwrap_err(), Error::WouldBlock);
    h
}

#[test]
fn two_peers_of_each_family_each_get_their_own_reply() {
    let mut rig = Rig::new(Limits::STOCK);
    let port = free_port();
    let h = server(&mut rig, port);
    let peers = [peer("127.0.0.1:0"), peer("127.0.0.1:0"), peer("[::1]:0"), peer("[::1]:0")];
    for (n, p) in peers.iter().enumerate() {
        let to: SocketAddr = if n < 2 { ([127, 0, 0, 1], port).into() } else { ("::1".parse::<std::net::IpAddr>().unwrap(), port).into() };
        p.send_to(format!("request {n}").as_bytes(), to).unwrap();
    }
    let dials_before = stat(&rig, "dial");
    for _ in 0..peers.len() {
        let (data, from) = recvfrom(&mut rig, h, 5000).unwrap();
        let from = from.expect("the simulator names the sender");
        let n = peers.iter().position(|p| p.local_addr().unwrap() == from).expect("a known peer");
        assert_eq!(data, format!("request {n}").as_bytes());
        // A reply is one AT+SQNSSENDEXT and its payload on the listening connId: no dial.
        let before = rig.transport.counters.exchanges();
        assert_eq!(sendto(&mut rig, h, format!("reply {n}").as_bytes(), from), Ok(7));
        assert_eq!(rig.transport.counters.exchanges() - before, 2);
    }
    assert_eq!(stat(&rig, "dial"), dials_before, "no AT+SQNSD for a reply");
    for (n, p) in peers.iter().enumerate() {
        let mut buf = [0u8; 64];
        let (len, from) = p.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..len], format!("reply {n}").as_bytes());
        assert_eq!(from.port(), port, "the reply comes from the server's port");
    }
    rig.engine.begin_close(h).unwrap();
    run(&mut rig.engine, &mut rig.transport).unwrap();
    assert_eq!(rig.engine.slots_in_use(), 0);
}

#[test]
fn a_sender_the_modem_does_not_name_is_none_and_no_reply_can_go() {
    let mut rig = Rig::new(Limits::STOCK);
    let port = free_port();
    let h = server(&mut rig, port);
    let p = peer("127.0.0.1:0");
    control(&rig, "fault udp_sender_hidden 1");
    p.send_to(b"anonymous", ("127.0.0.1", port)).unwrap();
    let (data, from) = recvfrom(&mut rig, h, 5000).unwrap();
    assert_eq!((data.as_slice(), from), (&b"anonymous"[..], None));
    let uart_in = stat(&rig, "uart_in");
    assert_eq!(sendto(&mut rig, h, b"x", p.local_addr().unwrap()), Err(Error::NotLastSender));
    assert_eq!(stat(&rig, "uart_in"), uart_in, "refused before anything reached the modem");
    // The next datagram names its sender: answered.
    p.send_to(b"named", ("127.0.0.1", port)).unwrap();
    let (_, from) = recvfrom(&mut rig, h, 5000).unwrap();
    assert_eq!(from, Some(p.local_addr().unwrap()));
    assert_eq!(sendto(&mut rig, h, b"ok", p.local_addr().unwrap()), Ok(2));
    let mut buf = [0u8; 8];
    assert_eq!(p.recv(&mut buf).unwrap(), 2);
}

#[test]
fn a_two_field_header_takes_the_sender_from_the_status_line() {
    let mut rig = Rig::new(Limits::STOCK);
    let port = free_port();
    let h = server(&mut rig, port);
    let p = peer("[::1]:0");
    control(&rig, "fault udp_header_short 1");
    p.send_to(b"short header", ("::1", port)).unwrap();
    let before = rig.transport.counters.exchanges();
    let (data, from) = recvfrom(&mut rig, h, 5000).unwrap();
    assert_eq!((data.as_slice(), from), (&b"short header"[..], Some(p.local_addr().unwrap())));
    assert!(rig.transport.counters.exchanges() - before >= 2, "AT+SQNSS after the read");
    assert_eq!(sendto(&mut rig, h, b"found you", p.local_addr().unwrap()), Ok(9));
    let mut buf = [0u8; 16];
    assert_eq!(p.recv(&mut buf).unwrap(), 9);
    // A header that names the sender costs no status query.
    p.send_to(b"named", ("::1", port)).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let before = rig.transport.counters.exchanges();
    let (_, from) = recvfrom(&mut rig, h, 5000).unwrap();
    assert_eq!(from, Some(p.local_addr().unwrap()));
    assert_eq!(rig.transport.counters.exchanges() - before, 1, "one AT+SQNSRECV");
}

#[test]
fn poll_sees_the_datagram_and_a_reboot_makes_the_next_read_listen_again() {
    let mut rig = Rig::new(Limits::STOCK);
    let port = free_port();
    let h = server(&mut rig, port);
    rig.engine.begin_poll(h).unwrap();
    assert!(!run(&mut rig.engine, &mut rig.transport).unwrap().readable);
    let p = peer("[::1]:0");
    p.send_to(b"ping", ("::1", port)).unwrap();
    let mut readable = false;
    for _ in 0..100 {
        rig.engine.begin_poll(h).unwrap();
        readable = run(&mut rig.engine, &mut rig.transport).unwrap().readable;
        if readable {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(readable, "AT+SQNSS shows the datagram waiting on the listener");
    let (data, from) = recvfrom(&mut rig, h, 0).unwrap();
    assert_eq!((data.as_slice(), from), (&b"ping"[..], Some(p.local_addr().unwrap())));
    // The modem reboots (its +SYSSTART flushed away by the firmware, as on Pycom): the
    // listener is gone. Reads that meet the missing socket make the engine listen again.
    control(&rig, "reboot");
    assert_eq!(stat(&rig, "open_slots"), 0);
    assert_eq!(recvfrom(&mut rig, h, 1000).unwrap_err(), Error::TimedOut);
    assert_eq!(stat(&rig, "open_slots"), 1, "listening again");
    p.send_to(b"again", ("::1", port)).unwrap();
    let (data, from) = recvfrom(&mut rig, h, 5000).unwrap();
    assert_eq!((data.as_slice(), from), (&b"again"[..], Some(p.local_addr().unwrap())));
    assert_eq!(sendto(&mut rig, h, b"pong", p.local_addr().unwrap()), Ok(4));
}

#[test]
fn a_refused_listen_is_address_in_use_and_leaves_no_slot() {
    let mut rig = Rig::new(Limits::STOCK);
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let h = rig.engine.open().unwrap();
    rig.engine.bind(h, taken.local_addr().unwrap().port()).unwrap();
    assert_eq!(recvfrom(&mut rig, h, 0).unwrap_err(), Error::AddressInUse);
    rig.engine.begin_close(h).unwrap();
    run(&mut rig.engine, &mut rig.transport).unwrap();
    assert_eq!(rig.engine.slots_in_use(), 0);
}
