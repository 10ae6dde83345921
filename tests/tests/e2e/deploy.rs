//! `hookbox deploy` / `hookbox rollback` through the binary: releases, the atomic `current`
//! switch, failures keeping the previous release, the lock, `--keep`, rollback, Ctrl-C, and
//! the background application.

use std::fs;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use hookbox_tests::hookbox;

use super::lifecycle::Project;

/// A project and its deploy state folder (outside the project, in its own temporary folder
/// the hook user may enter).
pub struct Deployed {
    pub project: Project,
    _state_root: tempfile::TempDir,
    pub state: PathBuf,
}

impl Deployed {
    pub fn new() -> Self {
        Self::of(Project::new())
    }

    pub fn of(project: Project) -> Self {
        let root = tempfile::tempdir().expect("tempdir");
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        let state = root.path().join("state");
        Deployed {
            project,
            _state_root: root,
            state,
        }
    }
}

impl std::ops::Deref for Deployed {
    type Target = Project;
    fn deref(&self) -> &Project {
        &self.project
    }
}

/// `hookbox SUBCOMMAND` with the project's `--state-dir`.
pub fn managed(p: &Deployed, sub: &str) -> std::process::Command {
    let mut cmd = hookbox();
    cmd.arg(sub).arg(p.path()).arg("--state-dir").arg(&p.state);
    cmd
}

fn deploy(p: &Deployed, extra: &[&str]) -> Output {
    managed(p, "deploy")
        .args(extra)
        .output()
        .expect("run hookbox deploy")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn current(p: &Deployed) -> Option<String> {
    fs::read_link(p.state.join("current"))
        .ok()
        .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()))
}

fn releases(p: &Deployed) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(p.state.join("releases"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn shared(p: &Deployed, rel: &str) -> PathBuf {
    p.state.join("shared").join(rel)
}

/// Stops the application a test deployed (the deploy leaves it running on success).
pub struct AppGuard<'a>(pub &'a Deployed);
impl Drop for AppGuard<'_> {
    fn drop(&mut self) {
        if let Ok(text) = fs::read_to_string(self.0.state.join("app.json")) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                if let Some(pid) = v["pid"].as_i64() {
                    // SAFETY: kill(2) on the process group the test's deploy started.
                    unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
                }
            }
        }
    }
}

fn flux_project() -> Deployed {
    let p = Deployed::new();
    p.file(
        "pre-deploy.sh",
        "#!/bin/bash\nset -e\necho \"Running database migrations...\"\necho \"$CONTAINER_VERSION\" >> \"$HOOKBOX_SHARED_DIR/migrations\"\n",
    )
    .file("post-deploy.sh", "#!/bin/bash\necho warmed > \"$WORK_DIR/cache.txt\"\n")
    .file("app/index.txt", "v1\n");
    fs::create_dir_all(p.path().join(".git/refs")).expect("git dir");
    fs::write(p.path().join(".git/HEAD"), "ref: refs/heads/main\n").expect("HEAD");
    std::os::unix::fs::symlink("app/index.txt", p.path().join("link")).expect("symlink");
    p
}

#[test]
fn deploy_creates_a_release_and_switches_current() {
    let p = flux_project();
    let out = deploy(&p, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    let rels = releases(&p);
    assert_eq!(rels.len(), 1, "{t}");
    assert_eq!(current(&p).as_ref(), Some(&rels[0]));
    let rel = p.state.join("releases").join(&rels[0]);
    assert!(rel.join(".git/HEAD").is_file(), ".git is copied");
    assert!(
        !rel.join(".hookbox").exists(),
        ".hookbox is not copied into a release"
    );
    assert_eq!(
        fs::read_link(rel.join("link")).expect("symlink"),
        Path::new("app/index.txt")
    );
    assert_eq!(
        fs::read_to_string(rel.join("cache.txt")).unwrap_or_default(),
        "warmed\n"
    );
    assert_eq!(
        fs::read_to_string(shared(&p, "migrations")).expect("shared"),
        format!("{}\n", rels[0])
    );
    for step in [
        "==> copy: ok (",
        "==> pre-deploy: ok (",
        "==> switch: ok (",
        "==> post-deploy: ok (",
    ] {
        assert!(t.contains(step), "missing {step:?} in {t}");
    }
    assert!(t.contains("Deployment status: success"), "{t}");
    assert!(
        t.contains(&format!("into {}", rel.display())),
        "where the release went: {t}"
    );
    assert!(
        !p.path().join(".hookbox").exists(),
        "no state in the project"
    );
    let log = fs::read_to_string(p.state.join("logs/hooks.log")).expect("hooks.log");
    assert!(log.contains("Running hook: pre-deploy.sh"), "{log}");
    assert!(log.contains("Running hook: post-deploy.sh"), "{log}");
}

#[test]
fn failed_pre_deploy_keeps_the_previous_release_current() {
    let p = flux_project();
    assert!(deploy(&p, &[]).status.success());
    let first = current(&p).expect("current");
    p.file(
        "pre-deploy.sh",
        "#!/bin/bash\nset -e\necho migrating\nexit 1\n",
    );
    let out = deploy(&p, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert_eq!(current(&p), Some(first.clone()));
    assert_eq!(
        releases(&p),
        std::slice::from_ref(&first),
        "the failed release is removed"
    );
    assert!(t.contains("Deployment status: aborted"), "{t}");
    assert!(
        t.contains(&format!("current still points at releases/{first}")),
        "{t}"
    );
    assert!(!t.contains("==> switch"), "{t}");
}

#[test]
fn procfile_gate_failure_is_hook_error_and_keeps_previous() {
    let p = Deployed::new();
    p.file(
        "Procfile",
        "web: sleep 1\npostdeploy: echo migrating && exit 1\n",
    );
    let out = deploy(&p, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("Deployment status: hook-error"), "{t}");
    assert_eq!(current(&p), None, "{t}");
    assert!(t.contains("nothing is deployed"), "{t}");
    p.file("Procfile", "web: sleep 1\npostdeploy: echo migrated\n");
    assert!(deploy(&p, &[]).status.success());
    let good = current(&p).expect("current");
    p.file("Procfile", "web: sleep 1\npostdeploy: exit 7\n");
    let out = deploy(&p, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(current(&p), Some(good));
    let last: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .expect("outcome line"),
    )
    .expect("JSON");
    assert_eq!(last["outcome"]["status"], "hook-error");
}

#[test]
fn failed_post_deploy_is_a_warning_and_the_deploy_succeeds() {
    let p = flux_project();
    p.file("post-deploy.sh", "#!/bin/bash\nset -e\necho 'Deployment complete! Sending notification...'\ncurl -X POST https://hooks.slack.com/services/YOUR/WEBHOOK/URL -d '{}'\n");
    let out = deploy(&p, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("WARNING: post-deploy.sh failed"), "{t}");
    assert!(
        t.contains("Deployment status: success-with-warnings"),
        "{t}"
    );
    assert!(current(&p).is_some());
}

#[test]
fn keep_n_releases_and_rollback() {
    let p = flux_project();
    for _ in 0..3 {
        let out = deploy(&p, &["--keep", "2"]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let rels = releases(&p);
    assert_eq!(rels.len(), 2, "{rels:?}");
    assert_eq!(current(&p).as_ref(), Some(&rels[1]));
    let out = managed(&p, "rollback").output().expect("rollback");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(current(&p).as_ref(), Some(&rels[0]));
    // Nothing older is kept: a second rollback changes nothing and says why.
    let out = managed(&p, "rollback").output().expect("rollback");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("nothing to roll back to"),
        "{}",
        text(&out)
    );
    assert_eq!(current(&p).as_ref(), Some(&rels[0]));
    // Roll forward to the newer kept release.
    let out = managed(&p, "rollback")
        .args(["--to", &rels[1], "--json"])
        .output()
        .expect("rollback --to");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(current(&p).as_ref(), Some(&rels[1]));
    let out = managed(&p, "rollback")
        .args(["--to", "nope"])
        .output()
        .expect("rollback --to");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no release nope"), "{}", text(&out));
}

#[test]
fn a_second_deploy_while_one_runs_is_refused() {
    let p = flux_project();
    fs::create_dir_all(&p.state).expect("state dir");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(p.state.join("lock"))
        .expect("lock file");
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(
        unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    let out = deploy(&p, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("another deploy"), "{}", text(&out));
    assert!(releases(&p).is_empty());
    drop(lock);
    assert!(deploy(&p, &[]).status.success());
}

/// Whether a `sleep ARG` process is running (zombies do not count).
fn sleep_running(arg: &str) -> bool {
    let Ok(dir) = fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten().any(|e| {
        let cmd = fs::read(e.path().join("cmdline")).unwrap_or_default();
        let stat = fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        cmd == format!("sleep\0{arg}\0").as_bytes() && !stat.contains(") Z ")
    })
}

fn wait_for(path: &Path, needle: &str, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if fs::read_to_string(path)
            .map(|t| t.contains(needle))
            .unwrap_or(false)
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn sigint_during_a_hook_stops_it_and_leaves_current() {
    let p = flux_project();
    assert!(deploy(&p, &[]).status.success());
    let first = current(&p).expect("current");
    p.file(
        "pre-deploy.sh",
        "#!/bin/bash\nsleep 31337 &\necho started\nwait\n",
    );
    let child = managed(&p, "deploy")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn deploy");
    let log = p.state.join("logs/hooks.log");
    assert!(wait_for(
        &log,
        "[pre-deploy.sh] stdout: started",
        Duration::from_secs(30)
    ));
    assert!(
        sleep_running("31337"),
        "the hook's sleep runs before the signal"
    );
    // SAFETY: signalling the child this test spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().expect("wait");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("Deployment status: cancelled"), "{t}");
    assert_eq!(current(&p), Some(first));
    // The hook may run in a PID namespace: look for its sleep by its unique argument.
    let gone = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        !sleep_running("31337")
    });
    assert!(gone, "the hook's background sleep survived the cancel");
}

#[test]
fn install_or_build_failure_is_build_failed() {
    for (key, status) in [("install", "build-failed"), ("build", "build-failed")] {
        let p = flux_project();
        p.file(
            "hookbox.toml",
            &format!("[deploy]\n{key} = \"echo compiling; exit 2\"\n"),
        );
        let out = deploy(&p, &[]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{t}");
        assert!(t.contains(&format!("Deployment status: {status}")), "{t}");
        assert!(t.contains(&format!("==> {key}: FAILED")), "{t}");
        assert_eq!(current(&p), None);
    }
}

fn app_pid(p: &Deployed) -> i32 {
    let text = fs::read_to_string(p.state.join("app.json")).expect("app.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["pid"].as_i64().expect("pid") as i32
}

fn alive(pid: i32) -> bool {
    // A zombie is not alive: read its state.
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

#[test]
fn start_health_check_and_the_next_deploy_replaces_the_app() {
    let p = flux_project();
    let _guard = AppGuard(&p);
    p.file(
        "hookbox.toml",
        "[deploy]\nstart = \"echo \\\"$CONTAINER_VERSION\\\" > \\\"$HOOKBOX_SHARED_DIR/running\\\"; exec sleep 300\"\nhealth-check = \"test -s \\\"$HOOKBOX_SHARED_DIR/running\\\"\"\n",
    );
    let out = deploy(&p, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("==> health-check: ok"), "{t}");
    let first_pid = app_pid(&p);
    assert!(alive(first_pid));
    let out = deploy(&p, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let second_pid = app_pid(&p);
    assert_ne!(first_pid, second_pid);
    assert!(!alive(first_pid), "the previous app was stopped");
    assert!(alive(second_pid));
    // A failing health check: the new app is stopped, the previous one runs again.
    let good = current(&p).expect("current");
    p.file(
        "hookbox.toml",
        "[deploy]\nstart = \"exec sleep 300\"\nhealth-check = \"false\"\n",
    );
    let out = deploy(&p, &["--health-timeout", "2"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("Deployment status: health-check-failed"), "{t}");
    assert_eq!(current(&p), Some(good.clone()));
    let restarted = app_pid(&p);
    assert!(alive(restarted), "{t}");
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(p.state.join("app.json")).expect("app"))
            .expect("json");
    assert_eq!(v["release"], good.as_str());
}

/// A health check that takes a few attempts says it is waiting on a terminal (here a pty from
/// script(1)), and says nothing of it into a pipe or the log.
#[test]
fn a_slow_health_check_shows_progress_on_a_terminal_only() {
    let p = flux_project();
    let _guard = AppGuard(&p);
    p.file(
        "hookbox.toml",
        "[deploy]\nstart = \"exec sleep 300\"\nhealth-check = \"echo x >> \\\"$HOOKBOX_SHARED_DIR/tries\\\"; test $(wc -l < \\\"$HOOKBOX_SHARED_DIR/tries\\\") -ge 4\"\n",
    );
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let command = [
        hookbox_tests::hookbox_bin().display().to_string(),
        "deploy".into(),
        p.path().display().to_string(),
        "--state-dir".into(),
        p.state.display().to_string(),
    ]
    .iter()
    .map(|a| quote(a))
    .collect::<Vec<_>>()
    .join(" ");
    // hookbox()'s clean environment, for script(1) and the hookbox it starts.
    let env = hookbox();
    let out = std::process::Command::new("script")
        .args(["-qefc", &command, "/dev/null"])
        .env_clear()
        .envs(env.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .output()
        .expect("script(1)");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("... health-check: not healthy yet"), "{t}");
    let log = fs::read_to_string(p.state.join("logs/hooks.log")).expect("hooks.log");
    assert!(log.contains("health-check"), "{log}");
    assert!(!log.contains("not healthy yet"), "{log}");
    fs::remove_file(shared(&p, "tries")).expect("rm tries");
    let out = deploy(&p, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(!t.contains("not healthy yet"), "{t}");
}

/// A copy of `hooks-examples/NAME` that the hook user can read.
fn example_copy(name: &str) -> Deployed {
    let p = Project::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../hooks-examples")
        .join(name);
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", src.display()))
        .arg(p.path())
        .status()
        .expect("cp");
    assert!(status.success());
    // `cp -a` copied the example folder's mode onto the project: open it again for the hook
    // user (`run` works in place, and hookbox does not hand a project to another user).
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p.path(), fs::Permissions::from_mode(0o777)).expect("chmod");
    Deployed::of(p)
}

#[test]
fn examples_deploy_with_the_seeds_results() {
    for (name, code, status) in [
        ("flux-sqlite", 0, "success"),
        ("flux-sqlite-failing", 1, "aborted"),
        ("procfile", 0, "success"),
        ("procfile-failing", 1, "hook-error"),
    ] {
        let p = example_copy(name);
        let _guard = AppGuard(&p);
        let out = deploy(&p, &[]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(code), "{name}: {t}");
        assert!(
            t.contains(&format!("Deployment status: {status}")),
            "{name}: {t}"
        );
        assert_eq!(current(&p).is_some(), code == 0, "{name}");
        // Secrets from hookbox.toml never reach the terminal or the log.
        let log = fs::read_to_string(p.state.join("logs/hooks.log")).unwrap_or_default();
        assert!(
            !t.contains("s3cr3t-Pa55word") && !log.contains("s3cr3t-Pa55word"),
            "{name}"
        );
    }
}

#[test]
fn flux_sqlite_example_redeploys_idempotently_and_failing_migration_keeps_it() {
    let p = example_copy("flux-sqlite");
    let _guard = AppGuard(&p);
    assert!(deploy(&p, &[]).status.success());
    let out = deploy(&p, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("(0 applied)"), "migrations are idempotent: {t}");
    let good = current(&p).expect("current");
    // The failing variant's broken migration, deployed over the good release.
    let broken = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../hooks-examples/flux-sqlite-failing/migrations");
    for entry in fs::read_dir(&broken).expect("migrations").flatten() {
        fs::copy(
            entry.path(),
            p.path().join("migrations").join(entry.file_name()),
        )
        .expect("copy");
    }
    let out = deploy(&p, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("Deployment status: aborted"), "{t}");
    assert_eq!(current(&p), Some(good.clone()));
    assert!(
        t.contains(&format!("current still points at releases/{good}")),
        "{t}"
    );
}

#[test]
fn site_factory_examples_run_as_the_seed_says() {
    let args = ["--", "mysite", "01live", "db1", "www.example.com"];
    let p = example_copy("site-factory");
    let out = hookbox()
        .args(["run", "post-staging-update"])
        .arg(p.path())
        .arg("--log-file")
        .arg(p.path().join("hooks.log"))
        .args(args)
        .output()
        .expect("run");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("[10-show-arguments.sh] stdout: domain: www.example.com"),
        "{t}"
    );
    assert!(
        t.contains("40-disabled.sh") && t.contains("not executable"),
        "{t}"
    );
    assert!(!t.contains("Running hook: 40-disabled.sh"), "{t}");
    let q = example_copy("site-factory-failing");
    let out = hookbox()
        .args(["run", "post-staging-update"])
        .arg(q.path())
        .arg("--log-file")
        .arg(q.path().join("hooks.log"))
        .args(args)
        .output()
        .expect("run");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("Stage post-staging-update: task-failed"), "{t}");
    assert!(
        t.contains("drush8: command not found"),
        "the error is in the task log: {t}"
    );
    assert!(!t.contains("Running hook: 20-never-runs.sh"), "{t}");
}

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

#[test]
fn releases_status_logs_and_stop_manage_the_deployment() {
    let p = flux_project();
    let _guard = AppGuard(&p);
    p.file("hookbox.toml", "[deploy]\nstart = \"exec sleep 300\"\n");
    let out = managed(&p, "status").output().expect("status");
    assert_eq!(out.status.code(), Some(2), "never deployed: {}", text(&out));
    assert!(text(&out).contains("never deployed"), "{}", text(&out));
    for _ in 0..2 {
        assert!(deploy(&p, &[]).status.success());
    }
    let rels = releases(&p);
    let out = managed(&p, "releases")
        .arg("--json")
        .output()
        .expect("releases");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = json_of(&out);
    let list = v["releases"].as_array().expect("releases");
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["id"], rels[1].as_str());
    assert_eq!(list[1]["current"], true);
    assert_eq!(list[0]["current"], false);
    assert_eq!(list[0]["status"], "success");
    let out = managed(&p, "releases").output().expect("releases");
    assert!(
        text(&out).contains(&format!("* {}", rels[1])),
        "{}",
        text(&out)
    );

    let out = managed(&p, "status")
        .arg("--json")
        .output()
        .expect("status");
    let v = json_of(&out);
    assert_eq!(v["current"], rels[1].as_str());
    assert_eq!(v["app"]["running"], true, "{v}");
    let pid = v["app"]["pid"].as_i64().expect("pid") as i32;
    assert!(alive(pid));

    let out = managed(&p, "logs").output().expect("logs");
    let t = text(&out);
    assert_eq!(t.matches("Running hook: pre-deploy.sh").count(), 2, "{t}");
    let out = managed(&p, "logs").arg("--json").output().expect("logs");
    let first = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .expect("a line");
    assert!(
        first["ts"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{first}"
    );

    // --follow prints what a later deploy appends.
    let mut follow = managed(&p, "logs")
        .arg("--follow")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("follow");
    let stdout = follow.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    assert!(deploy(&p, &[]).status.success());
    let mut successes = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while successes < 3 && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            successes += usize::from(line.contains("Deployment status: success"));
        }
    }
    let _ = follow.kill();
    let _ = follow.wait();
    assert_eq!(successes, 3, "--follow showed the third deploy");

    let pid = app_pid(&p);
    let out = managed(&p, "stop").arg("--json").output().expect("stop");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(json_of(&out)["stopped"], true);
    assert!(!alive(pid), "stop stopped the app");
    let out = managed(&p, "stop").output().expect("stop");
    assert!(
        text(&out).contains("No application is recorded"),
        "{}",
        text(&out)
    );
    let out = managed(&p, "status")
        .arg("--json")
        .output()
        .expect("status");
    assert!(json_of(&out)["app"].is_null());
}
