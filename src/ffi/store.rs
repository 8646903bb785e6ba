//! The TLS fingerprint store (`crate::tls_store`): a static store beside the engine, and the
//! calls the shim makes for each wrap (claim, written, rewrite, confirm, release), the file's
//! text in and out, and the retry rule after a secure dial.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use super::{slice_arg, MAS_EALREADY, MAS_ECONNABORTED, MAS_EINVAL, MAS_EIO, MAS_ENOMEM};
use crate::tls_store::{after_dial, Claim, DialEnd, DialVerdict, Kind, Store};

/// The store, beside the engine: its calls make no modem exchange and may come between an
/// operation's steps (a wrap claims slots before and between its uploads).
struct StoreCell(UnsafeCell<Store>);

// Safety: the store is only reached through `with_store`, whose guard refuses re-entry; the
// shim calls it from one thread at a time (under its engine lock: ports without a GIL run
// Python threads in parallel).
unsafe impl Sync for StoreCell {}

static STORE: StoreCell = StoreCell(UnsafeCell::new(Store::new()));
static IN_STORE: AtomicBool = AtomicBool::new(false);

fn with_store<R>(busy: R, f: impl FnOnce(&mut Store) -> R) -> R {
    if IN_STORE.load(Ordering::Acquire) {
        return busy;
    }
    IN_STORE.store(true, Ordering::Release);
    // Safety: the guard above makes this the only live reference.
    let result = f(unsafe { &mut *STORE.0.get() });
    IN_STORE.store(false, Ordering::Release);
    result
}

fn kind_of(private_key: bool) -> Kind {
    if private_key {
        Kind::PrivateKey
    } else {
        Kind::Certificate
    }
}

/// Longest store file `mas_store_save` writes.
pub const MAS_STORE_TEXT_MAX: usize = 648;
const _: () = assert!(MAS_STORE_TEXT_MAX == crate::tls_store::TEXT_MAX);

/// `mas_claim.action`: the slot holds the credential (confirmed in this run, or only by the
/// file), or the credential is to be written there.
pub const MAS_CLAIM_HELD: i32 = 0;
pub const MAS_CLAIM_HELD_UNCONFIRMED: i32 = 1;
pub const MAS_CLAIM_WRITE: i32 = 2;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct mas_claim {
    pub action: i32,
    pub slot: u8,
}

/// `mas_tls_after_dial`'s answers: done; write again (`mas_store_rewrite`) the credentials
/// only the file vouched for, or every credential used, and dial once more; fail.
pub const MAS_DIAL_DONE: i32 = 0;
pub const MAS_DIAL_RETRY_UNCONFIRMED: i32 = 1;
pub const MAS_DIAL_RETRY_ALL: i32 = 3;
pub const MAS_DIAL_FAIL: i32 = 2;

/// Reads the store file's text (`len` bytes, any bytes): every slot no wrap uses takes what its
/// line says. Returns the number of lines skipped as unreadable.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_store_load(text: *const u8, len: usize) -> i32 {
    // Safety: the caller passes `len` readable bytes at `text` (NULL only with 0).
    let Some(text) = (unsafe { slice_arg(text, len) }) else { return -MAS_EINVAL };
    with_store(-MAS_EALREADY, |s| i32::from(s.load(text).skipped))
}

/// The store file's text into `out` (`cap` bytes, `MAS_STORE_TEXT_MAX` suffice): its length,
/// or -1.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_store_save(out: *mut u8, cap: usize) -> isize {
    if out.is_null() {
        return -1;
    }
    // Safety: non-NULL, and the caller passes `cap` writable bytes.
    let out = unsafe { core::slice::from_raw_parts_mut(out, cap) };
    with_store(-1, |s| s.save(out).and_then(|n| isize::try_from(n).ok()).unwrap_or(-1))
}

/// Nothing is known to be in the modem (after a modem factory reset or swap).
#[no_mangle]
pub extern "C" fn mas_store_forget() {
    with_store((), |s| s.forget());
}

/// Chooses the slot for `pem` (`len` bytes) and pins it for the caller's wrap, which must call
/// `mas_store_release` for it at the end, whatever happens. `avoid`: a certificate slot the
/// wrap already uses, or -1. 0, or `MAS_ENOMEM` when wraps in progress use every slot.
/// # Safety
/// Pointer arguments are NULL or valid for the sizes given; they are not kept.
#[no_mangle]
pub unsafe extern "C" fn mas_store_claim(private_key: bool, pem: *const u8, len: usize, avoid: i16, out: *mut mas_claim) -> i32 {
    // Safety: the caller passes `len` readable bytes at `pem` (NULL only with 0).
    let Some(pem) = (unsafe { slice_arg(pem, len) }) else { return MAS_EINVAL };
    if out.is_null() {
        return MAS_EINVAL;
    }
    let avoid = u8::try_from(avoid).ok();
    let claim = with_store(Claim::NoFreeSlot, |s| s.claim(kind_of(private_key), pem, avoid));
    let (action, slot) = match claim {
        Claim::Held { slot, confirmed: true } => (MAS_CLAIM_HELD, slot),
        Claim::Held { slot, confirmed: false } => (MAS_CLAIM_HELD_UNCONFIRMED, slot),
        Claim::Write { slot } => (MAS_CLAIM_WRITE, slot),
        Claim::NoFreeSlot => return MAS_ENOMEM,
    };
    // Safety: checked non-NULL above.
    unsafe { out.write(mas_claim { action, slot }) };
    0
}

/// The outcome of a write a claim asked for: the modem's OK, or not (the slot is then unknown).
#[no_mangle]
pub extern "C" fn mas_store_written(private_key: bool, slot: u8, ok: bool) {
    with_store((), |s| s.written(kind_of(private_key), slot, ok));
}

/// Before writing again a credential only the file vouched for: true if the slot is now being
/// written (report with `mas_store_written`).
#[no_mangle]
pub extern "C" fn mas_store_rewrite(private_key: bool, slot: u8) -> bool {
    with_store(false, |s| s.rewrite(kind_of(private_key), slot))
}

/// A dial with this slot's credential succeeded.
#[no_mangle]
pub extern "C" fn mas_store_confirm(private_key: bool, slot: u8) {
    with_store((), |s| s.confirm(kind_of(private_key), slot));
}

/// The caller's wrap is done with the slot (a write it never reported leaves it unknown).
#[no_mangle]
pub extern "C" fn mas_store_release(private_key: bool, slot: u8) {
    with_store((), |s| s.release(kind_of(private_key), slot));
}

/// What to do after a secure dial that ended with `err` (0 or an errno), in round `round`
/// (0 first), `used_unconfirmed` when some credential came from the file unconfirmed:
/// `MAS_DIAL_DONE`, `MAS_DIAL_RETRY_UNCONFIRMED` / `MAS_DIAL_RETRY_ALL` (write those again
/// after `mas_store_rewrite`, dial again) or `MAS_DIAL_FAIL`.
#[no_mangle]
pub extern "C" fn mas_tls_after_dial(err: i32, used_unconfirmed: bool, round: u8) -> i32 {
    let end = match err {
        0 => DialEnd::Connected,
        MAS_ECONNABORTED => DialEnd::HandshakeFailed,
        MAS_EIO => DialEnd::Refused,
        _ => DialEnd::Other,
    };
    match after_dial(end, used_unconfirmed, round) {
        DialVerdict::Done => MAS_DIAL_DONE,
        DialVerdict::RewriteUnconfirmed => MAS_DIAL_RETRY_UNCONFIRMED,
        DialVerdict::RewriteAll => MAS_DIAL_RETRY_ALL,
        DialVerdict::Fail => MAS_DIAL_FAIL,
    }
}
