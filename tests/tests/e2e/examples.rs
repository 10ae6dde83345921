//! The projects in hooks-examples/: what discovery finds in each (the plan the README
//! promises), and that `validate` finds exactly the problems each example shows on purpose.

use std::path::{Path, PathBuf};

use hookbox::discover::{discover, validate, DiscoverOptions};
use hookbox::plan::{Convention, FailureRule, HookProgram, Plan, Point};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../hooks-examples")
        .join(name)
}

fn plan_of(name: &str) -> Plan {
    discover(&example(name), &DiscoverOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn summary(plan: &Plan) -> Vec<(String, String, Point, FailureRule)> {
    plan.hooks
        .iter()
        .map(|h| (h.name.clone(), h.stage.clone(), h.point, h.failure))
        .collect()
}

#[track_caller]
fn assert_valid(name: &str) {
    let problems = validate(&example(name), &DiscoverOptions::default());
    assert!(problems.is_empty(), "{name}: {problems:#?}");
}

fn s(x: &str) -> String {
    x.to_string()
}

#[test]
fn flux_sqlite_migrates_before_build_and_warms_the_cache_after_the_switch() {
    for name in ["flux-sqlite", "flux-sqlite-failing"] {
        let plan = plan_of(name);
        assert_eq!(
            plan.conventions,
            [Convention::FluxOrbit, Convention::HookboxToml]
        );
        assert_eq!(
            summary(&plan),
            [
                (
                    s("pre-deploy.sh"),
                    s("pre-deploy"),
                    Point::BeforeBuild,
                    FailureRule::Abort
                ),
                (
                    s("post-deploy.sh"),
                    s("post-deploy"),
                    Point::AfterSwitch,
                    FailureRule::Warn
                ),
            ]
        );
        assert!(plan.env["DATABASE_URL"].contains(":s3cr3t-Pa55word@"));
        assert_eq!(plan.deploy.start.as_deref(), Some("bash app/serve.sh"));
        assert_eq!(
            plan.deploy.health_check.as_deref(),
            Some("bash app/health.sh")
        );
        assert_eq!(plan.policy.allow, ["sqlite3", "mkdir"]);
        assert_valid(name);
    }
    let broken = example("flux-sqlite-failing/migrations/004_add_stock_broken.sql");
    assert!(broken.is_file());
}

#[test]
fn flux_django_runs_the_seed_script_with_the_venv_first_in_path() {
    let plan = plan_of("flux-django");
    assert_eq!(
        summary(&plan),
        [(
            s("pre-deploy.sh"),
            s("pre-deploy"),
            Point::BeforeBuild,
            FailureRule::Abort
        )]
    );
    let script = std::fs::read_to_string(example("flux-django/pre-deploy.sh")).expect("read");
    assert!(script.contains("python manage.py migrate --noinput"));
    assert!(script.contains("python manage.py collectstatic --noinput"));
    assert!(plan.policy.path.starts_with(".venv/bin:"));
    assert_eq!(
        plan.deploy.install.as_deref(),
        Some("bash scripts/install.sh")
    );
    assert_valid("flux-django");
}

#[test]
fn procfile_examples_gate_the_switch_with_postdeploy() {
    let plan = plan_of("procfile");
    assert_eq!(
        plan.conventions,
        [Convention::Procfile, Convention::HookboxToml]
    );
    assert_eq!(
        summary(&plan),
        [(
            s("postdeploy"),
            s("postdeploy"),
            Point::BeforeSwitch,
            FailureRule::HookError
        )]
    );
    assert_eq!(plan.processes["web"], "bash app/web.sh");
    assert_valid("procfile");

    let failing = plan_of("procfile-failing");
    assert_eq!(
        failing.hooks[0].program,
        HookProgram::Command(
            "bundle exec rake db:migrate && newrelic deployments --revision=$CONTAINER_VERSION"
                .into()
        )
    );
    // validate already says what the deploy will hit: `bundle` is not allowed in the sandbox.
    let problems = hookbox::discover::validate(&example("procfile-failing"), &Default::default());
    assert!(
        problems
            .iter()
            .all(|p| p.rule == hookbox::discover::rules::NOT_ALLOWED)
            && problems.iter().any(|p| p.message.contains("`bundle`")),
        "{problems:?}"
    );
}

#[test]
fn site_factory_example_runs_three_scripts_in_order_and_reports_the_disabled_one() {
    let opts = DiscoverOptions {
        site_factory_args: Some(["mysite", "01live", "db1", "www.example.com"].map(String::from)),
        ..Default::default()
    };
    let plan = discover(&example("site-factory"), &opts).expect("plan");
    assert_eq!(
        plan.conventions,
        [Convention::SiteFactory, Convention::HookboxToml]
    );
    let psu: Vec<&str> = plan
        .hooks
        .iter()
        .filter(|h| h.stage == "post-staging-update")
        .map(|h| h.name.as_str())
        .collect();
    assert_eq!(
        psu,
        [
            "10-show-arguments.sh",
            "20-sanitize-staged-data.sh",
            "30-clear-caches.sh"
        ]
    );
    assert!(plan.hooks.iter().all(|h| h.args[3] == "www.example.com"));
    let db_update: Vec<_> = plan
        .hooks
        .iter()
        .filter(|h| h.stage == "db-update")
        .collect();
    assert_eq!(db_update.len(), 1);
    assert_eq!(
        db_update[0].program,
        HookProgram::Command("echo 'db-update: no script, nothing to update'".into())
    );
    assert!(plan
        .skipped
        .iter()
        .any(|s| s.path.ends_with("40-disabled.sh") && s.reason.contains("not executable")));
    // validate reports exactly the deliberately disabled script.
    let problems = validate(&example("site-factory"), &opts);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].file.ends_with("40-disabled.sh"));
}

#[test]
fn site_factory_failing_example_starts_with_the_seed_script_verbatim() {
    let plan = plan_of("site-factory-failing");
    let psu: Vec<&str> = plan
        .hooks
        .iter()
        .filter(|h| h.stage == "post-staging-update")
        .map(|h| h.name.as_str())
        .collect();
    assert_eq!(psu, ["10-hello-world.sh", "20-never-runs.sh"]);
    let seed = std::fs::read_to_string(example(
        "site-factory-failing/factory-hooks/post-staging-update/10-hello-world.sh",
    ))
    .expect("read");
    assert!(seed.contains(
        "\\drush8 -r /var/www/html/$SITEGROUP.$ENVIRONMENT/docroot -l $DOMAIN ev 'echo \"Hello world\";'"
    ));
    assert_valid("site-factory-failing");
}

#[test]
fn example_hook_files_keep_their_executable_bits_in_git() {
    use std::os::unix::fs::PermissionsExt;
    let root = example("");
    let out = std::process::Command::new("git")
        .args(["ls-files", "-s", "."])
        .current_dir(&root)
        .output();
    let Ok(out) = out else { return };
    let listing = String::from_utf8_lossy(&out.stdout);
    if listing.is_empty() {
        return; // not a git checkout (an exported tree): nothing to check
    }
    for line in listing.lines() {
        let Some((meta, path)) = line.split_once('\t') else {
            continue;
        };
        let mode = meta.split_whitespace().next().unwrap_or("");
        let on_disk = std::fs::metadata(root.join(path))
            .map(|m| m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false);
        assert_eq!(mode == "100755", on_disk, "{path}: git mode {mode}");
        if path.ends_with(".sh")
            && !path.ends_with("40-disabled.sh")
            && !path.starts_with("rust-hooks/")
        {
            assert_eq!(mode, "100755", "{path} must be executable in git");
        }
    }
}
