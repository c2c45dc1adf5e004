//! The build script of every Lambda binary (the functions and infra/hello): link the
//! binary as a position-dependent executable (`-no-pie`).
//!
//! Measured (`make sizes`, `perf record -e page-faults`): a PIE binary's loader
//! applies one relative relocation per pointer in its static data (vtables, string
//! slices, tracing and panic metadata) before `main`: ~52,000 in the API function,
//! 1.2 MiB of `.rela.dyn` in the file, and a private copy of every `.data.rel.ro`
//! page they touch: 188 of its 500 page faults at start-up. Linked at a fixed
//! address, there is nothing to relocate. What it gives up is address-space
//! randomisation of the binary itself (libraries, stack, heap and mmaps stay
//! randomised); the code stays position-independent, so dropping this script
//! brings back a PIE binary.
//!
//! `rustc-link-arg-bins`: the binaries' own link only; no flag reaches any other
//! crate (no RUSTFLAGS, nothing rebuilt), and tests and libraries stay as they are.
fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
