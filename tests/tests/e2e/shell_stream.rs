//! The sandboxed shell's output reaches the host as it is written (line by line), not when the
//! guest ends: a long hook shows its progress, and what a guest printed before a limit stopped
//! it is kept. Also `set -v`, which echoes the lines read, as bash does (bash as the oracle).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use hookbox_tests::hookbox;

fn shell() -> Command {
    let mut cmd = hookbox();
    cmd.env("HOOKBOX_CACHE_DIR", super::sandbox::shared_cache_dir())
        .arg("shell");
    cmd
}

#[test]
fn output_written_before_a_timeout_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("o.txt");
    let status = shell()
        .current_dir(dir.path())
        .args(["--timeout", "2", "-c", "echo start; while :; do :; done"])
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(Stdio::piped())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(124));
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "start\n");
}

#[test]
fn a_line_reaches_the_host_while_the_guest_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    // The guest waits for a file the test makes only after it has read the first line: held
    // output would never let it, and the guest would end at its time limit instead.
    let mut child = shell()
        .current_dir(dir.path())
        .args([
            "--timeout",
            "60",
            "-c",
            "echo start; while [ ! -e go ]; do :; done; echo end",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert_eq!(first, "start");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the shell had already ended when its first line arrived"
    );
    std::fs::write(dir.path().join("go"), "").unwrap();
    let started = Instant::now();
    let second = lines.next().unwrap().unwrap();
    assert_eq!(second, "end");
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "ended after {:?}",
        started.elapsed()
    );
}

#[test]
fn the_guests_and_a_bridged_commands_output_keep_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let script = "echo a; /bin/echo b; printf c; /bin/echo d; echo e";
    let ours = shell()
        .current_dir(dir.path())
        .args(["--allow-all-commands", "-c", script])
        .output()
        .unwrap();
    let bash = Command::new("bash").args(["-c", script]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&bash.stdout), "a\nb\ncd\ne\n");
    assert_eq!(ours.stdout, bash.stdout);
}

#[test]
fn set_v_echoes_the_lines_read_like_bash() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("v.sh"),
        "set -v\n# a comment\necho a\n\nif true; then\n  echo b\nfi\n# the end\n",
    )
    .unwrap();
    for args in [
        vec!["v.sh"],
        vec!["-c", "set -v\necho a\necho b; echo c"],
        vec!["-v", "-c", "echo x"],
        vec!["-c", "set -v; echo same-line"],
    ] {
        // After `--`, `-v` is sh's, not hookbox's own verbosity flag.
        let ours = shell()
            .current_dir(dir.path())
            .arg("--")
            .args(&args)
            .output()
            .unwrap();
        let bash = Command::new("bash")
            .current_dir(dir.path())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            (
                String::from_utf8_lossy(&ours.stdout),
                String::from_utf8_lossy(&ours.stderr)
            ),
            (
                String::from_utf8_lossy(&bash.stdout),
                String::from_utf8_lossy(&bash.stderr)
            ),
            "{args:?}"
        );
    }
}
