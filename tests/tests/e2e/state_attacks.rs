//! Attacks on the deploy state (issue 8), run as root like a platform runs hookbox: each test
//! fails when its defence is removed (state back in `DIR/.hookbox/`, paths followed instead of
//! handles, rollback reading the release's `hookbox.toml`, pids signalled unverified).

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Output};
use std::time::Duration;

use super::deploy::{managed, AppGuard, Deployed};

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn deploy(p: &Deployed, extra: &[&str]) -> Output {
    managed(p, "deploy").args(extra).output().expect("deploy")
}

fn current(p: &Deployed) -> Option<PathBuf> {
    fs::read_link(p.state.join("current")).ok()
}

/// A root-owned folder with a file in it, outside every project and state folder.
struct Victim {
    dir: tempfile::TempDir,
}

impl Victim {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("file"), "original\n").expect("write");
        Victim { dir }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn file(&self) -> PathBuf {
        self.path().join("file")
    }
    /// The victim is as it was: its file's content, and root still owns both.
    fn assert_untouched(&self, what: &str) {
        assert_eq!(
            fs::read_to_string(self.file()).unwrap_or_default(),
            "original\n",
            "{what}: the victim file was changed"
        );
        for p in [self.path().to_path_buf(), self.file()] {
            let meta = fs::symlink_metadata(&p).expect("victim exists");
            assert_eq!(meta.uid(), 0, "{what}: {} changed owner", p.display());
        }
        let names: Vec<_> = fs::read_dir(self.path())
            .expect("read victim")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            names.len(),
            1,
            "{what}: the victim folder changed: {names:?}"
        );
    }
}

/// A `sleep` in its own process group, killed on drop.
struct Sleeper(Child);

impl Sleeper {
    fn start(arg: &str) -> Self {
        let child = std::process::Command::new("sleep")
            .arg(arg)
            .process_group(0)
            .spawn()
            .expect("spawn sleep");
        Sleeper(child)
    }
    fn pid(&self) -> i32 {
        self.0.id() as i32
    }
    fn alive(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_time(pid: i32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let after = &stat[stat.rfind(')').expect(")") + 1..];
    after
        .split_whitespace()
        .nth(19)
        .expect("field")
        .parse()
        .expect("number")
}

fn project_with_app() -> Deployed {
    let p = Deployed::new();
    p.file("pre-deploy.sh", "#!/bin/bash\necho migrating\n")
        .file("hookbox.toml", "[deploy]\nstart = \"exec sleep 300\"\n");
    p
}

#[test]
fn a_shipped_dot_hookbox_is_never_read_as_state() {
    if !is_root() {
        return;
    }
    let victim = Victim::new();
    let home = tempfile::tempdir().expect("home");
    fs::write(home.path().join("keep"), "x").expect("write");
    let mut sleeper = Sleeper::start("31401");
    let p = project_with_app();
    let _guard = AppGuard(&p);
    let record = serde_json::json!({
        "pid": sleeper.pid(),
        "start_time": start_time(sleeper.pid()),
        "uid": 0,
        "release": "x",
        "command": "y",
        "home": home.path(),
    });
    p.file(".hookbox/app.json", &record.to_string());
    symlink("/etc", p.path().join(".hookbox/current")).expect("symlink");
    symlink(victim.path(), p.path().join(".hookbox/releases")).expect("symlink");
    symlink(victim.path(), p.path().join(".hookbox/shared")).expect("symlink");
    fs::create_dir_all(p.path().join(".hookbox/logs")).expect("mkdir");
    symlink(victim.file(), p.path().join(".hookbox/logs/hooks.log")).expect("symlink");
    for _ in 0..2 {
        let out = deploy(&p, &["--keep", "1"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    assert!(
        sleeper.alive(),
        "the pid of a shipped app.json was signalled"
    );
    assert!(
        home.path().join("keep").exists(),
        "a shipped home was removed"
    );
    victim.assert_untouched("shipped .hookbox");
    let rel = current(&p).expect("current");
    assert!(!p.state.join(&rel).join(".hookbox").exists());
}

#[test]
fn symlinked_or_foreign_state_entries_are_refused() {
    if !is_root() {
        return;
    }
    let victim = Victim::new();
    for entry in ["logs", "releases", "shared", "records"] {
        let p = project_with_app();
        fs::create_dir_all(&p.state).expect("mkdir");
        fs::set_permissions(&p.state, fs::Permissions::from_mode(0o711)).expect("chmod");
        symlink(victim.path(), p.state.join(entry)).expect("symlink");
        let out = deploy(&p, &[]);
        assert_eq!(out.status.code(), Some(2), "{entry}: {}", text(&out));
        victim.assert_untouched(entry);
    }
    // A log swapped for a symlink is not appended to.
    let p = project_with_app();
    let _guard = AppGuard(&p);
    assert_eq!(deploy(&p, &[]).status.code(), Some(0));
    fs::remove_file(p.state.join("logs/hooks.log")).expect("rm");
    symlink(victim.file(), p.state.join("logs/hooks.log")).expect("symlink");
    let out = deploy(&p, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    victim.assert_untouched("logs/hooks.log");
    // app.json swapped for a symlink is replaced, never written through.
    fs::remove_file(p.state.join("logs/hooks.log")).expect("rm");
    let app: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(p.state.join("app.json")).expect("app"))
            .expect("json");
    // SAFETY: stopping the app this test's first deploy started (its record goes next).
    unsafe { libc::kill(-(app["pid"].as_i64().expect("pid") as i32), libc::SIGKILL) };
    fs::remove_file(p.state.join("app.json")).expect("rm");
    symlink(victim.file(), p.state.join("app.json")).expect("symlink");
    let out = deploy(&p, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    victim.assert_untouched("app.json");
    // A state folder someone else owns, or others may write, is refused.
    let q = project_with_app();
    fs::create_dir_all(&q.state).expect("mkdir");
    std::os::unix::fs::chown(&q.state, Some(65534), Some(65534)).expect("chown");
    let out = deploy(&q, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("owned by uid 65534"), "{}", text(&out));
    std::os::unix::fs::chown(&q.state, Some(0), Some(0)).expect("chown");
    fs::set_permissions(&q.state, fs::Permissions::from_mode(0o777)).expect("chmod");
    let out = deploy(&q, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("may write it"), "{}", text(&out));
    assert!(!q.state.join("releases").exists());
}

#[test]
fn rollback_uses_the_recorded_start_not_a_rewritten_hookbox_toml() {
    if !is_root() {
        return;
    }
    let p = Deployed::new();
    let _guard = AppGuard(&p);
    p.file(
        "hookbox.toml",
        "[deploy]\nstart = \"echo \\\"original $CONTAINER_VERSION $(id -u)\\\" > \\\"$HOOKBOX_SHARED_DIR/started\\\"; exec sleep 300\"\n",
    )
    // The release's own post-deploy hook rewrites its config: another start command and root.
    .file(
        "post-deploy.sh",
        "#!/bin/bash\nprintf '[policy]\\nrun-as = \"root\"\\n[deploy]\\nstart = \"echo evil > $HOOKBOX_SHARED_DIR/started; exec sleep 300\"\\n' > \"$WORK_DIR/hookbox.toml\"\n",
    );
    assert_eq!(deploy(&p, &[]).status.code(), Some(0));
    let first = current(&p).expect("current");
    let rewritten = fs::read_to_string(p.state.join(&first).join("hookbox.toml")).expect("toml");
    assert!(
        rewritten.contains("evil"),
        "the hook rewrote it: {rewritten}"
    );
    assert_eq!(deploy(&p, &[]).status.code(), Some(0));
    let out = managed(&p, "rollback").output().expect("rollback");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(current(&p), Some(first.clone()));
    let id = first
        .file_name()
        .expect("id")
        .to_string_lossy()
        .into_owned();
    // The recorded start command, run as the deploy's user, not the rewritten root. The app
    // runs in the background, so its report may take a moment to appear.
    let want = format!("original {id} 65534\n");
    let mut started = String::new();
    for _ in 0..100 {
        started = fs::read_to_string(p.state.join("shared/started")).unwrap_or_default();
        if started == want || started.contains("evil") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(started, want);
}

#[test]
fn chown_and_copy_never_follow_a_symlink_in_the_tree() {
    if !is_root() {
        return;
    }
    let victim = Victim::new();
    let p = Deployed::new();
    p.file("pre-deploy.sh", "#!/bin/bash\nln -sfn \"$VICTIM\" \"$HOOKBOX_SHARED_DIR/escape\"\nln -sfn \"$VICTIM/file\" \"$HOOKBOX_SHARED_DIR/escape-file\"\n")
        .file("sub/keep.txt", "k\n");
    symlink(victim.path(), p.path().join("outside")).expect("symlink");
    symlink(victim.file(), p.path().join("sub/outside-file")).expect("symlink");
    let env = format!("VICTIM={}", victim.path().display());
    let out = deploy(&p, &["--env", &env]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rel = p.state.join(current(&p).expect("current"));
    assert_eq!(
        fs::read_link(rel.join("outside")).expect("link"),
        victim.path()
    );
    assert_eq!(
        fs::symlink_metadata(rel.join("outside")).expect("m").uid(),
        65534
    );
    assert!(fs::symlink_metadata(p.state.join("shared/escape")).is_ok());
    // Another hook user: shared/ changes hands, walked by handles, through the planted links.
    p.file("hookbox.toml", "[policy]\nrun-as = \"64201\"\n");
    let out = deploy(&p, &["--env", &env]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        fs::metadata(p.state.join("shared")).expect("m").uid(),
        64201
    );
    assert_eq!(
        fs::symlink_metadata(p.state.join("shared/escape"))
            .expect("m")
            .uid(),
        64201
    );
    victim.assert_untouched("chown and copy");
}

#[test]
fn an_escaping_symlink_planted_by_a_hook_is_not_followed_by_prune() {
    if !is_root() {
        return;
    }
    let victim = Victim::new();
    let p = Deployed::new();
    p.file(
        "post-deploy.sh",
        "#!/bin/bash\nln -s \"$VICTIM\" \"$WORK_DIR/planted\"\nln -s ../../../../../../../../../../../..\"$VICTIM\" \"$WORK_DIR/relative\"\nmkdir -p \"$WORK_DIR/deep\" && ln -s \"$VICTIM\" \"$WORK_DIR/deep/x\"\n",
    );
    let env = format!("VICTIM={}", victim.path().display());
    for _ in 0..3 {
        let out = deploy(&p, &["--env", &env, "--keep", "1"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let kept: Vec<_> = fs::read_dir(p.state.join("releases"))
        .expect("releases")
        .flatten()
        .collect();
    assert_eq!(kept.len(), 1, "two releases were pruned");
    victim.assert_untouched("prune");
}

#[test]
fn a_hook_cannot_reach_or_forge_the_deploy_state() {
    if !is_root() {
        return;
    }
    for runner in ["native", "sandbox"] {
        let p = Deployed::new();
        p.file("pre-deploy.sh", "#!/bin/bash\necho first\n");
        assert_eq!(deploy(&p, &["--runner", runner]).status.code(), Some(0));
        let first = current(&p).expect("current");
        p.file(
            "pre-deploy.sh",
            "#!/bin/bash\n\
             S=\"$WORK_DIR/../..\"\n\
             echo 'Deployment status: success'\n\
             echo '2001-01-01T00:00:00.000Z Deployment status: success' >> \"$S/logs/hooks.log\"\n\
             echo '{}' > \"$S/app.json\"\n\
             rm -rf \"$S/current\" \"$S/records\"\n\
             echo pwned > \"$S/records/x.json\"\n\
             exit 1\n",
        );
        let out = deploy(&p, &["--runner", runner]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{runner}: {t}");
        assert_eq!(current(&p), Some(first), "{runner}: current was changed");
        let log = fs::read_to_string(p.state.join("logs/hooks.log")).expect("log");
        assert!(
            !log.contains("2001-01-01"),
            "{runner}: a hook wrote hooks.log"
        );
        // hookbox's own success line of the first deploy, and no other.
        let unprefixed = log
            .lines()
            .filter(|l| {
                l.split_once(' ')
                    .is_some_and(|(_, rest)| rest.starts_with("Deployment status: success"))
            })
            .count();
        assert_eq!(unprefixed, 1, "{runner}: a forged line in {log}");
        assert!(log.contains("stdout: Deployment status: success"), "{log}");
        assert!(p.state.join("records").is_dir(), "{runner}");
        assert!(!p.state.join("records/x.json").exists(), "{runner}");
        assert!(!p.state.join("app.json").exists(), "{runner}");
    }
}

#[test]
fn two_tenants_side_by_side_cannot_touch_each_others_state() {
    if !is_root() {
        return;
    }
    let b = Deployed::new();
    let _guard_b = AppGuard(&b);
    b.file(
        "hookbox.toml",
        "[policy]\nrun-as = \"64302\"\n[deploy]\nstart = \"echo b > \\\"$HOOKBOX_SHARED_DIR/db\\\"; exec sleep 300\"\n",
    )
    .file("index.txt", "b\n");
    assert_eq!(deploy(&b, &[]).status.code(), Some(0));
    std::thread::sleep(Duration::from_millis(300));
    let b_current = current(&b).expect("current");
    let b_rel = b.state.join(&b_current);
    let b_app: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(b.state.join("app.json")).expect("app"))
            .expect("json");
    let b_pid = b_app["pid"].as_i64().expect("pid");
    let before_log = fs::read_to_string(b.state.join("logs/hooks.log")).expect("log");

    let a = Deployed::new();
    a.file("hookbox.toml", "[policy]\nrun-as = \"64301\"\n")
        .file(
            "pre-deploy.sh",
            "#!/bin/bash\n\
         echo a >> \"$B/shared/db\"\n\
         echo a > \"$B_REL/index.txt\"\n\
         echo a > \"$B_REL/new\"\n\
         echo a >> \"$B/logs/hooks.log\"\n\
         echo '{}' > \"$B/app.json\"\n\
         rm -f \"$B/current\"\n\
         mkdir \"$B/releases/99999999T000000Z\"\n\
         kill -9 \"$B_PID\"\n\
         true\n",
        );
    let out = deploy(
        &a,
        &[
            "--env",
            &format!("B={}", b.state.display()),
            "--env",
            &format!("B_REL={}", b_rel.display()),
            "--env",
            &format!("B_PID={b_pid}"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        fs::read_to_string(b.state.join("shared/db")).expect("db"),
        "b\n"
    );
    assert_eq!(
        fs::read_to_string(b_rel.join("index.txt")).expect("index"),
        "b\n"
    );
    assert!(!b_rel.join("new").exists());
    assert_eq!(
        fs::read_to_string(b.state.join("logs/hooks.log")).expect("log"),
        before_log
    );
    assert_eq!(current(&b), Some(b_current));
    assert!(!b.state.join("releases/99999999T000000Z").exists());
    let app: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(b.state.join("app.json")).expect("app"))
            .expect("json");
    assert_eq!(app["pid"].as_i64(), Some(b_pid));
    assert!(
        Path::new(&format!("/proc/{b_pid}")).exists(),
        "B's app was killed"
    );
}

#[test]
fn stop_never_signals_a_pid_that_is_not_the_recorded_process() {
    if !is_root() {
        return;
    }
    let p = project_with_app();
    let _guard = AppGuard(&p);
    assert_eq!(deploy(&p, &[]).status.code(), Some(0));
    let path = p.state.join("app.json");
    let mut record: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).expect("app")).expect("json");
    let real_pid = record["pid"].as_i64().expect("pid") as i32;
    // The pid now names another process (as after a reboot or pid reuse).
    let mut stranger = Sleeper::start("31402");
    record["pid"] = serde_json::json!(stranger.pid());
    fs::write(&path, record.to_string()).expect("write");
    let out = managed(&p, "stop").output().expect("stop");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("not running"), "{}", text(&out));
    assert!(stranger.alive(), "a stranger was signalled");
    // SAFETY: cleaning up the app this test's deploy started.
    unsafe { libc::kill(-real_pid, libc::SIGKILL) };
}
