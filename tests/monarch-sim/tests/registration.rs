//! Registration and the PDP context: a detached modem (AT+CFUN=4, as LTE.detach() sends) or a
//! lost network (control line `network lose`) reads not registered, lists no address, refuses to
//! dial, and closes the sockets it had with +SQNSH.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use monarch_sim::{Monarch, SimConfig, Uart};

fn ask(uart: &Uart, command: &str, until: &[u8]) -> Vec<u8> {
    uart.write(format!("{command}\r").as_bytes());
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline && !got.windows(until.len()).any(|w| w == until) {
        let n = uart.read(&mut buf, Duration::from_millis(50));
        got.extend_from_slice(&buf[..n]);
    }
    got
}

fn dial(uart: &Uart, port: u16) -> Vec<u8> {
    assert_eq!(ask(uart, "AT+SQNSCFG=1,1,300,0,600,50", b"OK\r\n"), b"\r\nOK\r\n");
    ask(uart, &format!("AT+SQNSD=1,1,{port},\"127.0.0.1\",0,0,1,0"), b"\r\n")
}

#[test]
fn detached_lists_no_address_and_refuses_to_dial() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = peer.local_addr().unwrap().port();
    assert_eq!(ask(&uart, "AT+CMEE=1", b"OK\r\n"), b"\r\nOK\r\n");
    assert!(ask(&uart, "AT+CGPADDR", b"OK\r\n").starts_with(b"\r\n+CGPADDR: 1,\""));
    assert_eq!(ask(&uart, "AT+CFUN=4", b"OK\r\n"), b"\r\nOK\r\n");
    assert_eq!(ask(&uart, "AT+CGATT?", b"OK\r\n"), b"\r\n+CGATT: 0\r\n\r\nOK\r\n");
    let cereg = ask(&uart, "AT+CEREG?", b"OK\r\n");
    assert!(cereg.windows(5).any(|w| w == b",0\r\n\r"), "{}", String::from_utf8_lossy(&cereg));
    assert_eq!(ask(&uart, "AT+CGPADDR", b"OK\r\n"), b"\r\n+CGPADDR: 1\r\n\r\nOK\r\n");
    let mut refused = dial(&uart, port);
    refused.extend(ask(&uart, "", b"\r\n"));
    assert!(refused.starts_with(b"\r\n+CME ERROR: 4\r\n"), "{}", String::from_utf8_lossy(&refused));
    assert_eq!(ask(&uart, "AT+CFUN=1", b"OK\r\n"), b"\r\nOK\r\n");
    assert_eq!(dial(&uart, port), b"\r\nOK\r\n");
}

#[test]
fn a_lost_network_closes_every_socket() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(dial(&uart, peer.local_addr().unwrap().port()), b"\r\nOK\r\n");
    assert_eq!(sim.control("network lose"), "OK");
    let mut urc = Vec::new();
    let mut buf = [0u8; 256];
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && !urc.ends_with(b"+SQNSH: 1\r\n") {
        let n = uart.read(&mut buf, Duration::from_millis(50));
        urc.extend_from_slice(&buf[..n]);
    }
    assert_eq!(urc, b"\r\n+SQNSH: 1\r\n");
    assert_eq!(ask(&uart, "AT+CGATT?", b"OK\r\n"), b"\r\n+CGATT: 0\r\n\r\nOK\r\n");
    assert_eq!(sim.control("network back"), "OK");
    assert_eq!(ask(&uart, "AT+CGATT?", b"OK\r\n"), b"\r\n+CGATT: 1\r\n\r\nOK\r\n");
}
