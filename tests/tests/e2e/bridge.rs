//! Attacks through the bridge's exec host, driven through `ExecHost` directly (the guest-level
//! versions go through the sandbox runner). Each test has a positive control where one is
//! needed, so that it fails if the defence it names is removed.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookbox::bridge::exec::{BridgeError, ExecConfig, ExecHost};
use hookbox::bridge::policy::{DirAccess, Network, Policy};
use hookbox::limits::Limits;
use hookbox::runner::Stream;
use tokio::time::Instant;

/// The user bridged commands run as when the tests run as root (the default `run_as`).
const NOBODY: u32 = 65534;
/// `irc` (Debian's uid 39, unused here): the fork bomb's own user.
const BOMB_USER: u32 = 39;

struct Fixture {
    work: tempfile::TempDir,
    temp: tempfile::TempDir,
    /// A path outside the granted directories that the hook user could write without
    /// confinement (`/tmp` is world-writable).
    outside: PathBuf,
    output: Arc<Mutex<Vec<u8>>>,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        Fixture::with_user(name, NOBODY)
    }

    fn with_user(name: &str, uid: u32) -> Fixture {
        let work = tempfile::tempdir().expect("work dir");
        let temp = tempfile::tempdir().expect("temp dir");
        for dir in [work.path(), temp.path()] {
            give_to(dir, uid);
        }
        let outside = PathBuf::from(format!(
            "/tmp/hookbox-bridge-outside-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&outside);
        Fixture {
            work,
            temp,
            outside,
            output: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn work(&self) -> &Path {
        self.work.path()
    }

    fn host(&self, policy: Policy, timeout: Duration) -> ExecHost {
        let output = Arc::clone(&self.output);
        ExecHost::new(ExecConfig {
            policy,
            work_dir: self.work.path().to_path_buf(),
            temp_dir: self.temp.path().to_path_buf(),
            deadline: Instant::now() + timeout,
            limits: Limits::default(),
            stdout: Arc::new(move |_stream: Stream, bytes: &[u8]| {
                output.lock().expect("output").extend_from_slice(bytes);
            }),
        })
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            ("HOME".into(), self.temp.path().display().to_string()),
            ("WORK".into(), self.work().display().to_string()),
            ("OUTSIDE".into(), self.outside.display().to_string()),
        ]
    }

    fn assert_outside_absent(&self) {
        assert!(
            !self.outside.exists(),
            "{} was written outside the granted directories",
            self.outside.display()
        );
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.outside);
    }
}

fn give_to_hook_user(path: &Path) {
    give_to(path, NOBODY);
}

fn give_to(path: &Path, uid: u32) {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        // Not root: commands keep the test's own user, which owns the directories already.
        return;
    }
    let status = Command::new("chown")
        .args(["-R", &format!("{uid}:{uid}")])
        .arg(path)
        .status()
        .expect("chown");
    assert!(status.success());
}

fn allow(commands: &[&str]) -> Policy {
    Policy {
        allow: commands.iter().map(|c| c.to_string()).collect(),
        ..Policy::default()
    }
}

fn request(argv: &[&str], env: &[(String, String)], streams: &str) -> Vec<u8> {
    serde_json::json!({
        "argv": argv,
        "env": env,
        "stdout": streams,
        "stderr": streams,
    })
    .to_string()
    .into_bytes()
}

/// Runs a command with both streams piped; returns (status, stdout, stderr).
async fn run(
    host: &mut ExecHost,
    argv: &[&str],
    env: &[(String, String)],
) -> Result<(i32, String, String), BridgeError> {
    let h = host.spawn(&request(argv, env, "pipe")).await?;
    let mut out = Vec::new();
    loop {
        let chunk = host.read(h, 1, 4096).await?;
        if chunk.is_empty() {
            break;
        }
        out.extend(chunk);
    }
    let mut err = Vec::new();
    loop {
        let chunk = host.read(h, 2, 4096).await?;
        if chunk.is_empty() {
            break;
        }
        err.extend(chunk);
    }
    let status = host.wait(h).await?;
    Ok((
        status,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    ))
}

/// Pids of live processes with `arg` as one of their arguments.
fn processes_with_arg(arg: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            if cmdline
                .split(|b| *b == 0)
                .any(|part| part == arg.as_bytes())
            {
                pids.push(pid);
            }
        }
    }
    pids
}

/// Polls until `done` holds or `limit` passes; returns whether it held.
async fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

const TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_not_on_the_allow_list_is_denied_and_never_runs() {
    let fx = Fixture::new("denied");
    let mut host = fx.host(allow(&["true"]), TIMEOUT);
    let marker = fx.work().join("ran");
    let err = host
        .spawn(&request(
            &["touch", &marker.display().to_string()],
            &fx.env(),
            "pipe",
        ))
        .await
        .expect_err("touch is not allowed");
    assert_eq!(err.code(), -1, "{err}");
    assert_eq!(
        err.to_string(),
        "hookbox: touch: not allowed by the policy (add \"touch\" to [policy] allow in hookbox.toml)"
    );
    // An absolute path is no way around the list, nor a relative one.
    for argv0 in ["/usr/bin/touch", "./touch", "../../usr/bin/touch"] {
        let err = host
            .spawn(&request(
                &[argv0, &marker.display().to_string()],
                &fx.env(),
                "pipe",
            ))
            .await
            .expect_err("not allowed");
        assert_eq!(err.code(), -1, "{argv0}: {err}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!marker.exists(), "a denied command ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_command_cannot_write_outside_the_granted_dirs() {
    let fx = Fixture::new("write");
    let mut host = fx.host(allow(&["sh"]), TIMEOUT);
    let (status, _, stderr) = run(
        &mut host,
        &[
            "sh",
            "-c",
            "echo in > \"$WORK/inside\"; echo home > \"$HOME/home\"; echo x > \"$OUTSIDE\"",
        ],
        &fx.env(),
    )
    .await
    .expect("sh runs");
    assert!(
        fx.work().join("inside").exists(),
        "work dir not writable: {stderr}"
    );
    assert!(
        fx.temp.path().join("home").exists(),
        "temp dir not writable: {stderr}"
    );
    assert_ne!(status, 0);
    assert!(stderr.contains("ermission denied"), "{stderr}");
    fx.assert_outside_absent();
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_weak_confinement_weakens_nothing_the_kernel_supports() {
    let fx = Fixture::new("weak");
    let policy = Policy {
        accept_weak_confinement: true,
        ..allow(&["sh"])
    };
    let mut host = fx.host(policy, TIMEOUT);
    let (status, _, stderr) = run(&mut host, &["sh", "-c", "echo x > \"$OUTSIDE\""], &fx.env())
        .await
        .expect("sh runs");
    assert_ne!(status, 0);
    fx.assert_outside_absent();
    let output = String::from_utf8_lossy(&fx.output.lock().expect("output")).into_owned();
    assert!(!output.contains("warning"), "{output}{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_extra_dir_is_writable_and_a_working_directory() {
    let fx = Fixture::new("extra");
    let shared = tempfile::tempdir().expect("shared");
    give_to_hook_user(shared.path());
    let req = |cwd: &Path| {
        serde_json::json!({
            "argv": ["sh", "-c", "echo db > shared.db"], "cwd": cwd, "env": fx.env(),
            "stdout": "null", "stderr": "null",
        })
        .to_string()
    };
    let mut host = fx.host(allow(&["sh"]), TIMEOUT);
    let err = host
        .spawn(req(shared.path()).as_bytes())
        .await
        .expect_err("not granted yet");
    assert_eq!(err.code(), -6);
    host.grant_dir(shared.path().to_path_buf());
    let h = host
        .spawn(req(shared.path()).as_bytes())
        .await
        .expect("spawn");
    assert_eq!(host.wait(h).await.expect("wait"), 0);
    assert!(shared.path().join("shared.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_work_dir_is_read_only_for_bridged_commands() {
    let fx = Fixture::new("ro");
    std::fs::write(fx.work().join("data"), "hello").expect("data");
    let policy = Policy {
        work_dir: DirAccess::ReadOnly,
        ..allow(&["sh"])
    };
    let mut host = fx.host(policy, TIMEOUT);
    let (status, stdout, _) = run(
        &mut host,
        &["sh", "-c", "cat \"$WORK/data\"; touch \"$WORK/new\""],
        &fx.env(),
    )
    .await
    .expect("sh runs");
    assert_eq!(stdout, "hello");
    assert_ne!(status, 0);
    assert!(!fx.work().join("new").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_etc_passwd_through_an_allowed_cat_fails() {
    let fx = Fixture::new("passwd");
    std::fs::write(fx.work().join("mine"), "own data").expect("file");
    let mut host = fx.host(allow(&["cat"]), TIMEOUT);
    let mine = fx.work().join("mine").display().to_string();
    let (status, stdout, _) = run(&mut host, &["cat", &mine], &fx.env())
        .await
        .expect("cat runs");
    assert_eq!((status, stdout.as_str()), (0, "own data"));
    let (status, stdout, stderr) = run(&mut host, &["cat", "/etc/passwd"], &fx.env())
        .await
        .expect("cat runs");
    assert_ne!(status, 0);
    assert!(!stdout.contains("root:"), "{stdout}");
    assert!(stderr.contains("ermission denied"), "{stderr}");
    // Nor through a symbolic link planted in the work directory.
    let link = fx.work().join("passwd-link");
    std::os::unix::fs::symlink("/etc/passwd", &link).expect("symlink");
    let (status, stdout, _) = run(&mut host, &["cat", &link.display().to_string()], &fx.env())
        .await
        .expect("cat runs");
    assert_ne!(status, 0);
    assert!(!stdout.contains("root:"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_hits_rlimit_data() {
    let fx = Fixture::new("membomb");
    let output = Arc::clone(&fx.output);
    let mut host = ExecHost::new(ExecConfig {
        policy: allow(&["python3"]),
        work_dir: fx.work().to_path_buf(),
        temp_dir: fx.temp.path().to_path_buf(),
        deadline: Instant::now() + TIMEOUT,
        limits: Limits {
            memory_bytes: 64 * 1024 * 1024,
            ..Limits::default()
        },
        stdout: Arc::new(move |_: Stream, bytes: &[u8]| {
            output.lock().expect("output").extend_from_slice(bytes);
        }),
    });
    let script =
        "x = bytearray(16 << 20); print('small ok'); y = bytearray(512 << 20); print('big ok')";
    let (status, stdout, stderr) = run(&mut host, &["python3", "-c", script], &fx.env())
        .await
        .expect("python3 runs");
    assert_eq!(stdout.trim(), "small ok", "{stderr}");
    assert_ne!(status, 0);
    assert!(stderr.contains("MemoryError"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_working_directory_must_be_granted() {
    let fx = Fixture::new("cwd");
    let mut host = fx.host(allow(&["true"]), TIMEOUT);
    let req = serde_json::json!({"argv": ["true"], "cwd": "/etc"}).to_string();
    let err = host.spawn(req.as_bytes()).await.expect_err("cwd /etc");
    assert_eq!(err.code(), -6, "{err}");
    let up = format!("{}/..", fx.work().display());
    let req = serde_json::json!({"argv": ["true"], "cwd": up}).to_string();
    let err = host.spawn(req.as_bytes()).await.expect_err("cwd ..");
    assert_eq!(err.code(), -6, "{err}");
}

fn connect_script(port: u16) -> String {
    format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_network_is_denied_by_default_and_granted_by_level() {
    let fx = Fixture::new("net");
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = listener.local_addr().expect("addr").port();
    let script = connect_script(port);

    for network in [Network::None, Network::Loopback] {
        let policy = Policy {
            network,
            ..allow(&["bash"])
        };
        let mut host = fx.host(policy, TIMEOUT);
        let (status, stdout, _) = run(&mut host, &["bash", "-c", &script], &fx.env())
            .await
            .expect("bash runs");
        assert_ne!(status, 0, "{network:?}: reached the host's listener");
        assert!(!stdout.contains("connected"));
    }

    let policy = Policy {
        network: Network::Loopback,
        ..allow(&["bash"])
    };
    let mut host = fx.host(policy, TIMEOUT);
    // Loopback is up in the command's own namespace: a listener of its own is reachable
    // (bash cannot listen; its connect gets "refused", not "unreachable").
    let (_, _, stderr) = run(&mut host, &["bash", "-c", &script], &fx.env())
        .await
        .expect("bash runs");
    assert!(stderr.contains("refused"), "loopback not up: {stderr}");

    let policy = Policy {
        network: Network::Host,
        ..allow(&["bash"])
    };
    let mut host = fx.host(policy, TIMEOUT);
    let (status, stdout, stderr) = run(&mut host, &["bash", "-c", &script], &fx.env())
        .await
        .expect("bash runs");
    assert_eq!((status, stdout.trim()), (0, "connected"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ld_preload_from_the_work_dir_is_dropped() {
    let fx = Fixture::new("preload");
    let src = fx.work().join("evil.c");
    std::fs::write(
        &src,
        "#include <fcntl.h>\n#include <stdlib.h>\n#include <unistd.h>\n\
         __attribute__((constructor)) static void evil(void) {\n\
           const char *p = getenv(\"EVIL_MARK\");\n\
           if (p) { int fd = open(p, O_CREAT | O_WRONLY, 0644); if (fd >= 0) close(fd); }\n\
         }\n",
    )
    .expect("source");
    let so = fx.work().join("evil.so");
    let built = Command::new("gcc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&so)
        .arg(&src)
        .status()
        .expect("gcc");
    assert!(built.success());
    give_to_hook_user(fx.work());

    // Control: without the bridge the library does load.
    let control = fx.work().join("control-mark");
    let status = Command::new("/bin/true")
        .env("LD_PRELOAD", &so)
        .env("EVIL_MARK", &control)
        .status()
        .expect("true");
    assert!(status.success());
    assert!(control.exists(), "the preload library does not work at all");

    let mark = fx.work().join("bridged-mark");
    let mut env = fx.env();
    env.push(("LD_PRELOAD".into(), so.display().to_string()));
    env.push(("LD_LIBRARY_PATH".into(), fx.work().display().to_string()));
    env.push(("EVIL_MARK".into(), mark.display().to_string()));
    let mut host = fx.host(allow(&["env"]), TIMEOUT);
    let (status, stdout, _) = run(&mut host, &["env"], &env).await.expect("env runs");
    assert_eq!(status, 0);
    assert!(stdout.contains("EVIL_MARK="), "{stdout}");
    assert!(!stdout.contains("LD_PRELOAD"), "{stdout}");
    assert!(!stdout.contains("LD_LIBRARY_PATH"), "{stdout}");
    assert!(!mark.exists(), "LD_PRELOAD reached a bridged command");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite3_shell_stays_inside_the_confinement() {
    let fx = Fixture::new("sqlite");
    let mut host = fx.host(allow(&["sqlite3"]), TIMEOUT);
    let inside = fx.work().join("inside");
    let (_, stdout, stderr) = run(
        &mut host,
        &[
            "sqlite3",
            ":memory:",
            &format!(".shell touch {}", inside.display()),
            &format!(".shell touch {}", fx.outside.display()),
            ".shell id -u",
        ],
        &fx.env(),
    )
    .await
    .expect("sqlite3 runs");
    assert!(inside.exists(), ".shell did not run at all: {stderr}");
    fx.assert_outside_absent();
    let uid = stdout.trim();
    assert!(
        !uid.is_empty() && uid != "0",
        "`.shell id -u` printed {uid:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn git_core_fsmonitor_stays_inside_the_confinement() {
    let fx = Fixture::new("fsmonitor");
    let work = fx.work();
    let git = |args: &[&str]| {
        // The work dir belongs to the hook user already; the test's own git is root.
        let status = Command::new("git")
            .args(["-c", "safe.directory=*"])
            .args(args)
            .current_dir(work)
            .env("HOME", fx.temp.path())
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    std::fs::write(work.join("file"), "x").expect("file");
    let hook = work.join("fsmonitor.sh");
    let mut f = std::fs::File::create(&hook).expect("hook");
    writeln!(
        f,
        "#!/bin/sh\ntouch '{}/fsmonitor-ran'\ntouch '{}'\nexit 1",
        work.display(),
        fx.outside.display()
    )
    .expect("write hook");
    drop(f);
    let chmod = Command::new("chmod")
        .arg("755")
        .arg(&hook)
        .status()
        .expect("chmod");
    assert!(chmod.success());
    git(&["config", "core.fsmonitor", &hook.display().to_string()]);
    give_to_hook_user(work);

    let mut host = fx.host(allow(&["git"]), TIMEOUT);
    let (_, _, stderr) = run(&mut host, &["git", "status", "--short"], &fx.env())
        .await
        .expect("git runs");
    assert!(
        work.join("fsmonitor-ran").exists(),
        "the fsmonitor hook did not run: {stderr}"
    );
    fx.assert_outside_absent();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridged_commands_do_not_run_as_root() {
    let fx = Fixture::new("uid");
    let mut host = fx.host(allow(&["id"]), TIMEOUT);
    let (status, stdout, _) = run(&mut host, &["id", "-u"], &fx.env())
        .await
        .expect("id runs");
    assert_eq!(status, 0);
    assert_ne!(stdout.trim(), "0");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        assert_eq!(stdout.trim(), NOBODY.to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_bomb_is_bounded_and_nothing_survives_the_command() {
    // The process count is per user on the whole host: the bomb runs as a user of its own so
    // it does not starve concurrent tests (the reason tenants need their own `run_as`).
    let fx = Fixture::with_user("forkbomb", BOMB_USER);
    let policy = Policy {
        run_as: Some("irc".into()),
        ..allow(&["sh"])
    };
    let mut host = fx.host(policy, TIMEOUT);
    // Bounded on purpose: at most 1000 sleepers of 20 s, so a regression fails the test
    // instead of exhausting the machine. dash stops at the first fork it cannot make.
    let marker = "20.4242";
    let count = fx.work().join("count");
    let script = format!(
        "i=0; while [ $i -lt 1000 ]; do sleep {marker} & i=$((i+1)); echo $i > '{}'; done",
        count.display()
    );
    // Streams to /dev/null: no pipe keeps the test waiting for the sleepers.
    let h = host
        .spawn(&request(&["sh", "-c", &script], &fx.env(), "null"))
        .await
        .expect("sh runs");
    host.wait(h).await.expect("sh ends");
    let started: u32 = std::fs::read_to_string(&count)
        .expect("count")
        .trim()
        .parse()
        .expect("number");
    assert!(started > 10, "the bomb did not start: {started}");
    assert!(
        started < 500,
        "{started} of 1000 forks succeeded: RLIMIT_NPROC did not hold"
    );
    assert!(
        eventually(Duration::from_secs(10), || processes_with_arg(marker)
            .is_empty())
        .await,
        "sleepers outlived their shell: {:?}",
        processes_with_arg(marker)
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setsid_child_does_not_outlive_shutdown() {
    let fx = Fixture::new("setsid");
    let mut host = fx.host(allow(&["sh"]), TIMEOUT);
    let escaped = "40.4242";
    let parent = "41.4242";
    let h = host
        .spawn(&request(
            &[
                "sh",
                "-c",
                &format!("setsid sleep {escaped} & exec sleep {parent}"),
            ],
            &fx.env(),
            "null",
        ))
        .await
        .expect("spawn");
    assert!(
        eventually(Duration::from_secs(10), || !processes_with_arg(escaped)
            .is_empty())
        .await,
        "the setsid child never started"
    );
    let _ = h;
    host.shutdown().await;
    assert!(
        eventually(Duration::from_secs(10), || processes_with_arg(escaped)
            .is_empty()
            && processes_with_arg(parent).is_empty())
        .await,
        "survived shutdown: {:?} {:?}",
        processes_with_arg(escaped),
        processes_with_arg(parent)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_stops_a_command_and_every_call() {
    let fx = Fixture::new("deadline");
    let mut host = fx.host(allow(&["sleep"]), Duration::from_secs(2));
    let marker = "31.4242";
    let started = Instant::now();
    let h = host
        .spawn(&request(&["sleep", marker], &fx.env(), "pipe"))
        .await
        .expect("spawn");
    let err = host.wait(h).await.expect_err("deadline");
    assert!(matches!(err, BridgeError::Deadline), "{err}");
    assert_eq!(err.code(), -5);
    // A limit took effect, not a speed: far less than the command's own 31 s.
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        eventually(Duration::from_secs(10), || processes_with_arg(marker)
            .is_empty())
        .await,
        "the command outlived the deadline"
    );
    let err = host
        .spawn(&request(&["sleep", "1"], &fx.env(), "pipe"))
        .await
        .expect_err("past the deadline");
    assert!(matches!(err, BridgeError::Deadline), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_one_pipe_never_deadlocks_on_the_other() {
    let fx = Fixture::new("pipes");
    let mut host = fx.host(allow(&["sh"]), TIMEOUT);
    // 1 MiB on stderr (far past a pipe's 64 KiB) before anything on stdout.
    let (status, stdout, stderr) = run(
        &mut host,
        &["sh", "-c", "head -c 1048576 /dev/zero >&2; echo out"],
        &fx.env(),
    )
    .await
    .expect("sh runs");
    assert_eq!((status, stdout.as_str()), (0, "out\n"));
    assert_eq!(stderr.len(), 1048576);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inherit_streams_reach_the_hook_output_and_stdin_pipes_work() {
    let fx = Fixture::new("inherit");
    let mut host = fx.host(allow(&["cat"]), TIMEOUT);
    let req = serde_json::json!({
        "argv": ["cat"], "env": fx.env(), "stdin": "pipe", "stdout": "inherit", "stderr": "inherit",
    })
    .to_string();
    let h = host.spawn(req.as_bytes()).await.expect("spawn");
    let mut sent = 0;
    let data = b"through the bridge\n";
    while sent < data.len() {
        sent += host.write(h, &data[sent..]).await.expect("write");
    }
    host.close_stdin(h).await.expect("close");
    assert_eq!(host.wait(h).await.expect("wait"), 0);
    assert_eq!(fx.output.lock().expect("output").as_slice(), data);
    let err = host.read(h, 1, 10).await.expect_err("handle freed");
    assert_eq!(err.code(), -3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proc_shows_only_the_commands_own_processes() {
    let fx = Fixture::new("proc");
    let mut host = fx.host(allow(&["sh"]), TIMEOUT);
    let (status, stdout, stderr) = run(
        &mut host,
        &[
            "sh",
            "-c",
            "echo via-proc > /dev/stdout; ls /proc | grep -c '^[0-9]'; cat /proc/self/cmdline",
        ],
        &fx.env(),
    )
    .await
    .expect("sh runs");
    assert_eq!(status, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"via-proc"), "{stdout} {stderr}");
    let visible: u32 = lines
        .get(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or(u32::MAX);
    // sh, ls, grep (and a subshell): not the host's hundreds of processes.
    assert!(visible <= 5, "{visible} processes visible in /proc");
    assert!(stdout.contains("cat"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_allowed_command_is_not_found() {
    let fx = Fixture::new("missing");
    let mut host = fx.host(allow(&["hookbox-no-such-tool"]), TIMEOUT);
    let err = host
        .spawn(&request(&["hookbox-no-such-tool"], &fx.env(), "pipe"))
        .await
        .expect_err("missing");
    assert_eq!(err.code(), -2, "{err}");
}

/// hookbox not running as root confines through a user namespace: the attacks above, re-run
/// as an unprivileged user (this same test binary under `setpriv`).
#[test]
fn confinement_holds_when_hookbox_is_not_root() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        // Already the unprivileged run (or a non-root developer): the other tests cover it.
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    let tests = [
        "bridge::an_allowed_command_cannot_write_outside_the_granted_dirs",
        "bridge::reading_etc_passwd_through_an_allowed_cat_fails",
        "bridge::the_network_is_denied_by_default_and_granted_by_level",
        "bridge::a_setsid_child_does_not_outlive_shutdown",
        "bridge::sqlite3_shell_stays_inside_the_confinement",
        "bridge::proc_shows_only_the_commands_own_processes",
    ];
    let out = Command::new("setpriv")
        .args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
            "--",
        ])
        .arg(&exe)
        .arg("--exact")
        .args(tests)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("setpriv (util-linux)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(&format!("{} passed", tests.len())),
        "as uid {NOBODY}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
