//! The TLS client a secure connId runs: a real TCP connection on loopback, a rustls
//! handshake with the credentials written over AT, then one pump thread that carries the
//! host's plaintext into TLS records and the peer's records back out as plaintext, with the
//! same buffering and accounting as a plain TCP socket (`stream.rs`).

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, TryRecvError};
use std::sync::{Arc, Weak};
use std::thread;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::modem::tls::Profile;
use crate::net::OpenSocket;
use crate::stream::{StreamEnd, TcpLink};
use crate::{lock, Shared};

/// certValidLevel bits, LR5 reading.
const CHECK_CHAIN: u8 = 1;
const CHECK_DATES: u8 = 2;
const CHECK_NAME: u8 = 4;

/// The credentials a profile names, as stored.
pub(crate) struct Material {
    pub(crate) ca: Option<Vec<u8>>,
    pub(crate) cert: Option<Vec<u8>>,
    pub(crate) key: Option<Vec<u8>>,
}

pub(crate) fn parse_certificates(pem: &[u8]) -> Option<Vec<CertificateDer<'static>>> {
    CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>().ok()
}

pub(crate) fn parse_key(pem: &[u8]) -> Option<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(pem).ok()
}

/// The modem's check of the server certificate, by certValidLevel.
#[derive(Debug)]
struct ModemVerifier {
    level: u8,
    /// The modem's clock reads 1970: dates are checked against that.
    clock_unset: bool,
    inner: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for ModemVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.level & CHECK_CHAIN == 0 {
            return Ok(ServerCertVerified::assertion());
        }
        let inner = self
            .inner
            .as_ref()
            .ok_or(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))?;
        let mut now = if self.clock_unset { UnixTime::since_unix_epoch(Duration::ZERO) } else { now };
        for _ in 0..3 {
            let error = match inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                Ok(verified) => return Ok(verified),
                Err(rustls::Error::InvalidCertificate(e)) => e,
                Err(e) => return Err(e),
            };
            match error {
                // Dates not checked: verify again at a moment the certificate was valid.
                CertificateError::ExpiredContext { not_after, .. } if self.level & CHECK_DATES == 0 => {
                    now = UnixTime::since_unix_epoch(Duration::from_secs(not_after.as_secs().saturating_sub(1)));
                }
                CertificateError::NotValidYetContext { not_before, .. } if self.level & CHECK_DATES == 0 => {
                    now = UnixTime::since_unix_epoch(Duration::from_secs(not_before.as_secs() + 1));
                }
                // webpki checks the name last: the chain and dates have passed.
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
                    if self.level & CHECK_NAME == 0 =>
                {
                    return Ok(ServerCertVerified::assertion());
                }
                e => return Err(rustls::Error::InvalidCertificate(e)),
            }
        }
        Err(rustls::Error::InvalidCertificate(CertificateError::BadEncoding))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn client_config(profile: &Profile, material: &Material, clock_unset: bool) -> Result<ClientConfig, String> {
    let mut provider = rustls::crypto::ring::default_provider();
    if !profile.ciphers.is_empty() {
        provider.cipher_suites.retain(|s| profile.ciphers.contains(&u16::from(s.suite())));
    }
    let provider = Arc::new(provider);
    let inner = match &material.ca {
        Some(pem) => {
            let mut roots = RootCertStore::empty();
            for cert in parse_certificates(pem).ok_or("stored CA is not PEM")? {
                roots.add(cert).map_err(|e| format!("stored CA: {e}"))?;
            }
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                    .build()
                    .map_err(|e| format!("verifier: {e}"))?,
            )
        }
        None => None,
    };
    let verifier = ModemVerifier { level: profile.level, clock_unset, inner, algorithms: provider.signature_verification_algorithms };
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider) as Arc<CryptoProvider>)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .map_err(|e| format!("protocol: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    match (&material.cert, &material.key) {
        (Some(cert), Some(key)) => {
            let chain = parse_certificates(cert).ok_or("stored client certificate is not PEM")?;
            let key = parse_key(key).ok_or("stored key is not PEM")?;
            builder.with_client_auth_cert(chain, key).map_err(|e| format!("client certificate: {e}"))
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}

/// Connects to `peer`, runs the handshake for `name` (the dial's address field) and starts
/// the pump. `Err` carries the reason, for the control line `tls_error`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dial(
    peer: SocketAddr,
    name: &str,
    profile: &Profile,
    material: &Material,
    clock_unset: bool,
    timeout: Duration,
    conn: u8,
    token: u64,
    shared: Weak<Shared>,
) -> Result<OpenSocket, String> {
    if !peer.ip().is_loopback() {
        return Err("only loopback peers are reachable from the simulator".into());
    }
    let config = client_config(profile, material, clock_unset)?;
    let server_name = match name.parse::<IpAddr>() {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => ServerName::try_from(name.to_string()).map_err(|e| format!("name: {e}"))?,
    };
    let mut tls = ClientConnection::new(Arc::new(config), server_name).map_err(|e| format!("client: {e}"))?;
    let mut stream = TcpStream::connect_timeout(&peer, timeout).map_err(|e| format!("tcp: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    while tls.is_handshaking() {
        if let Err(e) = tls.complete_io(&mut stream) {
            // Say why to the peer (an alert), as a TLS client does, then drop the connection.
            let _ = tls.write_tls(&mut stream);
            let _ = stream.shutdown(Shutdown::Both);
            return Err(format!("handshake: {e}"));
        }
    }
    let local = stream.local_addr().map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_millis(10))).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(Duration::from_millis(50))).map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    let unacked = Arc::new(AtomicU64::new(0));
    let (to_pump, from_host) = channel::<Vec<u8>>();
    let pump_stream = stream.try_clone().map_err(|e| e.to_string())?;
    let pump = Pump { stream: pump_stream, tls, from_host, unacked: Arc::clone(&unacked), stop: Arc::clone(&stop), conn, token, shared };
    thread::Builder::new().name(format!("monarch-tls-{conn}")).spawn(move || pump.run()).map_err(|e| e.to_string())?;
    let link = TcpLink::from_parts(stream, to_pump, unacked, stop);
    Ok(OpenSocket::from_tcp_link(link, peer, local, token))
}

struct Pump {
    stream: TcpStream,
    tls: ClientConnection,
    from_host: Receiver<Vec<u8>>,
    unacked: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    conn: u8,
    token: u64,
    shared: Weak<Shared>,
}

impl Pump {
    fn ended(&self, end: StreamEnd) {
        if let Some(shared) = self.shared.upgrade() {
            lock(&shared.modem).stream_ended(self.conn, self.token, end, &shared.out);
        }
    }

    /// Writes pending TLS records; false when the connection is gone.
    fn flush(&mut self) -> bool {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.stream) {
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {
                    return true;
                }
                Err(_) => return false,
            }
        }
        true
    }

    fn run(mut self) {
        let mut plain = vec![0u8; 1460];
        // Host bytes taken into TLS records not yet all written to the kernel.
        let mut in_records: u64 = 0;
        loop {
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            // Host -> peer.
            let mut closing = false;
            loop {
                match self.from_host.try_recv() {
                    Ok(data) => {
                        let _ = self.tls.writer().write_all(&data);
                        in_records += data.len() as u64;
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        closing = true;
                        break;
                    }
                }
            }
            if closing {
                self.tls.send_close_notify();
            }
            if !self.flush() {
                self.ended(StreamEnd::Reset);
                return;
            }
            if !self.tls.wants_write() && in_records > 0 {
                self.unacked.fetch_sub(in_records, Ordering::AcqRel);
                in_records = 0;
            }
            if closing {
                let _ = self.stream.shutdown(Shutdown::Both);
                return;
            }
            // Peer -> host, while the modem has room for the host.
            let Some(state) = self.shared.upgrade() else { return };
            let room = lock(&state.modem).stream_room(self.conn, self.token);
            drop(state);
            match room {
                None => return,
                Some(0) => {
                    thread::sleep(Duration::from_millis(10));
                    continue;
                }
                Some(_) => {}
            }
            match self.tls.read_tls(&mut self.stream) {
                Ok(0) => {
                    self.ended(StreamEnd::Closed);
                    return;
                }
                Ok(_) => {
                    if self.tls.process_new_packets().is_err() {
                        let _ = self.flush();
                        self.ended(StreamEnd::Reset);
                        return;
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                Err(_) => {
                    self.ended(StreamEnd::Reset);
                    return;
                }
            }
            loop {
                match self.tls.reader().read(&mut plain) {
                    Ok(0) => {
                        // close_notify: the peer closed its side.
                        self.ended(StreamEnd::Closed);
                        return;
                    }
                    Ok(n) => {
                        let Some(shared) = self.shared.upgrade() else { return };
                        lock(&shared.modem).datagram_arrived(self.conn, self.token, &plain[..n], &shared.out);
                    }
                    Err(_) => break,
                }
            }
        }
    }
}
