//! `hookbox shell` on a terminal (a pty from script(1)), typed at as a person would: the
//! prompt, Ctrl-C ending the command that runs (a loop in the guest, a bridged command) but
//! not the shell, `exit`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hookbox_tests::hookbox;

/// Runs `hookbox shell ARGS` on a pty, typing each `(pause, text)` after its pause; returns
/// what the terminal showed and how long it took.
fn typed(args: &[&str], steps: &[(u64, &str)]) -> (String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut command = format!(
        "exec {} shell",
        quote(&hookbox_tests::hookbox_bin().display().to_string())
    );
    for a in args {
        command.push(' ');
        command.push_str(&quote(a));
    }
    // hookbox()'s clean environment, for script(1) and the hookbox it starts.
    let env = hookbox();
    let started = Instant::now();
    let mut child = Command::new("script")
        .args(["-qefc", &command, "/dev/null"])
        .current_dir(dir.path())
        .env_clear()
        .envs(env.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1)");
    let mut stdin = child.stdin.take().unwrap();
    for (pause, text) in steps {
        std::thread::sleep(Duration::from_millis(*pause));
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (text, started.elapsed())
}

/// Whether the terminal shows a line the shell printed ending in `want` (the terminal also
/// echoes what is typed, so a typed command is not mistaken for its output).
fn printed(out: &str, want: &str) -> bool {
    out.lines()
        .any(|l| l.trim_end_matches('\r').ends_with(want))
}

/// Ctrl-C stops a loop running in the guest, the shell's own `sleep` and a bridged command
/// the guest waits for, each with status 130, and the shell goes on to the next line and
/// ends at `exit`.
#[test]
fn ctrl_c_ends_the_running_command_not_the_shell() {
    let (out, took) = typed(
        &["--allow-all-commands"],
        &[
            (1500, "while :; do :; done; echo not-reached\n"),
            (1500, "\x03"),
            (1000, "echo loop=$?\n"),
            (500, "/bin/sleep 30; echo not-either\n"),
            (1500, "\x03"),
            (1000, "echo bridged=$?\n"),
            (500, "sleep 30; echo nor-this\n"),
            (1500, "\x03"),
            (1000, "echo sleep=$?\n"),
            (500, "exit 3\n"),
        ],
    );
    let printed = |want: &str| printed(&out, want);
    assert!(printed("loop=130"), "{out}");
    assert!(printed("bridged=130"), "{out}");
    assert!(printed("sleep=130"), "{out}");
    assert!(
        !out.lines().any(|l| l.trim_end_matches('\r') == "nor-this"),
        "{out}"
    );
    assert!(
        !printed("\nnot-reached")
            && !out
                .lines()
                .any(|l| l.trim_end_matches('\r') == "not-reached"),
        "{out}"
    );
    assert!(
        !out.lines()
            .any(|l| l.trim_end_matches('\r') == "not-either"),
        "{out}"
    );
    assert!(
        took < Duration::from_secs(25),
        "{took:?}: the bridged sleep ran on\n{out}"
    );
}

/// Ctrl-C while `read` waits for a line abandons that command line (status 130), and the next
/// line typed is the next command, not `read`'s input; Ctrl-C at the prompt drops what was
/// typed and sets `$?` to 130, as bash does.
#[test]
fn ctrl_c_during_read_or_at_the_prompt_drops_the_line() {
    let (out, _) = typed(
        &[],
        &[
            (1500, "read x; echo got=$x\n"),
            (1500, "\x03"),
            (1000, "echo after=$?\n"),
            (500, "read y; echo y=$y\n"),
            (500, "typed\n"),
            (500, "half a line"),
            (500, "\x03"),
            (1000, "echo prompt=$?\n"),
            (500, "exit\n"),
        ],
    );
    let printed = |want: &str| printed(&out, want);
    assert!(printed("after=130"), "{out}");
    assert!(printed("y=typed"), "{out}");
    assert!(printed("prompt=130"), "{out}");
    assert!(!printed("got=echo after=$?"), "{out}");
}
