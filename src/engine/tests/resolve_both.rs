//! Both families over one borrowed socket: the AAAA and the A query back to back, the
//! answers read as they come (in either order), and only unanswered queries sent again.

extern crate std;
use std::collections::VecDeque;
use std::string::String;
use std::vec::Vec;

use super::*;

fn dns_server() -> SocketAddr {
    parse_socket_addr(b"::1", 53).unwrap()
}

fn ip(text: &str) -> core::net::IpAddr {
    crate::addr::parse_ip(text.as_bytes()).unwrap()
}

/// How the test's DNS server treats the queries it receives, in the order they arrive.
#[derive(Clone, Copy, PartialEq)]
enum Fate {
    /// Answered with one address of the asked type (and this TTL).
    Answer(u32),
    /// Answered with no record (NOERROR, no address of that type).
    NoAddress,
    /// Never answered.
    Lost,
    /// Answered with an address, but only when the second query after it arrives (in the
    /// next round, when the queries go in pairs).
    Late,
}

/// A modem whose UDP socket reaches a DNS server: each query written (a `P` line) gets the
/// next fate from `fates` (answered while there are none left); answers wait in the modem
/// until read, in arrival order or reversed (`reverse`).
struct Server {
    fates: VecDeque<Fate>,
    waiting: VecDeque<Vec<u8>>,
    late: Option<(Vec<u8>, u8)>,
    reverse: bool,
    queries: usize,
}

impl Server {
    fn new(fates: &[Fate], reverse: bool) -> Self {
        Server { fates: fates.iter().copied().collect(), waiting: VecDeque::new(), late: None, reverse, queries: 0 }
    }

    fn answer(query: &[u8], fate: Fate) -> Option<Vec<u8>> {
        let mut msg = query.to_vec();
        msg[2] = 0x81;
        msg[3] = 0x80;
        let qtype = u16::from_be_bytes([query[query.len() - 4], query[query.len() - 3]]);
        match fate {
            Fate::Lost => return None,
            Fate::NoAddress => {}
            Fate::Answer(_) | Fate::Late => {
                let ttl = if let Fate::Answer(ttl) = fate { ttl } else { 60 };
                msg[7] = 1;
                let rdata: &[u8] = if qtype == 28 { &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10] } else { &[192, 0, 2, 10] };
                msg.extend_from_slice(&[0xC0, 0x0C]);
                msg.extend_from_slice(&qtype.to_be_bytes());
                msg.extend_from_slice(&[0, 1]);
                msg.extend_from_slice(&ttl.to_be_bytes());
                msg.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
                msg.extend_from_slice(rdata);
            }
        }
        Some(msg)
    }

    fn reply(&mut self, line: &str) -> Vec<u8> {
        if let Some(hex) = line.strip_prefix("P ") {
            let mut query = std::vec![0u8; hex.len() / 2];
            crate::hex::decode(hex.as_bytes(), &mut query).unwrap();
            self.queries += 1;
            match self.late.take() {
                Some((msg, 0)) => self.waiting.push_back(msg),
                Some((msg, n)) => self.late = Some((msg, n - 1)),
                None => {}
            }
            let fate = self.fates.pop_front().unwrap_or(Fate::Answer(60));
            if fate == Fate::Late {
                self.late = Self::answer(&query, fate).map(|msg| (msg, 1));
            } else if let Some(msg) = Self::answer(&query, fate) {
                if self.reverse {
                    self.waiting.push_front(msg);
                } else {
                    self.waiting.push_back(msg);
                }
            }
        }
        if line.starts_with("C AT+SQNSRECV") {
            let Some(msg) = self.waiting.pop_front() else {
                return b"\r\n+SQNSRECV: 1,0\r\n\r\nOK\r\n".to_vec();
            };
            let mut hex = std::vec![0u8; msg.len() * 2];
            crate::hex::encode(&msg, &mut hex).unwrap();
            return std::format!("\r\n+SQNSRECV: 1,{}\r\n{}\r\n\r\nOK\r\n", msg.len(), String::from_utf8(hex).unwrap())
                .into_bytes();
        }
        happy(line)
    }
}

fn resolve_both(server: &mut Server, log: &mut Log) -> (Result<Outcome, Error>, Engine) {
    let mut e = Engine::new();
    e.begin_resolve_own_both(b"both.test", dns_server(), 0x1000).unwrap();
    let result = drive(&mut e, |l| server.reply(l), log);
    (result, e)
}

/// The log without pauses, as command names and `P` for payloads.
fn commands(log: &Log) -> Vec<&str> {
    fn name(line: &str) -> &str {
        if line.starts_with("P ") { "P" } else { line.split(' ').nth(1).unwrap_or("") }
    }
    log.iter().filter(|l| !l.starts_with("S ")).map(|l| name(l)).collect()
}

#[test]
fn both_queries_go_back_to_back_over_one_socket() {
    let mut server = Server::new(&[], false);
    let mut log = Log::new();
    let (result, e) = resolve_both(&mut server, &mut log);
    assert_eq!(result.map(|o| o.resolved), Ok(2));
    assert_eq!(e.addresses(), [ip("2001:db8::10"), ip("192.0.2.10")]);
    // One socket: data modes set (its socket settings do not matter to a short command-mode
    // UDP exchange), dialled, two sends, two reads, closed. No pause between reads.
    assert_eq!(
        commands(&log),
        [
            "AT+CMEE=1",
            "AT+SQNSCFGEXT=1,1,1,0,0,1",
            "AT+SQNSD=1,1,53,\"::1\",0,0,1,0",
            "AT+SQNSSENDEXT=1,27",
            "P",
            "AT+SQNSSENDEXT=1,27",
            "P",
            "AT+SQNSRECV=1,1500",
            "AT+SQNSRECV=1,1500",
            "AT+SQNSH=1",
        ],
        "{log:?}"
    );
    assert_eq!(server.queries, 2);
    assert_eq!(e.slots_in_use(), 0);
}

#[test]
fn the_next_user_of_the_resolver_connid_still_writes_its_socket_settings() {
    let mut server = Server::new(&[], false);
    let mut log = Log::new();
    let (result, mut e) = resolve_both(&mut server, &mut log);
    assert_eq!(result.map(|o| o.resolved), Ok(2));
    log.clear();
    let h = e.open().unwrap();
    sendto(&mut e, h, b"x", peer(), &mut log).unwrap();
    assert!(log.iter().any(|l| l == "C AT+SQNSCFG=1,1,300,0,600,50"), "{log:?}");
}

#[test]
fn the_a_answer_first_still_lists_ipv6_first() {
    let mut server = Server::new(&[Fate::Answer(300), Fate::Answer(30)], true);
    let mut log = Log::new();
    let (result, e) = resolve_both(&mut server, &mut log);
    assert_eq!(result.map(|o| o.resolved), Ok(2));
    assert_eq!(e.addresses(), [ip("2001:db8::10"), ip("192.0.2.10")]);
    assert_eq!(e.answer_ttl_s(), Some(30), "the shorter TTL of the two answers");
}

#[test]
fn only_the_unanswered_query_is_sent_again() {
    // The A query's answer is lost once: the second round sends the A query alone.
    let mut server = Server::new(&[Fate::Answer(60), Fate::Lost], false);
    let mut log = Log::new();
    let (result, e) = resolve_both(&mut server, &mut log);
    assert_eq!(result.map(|o| o.resolved), Ok(2));
    assert_eq!(server.queries, 3);
    let queries: Vec<&String> = log.iter().filter(|l| l.starts_with("P ")).collect();
    assert_eq!(queries[1], queries[2], "the A query again, same ID: {log:?}");
    assert_eq!(e.addresses(), [ip("2001:db8::10"), ip("192.0.2.10")]);
}

#[test]
fn one_family_with_an_address_is_enough() {
    let mut server = Server::new(&[Fate::NoAddress, Fate::Answer(60)], false);
    let mut log = Log::new();
    let (result, e) = resolve_both(&mut server, &mut log);
    assert_eq!(result.map(|o| o.resolved), Ok(1));
    assert_eq!(e.addresses(), [ip("192.0.2.10")]);
}

#[test]
fn no_address_in_either_family_is_name_not_found() {
    let mut server = Server::new(&[Fate::NoAddress, Fate::NoAddress], false);
    let mut log = Log::new();
    let (result, e) = resolve_both(&mut server, &mut log);
    assert_eq!(result, Err(Error::NameNotFound));
    assert_eq!(e.slots_in_use(), 0);
}

#[test]
fn unanswered_rounds_time_out_after_three() {
    let mut server = Server::new(&[Fate::Lost; 6], false);
    let mut log = Log::new();
    let (result, e) = resolve_both(&mut server, &mut log);
    assert_eq!(result, Err(Error::TimedOut));
    assert_eq!(server.queries, 6, "three rounds of two");
    assert_eq!(log.last().map(String::as_str), Some("C AT+SQNSH=1"));
    assert_eq!(e.slots_in_use(), 0);
}

#[test]
fn an_answered_family_survives_the_other_timing_out() {
    // AAAA answered at once; the A query never: after three rounds the IPv6 address stands.
    let mut server = Server::new(&[Fate::Answer(60), Fate::Lost, Fate::Lost, Fate::Lost], false);
    let mut log = Log::new();
    let (result, e) = resolve_both(&mut server, &mut log);
    assert_eq!(result.map(|o| o.resolved), Ok(1));
    assert_eq!(server.queries, 4);
    assert_eq!(e.addresses(), [ip("2001:db8::10")]);
}

#[test]
fn a_late_duplicate_answer_is_not_counted_twice() {
    // The first AAAA answer comes only after the round timed out and both queries went again:
    // two AAAA answers then wait before the A answer. The second is for a query already
    // answered and adds nothing.
    let mut server = Server::new(&[Fate::Late, Fate::Lost, Fate::Answer(60), Fate::Answer(60)], false);
    let mut log = Log::new();
    let (result, e) = resolve_both(&mut server, &mut log);
    assert_eq!(result.map(|o| o.resolved), Ok(2));
    assert_eq!(server.queries, 4);
    assert!(log.iter().filter(|l| l.starts_with("C AT+SQNSRECV")).count() >= 3, "{log:?}");
    assert_eq!(e.addresses(), [ip("2001:db8::10"), ip("192.0.2.10")]);
}
