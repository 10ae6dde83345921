//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;
use std::process::Command;

/// Path of the `hookbox` binary built by this `cargo test` run (the same target folder).
pub fn hookbox_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable");
    // target/<profile>/deps/e2e-HASH → target/<profile>/hookbox
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in target/<profile>/deps");
    let bin = profile_dir.join("hookbox");
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
