//! hooks.log and JSON events through the binary: timestamps, the seed's lines, forgery,
//! redaction.

use std::path::Path;

use hookbox_tests::hookbox;

use super::lifecycle::Project;

fn run_with_log(p: &Project, stage: &str, extra: &[&str]) -> (std::process::Output, String) {
    let logdir = tempfile::tempdir().expect("tempdir");
    let log = logdir.path().join("hooks.log");
    let out = hookbox()
        .args(["run", stage])
        .arg(p.path())
        .arg("--log-file")
        .arg(&log)
        .args(extra)
        .output()
        .expect("run hookbox");
    (out, std::fs::read_to_string(&log).unwrap_or_default())
}

fn is_rfc3339_utc(ts: &str) -> bool {
    let b = ts.as_bytes();
    ts.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z'
        && ts
            .chars()
            .enumerate()
            .all(|(i, c)| [4, 7, 10, 13, 16, 19, 23].contains(&i) || c.is_ascii_digit())
}

#[test]
fn log_has_the_seed_lines_each_with_a_timestamp() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\necho migrating\n")
        .file("post-deploy.sh", "#!/bin/bash\nexit 2\n");
    let (out, log) = run_with_log(&p, "pre-deploy", &[]);
    assert!(out.status.success(), "{out:?}");
    let (_, log2) = run_with_log(&p, "post-deploy", &[]);
    for line in log.lines().chain(log2.lines()) {
        let (ts, _) = line.split_once(' ').expect("timestamp and message");
        assert!(is_rfc3339_utc(ts), "{line}");
    }
    let msgs = super::lifecycle::messages(&log);
    assert_eq!(msgs[0], "Running hook: pre-deploy.sh");
    assert!(
        msgs.contains(&"[pre-deploy.sh] stdout: migrating".to_string()),
        "{log}"
    );
    assert!(
        msgs.contains(&"Hook completed successfully".to_string()),
        "{log}"
    );
    let msgs2 = super::lifecycle::messages(&log2);
    assert!(
        msgs2.contains(&"Hook failed with exit code 2".to_string()),
        "{log2}"
    );
    assert!(msgs2.iter().any(|m| m.starts_with("WARNING: ")), "{log2}");
}

#[test]
fn hook_output_cannot_forge_hookbox_lines() {
    let p = Project::new();
    p.file(
        "pre-deploy.sh",
        "#!/bin/bash\necho 'Hook completed successfully'\nprintf '\\rHook completed successfully\\n' >&2\nprintf 'x\\nRunning hook: evil\\n'\nexit 1\n",
    );
    let (out, log) = run_with_log(&p, "pre-deploy", &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let msgs = super::lifecycle::messages(&log);
    let unprefixed_success = msgs
        .iter()
        .filter(|m| *m == "Hook completed successfully")
        .count();
    assert_eq!(unprefixed_success, 0, "{log}");
    assert_eq!(
        msgs.iter()
            .filter(|m| m.starts_with("Running hook:"))
            .count(),
        1,
        "{log}"
    );
    assert!(
        msgs.contains(&"Hook failed with exit code 1".to_string()),
        "{log}"
    );
    // Every line that came from the hook is prefixed and one line stays one line.
    for m in &msgs {
        assert!(
            m.starts_with("[pre-deploy.sh] ")
                || m.starts_with("Running hook:")
                || m.starts_with("Hook failed")
                || m.starts_with("Stage "),
            "unexpected line {m:?} in {log}"
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.lines().any(|l| l == "Hook completed successfully"),
        "{stdout}"
    );
}

#[test]
fn secrets_never_reach_the_log_terminal_or_json() {
    let p = Project::new();
    p.file(
        "pre-deploy.sh",
        "#!/bin/bash\necho \"db: $DATABASE_URL\"\necho \"token: $API_TOKEN\"\necho \"short: $SHORT_TOKEN\"\necho 'literal postgresql://admin:hunter2@db.internal/app'\necho \"Database URL: ${DATABASE_URL%%:*}://***\"\n",
    );
    let env = [
        "--env",
        "DATABASE_URL=postgresql://user:s3cr3tpw@host:5432/dbname",
        "--env",
        "API_TOKEN=sk-1234567890abcdef",
        "--env",
        "SHORT_TOKEN=abc",
    ];
    for json in [false, true] {
        let mut args = env.to_vec();
        if json {
            args.push("--json");
        }
        let (out, log) = run_with_log(&p, "pre-deploy", &args);
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        for text in [&log, &stdout] {
            assert!(!text.contains("s3cr3tpw"), "{text}");
            assert!(!text.contains("sk-1234567890abcdef"), "{text}");
            assert!(!text.contains("hunter2"), "{text}");
            assert!(
                text.contains("postgresql://user:***@host:5432/dbname"),
                "{text}"
            );
            assert!(text.contains("token: ***"), "{text}");
            // Shorter than 6 characters: not treated as a secret.
            assert!(text.contains("short: abc"), "{text}");
        }
        if json {
            for line in stdout.lines() {
                let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
                assert!(v["event"].is_string(), "{line}");
            }
        }
    }
}

#[test]
fn json_events_and_outcome() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\necho hi\nexit 5\n");
    let (out, _) = run_with_log(&p, "pre-deploy", &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        kinds,
        ["hook-started", "output", "hook-failed", "status", "outcome"],
        "{events:?}"
    );
    assert_eq!(events[1]["line"], "hi");
    assert_eq!(events[1]["stream"], "stdout");
    assert_eq!(events[2]["exit_code"], 5);
    let outcome = &events[4]["outcome"];
    assert_eq!(outcome["status"], "aborted");
    assert_eq!(outcome["hooks"][0]["name"], "pre-deploy.sh");
    assert_eq!(outcome["hooks"][0]["exit_code"], 5);
}

#[test]
fn run_log_defaults_to_the_state_directory() {
    let p = Project::new();
    p.file("pre-deploy.sh", "#!/bin/bash\ntrue\n");
    let state = tempfile::tempdir().expect("tempdir");
    let out = hookbox()
        .args(["run", "pre-deploy"])
        .arg(p.path())
        .env("XDG_STATE_HOME", state.path())
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    let log = std::fs::read_to_string(state.path().join("hookbox/hooks.log")).expect("log");
    assert!(log.contains("Running hook: pre-deploy.sh"), "{log}");
    assert!(!Path::new(&p.path().join("hooks.log")).exists());
}

/// A project whose pre-deploy hook is the sandbox tests' probe module with `args`.
fn wasm_project(args: &[&str]) -> Project {
    let p = Project::new();
    std::fs::copy(super::sandbox::guest("probe"), p.path().join("probe.wasm")).expect("copy probe");
    let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    p.file(
        "hookbox.toml",
        &format!(
            "[[hook]]\nstage = \"pre-deploy\"\nwasm = \"probe.wasm\"\nargs = [{}]\n",
            args.join(", ")
        ),
    );
    p
}

#[test]
fn sandboxed_hooks_log_instructions_and_follow_the_same_rules() {
    let p = wasm_project(&["args"]);
    let (out, log) = {
        let logdir = tempfile::tempdir().expect("tempdir");
        let log = logdir.path().join("hooks.log");
        let out = hookbox()
            .args(["run", "pre-deploy", "--meter-fuel"])
            .arg(p.path())
            .arg("--log-file")
            .arg(&log)
            .env("HOOKBOX_CACHE_DIR", super::sandbox::shared_cache_dir())
            .output()
            .expect("run");
        (out, std::fs::read_to_string(&log).unwrap_or_default())
    };
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let msgs = super::lifecycle::messages(&log);
    assert!(
        msgs.iter().any(|m| m.starts_with("Running hook: probe")),
        "{log}"
    );
    let instr = msgs
        .iter()
        .find_map(|m| m.strip_prefix("instructions used: "))
        .expect("instructions line");
    assert!(instr.parse::<u64>().expect("a number") > 0, "{log}");
    // A failing module under pre-deploy's rule: aborted, exit 1, with the seed's line.
    let q = wasm_project(&["exit", "4"]);
    let out = hookbox()
        .args(["run", "pre-deploy"])
        .arg(q.path())
        .arg("--log-file")
        .arg(q.path().join("hooks.log"))
        .env("HOOKBOX_CACHE_DIR", super::sandbox::shared_cache_dir())
        .output()
        .expect("run");
    let t = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("Hook failed with exit code 4"), "{t}");
    assert!(t.contains("Stage pre-deploy: aborted"), "{t}");
}

#[test]
fn output_past_the_cap_is_cut_with_one_marker_and_the_hook_still_succeeds() {
    let p = Project::new();
    p.file(
        "pre-deploy.sh",
        "#!/bin/bash\nfor i in $(seq 1 2000); do echo \"line $i of output\"; done\necho done >&2\n",
    )
    .file("hookbox.toml", "[limits]\noutput-cap-bytes = 1000\n");
    let (out, log) = run_with_log(&p, "pre-deploy", &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{log}");
    let msgs = super::lifecycle::messages(&log);
    let kept = msgs
        .iter()
        .filter(|m| m.starts_with("[pre-deploy.sh] "))
        .count();
    assert!(kept < 100, "{kept} lines kept past a 1000-byte cap");
    assert_eq!(
        msgs.iter()
            .filter(|m| m.starts_with("Output of pre-deploy.sh cut at 1000 bytes"))
            .count(),
        1,
        "{log}"
    );
    assert!(msgs.contains(&"Hook completed successfully".to_string()));
    let outcome: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .expect("outcome"),
    )
    .expect("JSON");
    assert_eq!(outcome["outcome"]["hooks"][0]["truncated"], true);
}
