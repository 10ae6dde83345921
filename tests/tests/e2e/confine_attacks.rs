//! Attacks on the one confinement of tenant code (native hooks, bridged commands, `[deploy]`
//! commands), run as root like a platform runs hookbox. Each test fails when the defence it
//! names is removed (checked by removing each once): the PID namespace and private `/proc`
//! (another tenant's process), the seccomp filter (named UNIX sockets), the read-only `/proc`
//! rule (kernel settings), the lifeline (a SIGKILLed hookbox).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookbox::bridge::exec::{ExecConfig, ExecHost};
use hookbox::bridge::policy::{Network, Policy, DEFAULT_POLICY_PATH};
use hookbox::limits::Limits;
use hookbox::plan::HookProgram;
use hookbox::runner::native::NativeRunner;
use hookbox::runner::{Exit, Invocation, OutputSink, Runner, Stream};
use hookbox_tests::hookbox;

const NOBODY: u32 = 65534;
/// A uid no tenant of these tests uses: "another tenant" with its own user.
const OTHER_TENANT: u32 = 43117;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A marker unique to this test run, to find a test's processes in /proc (`sleep` accepts a
/// fractional number: ~1000 s that nobody else uses).
fn marker() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("1000.{}{:03}7", std::process::id(), n)
}

/// Host processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(marker) {
                found.push(format!("{name}: {cmdline}"));
            }
        }
    }
    found
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A folder the hook user can enter (the lifecycle refuses a project it cannot reach).
fn open_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn chown(path: &Path, uid: u32) {
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{uid}:{uid}"))
        .arg(path)
        .status()
        .expect("chown");
    assert!(status.success());
}

/// A process of another tenant: `sleep MARKER` as `uid`, with a secret in its environment.
struct Victim {
    child: Child,
    marker: String,
}

impl Victim {
    fn start(uid: u32, secret: &str) -> Victim {
        let marker = marker();
        let child = Command::new("/bin/sleep")
            .arg(&marker)
            .env_clear()
            .env("DB_PASSWORD", secret)
            .uid(uid)
            .gid(uid)
            .current_dir("/")
            .stdin(Stdio::null())
            .spawn()
            .expect("start the victim");
        assert!(
            wait_until(Duration::from_secs(5), || !processes_with(&marker)
                .is_empty()),
            "the victim never started"
        );
        Victim { child, marker }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What every probe prints: the processes it can see, another tenant's environment, whether
/// it could kill it, its own confinement.
const PROBE: &str = r#"#!/bin/bash
where=$1
echo "$where: visible $(ls /proc | grep -c '^[0-9]')"
for pid in $VICTIMS; do
  [ -e "/proc/$pid" ] && echo "$where: sees pid $pid"
  secret=$(tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep DB_PASSWORD)
  [ -n "$secret" ] && echo "$where: read $secret"
  kill -9 "$pid" 2>/dev/null && echo "$where: killed $pid"
done
for f in /proc/[0-9]*/cmdline; do
  grep -qa -e "$MARK1" -e "$MARK2" "$f" 2>/dev/null && echo "$where: found a victim in $f"
done
echo "$where: $(grep NoNewPrivs /proc/self/status | tr -d '\t ')"
echo "$where: done"
"#;

#[test]
fn deploy_commands_cannot_see_read_or_kill_another_tenants_process() {
    if !is_root() {
        return;
    }
    // Tenants sharing the hook user (the worst case: DAC would not stop this one) and a
    // tenant with its own user (DAC stops reading and killing, not seeing).
    let mut same_user = Victim::start(NOBODY, "victim-secret-same-user");
    let mut other_user = Victim::start(OTHER_TENANT, "victim-secret-other-user");
    let project = open_dir();
    std::fs::write(project.path().join("probe.sh"), PROBE).unwrap();
    // The start process reports into its release; the health check prints that report and
    // fails on purpose, so the deploy shows it (and stops the app again).
    std::fs::write(
        project.path().join("hookbox.toml"),
        r#"[deploy]
install = "bash probe.sh install"
start = "bash probe.sh start > start-report.txt 2>&1; exec sleep 600"
health-check = "for i in $(seq 100); do grep -q 'start: done' start-report.txt 2>/dev/null && break; sleep 0.1; done; cat start-report.txt; exit 1"
"#,
    )
    .unwrap();
    let logs = tempfile::tempdir().unwrap();
    let out = hookbox()
        .args(["deploy", "--runner", "native", "--health-timeout", "15"])
        .arg("--log-file")
        .arg(logs.path().join("hooks.log"))
        .arg("--env")
        .arg(format!("VICTIMS={} {}", same_user.pid(), other_user.pid()))
        .arg("--env")
        .arg(format!("MARK1={}", same_user.marker))
        .arg("--env")
        .arg(format!("MARK2={}", other_user.marker))
        .arg(project.path())
        .output()
        .expect("run hookbox deploy");
    let all = text(&out);
    // Both probes ran to their end (the test cannot pass because nothing ran).
    assert!(all.contains("install: done"), "{all}");
    assert!(all.contains("start: done"), "{all}");
    for attack in ["sees pid", "read DB_PASSWORD", "killed", "found a victim"] {
        assert!(!all.contains(attack), "{attack}:\n{all}");
    }
    assert!(!all.contains("victim-secret"), "{all}");
    for step in ["install", "start"] {
        assert!(all.contains(&format!("{step}: NoNewPrivs:1")), "{all}");
    }
    assert!(same_user.alive(), "the same-user victim was killed");
    assert!(other_user.alive(), "the other tenant's victim was killed");
}

#[test]
fn a_sandboxed_projects_install_runs_in_the_bundled_shell() {
    // `runner = "sandbox"`: install is tenant code like a hook, so it sees the sandbox's file
    // system (`/` is the work directory), not the host's.
    let project = open_dir();
    std::fs::write(
        project.path().join("hookbox.toml"),
        "runner = \"sandbox\"\n[deploy]\ninstall = \"if test -e /etc/passwd; then echo ran-natively; else echo ran-sandboxed; fi\"\n",
    )
    .unwrap();
    let logs = tempfile::tempdir().unwrap();
    let out = hookbox()
        .arg("deploy")
        .arg("--log-file")
        .arg(logs.path().join("hooks.log"))
        .arg(project.path())
        .output()
        .expect("run hookbox deploy");
    let all = text(&out);
    // The command line itself is echoed (`==> install: ...`): look at what it printed.
    assert!(all.contains("stdout: ran-sandboxed"), "{all}");
    assert!(!all.contains("stdout: ran-natively"), "{all}");
}

/// A UNIX socket server answering every connection with a tiny HTTP response.
struct SocketServer {
    _dir: tempfile::TempDir,
    path: PathBuf,
    connections: Arc<Mutex<u32>>,
}

impl SocketServer {
    fn start(mode: u32) -> SocketServer {
        let dir = open_dir();
        let path = dir.path().join("app.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let connections = Arc::new(Mutex::new(0));
        let count = Arc::clone(&connections);
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                *count.lock().unwrap() += 1;
                let mut buf = [0u8; 1024];
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 8\r\n\r\nreached!");
            }
        });
        SocketServer {
            _dir: dir,
            path,
            connections,
        }
    }

    fn connections(&self) -> u32 {
        *self.connections.lock().unwrap()
    }

    fn curl(&self) -> String {
        format!(
            "curl -s -m 5 --unix-socket {} http://localhost/; echo \" rc=$?\"",
            self.path.display()
        )
    }
}

fn curl_installed() -> bool {
    Path::new("/usr/bin/curl").exists()
}

#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl OutputSink for Lines {
    fn line(&self, _stream: Stream, line: &[u8]) {
        self.0
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(line).into_owned());
    }
    fn truncated(&self, _cap_bytes: u64) {}
}

async fn native_hook(script: &str, network: Network) -> (Exit, String) {
    let work = open_dir();
    chown(work.path(), NOBODY);
    let inv = Invocation {
        hook_name: "probe".into(),
        stage: "pre-deploy".into(),
        program: HookProgram::Command(script.into()),
        args: Vec::new(),
        env: BTreeMap::from([
            ("PATH".to_string(), DEFAULT_POLICY_PATH.to_string()),
            ("HOME".to_string(), work.path().display().to_string()),
        ]),
        work_dir: work.path().to_path_buf(),
        temp_dir: work.path().to_path_buf(),
        shared_dirs: Vec::new(),
        limits: Limits {
            timeout: Duration::from_secs(30),
            ..Limits::default()
        },
        policy: Policy {
            network,
            ..Policy::default()
        },
    };
    let sink = Arc::new(Lines::default());
    let (_cancel, cancelled) = tokio::sync::watch::channel(false);
    let report = NativeRunner::new()
        .run(&inv, sink.clone(), cancelled)
        .await
        .expect("the hook runs");
    let out = sink.0.lock().unwrap().join("\n");
    (report.exit, out)
}

#[tokio::test]
async fn a_native_hook_reaches_no_named_unix_socket_without_a_network_grant() {
    if !is_root() || !curl_installed() {
        return;
    }
    // 0666: any user may connect, and Landlock does not mediate connect(2).
    let server = SocketServer::start(0o666);
    for network in [Network::None, Network::Loopback] {
        let (exit, out) = native_hook(&server.curl(), network).await;
        assert_eq!(exit, Exit::Code(0), "{out}");
        assert!(!out.contains("reached!"), "{network:?}: {out}");
        assert!(!out.contains("rc=0"), "{network:?}: {out}");
    }
    assert_eq!(server.connections(), 0);
    // Control: with the host's network granted, the same command gets through.
    let (_, out) = native_hook(&server.curl(), Network::Host).await;
    assert!(out.contains("reached!") && out.contains("rc=0"), "{out}");
}

fn root_shell_host(work: &Path, temp: &Path, network: Network) -> ExecHost {
    // `hookbox shell` as root: bridged commands keep uid 0, with no capability.
    let policy = Policy {
        allow: vec!["curl".into(), "dd".into()],
        network,
        keep_user: true,
        ..Policy::default()
    };
    ExecHost::new(ExecConfig {
        policy,
        work_dir: work.to_path_buf(),
        temp_dir: temp.to_path_buf(),
        deadline: tokio::time::Instant::now() + Duration::from_secs(30),
        limits: Limits::default(),
        stdout: Arc::new(|_: Stream, _: &[u8]| {}),
    })
}

async fn bridged(host: &mut ExecHost, argv: &[&str]) -> (i32, String) {
    let request = serde_json::json!({
        "argv": argv,
        "env": [["PATH", DEFAULT_POLICY_PATH]],
        "stdout": "pipe",
        "stderr": "pipe",
    })
    .to_string();
    let h = host.spawn(request.as_bytes()).await.expect("spawn");
    let mut out = Vec::new();
    for fd in [1, 2] {
        loop {
            let chunk = host.read(h, fd, 4096).await.expect("read");
            if chunk.is_empty() {
                break;
            }
            out.extend(chunk);
        }
    }
    let status = host.wait(h).await.expect("wait");
    (status, String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_shells_bridged_command_reaches_no_root_socket_without_a_network_grant() {
    if !is_root() || !curl_installed() {
        return;
    }
    // 0600 root: DAC lets uid 0 in even without capabilities.
    let server = SocketServer::start(0o600);
    let (work, temp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let url_args = [
        "curl",
        "-s",
        "-m",
        "5",
        "--unix-socket",
        server.path.to_str().unwrap(),
        "http://localhost/",
    ];
    let mut host = root_shell_host(work.path(), temp.path(), Network::None);
    let (status, out) = bridged(&mut host, &url_args).await;
    host.shutdown().await;
    assert_ne!(status, 0, "{out}");
    assert!(!out.contains("reached!"), "{out}");
    assert_eq!(server.connections(), 0);

    // The same through the binary, as a developer's root shell would.
    let out = hookbox()
        .current_dir(work.path())
        .args(["shell", "--allow", "curl", "-c"])
        .arg(server.curl())
        .output()
        .expect("hookbox shell");
    assert!(!text(&out).contains("reached!"), "{}", text(&out));
    assert!(!text(&out).contains("rc=0"), "{}", text(&out));
    assert_eq!(server.connections(), 0);

    // Control: with the host's network granted it connects.
    let mut host = root_shell_host(work.path(), temp.path(), Network::Host);
    let (status, out) = bridged(&mut host, &url_args).await;
    host.shutdown().await;
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("reached!"), "{out}");
}

#[test]
fn a_root_shells_bridged_command_cannot_open_kernel_settings_for_writing() {
    if !is_root() {
        return;
    }
    // Opening for writing is the attack; nothing is written either way (count=0, notrunc).
    let work = tempfile::tempdir().unwrap();
    let script = "dd if=/dev/null of=/proc/sys/kernel/core_pattern conv=notrunc count=0 status=none; echo \"write-open=$?\"; \
                  dd if=/proc/self/status of=/dev/null count=1 status=none; echo \"read=$?\"";
    let out = hookbox()
        .current_dir(work.path())
        .args(["shell", "--allow", "dd", "-c", script])
        .output()
        .expect("hookbox shell");
    let all = text(&out);
    assert!(all.contains("read=0"), "the control read failed: {all}");
    assert!(all.contains("write-open="), "{all}");
    assert!(!all.contains("write-open=0"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_shells_bridged_command_cannot_open_sysctl_files_through_the_library() {
    if !is_root() {
        return;
    }
    let (work, temp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut host = root_shell_host(work.path(), temp.path(), Network::None);
    for target in [
        "of=/proc/sys/kernel/core_pattern",
        "of=/proc/sys/vm/drop_caches",
        "of=/proc/sys/kernel/hostname",
    ] {
        let (status, out) = bridged(
            &mut host,
            &["dd", "if=/dev/null", target, "conv=notrunc", "count=0"],
        )
        .await;
        assert_ne!(status, 0, "{target}: {out}");
        assert!(out.contains("Permission denied"), "{target}: {out}");
    }
    let (status, out) = bridged(
        &mut host,
        &[
            "dd",
            "if=/proc/sys/kernel/ostype",
            "of=/dev/null",
            "status=none",
        ],
    )
    .await;
    assert_eq!(status, 0, "reading stays allowed: {out}");
    host.shutdown().await;
}

/// Starts `hookbox ARGS`, waits until a process with `marker` runs, SIGKILLs hookbox, and
/// asserts that nothing with `marker` is left a few seconds later.
fn assert_nothing_outlives_sigkill(mut cmd: Command, marker: &str) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start hookbox");
    let started = wait_until(Duration::from_secs(30), || {
        !processes_with(marker).is_empty()
    });
    if !started {
        let _ = child.kill();
        panic!("the hook never started its sleep");
    }
    // SAFETY: kill(2) of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    let gone = wait_until(Duration::from_secs(5), || processes_with(marker).is_empty());
    assert!(gone, "left running: {:?}", processes_with(marker));
}

#[test]
fn nothing_of_a_native_hook_outlives_a_sigkilled_hookbox() {
    let project = open_dir();
    let (fg, detached) = (marker(), marker());
    std::fs::write(
        project.path().join("pre-deploy.sh"),
        format!("#!/bin/bash\nsetsid -f sleep {detached} </dev/null >/dev/null 2>&1\nsleep {fg}\n"),
    )
    .unwrap();
    if is_root() {
        chown(project.path(), NOBODY);
    }
    let logs = tempfile::tempdir().unwrap();
    let mut cmd = hookbox();
    cmd.args(["run", "pre-deploy", "--runner", "native", "--log-file"])
        .arg(logs.path().join("hooks.log"))
        .arg(project.path());
    assert_nothing_outlives_sigkill(cmd, &fg);
    let gone = wait_until(Duration::from_secs(5), || {
        processes_with(&detached).is_empty()
    });
    assert!(gone, "left running: {:?}", processes_with(&detached));
}

#[test]
fn nothing_of_a_bridged_command_outlives_a_sigkilled_hookbox() {
    let work = tempfile::tempdir().unwrap();
    let fg = marker();
    let mut cmd = hookbox();
    cmd.current_dir(work.path())
        .args(["shell", "--allow", "sleep", "-c"])
        .arg(format!("sleep {fg}"));
    assert_nothing_outlives_sigkill(cmd, &fg);
}

#[tokio::test]
async fn a_native_hook_writes_and_reads_only_its_grants() {
    if !is_root() {
        return;
    }
    // /tmp is world-writable and /etc/passwd world-readable: only Landlock stops these.
    let outside = PathBuf::from(format!("/tmp/hookbox-confine-outside-{}", marker()));
    let script = format!(
        "echo in > granted.txt && echo wrote-granted\n\
         echo out > {} 2>/dev/null && echo wrote-outside\n\
         cat /etc/passwd >/dev/null 2>&1 && echo read-passwd\n\
         true\n",
        outside.display()
    );
    let (exit, out) = native_hook(&script, Network::None).await;
    let _ = std::fs::remove_file(&outside);
    assert_eq!(exit, Exit::Code(0), "{out}");
    assert!(out.contains("wrote-granted"), "{out}");
    assert!(!out.contains("wrote-outside"), "{out}");
    assert!(!out.contains("read-passwd"), "{out}");
}

/// An earlier hook swaps a later one for a FIFO: hookbox (root) reads the later hook's `#!`
/// line before starting it, and must not wait on a FIFO nobody writes, forever. (The hook's
/// own bash then waits on it, under the hook's time limit, which ends the run.)
#[test]
fn a_hook_swapped_for_a_fifo_does_not_hang_hookbox() {
    if !is_root() {
        return;
    }
    let project = open_dir();
    let p = project.path();
    for (name, text) in [
        (
            "a.sh",
            "#!/bin/bash\nrm -f b.sh && mkfifo b.sh && echo swapped\n",
        ),
        ("b.sh", "#!/bin/bash\necho b ran\n"),
    ] {
        std::fs::write(p.join(name), text).unwrap();
        std::fs::set_permissions(p.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        p.join("hookbox.toml"),
        "[[hook]]\nscript = \"a.sh\"\nstage = \"pre-deploy\"\n[[hook]]\nscript = \"b.sh\"\nstage = \"pre-deploy\"\n",
    )
    .unwrap();
    chown(p, NOBODY);
    let logs = tempfile::tempdir().unwrap();
    let mut child = hookbox()
        .args(["run", "pre-deploy", "--runner", "native", "--timeout", "3"])
        .arg("--log-file")
        .arg(logs.path().join("hooks.log"))
        .arg(p)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hookbox run");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().expect("output");
    let all = text(&out);
    let status = status.unwrap_or_else(|| panic!("hookbox hung on the FIFO:\n{all}"));
    assert!(all.contains("swapped"), "the first hook ran: {all}");
    assert!(!all.contains("b ran"), "{all}");
    assert!(!status.success(), "a FIFO is not a hook that ran: {all}");
}
