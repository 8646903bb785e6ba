//! Addresses as text: parse and format.

use super::{mas_addr, slice_arg, MAS_EINVAL};

/// Parses dotted IPv4 or textual IPv6 (`len` bytes, no NUL needed) with `port`.
/// 0, or `MAS_EINVAL` for anything else (host names, brackets, zones, junk).
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_addr_parse(text: *const cty::c_char, len: usize, port: u16, out: *mut mas_addr) -> i32 {
    if out.is_null() {
        return MAS_EINVAL;
    }
    // Safety: the caller passes `len` readable bytes at `text` (NULL only with 0).
    let Some(text) = (unsafe { slice_arg(text.cast::<u8>(), len) }) else { return MAS_EINVAL };
    match crate::addr::parse_socket_addr(text, port) {
        Some(addr) => {
            // Safety: checked non-NULL above.
            unsafe { out.write(mas_addr::from_socket_addr(addr)) };
            0
        }
        None => MAS_EINVAL,
    }
}

/// Writes the IP of `addr` as text (no NUL) into `buf`; returns its length, 0 if it does not
/// fit or `addr` is invalid.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_addr_format(addr: *const mas_addr, buf: *mut cty::c_char, cap: usize) -> usize {
    // Safety: NULL is checked; otherwise the caller passes a valid `mas_addr`.
    let Some(addr) = (unsafe { addr.as_ref() }).and_then(|a| a.to_socket_addr()) else { return 0 };
    if buf.is_null() {
        return 0;
    }
    let text = crate::addr::format_ip(&addr.ip());
    if text.len() > cap {
        return 0;
    }
    // Safety: `buf` is non-NULL with `cap` writable bytes, and `text.len() <= cap`.
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len()) };
    text.len()
}
