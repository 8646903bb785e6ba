//! Compiles the C ABI test against the committed header, strictly (C99, all warnings fatal),
//! so a header that no longer compiles or no longer matches the Rust side fails here.

fn main() {
    println!("cargo:rerun-if-changed=abi_test.c");
    println!("cargo:rerun-if-changed=../../include/microatsocket.h");
    cc::Build::new()
        .file("abi_test.c")
        .include("../../include")
        .std("c99")
        .warnings(true)
        .extra_warnings(true)
        .flag("-pedantic")
        .warnings_into_errors(true)
        .compile("abi_test");
}
