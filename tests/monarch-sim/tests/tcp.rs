//! TCP behind the socket commands, on the wire: dials to real TCP servers on loopback,
//! partial reads, a ring per arrival, peer close and reset, refused dials, reboot
//! mid-stream, and a peer that never reads.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use monarch_sim::{Monarch, SimConfig, Uart};

fn ask(uart: &Uart, command: &str, until: &[u8]) -> Vec<u8> {
    uart.write(format!("{command}\r").as_bytes());
    read_until(uart, until)
}

fn read_until(uart: &Uart, until: &[u8]) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    while Instant::now() < deadline && !got.windows(until.len()).any(|w| w == until) {
        let n = uart.read(&mut buf, Duration::from_millis(20));
        got.extend_from_slice(&buf[..n]);
    }
    got
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn stat(sim: &Monarch, key: &str) -> u64 {
    sim.stats().into_iter().find(|(k, _)| *k == key).map(|(_, v)| v).unwrap()
}

/// Raw data both ways, numeric errors, connId 1 dialled over TCP to `peer`.
fn dial(uart: &Uart, peer: SocketAddr) -> Vec<u8> {
    ask(uart, "AT+CMEE=1", b"OK\r\n");
    ask(uart, "AT+SQNSCFG=1,1,300,0,600,50", b"OK\r\n");
    ask(uart, "AT+SQNSCFGEXT=1,1,0,0,0,0", b"OK\r\n");
    ask(uart, &format!("AT+SQNSD=1,0,{},\"{}\",0,0,1", peer.port(), peer.ip()), b"\r\n")
}

/// Sends `data`; returns the answer after the payload without the rings around it.
fn send(uart: &Uart, data: &[u8]) -> Vec<u8> {
    let prompt = ask(uart, &format!("AT+SQNSSENDEXT=1,{}", data.len()), b"> ");
    assert!(contains(&prompt, b"\r\n> "), "{prompt:?}");
    uart.write(data);
    let answer = read_until(uart, b"OK\r\n");
    if contains(&answer, b"\r\nOK\r\n") {
        b"\r\nOK\r\n".to_vec()
    } else {
        answer
    }
}

/// Reads with `AT+SQNSRECV=1,<max>` and returns the payload (raw mode).
fn recv(uart: &Uart, max: usize) -> Vec<u8> {
    let answer = ask(uart, &format!("AT+SQNSRECV=1,{max}"), b"\r\nOK\r\n");
    let start = answer.windows(11).position(|w| w == b"+SQNSRECV: ").expect("header");
    let rest = &answer[start + 11..];
    let comma = rest.iter().position(|&b| b == b',').unwrap();
    let end = rest.iter().position(|&b| b == b'\r').unwrap();
    let n: usize = std::str::from_utf8(&rest[comma + 1..end]).unwrap().parse().unwrap();
    rest[end + 2..end + 2 + n].to_vec()
}

#[test]
fn tcp_stream_both_families_with_partial_reads() {
    for bind in ["127.0.0.1:0", "[::1]:0"] {
        let sim = Monarch::start(SimConfig::default()).unwrap();
        let uart = sim.uart();
        let server = TcpListener::bind(bind).unwrap();
        let peer = server.local_addr().unwrap();
        assert_eq!(dial(&uart, peer), b"\r\nOK\r\n");
        let (mut conn, _) = server.accept().unwrap();
        assert_eq!(send(&uart, b"hello stream"), b"\r\nOK\r\n");
        let mut got = [0u8; 12];
        conn.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello stream");

        // Two arrivals: one ring each, with the running count.
        conn.write_all(b"0123456789").unwrap();
        assert!(contains(&read_until(&uart, b"+SQNSRING: 1,10\r\n"), b"+SQNSRING: 1,10\r\n"));
        conn.write_all(b"abcdef").unwrap();
        assert!(contains(&read_until(&uart, b"+SQNSRING: 1,16\r\n"), b"+SQNSRING: 1,16\r\n"));
        // A read takes at most what is asked and leaves the rest, across arrivals.
        assert_eq!(recv(&uart, 4), b"0123");
        assert_eq!(recv(&uart, 8), b"456789ab");
        let info = ask(&uart, "AT+SQNSI=1", b"OK\r\n");
        assert!(contains(&info, b"+SQNSI: 1,12,16,4,"), "{}", String::from_utf8_lossy(&info));
        assert_eq!(recv(&uart, 1500), b"cdef");
        assert_eq!(recv(&uart, 1500), b"");
        let status = ask(&uart, "AT+SQNSS", b"OK\r\n");
        assert!(contains(&status, format!("+SQNSS: 1,1,\"{}\",", peer.ip()).as_bytes()));
        assert_eq!(stat(&sim, "tcp_dials"), 1);
        assert_eq!(stat(&sim, "stream_bytes_rx"), 16);

        // The host closes: the peer reads EOF.
        assert_eq!(ask(&uart, "AT+SQNSH=1", b"OK\r\n"), b"\r\nOK\r\n");
        conn.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        assert_eq!(conn.read(&mut got).unwrap(), 0);
    }
}

#[test]
fn peer_close_is_reported_after_the_host_read_the_rest() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    assert_eq!(dial(&uart, server.local_addr().unwrap()), b"\r\nOK\r\n");
    let (mut conn, _) = server.accept().unwrap();
    conn.write_all(b"last words").unwrap();
    drop(conn);
    read_until(&uart, b"+SQNSRING: 1,10\r\n");
    // No +SQNSH while bytes are buffered: the close would lose them.
    let quiet = read_until(&uart, b"+SQNSH");
    assert!(!contains(&quiet, b"+SQNSH"), "{quiet:?}");
    assert_eq!(recv(&uart, 6), b"last w");
    // The read that empties the buffer is followed by the close (in the same read, or later).
    let last = ask(&uart, "AT+SQNSRECV=1,100", b"+SQNSH: 1\r\n");
    assert!(contains(&last, b"+SQNSRECV: 1,4\r\nords\r\n\r\nOK\r\n"), "{last:?}");
    assert!(contains(&last, b"\r\nOK\r\n\r\n+SQNSH: 1\r\n"), "the close comes after the answer: {last:?}");
    assert_eq!(ask(&uart, "AT+SQNSRECV=1,100", b"\r\n"), b"\r\n+CME ERROR: 3\r\n");
    assert_eq!(stat(&sim, "open_slots"), 0);
}

#[test]
fn peer_close_with_nothing_buffered_rings_sqnsh_at_once() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    let server = TcpListener::bind("[::1]:0").unwrap();
    assert_eq!(dial(&uart, server.local_addr().unwrap()), b"\r\nOK\r\n");
    let (conn, _) = server.accept().unwrap();
    drop(conn);
    assert!(contains(&read_until(&uart, b"+SQNSH: 1\r\n"), b"+SQNSH: 1\r\n"));
}

#[test]
fn refused_and_unreachable_dials_answer_no_carrier() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    // A port with nobody listening: bind, learn the port, close.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    assert_eq!(dial(&uart, SocketAddr::from(([127, 0, 0, 1], port))), b"\r\nNO CARRIER\r\n");
    assert_eq!(ask(&uart, "AT+SQNSD=1,0,80,\"192.0.2.1\",0,0,1", b"\r\n"), b"\r\nNO CARRIER\r\n");
    assert_eq!(stat(&sim, "open_slots"), 0);
}

#[test]
fn reboot_mid_stream_drops_the_connection() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    assert_eq!(dial(&uart, server.local_addr().unwrap()), b"\r\nOK\r\n");
    let (mut conn, _) = server.accept().unwrap();
    conn.write_all(b"in flight").unwrap();
    read_until(&uart, b"+SQNSRING");
    assert_eq!(sim.control("reboot"), "OK");
    assert!(contains(&read_until(&uart, b"+SYSSTART\r\n"), b"+SYSSTART"));
    // Settings are gone (CMEE 0), and so is the socket.
    assert_eq!(ask(&uart, "AT+SQNSRECV=1,100", b"\r\n"), b"\r\nERROR\r\n");
    conn.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut buf = [0u8; 4];
    assert!(matches!(conn.read(&mut buf), Ok(0) | Err(_)), "the peer sees the connection end");
}

#[test]
fn injected_sqnsh_mid_stream_closes_the_peer_too() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    assert_eq!(dial(&uart, server.local_addr().unwrap()), b"\r\nOK\r\n");
    let (mut conn, _) = server.accept().unwrap();
    assert_eq!(send(&uart, b"before"), b"\r\nOK\r\n");
    assert_eq!(sim.control("inject sqnsh 1"), "OK");
    assert!(contains(&read_until(&uart, b"+SQNSH: 1\r\n"), b"+SQNSH: 1"));
    let mut all = Vec::new();
    conn.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    conn.read_to_end(&mut all).unwrap();
    assert_eq!(all, b"before", "what was sent arrives, then FIN");
    assert_eq!(ask(&uart, "AT+SQNSSENDEXT=1,3", b"\r\n"), b"\r\n+CME ERROR: 3\r\n");
}

#[test]
fn a_peer_that_never_reads_grows_the_unacknowledged_count_until_sends_are_refused() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    assert_eq!(dial(&uart, server.local_addr().unwrap()), b"\r\nOK\r\n");
    let (_conn, _) = server.accept().unwrap();
    let block = vec![b'x'; 1500];
    let mut refused = false;
    let (mut info, mut sent, mut unacked) = (String::new(), 0, 0);
    // Loopback kernel buffers hold a few MB; the modem's own 64 KB window fills after that.
    // A send is refused whenever the modem holds a window of bytes its writer thread has not
    // handed to the kernel. On a loaded host that thread can be left unscheduled while the
    // kernel still has room, so a refusal can come before a byte reached the kernel: right
    // at that moment, but not yet the state under test. After each refusal the counts are
    // read, and sending goes on until a refusal that comes with bytes in the kernel (sent
    // past the window), which only a peer that stopped reading gives. The deadline only bounds
    // how long a starved writer thread is waited for.
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let answer = ask(&uart, "AT+SQNSSENDEXT=1,1500", b"\r\n");
        if answer != b"\r\n> " {
            assert_eq!(answer, b"\r\n+CME ERROR: 4\r\n");
            refused = true;
            info = String::from_utf8(ask(&uart, "AT+SQNSI=1", b"OK\r\n")).unwrap();
            let fields: Vec<u64> = info.trim().lines().next().unwrap()["+SQNSI: ".len()..]
                .split(',')
                .map(|f| f.trim().parse().unwrap())
                .collect();
            (sent, unacked) = (fields[1], fields[4]);
            if unacked > 60 * 1024 && sent > unacked {
                break;
            }
            continue;
        }
        uart.write(&block);
        assert_eq!(read_until(&uart, b"OK\r\n"), b"\r\nOK\r\n");
    }
    assert!(refused, "sends are refused once the peer stops taking bytes");
    assert!(unacked > 60 * 1024, "unacknowledged bytes: {info}");
    assert!(sent > unacked, "sent counts everything the host handed over: {info}");
}

#[test]
fn an_echo_of_many_random_pieces_arrives_whole() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    let server = TcpListener::bind("[::1]:0").unwrap();
    let peer = server.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut conn, _) = server.accept().unwrap();
        let mut buf = [0u8; 4096];
        while let Ok(n) = conn.read(&mut buf) {
            if n == 0 || conn.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    });
    assert_eq!(dial(&uart, peer), b"\r\nOK\r\n");
    let data: Vec<u8> = (0..30_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut sent = 0;
    let mut back = Vec::new();
    let mut size = 1;
    while back.len() < data.len() {
        if sent < data.len() {
            size = (size * 37 + 11) % 1500 + 1;
            let end = (sent + size).min(data.len());
            assert_eq!(send(&uart, &data[sent..end]), b"\r\nOK\r\n");
            sent = end;
        }
        back.extend(recv(&uart, (size % 700) + 1));
        if sent == data.len() && back.len() < data.len() {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    assert_eq!(back, data);
    let _ = TcpStream::connect(peer);
}

#[test]
fn listen_ring_status_accept_on_both_loopbacks() {
    for client_ip in ["127.0.0.1", "::1"] {
        let sim = Monarch::start(SimConfig::default()).unwrap();
        let uart = sim.uart();
        ask(&uart, "AT+CMEE=1", b"OK\r\n");
        ask(&uart, "AT+SQNSCFGEXT=2,1,0,0,0,0", b"OK\r\n");
        // A free port: bind, learn it, close.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        assert_eq!(ask(&uart, &format!("AT+SQNSL=2,1,{port}"), b"\r\n"), b"\r\nOK\r\n");
        let status = ask(&uart, "AT+SQNSS", b"OK\r\n");
        assert!(contains(&status, format!("+SQNSS: 2,4,\"0.0.0.0\",{port},").as_bytes()), "{}", String::from_utf8_lossy(&status));
        let mut client = TcpStream::connect((client_ip, port)).unwrap();
        client.write_all(b"early bytes").unwrap();
        assert!(contains(&read_until(&uart, b"+SQNSRING: 2\r\n"), b"+SQNSRING: 2\r\n"));
        let status = ask(&uart, "AT+SQNSS", b"OK\r\n");
        let line = format!("+SQNSS: 2,5,\"127.0.0.1\",{port},\"{client_ip}\",{}", client.local_addr().unwrap().port());
        assert!(contains(&status, line.as_bytes()), "{}", String::from_utf8_lossy(&status));
        // The connId is the connection now: what the client sent before the accept arrives.
        // Its ring may come before or after the OK: the reader thread rings as soon as the
        // connection is the connId's, while the answer is still being written.
        let mut accepted = ask(&uart, "AT+SQNSA=2,1", b"OK\r\n");
        if !contains(&accepted, b"+SQNSRING: 2,11\r\n") {
            accepted.extend(read_until(&uart, b"+SQNSRING: 2,11\r\n"));
        }
        assert!(contains(&accepted, b"\r\nOK\r\n"), "{accepted:?}");
        assert!(contains(&accepted, b"+SQNSRING: 2,11\r\n"), "{accepted:?}");
        let got = ask(&uart, "AT+SQNSRECV=2,100", b"\r\n\r\nOK\r\n");
        assert!(contains(&got, b"+SQNSRECV: 2,11\r\nearly bytes\r\n"), "{got:?}");
        assert_eq!(ask(&uart, "AT+SQNSSENDEXT=2,5", b"> "), b"\r\n> ");
        uart.write(b"reply");
        read_until(&uart, b"OK\r\n");
        let mut buf = [0u8; 5];
        client.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"reply");
        assert_eq!(ask(&uart, "AT+SQNSH=2", b"OK\r\n"), b"\r\nOK\r\n");
        assert_eq!(stat(&sim, "open_slots"), 0);
    }
}

#[test]
fn listen_refusals_and_stop() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    ask(&uart, "AT+CMEE=1", b"OK\r\n");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    assert_eq!(ask(&uart, &format!("AT+SQNSL=1,1,{port}"), b"\r\n"), b"\r\n+CME ERROR: 3\r\n", "port in use");
    drop(taken);
    assert_eq!(ask(&uart, "AT+SQNSA=1,1", b"\r\n"), b"\r\n+CME ERROR: 3\r\n", "nothing listens");
    assert_eq!(ask(&uart, &format!("AT+SQNSL=1,1,{port}"), b"\r\n"), b"\r\nOK\r\n");
    assert_eq!(ask(&uart, "AT+SQNSA=1,1", b"\r\n"), b"\r\n+CME ERROR: 3\r\n", "nobody connected yet");
    assert_eq!(ask(&uart, &format!("AT+SQNSL=1,0,{port}"), b"\r\n"), b"\r\nOK\r\n");
    assert_eq!(stat(&sim, "open_slots"), 0);
    std::thread::sleep(Duration::from_millis(100));
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "the listener is gone");
}

#[test]
fn a_server_listens_again_at_once_after_an_accept_and_data_shows_as_state_3() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    ask(&uart, "AT+CMEE=1", b"OK\r\n");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    assert_eq!(ask(&uart, &format!("AT+SQNSL=1,1,{port}"), b"\r\n"), b"\r\nOK\r\n");
    let mut first = TcpStream::connect(("127.0.0.1", port)).unwrap();
    read_until(&uart, b"+SQNSRING: 1\r\n");
    assert!(contains(&ask(&uart, "AT+SQNSA=1,1", b"OK\r\n"), b"\r\nOK\r\n"));
    // The connId is the connection; the server listens on another one at once, same port.
    assert_eq!(ask(&uart, &format!("AT+SQNSL=2,1,{port}"), b"\r\n"), b"\r\nOK\r\n");
    let second = TcpStream::connect(("::1", port)).unwrap();
    assert!(contains(&read_until(&uart, b"+SQNSRING: 2\r\n"), b"+SQNSRING: 2\r\n"));
    let status = ask(&uart, "AT+SQNSS", b"OK\r\n");
    let waiting = format!("+SQNSS: 2,5,\"127.0.0.1\",{port},\"::1\",{}", second.local_addr().unwrap().port());
    assert!(contains(&status, waiting.as_bytes()), "{}", String::from_utf8_lossy(&status));
    assert!(contains(&status, b"+SQNSS: 1,1,"), "nothing to read yet: {}", String::from_utf8_lossy(&status));
    first.write_all(b"data").unwrap();
    read_until(&uart, b"+SQNSRING: 1,4\r\n");
    let status = ask(&uart, "AT+SQNSS", b"OK\r\n");
    assert!(contains(&status, b"+SQNSS: 1,3,"), "data waiting: {}", String::from_utf8_lossy(&status));
}
