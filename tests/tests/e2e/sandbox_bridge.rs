//! Sandboxed guests starting host commands through the `hookbox` imports and the bridge:
//! allowed commands run (confined, as the hook user), denied ones never run, a guest blocked on
//! a command is stopped at its deadline, and the example Rust migration hook applies its
//! migrations with the real `sqlite3`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hookbox::bridge::policy::Policy;
use hookbox::plan::HookProgram;
use hookbox::runner::Exit;

use super::sandbox::{exec_cmd, run, Fixture};

/// The user bridged commands run as when the tests run as root (the default `run_as`).
const NOBODY: u32 = 65534;

/// An example hook from hooks-examples/rust-hooks, built by tests/build.rs.
fn rust_hook(name: &str) -> PathBuf {
    Path::new(env!("HOOKBOX_TEST_RUST_HOOKS")).join(format!("{name}.wasm"))
}

/// A fixture whose work and temporary directories the hook user may use (bridged commands run
/// as `nobody` when the tests run as root).
fn fixture() -> Fixture {
    let fx = Fixture::new();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let status = Command::new("chown")
            .args(["-R", &format!("{NOBODY}:{NOBODY}")])
            .arg(&fx.work)
            .arg(&fx.temp)
            .status()
            .unwrap();
        assert!(status.success());
        let status = Command::new("chmod")
            .arg("711")
            .arg(fx.base())
            .status()
            .unwrap();
        assert!(status.success());
    }
    fx
}

fn allow(commands: &[&str]) -> Policy {
    Policy {
        allow: commands.iter().map(|c| c.to_string()).collect(),
        ..Policy::default()
    }
}

#[tokio::test]
async fn a_guest_runs_an_allowed_command_and_reads_its_output() {
    let fx = fixture();
    let mut inv = fx.probe(&["exec", "sqlite3", ":memory:", "select 6*7;"]);
    inv.policy = allow(&["sqlite3"]);
    let (report, out) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0), "{}", out.stderr());
    assert_eq!(out.stdout(), "42\n");
}

#[tokio::test]
async fn a_command_not_on_the_allow_list_never_runs_and_gives_127() {
    let fx = fixture();
    let marker = fx.work.join("touched");
    let mut inv = fx.probe(&["exec", "touch", &marker.display().to_string()]);
    inv.policy = allow(&["sqlite3"]);
    let (report, out) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(127));
    assert!(
        out.stdout().contains("not allowed by the policy") && out.stdout().contains("allow"),
        "{}",
        out.stdout()
    );
    assert!(!marker.exists());
    // Positive control: allowed, the same request does run.
    inv.policy = allow(&["touch"]);
    let (report, out) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0), "{}", out.stdout());
    assert!(marker.exists());
}

#[tokio::test]
async fn the_deadline_stops_a_guest_blocked_on_a_bridged_command() {
    let fx = fixture();
    let mut inv = fx.probe(&["exec", "sleep", "31.7"]);
    inv.policy = allow(&["sleep"]);
    inv.limits.timeout = Duration::from_secs(2);
    let (report, _) = run(&inv).await;
    assert_eq!(report.exit, Exit::TimedOut);
    assert!(
        report.duration < Duration::from_secs(20),
        "{:?}",
        report.duration
    );
    // The command did not outlive the hook.
    let left = Command::new("pgrep")
        .args(["-f", "sleep 31.7"])
        .output()
        .unwrap();
    assert!(left.stdout.is_empty(), "still running: {:?}", left);
}

#[tokio::test]
async fn the_rust_migration_hook_applies_migrations_once_with_sqlite3() {
    let fx = fixture();
    let migrations = fx.work.join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../hooks-examples/flux-rust/migrations");
    for entry in std::fs::read_dir(example).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), migrations.join(entry.file_name())).unwrap();
    }
    fixture_owns(&fx);
    let mut inv = fx.probe(&[]);
    inv.program = HookProgram::Wasm(rust_hook("migrate"));
    inv.policy = allow(&["sqlite3"]);
    let (report, out) = run(&inv).await;
    assert_eq!(
        report.exit,
        Exit::Code(0),
        "{}{}",
        out.stdout(),
        out.stderr()
    );
    assert!(
        out.stdout()
            .contains("migrations: 2 applied, 0 already up to date"),
        "{}",
        out.stdout()
    );
    assert!(out
        .stderr()
        .contains("[info] applying migration 001_create_items.sql"));
    let db = fx.work.join("app.db");
    let items = Command::new("sqlite3")
        .arg(&db)
        .arg("select count(*) from items; select count(*) from schema_migrations;")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&items.stdout), "2\n2\n");
    // Idempotent: a second run applies nothing.
    let (report, out) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0), "{}", out.stderr());
    assert!(out
        .stdout()
        .contains("migrations: 0 applied, 2 already up to date"));
    // Without sqlite3 in the policy the hook fails like a missing command.
    inv.policy = Policy::default();
    let (report, out) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(127), "{}", out.stderr());
    assert!(
        out.stderr().contains("not allowed by the policy"),
        "{}",
        out.stderr()
    );
}

#[tokio::test]
async fn the_rust_notifier_hook_logs_without_a_url() {
    let fx = fixture();
    let mut inv = fx.probe(&[]);
    inv.program = HookProgram::Wasm(rust_hook("notify"));
    inv.stage = "post-deploy".into();
    inv.hook_name = "post-deploy.wasm".into();
    inv.env.insert("APP_NAME".into(), "shop".into());
    let (report, out) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0), "{}", out.stderr());
    assert_eq!(
        out.stdout(),
        "shop: deployment finished (post-deploy / post-deploy.wasm)\n"
    );
    // With a URL but curl not allowed, the notification fails (a post-deploy WARNING).
    inv.env
        .insert("NOTIFY_URL".into(), "http://127.0.0.1:9/hook".into());
    let (report, out) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(127), "{}", out.stderr());
}

#[test]
fn exec_allow_lets_a_module_run_a_command() {
    let fx = fixture();
    let out = exec_cmd(&fx.work)
        .args([
            "--allow",
            "sqlite3",
            "--",
            "exec",
            "sqlite3",
            ":memory:",
            "select 1+1;",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2\n");
    let out = exec_cmd(&fx.work)
        .args(["--", "exec", "sqlite3", ":memory:", "select 1+1;"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127), "{out:?}");
}

/// Files the test wrote after `fixture()` belong to root; give them to the hook user too.
fn fixture_owns(fx: &Fixture) {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let status = Command::new("chown")
            .args(["-R", &format!("{NOBODY}:{NOBODY}")])
            .arg(&fx.work)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

#[tokio::test]
async fn a_sandboxed_shell_hook_runs_an_allowed_command_in_its_work_dir() {
    let fx = fixture();
    let script = fx.work.join("pre-deploy.sh");
    std::fs::write(
        &script,
        "#!/bin/bash\npwd\nsqlite3 app.db 'create table t(x); insert into t values (7);'\n\
         echo \"rc=$?\"\nsqlite3 app.db 'select x from t;'\n",
    )
    .unwrap();
    fixture_owns(&fx);
    let mut inv = fx.probe(&[]);
    inv.program = HookProgram::Script(script);
    inv.policy = allow(&["sqlite3"]);
    let (report, out) = run(&inv).await;
    assert_eq!(
        report.exit,
        Exit::Code(0),
        "{}{}",
        out.stdout(),
        out.stderr()
    );
    assert_eq!(out.stdout(), format!("{}\nrc=0\n7\n", fx.work.display()));
    assert!(fx.work.join("app.db").exists());
}

#[tokio::test]
async fn the_flux_rust_example_plans_its_wasm_hooks_in_the_sandbox_and_its_migration_runs() {
    use hookbox::discover::{discover, DiscoverOptions};
    use hookbox::plan::RunnerKind;
    let fx = fixture();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hooks-examples/flux-rust");
    let copy = Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", example.display()))
        .arg(&fx.work)
        .status()
        .unwrap();
    assert!(copy.success());
    // What `make hooks` does.
    std::fs::copy(rust_hook("migrate"), fx.work.join("pre-deploy.wasm")).unwrap();
    std::fs::copy(rust_hook("notify"), fx.work.join("post-deploy.wasm")).unwrap();
    fixture_owns(&fx);
    let plan = discover(&fx.work, &DiscoverOptions::default()).expect("discover");
    let names: Vec<(&str, RunnerKind)> = plan
        .hooks
        .iter()
        .map(|h| (h.name.as_str(), h.runner))
        .collect();
    assert_eq!(
        names,
        vec![
            ("pre-deploy.wasm", RunnerKind::Sandbox),
            ("post-deploy.wasm", RunnerKind::Sandbox)
        ]
    );
    let pre = &plan.hooks[0];
    let mut inv = fx.probe(&[]);
    inv.program = pre.program.clone();
    inv.hook_name = pre.name.clone();
    inv.policy = plan.policy.clone();
    let (report, out) = run(&inv).await;
    assert_eq!(
        report.exit,
        Exit::Code(0),
        "{}{}",
        out.stdout(),
        out.stderr()
    );
    assert!(
        out.stdout().contains("migrations: 2 applied"),
        "{}",
        out.stdout()
    );
}
