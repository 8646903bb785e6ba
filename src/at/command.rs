//! AT command builders. Every parameter is typed (connId, port, parsed address, validated host
//! name), so the text written here is fully determined by values that cannot carry `"`, `,`,
//! CR or LF from a caller.

// Renamed: cbindgen mistakes any `String<N>` for std's String and gives up.
use heapless::String as TextBuf;
use core::fmt::Write;
use core::net::SocketAddr;

use crate::addr::format_ip;
use crate::hostname::HostName;

/// Room for the longest command: `AT+SQNDNSLKUP="<253 chars>",1`.
pub const COMMAND_CAP: usize = 280;

/// Command text ready for the transport (no terminator: the firmware appends CR).
pub type CommandText = TextBuf<COMMAND_CAP>;

/// A modem socket slot, 1..=6.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnId(u8);

/// The modem has six socket slots.
pub const CONN_IDS: usize = 6;

impl ConnId {
    pub fn new(id: u8) -> Option<ConnId> {
        (1..=6).contains(&id).then_some(ConnId(id))
    }

    /// connId for pool index 0..=5.
    pub fn from_index(index: usize) -> Option<ConnId> {
        u8::try_from(index).ok().and_then(|i| ConnId::new(i + 1))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    pub fn index(self) -> usize {
        usize::from(self.0 - 1)
    }
}

/// Which records `AT+SQNDNSLKUP` should return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpVersion {
    V4 = 0,
    V6 = 1,
}

/// One AT command this module sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// `AT+CMEE=1`: numeric `+CME ERROR` codes.
    NumericErrors,
    /// `AT+CMEE=0`: plain `ERROR` (a final code Pycom's LTE task stops at, where it waits
    /// out its 1 s idle poll after a `+CME ERROR`).
    PlainErrors,
    /// `AT+SQNSCFG`: PDP context, never close on inactivity (`maxTo` 0), default timers.
    SocketConfig { conn: ConnId, pdp_cid: u8 },
    /// `AT+SQNSCFG` for a TCP socket: as `SocketConfig`, with an 8 s connect timeout, so a
    /// dial's result arrives within one `send_at_cmd` call on firmware whose wait is a fixed
    /// 9.5 s (sequans-at-sockets.md §5; the Toit driver uses the same value).
    StreamSocketConfig { conn: ConnId, pdp_cid: u8 },
    /// `AT+SQNSCFGEXT`: ring with byte count (srMode 1), hex or raw data each way.
    SocketConfigExt { conn: ConnId, recv_hex: bool, send_hex: bool },
    /// `AT+SQNSD`: UDP, command mode, only the dialled peer (acceptAnyRemote 0).
    Dial { conn: ConnId, peer: SocketAddr, local_port: u16 },
    /// `AT+SQNSD`: TCP, command mode (closureType 0, lPort 0, connMode 1).
    DialTcp { conn: ConnId, peer: SocketAddr },
    /// `AT+SQNSL=<conn>,1,<port>`: listen for TCP connections.
    Listen { conn: ConnId, port: u16 },
    /// `AT+SQNSA=<conn>,1`: accept the waiting connection, in command mode.
    Accept { conn: ConnId },
    /// `AT+SQNSLUDP=<conn>,1,<port>`: receive UDP datagrams from any sender on `port`
    /// (LR5's listenState 1; sequans-at-sockets.md §2.10).
    ListenUdp { conn: ConnId, port: u16 },
    /// `AT+SQNSSENDEXT=<conn>,<bytes>`; the payload follows the `> ` prompt.
    SendExt { conn: ConnId, len: u16 },
    /// `AT+SQNSRECV=<conn>,<max>`.
    Receive { conn: ConnId, max: u16 },
    /// `AT+SQNSH=<conn>`.
    Close { conn: ConnId },
    /// `AT+SQNSI=<conn>`: counters, incl. unread bytes.
    Info { conn: ConnId },
    /// `AT+SQNSS`: state of all six slots.
    Status,
    /// `AT+CGATT?`: attached to the packet domain (1) or not (0).
    Registration,
    /// `AT+SQNDNSLKUP="<host>"[,<ipv>]`.
    DnsLookup { host: &'a HostName, version: Option<IpVersion> },
    /// `AT+SQNSNVW="certificate"|"privatekey",<index>,<size>`: the PEM follows the prompt;
    /// size 0 deletes.
    NvWrite { private_key: bool, index: u8, size: u16 },
    /// `AT+SQNSPCFG=<sp>,<version>,<ciphers>,<level>,<ca>,<cert>,<key>,""` (8 fields; an
    /// absent credential is an empty field; the empty cipher list quoted or bare).
    SecurityProfile { sp: u8, version: u8, bare_ciphers: bool, level: u8, ca: Option<u8>, cert: Option<u8>, key: Option<u8> },
    /// `AT+SQNSSCFG=<conn>,<0|1>,<sp>`: TLS on or off for the connId's next dial.
    SecureConfig { conn: ConnId, enable: bool, sp: u8 },
    /// `AT+CCLK?`: the modem's clock, which certificate dates are checked against.
    Clock,
    /// `AT+SQNSD`: TCP by host name (the modem resolves it and checks it against the
    /// server's certificate), command mode.
    DialTcpName { conn: ConnId, host: &'a HostName, port: u16 },
}

/// Connect timeout sent in `AT+SQNSCFG`, in 100 ms units (the factory value, 60 s).
const CONNECT_TIMEOUT_DS: u16 = 600;
/// Connect timeout for TCP sockets, in 100 ms units (8 s).
pub const STREAM_CONNECT_TIMEOUT_DS: u16 = 80;
/// Online-mode flush delay in 100 ms units (factory value; unused in command mode).
const TX_TIMEOUT_DS: u16 = 50;
/// Online-mode packet size (factory value; unused in command mode).
const PACKET_SIZE: u16 = 300;

impl Command<'_> {
    /// The name the modem uses for this command's information lines (`+<NAME>:`).
    pub fn name(&self) -> &'static [u8] {
        match self {
            Command::NumericErrors | Command::PlainErrors => b"CMEE",
            Command::SocketConfig { .. } | Command::StreamSocketConfig { .. } => b"SQNSCFG",
            Command::SocketConfigExt { .. } => b"SQNSCFGEXT",
            Command::Dial { .. } | Command::DialTcp { .. } => b"SQNSD",
            Command::Listen { .. } => b"SQNSL",
            Command::Accept { .. } => b"SQNSA",
            Command::ListenUdp { .. } => b"SQNSLUDP",
            Command::SendExt { .. } => b"SQNSSENDEXT",
            Command::Receive { .. } => b"SQNSRECV",
            Command::Close { .. } => b"SQNSH",
            Command::Info { .. } => b"SQNSI",
            Command::Status => b"SQNSS",
            Command::Registration => b"CGATT",
            Command::DnsLookup { .. } => b"SQNDNSLKUP",
            Command::NvWrite { .. } => b"SQNSNVW",
            Command::SecurityProfile { .. } => b"SQNSPCFG",
            Command::SecureConfig { .. } => b"SQNSSCFG",
            Command::DialTcpName { .. } => b"SQNSD",
            Command::Clock => b"CCLK",
        }
    }

    /// How long the modem may take to answer, in ms. Dial and close get the long budgets
    /// other drivers allow (sequans-at-sockets.md §4) capped at 20 s: UDP has no handshake.
    pub fn timeout_ms(&self) -> u32 {
        match self {
            Command::Dial { .. } | Command::Close { .. } | Command::DnsLookup { .. } => 20_000,
            // The TCP connect timeout sent in AT+SQNSCFG plus a margin.
            Command::DialTcp { .. } | Command::DialTcpName { .. } => u32::from(STREAM_CONNECT_TIMEOUT_DS) * 100 + 5_000,
            // A flash write.
            Command::NvWrite { .. } | Command::SecurityProfile { .. } => 20_000,
            Command::SendExt { .. } => 10_000,
            _ => 5_000,
        }
    }

    /// Whether the modem answers with the `> ` prompt rather than a final code.
    pub fn expects_prompt(&self) -> bool {
        matches!(self, Command::SendExt { .. } | Command::NvWrite { size: 1.., .. })
    }

    /// Writes the command text (`AT...`, no terminator).
    pub fn write(&self, out: &mut CommandText) -> core::fmt::Result {
        out.clear();
        match *self {
            Command::NumericErrors => write!(out, "AT+CMEE=1"),
            Command::PlainErrors => write!(out, "AT+CMEE=0"),
            Command::SocketConfig { conn, pdp_cid } => write!(
                out,
                "AT+SQNSCFG={},{},{},0,{},{}",
                conn.get(),
                pdp_cid,
                PACKET_SIZE,
                CONNECT_TIMEOUT_DS,
                TX_TIMEOUT_DS
            ),
            Command::StreamSocketConfig { conn, pdp_cid } => write!(
                out,
                "AT+SQNSCFG={},{},{},0,{},{}",
                conn.get(),
                pdp_cid,
                PACKET_SIZE,
                STREAM_CONNECT_TIMEOUT_DS,
                TX_TIMEOUT_DS
            ),
            Command::SocketConfigExt { conn, recv_hex, send_hex } => write!(
                out,
                "AT+SQNSCFGEXT={},1,{},0,0,{}",
                conn.get(),
                u8::from(recv_hex),
                u8::from(send_hex)
            ),
            Command::Dial { conn, peer, local_port } => write!(
                out,
                "AT+SQNSD={},1,{},\"{}\",0,{},1,0",
                conn.get(),
                peer.port(),
                format_ip(&peer.ip()),
                local_port
            ),
            Command::DialTcp { conn, peer } => write!(
                out,
                "AT+SQNSD={},0,{},\"{}\",0,0,1",
                conn.get(),
                peer.port(),
                format_ip(&peer.ip())
            ),
            Command::Listen { conn, port } => write!(out, "AT+SQNSL={},1,{}", conn.get(), port),
            Command::Accept { conn } => write!(out, "AT+SQNSA={},1", conn.get()),
            Command::ListenUdp { conn, port } => write!(out, "AT+SQNSLUDP={},1,{}", conn.get(), port),
            Command::SendExt { conn, len } => write!(out, "AT+SQNSSENDEXT={},{}", conn.get(), len),
            Command::Receive { conn, max } => write!(out, "AT+SQNSRECV={},{}", conn.get(), max),
            Command::Close { conn } => write!(out, "AT+SQNSH={}", conn.get()),
            Command::Info { conn } => write!(out, "AT+SQNSI={}", conn.get()),
            Command::Status => write!(out, "AT+SQNSS"),
            Command::Registration => write!(out, "AT+CGATT?"),
            Command::NvWrite { private_key, index, size } => {
                let kind = if private_key { "privatekey" } else { "certificate" };
                write!(out, "AT+SQNSNVW=\"{kind}\",{index},{size}")
            }
            Command::SecurityProfile { sp, version, bare_ciphers, level, ca, cert, key } => {
                write!(out, "AT+SQNSPCFG={sp},{version},{},{level}", if bare_ciphers { "" } else { "\"\"" })?;
                for id in [ca, cert, key] {
                    match id {
                        Some(i) => write!(out, ",{i}")?,
                        None => write!(out, ",")?,
                    }
                }
                write!(out, ",\"\"")
            }
            Command::Clock => write!(out, "AT+CCLK?"),
            Command::SecureConfig { conn, enable, sp } => {
                write!(out, "AT+SQNSSCFG={},{},{sp}", conn.get(), u8::from(enable))
            }
            Command::DialTcpName { conn, host, port } => {
                write!(out, "AT+SQNSD={},0,{port},\"{}\",0,0,1", conn.get(), host.as_str())
            }
            Command::DnsLookup { host, version } => {
                write!(out, "AT+SQNDNSLKUP=\"{}\"", host.as_str())?;
                match version {
                    Some(v) => write!(out, ",{}", v as u8),
                    None => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::parse_socket_addr;

    fn text(cmd: Command<'_>) -> CommandText {
        let mut out = CommandText::new();
        cmd.write(&mut out).unwrap();
        out
    }

    #[test]
    fn conn_ids_are_1_to_6() {
        assert!(ConnId::new(0).is_none());
        assert!(ConnId::new(7).is_none());
        assert_eq!(ConnId::from_index(5).map(ConnId::get), Some(6));
        assert_eq!(ConnId::new(3).unwrap().index(), 2);
    }

    #[test]
    fn builds_every_command_in_spec_shape() {
        let c1 = ConnId::new(1).unwrap();
        let v6 = parse_socket_addr(b"2001:4860:4860::8888", 5683).unwrap();
        let v4 = parse_socket_addr(b"127.0.0.1", 7).unwrap();
        let host = HostName::parse(b"coap.me").unwrap();
        let cases: [(Command<'_>, &str); 13] = [
            (Command::NumericErrors, "AT+CMEE=1"),
            (Command::PlainErrors, "AT+CMEE=0"),
            (Command::SocketConfig { conn: c1, pdp_cid: 3 }, "AT+SQNSCFG=1,3,300,0,600,50"),
            (
                Command::SocketConfigExt { conn: c1, recv_hex: true, send_hex: true },
                "AT+SQNSCFGEXT=1,1,1,0,0,1",
            ),
            (
                Command::SocketConfigExt { conn: c1, recv_hex: false, send_hex: true },
                "AT+SQNSCFGEXT=1,1,0,0,0,1",
            ),
            (
                Command::Dial { conn: c1, peer: v6, local_port: 0 },
                "AT+SQNSD=1,1,5683,\"2001:4860:4860::8888\",0,0,1,0",
            ),
            (
                Command::Dial { conn: c1, peer: v4, local_port: 4000 },
                "AT+SQNSD=1,1,7,\"127.0.0.1\",0,4000,1,0",
            ),
            (Command::SendExt { conn: c1, len: 1500 }, "AT+SQNSSENDEXT=1,1500"),
            (Command::Receive { conn: c1, max: 1500 }, "AT+SQNSRECV=1,1500"),
            (Command::Close { conn: c1 }, "AT+SQNSH=1"),
            (Command::Info { conn: c1 }, "AT+SQNSI=1"),
            (Command::Status, "AT+SQNSS"),
            (
                Command::DnsLookup { host: &host, version: Some(IpVersion::V6) },
                "AT+SQNDNSLKUP=\"coap.me\",1",
            ),
        ];
        for (cmd, expected) in cases {
            assert_eq!(text(cmd).as_str(), expected);
        }
        assert_eq!(
            text(Command::DnsLookup { host: &host, version: None }).as_str(),
            "AT+SQNDNSLKUP=\"coap.me\""
        );
    }

    #[test]
    fn tcp_dial_in_command_mode() {
        let c2 = ConnId::new(2).unwrap();
        let v6 = parse_socket_addr(b"::1", 1883).unwrap();
        assert_eq!(text(Command::DialTcp { conn: c2, peer: v6 }).as_str(), "AT+SQNSD=2,0,1883,\"::1\",0,0,1");
        assert_eq!(Command::DialTcp { conn: c2, peer: v6 }.name(), b"SQNSD");
        assert_eq!(Command::DialTcp { conn: c2, peer: v6 }.timeout_ms(), 13_000);
        assert_eq!(text(Command::StreamSocketConfig { conn: c2, pdp_cid: 1 }).as_str(), "AT+SQNSCFG=2,1,300,0,80,50");
        assert_eq!(text(Command::Listen { conn: c2, port: 8080 }).as_str(), "AT+SQNSL=2,1,8080");
        assert_eq!(text(Command::Accept { conn: c2 }).as_str(), "AT+SQNSA=2,1");
    }

    #[test]
    fn udp_listen_command() {
        let c5 = ConnId::new(5).unwrap();
        assert_eq!(text(Command::ListenUdp { conn: c5, port: 5683 }).as_str(), "AT+SQNSLUDP=5,1,5683");
        assert_eq!(Command::ListenUdp { conn: c5, port: 5683 }.name(), b"SQNSLUDP");
    }

    #[test]
    fn secure_socket_commands() {
        let c3 = ConnId::new(3).unwrap();
        let host = HostName::parse(b"broker.example").unwrap();
        let cases: [(Command<'_>, &str); 6] = [
            (Command::NvWrite { private_key: false, index: 19, size: 1234 }, "AT+SQNSNVW=\"certificate\",19,1234"),
            (Command::NvWrite { private_key: true, index: 16, size: 0 }, "AT+SQNSNVW=\"privatekey\",16,0"),
            (
                Command::SecurityProfile { sp: 3, version: 2, bare_ciphers: false, level: 7, ca: Some(19), cert: None, key: None },
                "AT+SQNSPCFG=3,2,\"\",7,19,,,\"\"",
            ),
            (
                Command::SecurityProfile { sp: 1, version: 2, bare_ciphers: true, level: 0, ca: None, cert: Some(18), key: Some(17) },
                "AT+SQNSPCFG=1,2,,0,,18,17,\"\"",
            ),
            (Command::SecureConfig { conn: c3, enable: true, sp: 3 }, "AT+SQNSSCFG=3,1,3"),
            (Command::DialTcpName { conn: c3, host: &host, port: 8883 }, "AT+SQNSD=3,0,8883,\"broker.example\",0,0,1"),
        ];
        for (cmd, expected) in cases {
            assert_eq!(text(cmd).as_str(), expected);
        }
        assert!(Command::NvWrite { private_key: false, index: 1, size: 5 }.expects_prompt());
        assert!(!Command::NvWrite { private_key: false, index: 1, size: 0 }.expects_prompt());
    }

    #[test]
    fn longest_commands_fit() {
        let c6 = ConnId::new(6).unwrap();
        let peer =
            parse_socket_addr(b"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 65535).unwrap();
        let dial = text(Command::Dial { conn: c6, peer, local_port: 65535 });
        assert!(dial.len() <= 124, "dial must fit stock send_at_cmd: {}", dial.len());
        let mut long = [b'a'; 253];
        for i in (63..253).step_by(64) {
            long[i] = b'.';
        }
        let host = HostName::parse(&long).unwrap();
        let lookup = text(Command::DnsLookup { host: &host, version: Some(IpVersion::V4) });
        assert_eq!(lookup.len(), 253 + 18);
    }

    #[test]
    fn metadata_table() {
        let c1 = ConnId::new(1).unwrap();
        assert!(Command::SendExt { conn: c1, len: 1 }.expects_prompt());
        assert!(!Command::Receive { conn: c1, max: 1 }.expects_prompt());
        assert_eq!(Command::Receive { conn: c1, max: 1 }.name(), b"SQNSRECV");
        assert_eq!(Command::Status.timeout_ms(), 5_000);
    }
}
