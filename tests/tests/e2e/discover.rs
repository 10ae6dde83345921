//! Discovery through the library: each convention's rule, hookbox.toml's schema, `validate`'s
//! problems, and bad input (empty, binary, unreadable, FIFO, symlink loop, CRLF, non-UTF-8
//! names) giving a clear error or report, never a panic.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hookbox::discover::{discover, validate, DiscoverError, DiscoverOptions, Problem};
use hookbox::plan::{Convention, FailureRule, Hook, HookProgram, Plan, Point, RunnerKind};

const WASM_HEADER: &[u8] = b"\0asm\x01\0\0\0";

/// A temporary project; files are written with the given mode.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        Project {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, rel: &str, content: impl AsRef<[u8]>, mode: u32) -> &Self {
        let path = self.path().join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, content).expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
        self
    }

    fn script(&self, rel: &str, body: &str) -> &Self {
        self.file(rel, format!("#!/bin/bash\n{body}\n"), 0o755)
    }

    fn dir(&self, rel: &str) -> &Self {
        fs::create_dir_all(self.path().join(rel)).expect("mkdir");
        self
    }

    fn abs(&self, rel: &str) -> PathBuf {
        fs::canonicalize(self.path()).expect("canonical").join(rel)
    }

    fn plan(&self) -> Plan {
        self.plan_with(&DiscoverOptions::default())
    }

    fn plan_with(&self, opts: &DiscoverOptions) -> Plan {
        match discover(self.path(), opts) {
            Ok(plan) => {
                // Every plan must serialize (the CLI's `plan --json`).
                serde_json::to_string(&plan).expect("plan serializes");
                plan
            }
            Err(e) => panic!("discover failed: {e}"),
        }
    }

    fn problems(&self) -> Vec<Problem> {
        self.problems_with(&DiscoverOptions::default())
    }

    fn problems_with(&self, opts: &DiscoverOptions) -> Vec<Problem> {
        match discover(self.path(), opts) {
            Err(DiscoverError::Invalid { problems }) => {
                serde_json::to_string(&problems).expect("problems serialize");
                problems
            }
            Err(e) => panic!("expected file problems, got {e}"),
            Ok(plan) => panic!(
                "expected an error, got a plan with {} hooks",
                plan.hooks.len()
            ),
        }
    }
}

fn hook<'a>(plan: &'a Plan, name: &str) -> &'a Hook {
    plan.hooks
        .iter()
        .find(|h| h.name == name)
        .unwrap_or_else(|| panic!("no hook {name} in {:?}", names(plan)))
}

fn names(plan: &Plan) -> Vec<String> {
    plan.hooks.iter().map(|h| h.name.clone()).collect()
}

fn has_problem(problems: &[Problem], file_ends: &str, line: Option<usize>, text: &str) -> bool {
    problems.iter().any(|p| {
        p.file.to_string_lossy().ends_with(file_ends)
            && (line.is_none() || p.line == line)
            && p.message.contains(text)
    })
}

#[track_caller]
fn assert_problem(problems: &[Problem], file_ends: &str, line: Option<usize>, text: &str) {
    assert!(
        has_problem(problems, file_ends, line, text),
        "no problem in {file_ends} at {line:?} containing {text:?}; got:\n{}",
        problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// ---------------------------------------------------------------- Flux-Orbit

#[test]
fn flux_pre_deploy_aborts_before_build_and_post_deploy_warns_after_switch() {
    let p = Project::new();
    p.script("pre-deploy.sh", "echo pre")
        .script("post-deploy.sh", "echo post");
    let plan = p.plan();
    assert_eq!(plan.conventions, [Convention::FluxOrbit]);
    let pre = hook(&plan, "pre-deploy.sh");
    assert_eq!(
        (pre.stage.as_str(), pre.point, pre.failure),
        ("pre-deploy", Point::BeforeBuild, FailureRule::Abort)
    );
    assert_eq!(pre.program, HookProgram::Script(p.abs("pre-deploy.sh")));
    assert_eq!(pre.runner, RunnerKind::Native);
    let post = hook(&plan, "post-deploy.sh");
    assert_eq!(
        (post.stage.as_str(), post.point, post.failure),
        ("post-deploy", Point::AfterSwitch, FailureRule::Warn)
    );
}

#[test]
fn flux_hook_without_executable_bit_is_still_planned() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\necho hi\n", 0o644);
    let plan = p.plan();
    assert_eq!(names(&plan), ["pre-deploy.sh"]);
    assert!(plan.skipped.is_empty());
    assert!(validate(p.path(), &DiscoverOptions::default()).is_empty());
}

#[test]
fn flux_project_path_subfolder_wins_per_file_and_root_is_the_fallback() {
    let p = Project::new();
    p.script("pre-deploy.sh", "echo root-pre")
        .script("post-deploy.sh", "echo root-post")
        .script("apps/frontend/pre-deploy.sh", "echo sub-pre");
    let opts = DiscoverOptions {
        project_path: Some("apps/frontend".into()),
        ..Default::default()
    };
    let plan = p.plan_with(&opts);
    assert_eq!(
        hook(&plan, "pre-deploy.sh").program,
        HookProgram::Script(p.abs("apps/frontend/pre-deploy.sh"))
    );
    assert_eq!(
        hook(&plan, "post-deploy.sh").program,
        HookProgram::Script(p.abs("post-deploy.sh"))
    );
    // Without PROJECT_PATH the root's file runs.
    assert_eq!(
        hook(&p.plan(), "pre-deploy.sh").program,
        HookProgram::Script(p.abs("pre-deploy.sh"))
    );
}

#[test]
fn project_path_outside_or_missing_is_an_error() {
    let p = Project::new();
    p.script("pre-deploy.sh", "true");
    for bad in ["../elsewhere", "/etc", "no/such/folder"] {
        let opts = DiscoverOptions {
            project_path: Some(bad.into()),
            ..Default::default()
        };
        let problems = p.problems_with(&opts);
        assert!(
            problems[0].message.contains("PROJECT_PATH") && problems[0].fix.is_some(),
            "{bad}: {problems:?}"
        );
    }
    // A symlinked folder that leads out of the project is refused too.
    symlink("/", p.path().join("escape")).expect("symlink");
    let opts = DiscoverOptions {
        project_path: Some("escape".into()),
        ..Default::default()
    };
    assert!(p.problems_with(&opts)[0].message.contains("outside"));
}

#[test]
fn flux_wasm_stands_where_the_script_would_and_always_runs_in_the_sandbox() {
    let p = Project::new();
    p.file("pre-deploy.wasm", WASM_HEADER, 0o644);
    let plan = p.plan();
    let pre = hook(&plan, "pre-deploy.wasm");
    assert_eq!(pre.program, HookProgram::Wasm(p.abs("pre-deploy.wasm")));
    assert_eq!(pre.runner, RunnerKind::Sandbox);
    assert_eq!(
        (pre.point, pre.failure),
        (Point::BeforeBuild, FailureRule::Abort)
    );
}

#[test]
fn sh_and_wasm_of_the_same_name_is_an_error() {
    let p = Project::new();
    p.script("pre-deploy.sh", "true")
        .file("pre-deploy.wasm", WASM_HEADER, 0o644);
    let problems = p.problems();
    assert_problem(&problems, "pre-deploy.sh", None, "pre-deploy.wasm");
    assert_eq!(problems[0].fix.as_deref(), Some("remove one of them"));

    let f = Project::new();
    f.script("factory-hooks/db-update/10-x.sh", "true").file(
        "factory-hooks/db-update/10-x.wasm",
        WASM_HEADER,
        0o755,
    );
    assert_problem(&f.problems(), "10-x.sh", None, "same name");
}

#[test]
fn a_wasm_file_without_the_wasm_header_is_an_error() {
    let p = Project::new();
    p.file("post-deploy.wasm", "#!/bin/bash\necho not wasm\n", 0o644);
    assert_problem(&p.problems(), "post-deploy.wasm", None, "not a wasm module");
}

// ---------------------------------------------------------------- Procfile

#[test]
fn procfile_release_and_postdeploy_gate_the_switch_and_web_is_a_process() {
    let p = Project::new();
    p.file(
        "Procfile",
        "web: npm start\npostdeploy: bundle exec rake db:migrate\nrelease: npx prisma migrate deploy\nworker: node jobs.js\n",
        0o644,
    );
    let plan = p.plan();
    assert_eq!(plan.conventions, [Convention::Procfile]);
    assert_eq!(names(&plan), ["release", "postdeploy"]);
    for h in &plan.hooks {
        assert_eq!(
            (h.point, h.failure),
            (Point::BeforeSwitch, FailureRule::HookError)
        );
        assert_eq!(h.convention, Convention::Procfile);
    }
    assert_eq!(
        hook(&plan, "postdeploy").program,
        HookProgram::Command("bundle exec rake db:migrate".into())
    );
    assert_eq!(plan.processes.len(), 2);
    assert_eq!(plan.processes["web"], "npm start");
    assert_eq!(plan.processes["worker"], "node jobs.js");
}

#[test]
fn procfile_comments_blank_lines_and_crlf_are_handled() {
    let p = Project::new();
    p.file(
        "Procfile",
        "\u{feff}# the app\r\n\r\nweb:   npm start\r\n   \r\n  # indented comment\r\npostdeploy: echo ok && true\r\n",
        0o644,
    );
    let plan = p.plan();
    assert_eq!(
        hook(&plan, "postdeploy").program,
        HookProgram::Command("echo ok && true".into())
    );
    assert_eq!(plan.processes["web"], "npm start");
}

#[test]
fn procfile_malformed_lines_are_errors_naming_the_line() {
    let p = Project::new();
    p.file(
        "Procfile",
        "web: npm start\nthis is not a process line\npost deploy: x\nrelease:\n web: indented\nweb: again\n",
        0o644,
    );
    let problems = p.problems();
    assert_problem(&problems, "Procfile", Some(2), "malformed line");
    assert_problem(&problems, "Procfile", Some(3), "malformed process type");
    assert_problem(&problems, "Procfile", Some(4), "no command");
    assert_problem(&problems, "Procfile", Some(5), "malformed process type");
    assert_problem(
        &problems,
        "Procfile",
        Some(6),
        "declared twice (first at line 1)",
    );
    assert!(problems.iter().all(|p| p.fix.is_some()));
}

#[test]
fn procfile_binary_non_utf8_or_directory_is_a_clear_error() {
    let p = Project::new();
    p.file("Procfile", b"web: a\0b\n", 0o644);
    assert_problem(&p.problems(), "Procfile", None, "binary");
    let p = Project::new();
    p.file("Procfile", b"web: caf\xe9\n", 0o644);
    assert_problem(&p.problems(), "Procfile", None, "not valid UTF-8");
    let p = Project::new();
    p.dir("Procfile");
    assert_problem(&p.problems(), "Procfile", None, "is a directory");
}

// ---------------------------------------------------------------- Site Factory

fn sf_args() -> [String; 4] {
    ["mysite", "01live", "db1", "www.example.com"].map(String::from)
}

#[test]
fn site_factory_scripts_run_in_byte_order_with_the_four_arguments() {
    let p = Project::new();
    for name in ["a.sh", "B.sh", "2-second.sh", "10-first.sh", "_under.sh"] {
        p.file(
            &format!("factory-hooks/post-staging-update/{name}"),
            "#!/usr/bin/env bash\necho $1\n",
            0o755,
        );
    }
    let opts = DiscoverOptions {
        site_factory_args: Some(sf_args()),
        ..Default::default()
    };
    let plan = p.plan_with(&opts);
    assert_eq!(plan.conventions, [Convention::SiteFactory]);
    let psu: Vec<&Hook> = plan
        .hooks
        .iter()
        .filter(|h| h.stage == "post-staging-update")
        .collect();
    let order: Vec<&str> = psu.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        order,
        ["10-first.sh", "2-second.sh", "B.sh", "_under.sh", "a.sh"]
    );
    for h in psu {
        assert_eq!((h.point, h.failure), (Point::Task, FailureRule::FailTask));
        assert_eq!(h.args, sf_args());
    }
}

#[test]
fn site_factory_script_without_executable_bit_is_skipped_and_reported() {
    let p = Project::new();
    p.script("factory-hooks/post-staging-update/10-run.sh", "true")
        .file(
            "factory-hooks/post-staging-update/20-not-exec.sh",
            "#!/bin/bash\ntrue\n",
            0o644,
        );
    let plan = p.plan();
    assert_eq!(
        plan.hooks
            .iter()
            .filter(|h| h.stage == "post-staging-update")
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>(),
        ["10-run.sh"]
    );
    assert!(plan
        .skipped
        .iter()
        .any(|s| s.path.ends_with("20-not-exec.sh") && s.reason.contains("not executable")));
    let problems = validate(p.path(), &DiscoverOptions::default());
    assert_problem(&problems, "20-not-exec.sh", None, "not executable");
    let fix = problems[0].fix.as_deref().unwrap_or_default();
    assert!(
        fix.contains("chmod +x") && fix.contains("git update-index --chmod=+x"),
        "{fix}"
    );
}

#[test]
fn site_factory_default_command_runs_when_a_hook_has_no_script() {
    let p = Project::new();
    p.dir("factory-hooks/post-staging-update")
        .script("factory-hooks/post-site-install/10-x.sh", "true");
    let opts = DiscoverOptions {
        site_factory_args: Some(sf_args()),
        ..Default::default()
    };
    let plan = p.plan_with(&opts);
    for stage in ["post-staging-update", "db-update"] {
        let h = plan
            .hooks
            .iter()
            .find(|h| h.stage == stage)
            .unwrap_or_else(|| panic!("no default hook for {stage}"));
        assert_eq!(h.program, HookProgram::Command("drush updatedb".into()));
        assert_eq!(h.args, sf_args());
        assert_eq!(h.failure, FailureRule::FailTask);
    }
    assert_eq!(plan.site_factory.default_command, "drush updatedb");
    // The other hooks have no default.
    assert!(!plan.hooks.iter().any(|h| h.stage == "post-theme-deploy"));

    // Configurable in hookbox.toml.
    p.file(
        "hookbox.toml",
        "[site-factory]\ndefault-command = \"./vendor/bin/drush updb -y\"\n",
        0o644,
    );
    let plan = p.plan();
    let h = plan
        .hooks
        .iter()
        .find(|h| h.stage == "db-update")
        .expect("db-update");
    assert_eq!(
        h.program,
        HookProgram::Command("./vendor/bin/drush updb -y".into())
    );
    assert_eq!(
        plan.site_factory.default_command,
        "./vendor/bin/drush updb -y"
    );
}

#[test]
fn site_factory_all_six_hook_folders_and_unknown_folders_reported() {
    let p = Project::new();
    let hooks = [
        "post-staging-update",
        "db-update",
        "post-site-install",
        "post-site-duplication",
        "post-theme-deploy",
        "post-site-update",
    ];
    for h in hooks {
        p.script(&format!("factory-hooks/{h}/10-{h}.sh"), "true");
    }
    p.script("factory-hooks/pre-lunch/10-x.sh", "true");
    let plan = p.plan();
    let stages: Vec<&str> = plan.hooks.iter().map(|h| h.stage.as_str()).collect();
    assert_eq!(stages, hooks);
    assert!(plan
        .skipped
        .iter()
        .any(|s| s.path.ends_with("pre-lunch") && s.reason.contains("not a Site Factory hook")));
}

#[test]
fn site_factory_code_versions_decide_whether_post_staging_update_applies() {
    let p = Project::new();
    p.script("factory-hooks/post-staging-update/10-x.sh", "true");
    let plan = p.plan();
    assert!(
        plan.site_factory.post_staging_update_applies(),
        "unknown versions: run"
    );

    p.file(
        "hookbox.toml",
        "[site-factory]\nsource-code-version = \"v1\"\ntarget-code-version = \"v1\"\n",
        0o644,
    );
    let plan = p.plan();
    assert_eq!(plan.site_factory.source_code_version.as_deref(), Some("v1"));
    assert!(
        !plan.site_factory.post_staging_update_applies(),
        "same code: skip"
    );

    let opts = DiscoverOptions {
        target_code_version: Some("v2".into()),
        ..Default::default()
    };
    let plan = p.plan_with(&opts);
    assert!(
        plan.site_factory.post_staging_update_applies(),
        "options win"
    );
}

// ---------------------------------------------------------------- Acquia Cloud

#[test]
fn acquia_cloud_common_hooks_then_the_environment_hooks() {
    let p = Project::new();
    p.script("hooks/common/post-code-deploy/20-common.sh", "true")
        .script("hooks/common/post-code-deploy/10-common.sh", "true")
        .script("hooks/prod/post-code-deploy/05-prod.sh", "true")
        .script("hooks/dev/post-code-deploy/05-dev.sh", "true")
        .file(
            "hooks/prod/post-code-deploy/99-off.sh",
            "#!/bin/bash\n",
            0o644,
        );
    let opts = DiscoverOptions {
        acquia_env: Some("prod".into()),
        ..Default::default()
    };
    let plan = p.plan_with(&opts);
    assert_eq!(plan.conventions, [Convention::AcquiaCloud]);
    assert_eq!(names(&plan), ["10-common.sh", "20-common.sh", "05-prod.sh"]);
    for h in &plan.hooks {
        assert_eq!(h.stage, "post-code-deploy");
        assert_eq!((h.point, h.failure), (Point::Task, FailureRule::FailTask));
    }
    assert!(plan.skipped.iter().any(|s| s.path.ends_with("99-off.sh")));
    assert!(plan
        .skipped
        .iter()
        .any(|s| s.path.ends_with("hooks/dev") && s.reason.contains("`dev`")));

    // Without an environment only common runs, and the environments are reported.
    let plan = p.plan();
    assert_eq!(names(&plan), ["10-common.sh", "20-common.sh"]);
    assert!(plan
        .skipped
        .iter()
        .any(|s| s.path.ends_with("hooks/prod") && s.reason.contains("no Acquia environment")));
}

#[test]
fn a_plain_hooks_folder_is_not_acquia() {
    let p = Project::new();
    p.script("hooks/pre-commit", "true");
    let plan = p.plan();
    assert!(plan.conventions.is_empty());
    assert!(plan.hooks.is_empty());
}

// ---------------------------------------------------------------- hookbox.toml

const FULL_TOML: &str = r#"runner = "native"

[env]
DATABASE_URL = "postgresql://user:pass@host:5432/db"
WORKERS = 4
DEBUG = false

[deploy]
install = "npm ci"
build = "npm run build"
start = "npm start"
health-check = "curl -fsS localhost:3000/health"

[policy]
allow = ["sqlite3", "git"]
network = "loopback"
run-as = "nobody"

[limits]
fuel = 5000000000
memory-bytes = 134217728
output-cap-bytes = 1048576

[[hook]]
stage = "pre-deploy"
command = "npx prisma migrate deploy"
timeout-seconds = 600

[[hook]]
name = "notify"
stage = "post-deploy"
script = "scripts/notify.sh"
runner = "sandbox"
args = ["--channel", "deploys"]

[[hook]]
stage = "smoke-test"
point = "before-switch"
wasm = "checks/smoke.wasm"

[[hook]]
stage = "post-deploy"
point = "before-build"
command = "echo early"
"#;

#[test]
fn hookbox_toml_is_the_explicit_form_of_every_setting() {
    let p = Project::new();
    p.file("hookbox.toml", FULL_TOML, 0o644)
        .script("scripts/notify.sh", "echo notify")
        .file("checks/smoke.wasm", WASM_HEADER, 0o644);
    let plan = p.plan();
    assert_eq!(plan.conventions, [Convention::HookboxToml]);
    assert_eq!(
        plan.env["DATABASE_URL"],
        "postgresql://user:pass@host:5432/db"
    );
    assert_eq!(plan.env["WORKERS"], "4");
    assert_eq!(plan.env["DEBUG"], "false");
    assert_eq!(plan.deploy.install.as_deref(), Some("npm ci"));
    assert_eq!(plan.deploy.build.as_deref(), Some("npm run build"));
    assert_eq!(plan.deploy.start.as_deref(), Some("npm start"));
    assert_eq!(
        plan.deploy.health_check.as_deref(),
        Some("curl -fsS localhost:3000/health")
    );
    assert_eq!(plan.policy.allow, ["sqlite3", "git"]);
    assert_eq!(
        plan.policy.network,
        hookbox::bridge::policy::Network::Loopback
    );
    assert_eq!(plan.policy.run_as.as_deref(), Some("nobody"));
    assert_eq!(plan.limits.fuel, Some(5_000_000_000));
    assert_eq!(plan.limits.memory_bytes, Some(128 << 20));
    assert_eq!(plan.limits.output_cap_bytes, Some(1 << 20));

    let pre = hook(&plan, "pre-deploy");
    assert_eq!(
        pre.program,
        HookProgram::Command("npx prisma migrate deploy".into())
    );
    assert_eq!(
        (pre.point, pre.failure),
        (Point::BeforeBuild, FailureRule::Abort)
    );
    assert_eq!(pre.timeout, Some(Duration::from_secs(600)));
    assert_eq!(pre.convention, Convention::HookboxToml);

    let notify = hook(&plan, "notify");
    assert_eq!(
        notify.program,
        HookProgram::Script(p.abs("scripts/notify.sh"))
    );
    assert_eq!(
        (notify.point, notify.failure),
        (Point::AfterSwitch, FailureRule::Warn)
    );
    assert_eq!(notify.runner, RunnerKind::Sandbox);
    assert_eq!(notify.args, ["--channel", "deploys"]);

    let smoke = hook(&plan, "smoke.wasm");
    assert_eq!(smoke.program, HookProgram::Wasm(p.abs("checks/smoke.wasm")));
    assert_eq!(smoke.runner, RunnerKind::Sandbox);
    assert_eq!(
        (smoke.point, smoke.failure),
        (Point::BeforeSwitch, FailureRule::HookError)
    );

    // A point that differs from the stage's brings that point's failure rule.
    let early = plan
        .hooks
        .iter()
        .find(|h| h.program == HookProgram::Command("echo early".into()));
    let early = early.expect("early hook");
    assert_eq!(
        (early.point, early.failure),
        (Point::BeforeBuild, FailureRule::Abort)
    );
    assert!(validate(p.path(), &DiscoverOptions::default()).is_empty());
}

#[test]
fn hookbox_toml_policy_defaults_are_deny_by_default() {
    let p = Project::new();
    p.file("hookbox.toml", "[env]\nA = \"1\"\n", 0o644);
    let plan = p.plan();
    assert_eq!(plan.policy, hookbox::bridge::policy::Policy::default());
    assert!(plan.policy.allow.is_empty());
    assert_eq!(plan.limits, hookbox::plan::PlanLimits::default());
}

#[test]
fn hookbox_toml_unknown_key_names_the_key_the_line_and_the_known_keys() {
    let p = Project::new();
    p.file(
        "hookbox.toml",
        "[deploy]\ninstall = \"npm ci\"\nfoo = \"bar\"\n",
        0o644,
    );
    let problems = p.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, Some(3));
    assert_eq!(
        problems[0].message,
        "unknown key `foo` in [deploy] at line 3; known keys: install, build, start, health-check"
    );
    assert_eq!(problems[0].fix.as_deref(), Some("remove it"));
}

#[test]
fn hookbox_toml_every_unknown_key_is_reported_with_a_suggestion() {
    let p = Project::new();
    p.file(
        "hookbox.toml",
        "runer = \"native\"\n\n[deploy]\nhealth_check = \"x\"\n\n[policy]\nallow_all = true\n\n[[hook]]\nstage = \"pre-deploy\"\ncomand = \"true\"\ntimeout = 5\n",
        0o644,
    );
    let problems = validate(p.path(), &DiscoverOptions::default());
    let expect = [
        (1, "`runer`", "did you mean `runner`?"),
        (4, "`health_check`", "did you mean `health-check`?"),
        (7, "`allow_all`", "did you mean `allow`?"),
        (11, "`comand`", "did you mean `command`?"),
        (12, "`timeout`", "did you mean `timeout-seconds`?"),
    ];
    for (line, key, fix) in expect {
        assert!(
            problems.iter().any(|p| p.line == Some(line)
                && p.message.contains(key)
                && p.fix.as_deref() == Some(fix)),
            "line {line} {key}: {problems:#?}"
        );
    }
}

#[test]
fn hookbox_toml_wrong_values_name_the_key_and_line() {
    let cases: [(&str, usize, &str); 9] = [
        ("runner = \"docker\"\n", 1, "unknown runner `docker`"),
        (
            "[deploy]\nbuild = 3\n",
            2,
            "`build` in [deploy] must be a string",
        ),
        (
            "[limits]\nfuel = -1\n",
            2,
            "`fuel` in [limits] must be a positive integer",
        ),
        ("[env]\n\"1BAD\" = \"x\"\n", 2, "is not a variable name"),
        ("[[hook]]\ncommand = \"true\"\n", 2, "has no `stage`"),
        (
            "[[hook]]\nstage = \"x\"\ncommand = \"true\"\n",
            2,
            "no `point`",
        ),
        (
            "[[hook]]\nstage = \"pre-deploy\"\ncommand = \"a\"\nscript = \"b\"\n",
            2,
            "exactly one of",
        ),
        (
            "[[hook]]\nstage = \"pre-deploy\"\npoint = \"later\"\ncommand = \"a\"\n",
            3,
            "unknown point",
        ),
        ("[policy]\nnetwork = \"internet\"\n", 1, "invalid [policy]"),
    ];
    for (text, line, msg) in cases {
        let p = Project::new();
        p.file("hookbox.toml", text, 0o644);
        let problems = p.problems();
        assert_problem(&problems, "hookbox.toml", Some(line), msg);
        assert!(
            problems.iter().all(|p| p.fix.is_some()),
            "{text}: {problems:?}"
        );
    }
}

#[test]
fn hookbox_toml_syntax_error_has_a_line() {
    let p = Project::new();
    p.file("hookbox.toml", "[env]\nA = \"1\"\nB = \n", 0o644);
    let problems = p.problems();
    assert_problem(&problems, "hookbox.toml", Some(3), "TOML syntax error");
}

#[test]
fn hookbox_toml_hook_file_must_exist_inside_the_project() {
    let p = Project::new();
    p.file(
        "hookbox.toml",
        "[[hook]]\nstage = \"pre-deploy\"\nscript = \"missing.sh\"\n\n[[hook]]\nstage = \"post-deploy\"\nscript = \"../outside.sh\"\n",
        0o644,
    );
    let problems = p.problems();
    assert_problem(&problems, "hookbox.toml", Some(2), "does not exist");
    assert_problem(
        &problems,
        "hookbox.toml",
        Some(6),
        "relative path inside the project",
    );
}

#[test]
fn hookbox_toml_hook_naming_a_convention_file_overrides_it() {
    let p = Project::new();
    p.script("pre-deploy.sh", "true").file(
        "hookbox.toml",
        "[[hook]]\nstage = \"pre-deploy\"\nscript = \"pre-deploy.sh\"\ntimeout-seconds = 900\n",
        0o644,
    );
    let plan = p.plan();
    assert_eq!(names(&plan), ["pre-deploy.sh"]);
    let pre = hook(&plan, "pre-deploy.sh");
    assert_eq!(pre.timeout, Some(Duration::from_secs(900)));
    assert_eq!(pre.convention, Convention::FluxOrbit);
    assert_eq!(
        plan.conventions,
        [Convention::FluxOrbit, Convention::HookboxToml]
    );
}

#[test]
fn runner_comes_from_hookbox_toml_and_wasm_is_always_sandboxed() {
    let p = Project::new();
    p.script("pre-deploy.sh", "true")
        .file("post-deploy.wasm", WASM_HEADER, 0o644)
        .file("Procfile", "release: echo hi\n", 0o644)
        .file("hookbox.toml", "runner = \"sandbox\"\n", 0o644);
    let plan = p.plan();
    assert!(plan.hooks.iter().all(|h| h.runner == RunnerKind::Sandbox));

    p.file("hookbox.toml", "", 0o644);
    let plan = p.plan();
    assert_eq!(hook(&plan, "pre-deploy.sh").runner, RunnerKind::Native);
    assert_eq!(hook(&plan, "release").runner, RunnerKind::Native);
    assert_eq!(hook(&plan, "post-deploy.wasm").runner, RunnerKind::Sandbox);

    p.file(
        "hookbox.toml",
        "[[hook]]\nstage = \"pre-deploy\"\nwasm = \"post-deploy.wasm\"\nrunner = \"native\"\n",
        0o644,
    );
    assert_problem(
        &p.problems(),
        "hookbox.toml",
        Some(2),
        "always runs in the sandbox",
    );
}

#[test]
fn a_non_shell_script_cannot_be_set_to_the_sandbox() {
    let p = Project::new();
    p.file(
        "factory-hooks/db-update/10-py",
        "#!/usr/bin/env python3\nprint('hi')\n",
        0o755,
    )
    .file("hookbox.toml", "runner = \"sandbox\"\n", 0o644);
    assert_problem(
        &p.problems(),
        "10-py",
        Some(1),
        "the sandbox runs shell scripts and wasm",
    );
}

// ---------------------------------------------------------------- detection

#[test]
fn several_conventions_together_each_hook_at_its_own_point() {
    let p = Project::new();
    p.script("pre-deploy.sh", "true")
        .script("post-deploy.sh", "true")
        .file(
            "Procfile",
            "web: x\nrelease: npx prisma migrate deploy\n",
            0o644,
        )
        .script("factory-hooks/post-staging-update/10-a.sh", "true")
        .file("hookbox.toml", "[env]\nA = \"b\"\n", 0o644);
    let plan = p.plan();
    assert_eq!(
        plan.conventions,
        [
            Convention::FluxOrbit,
            Convention::Procfile,
            Convention::SiteFactory,
            Convention::HookboxToml
        ]
    );
    assert_eq!(hook(&plan, "pre-deploy.sh").point, Point::BeforeBuild);
    assert_eq!(hook(&plan, "release").point, Point::BeforeSwitch);
    assert_eq!(hook(&plan, "post-deploy.sh").point, Point::AfterSwitch);
    assert_eq!(hook(&plan, "10-a.sh").point, Point::Task);
}

#[test]
fn convention_flag_forces_one_convention() {
    let p = Project::new();
    p.script("pre-deploy.sh", "true")
        .file("Procfile", "postdeploy: echo hi\n", 0o644)
        .file(
            "hookbox.toml",
            "[[hook]]\nstage = \"post-deploy\"\ncommand = \"echo toml\"\n",
            0o644,
        );
    let opts = DiscoverOptions {
        convention: Some(Convention::Procfile),
        ..Default::default()
    };
    let plan = p.plan_with(&opts);
    assert_eq!(plan.conventions, [Convention::Procfile]);
    assert_eq!(names(&plan), ["postdeploy"]);
    assert!(plan.skipped.iter().any(|s| s.reason.contains("forced")));

    // Forcing a convention whose files are absent gives its (empty) plan, and says so.
    let opts = DiscoverOptions {
        convention: Some(Convention::AcquiaCloud),
        ..Default::default()
    };
    let plan = p.plan_with(&opts);
    assert_eq!(plan.conventions, [Convention::AcquiaCloud]);
    assert!(plan.hooks.is_empty());
}

#[test]
fn an_empty_project_has_an_empty_plan() {
    let p = Project::new();
    let plan = p.plan();
    assert!(plan.conventions.is_empty() && plan.hooks.is_empty());
    // validate says that nothing will run, as a warning (HB306).
    let problems = validate(p.path(), &DiscoverOptions::default());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].rule, "HB306");
    assert_eq!(problems[0].severity, hookbox::discover::Severity::Warning);
}

#[test]
fn a_missing_or_non_directory_project_is_an_error() {
    let p = Project::new();
    p.file("file", "x", 0o644);
    for dir in [p.path().join("nope"), p.path().join("file")] {
        match discover(&dir, &DiscoverOptions::default()) {
            Err(DiscoverError::Project { .. }) => {}
            other => panic!("{}: {other:?}", dir.display()),
        }
        assert_eq!(validate(&dir, &DiscoverOptions::default()).len(), 1);
    }
}

// ---------------------------------------------------------------- validate

#[test]
fn validate_accepts_the_three_shell_shebangs() {
    for shebang in ["#!/bin/bash", "#!/usr/bin/env bash", "#!/bin/sh"] {
        let p = Project::new();
        p.file("pre-deploy.sh", format!("{shebang}\necho ok\n"), 0o755);
        let problems = validate(p.path(), &DiscoverOptions::default());
        assert!(problems.is_empty(), "{shebang}: {problems:?}");
    }
}

#[test]
fn validate_finds_every_problem_with_file_and_line() {
    let p = Project::new();
    p.file("pre-deploy.sh", "echo no shebang\n", 0o755)
        .file(
            "post-deploy.sh",
            "#!/bin/bash\necho one\nif true; then\n  echo two\nfi fi\n",
            0o755,
        )
        .file(
            "Procfile",
            "web: x\nnot a line\npostdeploy: echo (\n",
            0o644,
        )
        .file(
            "factory-hooks/post-staging-update/10-crlf.sh",
            "#!/bin/bash\r\necho hi\r\n",
            0o755,
        )
        .file(
            "factory-hooks/post-staging-update/20-noexec.sh",
            "#!/bin/bash\n",
            0o644,
        )
        .file("factory-hooks/post-staging-update/30-empty.sh", "", 0o755)
        .file(
            "factory-hooks/post-staging-update/40-noshebang",
            "echo hi\n",
            0o755,
        )
        .file("hookbox.toml", "[deploy]\nbild = \"make\"\n", 0o644);
    let problems = validate(p.path(), &DiscoverOptions::default());
    assert_problem(&problems, "pre-deploy.sh", Some(1), "no shebang");
    assert_problem(
        &problems,
        "post-deploy.sh",
        Some(5),
        "bash -n: syntax error",
    );
    assert_problem(&problems, "Procfile", Some(2), "malformed line");
    assert_problem(&problems, "10-crlf.sh", Some(1), "CRLF");
    assert_problem(&problems, "20-noexec.sh", None, "not executable");
    assert_problem(&problems, "30-empty.sh", None, "empty");
    assert_problem(&problems, "40-noshebang", Some(1), "no shebang");
    assert_problem(&problems, "hookbox.toml", Some(2), "unknown key `bild`");
    // Nothing was run: validate parses, it does not execute.
    assert!(!p.path().join("executed").exists());
}

#[test]
fn validate_checks_procfile_commands_with_bash_n_at_their_line() {
    let p = Project::new();
    p.file("Procfile", "web: x\n\npostdeploy: echo (oops\n", 0o644);
    let problems = validate(p.path(), &DiscoverOptions::default());
    assert_problem(&problems, "Procfile", Some(3), "bash -n");
}

#[test]
fn validate_never_runs_the_hook() {
    let p = Project::new();
    let marker = p.path().join("ran");
    p.file(
        "pre-deploy.sh",
        format!("#!/bin/bash\ntouch {}\n", marker.display()),
        0o755,
    )
    .file(
        "Procfile",
        format!("release: touch {}\n", marker.display()),
        0o644,
    );
    assert!(validate(p.path(), &DiscoverOptions::default()).is_empty());
    assert!(!marker.exists());
}

#[test]
fn validate_flags_a_non_bash_flux_shebang() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/usr/bin/env python3\nprint(1)\n", 0o755);
    let problems = validate(p.path(), &DiscoverOptions::default());
    assert_problem(&problems, "pre-deploy.sh", Some(1), "is not bash");
}

// ---------------------------------------------------------------- bad input

#[test]
fn empty_hook_file_is_skipped_and_reported() {
    let p = Project::new();
    p.file("pre-deploy.sh", "", 0o755);
    let plan = p.plan();
    assert!(plan.hooks.is_empty());
    assert!(plan.skipped[0].reason.contains("empty"));
    assert_problem(
        &validate(p.path(), &DiscoverOptions::default()),
        "pre-deploy.sh",
        None,
        "empty",
    );
}

#[test]
fn binary_hook_files_are_errors() {
    let p = Project::new();
    p.file("pre-deploy.sh", b"\x01\x02\0\0garbage", 0o755);
    assert_problem(&p.problems(), "pre-deploy.sh", None, "binary file");
    let p = Project::new();
    p.file("pre-deploy.sh", b"\x7fELF\x02\x01\x01\0", 0o755);
    assert_problem(&p.problems(), "pre-deploy.sh", None, "compiled program");
    // A compiled program is a valid Site Factory hook (the platform executes files).
    let p = Project::new();
    p.file(
        "factory-hooks/db-update/10-bin",
        b"\x7fELF\x02\x01\x01\0",
        0o755,
    );
    let plan = p.plan();
    let db_update: Vec<&str> = plan
        .hooks
        .iter()
        .filter(|h| h.stage == "db-update")
        .map(|h| h.name.as_str())
        .collect();
    assert_eq!(db_update, ["10-bin"]);
}

#[test]
fn a_hook_that_is_a_directory_is_an_error() {
    let p = Project::new();
    p.dir("pre-deploy.sh");
    assert_problem(&p.problems(), "pre-deploy.sh", None, "is a directory");
}

#[test]
fn a_fifo_hook_is_an_error_and_does_not_block() {
    let p = Project::new();
    let fifo = p.path().join("pre-deploy.sh");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).expect("cstring");
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    assert_problem(&p.problems(), "pre-deploy.sh", None, "not a regular file");
    assert_problem(
        &validate(p.path(), &DiscoverOptions::default()),
        "pre-deploy.sh",
        None,
        "not a regular file",
    );
}

#[test]
fn symlink_loops_and_broken_symlinks_are_errors() {
    let p = Project::new();
    symlink("post-deploy.sh", p.path().join("pre-deploy.sh")).expect("symlink");
    symlink("pre-deploy.sh", p.path().join("post-deploy.sh")).expect("symlink");
    let problems = p.problems();
    assert_problem(&problems, "pre-deploy.sh", None, "symlink loop");
    assert_problem(&problems, "post-deploy.sh", None, "symlink loop");

    let p = Project::new();
    symlink("nowhere.sh", p.path().join("pre-deploy.sh")).expect("symlink");
    assert_problem(&p.problems(), "pre-deploy.sh", None, "broken symlink");

    // A loop in a hook folder, and a folder that is a loop.
    let p = Project::new();
    p.dir("factory-hooks");
    symlink("db-update", p.path().join("factory-hooks/db-update")).expect("symlink");
    assert_problem(&p.problems(), "db-update", None, "symlink loop");
}

#[test]
fn a_symlink_to_a_script_is_followed() {
    let p = Project::new();
    p.script("scripts/migrate.sh", "true");
    symlink("scripts/migrate.sh", p.path().join("pre-deploy.sh")).expect("symlink");
    assert_eq!(names(&p.plan()), ["pre-deploy.sh"]);
}

#[test]
fn crlf_scripts_are_planned_and_validate_reports_the_line() {
    let p = Project::new();
    p.file("post-deploy.sh", "#!/bin/bash\necho a\r\necho b\r\n", 0o755);
    assert_eq!(names(&p.plan()), ["post-deploy.sh"]);
    let problems = validate(p.path(), &DiscoverOptions::default());
    assert_problem(&problems, "post-deploy.sh", Some(2), "CRLF");
    assert!(problems
        .iter()
        .any(|p| p.fix.as_deref().unwrap_or("").contains("sed -i")));
}

#[test]
fn non_utf8_file_names_are_reported_not_run_and_the_plan_still_serializes() {
    let p = Project::new();
    p.script("factory-hooks/post-staging-update/10-ok.sh", "true");
    let dir = p.path().join("factory-hooks/post-staging-update");
    let bad = dir.join(OsStr::from_bytes(b"20-caf\xe9.sh"));
    fs::write(&bad, "#!/bin/bash\ntrue\n").expect("write");
    fs::set_permissions(&bad, fs::Permissions::from_mode(0o755)).expect("chmod");
    let plan = p.plan();
    assert_eq!(
        plan.hooks
            .iter()
            .filter(|h| h.stage == "post-staging-update")
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>(),
        ["10-ok.sh"]
    );
    assert!(plan
        .skipped
        .iter()
        .any(|s| s.reason.contains("not valid UTF-8")));
    let json = serde_json::to_string(&plan).expect("serializes");
    assert!(json.contains("20-caf\u{fffd}.sh"));
    let problems = validate(p.path(), &DiscoverOptions::default());
    assert_problem(&problems, "20-caf\u{fffd}.sh", None, "not valid UTF-8");
    serde_json::to_string(&problems).expect("problems serialize");
}

#[test]
fn huge_hook_file_is_inspected_without_reading_it_whole() {
    let p = Project::new();
    let mut body = b"#!/bin/bash\n".to_vec();
    body.resize(8 << 20, b'#');
    body.push(b'\n');
    p.file("pre-deploy.sh", &body, 0o755);
    assert_eq!(names(&p.plan()), ["pre-deploy.sh"]);
}

/// Runs `discover` on a directory as the unprivileged user `nobody`, by re-running this test
/// binary (the test harness is root here, and root reads every file). Returns the child's
/// stdout: the Display of the error, or "ok".
fn discover_as_nobody(dir: &Path) -> String {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().expect("test exe");
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "discover::unreadable_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HOOKBOX_TEST_DISCOVER_DIR", dir)
        .uid(65534)
        .gid(65534)
        .output()
        .expect("run helper");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Helper for [`unreadable_hook_files_are_reported_for_an_unprivileged_user`]; does nothing
/// unless that test runs it.
#[test]
fn unreadable_helper() {
    let Some(dir) = std::env::var_os("HOOKBOX_TEST_DISCOVER_DIR") else {
        return;
    };
    match discover(Path::new(&dir), &DiscoverOptions::default()) {
        Ok(_) => println!("RESULT ok"),
        Err(e) => println!("RESULT {e}"),
    }
}

#[test]
fn unreadable_hook_files_are_reported_for_an_unprivileged_user() {
    if unsafe { libc::geteuid() } != 0 {
        // Not root: the current user cannot read a mode-000 file, test directly.
        let p = Project::new();
        p.file("pre-deploy.sh", "#!/bin/bash\n", 0o000);
        assert_problem(&p.problems(), "pre-deploy.sh", None, "permission denied");
        return;
    }
    let p = Project::new();
    fs::set_permissions(p.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    p.file("pre-deploy.sh", "#!/bin/bash\necho hi\n", 0o600)
        .file("Procfile", "release: x\n", 0o600);
    let out = discover_as_nobody(p.path());
    assert!(
        out.contains("pre-deploy.sh cannot be read: permission denied")
            && out.contains("Procfile cannot be read: permission denied"),
        "{out}"
    );
    let p2 = Project::new();
    fs::set_permissions(p2.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    p2.script("factory-hooks/db-update/10-ok.sh", "true");
    fs::set_permissions(
        p2.path().join("factory-hooks/db-update"),
        fs::Permissions::from_mode(0o700),
    )
    .expect("chmod");
    let out = discover_as_nobody(p2.path());
    assert!(out.contains("permission denied"), "{out}");
}

#[test]
fn validate_checks_hookbox_toml_commands_with_bash_n_at_their_line() {
    let p = Project::new();
    p.file(
        "hookbox.toml",
        "[env]\nA = \"1\"\n\n[[hook]]\nstage = \"release\"\ncommand = \"if true; then echo\"\n",
        0o644,
    );
    let problems = validate(p.path(), &DiscoverOptions::default());
    assert_problem(&problems, "hookbox.toml", Some(5), "`release`: bash -n");
}

/// Every hook location × every kind of bad file: discovery and validate answer (a plan, or
/// problems naming the file), and never panic or block.
#[test]
fn bad_input_matrix_never_panics_and_names_the_file() {
    let locations = [
        "pre-deploy.sh",
        "apps/web/post-deploy.sh",
        "Procfile",
        "hookbox.toml",
        "factory-hooks/db-update/10-x.sh",
        "hooks/common/post-code-deploy/10-x.sh",
    ];
    enum Bad {
        Bytes(&'static [u8]),
        Dir,
        Fifo,
        Loop,
        Broken,
    }
    let bads: [(&str, Bad); 11] = [
        ("empty", Bad::Bytes(b"")),
        ("nul", Bad::Bytes(b"#!/bin/bash\n\0\0\0")),
        ("latin1", Bad::Bytes(b"#!/bin/bash\necho caf\xe9\n")),
        ("only-crlf", Bad::Bytes(b"\r\n\r\n\r\n")),
        ("no-newline", Bad::Bytes(b"#!")),
        ("garbage", Bad::Bytes(b"\xff\xfe\xfd[[[===:::")),
        ("toml-ish", Bad::Bytes(b"[[hook]]\n[[hook]]\nstage=1\n")),
        ("dir", Bad::Dir),
        ("fifo", Bad::Fifo),
        ("loop", Bad::Loop),
        ("broken", Bad::Broken),
    ];
    for loc in locations {
        for (label, bad) in &bads {
            let p = Project::new();
            let path = p.path().join(loc);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            match bad {
                Bad::Bytes(b) => {
                    fs::write(&path, b).expect("write");
                    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
                }
                Bad::Dir => fs::create_dir_all(&path).expect("mkdir"),
                Bad::Fifo => {
                    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("c");
                    // SAFETY: mkfifo with a valid NUL-terminated path.
                    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
                }
                Bad::Loop => symlink(&path, &path).expect("symlink"),
                Bad::Broken => symlink("nowhere", &path).expect("symlink"),
            }
            let opts = DiscoverOptions {
                project_path: loc.starts_with("apps/").then(|| "apps/web".into()),
                ..Default::default()
            };
            let name = Path::new(loc)
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name");
            match discover(p.path(), &opts) {
                Ok(plan) => {
                    serde_json::to_string(&plan).expect("serializes");
                }
                Err(DiscoverError::Invalid { problems }) => {
                    assert!(
                        problems
                            .iter()
                            .any(|pr| pr.file.to_string_lossy().contains(name)),
                        "{loc} {label}: {problems:?}"
                    );
                }
                Err(e) => panic!("{loc} {label}: {e}"),
            }
            let problems = validate(p.path(), &opts);
            serde_json::to_string(&problems).expect("serializes");
        }
    }
}

#[test]
fn hook_files_linking_outside_the_project_are_refused() {
    let outside = tempfile::tempdir().expect("tempdir");
    fs::write(outside.path().join("secret"), "root:$6$hash:1:0:::\n").expect("write");
    let secret = outside.path().join("secret");
    for loc in [
        "pre-deploy.sh",
        "Procfile",
        "hookbox.toml",
        "factory-hooks/db-update/10-x.sh",
    ] {
        let p = Project::new();
        let path = p.path().join(loc);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        symlink(&secret, &path).expect("symlink");
        let problems = p.problems();
        assert_problem(&problems, loc, None, "leads outside the project");
        let text = format!("{problems:?}");
        assert!(!text.contains("$6$hash"), "{loc}: content leaked: {text}");
    }
    // A hook folder that is a link out of the project: its files are refused one by one.
    let p = Project::new();
    fs::create_dir_all(p.path().join("factory-hooks")).expect("mkdir");
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o755)).expect("chmod");
    symlink(
        outside.path(),
        p.path().join("factory-hooks/post-site-install"),
    )
    .expect("symlink");
    assert_problem(&p.problems(), "secret", None, "leads outside the project");
}

#[test]
fn validate_checks_deploy_commands_with_bash_n() {
    let p = Project::new();
    p.file(
        "hookbox.toml",
        "[deploy]\ninstall = \"npm ci\"\nbuild = \"make && \"\nstart = \"npm start\"\n",
        0o644,
    );
    let problems: Vec<_> = validate(p.path(), &DiscoverOptions::default())
        .into_iter()
        .filter(|p| p.rule != "HB306")
        .collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_problem(
        &problems,
        "hookbox.toml",
        Some(3),
        "[deploy] build: bash -n",
    );
}
