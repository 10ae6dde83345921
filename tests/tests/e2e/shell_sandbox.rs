//! The bundled shell through the real sandbox: the differential corpora (brush-compat and
//! tests/shell-cases, bash as the oracle) run through the built `hookbox shell
//! --allow-all-commands --env-passthrough`, with the harness the native-built interpreter's
//! test uses. It reports the per-file pass rate and fails only when the harness breaks.
//! `SHELL_CORPUS_FILTER=arith` narrows it; `SHELL_CORPUS_VERBOSE=1` prints every mismatch.

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
    let (passed, run) = harness::run_corpus(&ours, &report);
    println!("through the sandbox: {passed}/{run} cases pass");
}
