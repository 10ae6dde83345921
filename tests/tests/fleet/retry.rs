//! Retries without a database: `hookbox run` runs a hook again under its retry policy, one
//! log block per attempt, with the attempt in `HOOKBOX_ATTEMPT` (and as Site Factory's fifth
//! argument); Site Factory's exit 131 is never retried.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use hookbox_tests::hookbox;

fn file(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    if rel.ends_with(".sh") {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn project() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// `hookbox run STAGE DIR [-- ARGS]`: (exit code, hooks.log).
fn run(dir: &Path, stage: &str, args: &[&str]) -> (Option<i32>, String) {
    let log = dir.parent().unwrap().join(format!(
        "{}-hooks.log",
        dir.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&log);
    let mut cmd = hookbox();
    cmd.args(["run", stage])
        .arg(dir)
        .arg("--log-file")
        .arg(&log);
    if !args.is_empty() {
        cmd.arg("--").args(args);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

#[test]
fn run_retries_an_exit_code_listed_in_retry_on_one_block_per_attempt() {
    let p = project();
    file(
        p.path(),
        "pre-deploy.sh",
        "#!/bin/bash\necho \"attempt $HOOKBOX_ATTEMPT\"\n[ \"$HOOKBOX_ATTEMPT\" -ge 3 ] || exit 75\n",
    );
    file(
        p.path(),
        "hookbox.toml",
        "[[hook]]\nscript = \"pre-deploy.sh\"\nstage = \"pre-deploy\"\nretries = 4\nretry-delay-seconds = 0\nretry-on = [75]\n",
    );
    let (code, log) = run(p.path(), "pre-deploy", &[]);
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(
        log.matches("Running hook: pre-deploy.sh").count(),
        3,
        "{log}"
    );
    assert_eq!(
        log.matches("Hook failed with exit code 75").count(),
        2,
        "{log}"
    );
    assert_eq!(
        log.matches("Hook completed successfully").count(),
        1,
        "{log}"
    );
    assert!(
        log.contains("Retrying pre-deploy.sh in 0 s (attempt 2 of 5)"),
        "{log}"
    );
    assert!(log.contains("stdout: attempt 3"), "{log}");
}

#[test]
fn run_does_not_retry_a_code_outside_retry_on() {
    let p = project();
    file(p.path(), "pre-deploy.sh", "#!/bin/bash\nexit 1\n");
    file(
        p.path(),
        "hookbox.toml",
        "[[hook]]\nscript = \"pre-deploy.sh\"\nstage = \"pre-deploy\"\nretries = 4\nretry-delay-seconds = 0\nretry-on = [75, \"worker-lost\"]\n",
    );
    let (code, log) = run(p.path(), "pre-deploy", &[]);
    assert_eq!(code, Some(1), "{log}");
    assert_eq!(
        log.matches("Running hook: pre-deploy.sh").count(),
        1,
        "{log}"
    );
    assert!(!log.contains("Retrying"), "{log}");
}

#[test]
fn site_factory_hook_gets_the_attempt_as_fifth_argument_and_131_stops_retries() {
    let p = project();
    // post-site-install is tried three times by default; the fifth argument is the attempt.
    file(
        p.path(),
        "factory-hooks/post-site-install/10-install.sh",
        "#!/bin/bash\necho \"args $1 $2 $3 $4 attempt=$5 n=$#\"\nexit 1\n",
    );
    let (code, log) = run(
        p.path(),
        "post-site-install",
        &["mygroup", "01live", "db1", "example.com"],
    );
    assert_eq!(code, Some(1), "{log}");
    assert_eq!(
        log.matches("Running hook: 10-install.sh").count(),
        3,
        "{log}"
    );
    for n in 1..=3 {
        assert!(
            log.contains(&format!(
                "args mygroup 01live db1 example.com attempt={n} n=5"
            )),
            "{log}"
        );
    }
    // Exit 131 means "do not retry me".
    file(
        p.path(),
        "factory-hooks/post-site-install/10-install.sh",
        "#!/bin/bash\necho \"attempt=$5\"\nexit 131\n",
    );
    let (code, log) = run(
        p.path(),
        "post-site-install",
        &["mygroup", "01live", "db1", "example.com"],
    );
    assert_eq!(code, Some(1), "{log}");
    assert_eq!(
        log.matches("Running hook: 10-install.sh").count(),
        1,
        "{log}"
    );
    assert!(log.contains("Hook failed with exit code 131"), "{log}");
    // A stage Site Factory runs once keeps its four arguments.
    file(
        p.path(),
        "factory-hooks/post-staging-update/10-x.sh",
        "#!/bin/bash\necho \"n=$#\"\nexit 1\n",
    );
    let (_, log) = run(
        p.path(),
        "post-staging-update",
        &["mygroup", "01live", "db1", "example.com"],
    );
    assert_eq!(log.matches("Running hook: 10-x.sh").count(), 1, "{log}");
    assert!(log.contains("n=4"), "{log}");
}

#[test]
fn a_bad_retry_key_is_a_configuration_error_naming_the_line() {
    let p = project();
    file(p.path(), "pre-deploy.sh", "#!/bin/bash\necho hi\n");
    file(
        p.path(),
        "hookbox.toml",
        "[[hook]]\nscript = \"pre-deploy.sh\"\nstage = \"pre-deploy\"\nretry-on = [\"sometimes\"]\n",
    );
    let out = hookbox()
        .args(["run", "pre-deploy"])
        .arg(p.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("retry-on") && err.contains(":4"), "{err}");
}
