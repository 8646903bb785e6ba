//! A blocking receive is run by the shim as operations of at most 200 ms, so other threads get
//! the modem in between. Together they keep one poll schedule: pauses grow from 10 to 100 ms
//! between empty reads and do not start again at each slice, so an idle socket costs at most
//! ten reads a second.

extern crate std;
use std::vec::Vec;

use super::{describe, dialled, happy};
use super::super::*;

/// Runs one receive of `timeout_ms` from `now` with nothing coming, each exchange taking
/// `exchange_ms`; returns the end time and the times of its reads.
fn receive_nothing(e: &mut Engine, h: Handle, timeout_ms: u32, mut now: u32, exchange_ms: u32) -> (u32, Vec<u32>, Vec<std::string::String>) {
    e.begin_recvfrom(h, Some(timeout_ms), now).unwrap();
    let mut reads = Vec::new();
    let mut log = Vec::new();
    let mut reply: Vec<u8> = Vec::new();
    loop {
        match e.step(&reply, now) {
            Step::Done(result) => {
                assert_eq!(result.map(|o| o.received), Err(Error::TimedOut));
                return (now, reads, log);
            }
            Step::Exchange(x) => {
                let line = describe(&x);
                if x.kind == ExchangeKind::Sleep {
                    now += x.timeout_ms;
                } else {
                    now += exchange_ms;
                }
                if line.starts_with("C AT+SQNSRECV") {
                    reads.push(now);
                }
                reply = happy(&line);
                log.push(line);
            }
        }
    }
}

/// Runs receive slices of `slice_ms` for `total_ms` on the modelled clock, each exchange taking
/// `exchange_ms`; returns the times of the reads.
fn idle_receive(slice_ms: u32, total_ms: u32, exchange_ms: u32) -> Vec<u32> {
    let (mut e, h, _) = dialled();
    let mut now = 10_000u32;
    let end = now + total_ms;
    let mut reads = Vec::new();
    while now < end {
        let (after, mut more, _) = receive_nothing(&mut e, h, slice_ms.min(end - now), now, exchange_ms);
        now = after;
        reads.append(&mut more);
    }
    reads
}

#[test]
fn an_idle_blocking_receive_in_200_ms_slices_reads_at_most_ten_times_a_second() {
    let reads = idle_receive(200, 2_000, 0);
    // 10, 20, 40, 80 ms pauses, then 100 ms: 4 reads in the first 150 ms, then one per 100 ms.
    assert!(reads.len() <= 2 * 10 + 5, "{} reads in 2 s: {reads:?}", reads.len());
    // No two reads closer than the schedule allows once it reached its longest pause.
    let late: Vec<u32> = reads.iter().copied().filter(|&t| t > 10_000 + 400).collect();
    for pair in late.windows(2) {
        assert!(pair[1] - pair[0] >= 100, "reads {} ms apart: {reads:?}", pair[1] - pair[0]);
    }
}

#[test]
fn a_new_receive_after_a_pause_in_receiving_polls_quickly_again() {
    let (mut e, h, _) = dialled();
    let (end, _, _) = receive_nothing(&mut e, h, 1_000, 0, 0);
    // Much later (a request sent, its answer awaited): the first pauses are short again.
    let (_, _, log) = receive_nothing(&mut e, h, 100, end + 60_000, 0);
    assert_eq!(log.get(..3), Some(&["C AT+SQNSRECV=1,1500".into(), "S 10".into(), "C AT+SQNSRECV=1,1500".into()][..]), "{log:?}");
}

#[test]
fn slices_with_slow_exchanges_keep_the_schedule_too() {
    // Each read costs 34 ms of modem time (stock firmware): still at most ten a second.
    let reads = idle_receive(200, 2_000, 34);
    assert!(reads.len() <= 2 * 10 + 5, "{} reads in 2 s: {reads:?}", reads.len());
}

#[test]
fn a_send_between_receives_makes_the_next_one_poll_quickly() {
    let (mut e, h, mut log) = dialled();
    let (end, _, _) = receive_nothing(&mut e, h, 1_000, 0, 0);
    super::sendto(&mut e, h, b"again", super::peer(), &mut log).unwrap();
    let (_, _, log) = receive_nothing(&mut e, h, 100, end, 0);
    assert_eq!(log.get(..3), Some(&["C AT+SQNSRECV=1,1500".into(), "S 10".into(), "C AT+SQNSRECV=1,1500".into()][..]), "{log:?}");
}

#[test]
fn a_non_blocking_read_right_after_a_timed_out_receive_asks_the_modem() {
    let (mut e, h, _) = dialled();
    let (end, _, _) = receive_nothing(&mut e, h, 200, 0, 0);
    e.begin_recvfrom(h, Some(0), end + 1).unwrap();
    let Step::Exchange(x) = e.step(&[], end + 1) else { panic!("no read") };
    assert_eq!(describe(&x), "C AT+SQNSRECV=1,1500");
}
