//! TLS behind the secure-socket commands, on the wire: credentials uploaded with
//! `AT+SQNSNVW` (CR not counted), a profile, `AT+SQNSSCFG`, and a dial that runs a real TLS
//! handshake against a rustls server on ::1; plaintext both ways; the failures a wrong CA, an
//! expired certificate and a name mismatch give, each only when its level asks for it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use monarch_sim::{Monarch, SimConfig, Uart};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};

fn ask(uart: &Uart, command: &str, until: &[u8]) -> Vec<u8> {
    uart.write(format!("{command}\r").as_bytes());
    read_until(uart, until)
}

fn read_until(uart: &Uart, until: &[u8]) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    while Instant::now() < deadline && !got.windows(until.len()).any(|w| w == until) {
        let n = uart.read(&mut buf, Duration::from_millis(20));
        got.extend_from_slice(&buf[..n]);
    }
    got
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn stat(sim: &Monarch, key: &str) -> u64 {
    sim.stats().into_iter().find(|(k, _)| *k == key).map(|(_, v)| v).unwrap()
}

struct Pki {
    ca_pem: String,
    other_ca_pem: String,
    server_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    server_key: Vec<u8>,
    expired_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    other_name_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
}

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    (params.self_signed(&key).unwrap(), key)
}

fn pki() -> Pki {
    let (ca_cert, ca_key) = ca("test CA");
    let (other, _) = ca("other CA");
    let server_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.subject_alt_names.push(SanType::IpAddress("::1".parse().unwrap()));
    let server = params.signed_by(&server_key, &ca_cert, &ca_key).unwrap();
    let mut old = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    old.subject_alt_names.push(SanType::IpAddress("::1".parse().unwrap()));
    old.not_before = rcgen::date_time_ymd(2019, 1, 1);
    old.not_after = rcgen::date_time_ymd(2020, 1, 1);
    let expired = old.signed_by(&server_key, &ca_cert, &ca_key).unwrap();
    let other_name = CertificateParams::new(vec!["other.test".to_string()])
        .unwrap()
        .signed_by(&server_key, &ca_cert, &ca_key)
        .unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        other_ca_pem: other.pem(),
        server_chain: vec![server.der().clone()],
        server_key: server_key.serialize_der(),
        expired_chain: vec![expired.der().clone()],
        other_name_chain: vec![other_name.der().clone()],
    }
}

/// A TLS 1.2 echo server on ::1 for one connection; returns its address.
fn echo_server(chain: Vec<rustls::pki_types::CertificateDer<'static>>, key: Vec<u8>) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()))
        .unwrap();
    let listener = TcpListener::bind("[::1]:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = Arc::new(config.clone());
            thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut buf = [0u8; 4096];
                while let Ok(n) = tls.read(&mut buf) {
                    if n == 0 || tls.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// Uploads `pem` with CR LF line ends sent in pieces, as Pycom's firmware does (each piece
/// followed by its CR); the size counts no CR.
fn upload(uart: &Uart, kind: &str, index: u8, pem: &str) -> Vec<u8> {
    let size = pem.len();
    let prompt = ask(uart, &format!("AT+SQNSNVW=\"{kind}\",{index},{size}"), b"> ");
    assert!(text(&prompt).contains("\r\n> "), "{}", text(&prompt));
    let with_crs = pem.replace('\n', "\r\n");
    for piece in with_crs.as_bytes().chunks(100) {
        uart.write(piece);
        uart.write(b"\r");
    }
    read_until(uart, b"\r\n")
}

fn setup(uart: &Uart) {
    ask(uart, "AT+CMEE=1", b"OK\r\n");
    ask(uart, "AT+SQNSCFG=1,1,300,0,50,50", b"OK\r\n");
    ask(uart, "AT+SQNSCFGEXT=1,1,0,0,0,0", b"OK\r\n");
}

fn dial(uart: &Uart, level: u8, host: &str, port: u16) -> String {
    let answer = ask(uart, &format!("AT+SQNSPCFG=1,2,\"\",{level},19,,,\"\""), b"\r\n");
    assert!(text(&answer).contains("OK"), "{}", text(&answer));
    assert!(text(&ask(uart, "AT+SQNSSCFG=1,1,1", b"\r\n")).contains("OK"));
    let answer = ask(uart, &format!("AT+SQNSD=1,0,{port},\"{host}\",0,0,1"), b"\r\n");
    let answer = if text(&answer).trim().is_empty() { read_until(uart, b"\r\n") } else { answer };
    let answer = text(&answer);
    ask(uart, "AT+SQNSH=1", b"OK\r\n");
    answer
}

#[test]
fn upload_counts_bytes_without_cr_and_checks_pem() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    ask(&uart, "AT+CMEE=1", b"OK\r\n");
    let pki = pki();
    let answer = upload(&uart, "certificate", 19, &pki.ca_pem);
    assert!(text(&answer).contains("OK"), "{}", text(&answer));
    assert_eq!(stat(&sim, "nvm_writes"), 1);
    assert_eq!(stat(&sim, "nvm_bytes"), pki.ca_pem.len() as u64);
    // Not PEM: refused when the count is reached, nothing stored.
    let prompt = ask(&uart, "AT+SQNSNVW=\"certificate\",18,5", b"> ");
    assert!(text(&prompt).contains("> "));
    uart.write(b"hello");
    assert!(text(&read_until(&uart, b"\r\n+CME ERROR: 4\r\n")).contains("+CME ERROR: 4"));
    assert_eq!(stat(&sim, "nvm_writes"), 1);
    // Delete, then delete again (an empty slot: refused).
    assert!(text(&ask(&uart, "AT+SQNSNVW=\"certificate\",19,0", b"\r\n")).contains("OK"));
    assert!(text(&ask(&uart, "AT+SQNSNVW=\"certificate\",19,0", b"ERROR: 4\r\n")).contains("+CME ERROR: 4"));
    assert_eq!(stat(&sim, "nvm_deletes"), 1);
    // Bad type, index and size.
    for bad in ["\"cert\",1,10", "\"certificate\",20,10", "\"privatekey\",1,4096", "\"certificate\",1"] {
        assert!(text(&ask(&uart, &format!("AT+SQNSNVW={bad}"), b"ERROR: 50\r\n")).contains("+CME ERROR: 50"), "{bad}");
    }
}

#[test]
fn secure_dial_carries_plaintext_and_honours_the_level() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    setup(&uart);
    let pki = pki();
    assert!(text(&upload(&uart, "certificate", 19, &pki.ca_pem)).contains("OK"));
    let good = echo_server(pki.server_chain.clone(), pki.server_key.clone());

    // Chain, dates and name (7), dialled by IP literal: the certificate names ::1.
    assert!(text(&ask(&uart, "AT+SQNSPCFG=1,2,\"\",7,19,,,\"\"", b"\r\n")).contains("OK"));
    assert!(text(&ask(&uart, "AT+SQNSSCFG=1,1,1", b"\r\n")).contains("OK"));
    let answer = ask(&uart, &format!("AT+SQNSD=1,0,{},\"::1\",0,0,1", good.port()), b"\r\n");
    assert!(text(&answer).contains("OK"), "{} / {}", text(&answer), sim.control("tls_error"));
    let prompt = ask(&uart, "AT+SQNSSENDEXT=1,5", b"> ");
    assert!(text(&prompt).contains("> "));
    uart.write(b"hello");
    assert!(text(&read_until(&uart, b"OK\r\n")).contains("OK"));
    thread::sleep(Duration::from_millis(300));
    let answer = ask(&uart, "AT+SQNSRECV=1,100", b"\r\nOK\r\n");
    assert!(text(&answer).contains("+SQNSRECV: 1,5\r\nhello"), "{}", text(&answer));
    ask(&uart, "AT+SQNSH=1", b"OK\r\n");
    assert_eq!(stat(&sim, "tls_handshakes"), 1);

    // By name through "localhost": level 7 passes.
    assert!(dial(&uart, 7, "localhost", good.port()).contains("OK"));

    // A certificate from another CA fails at levels with bit 0, passes at 0.
    let port = good.port();
    assert!(text(&upload(&uart, "certificate", 19, &pki.other_ca_pem)).contains("OK"));
    assert!(dial(&uart, 1, "::1", port).contains("NO CARRIER"));
    assert!(sim.control("tls_error").contains("UnknownIssuer") || sim.control("tls_error").contains("unknown issuer"), "{}", sim.control("tls_error"));
    assert!(dial(&uart, 0, "::1", port).contains("OK"));
    assert!(text(&upload(&uart, "certificate", 19, &pki.ca_pem)).contains("OK"));

    // Expired: dates are checked with bit 1 only.
    let expired = echo_server(pki.expired_chain.clone(), pki.server_key.clone());
    assert!(dial(&uart, 3, "::1", expired.port()).contains("NO CARRIER"));
    assert!(sim.control("tls_error").contains("expired"), "{}", sim.control("tls_error"));
    assert!(dial(&uart, 1, "::1", expired.port()).contains("OK"));

    // A certificate for another name: the name is checked with bit 2 only.
    let elsewhere = echo_server(pki.other_name_chain.clone(), pki.server_key.clone());
    assert!(dial(&uart, 7, "::1", elsewhere.port()).contains("NO CARRIER"));
    assert!(sim.control("tls_error").contains("not valid for name"), "{}", sim.control("tls_error"));
    assert!(dial(&uart, 3, "::1", elsewhere.port()).contains("OK"));
    assert_eq!(stat(&sim, "tls_failures"), 3);
    assert_eq!(stat(&sim, "open_slots"), 0);
}

#[test]
fn secure_flag_and_profile_arguments_are_checked() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    ask(&uart, "AT+CMEE=1", b"OK\r\n");
    for good in ["1,2,\"\",0,,,,\"\"", "6,3,,7,19,18,18,\"\"", "2,2,\"0x2F;0xC02F\",1,19,,,\"\",\"\"", "3,2,\"\",1,19,,"] {
        assert!(text(&ask(&uart, &format!("AT+SQNSPCFG={good}"), b"\r\n")).contains("OK"), "{good}");
    }
    for bad in ["0,2,\"\",0,,,,\"\"", "1,4,\"\",0,,,,\"\"", "1,2,\"\",8,,,,\"\"", "1,2,\"\",0,20,,,\"\"", "1,2,\"xyz\",0,,,,\"\"", "1,2"] {
        assert!(text(&ask(&uart, &format!("AT+SQNSPCFG={bad}"), b"\r\n")).contains("ERROR"), "{bad}");
    }
    assert!(text(&ask(&uart, "AT+SQNSSCFG=1,1,1", b"\r\n")).contains("OK"));
    assert!(text(&ask(&uart, "AT+SQNSSCFG=1,2,1", b"\r\n")).contains("ERROR"));
    assert!(text(&ask(&uart, "AT+SQNSSCFG=7,1,1", b"\r\n")).contains("ERROR"));
    // A profile naming an empty slot: the dial is refused before anything goes out.
    ask(&uart, "AT+SQNSPCFG=1,2,\"\",1,17,,,\"\"", b"\r\n");
    let answer = ask(&uart, "AT+SQNSD=1,0,1,\"::1\",0,0,1", b"\r\n");
    assert!(text(&answer).contains("+CME ERROR: 4"), "{}", text(&answer));
    assert_eq!(stat(&sim, "profile_writes"), 5);
}

#[test]
fn a_lost_answer_is_carried_out_all_the_same() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    ask(&uart, "AT+CMEE=1", b"OK\r\n");
    // The profile is written, its OK never comes.
    assert!(sim.control("fault lost SQNSPCFG 1").starts_with("OK"));
    let answer = ask(&uart, "AT+SQNSPCFG=1,2,\"\",0,,,,\"\"", b"\r\n");
    assert!(!text(&answer).contains("OK"), "{}", text(&answer));
    assert_eq!(stat(&sim, "profile_writes"), 1);
    assert_eq!(stat(&sim, "errors_injected"), 1);
    // An upload's final answer lost: the credential is stored all the same.
    assert!(sim.control("fault lost PAYLOAD 1").starts_with("OK"));
    let pki = pki();
    let prompt = ask(&uart, &format!("AT+SQNSNVW=\"certificate\",19,{}", pki.ca_pem.len()), b"> ");
    assert!(text(&prompt).contains("> "));
    uart.write(pki.ca_pem.as_bytes());
    let answer = read_until(&uart, b"OK\r\n");
    assert!(!text(&answer).contains("OK"), "{}", text(&answer));
    assert_eq!(stat(&sim, "nvm_writes"), 1);
    // Disarmed after its count: the next one is answered.
    assert!(text(&ask(&uart, "AT+SQNSPCFG=1,2,\"\",0,,,,\"\"", b"OK\r\n")).contains("OK"));
}
