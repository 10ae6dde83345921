//! The operator's platform policy through the binary: every ceiling a tenant's hookbox.toml
//! could try to exceed is refused by `validate`, `run` and `deploy` (exit 2, nothing runs)
//! with the key, its line and the ceiling; what it may do (narrow) is effective; the hook uid
//! is the operator's, one per tenant; without a platform file nothing changes (developer
//! mode). Run as root (as CI is), so hooks really switch users.

use std::path::{Path, PathBuf};

use hookbox_tests::hookbox;

use super::lifecycle::Project;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A platform file outside the project (a tenant cannot reach the operator's file).
struct Operator {
    dir: tempfile::TempDir,
}

impl Operator {
    fn new(text: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("platform.toml"), text).expect("write platform");
        Operator { dir }
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join("platform.toml")
    }

    fn arg(&self) -> String {
        format!("--platform={}", self.file().display())
    }

    fn log(&self) -> String {
        format!("--log-file={}", self.dir.path().join("hooks.log").display())
    }

    fn registry(&self) -> PathBuf {
        self.dir.path().join("uids")
    }
}

fn out(cmd: &mut std::process::Command) -> (i32, String) {
    let o = cmd.output().expect("run hookbox");
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// `validate`, `run pre-deploy` and `deploy` of `p` under `op`: each must exit 2 with every
/// `needle` in its output, and the hook (which touches `ran`) must not have run.
fn refused_everywhere(p: &Project, op: &Operator, needles: &[&str]) {
    let dir = p.path().to_str().expect("utf-8 path");
    let state = tempfile::tempdir().expect("state");
    let log = format!("--log-file={}", state.path().join("hooks.log").display());
    let cases: [Vec<&str>; 3] = [
        vec!["validate", dir],
        vec!["run", "pre-deploy", dir, &log],
        vec!["deploy", dir, &log],
    ];
    for args in cases {
        let (code, text) = out(hookbox().args(&args).arg(op.arg()));
        assert_eq!(code, 2, "{args:?} must be refused: {text}");
        for n in needles {
            assert!(text.contains(n), "{args:?}: `{n}` missing in: {text}");
        }
        assert!(
            !p.path().join("ran").exists(),
            "{args:?}: a hook ran although the project was refused"
        );
    }
}

/// Leaves `ran` behind, in either runner (a builtin and a redirection, no host command).
const HOOK: &str = "#!/bin/bash\n: > \"$WORK_DIR/ran\"\n";

#[test]
fn native_runner_is_refused_when_the_platform_forbids_it() {
    let op = Operator::new("# tenants get the sandbox only\nrunners = [\"sandbox\"]\n");
    let p = Project::new();
    p.file(
        "hookbox.toml",
        "# a tenant asking for native\nrunner = \"native\"\n",
    )
    .file("pre-deploy.sh", HOOK);
    let ceiling = format!("{}:2", op.file().display());
    refused_everywhere(
        &p,
        &op,
        &[
            "hookbox.toml:2",
            "runner = \"native\"",
            "runners = [\"sandbox\"]",
            &ceiling,
        ],
    );

    // The same through a [[hook]]'s own runner.
    let q = Project::new();
    q.file(
        "hookbox.toml",
        "[[hook]]\nstage = \"pre-deploy\"\nscript = \"pre-deploy.sh\"\nrunner = \"native\"\n",
    )
    .file("pre-deploy.sh", HOOK);
    refused_everywhere(&q, &op, &["hookbox.toml:4", "runner = \"native\""]);

    // The operator's own --runner may not pick it either.
    let r = Project::new();
    r.file("pre-deploy.sh", HOOK);
    let (code, text) = out(hookbox()
        .args(["run", "pre-deploy"])
        .arg(r.path())
        .args(["--runner", "native"])
        .arg(op.arg())
        .arg(op.log()));
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("--runner native") && text.contains("runners"),
        "{text}"
    );

    // A project that names no runner runs in the operator's default: the sandbox.
    let (code, text) = out(hookbox().arg("plan").arg(r.path()).arg(op.arg()));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("[sandbox,"), "{text}");
    let (code, text) = out(hookbox()
        .args(["run", "pre-deploy"])
        .arg(r.path())
        .arg(op.arg())
        .arg(op.log()));
    assert_eq!(code, 0, "{text}");
    assert!(r.path().join("ran").exists(), "{text}");
}

#[test]
fn run_as_from_the_project_is_refused() {
    let op = Operator::new("runners = [\"sandbox\", \"native\"]\n");
    let p = Project::new();
    p.file(
        "hookbox.toml",
        "runner = \"native\"\n\n[policy]\nrun-as = \"postgres\"\n",
    )
    .file("pre-deploy.sh", HOOK);
    refused_everywhere(&p, &op, &["hookbox.toml:4", "run-as", "hook user"]);
    // `nobody` is a choice of user too: the hook user is the operator's alone.
    let q = Project::new();
    q.file("hookbox.toml", "[policy]\nrun-as = \"nobody\"\n")
        .file("pre-deploy.sh", HOOK);
    refused_everywhere(&q, &op, &["hookbox.toml:2", "run-as"]);
}

#[test]
fn in_developer_mode_run_as_cannot_name_root_or_an_account_that_owns_data() {
    for (user, why) in [
        ("root", "root"),
        ("0", "root"),
        ("daemon", "account"),
        ("1", "system account"),
    ] {
        let p = Project::new();
        p.file(
            "hookbox.toml",
            &format!("runner = \"native\"\n[policy]\nrun-as = \"{user}\"\n"),
        )
        .file("pre-deploy.sh", HOOK);
        let (code, text) = out(hookbox().arg("validate").arg(p.path()));
        assert_ne!(code, 0, "{user}: {text}");
        assert!(
            text.contains("hookbox.toml:3") && text.contains(why),
            "{user}: {text}"
        );
        let (code, text) = out(hookbox()
            .args(["run", "pre-deploy"])
            .arg(p.path())
            .arg(format!("--log-file={}", p.path().join("t.log").display())));
        assert_eq!(code, 2, "{user}: {text}");
        assert!(!p.path().join("ran").exists(), "{user} ran");
    }
    // An unnamed uid is a user that owns nothing: accepted, and the hook really runs as it.
    let p = Project::new();
    p.file(
        "hookbox.toml",
        "runner = \"native\"\n[policy]\nrun-as = \"43217\"\n",
    )
    .file("pre-deploy.sh", "#!/bin/bash\nid -u > \"$WORK_DIR/uid\"\n");
    let (code, text) = out(hookbox()
        .args(["run", "pre-deploy"])
        .arg(p.path())
        .arg(format!("--log-file={}", p.path().join("t.log").display())));
    assert_eq!(code, 0, "{text}");
    if is_root() {
        assert_eq!(p.read("uid").trim(), "43217");
    }
}

#[test]
fn network_above_the_ceiling_is_refused_and_at_it_accepted() {
    let op = Operator::new("[policy]\nnetwork = \"loopback\"\n");
    let p = Project::new();
    p.file("hookbox.toml", "[policy]\nallow = []\nnetwork = \"host\"\n")
        .file("pre-deploy.sh", HOOK);
    let ceiling = format!("network = \"loopback\" ({}:2)", op.file().display());
    refused_everywhere(&p, &op, &["hookbox.toml:3", "network = \"host\"", &ceiling]);

    let q = Project::new();
    q.file("hookbox.toml", "[policy]\nnetwork = \"loopback\"\n")
        .file("pre-deploy.sh", HOOK);
    let (code, text) = out(hookbox().arg("validate").arg(q.path()).arg(op.arg()));
    assert_eq!(code, 0, "{text}");
    // Without the operator's grant the ceiling is `none`: loopback is refused too.
    let strict = Operator::new("");
    let (code, text) = out(hookbox().arg("validate").arg(q.path()).arg(strict.arg()));
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("network = \"none\""), "{text}");
}

#[test]
fn weak_confinement_and_a_wider_path_are_the_operators_alone() {
    let op = Operator::new("[policy]\npath = \"/usr/bin:/bin\"\n");
    let p = Project::new();
    p.file("hookbox.toml", "[policy]\naccept-weak-confinement = true\n")
        .file("pre-deploy.sh", HOOK);
    refused_everywhere(&p, &op, &["hookbox.toml:2", "accept-weak-confinement"]);
    let q = Project::new();
    q.file("hookbox.toml", "[policy]\npath = \"bin:/usr/bin\"\n")
        .file("pre-deploy.sh", HOOK);
    refused_everywhere(&q, &op, &["hookbox.toml:2", "`bin`"]);
}

#[test]
fn allow_is_the_intersection_of_the_tenants_and_the_operators() {
    let op = Operator::new("[policy]\nallow = [\"id\", \"uname\"]\n");
    let p = Project::new();
    // sqlite3 and uname are host programs (not tools of the bundled shell): only the bridge
    // can start them.
    p.file("hookbox.toml", "[policy]\nallow = [\"id\", \"sqlite3\"]\n").file(
        "pre-deploy.sh",
        "#!/bin/bash\nid -u > \"$WORK_DIR/id.out\"\nsqlite3 -version\necho \"sqlite3 $?\" > \"$WORK_DIR/sqlite3.status\"\nuname\necho \"uname $?\" > \"$WORK_DIR/uname.status\"\n",
    );
    let (code, text) = out(hookbox().arg("plan").arg(p.path()).arg(op.arg()));
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("not granted") && text.contains("sqlite3"),
        "{text}"
    );
    let (code, text) = out(hookbox()
        .args(["run", "pre-deploy"])
        .arg(p.path())
        .arg(op.arg())
        .arg(op.log()));
    assert_eq!(code, 0, "{text}");
    // In both lists: it ran.
    assert!(p.read("id.out").trim().parse::<u32>().is_ok(), "{text}");
    // The tenant's, not the operator's: denied like a missing command.
    assert_eq!(p.read("sqlite3.status").trim(), "sqlite3 127", "{text}");
    // The operator's, not the tenant's: denied too.
    assert_eq!(p.read("uname.status").trim(), "uname 127", "{text}");
}

#[test]
fn limits_above_the_maximum_are_refused_below_accepted_and_effective() {
    let op = Operator::new(
        "[limits]\ntimeout-seconds = 60\nmemory-bytes = 300000000\nfuel = 1000000000000\n",
    );
    let p = Project::new();
    p.file("hookbox.toml", "[limits]\nmemory-bytes = 400000000\n")
        .file("pre-deploy.sh", HOOK);
    let ceiling = format!("memory-bytes = 300000000 ({}:3)", op.file().display());
    refused_everywhere(
        &p,
        &op,
        &["hookbox.toml:2", "memory-bytes = 400000000", &ceiling],
    );
    let p = Project::new();
    p.file("hookbox.toml", "[limits]\nfuel = 2000000000000\n")
        .file("pre-deploy.sh", HOOK);
    refused_everywhere(&p, &op, &["hookbox.toml:2", "fuel"]);
    let p = Project::new();
    p.file(
        "hookbox.toml",
        "[[hook]]\nstage = \"pre-deploy\"\nscript = \"pre-deploy.sh\"\ntimeout-seconds = 120\n",
    )
    .file("pre-deploy.sh", HOOK);
    refused_everywhere(
        &p,
        &op,
        &[
            "hookbox.toml:4",
            "timeout-seconds = 120",
            "timeout-seconds = 60",
        ],
    );

    // Below the maxima: accepted, and what runs.
    let p = Project::new();
    p.file(
        "hookbox.toml",
        "[limits]\nmemory-bytes = 200000000\n\n[[hook]]\nstage = \"pre-deploy\"\nscript = \"pre-deploy.sh\"\ntimeout-seconds = 1\n",
    )
    .file("pre-deploy.sh", "#!/bin/bash\nwhile :; do :; done\n");
    let (code, text) = out(hookbox()
        .args(["plan", "--json"])
        .arg(p.path())
        .arg(op.arg()));
    assert_eq!(code, 0, "{text}");
    let plan: serde_json::Value = serde_json::from_str(&text).expect("plan JSON");
    let eff = &plan["effective_policy"];
    assert_eq!(eff["memory_bytes"]["value"], 200000000, "{eff}");
    assert_eq!(eff["memory_bytes"]["from"], "tenant", "{eff}");
    // No project budget: the operator's maximum is the budget.
    assert_eq!(eff["fuel"]["value"], 1000000000000u64, "{eff}");
    assert_eq!(eff["fuel"]["from"], "operator", "{eff}");
    assert_eq!(plan["limits"]["memory_bytes"], 200000000, "{plan}");
    let (code, text) = out(hookbox()
        .args(["run", "pre-deploy", "--json"])
        .arg(p.path())
        .arg(op.arg())
        .arg(op.log()));
    assert_eq!(code, 1, "the loop must time out: {text}");
    assert!(text.contains("\"timeout_secs\":1"), "{text}");
    // --timeout (the operator's) is cut to the ceiling too.
    let q = Project::new();
    q.file("pre-deploy.sh", "#!/bin/bash\ntrue\n");
    let (code, text) = out(hookbox()
        .args(["run", "pre-deploy", "--json", "--timeout", "80000"])
        .arg(q.path())
        .arg(op.arg())
        .arg(op.log()));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("\"timeout_secs\":60"), "{text}");
}

/// The uid a hook of `dir` runs as under `op` (written by the hook itself).
fn uid_of_run(op: &Operator, dir: &Path, tenant: Option<&str>) -> u32 {
    // Left by an earlier run as another uid, they could not be overwritten.
    let _ = std::fs::remove_file(dir.join("uid"));
    let _ = std::fs::remove_file(dir.join("gid"));
    let mut cmd = hookbox();
    cmd.args(["run", "pre-deploy"])
        .arg(dir)
        .arg(op.arg())
        .arg(op.log());
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    let (code, text) = out(&mut cmd);
    assert_eq!(code, 0, "{text}");
    std::fs::read_to_string(dir.join("uid"))
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no uid written: {text}"))
}

#[test]
fn two_tenants_get_different_uids_from_the_operators_range() {
    if !is_root() {
        eprintln!("SKIPPED: hook users are switched only when hookbox runs as root");
        return;
    }
    let placeholder = Operator::new("");
    let op = Operator::new(&format!(
        "runners = [\"sandbox\", \"native\"]\nhook-uids = {{ first = 231000, count = 50, gid = 231999, registry = \"{}\" }}\n\n[policy]\nallow = [\"id\"]\n",
        placeholder.registry().display()
    ));
    let native = "#!/bin/bash\nid -u > \"$WORK_DIR/uid\"\nid -g > \"$WORK_DIR/gid\"\n";
    let a = Project::new();
    a.file("hookbox.toml", "runner = \"native\"\n")
        .file("pre-deploy.sh", native);
    let b = Project::new();
    b.file("hookbox.toml", "runner = \"native\"\n")
        .file("pre-deploy.sh", native);
    let ua = uid_of_run(&op, a.path(), None);
    let ub = uid_of_run(&op, b.path(), None);
    assert_ne!(ua, ub, "two tenants share a uid");
    for u in [ua, ub] {
        assert!(
            (231000..231050).contains(&u),
            "uid {u} outside the operator's range"
        );
    }
    assert_eq!(a.read("gid").trim(), "231999");
    // A tenant keeps its uid on the next run.
    assert_eq!(uid_of_run(&op, a.path(), None), ua);
    // The operator names the tenant: two folders of one tenant share its uid.
    let t1 = uid_of_run(&op, a.path(), Some("acme"));
    let t2 = uid_of_run(&op, b.path(), Some("acme"));
    assert_eq!(t1, t2);
    assert!(t1 != ua && t1 != ub);

    // A bridged command of a sandboxed hook runs as the tenant's uid too.
    let c = Project::new();
    c.file("hookbox.toml", "[policy]\nallow = [\"id\"]\n")
        .file("pre-deploy.sh", "#!/bin/bash\nid -u > \"$WORK_DIR/uid\"\n");
    let uc = uid_of_run(&op, c.path(), None);
    assert!(
        (231000..231050).contains(&uc) && uc != ua && uc != ub,
        "{uc}"
    );
    // plan shows the recorded uid.
    let (code, text) = out(hookbox().arg("plan").arg(c.path()).arg(op.arg()));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("uid {uc} gid 231999")), "{text}");
}

#[test]
fn plan_shows_the_effective_policy_and_never_a_secret() {
    let op = Operator::new("[policy]\nallow = [\"sqlite3\"]\nnetwork = \"loopback\"\n");
    let p = Project::new();
    p.file(
        "hookbox.toml",
        "[env]\nDATABASE_URL = \"postgres://app:hunter2-Secret@db/app\"\nAPI_TOKEN = \"tok-abcdef-123456\"\nAPP_ENV = \"production\"\n\n[policy]\nallow = [\"sqlite3\"]\nnetwork = \"loopback\"\n",
    )
    .file("Procfile", "release: psql postgres://ops:Another-Pass99@db/app -c 'select 1'\n")
    .file("pre-deploy.sh", HOOK);
    for platform in [None, Some(op.arg())] {
        let (code, text) = out(hookbox().arg("plan").arg(p.path()).args(platform.clone()));
        assert_eq!(code, 0, "{text}");
        let (jcode, json) = out(hookbox()
            .args(["plan", "--json"])
            .arg(p.path())
            .args(platform.clone()));
        assert_eq!(jcode, 0, "{json}");
        for secret in ["hunter2-Secret", "tok-abcdef-123456", "Another-Pass99"] {
            assert!(!text.contains(secret), "{secret} in the plan: {text}");
            assert!(!json.contains(secret), "{secret} in plan --json: {json}");
        }
        assert!(
            text.contains("APP_ENV=production") && text.contains("API_TOKEN=***"),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&json).expect("plan JSON");
        assert_eq!(v["env"]["APP_ENV"], "production");
        let eff = &v["effective_policy"];
        match platform {
            None => {
                assert!(
                    text.contains("no platform policy: developer mode"),
                    "{text}"
                );
                assert_eq!(eff["mode"], "developer");
            }
            Some(_) => {
                assert!(text.contains(&op.file().display().to_string()), "{text}");
                assert_eq!(eff["mode"], "platform");
                assert_eq!(eff["network"]["value"], "loopback");
                assert_eq!(eff["network"]["from"], "tenant");
                assert_eq!(eff["default_runner"]["value"], "sandbox");
                assert_eq!(eff["default_runner"]["from"], "default");
                assert_eq!(eff["allow"]["value"][0], "sqlite3");
                assert_eq!(eff["hook_user"]["from"], "default");
                assert!(
                    eff["network"]["ceiling"]
                        .as_str()
                        .is_some_and(|c| c.contains(":3")),
                    "{eff}"
                );
            }
        }
    }
}

#[test]
fn an_unknown_key_in_the_platform_file_names_its_line_and_a_suggestion() {
    let op = Operator::new("runners = [\"sandbox\"]\n\n[policy]\nnetwrk = \"host\"\n");
    let p = Project::new();
    p.file("pre-deploy.sh", HOOK);
    for args in [vec!["plan"], vec!["validate"], vec!["run", "pre-deploy"]] {
        let (code, text) = out(hookbox().args(&args).arg(p.path()).arg(op.arg()));
        assert_eq!(code, 2, "{args:?}: {text}");
        assert!(
            text.contains(&format!("{}:4", op.file().display()))
                && text.contains("did you mean `network`"),
            "{args:?}: {text}"
        );
    }
    assert!(!p.path().join("ran").exists());
}

#[test]
fn a_read_only_ceiling_makes_the_work_dir_read_only() {
    let op = Operator::new("[policy]\nwork-dir = \"read-only\"\n");
    let p = Project::new();
    p.file(
        "pre-deploy.sh",
        "#!/bin/bash\necho x > \"$WORK_DIR/written\"\n",
    );
    let (code, text) = out(hookbox()
        .args(["run", "pre-deploy"])
        .arg(p.path())
        .arg(op.arg())
        .arg(op.log()));
    assert_eq!(code, 1, "{text}");
    assert!(!p.path().join("written").exists(), "{text}");
    let q = Project::new();
    q.file("hookbox.toml", "[policy]\nwork-dir = \"read-write\"\n")
        .file("pre-deploy.sh", HOOK);
    refused_everywhere(&q, &op, &["hookbox.toml:2", "work-dir"]);
}

#[test]
fn without_a_platform_file_the_examples_are_in_developer_mode_and_valid() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hooks-examples");
    for name in ["flux-sqlite", "procfile", "site-factory", "flux-django"] {
        let dir = examples.join(name);
        let (code, text) = out(hookbox().arg("plan").arg(&dir));
        assert_eq!(code, 0, "{name}: {text}");
        assert!(
            text.contains("no platform policy: developer mode"),
            "{name}: {text}"
        );
    }
    let (code, text) = out(hookbox().arg("validate").arg(examples.join("flux-sqlite")));
    assert_eq!(code, 0, "{text}");
}

#[test]
fn the_documented_example_platform_file_parses() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/platform.example.toml");
    let p = hookbox::platform::PlatformPolicy::load(&file).expect("docs/platform.example.toml");
    assert_eq!(p.runners, [hookbox::plan::RunnerKind::Sandbox]);
    assert_eq!(p.network, hookbox::bridge::policy::Network::Loopback);
    assert_eq!(p.max_timeout.as_secs(), 900);
    assert!(p.meter_fuel);
    let uids = p.hook_uids.expect("hook-uids");
    assert_eq!((uids.first, uids.count), (200000, 10000));
}

/// `[retry]` in the platform file: hooks whose project sets no retry key are retried by the
/// operator's default; a project's own retry keys still win.
#[test]
fn the_operators_retry_default_applies_to_hooks_without_their_own() {
    let op = Operator::new("[retry]\nretries = 2\nretry-delay-seconds = 1\n");
    // Fails on its first attempt, succeeds on a later one.
    let flaky = "#!/bin/bash\nif [ \"$HOOKBOX_ATTEMPT\" -lt 2 ]; then echo first-fails; exit 1; fi\necho ok-on-$HOOKBOX_ATTEMPT\n";
    let p = Project::new();
    p.file("pre-deploy.sh", flaky);
    let dir = p.path().to_str().expect("utf-8 path");
    let (code, text) = out(hookbox()
        .args(["run", "pre-deploy", dir])
        .arg(op.log())
        .arg(op.arg()));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("first-fails"), "{text}");
    assert!(text.contains("ok-on-2"), "{text}");

    let own = Project::new();
    own.file("pre-deploy.sh", flaky).file(
        "hookbox.toml",
        "[[hook]]\nstage = \"pre-deploy\"\nscript = \"pre-deploy.sh\"\nretries = 0\n",
    );
    let dir = own.path().to_str().expect("utf-8 path");
    let (code, text) = out(hookbox()
        .args(["run", "pre-deploy", dir])
        .arg(op.log())
        .arg(op.arg()));
    assert_ne!(code, 0, "the project's own retries = 0 wins: {text}");
    assert!(!text.contains("ok-on-"), "{text}");
}

/// `[deploy] start` runs the application natively (confined): a platform that gives tenants
/// only the sandbox refuses it, naming the key's line; one that allows native accepts it.
#[test]
fn deploy_start_needs_the_native_runner_granted() {
    let p = Project::new();
    p.file("hookbox.toml", "[deploy]\nstart = \"exec sleep 60\"\n")
        .file("pre-deploy.sh", HOOK);
    let op = Operator::new("runners = [\"sandbox\"]\n");
    let dir = p.path().to_str().expect("utf-8 path");
    let (code, text) = out(hookbox().args(["validate", dir]).arg(op.arg()));
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("hookbox.toml:2") && text.contains("`start`"),
        "{text}"
    );
    assert!(text.contains("runners"), "names the ceiling: {text}");
    let op = Operator::new("runners = [\"sandbox\", \"native\"]\n");
    let (code, text) = out(hookbox().args(["validate", dir]).arg(op.arg()));
    assert_ne!(code, 2, "{text}");
}
