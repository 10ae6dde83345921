//! The CLI's exit codes (0 success with warnings allowed, 1 failed, 2 usage or configuration
//! error with nothing run), its environment variables, and its help.

use hookbox_tests::hookbox;

use super::lifecycle::Project;

fn code(cmd: &mut std::process::Command) -> (i32, String, String) {
    let out = cmd.output().expect("run hookbox");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn logged(p: &Project) -> Vec<String> {
    vec![
        "--log-file".into(),
        p.path()
            .join("test-hooks.log")
            .to_string_lossy()
            .into_owned(),
    ]
}

#[test]
fn exit_codes_of_run() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\necho ok\n")
        .file("post-deploy.sh", "#!/bin/bash\nexit 9\n")
        .file("Procfile", "release: exit 3\n");
    let run = |stage: &str| {
        code(
            hookbox()
                .args(["run", stage])
                .arg(p.path())
                .args(logged(&p)),
        )
    };
    assert_eq!(run("pre-deploy").0, 0);
    let (c, out, _) = run("post-deploy");
    assert_eq!(c, 0, "a failed post-deploy is a warning: {out}");
    assert!(out.contains("WARNING:"), "{out}");
    assert_eq!(run("release").0, 1);
    // Unknown stage: nothing ran.
    let (c, _, err) = run("no-such-stage");
    assert_eq!(c, 2);
    assert!(
        err.contains("no-such-stage") && err.contains("pre-deploy"),
        "{err}"
    );
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\ntouch \"$WORK_DIR/ran\"\n");
    type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["run".into(), "pre-deploy".into(), "/no/such/dir".into()],
            vec![],
            "/no/such/dir",
        ),
        (vec!["frobnicate".into()], vec![], "frobnicate"),
        (
            vec![
                "run".into(),
                "pre-deploy".into(),
                p.path().display().to_string(),
                "--env".into(),
                "NOEQUALS".into(),
            ],
            vec![],
            "KEY=VALUE",
        ),
        (
            vec![
                "run".into(),
                "pre-deploy".into(),
                p.path().display().to_string(),
            ],
            vec![("HOOK_TIMEOUT", "soon")],
            "HOOK_TIMEOUT",
        ),
        (
            vec![
                "run".into(),
                "pre-deploy".into(),
                p.path().display().to_string(),
            ],
            vec![("SKIP_HOOKS", "perhaps")],
            "SKIP_HOOKS",
        ),
        (
            vec![
                "run".into(),
                "pre-deploy".into(),
                p.path().display().to_string(),
                "--env-file".into(),
                "/no/such.env".into(),
            ],
            vec![],
            "/no/such.env",
        ),
    ];
    for (args, env, needle) in cases {
        let mut cmd = hookbox();
        cmd.args(&args).args(logged(&p));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let (c, _, err) = code(&mut cmd);
        assert_eq!(c, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!p.path().join("ran").exists(), "{args:?} ran a hook");
    }
}

#[test]
fn env_file_errors_name_file_and_line() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\ntrue\n")
        .file("bad.env", "A=1\nthis is not a pair\n");
    let (c, _, err) = code(
        hookbox()
            .args(["run", "pre-deploy"])
            .arg(p.path())
            .arg("--env-file")
            .arg(p.path().join("bad.env"))
            .args(logged(&p)),
    );
    assert_eq!(c, 2);
    assert!(err.contains("bad.env:2:"), "{err}");
}

#[test]
fn env_layers_toml_then_file_then_flag() {
    let p = Project::new();
    p.file(
        "pre-deploy.sh",
        "#!/bin/bash\necho \"$A $B $C\" > \"$WORK_DIR/abc.txt\"\n",
    )
    .file(
        "hookbox.toml",
        "[env]\nA = \"toml\"\nB = \"toml\"\nC = \"toml\"\n",
    )
    .file("vars.env", "B=file\nC=file\n");
    let (c, out, err) = code(
        hookbox()
            .args(["run", "pre-deploy"])
            .arg(p.path())
            .arg("--env-file")
            .arg(p.path().join("vars.env"))
            .args(["--env", "C=flag"])
            .args(logged(&p)),
    );
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(p.read("abc.txt"), "toml file flag\n");
}

#[test]
fn hook_timeout_and_skip_hooks_from_the_environment() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\nsleep 20\n");
    let (c, out, _) = code(
        hookbox()
            .args(["run", "pre-deploy"])
            .arg(p.path())
            .args(logged(&p))
            .env("HOOK_TIMEOUT", "1"),
    );
    assert_eq!(c, 1);
    assert!(out.contains("Hook timed out after 1 s"), "{out}");
    // --timeout beats HOOK_TIMEOUT.
    p.file("pre-deploy.sh", "#!/bin/bash\nsleep 2\n");
    let (c, out, _) = code(
        hookbox()
            .args(["run", "pre-deploy", "--timeout", "30"])
            .arg(p.path())
            .args(logged(&p))
            .env("HOOK_TIMEOUT", "1"),
    );
    assert_eq!(c, 0, "{out}");
    for v in ["true", "1", "yes"] {
        let (c, out, _) = code(
            hookbox()
                .args(["run", "pre-deploy"])
                .arg(p.path())
                .args(logged(&p))
                .env("SKIP_HOOKS", v),
        );
        assert_eq!(c, 0);
        assert!(out.contains("SKIP_HOOKS is set"), "{out}");
        assert!(!out.contains("Running hook"), "{out}");
    }
}

#[test]
fn run_passes_args_to_every_hook() {
    let p = Project::new();
    p.file(
        "factory-hooks/post-staging-update/10-echo.sh",
        "#!/usr/bin/env bash\necho \"sitegroup: $1\"\necho \"env: $2\"\necho \"db role: $3\"\necho \"domain: $4\"\n",
    );
    let (c, out, err) = code(
        hookbox()
            .args(["run", "post-staging-update"])
            .arg(p.path())
            .args(logged(&p))
            .args(["--", "mysite", "01live", "db1", "example.com"]),
    );
    assert_eq!(c, 0, "{out}{err}");
    for l in [
        "sitegroup: mysite",
        "env: 01live",
        "db role: db1",
        "domain: example.com",
    ] {
        assert!(out.contains(l), "{out}");
    }
}

#[test]
fn help_teaches_examples_and_exit_codes() {
    for args in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["deploy", "--help"],
    ] {
        let (c, out, _) = code(hookbox().args(&args));
        assert_eq!(c, 0);
        assert!(out.contains("Exit codes:"), "{args:?}: {out}");
        assert!(out.contains("2  usage or configuration error"), "{out}");
    }
    let (_, out, _) = code(hookbox().arg("--help"));
    assert!(out.contains("hookbox deploy"), "{out}");
    assert!(out.contains("HOOK_TIMEOUT"), "{out}");
}

#[test]
fn validate_exits_1_on_a_problem_and_plan_shows_the_order() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\nif true; then\n");
    let (c, out, err) = code(hookbox().arg("validate").arg(p.path()));
    assert_eq!(c, 1, "{out}{err}");
    assert!(out.contains("pre-deploy.sh"), "{out}");
    let q = Project::new();
    q.file("pre-deploy.sh", "#!/bin/bash\ntrue\n")
        .file("post-deploy.sh", "#!/bin/bash\ntrue\n");
    let (c, out, _) = code(hookbox().arg("validate").arg(q.path()));
    assert_eq!(c, 0, "{out}");
    let (c, out, _) = code(hookbox().arg("plan").arg(q.path()));
    assert_eq!(c, 0);
    let pre = out.find("pre-deploy.sh").expect("pre-deploy listed");
    let post = out.find("post-deploy.sh").expect("post-deploy listed");
    assert!(pre < post, "{out}");
    let (c, out, _) = code(hookbox().args(["plan", "--json"]).arg(q.path()));
    assert_eq!(c, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("plan JSON");
    assert_eq!(v["hooks"][0]["name"], "pre-deploy.sh");
}

#[test]
fn project_the_hook_user_cannot_enter_is_refused_before_anything_runs() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return; // hooks run as hookbox's own user: nothing to refuse
    }
    let closed = tempfile::tempdir().expect("tempdir");
    {
        use std::os::unix::fs::PermissionsExt;
        // Like /root: owned by root, mode 0700.
        std::fs::set_permissions(closed.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
    }
    let dir = closed.path().join("app");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("pre-deploy.sh"), "#!/bin/bash\ntrue\n").expect("write");
    let (c, out, err) = code(
        hookbox()
            .arg("deploy")
            .arg(&dir)
            .arg("--state-dir")
            .arg(closed.path().join("state"))
            .arg("--log-file")
            .arg(closed.path().join("log")),
    );
    assert_eq!(c, 2, "{out}{err}");
    assert!(
        err.contains("cannot reach") && err.contains("mode 700"),
        "{err}"
    );
    assert!(std::fs::read_dir(closed.path().join("state/releases"))
        .map(|d| d.count() == 0)
        .unwrap_or(true));
    let (c, out, err) = code(
        hookbox()
            .args(["run", "pre-deploy"])
            .arg(&dir)
            .arg("--log-file")
            .arg(closed.path().join("log")),
    );
    assert_eq!(c, 2, "{out}{err}");
    assert!(err.contains("cannot reach"), "{err}");
    assert!(!out.contains("Running hook"), "{out}");
}

#[test]
fn json_errors_reach_stdout_as_json() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\ntrue\n");
    let (c, out, err) = code(
        hookbox()
            .args(["run", "nope", "--json"])
            .arg(p.path())
            .args(logged(&p)),
    );
    assert_eq!(c, 2, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON error line");
    assert_eq!(v["event"], "error");
    assert_eq!(v["exit_code"], 2);
    assert!(v["message"].as_str().unwrap_or_default().contains("nope"));
}

#[test]
fn compile_without_o_writes_where_discovery_does_not_look_and_refuses_non_files() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\necho migrated\n");
    let compile = |args: &[&str]| {
        code(
            hookbox()
                .current_dir(p.path())
                .env("HOOKBOX_CACHE_DIR", super::sandbox::shared_cache_dir())
                .arg("compile")
                .args(args),
        )
    };
    let (c, _, err) = compile(&["pre-deploy.sh"]);
    assert_eq!(c, 0, "{err}");
    assert!(err.contains("hookbox-out/pre-deploy.wasm"), "{err}");
    assert!(p.path().join("hookbox-out/pre-deploy.wasm").is_file());
    assert!(!p.path().join("pre-deploy.wasm").exists());
    // The project still plans: no `.sh` and `.wasm` of one name.
    let (c, out, err) = code(hookbox().arg("plan").arg(p.path()));
    assert_eq!(c, 0, "{out}{err}");

    for not_a_file in ["/dev/null", "."] {
        let (c, _, err) = compile(&[not_a_file]);
        assert_eq!(c, 2, "{not_a_file}: {err}");
        assert!(err.contains("not a regular file"), "{err}");
    }
    assert!(!std::path::Path::new("/dev/null.wasm").exists());
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef hookbox"),
        ("fish", "complete -c hookbox"),
    ] {
        let (c, out, err) = code(hookbox().args(["completions", shell]));
        assert_eq!(c, 0, "{shell}: {err}");
        assert!(out.contains(marker), "{shell}: {out}");
        assert!(
            out.contains("deploy") && out.contains("validate"),
            "{shell}"
        );
    }
    let (c, _, err) = code(hookbox().args(["completions", "tcsh"]));
    assert_eq!(c, 2, "{err}");
    let (c, out, err) = code(hookbox().arg("man"));
    assert_eq!(c, 0, "{err}");
    assert!(
        out.starts_with(".ie") || out.contains(".TH hookbox"),
        "{out}"
    );
    assert!(
        out.contains(".TH hookbox-deploy"),
        "one section per command"
    );
}

#[test]
fn every_json_line_carries_the_format_version() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\necho hello\n");
    let (c, out, err) = code(
        hookbox()
            .args(["run", "pre-deploy", "--json"])
            .arg(p.path())
            .args(logged(&p)),
    );
    assert_eq!(c, 0, "{err}");
    let mut events = Vec::new();
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("one JSON object a line");
        assert_eq!(v["v"], 1, "{line}");
        events.push(v["event"].as_str().unwrap_or_default().to_string());
    }
    assert!(events.contains(&"hook-started".to_string()), "{events:?}");
    assert_eq!(events.last().map(String::as_str), Some("outcome"));
    let (c, out, _) = code(hookbox().args(["run", "pre-deploy", "/no/such/dir", "--json"]));
    assert_eq!(c, 2);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (v["v"].as_u64(), v["event"].as_str()),
        (Some(1), Some("error"))
    );
}

#[test]
fn validate_lints_every_problem_with_rule_ids_and_warnings_pass_unless_strict() {
    // A sandboxed Procfile hook calling a command no policy allows: an error at its column.
    let p = Project::new();
    p.file(
        "Procfile",
        "web: true\nrelease: bundle exec rake db:migrate\n",
    )
    .file("hookbox.toml", "runner = \"sandbox\"\n");
    let (c, out, _) = code(hookbox().arg("validate").arg(p.path()));
    assert_eq!(c, 1, "{out}");
    assert!(
        out.contains("Procfile:2:10: error: `bundle` is not allowed by the policy")
            && out.contains("[HB400]")
            && out.contains("allow = [\"bundle\"]"),
        "{out}"
    );
    // Allowed: clean.
    p.file(
        "hookbox.toml",
        "runner = \"sandbox\"\n[policy]\nallow = [\"bundle\"]\npath = \"/usr/bin:/bin\"\n",
    );
    let (_, out, _) = code(hookbox().arg("validate").arg(p.path()));
    assert!(!out.contains("not allowed"), "{out}");

    // A Site Factory script left non-executable is disabled on purpose: a warning.
    let sf = Project::new();
    sf.file(
        "factory-hooks/post-staging-update/10-off.sh",
        "#!/bin/bash\necho off\n",
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            sf.path()
                .join("factory-hooks/post-staging-update/10-off.sh"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }
    let (c, out, _) = code(hookbox().arg("validate").arg(sf.path()));
    assert_eq!(c, 0, "{out}");
    assert!(
        out.contains(": warning: ") && out.contains("[HB304]"),
        "{out}"
    );
    let (c, _, _) = code(hookbox().args(["validate", "--strict"]).arg(sf.path()));
    assert_eq!(c, 1);
    let (_, out, _) = code(hookbox().args(["validate", "--json"]).arg(sf.path()));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["v"], 1);
    assert_eq!(v["warnings"], 1);
    assert_eq!(v["problems"][0]["rule"], "HB304");
    assert_eq!(v["problems"][0]["severity"], "warning");

    // Syntax of a sandboxed script comes from the bundled parser, with its line.
    let bad = Project::new();
    bad.file("pre-deploy.sh", "#!/bin/bash\necho ok\nif then\n")
        .file("hookbox.toml", "runner = \"sandbox\"\n");
    let (c, out, _) = code(hookbox().arg("validate").arg(bad.path()));
    assert_eq!(c, 1);
    assert!(
        out.contains("pre-deploy.sh:3: error: syntax error") && out.contains("[HB302]"),
        "{out}"
    );
}

#[test]
fn quiet_shows_failures_and_the_status_and_the_log_keeps_everything() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\necho chatty-line\n")
        .file("Procfile", "release: echo release-output; exit 3\n");
    let run = |stage: &str| {
        code(
            hookbox()
                .args(["run", stage, "--quiet"])
                .arg(p.path())
                .args(logged(&p)),
        )
    };
    let (c, out, _) = run("pre-deploy");
    assert_eq!(c, 0, "{out}");
    assert!(!out.contains("chatty-line"), "{out}");
    assert!(!out.contains("Running hook"), "{out}");
    assert!(
        out.contains("Stage pre-deploy: success"),
        "the final status is shown: {out}"
    );
    let (c, out, _) = run("release");
    assert_eq!(c, 1, "{out}");
    assert!(out.contains("exit code 3"), "the failure is shown: {out}");
    let log = std::fs::read_to_string(p.path().join("test-hooks.log")).expect("log");
    assert!(
        log.contains("chatty-line") && log.contains("release-output"),
        "{log}"
    );
    let (c, _, err) = code(
        hookbox()
            .args(["run", "pre-deploy", "--quiet", "--json"])
            .arg(p.path()),
    );
    assert_eq!(c, 2, "--quiet and --json conflict: {err}");
}

/// A script ending inside an unterminated here-document next to a substitution (`$(<<  `
/// with no final newline) once made the parser (brush-parser 0.4's, before the shell had its
/// own) loop forever, allocating: `validate` parses sandboxed hooks in hookbox's own process,
/// so it must finish and call it a syntax error. Run under a 4 GB address-space limit so a
/// regression fails here instead of taking the machine's memory.
#[test]
fn validate_survives_the_parsers_here_doc_gap() {
    let p = Project::new();
    p.file("hookbox.toml", "runner = \"sandbox\"\n")
        .file("pre-deploy.sh", "#!/bin/bash\necho $(<<  ")
        .file("post-deploy.sh", "#!/bin/bash\necho \"$(<<  ${/}\n");
    let script = format!(
        "ulimit -v 4000000; exec timeout 60 '{}' validate '{}'",
        hookbox_tests::hookbox_bin().display(),
        p.path().display()
    );
    let (c, out, err) = code(std::process::Command::new("bash").args(["-c", &script]));
    assert_eq!(c, 1, "validate ends with the problems found: {out}{err}");
    assert!(out.contains("pre-deploy.sh:"), "{out}");
    assert!(out.contains("post-deploy.sh:"), "{out}");
}

/// `hookbox shell` is the developer's: a command its flags do not allow is refused naming
/// the flag that allows it (not hookbox.toml, which the shell does not read), and a name found
/// nowhere is bash's "command not found". Both exit 127, as bash's missing command does.
#[test]
fn the_shells_denial_names_its_flag_and_a_missing_command_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let out = hookbox()
        .current_dir(dir.path())
        .args([
            "shell",
            "-c",
            "no-such-command-xyz; echo \"missing=$?\"; git --version; echo \"denied=$?\"",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout, "missing=127\ndenied=127\n", "{stderr}");
    assert!(
        stderr.contains("no-such-command-xyz: command not found"),
        "{stderr}"
    );
    assert!(
        stderr.contains("git: not allowed in this shell (start it with --allow git"),
        "{stderr}"
    );
    assert!(!stderr.contains("hookbox.toml"), "{stderr}");
}

/// A mistyped `--log-file` folder is an error naming it, and nothing is created; a failed
/// post-deploy hook of `run` speaks of the run, not of a deployment there is none of.
#[test]
fn a_log_file_in_a_missing_folder_is_refused_and_run_speaks_of_the_run() {
    let p = Project::new();
    p.file("post-deploy.sh", "#!/bin/bash\nexit 3\n");
    let missing = p.path().join("no-such-folder/deeper");
    let (c, _, err) = code(
        hookbox()
            .args(["run", "post-deploy"])
            .arg(p.path())
            .arg("--log-file")
            .arg(missing.join("x.log")),
    );
    assert_eq!(c, 2, "{err}");
    assert!(
        err.contains("no-such-folder/deeper does not exist"),
        "{err}"
    );
    assert!(!p.path().join("no-such-folder").exists());
    let (c, out, err) = code(
        hookbox()
            .args(["run", "post-deploy"])
            .arg(p.path())
            .args(logged(&p)),
    );
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.contains("post-deploy is not fatal, the run continues"),
        "{out}"
    );
    assert!(!out.contains("deployment"), "{out}");
}

/// `compile --json` says what it wrote, or the syntax error, as one JSON line.
#[test]
fn compile_json_reports_the_module_or_the_syntax_error() {
    let p = Project::new();
    p.file("good.sh", "#!/bin/bash\necho hi\n")
        .file("bad.sh", "#!/bin/bash\nif then\n");
    let (c, out, err) = code(hookbox().current_dir(p.path()).args([
        "compile",
        "good.sh",
        "-o",
        "good.wasm",
        "--json",
    ]));
    assert_eq!(c, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect(&out);
    assert_eq!(v["v"], 1);
    assert_eq!(v["event"], "compiled");
    assert_eq!(v["output"], "good.wasm");
    let bytes = std::fs::metadata(p.path().join("good.wasm")).unwrap().len();
    assert_eq!(v["bytes"], bytes);
    let (c, out, _) = code(
        hookbox()
            .current_dir(p.path())
            .args(["compile", "bad.sh", "-o", "bad.wasm", "--json"]),
    );
    assert_eq!(c, 2);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect(&out);
    assert_eq!(v["event"], "syntax-error");
    assert!(
        v["message"].as_str().unwrap().contains("bad.sh: line 2"),
        "{v}"
    );
    assert!(!p.path().join("bad.wasm").exists());
}
