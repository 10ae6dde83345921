//! Builds the guest programs the sandbox tests run (tests/guests, with the sdk) for
//! wasm32-wasip1, in their own target folder (a nested cargo on the outer target folder would
//! wait on its lock forever), and tells the tests where they are through
//! `HOOKBOX_TEST_GUESTS`.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    let guests = manifest_dir.join("guests");
    let sdk = manifest_dir.join("../sdk");
    for dir in [guests.join("src"), sdk.join("src")] {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        guests.join("Cargo.toml").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        sdk.join("Cargo.toml").display()
    );

    ensure_wasm_target();
    let target_dir = out_dir.join("guest-target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip1",
            "--manifest-path",
        ])
        .arg(guests.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_MAKEFLAGS")
        .status()
        .expect("run cargo for the guest programs");
    assert!(
        status.success(),
        "building the wasm32-wasip1 guest programs failed"
    );
    let bin_dir = target_dir.join("wasm32-wasip1/release");
    println!("cargo:rustc-env=HOOKBOX_TEST_GUESTS={}", bin_dir.display());
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
