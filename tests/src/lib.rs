//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Path of the `hookbox` binary of this `cargo test` run's target folder, built (once per test
/// process) if missing or stale: `cargo test` builds a package's binaries only for that
/// package's own integration tests, and these live in another package.
pub fn hookbox_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(build_hookbox).clone()
}

fn build_hookbox() -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable");
    // target/<profile>/deps/e2e-HASH → target/<profile>/hookbox
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in target/<profile>/deps");
    let bin = profile_dir.join("hookbox");
    // Cargo sets CARGO for the processes it runs; without it (a test binary started by hand)
    // use whatever binary is there.
    if let (Some(cargo), Some(target_dir)) = (std::env::var_os("CARGO"), profile_dir.parent()) {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("tests/ sits in the workspace root");
        let mut build = Command::new(cargo);
        build
            .current_dir(workspace)
            .args(["build", "--quiet", "-p", "hookbox", "--bin", "hookbox"])
            .arg("--target-dir")
            .arg(target_dir);
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let status = build
            .status()
            .expect("run cargo build for the hookbox binary");
        assert!(status.success(), "cargo build -p hookbox failed: {status}");
    }
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test --workspace`",
        bin.display()
    );
    bin
}

/// A `Command` for the hookbox binary with a clean environment (only PATH and HOME kept), so
/// tests do not depend on the developer's variables.
pub fn hookbox() -> Command {
    let mut cmd = Command::new(hookbox_bin());
    cmd.env_clear();
    for key in ["PATH", "HOME", "TMPDIR"] {
        if let Ok(value) = std::env::var(key) {
            cmd.env(key, value);
        }
    }
    cmd
}
