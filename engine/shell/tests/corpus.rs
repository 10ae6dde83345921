//! Differential test of the native-built interpreter (the harness is in `harness/`): every
//! case of the brush-compat corpus (and tests/shell-cases) runs through /bin/bash and through
//! `hookbox-shell` in a fresh temp dir each; stdout, exit status and (unless ignored) stderr
//! are compared. The run gates against `known-failures/native.txt`: a case that newly fails
//! or newly passes fails this test (the message says how to update the list).

// A test reports failure by panicking; the crate's no-panic lints are for the interpreter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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
    let started = std::time::Instant::now();
    let run = harness::run_corpus(&ours, "native", &report);
    println!(
        "native build: {}/{} cases pass ({:.0} s)",
        run.passed(),
        run.run(),
        started.elapsed().as_secs_f64()
    );
    if let Err(msg) = harness::gate(&run, "native", "Native build") {
        panic!("{msg}");
    }
}
