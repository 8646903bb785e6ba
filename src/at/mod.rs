//! The AT wire format: command builders ([`command`]) and the reply/URC digester ([`digest`]).

pub mod command;
pub mod digest;
pub mod fields;

pub use command::{Command, ConnId, CONN_IDS};
pub use digest::{digest, Event, Final, Pending, Urc};
