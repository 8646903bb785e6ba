//! Engine tests against scripted modem replies, one file per kind of operation.

mod abort;
mod datagram;
mod poll_schedule;
mod remote_bytes;
mod secure;
mod stream;
