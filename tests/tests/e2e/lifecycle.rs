//! The lifecycle rules of DESIGN.md's table, through the library with real hook runs.
//!
//! Every rule is a case run for each runner kind in [`KINDS`] (a matrix: add
//! `RunnerKind::Sandbox` there when the sandbox runner runs shell hooks, and the same cases
//! must pass on it).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hookbox::discover::{discover, DiscoverOptions};
use hookbox::events::redact::Redactor;
use hookbox::events::{Events, Terminal};
use hookbox::lifecycle::{run_stage, Outcome, Platform, RunContext, Runners, Status, Timeouts};
use hookbox::limits::Limits;
use hookbox::plan::{HookProgram, Plan, RunnerKind};
use hookbox::runner::native::NativeRunner;
use hookbox::runner::{Exit, Runner};

/// The runner kinds every lifecycle case runs under: shell hooks natively (bash) and in the
/// sandbox (the bundled shell), with the same expectations.
pub const KINDS: &[RunnerKind] = &[RunnerKind::Native, RunnerKind::Sandbox];

/// A throwaway project directory that hooks (possibly another user) can read and write.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        // Hooks run as an unprivileged user when the tests run as root.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).expect("chmod");
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (parents created, world-readable dirs); `.sh` files and everything under
    /// `factory-hooks/` or `hooks/` are made executable.
    pub fn file(&self, rel: &str, content: &str) -> &Self {
        let p = self.path().join(rel);
        let mut parent = p.parent().map(Path::to_path_buf);
        fs::create_dir_all(parent.as_ref().expect("parent")).expect("mkdir");
        while let Some(d) = parent {
            if d == self.path() || !d.starts_with(self.path()) {
                break;
            }
            fs::set_permissions(&d, fs::Permissions::from_mode(0o777)).expect("chmod");
            parent = d.parent().map(Path::to_path_buf);
        }
        fs::write(&p, content).expect("write");
        let exec =
            rel.ends_with(".sh") || rel.starts_with("factory-hooks/") || rel.starts_with("hooks/");
        let mode = if exec { 0o755 } else { 0o644 };
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
        self
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path().join(rel)).unwrap_or_default()
    }
}

/// The plan of `dir`, every non-wasm hook moved to `kind`.
pub fn plan_for(kind: RunnerKind, dir: &Path) -> Plan {
    let mut plan = discover(dir, &DiscoverOptions::default()).expect("discover");
    for h in &mut plan.hooks {
        if !matches!(h.program, HookProgram::Wasm(_)) {
            h.runner = kind;
        }
    }
    plan
}

pub fn context(dir: &Path, plan: &Plan) -> RunContext {
    RunContext {
        app_env: plan.env.clone(),
        platform: Platform::new(dir, &plan.policy.path),
        timeouts: Timeouts::default(),
        skip_hooks: false,
        extra_args: Vec::new(),
        limits: Limits::default(),
        temp_root: std::env::temp_dir(),
        hook_user: hook_user(plan),
        progress_every: None,
        gate: None,
    }
}

pub fn hook_user(plan: &Plan) -> Option<hookbox::lifecycle::HookIds> {
    hookbox::runner::user::resolve(plan.policy.run_as.as_deref())
        .expect("hook user")
        .map(|u| hookbox::lifecycle::HookIds {
            uid: u.uid,
            gid: u.gid,
        })
}

/// Runs `stage` of `project` under `kind`; returns the outcome and the hooks.log text.
pub fn run(
    kind: RunnerKind,
    project: &Project,
    stage: &str,
    tweak: impl FnOnce(&mut RunContext),
) -> (Outcome, String) {
    let plan = plan_for(kind, project.path());
    let mut ctx = context(project.path(), &plan);
    tweak(&mut ctx);
    let logdir = tempfile::tempdir().expect("tempdir");
    let log = logdir.path().join("hooks.log");
    let events = Arc::new(
        Events::new(
            Some(&log),
            Terminal::Quiet,
            Redactor::from_env(&ctx.app_env),
        )
        .expect("events"),
    );
    let native = NativeRunner::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let outcome = rt
        .block_on(async {
            // The sandbox tests' shared runner (one wasmtime engine for the test binary).
            let sandbox = (kind == RunnerKind::Sandbox).then(super::sandbox::runner);
            let runners = Runners {
                native: &native as &dyn Runner,
                sandbox: sandbox.as_deref().map(|s| s as &dyn Runner),
            };
            run_stage(&plan, stage, &ctx, &runners, &events, rx).await
        })
        .expect("run_stage");
    (outcome, fs::read_to_string(&log).unwrap_or_default())
}

/// Log lines without their timestamps.
pub fn messages(log: &str) -> Vec<String> {
    log.lines()
        .map(|l| {
            l.split_once(' ')
                .map(|(_, m)| m.to_string())
                .unwrap_or_default()
        })
        .collect()
}

const APPEND_NAME: &str = "#!/bin/bash\necho \"$HOOK_NAME\" >> \"$WORK_DIR/order.txt\"\n";

#[test]
fn scripts_of_one_hook_run_in_byte_order() {
    for &kind in KINDS {
        let p = Project::new();
        for name in ["b.sh", "B.sh", "10-x.sh", "2-y.sh", "a.sh"] {
            p.file(
                &format!("factory-hooks/post-staging-update/{name}"),
                APPEND_NAME,
            );
        }
        let (outcome, _) = run(kind, &p, "post-staging-update", |_| {});
        assert_eq!(outcome.status, Status::Success, "{kind:?}");
        assert_eq!(
            p.read("order.txt"),
            "10-x.sh\n2-y.sh\nB.sh\na.sh\nb.sh\n",
            "{kind:?}"
        );
    }
}

#[test]
fn first_failing_script_stops_the_rest_and_fails_the_task() {
    for &kind in KINDS {
        let p = Project::new();
        p.file("factory-hooks/post-staging-update/10-ok.sh", APPEND_NAME)
            .file(
                "factory-hooks/post-staging-update/20-fail.sh",
                "#!/bin/bash\necho \"$HOOK_NAME\" >> \"$WORK_DIR/order.txt\"\necho 'drush: database update failed' >&2\nexit 3\n",
            )
            .file("factory-hooks/post-staging-update/30-never.sh", APPEND_NAME);
        let (outcome, log) = run(kind, &p, "post-staging-update", |_| {});
        assert_eq!(outcome.status, Status::TaskFailed, "{kind:?}");
        assert_eq!(p.read("order.txt"), "10-ok.sh\n20-fail.sh\n", "{kind:?}");
        let m = messages(&log);
        assert!(
            m.contains(&"Hook failed with exit code 3".to_string()),
            "{log}"
        );
        assert!(
            m.iter().any(|l| l.contains("database update failed")),
            "error in the task log: {log}"
        );
        assert!(
            !m.contains(&"Running hook: 30-never.sh".to_string()),
            "{log}"
        );
        assert_eq!(outcome.skipped, ["30-never.sh"]);
    }
}

#[test]
fn site_factory_arguments_are_dollar_1_to_4() {
    for &kind in KINDS {
        let p = Project::new();
        p.file(
            "factory-hooks/post-staging-update/10-args.sh",
            "#!/usr/bin/env bash\nSITEGROUP=\"$1\"\nENVIRONMENT=\"$2\"\nDB_ROLE=\"$3\"\nDOMAIN=\"$4\"\necho \"$SITEGROUP|$ENVIRONMENT|$DB_ROLE|$DOMAIN|$#\" > \"$WORK_DIR/args.txt\"\n",
        );
        let (outcome, _) = run(kind, &p, "post-staging-update", |ctx| {
            ctx.extra_args = ["mysite", "01live", "db123", "www.example.com"]
                .map(String::from)
                .to_vec();
        });
        assert_eq!(outcome.status, Status::Success);
        assert_eq!(
            p.read("args.txt"),
            "mysite|01live|db123|www.example.com|4\n"
        );
    }
}

#[test]
fn pre_deploy_failure_aborts() {
    for &kind in KINDS {
        let p = Project::new();
        p.file(
            "pre-deploy.sh",
            "#!/bin/bash\nset -e\necho migrating\nfalse\necho never\n",
        );
        let (outcome, log) = run(kind, &p, "pre-deploy", |_| {});
        assert_eq!(outcome.status, Status::Aborted, "{kind:?}");
        assert!(!outcome.status.is_success());
        let m = messages(&log);
        assert_eq!(
            m.first().map(String::as_str),
            Some("Running hook: pre-deploy.sh")
        );
        assert!(
            m.contains(&"Hook failed with exit code 1".to_string()),
            "{log}"
        );
        assert!(!log.contains("never"));
    }
}

#[test]
fn procfile_gate_failure_is_hook_error() {
    for &kind in KINDS {
        for stage in ["postdeploy", "release"] {
            let p = Project::new();
            p.file(
                "Procfile",
                &format!("web: sleep 1\n{stage}: echo migrate && exit 4\n"),
            );
            let (outcome, log) = run(kind, &p, stage, |_| {});
            assert_eq!(outcome.status, Status::HookError, "{kind:?} {stage}");
            assert!(
                messages(&log).contains(&"Hook failed with exit code 4".to_string()),
                "{log}"
            );
        }
    }
}

#[test]
fn post_deploy_failure_is_a_warning_and_success() {
    for &kind in KINDS {
        let p = Project::new();
        p.file(
            "post-deploy.sh",
            "#!/bin/bash\nset -e\ncurl_missing_tool -X POST http://localhost:1/\n",
        );
        let (outcome, log) = run(kind, &p, "post-deploy", |_| {});
        assert_eq!(outcome.status, Status::SuccessWithWarnings, "{kind:?}");
        assert!(outcome.status.is_success());
        assert!(
            messages(&log)
                .iter()
                .any(|l| l.starts_with("WARNING: post-deploy.sh failed with exit code 127")),
            "{log}"
        );
    }
}

#[test]
fn timeout_is_a_failure_reported_as_a_timeout() {
    for &kind in KINDS {
        let p = Project::new();
        p.file("pre-deploy.sh", "#!/bin/bash\necho start\nsleep 30\n")
            .file("post-deploy.sh", "#!/bin/bash\nsleep 30\n");
        let (outcome, log) = run(kind, &p, "pre-deploy", |ctx| {
            ctx.timeouts.env = Some(Duration::from_secs(1));
            ctx.limits.kill_grace = Duration::from_secs(1);
        });
        assert_eq!(outcome.status, Status::Aborted, "{kind:?}");
        assert_eq!(outcome.hooks[0].exit, Some(Exit::TimedOut));
        let m = messages(&log);
        assert!(m.contains(&"Hook timed out after 1 s".to_string()), "{log}");
        assert!(
            !m.iter()
                .any(|l| l.starts_with("Hook failed with exit code")),
            "{log}"
        );
        // The same timeout under post-deploy's rule is a warning.
        let (outcome, log) = run(kind, &p, "post-deploy", |ctx| {
            ctx.timeouts.cli = Some(Duration::from_secs(1));
            ctx.limits.kill_grace = Duration::from_secs(1);
        });
        assert_eq!(outcome.status, Status::SuccessWithWarnings, "{kind:?}");
        assert!(
            log.contains("WARNING: post-deploy.sh timed out after 1 s"),
            "{log}"
        );
    }
}

#[test]
fn timeout_precedence_cli_over_hook_over_env() {
    for &kind in KINDS {
        let p = Project::new();
        p.file("pre-deploy.sh", "#!/bin/bash\nsleep 3\n").file(
            "hookbox.toml",
            "[[hook]]\nstage = \"pre-deploy\"\nscript = \"pre-deploy.sh\"\ntimeout-seconds = 1\n",
        );
        // The hook's own 1 s beats HOOK_TIMEOUT=60.
        let (outcome, log) = run(kind, &p, "pre-deploy", |ctx| {
            ctx.timeouts.env = Some(Duration::from_secs(60));
            ctx.limits.kill_grace = Duration::from_secs(1);
        });
        assert_eq!(outcome.status, Status::Aborted, "{log}");
        assert!(log.contains("Hook timed out after 1 s"), "{log}");
        // --timeout 10 beats the hook's own 1 s.
        let (outcome, log) = run(kind, &p, "pre-deploy", |ctx| {
            ctx.timeouts.cli = Some(Duration::from_secs(10));
        });
        assert_eq!(outcome.status, Status::Success, "{log}");
    }
}

#[test]
fn skip_hooks_skips_every_hook_and_says_so() {
    for &kind in KINDS {
        let p = Project::new();
        p.file("pre-deploy.sh", "#!/bin/bash\ntouch \"$WORK_DIR/ran\"\n");
        let (outcome, log) = run(kind, &p, "pre-deploy", |ctx| ctx.skip_hooks = true);
        assert_eq!(outcome.status, Status::Success);
        assert!(outcome.hooks.is_empty());
        assert_eq!(outcome.skipped, ["pre-deploy.sh"]);
        assert!(!p.path().join("ran").exists());
        assert!(log.contains("SKIP_HOOKS is set"), "{log}");
    }
}

#[test]
fn hook_sees_the_application_environment_not_the_hosts() {
    for &kind in KINDS {
        let p = Project::new();
        p.file(
            "pre-deploy.sh",
            "#!/bin/bash\nenv | sort > \"$WORK_DIR/env.txt\"\necho \"$HOME\" > \"$WORK_DIR/home.txt\"\ntouch \"$HOME/x\"\n",
        )
        .file("hookbox.toml", "[env]\nNODE_ENV = \"production\"\nFROM_TOML = \"toml\"\n");
        let (outcome, _) = run(kind, &p, "pre-deploy", |ctx| {
            ctx.app_env.insert("FROM_CLI".into(), "cli".into());
            ctx.platform.container_version = Some("rel-7".into());
        });
        assert_eq!(outcome.status, Status::Success);
        let env: BTreeMap<String, String> = p
            .read("env.txt")
            .lines()
            .filter_map(|l| {
                l.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        assert_eq!(env["NODE_ENV"], "production");
        assert_eq!(env["FROM_CLI"], "cli");
        assert_eq!(env["HOOK_NAME"], "pre-deploy.sh");
        assert_eq!(env["HOOK_STAGE"], "pre-deploy");
        assert_eq!(env["FLUX_PEER_INDEX"], "0");
        assert_eq!(env["CONTAINER_VERSION"], "rel-7");
        assert_eq!(PathBuf::from(&env["WORK_DIR"]), p.path());
        assert_eq!(env["PATH"], hookbox::bridge::policy::DEFAULT_POLICY_PATH);
        // The test process's own variables (CARGO_*, RUST_*) never reach a hook.
        assert!(!env.keys().any(|k| k.starts_with("CARGO")), "{env:?}");
        // HOME was private to the run and is gone.
        let home = p.read("home.txt");
        assert!(!Path::new(home.trim()).exists(), "{home}");
    }
}

#[test]
fn sandbox_hook_without_sandbox_runner_is_refused_not_run_natively() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\ntouch \"$WORK_DIR/ran\"\n");
    let plan = plan_for(RunnerKind::Sandbox, p.path());
    let ctx = context(p.path(), &plan);
    let events = Arc::new(Events::new(None, Terminal::Quiet, Redactor::empty()).expect("events"));
    let native = NativeRunner::new();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let err = rt
        .block_on(run_stage(
            &plan,
            "pre-deploy",
            &ctx,
            &Runners {
                native: &native,
                sandbox: None,
            },
            &events,
            rx,
        ))
        .expect_err("refused");
    assert!(err.to_string().contains("sandbox"), "{err}");
    assert!(!p.path().join("ran").exists());
}

#[test]
fn post_staging_update_runs_only_when_the_code_differs() {
    for &kind in KINDS {
        let p = Project::new();
        p.file("factory-hooks/post-staging-update/10-mark.sh", APPEND_NAME);
        for (source, target, runs) in [("v1", "v1", false), ("v1", "v2", true)] {
            p.file(
                "hookbox.toml",
                &format!("[site-factory]\nsource-code-version = \"{source}\"\ntarget-code-version = \"{target}\"\n"),
            );
            let _ = fs::remove_file(p.path().join("order.txt"));
            let (outcome, log) = run(kind, &p, "post-staging-update", |_| {});
            assert_eq!(outcome.status, Status::Success, "{log}");
            assert_eq!(
                p.path().join("order.txt").exists(),
                runs,
                "{source} {target}: {log}"
            );
            if !runs {
                assert!(log.contains("same code"), "{log}");
            }
        }
    }
}

#[test]
fn site_factory_default_command_runs_when_no_script() {
    for &kind in KINDS {
        let p = Project::new();
        fs::create_dir_all(p.path().join("factory-hooks/db-update")).expect("mkdir");
        p.file(
            "hookbox.toml",
            "[site-factory]\ndefault-command = \"echo default-ran > \\\"$WORK_DIR/default.txt\\\"\"\n",
        );
        let (outcome, log) = run(kind, &p, "db-update", |_| {});
        assert_eq!(outcome.status, Status::Success, "{log}");
        assert_eq!(p.read("default.txt"), "default-ran\n", "{log}");
    }
}
