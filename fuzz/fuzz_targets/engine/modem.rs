//! The modem's side: answers a Monarch really gives (taken from the simulator and the unit
//! tests), addressed to the connId of the command they answer, so the fuzzer reaches deep
//! paths at once; the script mixes them with raw bytes.

use std::net::IpAddr;

use crate::dns_answer;

/// What an answer may refer to.
pub struct Context<'a> {
    /// connId of the command being answered.
    pub conn: u8,
    pub recv_hex: bool,
    /// The last payload sent, decoded (a DNS query on the resolver's fallback path).
    pub last_payload: &'a [u8],
}

pub const TEMPLATES: u8 = 28;

/// Answer number `index` (modulo [`TEMPLATES`]).
pub fn template(index: u8, cx: &Context<'_>) -> Vec<u8> {
    let c = cx.conn;
    let other = c % 6 + 1;
    let text = match index % TEMPLATES {
        0 => "\r\nOK\r\n".to_string(),
        1 => "\r\nERROR\r\n".to_string(),
        2 => "\r\n+CME ERROR: 3\r\n".to_string(),
        3 => "\r\n> ".to_string(),
        4 => "\r\nNO CARRIER\r\n".to_string(),
        5 => "\r\nCONNECT\r\n".to_string(),
        6 => format!("\r\n+SQNSRECV: {c},0\r\n\r\nOK\r\n"),
        7 => return received(c, b"ABC", cx.recv_hex, true),
        // The firmware cut the answer at a NUL: no final code.
        8 => return received(c, b"ABC", cx.recv_hex, false),
        9 => return received(c, &[0x5a; 1500], cx.recv_hex, true),
        10 => return received(other, b"XY", cx.recv_hex, true),
        11 => format!("\r\n+SQNSRING: {c},3\r\n"),
        12 => format!("\r\n+SQNSRING: {other},20\r\n"),
        13 => format!("\r\n+SQNSH: {c}\r\n"),
        14 => "\r\n+SYSSTART\r\n".to_string(),
        15 => format!(
            "\r\n+SQNSS: 1,0\r\n+SQNSS: {c},2,\"::1\",7,\"::1\",9\r\n+SQNSS: {other},1,\"127.0.0.1\",5000,\"127.0.0.1\",7\r\n\r\nOK\r\n"
        ),
        16 => "\r\n+SQNDNSLKUP: a.test,2001:db8::1,192.0.2.1\r\n\r\nOK\r\n".to_string(),
        17 => "\r\n+SQNDNSLKUP: \"a.test\",\"32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.1\",\"10.0.0.1\"\r\n\r\nOK\r\n".to_string(),
        18 => format!("\r\n+SQNSI: {c},10,10,3,0\r\n\r\nOK\r\n"),
        19 => format!("\r\n+SQNSI: {c},10,10,0,0\r\n\r\nOK\r\n"),
        20 => return dns_reply(cx, 0, false),
        21 => return dns_reply(cx, 0, true),
        22 => return dns_reply(cx, 3, false),
        23 => String::new(),
        24 => "\r\n+CME ERROR: 4\r\n".to_string(),
        25 => "\r\n+CEREG: 1\r\n".to_string(),
        26 => "\r\n^EXIT 0x00000001\r\n".to_string(),
        _ => "\r\n+SHUTDOWN\r\n".to_string(),
    };
    text.into_bytes()
}

/// `+SQNSRECV: <conn>,<n>` and the data in the configured mode, with or without its `OK`.
fn received(conn: u8, data: &[u8], hex: bool, with_ok: bool) -> Vec<u8> {
    let mut out = format!("\r\n+SQNSRECV: {conn},{}\r\n", data.len()).into_bytes();
    if hex {
        out.extend(data.iter().flat_map(|b| format!("{b:02X}").into_bytes()));
    } else {
        out.extend_from_slice(data);
    }
    out.extend_from_slice(b"\r\n");
    if with_ok {
        out.extend_from_slice(b"\r\nOK\r\n");
    }
    out
}

/// A DNS server's answer to the last query sent, as the modem hands it to `AT+SQNSRECV`.
fn dns_reply(cx: &Context<'_>, rcode: u8, cname: bool) -> Vec<u8> {
    let addresses: [IpAddr; 2] = [[192, 0, 2, 7].into(), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 7].into()];
    let message = dns_answer::answer(cx.last_payload, rcode, cname, &addresses);
    received(cx.conn, &message, cx.recv_hex, true)
}
