//! Host names: the modem's resolver, then a DNS query of our own.

use core::net::SocketAddr;

use super::trace::{Peer, Text};
use super::{mas_addr, slice_arg, status, with_engine, MAS_EALREADY, MAS_EINVAL};

/// Most addresses one resolve returns.
pub const MAS_MAX_ADDRESSES: usize = 4;
const _: () = assert!(MAS_MAX_ADDRESSES == crate::dns::MAX_ADDRESSES);

/// What [`resolve_args`] gives: the name, the record type, the server.
type ResolveArgs<'a> = (&'a [u8], Option<crate::dns::RecordType>, Option<SocketAddr>);

/// The arguments both resolve calls take, checked: the name, the record type for `family`
/// (4 or 6; `None` for 0, both families) and the server (`None` for NULL).
///
/// # Safety
/// As for the callers.
unsafe fn resolve_args<'a>(
    host: *const cty::c_char,
    len: usize,
    family: u8,
    server: *const mas_addr,
) -> Result<ResolveArgs<'a>, i32> {
    // Safety: the caller passes `len` readable bytes at `host` (NULL only with 0).
    let host = (unsafe { slice_arg(host.cast::<u8>(), len) }).ok_or(MAS_EINVAL)?;
    let kind = match family {
        4 => Some(crate::dns::RecordType::A),
        6 => Some(crate::dns::RecordType::Aaaa),
        0 => None,
        _ => return Err(MAS_EINVAL),
    };
    let server = if server.is_null() {
        None
    } else {
        // Safety: non-NULL, so the caller passes a valid `mas_addr`.
        Some(unsafe { &*server }.to_socket_addr().ok_or(MAS_EINVAL)?)
    };
    Ok((host, kind, server))
}

/// Starts resolving the host name `host` (`len` bytes) to IPv4 (`family` 4) or IPv6 (6)
/// addresses: the modem's resolver first, then, if `server` is not NULL, a DNS query to it over
/// a modem socket borrowed for the lookup. `query_id` should be random. `MAS_EINVAL` for a
/// name that is not a valid DNS name (nothing reaches the modem); the operation ends with
/// `MAS_ENONAME` when no address is found, `MAS_EMSGSIZE` when the name fits neither the
/// modem's command nor a query the transport can carry.
///
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_resolve_begin(
    host: *const cty::c_char,
    len: usize,
    family: u8,
    server: *const mas_addr,
    query_id: u16,
) -> i32 {
    // Safety: as documented above, passed on.
    match unsafe { resolve_args(host, len, family, server) } {
        Ok((_, None, _)) => MAS_EINVAL,
        Ok((host, Some(kind), server)) => traced!(
            with_engine(MAS_EALREADY, |e| status(e.begin_resolve(host, kind, server, query_id))),
            "resolve host={} family={family} server={} id={query_id}",
            Text(host),
            Peer(server)
        ),
        Err(code) => code,
    }
}

/// Starts our own DNS query for `host` to `server` (over a borrowed modem socket) without
/// asking the modem's resolver first: for a caller that already asked it for every family it
/// needs. `family` 0 asks for both: the AAAA and the A query go back to back over the one
/// socket (IDs `query_id` and `query_id + 1`), the outcome lists IPv6 addresses first and
/// succeeds when either family has one. `server` must not be NULL. `MAS_EMSGSIZE` at the end
/// when the query does not fit the transport.
///
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_resolve_own_begin(
    host: *const cty::c_char,
    len: usize,
    family: u8,
    server: *const mas_addr,
    query_id: u16,
) -> i32 {
    // Safety: as documented above, passed on.
    match unsafe { resolve_args(host, len, family, server) } {
        Ok((host, kind, Some(server))) => {
            traced!(
                with_engine(MAS_EALREADY, |e| status(match kind {
                    Some(kind) => e.begin_resolve_own(host, kind, server, query_id),
                    None => e.begin_resolve_own_both(host, server, query_id),
                })),
                "resolve_own host={} family={family} server={} id={query_id}",
                Text(host),
                Peer(Some(server))
            )
        }
        Ok((_, _, None)) => MAS_EINVAL,
        Err(code) => code,
    }
}
