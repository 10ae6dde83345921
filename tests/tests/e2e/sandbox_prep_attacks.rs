//! Attacks on the way hookbox prepares a sandboxed hook (reading, checking and compiling its
//! module) and on the small limits around every hook: the guest's file size, secrets cut by
//! the 64 KiB line split, durations too large for a deadline, and shebangs the runners must
//! read alike. Each test fails when its defence is removed (checked once by removing it):
//! where the undefended hookbox would grow without bound or hang, the binary runs under a
//! data limit and a watchdog so the test fails instead of the machine.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hookbox::limits::Limits;
use hookbox::plan::HookProgram;
use hookbox::runner::{Exit, RunError};
use hookbox_tests::hookbox;

use super::lifecycle::Project;
use super::sandbox::{run_with, runner, Fixture};

/// What a watched run of the binary gave.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs `cmd` with its data segment (heap) limited to `data_bytes` and kills it after
/// `watchdog`: an undefended hookbox then fails the test (allocation failure, kill) instead
/// of exhausting the host.
fn watched(cmd: &mut Command, data_bytes: u64, watchdog: Duration) -> Ran {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: data_bytes,
                rlim_max: data_bytes,
            };
            if libc::setrlimit(libc::RLIMIT_DATA, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let started = Instant::now();
    let child = cmd.spawn().expect("start hookbox");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let dog = std::thread::spawn(move || {
        if rx.recv_timeout(watchdog).is_err() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    });
    let out = child.wait_with_output().expect("wait for hookbox");
    let _ = tx.send(());
    let _ = dog.join();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

const MIB: u64 = 1024 * 1024;
const WATCHDOG: Duration = Duration::from_secs(120);

fn leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A valid module of `n` empty functions (no `_start`): cheap to write, expensive to compile.
fn many_functions(n: u32) -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    let section = |m: &mut Vec<u8>, id: u8, payload: &[u8]| {
        m.push(id);
        leb(m, payload.len() as u64);
        m.extend_from_slice(payload);
    };
    section(&mut m, 1, &[1, 0x60, 0, 0]);
    let mut funcs = Vec::new();
    leb(&mut funcs, u64::from(n));
    funcs.extend(std::iter::repeat_n(0u8, n as usize));
    section(&mut m, 3, &funcs);
    let mut code = Vec::new();
    leb(&mut code, u64::from(n));
    for _ in 0..n {
        code.extend_from_slice(&[2, 0, 0x0b]);
    }
    section(&mut m, 10, &code);
    m
}

/// The "2 MiB of zeros", scaled up: a module header, then zeros. The old section
/// scan read it two bytes at a time with several system calls each, outside the deadline
/// (4–8 s for 2 MiB); it must now be refused, or stopped at the deadline.
#[test]
fn a_wasm_hook_of_zeros_ends_within_its_deadline() {
    let p = Project::new();
    let mut zeros = b"\0asm\x01\0\0\0".to_vec();
    zeros.resize(48 * MIB as usize, 0);
    std::fs::write(p.path().join("pre-deploy.wasm"), &zeros).unwrap();
    let log = p.path().join("hooks.log");
    let ran = watched(
        hookbox()
            .args(["run", "pre-deploy"])
            .arg(p.path())
            .args(["--timeout", "1", "--log-file"])
            .arg(&log),
        2 << 30,
        WATCHDOG,
    );
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(ran.code, 1, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        logged.contains("not a valid WebAssembly module") || logged.contains("timed out"),
        "{logged}"
    );
    // The deadline is 1 s; the slack is for a loaded 2-core machine, not a speed claim.
    assert!(
        ran.elapsed < Duration::from_secs(30),
        "the hook ran past its deadline: {:?}",
        ran.elapsed
    );
}

/// `/dev/zero` grew hookbox to 23 GB; a FIFO blocked it forever. Neither is read now.
#[test]
fn exec_of_a_device_or_a_fifo_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("hook.wasm");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    for module in [Path::new("/dev/zero"), fifo.as_path()] {
        let ran = watched(
            hookbox()
                .current_dir(dir.path())
                .arg("exec")
                .arg(module)
                .args(["--timeout", "5"]),
            1 << 30,
            Duration::from_secs(60),
        );
        assert_eq!(ran.code, 2, "{module:?}: {}", ran.stderr);
        assert!(
            ran.stderr.contains("not a regular file"),
            "{module:?}: {}",
            ran.stderr
        );
    }
}

/// A 1 GiB module was read whole (1.07 GB resident under `--memory 16M`); 80,000 empty
/// functions compiled for 10–22 s. Both are refused before compiling, naming the limit.
#[test]
fn oversized_and_overlong_modules_are_refused_before_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.wasm");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(1 << 30).unwrap();
    drop(file);
    let ran = watched(
        hookbox()
            .current_dir(dir.path())
            .args(["exec", "big.wasm", "--memory", "16M"]),
        512 * MIB,
        Duration::from_secs(60),
    );
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("module size limit") && ran.stderr.contains("1073741824 bytes"),
        "{}",
        ran.stderr
    );

    std::fs::write(dir.path().join("many.wasm"), many_functions(80_000)).unwrap();
    let ran = watched(
        hookbox()
            .current_dir(dir.path())
            .args(["exec", "many.wasm"]),
        2 << 30,
        WATCHDOG,
    );
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("80000 functions"),
        "refused for the wrong reason: {}",
        ran.stderr
    );
}

/// The library's own check of the size limit, on a real module (the probe) and a lower limit.
#[tokio::test]
async fn the_module_size_limit_is_a_limit_field() {
    let fx = Fixture::new();
    let mut inv = fx.probe(&["exit", "0"]);
    let (report, _) = run_with(&runner(), &inv).await.unwrap();
    assert_eq!(report.exit, Exit::Code(0));
    inv.limits.module_bytes_max = 4096;
    match run_with(&runner(), &inv).await {
        Err(RunError::Program { message, .. }) => {
            assert!(message.contains("limit of 4096 bytes"), "{message}")
        }
        other => panic!("not refused: {other:?}"),
    }
}

/// A hook swapped its `post-deploy.wasm` for a symlink to a root-only file; hookbox, as
/// root, read it and logged its first bytes. The module is now opened without following a
/// symlink, beneath the work directory, and the error says so without any of its bytes.
#[tokio::test]
async fn a_symlinked_module_to_a_root_only_file_is_refused_without_its_bytes() {
    let fx = Fixture::new();
    let secret = fx.base().join("root-only");
    std::fs::write(&secret, "SECRET-root-only-bytes\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let module = fx.work.join("post-deploy.wasm");
    std::os::unix::fs::symlink(&secret, &module).unwrap();
    // And a directory on the way out of the work directory.
    std::os::unix::fs::symlink(fx.base(), fx.work.join("up")).unwrap();
    for path in [module.clone(), fx.work.join("up/root-only")] {
        let mut inv = fx.probe(&[]);
        inv.program = HookProgram::Wasm(path.clone());
        let result = run_with(&runner(), &inv).await;
        let message = match &result {
            Err(RunError::Program { message, .. }) => message.clone(),
            other => panic!("{path:?} was not refused: {other:?}"),
        };
        assert!(
            message.contains("symbolic link") || message.contains("outside"),
            "{path:?}: {message}"
        );
        for leak in ["SECRET", "0x53", "83, 69", "root-only-bytes"] {
            assert!(!message.contains(leak), "{path:?} leaked {leak}: {message}");
        }
    }
}

/// The guest wrote an 1100 MiB file. A write through WASI that would end past
/// `file_size_bytes` fails with EFBIG and the file stays at most the limit.
#[tokio::test]
async fn the_guest_file_size_limit_stops_a_big_write() {
    let fx = Fixture::new();
    let mut inv = fx.probe(&[]);
    // 1 MiB of `x`, appended 30 times: 30 MiB against a 10 MiB limit.
    inv.program = HookProgram::Command(
        "s=x; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do s=\"$s$s\"; done
         n=0; while [ $n -lt 30 ]; do printf '%s' \"$s\" >> big.bin; n=$((n+1)); done
         echo wrote"
            .into(),
    );
    inv.limits = Limits {
        file_size_bytes: 10 * MIB,
        ..Limits::default()
    };
    let (_, out) = run_with(&runner(), &inv).await.unwrap();
    let size = std::fs::metadata(fx.work.join("big.bin")).unwrap().len();
    assert!(size <= 10 * MIB, "the file grew to {size} bytes");
    assert!(
        size >= 9 * MIB,
        "writes under the limit must succeed: {size}"
    );
    assert!(
        out.stderr().contains("file size limit reached"),
        "{}",
        out.stderr()
    );
    // Under the limit nothing changes.
    inv.limits.file_size_bytes = 64 * MIB;
    std::fs::remove_file(fx.work.join("big.bin")).unwrap();
    let (report, out) = run_with(&runner(), &inv).await.unwrap();
    assert_eq!(report.exit, Exit::Code(0), "{}", out.stderr());
    assert_eq!(
        std::fs::metadata(fx.work.join("big.bin")).unwrap().len(),
        30 * MIB
    );
}

const SPLIT_SECRET: &str = "sk-live-0123456789abcdef";

/// A secret printed across the 64 KiB line split reached the log in two halves. Both
/// runners, terminal and hooks.log.
#[test]
fn a_secret_straddling_the_64k_line_split_is_redacted() {
    for runner in ["native", "sandbox"] {
        let p = Project::new();
        // 65,531 `x` then the secret: the split at 65,536 falls 5 bytes into it.
        p.file(
            "pre-deploy.sh",
            "#!/bin/bash\npad=x\nfor i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do pad=\"$pad$pad\"; done\n\
             printf '%s%s tail\\n' \"${pad:0:65531}\" \"$API_TOKEN\"\n",
        );
        let log = p.path().join("hooks.log");
        let out = hookbox()
            .args(["run", "pre-deploy"])
            .arg(p.path())
            .args(["--runner", runner, "--log-file"])
            .arg(&log)
            .args(["--env", &format!("API_TOKEN={SPLIT_SECRET}")])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(out.status.success(), "{runner}: {stdout}");
        for (what, text) in [("stdout", &*stdout), ("hooks.log", &*logged)] {
            for piece in [SPLIT_SECRET, &SPLIT_SECRET[5..], &SPLIT_SECRET[..12]] {
                assert!(!text.contains(piece), "{runner} {what} shows `{piece}`");
            }
            assert!(
                text.contains("*** tail"),
                "{runner} {what} lost the line's end"
            );
        }
    }
}

/// `--timeout 18446744073709551615` and the same HOOK_TIMEOUT panicked (Instant + Duration
/// overflow). Every duration hookbox is given is refused past a day, exit 2, with a message.
#[test]
fn huge_durations_are_refused_with_a_message_not_a_panic() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\ntouch \"$WORK_DIR/ran\"\n");
    let huge = "18446744073709551615";
    let dir = p.path().display().to_string();
    type Case<'a> = (Vec<&'a str>, Option<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["run", "pre-deploy", &dir, "--timeout", huge],
            None,
            "--timeout",
        ),
        (
            vec!["run", "pre-deploy", &dir],
            Some(("HOOK_TIMEOUT", huge)),
            "HOOK_TIMEOUT",
        ),
        (
            vec!["deploy", &dir, "--timeout", "86401"],
            None,
            "--timeout",
        ),
        (
            vec!["deploy", &dir, "--health-timeout", huge],
            None,
            "--health-timeout",
        ),
        (vec!["exec", "x.wasm", "--timeout", huge], None, "--timeout"),
        (
            vec!["exec", "x.wasm"],
            Some(("HOOK_TIMEOUT", huge)),
            "HOOK_TIMEOUT",
        ),
        (
            vec!["shell", "--timeout", huge, "-c", "true"],
            None,
            "--timeout",
        ),
        (
            vec!["shell", "-c", "true"],
            Some(("HOOK_TIMEOUT", huge)),
            "HOOK_TIMEOUT",
        ),
    ];
    for (args, env, names) in cases {
        let mut cmd = hookbox();
        cmd.current_dir(p.path()).args(&args);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            stderr.contains(names) && stderr.contains("86400"),
            "{args:?} {env:?}: {stderr}"
        );
        assert!(!p.path().join("ran").exists(), "{args:?}: a hook ran");
    }
    // hookbox.toml: past a day is a configuration error naming the key, and a number past
    // TOML's integers is one too; neither panics.
    for value in ["9223372036854775807", huge] {
        let p = Project::new();
        p.file("pre-deploy.sh", "#!/bin/bash\ntouch \"$WORK_DIR/ran\"\n")
            .file(
                "hookbox.toml",
                &format!("[[hook]]\nstage = \"pre-deploy\"\nscript = \"pre-deploy.sh\"\ntimeout-seconds = {value}\n"),
            );
        let out = hookbox()
            .args(["run", "pre-deploy"])
            .arg(p.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value}: {stderr}");
        assert!(!stderr.contains("panicked"), "{value}: {stderr}");
        assert!(!p.path().join("ran").exists());
    }
}

/// discover, the native runner and the sandbox runner classify shebangs with one function:
/// `#!/usr/bin/env -S bash -e` is a shell hook with `-e`, in both runners.
#[test]
fn both_runners_run_an_env_split_string_bash_hook_alike() {
    let mut results = Vec::new();
    for runner in ["native", "sandbox"] {
        let p = Project::new();
        p.file(
            "pre-deploy.sh",
            "#!/usr/bin/env -S bash -e\necho before\nfalse\necho after\n",
        );
        let log = p.path().join("hooks.log");
        let out = hookbox()
            .args(["run", "pre-deploy"])
            .arg(p.path())
            .args(["--runner", runner, "--log-file"])
            .arg(&log)
            .output()
            .unwrap();
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(out.status.code(), Some(1), "{runner}: {logged}");
        assert!(logged.contains("before"), "{runner}: {logged}");
        assert!(!logged.contains("after"), "{runner}: -e was lost: {logged}");
        assert!(
            logged.contains("Hook failed with exit code 1"),
            "{runner}: {logged}"
        );
        results.push(
            logged
                .lines()
                .filter(|l| l.contains("stdout:") || l.contains("Hook failed"))
                .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_string())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(results[0], results[1], "the runners disagree");
}
