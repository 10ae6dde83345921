//! Shell hooks in both runners: the same scripts (every bash example of the seeds, and
//! hooks written for the lifecycle rules) run as hooks through the native runner (real
//! bash) and the sandbox runner (the bundled shell), and must agree: exit, stdout lines,
//! stderr lines. Also: a syntax error anywhere fails before any line runs, in both; a
//! compiled hook (`hookbox compile`) runs like its script through `hookbox exec`.

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hookbox::bridge::policy::{Policy, DEFAULT_POLICY_PATH};
use hookbox::limits::Limits;
use hookbox::plan::HookProgram;
use hookbox::runner::native::NativeRunner;
use hookbox::runner::{Exit, Invocation, OutputSink, Runner, Stream};
use hookbox_tests::hookbox;

#[derive(Default)]
struct Lines(Mutex<Vec<(Stream, String)>>);

impl OutputSink for Lines {
    fn line(&self, stream: Stream, line: &[u8]) {
        self.0
            .lock()
            .unwrap()
            .push((stream, String::from_utf8_lossy(line).into_owned()));
    }
    fn truncated(&self, _cap_bytes: u64) {}
}

impl Lines {
    fn of(&self, stream: Stream) -> Vec<String> {
        let lines = self.0.lock().unwrap();
        lines
            .iter()
            .filter(|(s, _)| *s == stream)
            .map(|(_, l)| l.clone())
            .collect()
    }
}

/// A project folder the unprivileged hook user may use (the tests run as root).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let c = std::ffi::CString::new(dir.path().as_os_str().as_bytes()).unwrap();
    // SAFETY: chown on a NUL-terminated path.
    let rc = unsafe { libc::chown(c.as_ptr(), 65534, 65534) };
    assert_eq!(rc, 0);
    dir
}

fn invocation(dir: &Path, program: HookProgram, args: &[&str]) -> Invocation {
    let work = std::fs::canonicalize(dir).unwrap();
    Invocation {
        hook_name: "hook".into(),
        stage: "pre-deploy".into(),
        program,
        args: args.iter().map(|a| a.to_string()).collect(),
        env: BTreeMap::from([
            ("PATH".to_string(), DEFAULT_POLICY_PATH.to_string()),
            ("HOME".to_string(), work.display().to_string()),
            ("APP_PORT".to_string(), "1".to_string()),
            (
                "DATABASE_URL".to_string(),
                "postgresql://user:pass@host:5432/db".to_string(),
            ),
        ]),
        work_dir: work.clone(),
        temp_dir: work,
        shared_dirs: Vec::new(),
        limits: Limits::default(),
        policy: Policy {
            // What the native runner can start, the sandbox may start too.
            allow: [
                "curl", "npx", "drush", "drush8", "php", "git", "sqlite3", "sed",
            ]
            .map(String::from)
            .to_vec(),
            ..Policy::default()
        },
    }
}

struct Ran {
    exit: Exit,
    stdout: Vec<String>,
    stderr: Vec<String>,
}

/// One runtime for these tests: the shared sandbox runner's bridge lives on it.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Runtime::new().unwrap())
}

fn run_both(body: &str, args: &[&str]) -> (Ran, Ran) {
    let runtime = runtime();
    let mut out = Vec::new();
    for sandboxed in [false, true] {
        let dir = project();
        let script = dir.path().join("hook.sh");
        std::fs::write(&script, body).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let script = std::fs::canonicalize(&script).unwrap();
        let inv = invocation(dir.path(), HookProgram::Script(script.clone()), args);
        let lines = Arc::new(Lines::default());
        let native = NativeRunner::new();
        let sandbox = super::sandbox::runner();
        let runner: &dyn Runner = if sandboxed { &*sandbox } else { &native };
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let report = runtime
            .block_on(runner.run(&inv, lines.clone(), rx))
            .unwrap_or_else(|e| panic!("sandboxed={sandboxed}: {e}"));
        let mask = |v: Vec<String>| {
            v.into_iter()
                .map(|l| l.replace(&*script.to_string_lossy(), "HOOK"))
                .collect::<Vec<_>>()
        };
        out.push(Ran {
            exit: report.exit,
            stdout: mask(lines.of(Stream::Stdout)),
            stderr: mask(lines.of(Stream::Stderr)),
        });
    }
    let sandbox = out.pop().unwrap();
    let native = out.pop().unwrap();
    (native, sandbox)
}

/// Bash code blocks with a shebang, from the seed documents (beside the repository, or the
/// workplace's shared folder).
fn seed_scripts() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dirs = [
        root.join("../shared/seeds"),
        PathBuf::from("/work/shared/seeds"),
    ];
    let Some(dir) = dirs.iter().find(|d| d.is_dir()) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut scripts = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let mut lines = text.lines().enumerate();
        while let Some((n, line)) = lines.next() {
            let trimmed = line.trim_start();
            let fenced = trimmed.starts_with("```bash") || trimmed.starts_with("```sh");
            let indented = line.starts_with("    #!");
            if fenced {
                let body: Vec<&str> = lines
                    .by_ref()
                    .map(|(_, l)| l)
                    .take_while(|l| !l.trim_start().starts_with("```"))
                    .collect();
                if body.first().is_some_and(|l| l.starts_with("#!")) {
                    scripts.push((format!("{name}:{}", n + 1), body.join("\n") + "\n"));
                }
            } else if indented {
                let mut body = vec![&line[4..]];
                for (_, l) in lines.by_ref() {
                    if !(l.starts_with("    ") || l.trim().is_empty()) {
                        break;
                    }
                    body.push(l.get(4..).unwrap_or(""));
                }
                scripts.push((format!("{name}:{}", n + 1), body.join("\n") + "\n"));
            }
        }
    }
    scripts
}

fn assert_agree(what: &str, native: &Ran, sandbox: &Ran, compare_stderr: bool) {
    assert_eq!(
        native.exit, sandbox.exit,
        "{what}: exit differs\nnative stderr: {:?}\nsandbox stderr: {:?}",
        native.stderr, sandbox.stderr
    );
    assert_eq!(native.stdout, sandbox.stdout, "{what}: stdout differs");
    if compare_stderr {
        assert_eq!(native.stderr, sandbox.stderr, "{what}: stderr differs");
    }
}

#[test]
fn seed_scripts_agree_in_both_runners() {
    let scripts = seed_scripts();
    if scripts.is_empty() {
        eprintln!("no seed documents here; nothing to compare");
        return;
    }
    let mut disagree = Vec::new();
    for (name, body) in &scripts {
        // `npx` would download packages from a registry (tests never use the network).
        if body.contains("npx ") || body.contains("bundle ") {
            continue;
        }
        let (native, sandbox) = run_both(body, &["mygroup", "01live", "db1", "example.com"]);
        if native.exit != sandbox.exit || native.stdout != sandbox.stdout {
            disagree.push(format!(
                "{name}: native {:?} {:?} {:?} / sandbox {:?} {:?} {:?}",
                native.exit,
                native.stdout,
                native.stderr,
                sandbox.exit,
                sandbox.stdout,
                sandbox.stderr
            ));
        }
    }
    println!(
        "{} seed scripts, {} disagree",
        scripts.len(),
        disagree.len()
    );
    assert!(
        disagree.is_empty(),
        "runners disagree:\n{}",
        disagree.join("\n")
    );
}

#[test]
fn lifecycle_rules_agree_in_both_runners() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("exit status", "#!/bin/bash\necho start\nexit 7\n", &[]),
        ("not found is 127", "#!/bin/bash\nno-such-command-here\necho \"st=$?\"\n", &[]),
        ("set -e stops", "#!/bin/bash\nset -e\necho a\nfalse\necho never\n", &[]),
        (
            "site factory args",
            "#!/usr/bin/env bash\necho \"$1|$2|$3|$4|$#\"\n",
            &["g", "01live", "db", "example.com"],
        ),
        (
            "stderr and stdout",
            "#!/bin/bash\necho out\necho err >&2\nprintf 'no newline'\n",
            &[],
        ),
        (
            "password stays out",
            "#!/bin/bash\nif [ -z \"$DATABASE_URL\" ]; then exit 1; fi\necho \"${DATABASE_URL%%:*}://***\"\n",
            &[],
        ),
        (
            "work dir files",
            "#!/bin/sh\necho hi > made.txt\ncat made.txt\nls\npwd | sed 's|.*/||' | wc -c\n",
            &[],
        ),
        ("shebang -e", "#!/bin/bash -e\necho a\nfalse\necho never\n", &[]),
        (
            "stdin is empty",
            "#!/bin/bash\nread -r line; echo \"read=$? line=[$line]\"\n",
            &[],
        ),
    ];
    for (what, body, args) in cases {
        let (native, sandbox) = run_both(body, args);
        // A command the policy does not allow fails like a missing one (127) but says why.
        let same_stderr = !what.starts_with("not found");
        assert_agree(what, &native, &sandbox, same_stderr);
    }
}

#[test]
fn syntax_error_anywhere_fails_before_any_line_in_both_runners() {
    let body = "#!/bin/bash\necho ran > ran.txt\necho ran\nif then\n  echo never\n";
    let (native, sandbox) = run_both(body, &[]);
    assert_eq!(native.exit, Exit::Code(2));
    assert_agree("syntax error", &native, &sandbox, true);
    assert!(sandbox.stdout.is_empty());
    assert!(
        sandbox
            .stderr
            .iter()
            .any(|l| l.starts_with("HOOK: line 4: syntax error")),
        "{:?}",
        sandbox.stderr
    );
}

#[test]
fn a_compiled_hook_runs_like_its_script() {
    let dir = project();
    let body = "#!/bin/bash\nset -e\necho \"args: $*\"\nfor i in 1 2 3; do printf '%s;' \"$((i * i))\"; done\necho\necho oops >&2\nexit 3\n";
    std::fs::write(dir.path().join("hook.sh"), body).unwrap();
    let compiled = hookbox()
        .current_dir(dir.path())
        .env("HOOKBOX_CACHE_DIR", super::sandbox::shared_cache_dir())
        .args(["compile", "hook.sh", "-o", "hook.wasm"])
        .output()
        .unwrap();
    assert!(compiled.status.success(), "{compiled:?}");
    let module = std::fs::read(dir.path().join("hook.wasm")).unwrap();
    assert_eq!(
        hookbox::runner::sandbox::embedded_script(&dir.path().join("hook.wasm"))
            .unwrap()
            .as_deref(),
        Some(body)
    );
    assert!(module.starts_with(b"\0asm"));
    let ran = hookbox()
        .current_dir(dir.path())
        .env("HOOKBOX_CACHE_DIR", super::sandbox::shared_cache_dir())
        .args(["exec", "hook.wasm", "--", "a", "b"])
        .output()
        .unwrap();
    let bash = std::process::Command::new("bash")
        .current_dir(dir.path())
        .args(["hook.sh", "a", "b"])
        .output()
        .unwrap();
    assert_eq!(ran.status.code(), bash.status.code());
    assert_eq!(ran.stdout, bash.stdout);
    assert_eq!(ran.stderr, bash.stderr);
}

#[test]
fn compile_refuses_a_syntax_error_and_writes_nothing() {
    let dir = project();
    std::fs::write(dir.path().join("bad.sh"), "echo fine\nif then\n").unwrap();
    let out = hookbox()
        .current_dir(dir.path())
        .env("HOOKBOX_CACHE_DIR", super::sandbox::shared_cache_dir())
        .args(["compile", "bad.sh", "-o", "bad.wasm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.sh: line 2: syntax error"), "{stderr}");
    assert!(!dir.path().join("bad.wasm").exists());
}

#[test]
fn hookbox_shell_behaves_like_sh() {
    let dir = project();
    let shell = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = hookbox()
            .current_dir(dir.path())
            .env("HOOKBOX_CACHE_DIR", super::sandbox::shared_cache_dir())
            .arg("shell")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = shell(
        &[
            "-c",
            "echo \"$0 $1\"; printf partial; echo e >&2; exit 5",
            "A",
            "B",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(out.stdout, b"A B\npartial");
    assert_eq!(out.stderr, b"e\n");
    // A late syntax error: the lines before it run (a shell, not a hook).
    let out = shell(&[], "echo before\nif then\n");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(out.stdout, b"before\n");
    let out = shell(&["--timeout", "1", "-c", "while :; do :; done"], "");
    assert_eq!(out.status.code(), Some(124));
    assert!(String::from_utf8_lossy(&out.stderr).contains("time limit"));
    let out = shell(&["--fuel", "100000", "-c", "while :; do :; done"], "");
    assert_eq!(out.status.code(), Some(137));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fuel"));
    // No commands unless allowed; a denied one fails like a missing one.
    let out = shell(&["-c", "id -u"], "");
    assert_eq!(out.status.code(), Some(127));
}
