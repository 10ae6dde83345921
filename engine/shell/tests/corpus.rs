//! Differential test of the native-built interpreter (the harness is in `harness/`): every case of the brush-compat corpus (and tests/shell-cases) runs
//! through /bin/bash and through `hookbox-shell` in a fresh temp dir each; stdout, exit status
//! and (unless ignored) stderr are compared. Mismatches are reported, not failed (the bar is a
//! pass rate); the test fails only when the harness itself breaks (no case ran, bash missing).

mod harness;

use std::path::PathBuf;

#[test]
fn differential_corpus() {
    let ours = harness::Ours {
        bin: env!("CARGO_BIN_EXE_hookbox-shell"),
        arg0: "bash",
        args: &[],
        env: &[],
    };
    let report = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("shell-corpus-report.txt");
    harness::run_corpus(&ours, &report);
}
