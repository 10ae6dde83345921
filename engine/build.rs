//! Builds the bundled shell (`engine/shell`, crate `hookbox-shell`) for wasm32-wasip1 in
//! release mode into its own target folder under OUT_DIR (a nested cargo on the outer target
//! folder would wait forever on its lock), and leaves `hookbox-shell.wasm` in OUT_DIR for
//! `shell_module.rs` to embed. `HOOKBOX_SHELL_WASM=/path/to/prebuilt.wasm` skips the build.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip1";

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let shell = manifest_dir.join("shell");
    println!("cargo:rerun-if-changed={}", shell.join("src").display());
    println!(
        "cargo:rerun-if-changed={}",
        shell.join("Cargo.toml").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        shell.join("build.rs").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join("../Cargo.lock").display()
    );
    println!("cargo:rerun-if-env-changed=HOOKBOX_SHELL_WASM");
    let dest = out_dir.join("hookbox-shell.wasm");

    if let Ok(prebuilt) = std::env::var("HOOKBOX_SHELL_WASM") {
        std::fs::copy(&prebuilt, &dest)
            .unwrap_or_else(|e| panic!("HOOKBOX_SHELL_WASM={prebuilt}: {e}"));
        write_digest(&dest, &out_dir);
        return;
    }

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    ensure_target(&rustc);

    let target_dir = out_dir.join("shell-target");
    let mut cmd = Command::new(&cargo);
    cmd.args([
        "build",
        "--release",
        "--target",
        TARGET,
        "-p",
        "hookbox-shell",
        "--bin",
        "hookbox-shell",
    ])
    .arg("--manifest-path")
    .arg(shell.join("Cargo.toml"))
    .arg("--target-dir")
    .arg(&target_dir);
    // Settings of the outer build must not leak into the nested one.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
        "__CARGO_FIX_PLZ",
        "CARGO_INCREMENTAL",
    ] {
        cmd.env_remove(var);
    }
    for (k, _) in std::env::vars() {
        if k.starts_with("CARGO_PROFILE_") || k.starts_with("CARGO_TARGET_") {
            cmd.env_remove(k);
        }
    }
    // Optimised for speed (opt-level 3 ran the CPU loop of BENCHMARKS.md in 14% less time
    // and 17% fewer instructions than "s"), LTO, stripped, panics abort.
    cmd.env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false");
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("running {cargo}: {e}"));
    if !status.success() {
        panic!("building the bundled shell for {TARGET} failed (see the output above)");
    }
    let built = target_dir
        .join(TARGET)
        .join("release")
        .join("hookbox-shell.wasm");
    copy_if_changed(&built, &dest);
    write_digest(&dest, &out_dir);
}

/// The module's sha256, for `shell_module.rs`: its compiled-module cache key, computed once
/// here instead of over megabytes in every process that starts the shell.
fn write_digest(wasm: &Path, out_dir: &Path) {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
    let digest = Sha256::digest(&bytes);
    let to = out_dir.join("hookbox-shell.sha256");
    if std::fs::read(&to).ok().as_deref() != Some(&digest[..]) {
        std::fs::write(&to, digest).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    }
}

/// Installs the wasm target with rustup when missing, or fails with the command that fixes it.
fn ensure_target(rustc: &str) {
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let have = |s: &str| {
        Path::new(s)
            .join("lib/rustlib")
            .join(TARGET)
            .join("lib")
            .is_dir()
    };
    if have(&sysroot) {
        return;
    }
    println!("cargo:warning=installing the {TARGET} target with rustup");
    let ok = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .is_ok_and(|s| s.success());
    if !ok || !have(&sysroot) {
        panic!("the {TARGET} Rust target is missing; install it with: rustup target add {TARGET}");
    }
}

/// Only touch the destination when the bytes differ, so `include_bytes!` users do not rebuild.
fn copy_if_changed(from: &Path, to: &Path) {
    let new = std::fs::read(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    if std::fs::read(to).ok().as_deref() != Some(&new[..]) {
        std::fs::write(to, &new).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    }
}
