//! Link settings of the guest build (wasm32-wasip1): a larger shadow stack, so that deep but
//! legitimate nesting (500 nested `{`, 2000 nested `(` in `$((`, functions recursing to the
//! shell's nesting limit) runs as in bash instead of overflowing; the shell's own depth limits
//! (`state::MAX_*`) stop anything deeper with bash's messages before either stack runs out.

/// Bytes of the guest's shadow stack in linear memory. 16 MiB (Rust's default is 1 MiB).
const GUEST_STACK_BYTES: u64 = 16 * 1024 * 1024;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("wasm32") {
        println!("cargo:rustc-link-arg-bins=-zstack-size={GUEST_STACK_BYTES}");
    }
}
