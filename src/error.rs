//! The one error type of the core. `ffi::errno_of` maps it to an errno, in one place.

/// Why an operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The handle is closed, stale (its slot was reused) or never existed.
    BadHandle,
    /// All six modem connIds are taken.
    NoFreeSlot,
    /// The datagram is larger than this transport can carry.
    MessageTooLong,
    /// The socket has no peer yet (receive before send/connect, or send without address).
    NotConnected,
    /// The socket timeout, or a command's own budget, ran out.
    TimedOut,
    /// Non-blocking socket and nothing to read.
    WouldBlock,
    /// The modem answered `ERROR` / `+CME ERROR` (code kept in `Engine::last_cme`).
    Modem,
    /// The modem could not reach the peer (`NO CARRIER` on dial).
    HostUnreachable,
    /// An argument the shim should have refused (bad limits, bad address family).
    InvalidArgument,
    /// Another operation is in progress on the engine.
    Busy,
    /// No address for the name (no such name, no record of the family, or the resolver failed).
    NameNotFound,
    /// The operation needed more exchanges than any correct modem conversation does:
    /// the modem keeps contradicting itself (e.g. reboots in a loop).
    TooManyExchanges,
    /// Stream dial: the peer refused (`NO CARRIER`).
    ConnectionRefused,
    /// The stream died with a modem reboot or a reset: it cannot be recovered.
    ConnectionReset,
    /// Send on a stream the modem has closed (the peer closed it, or the network did).
    BrokenPipe,
    /// Connect on a stream that is already connected (or was, and ended).
    IsConnected,
    /// `listen`: the modem refused (the port is taken, or the connId is busy).
    AddressInUse,
    /// The operation is not one this kind of socket has (e.g. `sendto` on a stream).
    WrongKind,
    /// A secure dial ended in `NO CARRIER`: the TLS handshake (or the TCP connection under
    /// it) failed. The modem does not say why (untrusted, expired, wrong name, no cipher).
    TlsHandshake,
    /// `sendto` on a UDP server socket to an address other than the sender of the last
    /// datagram it read (the modem answers only that one), or after a datagram whose sender
    /// the modem did not report.
    NotLastSender,
    /// The modem's clock is not set (`AT+CCLK?` reads a year before 2020): certificate dates
    /// cannot be checked until the network sets it.
    ClockNotSet,
}
