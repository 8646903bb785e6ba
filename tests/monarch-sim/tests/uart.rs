//! The simulator's wire behaviour, byte for byte, with real UDP peers on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use monarch_sim::{Monarch, SimConfig, Uart};

/// Sends a command and collects the answer until `until` appears (or 2 s pass).
fn ask(uart: &Uart, command: &str, until: &[u8]) -> Vec<u8> {
    uart.write(format!("{command}\r").as_bytes());
    read_until(uart, until)
}

fn read_until(uart: &Uart, until: &[u8]) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline && !got.windows(until.len()).any(|w| w == until) {
        let n = uart.read(&mut buf, Duration::from_millis(50));
        got.extend_from_slice(&buf[..n]);
    }
    got
}

fn echo_peer(bind: &str) -> SocketAddr {
    let socket = UdpSocket::bind(bind).unwrap();
    let addr = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(&buf[..n], from);
        }
    });
    addr
}

fn stat(sim: &Monarch, key: &str) -> u64 {
    sim.stats().into_iter().find(|(k, _)| *k == key).map(|(_, v)| v).unwrap()
}

#[test]
fn basic_answers_and_error_forms() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    assert_eq!(ask(&uart, "AT", b"OK\r\n"), b"\r\nOK\r\n");
    assert_eq!(ask(&uart, "AT+SQNSH=9", b"\r\n"), b"\r\nERROR\r\n");
    assert_eq!(ask(&uart, "AT+CMEE=1", b"OK\r\n"), b"\r\nOK\r\n");
    assert_eq!(ask(&uart, "AT+SQNSH=9", b"0\r\n"), b"\r\n+CME ERROR: 50\r\n");
    assert_eq!(ask(&uart, "AT+CMEE=2", b"OK\r\n"), b"\r\nOK\r\n");
    assert_eq!(ask(&uart, "AT+SQNSH=9", b"ters\r\n"), b"\r\n+CME ERROR: incorrect parameters\r\n");
    assert_eq!(ask(&uart, "AT+CEREG?", b"OK\r\n"), b"\r\n+CEREG: 1,1\r\n\r\nOK\r\n");
    let status = ask(&uart, "AT+SQNSS", b"OK\r\n");
    assert!(status.starts_with(b"\r\n+SQNSS: 1,0\r\n+SQNSS: 2,0\r\n"));
    assert!(status.ends_with(b"+SQNSS: 6,0\r\n\r\nOK\r\n"));
}

#[test]
fn udp_round_trip_raw_and_hex_ipv4_and_ipv6() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    for (hex, peer) in [(false, echo_peer("127.0.0.1:0")), (true, echo_peer("[::1]:0"))] {
        let mode = u8::from(hex);
        assert_eq!(ask(&uart, "AT+SQNSCFG=1,1,300,0,600,50", b"OK\r\n"), b"\r\nOK\r\n");
        assert_eq!(ask(&uart, &format!("AT+SQNSCFGEXT=1,1,{mode},0,0,{mode}"), b"OK\r\n"), b"\r\nOK\r\n");
        let dial = format!("AT+SQNSD=1,1,{},\"{}\",0,0,1,0", peer.port(), peer.ip());
        assert_eq!(ask(&uart, &dial, b"OK\r\n"), b"\r\nOK\r\n");
        let payload: Vec<u8> = (0..=255u8).collect();
        assert_eq!(ask(&uart, "AT+SQNSSENDEXT=1,256", b"> "), b"\r\n> ");
        if hex {
            let text: String = payload.iter().map(|b| format!("{b:02X}")).collect();
            uart.write(text.as_bytes());
        } else {
            uart.write(&payload);
        }
        // The payload's OK and the echo's ring come in either order: the echo can be back
        // before the OK is written (a URC never lands inside an answer, only between).
        let mut sent = read_until(&uart, b"+SQNSRING: 1,256\r\n");
        if !sent.windows(6).any(|w| w == b"\r\nOK\r\n") {
            sent.extend(read_until(&uart, b"OK\r\n"));
        }
        let ok_then_ring = [&b"\r\nOK\r\n"[..], b"\r\n+SQNSRING: 1,256\r\n"].concat();
        let ring_then_ok = [&b"\r\n+SQNSRING: 1,256\r\n"[..], b"\r\nOK\r\n"].concat();
        assert!(sent == ok_then_ring || sent == ring_then_ok, "{sent:?}");
        assert_eq!(ask(&uart, "AT+SQNSI=1", b"OK\r\n"), b"\r\n+SQNSI: 1,256,256,256,0\r\n\r\nOK\r\n");
        let got = ask(&uart, "AT+SQNSRECV=1,1500", b"\r\n\r\nOK\r\n");
        let mut expected = b"\r\n+SQNSRECV: 1,256\r\n".to_vec();
        if hex {
            expected.extend(payload.iter().flat_map(|b| format!("{b:02X}").into_bytes()));
        } else {
            expected.extend_from_slice(&payload);
        }
        expected.extend_from_slice(b"\r\n\r\nOK\r\n");
        assert_eq!(got, expected);
        assert_eq!(ask(&uart, "AT+SQNSRECV=1,1500", b"OK\r\n"), b"\r\n+SQNSRECV: 1,0\r\n\r\nOK\r\n");
        let status = ask(&uart, "AT+SQNSS", b"OK\r\n");
        let line = format!("+SQNSS: 1,1,\"{}\",", peer.ip());
        assert!(status.windows(line.len()).any(|w| w == line.as_bytes()), "{status:?}");
        assert_eq!(ask(&uart, "AT+SQNSH=1", b"OK\r\n"), b"\r\nOK\r\n");
    }
    assert_eq!(stat(&sim, "dgrams_tx"), 2);
    assert_eq!(stat(&sim, "dgrams_rx"), 2);
    assert_eq!(stat(&sim, "open_slots"), 0);
}

#[test]
fn refuses_what_the_gpy_cannot_do_and_non_loopback_peers() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    ask(&uart, "AT+CMEE=1", b"OK\r\n");
    for (cmd, answer) in [
        ("AT+SQNSD=1,1,7,\"127.0.0.1\",0,0,0,0", &b"\r\n+CME ERROR: 4\r\n"[..]),
        ("AT+SQNSD=1,1,7,\"127.0.0.1\",0,0,1,2", b"\r\n+CME ERROR: 4\r\n"),
        ("AT+SQNSD=1,1,7,\"192.0.2.1\",0,0,1,0", b"\r\nNO CARRIER\r\n"),
        ("AT+SQNSSENDEXT=1,5", b"\r\n+CME ERROR: 3\r\n"),
        ("AT+SQNSSENDEXT=1,,0", b"\r\n+CME ERROR: 50\r\n"),
        ("AT+SQNSRECV=1,1500", b"\r\n+CME ERROR: 3\r\n"),
    ] {
        assert_eq!(ask(&uart, cmd, b"\r\n"), answer, "{cmd}");
    }
}

#[test]
fn faults_change_answers_as_armed() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    ask(&uart, "AT+CMEE=1", b"OK\r\n");
    assert_eq!(sim.control("fault error SQNSCFG 1 cme 3"), "OK");
    assert_eq!(ask(&uart, "AT+SQNSCFG=1,1,300,0,600,50", b"\r\n"), b"\r\n+CME ERROR: 3\r\n");
    assert_eq!(ask(&uart, "AT+SQNSCFG=1,1,300,0,600,50", b"OK\r\n"), b"\r\nOK\r\n");
    assert_eq!(sim.control("fault nul 1"), "OK");
    assert_eq!(ask(&uart, "AT", b"OK\r\n"), b"\0\r\nOK\r\n");
    assert_eq!(sim.control("inject urc +SQNSH: 3"), "OK");
    assert_eq!(read_until(&uart, b"3\r\n"), b"\r\n+SQNSH: 3\r\n");
    assert_eq!(sim.control("inject garbage 41420d"), "OK");
    assert_eq!(read_until(&uart, b"\r"), b"AB\r");
    assert_eq!(sim.control("reboot"), "OK");
    assert_eq!(read_until(&uart, b"START\r\n"), b"\r\n+SYSSTART\r\n");
    assert!(sim.control("fault bogus").starts_with("ERR"));
    assert!(sim.control("inject sqnsh 2").starts_with("ERR"));
    assert!(sim.control("stats").contains("errors_injected=1"));
}

#[test]
fn an_endless_answer_streams_lines_and_never_a_final_code() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    assert_eq!(sim.control("fault endless 1"), "OK");
    uart.write(b"AT\r");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while Instant::now() < deadline && got.len() < 256 * 1024 {
        let n = uart.read(&mut buf, Duration::from_millis(200));
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got.len(), 256 * 1024);
    assert!(got.starts_with(b"\r\n+SQNSI: 1,0,0,0,0\r\n+SQNSI:"));
    assert!(!got.windows(6).any(|w| w == b"\r\nOK\r\n"), "no final code");
    // One answer only: the next command is answered normally.
    assert_eq!(ask(&uart, "AT", b"OK\r\n"), b"\r\nOK\r\n");
}

#[test]
fn reboot_at_and_sqnsh_at_hit_the_named_command_as_it_arrives() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    // A peer that never answers: no ring may come between the answers checked here.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dial = format!("AT+SQNSD=1,1,{},\"127.0.0.1\",0,0,1", silent.local_addr().unwrap().port());
    ask(&uart, "AT+CMEE=1", b"OK\r\n");
    assert_eq!(ask(&uart, &dial, b"OK\r\n"), b"\r\nOK\r\n");

    // sqnsh_at: the socket the command names is closed first, then the command meets it closed.
    assert_eq!(sim.control("fault sqnsh_at SQNSSENDEXT 1"), "OK");
    assert_eq!(ask(&uart, "AT+SQNSSENDEXT=1,2", b"ERROR: 3\r\n"), b"\r\n+SQNSH: 1\r\n\r\n+CME ERROR: 3\r\n");
    assert!(sim.control("stats").contains("open_slots=0"));
    assert_eq!(ask(&uart, &dial, b"OK\r\n"), b"\r\nOK\r\n");
    assert_eq!(ask(&uart, "AT+SQNSSENDEXT=1,2", b"> "), b"\r\n> ");
    uart.write(b"hi");
    assert_eq!(read_until(&uart, b"OK\r\n"), b"\r\nOK\r\n", "one shot only");

    // reboot_at PAYLOAD: the payload is taken, nothing is sent, +SYSSTART and no OK.
    let sent = stat(&sim, "dgrams_tx");
    assert_eq!(sim.control("fault reboot_at payload 1"), "OK");
    assert_eq!(ask(&uart, "AT+SQNSSENDEXT=1,2", b"> "), b"\r\n> ");
    uart.write(b"hi");
    assert_eq!(read_until(&uart, b"START\r\n"), b"\r\n+SYSSTART\r\n");
    assert_eq!(stat(&sim, "dgrams_tx"), sent);
    assert_eq!(stat(&sim, "open_slots"), 0);

    // reboot_at a command: no answer to it, only +SYSSTART; settings are gone (CMEE 0).
    assert_eq!(sim.control("fault reboot_at SQNSRECV 1"), "OK");
    assert_eq!(ask(&uart, "AT+SQNSRECV=1,1500", b"START\r\n"), b"\r\n+SYSSTART\r\n");
    assert_eq!(ask(&uart, "AT+SQNSRECV=1,1500", b"ERROR\r\n"), b"\r\nERROR\r\n");
    assert_eq!(stat(&sim, "errors_injected"), 3);
    assert!(sim.control("fault reboot_at").starts_with("ERR"));
}

#[test]
fn binary_serves_uart_and_control_on_unix_sockets() {
    let dir = std::env::temp_dir().join(format!("monarch-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("uart");
    let mut child = Command::new(env!("CARGO_BIN_EXE_monarch-sim"))
        .arg("--socket")
        .arg(&path)
        .arg("--exit-on-stdin-eof")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut ready).unwrap();
    assert!(ready.starts_with("monarch-sim ready"), "{ready}");
    for _ in 0..2 {
        // Two connections in turn: the modem outlives the first.
        let mut uart = UnixStream::connect(&path).unwrap();
        uart.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        uart.write_all(b"AT\r").unwrap();
        let mut answer = [0u8; 6];
        uart.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"\r\nOK\r\n");
    }
    let mut ctl = UnixStream::connect(dir.join("uart.ctl")).unwrap();
    ctl.write_all(b"stats\n").unwrap();
    let mut line = String::new();
    BufReader::new(ctl).read_line(&mut line).unwrap();
    assert!(line.starts_with("OK commands=2 "), "{line}");
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
