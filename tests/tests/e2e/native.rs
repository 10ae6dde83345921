//! The native runner through the library: one test per behaviour of runner/native.
//!
//! Tests run as root here, so every hook runs as `nobody`: the project folders are chowned to
//! it, as the lifecycle does. Where bash's own behaviour is the expectation (CRLF, binary files,
//! empty scripts) the test runs real bash on the same file and compares.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookbox::bridge::policy::{Policy, DEFAULT_POLICY_PATH};
use hookbox::limits::Limits;
use hookbox::plan::HookProgram;
use hookbox::runner::native::{Containment, NativeRunner};
use hookbox::runner::output::LINE_CHUNK_BYTES;
use hookbox::runner::{Exit, Invocation, OutputSink, RunError, RunReport, Runner, Stream};

/// Collects what a hook printed, with the time each line arrived.
#[derive(Default)]
struct Sink {
    /// Keep lines (false for floods: only count them).
    keep: bool,
    lines: Mutex<Vec<(Stream, Vec<u8>, Instant)>>,
    bytes: AtomicU64,
    longest: AtomicUsize,
    truncated: Mutex<Vec<u64>>,
}

impl Sink {
    fn new() -> Arc<Self> {
        Arc::new(Sink {
            keep: true,
            ..Sink::default()
        })
    }

    fn counting() -> Arc<Self> {
        Arc::new(Sink::default())
    }

    fn text(&self, stream: Stream) -> Vec<String> {
        let lines = self.lines.lock().unwrap();
        lines
            .iter()
            .filter(|(s, _, _)| *s == stream)
            .map(|(_, l, _)| String::from_utf8_lossy(l).into_owned())
            .collect()
    }

    fn stdout(&self) -> Vec<String> {
        self.text(Stream::Stdout)
    }

    fn stderr(&self) -> Vec<String> {
        self.text(Stream::Stderr)
    }

    /// The raw bytes of one stream, lines joined with `\n` (a trailing one added).
    fn raw(&self, stream: Stream) -> Vec<u8> {
        let lines = self.lines.lock().unwrap();
        let mut out = Vec::new();
        for (_, line, _) in lines.iter().filter(|(s, _, _)| *s == stream) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        out
    }
}

impl OutputSink for Sink {
    fn line(&self, stream: Stream, line: &[u8]) {
        self.bytes
            .fetch_add(line.len() as u64 + 1, Ordering::Relaxed);
        self.longest.fetch_max(line.len(), Ordering::Relaxed);
        if self.keep {
            self.lines
                .lock()
                .unwrap()
                .push((stream, line.to_vec(), Instant::now()));
        }
    }
    fn truncated(&self, cap_bytes: u64) {
        self.truncated.lock().unwrap().push(cap_bytes);
    }
}

/// A project folder the hook user (`nobody`) can write, like the lifecycle prepares it.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        give_to_nobody(dir.path());
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a script (mode 0644: the runner needs no executable bit).
    fn script(&self, name: &str, body: &[u8]) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, body).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        path
    }

    fn invocation(&self, program: HookProgram) -> Invocation {
        Invocation {
            hook_name: "test-hook".into(),
            stage: "pre-deploy".into(),
            program,
            args: Vec::new(),
            env: BTreeMap::from([
                ("PATH".to_string(), DEFAULT_POLICY_PATH.to_string()),
                ("HOME".to_string(), self.path().display().to_string()),
            ]),
            work_dir: self.path().to_path_buf(),
            temp_dir: self.path().to_path_buf(),
            shared_dirs: Vec::new(),
            limits: Limits::default(),
            policy: Policy::default(),
        }
    }
}

fn give_to_nobody(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: chown on a NUL-terminated path.
    let rc = unsafe { libc::chown(c.as_ptr(), 65534, 65534) };
    assert_eq!(rc, 0, "chown {}", path.display());
}

fn script_program(project: &Project, body: &str) -> HookProgram {
    HookProgram::Script(project.script("hook.sh", body.as_bytes()))
}

async fn run_with(
    runner: &NativeRunner,
    inv: &Invocation,
    sink: Arc<Sink>,
) -> Result<RunReport, RunError> {
    let (_cancel, cancelled) = tokio::sync::watch::channel(false);
    runner.run(inv, sink, cancelled).await
}

async fn run(inv: &Invocation) -> (RunReport, Arc<Sink>) {
    let sink = Sink::new();
    let report = run_with(&NativeRunner::new(), inv, sink.clone())
        .await
        .expect("the runner runs the hook");
    (report, sink)
}

async fn run_script(body: &str) -> (RunReport, Arc<Sink>) {
    let project = Project::new();
    let inv = project.invocation(script_program(&project, body));
    run(&inv).await
}

/// A marker unique to this test run, to find a test's processes in /proc.
fn marker() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // `sleep` accepts a fractional number: the marker is a duration of ~1000 s nobody else uses.
    format!("1000.{}{:03}", std::process::id(), n)
}

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.as_bytes().iter().all(u8::is_ascii_digit) {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(marker) {
                found.push(format!("{}: {cmdline}", name.to_string_lossy()));
            }
        }
    }
    found
}

/// Asserts no process carries `marker`, allowing the kernel a moment to finish the kills.
async fn assert_none_left(marker: &str) {
    for _ in 0..20 {
        if processes_with(marker).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("processes left running: {:?}", processes_with(marker));
}

/// Shell lines that start `sleep MARKER` through `launcher` (`setsid -f`, or nothing with
/// `suffix` `&` for a background job) and wait until it runs, so a test of what is left
/// afterwards cannot pass because the process never started. The flag file is in the work
/// directory (the hook's cwd): Landlock lets a hook write nowhere else.
fn started_then_sleep(launcher: &str, marker: &str, suffix: &str) -> String {
    let ready = format!(".hookbox-ready-{marker}");
    format!(
        "rm -f {ready}\n{launcher} bash -c 'touch {ready}; exec sleep {marker}' \
         >/dev/null 2>&1 </dev/null {suffix}\n\
         until [ -e {ready} ]; do sleep 0.05; done; rm -f {ready}"
    )
}

/// Runs real bash on `path` the way the runner runs a hook (same env, cwd, stdin).
fn bash_oracle(inv: &Invocation, path: &Path) -> std::process::Output {
    std::process::Command::new("bash")
        .arg(path)
        .env_clear()
        .envs(&inv.env)
        .current_dir(&inv.work_dir)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run bash")
}

#[tokio::test]
async fn exit_codes_are_passed_through() {
    for code in [0, 1, 3, 42, 255] {
        let (report, _) = run_script(&format!("exit {code}\n")).await;
        assert_eq!(report.exit, Exit::Code(code));
        assert_eq!(report.instructions, None);
    }
}

#[tokio::test]
async fn args_are_dollar_one_to_four() {
    let project = Project::new();
    let mut inv = project.invocation(script_program(
        &project,
        "printf '[%s]\\n' \"$1\" \"$2\" \"$3\" \"$4\"; echo \"$#\"\n",
    ));
    inv.args = vec![
        "site group".into(),
        "01live".into(),
        "db role".into(),
        "ünï.example.com".into(),
    ];
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert_eq!(
        sink.stdout(),
        [
            "[site group]",
            "[01live]",
            "[db role]",
            "[ünï.example.com]",
            "4"
        ]
    );
}

#[tokio::test]
async fn env_is_exactly_the_invocation_env() {
    // SAFETY: a test-only variable no other test reads; set before any hook starts.
    unsafe { std::env::set_var("HOOKBOX_NATIVE_TEST_LEAK", "leaked") };
    let project = Project::new();
    let mut inv = project.invocation(script_program(&project, "env\n"));
    inv.env
        .insert("APP_SETTING".into(), "value with spaces".into());
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0));
    let mut names: Vec<String> = sink
        .stdout()
        .iter()
        .map(|l| l.split('=').next().unwrap_or("").to_string())
        .collect();
    names.sort();
    // bash itself exports PWD, SHLVL and `_` to its children: nothing else may appear.
    assert_eq!(names, ["APP_SETTING", "HOME", "PATH", "PWD", "SHLVL", "_"]);
    assert!(sink
        .stdout()
        .contains(&"APP_SETTING=value with spaces".to_string()));
    assert!(!sink.stdout().iter().any(|l| l.contains("leaked")));
}

#[tokio::test]
async fn cwd_is_the_work_dir() {
    let project = Project::new();
    let inv = project.invocation(script_program(&project, "pwd -P\n"));
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0));
    let expected = project.path().canonicalize().unwrap();
    assert_eq!(sink.stdout(), [expected.display().to_string()]);
}

#[tokio::test]
async fn stdin_is_empty() {
    let (report, sink) =
        run_script("read -r line; echo \"read=$? line=[$line]\"; wc -c < /dev/stdin\n").await;
    assert_eq!(report.exit, Exit::Code(0));
    assert_eq!(sink.stdout(), ["read=1 line=[]", "0"]);
}

#[tokio::test]
async fn syntax_error_fails_before_any_line_runs() {
    let project = Project::new();
    let marker = project.path().join("marker");
    let body = format!(
        "touch '{}'\necho ran\nif then\n  echo never\n",
        marker.display()
    );
    let script = project.script("broken.sh", body.as_bytes());
    let inv = project.invocation(HookProgram::Script(script.clone()));
    let (report, sink) = run(&inv).await;
    assert_eq!(
        report.exit,
        Exit::Code(2),
        "bash's status for a syntax error"
    );
    assert!(!marker.exists(), "the first line must not have run");
    assert!(sink.stdout().is_empty(), "{:?}", sink.stdout());
    let stderr = sink.stderr().join("\n");
    assert!(
        stderr.contains(&format!("{}: line 3: syntax error", script.display())),
        "message names the file and line: {stderr}"
    );
}

#[tokio::test]
async fn syntax_error_in_a_command_line_fails_before_it_runs() {
    let project = Project::new();
    let marker = project.path().join("marker");
    let line = format!("touch '{}'; if then", marker.display());
    let inv = project.invocation(HookProgram::Command(line));
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(2));
    assert!(!marker.exists());
    assert!(sink.stderr().join("\n").contains("syntax error"));
}

#[tokio::test]
async fn timeout_stops_the_hook_and_leaves_nothing_running() {
    let project = Project::new();
    let (fg, bg) = (marker(), marker());
    let mut inv = project.invocation(script_program(
        &project,
        &format!("sleep {bg} &\necho started\nsleep {fg}\necho never\n"),
    ));
    inv.limits.timeout = Duration::from_secs(2);
    inv.limits.kill_grace = Duration::from_secs(1);
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::TimedOut);
    assert_eq!(sink.stdout(), ["started"]);
    assert!(report.duration < Duration::from_secs(20), "{report:?}");
    assert_none_left(&fg).await;
    assert_none_left(&bg).await;
}

#[tokio::test]
async fn timeout_kills_a_hook_that_ignores_sigterm() {
    let project = Project::new();
    let m = marker();
    let mut inv = project.invocation(script_program(
        &project,
        &format!("trap 'echo got TERM' TERM\nsleep {m} &\nwait\nwait\nsleep {m}\n"),
    ));
    inv.limits.timeout = Duration::from_secs(1);
    inv.limits.kill_grace = Duration::from_secs(1);
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::TimedOut);
    assert!(
        sink.stdout().contains(&"got TERM".to_string()),
        "{:?}",
        sink.stdout()
    );
    assert_none_left(&m).await;
}

#[tokio::test]
async fn background_child_is_killed_when_the_hook_exits() {
    let project = Project::new();
    let m = marker();
    let inv = project.invocation(script_program(
        &project,
        &format!("{}\necho done\n", started_then_sleep("", &m, "&")),
    ));
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert_eq!(sink.stdout(), ["done"]);
    assert_none_left(&m).await;
}

#[tokio::test]
async fn setsid_child_does_not_outlive_the_hook() {
    let project = Project::new();
    let (detached, in_timeout) = (marker(), marker());
    // `setsid -f` forks and leaves the process group and session: only the PID namespace
    // catches it.
    let inv = project.invocation(script_program(
        &project,
        &format!(
            "{}\necho done\n",
            started_then_sleep("setsid -f", &detached, "")
        ),
    ));
    let (report, _) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert_none_left(&detached).await;

    let mut inv = project.invocation(script_program(
        &project,
        &format!(
            "{}\nsleep 30\n",
            started_then_sleep("setsid -f", &in_timeout, "")
        ),
    ));
    inv.limits.timeout = Duration::from_secs(1);
    inv.limits.kill_grace = Duration::from_millis(500);
    let (report, _) = run(&inv).await;
    assert_eq!(report.exit, Exit::TimedOut);
    assert_none_left(&in_timeout).await;
}

#[tokio::test]
async fn setsid_child_escapes_the_process_group_only_containment() {
    // The documented weaker mode: background jobs die with the group, a setsid child does not.
    let project = Project::new();
    let (job, detached) = (marker(), marker());
    let inv = project.invocation(script_program(
        &project,
        &format!(
            "{}\n{}\n",
            started_then_sleep("", &job, "&"),
            started_then_sleep("setsid -f", &detached, "")
        ),
    ));
    let runner = NativeRunner::with_containment(Containment::ProcessGroup);
    let report = run_with(&runner, &inv, Sink::new()).await.unwrap();
    assert_eq!(report.exit, Exit::Code(0));
    assert_none_left(&job).await;
    let escaped = processes_with(&detached);
    for line in &escaped {
        if let Some(pid) = line.split(':').next().and_then(|p| p.parse::<i32>().ok()) {
            // SAFETY: kill on a pid we just found running our marker.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
    assert!(
        !escaped.is_empty(),
        "the documented gap of ProcessGroup mode"
    );
}

#[tokio::test]
async fn cancel_stops_the_hook() {
    let project = Project::new();
    let m = marker();
    let inv = project.invocation(script_program(
        &project,
        &format!("sleep {m} &\necho started\nsleep 30\n"),
    ));
    let (cancel, cancelled) = tokio::sync::watch::channel(false);
    let sink = Sink::new();
    let runner = NativeRunner::new();
    let started = Instant::now();
    let run = runner.run(&inv, sink.clone(), cancelled);
    let trigger = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        cancel.send(true).unwrap();
    };
    let (report, ()) = tokio::join!(run, trigger);
    let report = report.unwrap();
    assert_eq!(report.exit, Exit::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(sink.stdout(), ["started"]);
    assert_none_left(&m).await;
}

#[tokio::test]
async fn already_cancelled_runs_nothing() {
    let project = Project::new();
    let marker_file = project.path().join("ran");
    let inv = project.invocation(script_program(
        &project,
        &format!("touch '{}'\n", marker_file.display()),
    ));
    let (_cancel, cancelled) = tokio::sync::watch::channel(true);
    let report = NativeRunner::new()
        .run(&inv, Sink::new(), cancelled)
        .await
        .unwrap();
    assert_eq!(report.exit, Exit::Cancelled);
    assert!(!marker_file.exists());
}

#[tokio::test]
async fn killed_by_a_signal_reports_it() {
    let (report, _) = run_script("kill -USR1 $$\n").await;
    assert_eq!(report.exit, Exit::Signal(libc::SIGUSR1));
    let (report, _) = run_script("kill -KILL $$\n").await;
    assert_eq!(report.exit, Exit::Signal(libc::SIGKILL));
    let (report, _) = run_script("kill -TERM $$\n").await;
    assert_eq!(report.exit, Exit::Signal(libc::SIGTERM));
}

#[tokio::test]
async fn output_is_streamed_as_it_comes() {
    let (report, sink) = run_script("echo first\necho err >&2\nsleep 2\necho second\n").await;
    assert_eq!(report.exit, Exit::Code(0));
    let ended = Instant::now();
    let lines = sink.lines.lock().unwrap();
    let (_, first, first_at) = &lines[0];
    assert_eq!(first, b"first");
    assert_eq!(sink_texts(&lines), ["first", "err", "second"]);
    let second_at = lines[2].2;
    assert!(
        second_at.duration_since(*first_at) >= Duration::from_millis(1500),
        "the first line arrived before the hook slept, not at its end"
    );
    assert!(ended >= second_at);
}

fn sink_texts(lines: &[(Stream, Vec<u8>, Instant)]) -> Vec<String> {
    lines
        .iter()
        .map(|(_, l, _)| String::from_utf8_lossy(l).into_owned())
        .collect()
}

#[tokio::test]
async fn one_gigabyte_of_output_is_cut_at_the_cap_without_failing() {
    let project = Project::new();
    let inv = project.invocation(script_program(
        &project,
        "head -c 1073741824 /dev/zero | tr '\\0' x\necho after >&2\nexit 0\n",
    ));
    let sink = Sink::counting();
    let report = run_with(&NativeRunner::new(), &inv, sink.clone())
        .await
        .unwrap();
    assert_eq!(
        report.exit,
        Exit::Code(0),
        "the hook is not failed for its output"
    );
    assert!(report.output_truncated);
    let cap = inv.limits.output_cap_bytes;
    assert_eq!(*sink.truncated.lock().unwrap(), [cap], "one marker");
    // Lines are counted with their newline; chunks of a long line add one each.
    let delivered = sink.bytes.load(Ordering::Relaxed);
    assert!(
        delivered <= cap + cap / LINE_CHUNK_BYTES as u64 + 2,
        "{delivered}"
    );
    assert!(
        delivered >= cap,
        "output up to the cap is kept: {delivered}"
    );
    assert!(sink.longest.load(Ordering::Relaxed) <= LINE_CHUNK_BYTES);
}

#[tokio::test]
async fn output_cap_counts_both_streams() {
    // 60 bytes on each stream: each alone is under the 100-byte cap, together they are not.
    let project = Project::new();
    let mut inv = project.invocation(script_program(
        &project,
        "printf '%059d\\n' 1 >&2\nprintf '%059d\\n' 2\n",
    ));
    inv.limits.output_cap_bytes = 100;
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert!(report.output_truncated);
    let lines = sink.lines.lock().unwrap().len();
    let text: usize = sink
        .lines
        .lock()
        .unwrap()
        .iter()
        .map(|(_, l, _)| l.len())
        .sum();
    // Every delivered line but the one cut by the cap had its newline counted.
    assert_eq!(lines, 2);
    assert_eq!(text + 1, 100, "output up to the cap is kept");
    assert_eq!(sink.truncated.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn crlf_script_behaves_as_bash_does() {
    let project = Project::new();
    let script = project.script("crlf.sh", b"#!/bin/bash\r\necho hi\r\nexit 3\r\n");
    let inv = project.invocation(HookProgram::Script(script.clone()));
    let (report, sink) = run(&inv).await;
    let bash = bash_oracle(&inv, &script);
    assert_eq!(report.exit, Exit::Code(bash.status.code().unwrap()));
    assert_eq!(sink.raw(Stream::Stdout), bash.stdout);
    assert_eq!(sink.raw(Stream::Stderr), bash.stderr);
    assert_eq!(sink.raw(Stream::Stdout), b"hi\r\n");
}

#[tokio::test]
async fn crlf_script_with_a_block_is_a_syntax_error() {
    let project = Project::new();
    let script = project.script(
        "crlf-if.sh",
        b"#!/bin/bash\r\necho hi\r\nif true; then\r\n  echo yes\r\nfi\r\n",
    );
    let inv = project.invocation(HookProgram::Script(script.clone()));
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(2));
    assert!(sink.stdout().is_empty(), "no line ran: {:?}", sink.stdout());
    assert!(sink
        .stderr()
        .join("\n")
        .contains(&script.display().to_string()));
}

#[tokio::test]
async fn hook_never_runs_as_root() {
    let (report, sink) = run_script("id -u\nid -g\nid -G\n").await;
    assert_eq!(report.exit, Exit::Code(0));
    let out = sink.stdout();
    assert_eq!(out[0], "65534", "nobody by default: {out:?}");
    assert_ne!(out[1], "0");
    assert!(
        !out[2].split(' ').any(|g| g == "0"),
        "no root group: {out:?}"
    );
}

#[tokio::test]
async fn run_as_names_the_user_and_root_is_refused() {
    let project = Project::new();
    let mut inv = project.invocation(script_program(&project, "id -u\n"));
    inv.policy.run_as = Some("65533".into());
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert_eq!(sink.stdout(), ["65533"]);

    inv.policy.run_as = Some("root".into());
    let err = run_with(&NativeRunner::new(), &inv, Sink::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("never run as root"), "{err}");
}

#[tokio::test]
async fn hook_cannot_regain_root_through_setuid_programs() {
    let project = Project::new();
    // A set-uid-root copy of `id`: with no_new_privs the bit is ignored.
    let id = project.path().join("suid-id");
    std::fs::copy("/usr/bin/id", &id).unwrap();
    std::fs::set_permissions(&id, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let inv = project.invocation(script_program(
        &project,
        &format!("'{}' -u\n", id.display()),
    ));
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert_eq!(sink.stdout(), ["65534"]);
}

#[tokio::test]
async fn non_utf8_paths_and_unicode_args() {
    let project = Project::new();
    let dir = project.path().join(OsStr::from_bytes(b"work-\xff\xfe"));
    std::fs::create_dir(&dir).unwrap();
    give_to_nobody(&dir);
    let script = dir.join(OsStr::from_bytes(b"hook-\xe9.sh"));
    std::fs::write(&script, "printf '%s\\n' \"$PWD\" \"$0\" \"$1\"\n").unwrap();
    let mut inv = project.invocation(HookProgram::Script(script.clone()));
    inv.work_dir = dir.clone();
    inv.args = vec!["ärg ✓".into()];
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0));
    let mut expected = Vec::new();
    for part in [dir.as_os_str(), script.as_os_str(), OsStr::new("ärg ✓")] {
        expected.extend_from_slice(part.as_bytes());
        expected.push(b'\n');
    }
    assert_eq!(sink.raw(Stream::Stdout), expected);
}

#[tokio::test]
async fn binary_file_as_script_fails_like_bash() {
    let project = Project::new();
    let script = project.script(
        "binary.sh",
        b"\x7fELF\x02\x01\x01\x00\x00\x00garbage\n\x00\x01",
    );
    let inv = project.invocation(HookProgram::Script(script.clone()));
    let (report, sink) = run(&inv).await;
    let bash = bash_oracle(&inv, &script);
    assert_eq!(report.exit, Exit::Code(bash.status.code().unwrap()));
    assert_eq!(report.exit, Exit::Code(126));
    assert_eq!(sink.raw(Stream::Stderr), bash.stderr);
    assert!(sink
        .stderr()
        .join("")
        .contains("cannot execute binary file"));
}

#[tokio::test]
async fn empty_script_exits_zero_like_bash() {
    let (report, sink) = run_script("").await;
    assert_eq!(report.exit, Exit::Code(0));
    assert!(sink.lines.lock().unwrap().is_empty());
}

#[tokio::test]
async fn missing_script_fails_like_bash() {
    let project = Project::new();
    let script = project.path().join("missing.sh");
    let inv = project.invocation(HookProgram::Script(script.clone()));
    let (report, sink) = run(&inv).await;
    let bash = bash_oracle(&inv, &script);
    assert_eq!(report.exit, Exit::Code(bash.status.code().unwrap()));
    assert_eq!(sink.raw(Stream::Stderr), bash.stderr);
}

#[tokio::test]
async fn command_line_gets_args_and_hook_name_as_dollar_zero() {
    let project = Project::new();
    let mut inv = project.invocation(HookProgram::Command("echo \"$0:$1:$2\"; exit 7".into()));
    inv.args = vec!["a".into(), "b c".into()];
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(7));
    assert_eq!(sink.stdout(), ["test-hook:a:b c"]);
}

#[tokio::test]
async fn shebang_options_are_kept() {
    let (report, sink) = run_script("#!/bin/bash -e\nfalse\necho not reached\n").await;
    assert_eq!(report.exit, Exit::Code(1));
    assert!(sink.stdout().is_empty());
}

#[tokio::test]
async fn other_shebang_runs_through_its_interpreter_without_exec_bit() {
    let project = Project::new();
    let script = project.script(
        "hook.py",
        b"#!/usr/bin/python3\nimport sys\nprint('py', sys.argv[1:])\nsys.exit(4)\n",
    );
    let mut inv = project.invocation(HookProgram::Script(script.clone()));
    inv.args = vec!["x".into()];
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(4));
    assert_eq!(sink.stdout(), ["py ['x']"]);
    let mode = std::fs::metadata(&script).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644, "the user's file is not chmod-ed");
}

#[tokio::test]
async fn missing_interpreter_fails_with_126() {
    let (report, sink) = run_script("#!/no/such/interpreter\necho hi\n").await;
    assert_eq!(report.exit, Exit::Code(126));
    assert!(
        sink.stderr().join("").contains("bad interpreter"),
        "{:?}",
        sink.stderr()
    );
}

#[tokio::test]
async fn wasm_is_left_to_the_sandbox() {
    let project = Project::new();
    let inv = project.invocation(HookProgram::Wasm(project.path().join("hook.wasm")));
    let err = run_with(&NativeRunner::new(), &inv, Sink::new())
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Unsupported { .. }), "{err:?}");
}

#[tokio::test]
async fn missing_work_dir_is_a_runner_error() {
    let project = Project::new();
    let mut inv = project.invocation(script_program(&project, "echo hi\n"));
    inv.work_dir = project.path().join("nope");
    let err = run_with(&NativeRunner::new(), &inv, Sink::new())
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Program { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_run_concurrently_on_one_runner() {
    let runner = Arc::new(NativeRunner::new());
    let mut tasks = Vec::new();
    for i in 0..4 {
        let runner = runner.clone();
        tasks.push(tokio::spawn(async move {
            let project = Project::new();
            let m = marker();
            let mut inv = project.invocation(script_program(
                &project,
                &format!("sleep {m} &\nsleep 1; exit {i}\n"),
            ));
            if i == 3 {
                inv.limits.timeout = Duration::from_millis(500);
            }
            let report = run_with(&runner, &inv, Sink::new()).await.unwrap();
            let expected = if i == 3 {
                Exit::TimedOut
            } else {
                Exit::Code(i)
            };
            assert_eq!(report.exit, expected);
            assert_none_left(&m).await;
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test]
async fn dropping_the_run_future_kills_the_hook() {
    // A caller that gives up on a run (select!, a dropped task) must not leak the hook.
    let project = Project::new();
    let (fg, bg) = (marker(), marker());
    let inv = project.invocation(script_program(
        &project,
        &format!("{}\nsleep {fg}\n", started_then_sleep("setsid -f", &bg, "")),
    ));
    let runner = NativeRunner::new();
    let (_cancel, cancelled) = tokio::sync::watch::channel(false);
    let run = runner.run(&inv, Sink::new(), cancelled);
    let gave_up = tokio::time::timeout(Duration::from_secs(2), run).await;
    assert!(gave_up.is_err(), "the hook was still running");
    assert_none_left(&fg).await;
    assert_none_left(&bg).await;
}

/// Set in the environment of the copy of this test binary that runs as an unprivileged user.
const UNPRIVILEGED_INNER: &str = "HOOKBOX_TEST_UNPRIVILEGED_INNER";

#[test]
fn unprivileged_hookbox_still_contains_its_hooks() {
    // hookbox itself not root (a developer's machine): hooks run as hookbox's user, and the
    // PID namespace comes from a user namespace. The tests run as root, so this runs a copy of
    // this test binary as `nobody` with only the inner test below.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.path().join("e2e");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&exe)
        .args([
            "--exact",
            "native::unprivileged_inner",
            "--ignored",
            "--nocapture",
        ])
        .env(UNPRIVILEGED_INNER, "1")
        .current_dir("/")
        .output()
        .expect("run setpriv");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
#[ignore = "run by unprivileged_hookbox_still_contains_its_hooks as an unprivileged user"]
async fn unprivileged_inner() {
    if std::env::var_os(UNPRIVILEGED_INNER).is_none() {
        return;
    }
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    assert_ne!(uid, 0, "must run unprivileged");
    let dir = tempfile::tempdir().unwrap();
    // Kept alive: its folder is the hook's temporary directory, a grant that must exist.
    let project = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    let mut inv = project.invocation(HookProgram::Command(String::new()));
    inv.work_dir = dir.path().to_path_buf();
    let detached = marker();
    let script = dir.path().join("hook.sh");
    std::fs::write(
        &script,
        format!(
            "id -u\nls /proc | grep -c '^[0-9]'\n{}\nkill -USR2 $$\n",
            started_then_sleep("setsid -f", &detached, "")
        ),
    )
    .unwrap();
    inv.program = HookProgram::Script(script);
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Signal(libc::SIGUSR2));
    let out = sink.stdout();
    assert_eq!(out[0], uid.to_string());
    // This host allows a /proc of the hook's own (user-owned) PID namespace.
    assert!(out[1].parse::<usize>().unwrap() <= 4, "{out:?}");
    assert_none_left(&detached).await;
}

#[tokio::test]
async fn relative_script_path_is_relative_to_the_work_dir() {
    let project = Project::new();
    project.script("rel.sh", b"#!/usr/bin/env bash\necho \"$0\"\n");
    let inv = project.invocation(HookProgram::Script(PathBuf::from("rel.sh")));
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert_eq!(
        sink.stdout(),
        [project.path().join("rel.sh").display().to_string()]
    );
}

#[tokio::test]
async fn script_the_hook_user_cannot_read_fails_with_126() {
    let project = Project::new();
    let script = project.script("secret.sh", b"echo should not run\n");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o600)).unwrap();
    let inv = project.invocation(HookProgram::Script(script));
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(126));
    assert!(sink.stdout().is_empty());
    assert!(
        sink.stderr().join("").contains("Permission denied"),
        "{:?}",
        sink.stderr()
    );
}

#[tokio::test]
async fn hook_sees_only_its_own_processes_in_proc() {
    let (report, sink) = run_script(
        "tr '\\0' ' ' < /proc/$$/cmdline; echo\nls /proc | grep -c '^[0-9]'\n[ -e /proc/$PPID ] && echo \"ppid $PPID\"; true\n",
    )
    .await;
    assert_eq!(report.exit, Exit::Code(0));
    let out = sink.stdout();
    assert!(
        out[0].starts_with("bash "),
        "/proc/$$ is the hook itself: {out:?}"
    );
    let visible: usize = out[1].parse().unwrap();
    // init, the hook, `ls` and `grep`: nothing of the host.
    assert!(visible <= 4, "{out:?}");
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    assert!(!out.iter().any(|l| l == &format!("ppid {me}")));
}

/// `Limits::file_size_bytes` is the native hook's `RLIMIT_FSIZE` too (one limit for guests,
/// native hooks and bridged commands): a write past it fails, a smaller one does not.
#[tokio::test]
async fn the_file_size_limit_is_the_hooks_rlimit_fsize() {
    let project = Project::new();
    let mut inv = project.invocation(script_program(
        &project,
        "trap '' XFSZ\nhead -c 300000 /dev/zero > small && echo small-ok\nhead -c 2000000 /dev/zero > big || echo big-refused\nstat -c %s big\n",
    ));
    inv.limits.file_size_bytes = 1_000_000;
    let (report, sink) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0), "{:?}", sink.stderr());
    assert_eq!(
        sink.stdout(),
        ["small-ok", "big-refused", "1000000"],
        "{:?}",
        sink.stderr()
    );
}
