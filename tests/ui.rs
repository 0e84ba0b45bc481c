//! Compile-fail tests: every shape rule has a program that must not compile, and the exact
//! error text a student sees is checked in next to it (`tests/ui/*.stderr`).
//!
//! The messages depend on the compiler version, so the check runs on the toolchain pinned in
//! `rust-toolchain.toml` only. Regenerate with `TRYBUILD=overwrite cargo test --test ui` and
//! review the diff like code.

#[rustversion::stable(1.95)]
#[test]
fn shape_rules_are_compile_errors() {
    let t = trybuild::TestCases::new();
    // The pass cases also make trybuild *build* (not only check) the failing ones, so rules
    // that fire at build time are exercised too (dtolnay/trybuild#258).
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/*.rs");
}
