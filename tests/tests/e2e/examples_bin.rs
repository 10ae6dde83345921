//! The examples through the `hookbox` binary: `plan --json`, `validate`, and real `deploy` /
//! `run` of copies of them (never of the checked-out folders, which must stay clean). The
//! Django example's install step needs the package index, so only its plan is checked here.

use std::path::{Path, PathBuf};
use std::process::Output;

use hookbox_tests::hookbox;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../hooks-examples")
        .join(name)
}

/// A copy of an example in a temporary folder, with the app it starts stopped on drop.
struct Copy {
    dir: tempfile::TempDir,
    /// The deploy state folder's parent (outside the project, enterable by the hook user).
    state_root: tempfile::TempDir,
}

impl Copy {
    fn of(name: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", example(name).display()))
            .arg(dir.path())
            .status()
            .expect("cp");
        assert!(status.success());
        // Keep the copy free of state from a deploy someone ran in the checkout.
        let _ = std::fs::remove_dir_all(dir.path().join(".hookbox"));
        let state_root = tempfile::tempdir().expect("tempdir");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(state_root.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        Copy { dir, state_root }
    }

    fn state(&self) -> PathBuf {
        self.state_root.path().join("state")
    }

    /// `hookbox deploy ARGS DIR --state-dir STATE`.
    fn deploy(&self, args: &[&str]) -> Output {
        hookbox()
            .arg("deploy")
            .args(args)
            .arg(self.path())
            .arg("--state-dir")
            .arg(self.state())
            .output()
            .expect("run hookbox deploy")
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn current(&self) -> Option<PathBuf> {
        std::fs::read_link(self.state().join("current")).ok()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.state().join("logs/hooks.log")).unwrap_or_default()
    }

    fn sqlite(&self, db: &str, sql: &str) -> String {
        let out = std::process::Command::new("sqlite3")
            .arg(self.state().join("shared").join(db))
            .arg(sql)
            .output()
            .expect("sqlite3");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        // Stop the example app this test's deploy started (its process group, by its pid).
        let record = self.state().join("app.json");
        if let Ok(text) = std::fs::read_to_string(record) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                if let Some(pid) = v.get("pid").and_then(|p| p.as_i64()) {
                    if pid > 1 {
                        // SAFETY: kill(2) on the process group this test's deploy created.
                        unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
                    }
                }
            }
        }
    }
}

fn run(args: &[&str], dir: &Path) -> Output {
    hookbox().args(args).arg(dir).output().expect("run hookbox")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn plan_json_of_every_example() {
    for (name, hooks) in [
        ("flux-sqlite", vec!["pre-deploy.sh", "post-deploy.sh"]),
        ("flux-django", vec!["pre-deploy.sh"]),
        ("procfile", vec!["postdeploy"]),
        ("procfile-failing", vec!["postdeploy"]),
    ] {
        let out = run(&["plan", "--json"], &example(name));
        assert!(out.status.success(), "{name}: {}", text(&out));
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let names: Vec<&str> = plan["hooks"]
            .as_array()
            .expect("hooks")
            .iter()
            .filter_map(|h| h["name"].as_str())
            .collect();
        assert_eq!(names, hooks, "{name}");
    }
}

#[test]
fn validate_passes_the_good_examples_and_flags_the_disabled_script() {
    for name in [
        "flux-sqlite",
        "flux-django",
        "procfile",
        "site-factory-failing",
    ] {
        let out = run(&["validate"], &example(name));
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out));
    }
    // The disabled script is a warning (disabled on purpose), an error only with --strict.
    let out = run(&["validate"], &example("site-factory"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("40-disabled.sh") && text(&out).contains("warning"),
        "{}",
        text(&out)
    );
    let out = run(&["validate", "--strict"], &example("site-factory"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn flux_sqlite_deploys_migrates_idempotently_and_a_broken_migration_keeps_the_release() {
    let app = Copy::of("flux-sqlite");
    let out = app.deploy(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let first = app.current().expect("current after the first deploy");
    assert_eq!(app.sqlite("app.db", "SELECT count(*) FROM items;"), "3");
    let cache = std::fs::read_to_string(app.state().join("current/cache/counts.json"))
        .expect("post-deploy wrote the cache");
    assert!(cache.contains("\"items\":3"), "{cache}");
    let log = app.log();
    assert!(log.contains("Running hook: pre-deploy.sh"), "{log}");
    assert!(log.contains("Hook completed successfully"), "{log}");
    let all = format!("{}{log}", text(&out));
    assert!(!all.contains("s3cr3t-Pa55word"), "secret leaked:\n{all}");

    let out = app.deploy(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(app.log().contains("(already applied)"));
    let second = app.current().expect("current");
    assert_ne!(first, second);

    std::fs::copy(
        example("flux-sqlite-failing/migrations/004_add_stock_broken.sql"),
        app.path().join("migrations/004_add_stock_broken.sql"),
    )
    .expect("copy migration");
    let out = app.deploy(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        app.current(),
        Some(second),
        "the previous release keeps serving"
    );
    assert!(app.log().contains("Hook failed with exit code 1"));
    // The broken migration's transaction was rolled back.
    assert!(!app
        .sqlite(
            "app.db",
            "SELECT sql FROM sqlite_master WHERE name = 'items';"
        )
        .contains("stock"));
    assert_eq!(
        app.sqlite("app.db", "SELECT count(*) FROM schema_migrations;"),
        "3"
    );
}

/// The main example with its shell hooks in the sandbox: the bundled shell runs them and their
/// `sqlite3` crosses the bridge, which must reach the deploy's persistent shared/ folder.
#[test]
fn flux_sqlite_deploys_with_shell_hooks_in_the_sandbox() {
    let app = Copy::of("flux-sqlite");
    let out = app.deploy(&["--runner", "sandbox", "--meter-fuel"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(app.sqlite("app.db", "SELECT count(*) FROM items;"), "3");
    let log = app.log();
    assert!(log.contains("instructions used:"), "not sandboxed:\n{log}");
    let cache = std::fs::read_to_string(app.state().join("current/cache/counts.json"))
        .expect("post-deploy wrote the cache");
    assert!(cache.contains("\"items\":3"), "{cache}");
    let out = app.deploy(&["--runner", "sandbox"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(app.log().contains("(already applied)"));
}

#[test]
fn procfile_postdeploy_gates_the_switch_and_its_failure_is_a_hook_error() {
    let app = Copy::of("procfile");
    let out = app.deploy(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let first = app.current().expect("current");
    assert_eq!(
        app.sqlite("app.db", "SELECT count(*) FROM deployments;"),
        "1"
    );

    std::fs::copy(
        example("procfile-failing/Procfile"),
        app.path().join("Procfile"),
    )
    .expect("copy Procfile");
    let out = app.deploy(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("hook-error"), "{}", text(&out));
    assert!(
        app.log().contains("Hook failed with exit code 127"),
        "{}",
        app.log()
    );
    assert_eq!(
        app.current(),
        Some(first),
        "the previous release keeps serving"
    );
}

#[test]
fn site_factory_scripts_run_in_order_and_the_seed_script_fails_the_task() {
    let args = ["--", "mysite", "01live", "db1", "www.example.com"];
    let app = Copy::of("site-factory");
    let out = hookbox()
        .args(["run", "post-staging-update"])
        .arg(app.path())
        .args(["--log-file"])
        .arg(app.path().join("hooks.log"))
        .args(args)
        .output()
        .expect("run");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    let a = t.find("sitegroup: mysite").expect("10 ran");
    let b = t.find("staged data sanitized").expect("20 ran");
    let c = t
        .find("page cache of www.example.com cleared")
        .expect("30 ran");
    assert!(a < b && b < c, "{t}");
    assert!(!t.contains("this line never prints"), "{t}");

    let app = Copy::of("site-factory-failing");
    let out = hookbox()
        .args(["run", "post-staging-update"])
        .arg(app.path())
        .args(["--log-file"])
        .arg(app.path().join("hooks.log"))
        .args(args)
        .output()
        .expect("run");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("domain: www.example.com"), "{t}");
    assert!(!t.contains("this line never prints"), "{t}");
    let log = std::fs::read_to_string(app.path().join("hooks.log")).unwrap_or_default();
    assert!(log.contains("Hook failed with exit code 127"), "{log}");
}

/// The examples' shell hooks run in the sandbox without any flag (their `hookbox.toml` says
/// `runner = "sandbox"`), including the `bash db/migrate.sh` a Procfile command starts, and
/// `--runner native` gives the same database.
#[test]
fn examples_run_their_shell_hooks_in_the_sandbox_by_default_and_agree_with_native() {
    let out = hookbox()
        .args(["plan", "--json"])
        .arg(example("procfile"))
        .output()
        .expect("plan");
    let plan = text(&out);
    assert!(
        plan.contains("\"runner\": \"sandbox\"") || plan.contains("\"runner\":\"sandbox\""),
        "{plan}"
    );

    let mut counts = Vec::new();
    for runner in [None, Some("native")] {
        let app = Copy::of("procfile");
        // Counted instructions show which runner ran the hook.
        let mut args = vec!["--meter-fuel"];
        if let Some(r) = runner {
            args.extend(["--runner", r]);
        }
        let out = app.deploy(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let log = app.log();
        assert_eq!(
            log.contains("instructions used:"),
            runner.is_none(),
            "runner {runner:?}:\n{log}"
        );
        assert!(log.contains("deployments so far: 1"), "{log}");
        counts.push(app.sqlite("app.db", "SELECT count(*) FROM deployments;"));
    }
    assert_eq!(counts, ["1", "1"]);
}
