//! Links a function executable as position-dependent (`-no-pie`); every function's
//! Cargo.toml names this file as its build script.
//!
//! A position-independent executable must have every pointer in its read-only data (vtables,
//! string tables, the AWS SDK's endpoint rules) patched by the dynamic loader at start:
//! about 66,000 relocations and 1.6 MB of copied pages in the probe, which made the cold
//! start 1.8 times slower (see the start-up benchmark in the README). Without it those
//! pointers are fixed at link time. The cost is that the executable's own code is not at a
//! random address (the stack, heap and libraries still are); sitrep's crates forbid
//! `unsafe`, and the functions only talk to their configured endpoints and AWS. Remove the
//! `build` line from a function's Cargo.toml to go back to a PIE build.

fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
}
