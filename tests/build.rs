//! Builds the guest programs the sandbox tests run (tests/guests, and the example Rust hooks
//! of hooks-examples/rust-hooks, both with the sdk) for wasm32-wasip1, in their own target
//! folder (a nested cargo on the outer target folder would wait on its lock forever), and
//! tells the tests where they are through `HOOKBOX_TEST_GUESTS` and `HOOKBOX_TEST_RUST_HOOKS`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    let guests = manifest_dir.join("guests");
    let sdk = manifest_dir.join("../sdk");
    let rust_hooks = manifest_dir.join("../hooks-examples/rust-hooks");
    for path in [
        guests.join("src"),
        guests.join("Cargo.toml"),
        sdk.join("src"),
        sdk.join("Cargo.toml"),
        rust_hooks.join("migrate/src"),
        rust_hooks.join("notify/src"),
        rust_hooks.join("Cargo.toml"),
    ] {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    // The example's Makefile links the sdk as ./sdk (see its Cargo.toml); do the same.
    let link = rust_hooks.join("sdk");
    if !link.join("Cargo.toml").exists() {
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("../../sdk", &link).expect("link the sdk for rust-hooks");
    }

    ensure_wasm_target();
    let target_dir = out_dir.join("guest-target");
    build_wasm(&guests.join("Cargo.toml"), &target_dir);
    build_wasm(&rust_hooks.join("Cargo.toml"), &target_dir);
    let bin_dir = target_dir.join("wasm32-wasip1/release");
    println!("cargo:rustc-env=HOOKBOX_TEST_GUESTS={}", bin_dir.display());
    println!(
        "cargo:rustc-env=HOOKBOX_TEST_RUST_HOOKS={}",
        bin_dir.display()
    );
}

fn build_wasm(manifest: &Path, target_dir: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--target", "wasm32-wasip1"])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_MAKEFLAGS")
        .status()
        .expect("run cargo for the guest programs");
    assert!(
        status.success(),
        "building {} for wasm32-wasip1 failed",
        manifest.display()
    );
}

/// `rustup target add wasm32-wasip1` when the standard library for it is missing (a listed
/// target in rust-toolchain.toml is not installed for an already installed toolchain).
fn ensure_wasm_target() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = sysroot
        .map(|s| s.join("lib/rustlib/wasm32-wasip1").is_dir())
        .unwrap_or(false);
    if !installed {
        let _ = Command::new("rustup")
            .args(["target", "add", "wasm32-wasip1"])
            .status();
    }
}
