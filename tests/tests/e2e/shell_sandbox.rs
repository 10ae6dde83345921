//! The bundled shell through the real sandbox: the differential corpora (brush-compat and
//! tests/shell-cases, bash as the oracle) run through the built `hookbox shell
//! --allow-all-commands --env-passthrough`, with the harness the native-built interpreter's
//! test uses. The run gates against engine/shell/tests/known-failures/sandbox.txt: a case
//! that newly fails or newly passes fails this test (the message says how to update the
//! list). `SHELL_CORPUS_FILTER=arith` narrows it; `SHELL_CORPUS_VERBOSE=1` prints every
//! mismatch; `SHELL_CORPUS_WRITE_MD=1` regenerates the pass rates in engine/shell/CORPUS.md.

#[path = "../../../engine/shell/tests/harness/mod.rs"]
mod harness;

use std::path::PathBuf;

#[test]
fn corpora_through_hookbox_shell_in_the_sandbox() {
    let bin = hookbox_tests::hookbox_bin();
    let bin = bin.to_string_lossy();
    let cache = super::sandbox::shared_cache_dir();
    let cache = cache.to_string_lossy();
    let ours = harness::Ours {
        bin: &bin,
        arg0: "hookbox",
        args: &["shell", "--allow-all-commands", "--env-passthrough"],
        env: &[("HOOKBOX_CACHE_DIR", &cache)],
    };
    let report = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("shell-sandbox-corpus-report.txt");
    let started = std::time::Instant::now();
    let run = harness::run_corpus(&ours, "sandbox", &report);
    println!(
        "through the sandbox: {}/{} cases pass ({:.0} s)",
        run.passed(),
        run.run(),
        started.elapsed().as_secs_f64()
    );
    if let Err(msg) = harness::gate(&run, "sandbox", "Through the sandbox") {
        panic!("{msg}");
    }
}
