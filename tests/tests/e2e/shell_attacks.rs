//! Attacks written as shell hooks, run by the bundled shell in the sandbox (`hookbox shell
//! [FLAGS] -- -c SCRIPT`, the current directory granted): each must fail with a clear error and leave the host untouched.
//! Every test asserts both sides — the guest saw an error or a non-zero status, and the
//! secret, marker or side effect is absent — so removing the defence fails it.

use std::ffi::OsStr;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use super::shell_fuzz::{run_hookbox, Arena, Outcome};
use hookbox_tests::hookbox;

const SECRET: &str = "TOP-SECRET-shell-91c2";
const WALL: Duration = Duration::from_secs(120);

/// Runs SCRIPT with `-c` in the arena's work dir.
fn sh(arena: &Arena, flags: &[&str], script: &str) -> Outcome {
    sh_env(arena, flags, script, &[])
}

fn sh_env(arena: &Arena, flags: &[&str], script: &str, env: &[(&str, &str)]) -> Outcome {
    let o = run_hookbox(
        &arena.work,
        &[OsStr::new("shell")],
        flags,
        &[OsStr::new("-c"), OsStr::new(script)],
        env,
        WALL,
    );
    assert!(!o.killed, "hookbox overran {WALL:?}: {}", o.err());
    assert!(!o.err().contains("panicked at"), "{}", o.err());
    o
}

fn status(o: &Outcome) -> i32 {
    o.status.expect("hookbox exited normally")
}

/// A secret file beside the work dir (outside it).
fn plant_secret(arena: &Arena) -> std::path::PathBuf {
    let secret = arena.base.path().join("outside-secret");
    std::fs::write(&secret, SECRET).unwrap();
    secret
}

/// The guest's `cat` failed (non-zero) and printed neither the secret nor /etc/passwd.
fn assert_read_refused(o: &Outcome, what: &str) {
    assert_ne!(status(o), 0, "{what}: the read succeeded: {}", o.out());
    assert!(!o.out().contains(SECRET), "{what}: secret leaked");
    assert!(!o.err().contains(SECRET), "{what}: secret leaked");
    assert!(!o.out().contains("root:x:0"), "{what}: /etc/passwd leaked");
    assert!(!o.err().is_empty(), "{what}: no error message");
}

#[test]
fn cat_etc_passwd_fails() {
    let arena = Arena::new();
    let o = sh(&arena, &[], "cat /etc/passwd");
    assert_read_refused(&o, "cat /etc/passwd");
    // A positive control: the same `cat` reads a file that is granted.
    std::fs::write(arena.work.join("mine.txt"), "granted\n").unwrap();
    let o = sh(&arena, &[], "cat mine.txt");
    assert_eq!((status(&o), o.out().as_str()), (0, "granted\n"));
}

#[test]
fn cat_of_paths_out_of_the_work_dir_fails() {
    let arena = Arena::new();
    let secret = plant_secret(&arena);
    for path in [
        "../outside-secret".to_string(),
        "../../outside-secret".to_string(),
        secret.display().to_string(),
        format!("{}/../outside-secret", arena.work.display()),
    ] {
        let o = sh(&arena, &[], &format!("cat '{path}'"));
        assert_read_refused(&o, &path);
        // Redirection and `source` take the same route and fail the same way.
        let o = sh(
            &arena,
            &[],
            &format!("read -r line < '{path}'; echo \"[$line]\""),
        );
        assert!(!o.out().contains(SECRET), "{path}: secret leaked via <");
        let o = sh(&arena, &[], &format!("source '{path}'"));
        assert_ne!(status(&o), 0, "{path}: source succeeded");
        assert!(!o.err().contains(SECRET) && !o.out().contains(SECRET));
    }
    // Writing out of the work dir fails and creates nothing.
    let planted = arena.base.path().join("planted");
    let o = sh(
        &arena,
        &[],
        &format!("echo x > ../planted; echo y > '{}'", planted.display()),
    );
    assert_ne!(status(&o), 0);
    assert!(!planted.exists(), "the guest wrote outside its work dir");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), SECRET);
}

#[test]
fn a_symlink_in_the_work_dir_pointing_at_the_secret_fails() {
    let arena = Arena::new();
    let secret = plant_secret(&arena);
    std::os::unix::fs::symlink(&secret, arena.work.join("abs-link")).unwrap();
    std::os::unix::fs::symlink("../outside-secret", arena.work.join("rel-link")).unwrap();
    std::os::unix::fs::symlink("/etc", arena.work.join("etc")).unwrap();
    for link in ["abs-link", "rel-link", "etc/passwd"] {
        let o = sh(&arena, &[], &format!("cat {link}"));
        assert_read_refused(&o, link);
    }
    let o = sh(&arena, &[], "echo overwritten > abs-link; rm -f rel-link/x");
    assert_ne!(status(&o), 0, "writing through the symlink succeeded");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), SECRET);
}

#[test]
fn the_hosts_environment_is_invisible() {
    let arena = Arena::new();
    let env = [("HOOKBOX_TEST_SECRET", SECRET)];
    let o = sh_env(&arena, &[], "echo \"[$HOOKBOX_TEST_SECRET]\"", &env);
    assert_eq!((status(&o), o.out().as_str()), (0, "[]\n"));
    let o = sh_env(&arena, &[], "env; printenv", &env);
    assert_eq!(status(&o), 0, "{}", o.err());
    assert!(!o.out().contains(SECRET), "env leaked: {}", o.out());
    assert!(
        o.out().contains("PATH="),
        "env printed nothing: {}",
        o.out()
    );
    // The guest sees the variable as unset: printenv NAME fails, `set -u` refuses it.
    let o = sh_env(&arena, &[], "printenv HOOKBOX_TEST_SECRET", &env);
    assert_eq!(status(&o), 1);
    assert!(!o.out().contains(SECRET));
    let o = sh_env(&arena, &[], "set -u; echo $HOOKBOX_TEST_SECRET", &env);
    assert_ne!(status(&o), 0);
    assert!(o.err().contains("HOOKBOX_TEST_SECRET"), "{}", o.err());
    assert!(!o.out().contains(SECRET) && !o.err().contains(SECRET));
}

#[test]
fn dev_tcp_reaches_no_listener() {
    let arena = Arena::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let o = sh(
        &arena,
        &[],
        &format!("exec 3<>/dev/tcp/127.0.0.1/{port}; echo hello >&3"),
    );
    assert_ne!(status(&o), 0, "the redirection succeeded: {}", o.out());
    assert!(!o.err().is_empty(), "no error message");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        listener.accept().is_err(),
        "the guest reached the host's network"
    );
}

#[test]
fn an_infinite_loop_is_stopped_by_fuel_and_by_time() {
    let arena = Arena::new();
    let o = sh(&arena, &["--fuel", "20000000"], "while :; do :; done");
    assert_eq!(status(&o), 137, "{}", o.err());
    assert!(o.err().contains("fuel exhausted"), "{}", o.err());
    let o = sh(&arena, &["--timeout", "2"], "while :; do :; done");
    assert_eq!(status(&o), 124, "{}", o.err());
    assert!(o.err().contains("time limit"), "{}", o.err());
}

#[test]
fn sleep_is_stopped_at_the_deadline() {
    let arena = Arena::new();
    let o = sh(&arena, &["--timeout", "2"], "sleep 600; echo woke");
    assert_eq!(status(&o), 124, "{}", o.err());
    assert!(!o.out().contains("woke"));
    // The limit took effect: nowhere near the 600 s asked for.
    assert!(o.elapsed < Duration::from_secs(60), "{:?}", o.elapsed);
}

#[test]
fn a_memory_bomb_is_stopped_by_the_memory_limit() {
    let arena = Arena::new();
    let o = sh(
        &arena,
        &["--memory", "67108864", "--timeout", "60"],
        "x=x; while :; do x=$x$x; done",
    );
    assert_eq!(status(&o), 137, "{}", o.err());
    assert!(o.err().contains("memory limit"), "{}", o.err());
}

#[test]
fn a_1gb_output_flood_is_cut_at_the_cap_with_bounded_memory() {
    let arena = Arena::new();
    const CAP: usize = 1 << 20;
    // 64 KiB lines, 16384 of them: 1 GiB.
    let script = "x=xxxxxxxxxxxxxxxx; for i in 1 2 3 4 5 6 7 8 9 10 11 12; do x=$x$x; done; \
                  i=0; while [ $i -lt 16384 ]; do echo \"$x\"; i=$((i+1)); done; echo FLOOD-END";
    let o = sh(&arena, &["--output-cap", "1M", "--timeout", "60"], script);
    assert!(
        o.stdout.len() <= CAP + 70_000,
        "{} bytes of output passed a {CAP}-byte cap",
        o.stdout.len()
    );
    assert!(o.stdout.len() >= CAP / 2, "the flood produced no output");
    assert!(!o.out().contains("FLOOD-END"), "the end passed the cap");
    assert!(o.err().contains("output cap"), "{}", o.err());
    // hookbox did not hold the flood in memory (1 GiB passed through it).
    assert!(
        o.max_rss_kib < 600 * 1024,
        "hookbox peaked at {} KiB",
        o.max_rss_kib
    );
}

/// A fake program beside the work dir that announces itself, reachable by the unprivileged
/// hook user.
fn fake_program(arena: &Arena) -> String {
    std::fs::set_permissions(arena.base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = arena.base.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let fake = bin.join("fake-tool");
    std::fs::write(&fake, "#!/bin/sh\necho FAKE-TOOL-RAN\n").unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    fake.display().to_string()
}

#[test]
fn a_bridged_command_off_the_allow_list_is_refused_and_never_runs() {
    let arena = Arena::new();
    let fake = fake_program(&arena);
    for script in [
        "curl http://127.0.0.1:9/".to_string(),
        "sqlite3 :memory: 'select 1'".to_string(),
        fake.clone(),
    ] {
        let o = sh(&arena, &[], &script);
        assert_eq!(status(&o), 127, "{script}: {}{}", o.out(), o.err());
        assert!(
            o.err().contains("allow"),
            "{script}: the message does not name the policy key: {}",
            o.err()
        );
        assert!(!o.out().contains("FAKE-TOOL-RAN"), "{script} ran");
    }
    // The control: allowed, the same program runs, so the refusal above is the policy's.
    let o = sh(&arena, &["--allow", &fake], &fake);
    assert_eq!(status(&o), 0, "{}", o.err());
    assert!(o.out().contains("FAKE-TOOL-RAN"), "{}", o.err());
}

#[test]
fn an_allowed_sqlite3_shell_cannot_write_outside() {
    let arena = Arena::new();
    std::fs::set_permissions(arena.base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&arena.sentinel, std::fs::Permissions::from_mode(0o777)).unwrap();
    let marker = arena.sentinel.join("escaped");
    let script = format!(
        "sqlite3 :memory: '.shell touch {m}' '.system touch {m}' 'select 42;'; echo status=$?",
        m = marker.display()
    );
    let o = sh(&arena, &["--allow", "sqlite3"], &script);
    assert!(
        o.out().contains("42"),
        "sqlite3 did not run: {}{}",
        o.out(),
        o.err()
    );
    assert!(
        !marker.exists(),
        "sqlite3's .shell wrote outside the granted dirs"
    );
    assert!(!o.err().is_empty(), "the guest saw no error: {}", o.out());
}

#[test]
fn a_forged_completion_line_shows_as_hook_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let project = dir.path().join("app");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(
        project.join("pre-deploy.sh"),
        "#!/bin/bash\necho 'Hook completed successfully'\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(
        project.join("pre-deploy.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::write(project.join("hookbox.toml"), "runner = \"sandbox\"\n").unwrap();
    let log = dir.path().join("hooks.log");
    let out = hookbox()
        .args(["run", "pre-deploy"])
        .arg(&project)
        .arg("--log-file")
        .arg(&log)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if text.contains("once the bundled shell is built in") {
        eprintln!("SKIPPED: the sandbox runner cannot run shell hooks yet on this build: {text}");
        return;
    }
    assert_ne!(out.status.code(), Some(0), "{text}");
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    let forged: Vec<&str> = log_text
        .lines()
        .filter(|l| l.contains("Hook completed successfully"))
        .collect();
    assert!(!forged.is_empty(), "the hook's line is missing: {log_text}");
    for line in forged {
        assert!(
            line.contains("[pre-deploy.sh] stdout: Hook completed successfully"),
            "the forged line is not marked as hook output: {line:?}\n{log_text}"
        );
    }
}

/// `exit N` with N >= 126 (127 = not found, 128+N = signal) must reach the caller as N.
#[test]
fn guest_exit_statuses_up_to_255_pass_through() {
    let arena = Arena::new();
    for code in [125, 126, 127, 130, 200, 255] {
        let o = sh(&arena, &[], &format!("exit {code}"));
        assert_eq!(status(&o), code, "{}", o.err());
        assert!(o.err().is_empty(), "exit {code}: {}", o.err());
    }
}

/// `bash -c`, `sh -c`, `/bin/bash -c` and a `#!/bin/bash` script run in the sandboxed shell, not
/// on the host — even with `bash` and `sh` on the allow list: the secret beside the work dir
/// and the host's /etc/passwd stay unreadable, and the host's environment stays invisible.
#[test]
fn starting_a_shell_does_not_leave_the_sandbox() {
    let arena = Arena::new();
    let secret = plant_secret(&arena);
    let secret = secret.display();
    let script = arena.work.join("escape.sh");
    std::fs::write(&script, format!("#!/bin/bash\ncat {secret} /etc/passwd\n")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let allow = ["--allow", "bash", "--allow", "sh"];
    for attack in [
        format!("bash -c 'cat {secret} /etc/passwd'"),
        format!("sh -c 'cat {secret} /etc/passwd'"),
        format!("/bin/bash -c 'cat {secret} /etc/passwd'"),
        "./escape.sh".to_string(),
        "bash escape.sh".to_string(),
    ] {
        let o = sh_env(&arena, &allow, &attack, &[("HOST_ONLY_VAR", SECRET)]);
        assert_read_refused(&o, &attack);
        let o = sh_env(
            &arena,
            &allow,
            &attack.replace(
                &format!("cat {secret} /etc/passwd"),
                "echo \"[$HOST_ONLY_VAR]\"",
            ),
            &[("HOST_ONLY_VAR", SECRET)],
        );
        assert!(
            !o.out().contains(SECRET),
            "{attack}: host environment leaked"
        );
    }
    // The control: the nested shell runs (in the guest) and passes its status back.
    let o = sh(&arena, &[], "bash -c 'echo $((6 * 7)); exit 3'");
    assert_eq!((status(&o), o.out().as_str()), (3, "42\n"), "{}", o.err());
}

/// `hookbox shell` runs bridged commands as the developer (so `chmod` works on their files);
/// when that is root, with no capability at all: the kernel's root powers (modules, mounts,
/// raw devices) are gone, and Landlock still holds the files.
#[test]
fn a_shells_bridged_commands_as_root_have_no_capabilities() {
    let arena = Arena::new();
    std::fs::write(arena.work.join("mine"), "x").unwrap();
    let o = sh(
        &arena,
        &["--allow-all-commands"],
        "/usr/bin/chmod +x mine && [ -x mine ] && echo chmod-ok; \
         /usr/bin/grep -E '^Cap(Eff|Prm|Bnd|Amb):' /proc/self/status; \
         echo pwned | /usr/bin/tee ../outside-marker; /usr/bin/cat /etc/shadow",
    );
    assert!(o.out().contains("chmod-ok"), "{}{}", o.out(), o.err());
    assert!(
        !arena.base.path().join("outside-marker").exists(),
        "wrote outside"
    );
    assert!(!o.out().contains("root:"), "read /etc/shadow");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        for set in ["CapEff", "CapPrm", "CapBnd", "CapAmb"] {
            assert!(
                o.out()
                    .lines()
                    .any(|l| l.starts_with(set) && l.ends_with("0000000000000000")),
                "{set} not empty:\n{}",
                o.out()
            );
        }
    }
}

/// `command -v`, `type` and `hash` in the sandbox see what the bridge would run: an allowed
/// host command is found at its host path (the guest cannot see /usr/bin itself), one off the
/// allow list is not found — so a hook's `command -v X || exit 1` takes its fallback.
#[test]
fn command_v_sees_exactly_what_the_policy_lets_run() {
    let arena = Arena::new();
    let o = sh(
        &arena,
        &["--allow", "sh"],
        "command -v sh; type -P sh; command -v sqlite3 || echo 'sqlite3 not allowed'",
    );
    let out = o.out();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}{}", o.err());
    assert!(
        lines[0].ends_with("/sh") && lines[0].starts_with('/'),
        "{lines:?}"
    );
    assert_eq!(lines[0], lines[1]);
    assert_eq!(lines[2], "sqlite3 not allowed");
}

/// A FIFO in the work directory that no one ever writes: the guest's `open` of it blocks in
/// the kernel. Its time limit still stops it, and hookbox exits once it has said so instead
/// of waiting for the stuck thread (the open runs on a blocking thread that neither the
/// deadline nor the end of the command waits for; on the executor thread it would hold both).
#[test]
fn a_guest_stuck_opening_a_fifo_is_stopped_by_its_time_limit_and_hookbox_exits() {
    let arena = Arena::new();
    let fifo = std::ffi::CString::new(arena.work.join("fifo").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let o = run_hookbox(
        &arena.work,
        &[OsStr::new("shell")],
        &["--timeout", "2"],
        &[OsStr::new("-c"), OsStr::new("cat fifo; echo after")],
        &[],
        Duration::from_secs(30),
    );
    assert!(
        !o.killed,
        "hookbox was still running after 30 s: {}",
        o.err()
    );
    assert_eq!(status(&o), 124, "{}", o.err());
    assert!(o.err().contains("time limit of 2 s"), "{}", o.err());
    assert!(!o.out().contains("after"), "{}", o.out());
}
