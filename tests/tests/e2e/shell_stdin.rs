//! A bridged command shares the shell's stdin as a process of bash does: it gets only what it
//! reads, and what it leaves is there for the next reader. Hooks loop over `| while read`
//! calling git, drush or curl, and a bridged command that swallowed the loop's input ended the
//! loop after one line. Each script runs through `hookbox shell --allow-all-commands` and
//! through bash, and the outputs must agree (bash is the oracle).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use hookbox_tests::hookbox;

fn with_stdin(mut cmd: Command, dir: &Path, stdin: Option<&Path>) -> Output {
    cmd.current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match stdin {
        Some(file) => cmd.stdin(std::fs::File::open(file).unwrap()),
        None => cmd.stdin(Stdio::null()),
    };
    cmd.output().expect("run")
}

/// (stdout, status) of `args` under bash and under `hookbox shell`.
fn both(dir: &Path, args: &[&str], stdin: Option<&Path>) -> ((String, i32), (String, i32)) {
    let mut bash = Command::new("bash");
    bash.args(args);
    let bash = with_stdin(bash, dir, stdin);
    let mut ours = hookbox();
    ours.env("HOOKBOX_CACHE_DIR", super::sandbox::shared_cache_dir())
        .args(["shell", "--allow-all-commands", "--timeout", "120"])
        .args(args);
    let ours = with_stdin(ours, dir, stdin);
    let text = |o: &Output| {
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            o.status.code().unwrap_or(-1),
        )
    };
    assert!(
        !String::from_utf8_lossy(&ours.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    (text(&bash), text(&ours))
}

fn agree(dir: &Path, script: &str, stdin: Option<&Path>, expected: &str) {
    let (bash, ours) = both(dir, &["-c", script], stdin);
    assert_eq!(bash.0, expected, "bash itself: {script}");
    assert_eq!(ours, bash, "hookbox shell vs bash: {script}");
}

#[test]
fn a_bridged_command_in_a_while_read_loop_leaves_the_loops_input() {
    let dir = tempfile::tempdir().unwrap();
    agree(
        dir.path(),
        "printf 'a\\nb\\nc\\n' | while read l; do /bin/true; echo \"got $l\"; done",
        None,
        "got a\ngot b\ngot c\n",
    );
    // The same loop over a file.
    std::fs::write(dir.path().join("in.txt"), "1\n2\n3\n").unwrap();
    agree(
        dir.path(),
        "while read l; do /bin/true; echo \"got $l\"; done < in.txt",
        None,
        "got 1\ngot 2\ngot 3\n",
    );
}

#[test]
fn a_bridged_command_substitution_does_not_eat_the_pipelines_input() {
    let dir = tempfile::tempdir().unwrap();
    agree(dir.path(), "echo hi | cat $(/bin/true)", None, "hi\n");
}

#[test]
fn a_bridged_head_on_a_file_leaves_the_rest_for_the_next_reader() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "one\ntwo\nthree\n").unwrap();
    agree(
        dir.path(),
        "{ /usr/bin/head -1; echo ---; cat; } < in.txt",
        None,
        "one\n---\ntwo\nthree\n",
    );
    // Alternating readers of one file: the loop's `read` and a bridged `head` in turn.
    agree(
        dir.path(),
        "while read l; do echo \"read $l\"; /usr/bin/head -n 1; done < in.txt",
        None,
        "read one\ntwo\nread three\n",
    );
}

#[test]
fn a_bridged_command_reads_what_the_shell_left_of_its_own_stdin() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("script.sh"),
        "read first\necho \"first=$first\"\n/usr/bin/cat\n",
    )
    .unwrap();
    let input = dir.path().join("input.txt");
    std::fs::write(&input, "line1\nline2\nline3\n").unwrap();
    let (bash, ours) = both(dir.path(), &["script.sh"], Some(&input));
    assert_eq!(bash.0, "first=line1\nline2\nline3\n");
    assert_eq!(ours, bash);
    // From a pipe, not a file: the shell reads its line exactly, the command gets the rest.
    let mut child = hookbox()
        .current_dir(dir.path())
        .env("HOOKBOX_CACHE_DIR", super::sandbox::shared_cache_dir())
        .args([
            "shell",
            "--allow-all-commands",
            "--timeout",
            "120",
            "script.sh",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"p1\np2\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "first=p1\np2\n");
}
