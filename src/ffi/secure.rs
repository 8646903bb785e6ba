//! TLS in the modem: credentials (check, fingerprint, write) and the secure re-dial.

use super::trace::{Peer, Text};
use super::{errno_of, mas_addr, mas_handle, slice_arg, status, with_engine, MAS_EALREADY, MAS_EINVAL, MAS_EMSGSIZE};
use crate::socket::Handle;

/// certValidLevel values `mas_secure.level` takes (LR5 reading): none; the CA and the dates;
/// the CA, the dates and the host name.
pub const MAS_TLS_LEVEL_NONE: u8 = 0;
pub const MAS_TLS_LEVEL_CA_AND_DATES: u8 = 3;
pub const MAS_TLS_LEVEL_CA_DATES_AND_NAME: u8 = 7;
const _: () = assert!(
    MAS_TLS_LEVEL_NONE == crate::engine::secure::LEVEL_NONE
        && MAS_TLS_LEVEL_CA_AND_DATES == crate::engine::secure::LEVEL_CA_AND_DATES
        && MAS_TLS_LEVEL_CA_DATES_AND_NAME == crate::engine::secure::LEVEL_CA_DATES_AND_NAME
);

/// What a secure stream asks of the modem (see `engine::secure`). Slots are -1 when absent.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mas_secure {
    /// certValidLevel as on LR5: 0 none, 3 CA and dates, 7 CA, dates and host name.
    pub level: u8,
    pub ca_slot: i16,
    pub cert_slot: i16,
    pub key_slot: i16,
}

fn slot_of(value: i16) -> Result<Option<u8>, ()> {
    match value {
        -1 => Ok(None),
        0..=19 => u8::try_from(value).map(Some).map_err(|_| ()),
        _ => Err(()),
    }
}

/// Whether `pem` (`len` bytes, LF line ends) is a credential the modem can store: 0, or
/// `MAS_EINVAL` (not PEM text) / `MAS_EMSGSIZE` (over 8 KiB, 2 KiB for a key).
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_cred_check(pem: *const u8, len: usize, private_key: bool) -> i32 {
    // Safety: the caller passes `len` readable bytes at `pem` (NULL only with 0).
    let Some(pem) = (unsafe { slice_arg(pem, len) }) else { return MAS_EINVAL };
    status(crate::engine::secure::check_pem(pem, private_key).map(|_| ()))
}

/// SHA-256 of the credential's kind and bytes, into `out` (32 bytes): the fingerprint the
/// shim keeps to write a credential only when it differs from what the modem holds.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_cred_fingerprint(pem: *const u8, len: usize, private_key: bool, out: *mut u8) -> i32 {
    use sha2::Digest;
    // Safety: the caller passes `len` readable bytes at `pem` (NULL only with 0).
    let Some(pem) = (unsafe { slice_arg(pem, len) }) else { return MAS_EINVAL };
    if out.is_null() {
        return MAS_EINVAL;
    }
    let mut hash = sha2::Sha256::new();
    hash.update([u8::from(private_key)]);
    hash.update(pem);
    let digest = hash.finalize();
    // Safety: non-NULL, and the caller passes 32 writable bytes.
    unsafe { core::ptr::copy_nonoverlapping(digest.as_ptr(), out, 32) };
    0
}

/// Starts `AT+SQNSNVW` for a certificate or private key of `size` bytes into `index` (0..19);
/// size 0 deletes. The operation ends at the modem's prompt; the PEM follows with
/// `mas_cred_piece_begin`.
/// `lf_terminator`: the transport ends every write with CR LF (firmware 1.18): what an
/// abandoned upload's filler must count.
#[no_mangle]
pub extern "C" fn mas_cred_write_begin(private_key: bool, index: u8, size: u16, lf_terminator: bool) -> i32 {
    traced!(
        with_engine(MAS_EALREADY, |e| status(e.begin_cred_upload(private_key, index, size, lf_terminator))),
        "cred_write key={} index={index} size={size} lf={}",
        u8::from(private_key),
        u8::from(lf_terminator)
    )
}

/// Whether `pem` can be written in pieces on the configured transport (every line within one
/// write): 0 or `MAS_EMSGSIZE`. Checked before `AT+SQNSNVW`, so nothing is refused after the
/// modem's prompt.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_cred_pieces_check(pem: *const u8, len: usize, lf_terminator: bool) -> i32 {
    // Safety: the caller passes `len` readable bytes at `pem` (NULL only with 0).
    let Some(pem) = (unsafe { slice_arg(pem, len) }) else { return MAS_EINVAL };
    with_engine(MAS_EALREADY, |e| status(e.check_cred_pieces(pem, lf_terminator)))
}

/// Forgets every security profile written (after a modem factory reset): each is written
/// again before its next dial.
#[no_mangle]
pub extern "C" fn mas_secure_forget() -> i32 {
    traced!(
        with_engine(MAS_EALREADY, |e| {
            e.forget_security_profiles();
            0
        }),
        "secure_forget"
    )
}

/// The PEM text of DER bytes (certificates back to back, or one private key) into `out`
/// (`cap` bytes); `out` NULL asks for the length needed. The length, or `-MAS_EINVAL` (not
/// DER), `-MAS_EMSGSIZE` (`cap` too small).
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_cred_der_to_pem(der: *const u8, len: usize, private_key: bool, out: *mut u8, cap: usize) -> isize {
    // Safety: the caller passes `len` readable bytes at `der` (NULL only with 0).
    let Some(der) = (unsafe { slice_arg(der, len) }) else { return -(MAS_EINVAL as isize) };
    let out = if out.is_null() {
        None
    } else {
        // Safety: non-NULL, and the caller passes `cap` writable bytes.
        Some(unsafe { core::slice::from_raw_parts_mut(out, cap) })
    };
    match crate::pem::der_to_pem(der, private_key, out) {
        Ok(n) => isize::try_from(n).unwrap_or(-(MAS_EMSGSIZE as isize)),
        Err(error) => -(errno_of(error) as isize),
    }
}

/// Whether `data` is DER (a certificate or key as bytes) rather than PEM text.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_cred_is_der(data: *const u8, len: usize) -> bool {
    // Safety: the caller passes `len` readable bytes at `data` (NULL only with 0).
    unsafe { slice_arg(data, len) }.is_some_and(crate::pem::is_der)
}


/// Starts writing the next piece of the PEM after the prompt: `rest` is what is left of it;
/// `*taken` is set to how much of it this piece uses. The piece that uses all of `rest` is
/// the last and ends with the modem's verdict (`MAS_EIO` when it refuses the PEM).
/// `lf_terminator`: the transport ends every write with CR LF (firmware 1.18).
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_cred_piece_begin(rest: *const u8, len: usize, lf_terminator: bool, taken: *mut usize) -> i32 {
    // Safety: the caller passes `len` readable bytes at `rest` (NULL only with 0).
    let Some(rest) = (unsafe { slice_arg(rest, len) }) else { return MAS_EINVAL };
    if taken.is_null() || rest.is_empty() {
        return MAS_EINVAL;
    }
    let result = with_engine(MAS_EALREADY, |e| match e.begin_cred_piece(rest, lf_terminator) {
        Ok(n) => {
            // Safety: checked non-NULL above.
            unsafe { taken.write(n) };
            0
        }
        Err(error) => errno_of(error),
    });
    // Safety: checked non-NULL above; written when `result` is 0.
    traced!(
        result,
        "cred_piece len={len} lf={} taken={}",
        u8::from(lf_terminator),
        if result == 0 { unsafe { taken.read() } } else { 0 }
    )
}

/// Starts re-dialling the stream `handle` with TLS to `peer`, by the host name `host` (`len`
/// bytes; NULL to dial the address) with the verification and credentials of `params`. The
/// operation ends with `MAS_ECONNABORTED` when the handshake fails, `MAS_EAGAIN` when the
/// certificate dates are to be checked and the modem's clock is not set; the stream is then not
/// connected and should be closed.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_secure_connect_begin(
    handle: mas_handle,
    peer: *const mas_addr,
    host: *const cty::c_char,
    len: usize,
    params: *const mas_secure,
) -> i32 {
    // Safety: NULL is checked; otherwise the caller passes a valid `mas_addr`.
    let Some(peer) = (unsafe { peer.as_ref() }).and_then(|p| p.to_socket_addr()) else {
        return MAS_EINVAL;
    };
    // Safety: NULL is checked; otherwise the caller passes a valid `mas_secure`.
    let Some(p) = (unsafe { params.as_ref() }) else { return MAS_EINVAL };
    let host = if host.is_null() {
        None
    } else {
        // Safety: the caller passes `len` readable bytes at `host`.
        match unsafe { slice_arg(host.cast::<u8>(), len) } {
            Some(h) => Some(h),
            None => return MAS_EINVAL,
        }
    };
    let (Ok(ca), Ok(cert), Ok(key)) = (slot_of(p.ca_slot), slot_of(p.cert_slot), slot_of(p.key_slot)) else {
        return MAS_EINVAL;
    };
    let params = crate::engine::secure::SecureParams { level: p.level, ca, cert, key };
    traced!(
        with_engine(MAS_EALREADY, |e| status(e.begin_secure_connect(Handle(handle), peer, host, params))),
        "secure_connect h={handle} peer={} host={} level={} ca={} cert={} key={}",
        Peer(Some(peer)),
        host.map_or(Text(b"-"), Text),
        p.level,
        p.ca_slot,
        p.cert_slot,
        p.key_slot
    )
}
