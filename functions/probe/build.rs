//! Links the `probe` executable as position-dependent (`-no-pie`).
//!
//! A position-independent executable must have every pointer in its read-only data (vtables,
//! string tables, the AWS SDK's endpoint rules) patched by the dynamic loader at start:
//! about 66,000 relocations and 1.6 MB of copied pages in this binary, which made the cold
//! start 1.8 times slower (see the start-up benchmark in the README). Without it those
//! pointers are fixed at link time. The cost is that the executable's own code is not at a
//! random address (the stack, heap and libraries still are); sitrep's crates forbid
//! `unsafe`, and the function only talks to its configured endpoints and AWS. Delete this
//! file to go back to a PIE build.

fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
}
