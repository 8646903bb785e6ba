//! microATsocket core: UDP and TCP sockets, listeners and TLS in the modem, over the Sequans
//! Monarch socket AT commands.
//!
//! The crate is sans-IO: the [`engine::Engine`] never performs I/O. It hands out the next
//! modem exchange (an AT command, a payload, a wait) and digests the modem's answer that the
//! caller feeds back. The C shim in `c_glue/` performs the exchanges through Pycom's
//! `LTE.send_at_cmd`, so no Rust frame is ever on the stack when MicroPython raises.
//!
//! Everything is fixed-capacity (heapless); nothing allocates. The only `unsafe` code and the
//! only `extern "C"` functions live in [`ffi`].
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

#[cfg(feature = "std")]
extern crate std;

pub mod addr;
pub mod dns;
pub mod at;
pub mod engine;
pub mod error;
pub mod ffi;
pub mod hex;
pub mod hostname;
pub mod limits;
pub mod payload;
pub mod pem;
pub mod socket;
pub mod tls_store;

/// Largest UDP payload the modem accepts in one `AT+SQNSSENDEXT` or returns in one `AT+SQNSRECV`.
pub const MAX_DATAGRAM: usize = 1500;

/// Firmware builds have no unwinder: a panic (unreachable by design, see the clippy denials
/// above) stops the core in a loop rather than unwinding into C.
#[cfg(all(not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}
