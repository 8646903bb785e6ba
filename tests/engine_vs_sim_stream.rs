//! Streams: the engine against the Monarch simulator through a model of Pycom's
//! `send_at_cmd` (which flushes URCs before every command), with real TCP peers on 127.0.0.1
//! and ::1. A 30 KB echo in pieces, EOF without any URC seen, a reset by reboot, a refused
//! dial, and the exchange counts of the steady state.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;

use common::{run, Rig};
use microatsocket::error::Error;
use microatsocket::limits::Limits;
use microatsocket::socket::Handle;

impl Rig {
    fn connect(&mut self, peer: SocketAddr) -> Result<Handle, Error> {
        let h = self.engine.open_stream()?;
        self.engine.begin_stream_connect(h, peer)?;
        run(&mut self.engine, &mut self.transport)?;
        Ok(h)
    }

    /// Sends all of `data`, one command's worth at a time.
    fn send_all(&mut self, h: Handle, mut data: &[u8]) -> Result<u32, Error> {
        let mut sends = 0;
        while !data.is_empty() {
            let n = self.engine.begin_stream_send(h, data)?;
            let out = run(&mut self.engine, &mut self.transport)?;
            assert_eq!(out.sent, n);
            data = &data[n..];
            sends += 1;
        }
        Ok(sends)
    }

    fn recv(&mut self, h: Handle, max: usize, timeout_ms: u32) -> Result<Vec<u8>, Error> {
        self.engine.begin_stream_recv(h, max, Some(timeout_ms), 0)?;
        let out = run(&mut self.engine, &mut self.transport)?;
        Ok(self.engine.datagram()[..out.received].to_vec())
    }

    fn close(&mut self, h: Handle) -> Result<(), Error> {
        self.engine.begin_close(h)?;
        run(&mut self.engine, &mut self.transport).map(|_| ())
    }
}

fn echo_server(bind: &str) -> SocketAddr {
    let server = TcpListener::bind(bind).unwrap();
    let addr = server.local_addr().unwrap();
    thread::spawn(move || {
        let (mut conn, _) = server.accept().unwrap();
        let mut buf = [0u8; 4096];
        while let Ok(n) = conn.read(&mut buf) {
            if n == 0 || conn.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    });
    addr
}

#[test]
fn echo_30_kb_in_pieces_over_ipv4_and_ipv6_with_chunking() {
    for bind in ["127.0.0.1:0", "[::1]:0"] {
        let mut rig = Rig::new(Limits { max_command_len: None, ..Limits::STOCK });
        let h = rig.connect(echo_server(bind)).unwrap();
        let data: Vec<u8> = (0..30_000u32).map(|i| (i ^ (i >> 8)) as u8).collect();
        let mut back = Vec::new();
        let mut sent = 0;
        let mut piece = 7;
        while back.len() < data.len() {
            if sent < data.len() {
                piece = (piece * 31 + 17) % 2000 + 1;
                let end = (sent + piece).min(data.len());
                rig.send_all(h, &data[sent..end]).unwrap();
                sent = end;
            }
            back.extend(rig.recv(h, (piece % 1500) + 1, 2_000).unwrap());
        }
        assert_eq!(back, data);
        rig.close(h).unwrap();
        assert_eq!(rig.engine.slots_in_use(), 0);
    }
}

#[test]
fn stock_sends_62_bytes_per_command_and_steady_state_costs() {
    let mut rig = Rig::new(Limits::STOCK);
    let h = rig.connect(echo_server("[::1]:0")).unwrap();
    let before = rig.transport.counters;
    assert_eq!(rig.send_all(h, &[0x55; 200]), Ok(4), "62 + 62 + 62 + 14");
    let after = rig.transport.counters;
    assert_eq!((after.commands - before.commands, after.payloads - before.payloads), (4, 4));
    let mut got = Vec::new();
    while got.len() < 200 {
        got.extend(rig.recv(h, 1500, 2_000).unwrap());
    }
    assert_eq!(got, vec![0x55; 200]);
}

#[test]
fn peer_close_reads_the_rest_then_eof_though_the_sqnsh_was_flushed() {
    let mut rig = Rig::new(Limits::STOCK);
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let h = rig.connect(server.local_addr().unwrap()).unwrap();
    let (mut conn, _) = server.accept().unwrap();
    conn.write_all(b"goodbye, and thanks").unwrap();
    drop(conn);
    let mut got = Vec::new();
    loop {
        let piece = rig.recv(h, 4, 2_000).unwrap();
        if piece.is_empty() {
            break;
        }
        assert!(piece.len() <= 4);
        got.extend(piece);
    }
    assert_eq!(got, b"goodbye, and thanks");
    // EOF stays EOF, sends are refused, and the stream is never dialled again.
    assert_eq!(rig.recv(h, 4, 100), Ok(Vec::new()));
    assert_eq!(rig.engine.begin_stream_send(h, b"x"), Err(Error::BrokenPipe));
    let dials = rig.sim.stats().into_iter().find(|(k, _)| *k == "tcp_dials").unwrap().1;
    assert_eq!(dials, 1);
    rig.close(h).unwrap();
}

#[test]
fn reboot_mid_stream_is_econnreset_for_both_directions() {
    let mut rig = Rig::new(Limits::STOCK);
    let server = TcpListener::bind("[::1]:0").unwrap();
    let h = rig.connect(server.local_addr().unwrap()).unwrap();
    let _conn = server.accept().unwrap();
    assert_eq!(rig.sim.control("reboot"), "OK");
    assert_eq!(rig.recv(h, 100, 1_000), Err(Error::ConnectionReset));
    assert_eq!(rig.engine.begin_stream_send(h, b"x"), Err(Error::ConnectionReset));
    rig.close(h).unwrap();
    assert_eq!(rig.engine.slots_in_use(), 0);
}

#[test]
fn refused_dial_and_silent_peer_timeout() {
    let mut rig = Rig::new(Limits::STOCK);
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = rig.connect(SocketAddr::from(([127, 0, 0, 1], port)));
    assert_eq!(refused, Err(Error::ConnectionRefused));
    // The slot of the refused stream is still taken (the caller closes it).
    assert_eq!(rig.engine.slots_in_use(), 1);

    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let h = rig.connect(server.local_addr().unwrap()).unwrap();
    let _conn = server.accept().unwrap();
    assert_eq!(rig.recv(h, 100, 300), Err(Error::TimedOut));
    rig.close(h).unwrap();
}

#[test]
fn listen_accept_a_real_client_then_listen_again() {
    let mut rig = Rig::new(Limits::STOCK);
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listener = rig.engine.open_stream().unwrap();
    rig.engine.begin_listen(listener, port).unwrap();
    run(&mut rig.engine, &mut rig.transport).unwrap();
    for (round, client_ip) in ["::1", "127.0.0.1"].into_iter().enumerate() {
        // The handle that listened is the connection once accepted: listen again first.
        let conn = if round == 0 { listener } else { rig.engine.open_stream().unwrap() };
        if round > 0 {
            rig.engine.begin_listen(conn, port).unwrap();
            run(&mut rig.engine, &mut rig.transport).unwrap();
        }
        let client = thread::spawn(move || {
            let mut c = std::net::TcpStream::connect((client_ip, port)).unwrap();
            c.write_all(b"ping").unwrap();
            let mut buf = [0u8; 4];
            c.read_exact(&mut buf).unwrap();
            (buf, c.local_addr().unwrap())
        });
        rig.engine.begin_accept(conn, Some(5_000), 0).unwrap();
        let out = run(&mut rig.engine, &mut rig.transport).unwrap();
        let mut got = Vec::new();
        while got.len() < 4 {
            got.extend(rig.recv(conn, 100, 2_000).unwrap());
        }
        assert_eq!(got, b"ping");
        rig.send_all(conn, b"pong").unwrap();
        let (reply, client_addr) = client.join().unwrap();
        assert_eq!(&reply, b"pong");
        assert_eq!(out.from, Some(client_addr));
        rig.close(conn).unwrap();
    }
    assert_eq!(rig.engine.slots_in_use(), 0);
    assert_eq!(rig.sim.stats().into_iter().find(|(k, _)| *k == "open_slots").unwrap().1, 0);
}

#[test]
fn firmware_that_refuses_empty_reads_still_reads_and_still_sees_the_end() {
    let mut rig = Rig::new(Limits::STOCK);
    assert_eq!(rig.sim.control("fault empty_read_error 1"), "OK");
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let h = rig.connect(server.local_addr().unwrap()).unwrap();
    let (mut conn, _) = server.accept().unwrap();
    // Nothing waiting: the refusals are checked with AT+SQNSS, the socket is open, the read
    // times out rather than ending the stream.
    assert_eq!(rig.recv(h, 100, 300), Err(Error::TimedOut));
    conn.write_all(b"late").unwrap();
    let mut got = Vec::new();
    while got.len() < 4 {
        got.extend(rig.recv(h, 100, 2_000).unwrap());
    }
    assert_eq!(got, b"late");
    drop(conn);
    assert_eq!(rig.recv(h, 100, 2_000), Ok(Vec::new()), "EOF once the peer closed");
    rig.close(h).unwrap();
}

#[test]
fn a_full_send_buffer_with_combined_sends_is_eagain_not_a_reset() {
    let mut rig = Rig::new(Limits { combined_send: true, ..Limits::STOCK });
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let h = rig.connect(server.local_addr().unwrap()).unwrap();
    let _conn = server.accept().unwrap();
    assert_eq!(rig.sim.control("fault tx_window 300"), "OK");
    assert_eq!(rig.sim.control("fault stall_tx 1"), "OK");
    let mut result = Ok(0);
    for _ in 0..10 {
        result = rig.send_all(h, &[b'z'; 51]);
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(Error::WouldBlock));
    // Still open: once the peer takes bytes again, sends go on.
    assert_eq!(rig.sim.control("fault clear"), "OK");
    assert_eq!(rig.engine.begin_stream_send(h, b"x"), Ok(1));
}
