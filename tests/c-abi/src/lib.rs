//! Runs `abi_test.c`. The C side returns the number of failed checks and prints each one.

// Links the core's `#[no_mangle]` functions that the C test calls.
use microatsocket as _;

#[cfg_attr(not(test), allow(dead_code))]
extern "C" {
    fn mas_abi_test_run() -> i32;
}

#[cfg(test)]
mod tests {
    #[test]
    fn c_abi_through_generated_header() {
        // Safety: the C test only calls the ABI, from this one thread.
        let failures = unsafe { super::mas_abi_test_run() };
        assert_eq!(failures, 0, "C ABI checks failed (details on stderr)");
    }
}
