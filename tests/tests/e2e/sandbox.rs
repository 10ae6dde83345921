//! The sandbox runner through the library and `hookbox exec`: exit codes, arguments,
//! environment, fuel, deadline, memory, output cap, the module cache, many tenants at once.
//! Guests are built from tests/guests (`probe COMMAND ...`) by tests/build.rs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hookbox::bridge::policy::Policy;
use hookbox::limits::Limits;
use hookbox::plan::HookProgram;
use hookbox::runner::sandbox::{CacheOutcome, Pool, SandboxConfig, SandboxRunner};
use hookbox::runner::{Exit, Invocation, OutputSink, RunError, RunReport, Runner, Stream};
use hookbox_tests::hookbox;

/// A guest module built by tests/build.rs.
pub(crate) fn guest(name: &str) -> PathBuf {
    Path::new(env!("HOOKBOX_TEST_GUESTS")).join(format!("{name}.wasm"))
}

/// The compiled-module cache every test shares (the binary's too, via HOOKBOX_CACHE_DIR).
pub(crate) fn shared_cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hookbox-module-cache")
}

/// One runner for the whole test binary, as a platform with accounting on would hold it.
pub(crate) fn runner() -> Arc<SandboxRunner> {
    static RUNNER: OnceLock<Arc<SandboxRunner>> = OnceLock::new();
    RUNNER
        .get_or_init(|| {
            Arc::new(
                SandboxRunner::new(SandboxConfig {
                    cache_dir: Some(shared_cache_dir()),
                    meter_fuel: true,
                    ..SandboxConfig::default()
                })
                .expect("sandbox runner"),
            )
        })
        .clone()
}

/// Collects a run's output.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    lines: Mutex<Vec<(Stream, Vec<u8>)>>,
    truncated: Mutex<Option<u64>>,
}

impl OutputSink for Collected {
    fn line(&self, stream: Stream, line: &[u8]) {
        self.lines.lock().unwrap().push((stream, line.to_vec()));
    }
    fn truncated(&self, cap_bytes: u64) {
        *self.truncated.lock().unwrap() = Some(cap_bytes);
    }
}

impl Collected {
    pub(crate) fn text(&self, stream: Stream) -> String {
        let lines = self.lines.lock().unwrap();
        let mut out = String::new();
        for (_, l) in lines.iter().filter(|(s, _)| *s == stream) {
            out.push_str(&String::from_utf8_lossy(l));
            out.push('\n');
        }
        out
    }
    pub(crate) fn stdout(&self) -> String {
        self.text(Stream::Stdout)
    }
    pub(crate) fn stderr(&self) -> String {
        self.text(Stream::Stderr)
    }
    pub(crate) fn bytes(&self) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .map(|(_, l)| l.len())
            .sum()
    }
}

/// A work directory and a private temporary directory inside a fresh folder, whose root
/// (outside both) is where tests put what the guest must not reach.
pub(crate) struct Fixture {
    pub(crate) root: tempfile::TempDir,
    pub(crate) work: PathBuf,
    pub(crate) temp: PathBuf,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        let root = tempfile::tempdir().unwrap();
        let base = root.path().canonicalize().unwrap();
        let work = base.join("work");
        let temp = base.join("tmp");
        std::fs::create_dir(&work).unwrap();
        std::fs::create_dir(&temp).unwrap();
        Fixture { root, work, temp }
    }

    pub(crate) fn base(&self) -> PathBuf {
        self.root.path().canonicalize().unwrap()
    }

    /// An invocation of the probe with `args`, the default policy and limits.
    pub(crate) fn probe(&self, args: &[&str]) -> Invocation {
        let mut env = BTreeMap::new();
        env.insert("PATH".to_string(), "/policy/bin".to_string());
        env.insert("HOME".to_string(), self.temp.display().to_string());
        env.insert("WORK_DIR".to_string(), self.work.display().to_string());
        env.insert(
            "APP_SETTING".to_string(),
            "value with spaces=and equals".to_string(),
        );
        Invocation {
            hook_name: "pre-deploy.wasm".to_string(),
            stage: "pre-deploy".to_string(),
            program: HookProgram::Wasm(guest("probe")),
            args: args.iter().map(|s| s.to_string()).collect(),
            env,
            work_dir: self.work.clone(),
            temp_dir: self.temp.clone(),
            shared_dirs: Vec::new(),
            limits: Limits::default(),
            policy: Policy::default(),
        }
    }
}

pub(crate) async fn run_with(
    runner: &SandboxRunner,
    invocation: &Invocation,
) -> Result<(RunReport, Arc<Collected>), RunError> {
    let sink = Arc::new(Collected::default());
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let report = runner.run(invocation, sink.clone(), rx).await?;
    Ok((report, sink))
}

pub(crate) async fn run(invocation: &Invocation) -> (RunReport, Arc<Collected>) {
    run_with(&runner(), invocation)
        .await
        .expect("the run starts")
}

#[tokio::test]
async fn guest_exit_code_passes_through() {
    let fx = Fixture::new();
    let (report, _) = run(&fx.probe(&["exit", "7"])).await;
    assert_eq!(report.exit, Exit::Code(7));
    let (report, _) = run(&fx.probe(&["exit", "0"])).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert!(report.instructions.unwrap() > 0);
}

#[tokio::test]
async fn args_are_the_hook_name_then_the_hook_args() {
    let fx = Fixture::new();
    let (report, out) = run(&fx.probe(&["args", "a", "b c", ""])).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert_eq!(out.stdout(), "pre-deploy.wasm\nargs\na\nb c\n\n");
}

#[tokio::test]
async fn environment_is_exactly_the_invocation_env_and_no_host_variable() {
    let fx = Fixture::new();
    let inv = fx.probe(&["env"]);
    let (report, out) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0));
    let expected: String = inv.env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let stdout = out.stdout();
    let mut got: Vec<&str> = stdout.lines().collect();
    got.sort();
    let mut want: Vec<&str> = expected.lines().collect();
    want.sort();
    assert_eq!(got, want);
    // The test process's own variables (its HOME, its PATH) are not there.
    if let Ok(host_path) = std::env::var("PATH") {
        assert!(!stdout.contains(&format!("PATH={host_path}\n")));
    }
}

#[tokio::test]
async fn stdin_is_empty() {
    let fx = Fixture::new();
    let (report, out) = run(&fx.probe(&["stdin"])).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert_eq!(out.stdout(), "OK 0\n");
}

#[tokio::test]
async fn instructions_used_are_reported_and_follow_the_work_done() {
    let fx = Fixture::new();
    let (small, _) = run(&fx.probe(&["count", "1000"])).await;
    let (large, _) = run(&fx.probe(&["count", "2000000"])).await;
    assert_eq!(small.exit, Exit::Code(0));
    assert_eq!(large.exit, Exit::Code(0));
    let (small, large) = (small.instructions.unwrap(), large.instructions.unwrap());
    assert!(small > 0);
    // Each loop iteration is several instructions.
    assert!(large > small + 2_000_000, "{small} vs {large}");
    // Deterministic: the same work costs the same fuel.
    let (again, _) = run(&fx.probe(&["count", "1000"])).await;
    assert_eq!(again.instructions.unwrap(), small);
}

#[tokio::test]
async fn fuel_budget_stops_an_infinite_loop() {
    let fx = Fixture::new();
    let mut inv = fx.probe(&["spin"]);
    inv.limits.fuel = Some(20_000_000);
    let (report, _) = run(&inv).await;
    assert_eq!(report.exit, Exit::FuelExhausted);
    assert_eq!(report.instructions, Some(20_000_000));
}

#[tokio::test]
async fn deadline_stops_a_loop_that_sleeps() {
    let fx = Fixture::new();
    let mut inv = fx.probe(&["sleep-loop"]);
    inv.limits.timeout = Duration::from_secs(2);
    let (report, _) = run(&inv).await;
    assert_eq!(report.exit, Exit::TimedOut);
    assert!(report.duration >= Duration::from_secs(2));
    assert!(
        report.duration < Duration::from_secs(60),
        "{:?}",
        report.duration
    );
}

/// Fuel is counted only when asked for (the Contracts, "Fuel"): an unmetered runner reports
/// no instructions and refuses a budget it could not enforce, rather than ignoring it.
#[tokio::test]
async fn an_unmetered_runner_reports_no_instructions_and_refuses_a_budget() {
    let fx = Fixture::new();
    let unmetered = SandboxRunner::new(SandboxConfig {
        cache_dir: Some(shared_cache_dir()),
        ..SandboxConfig::default()
    })
    .unwrap();
    let inv = fx.probe(&["count", "1000"]);
    let sink = Arc::new(Collected::default());
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let report = unmetered.run(&inv, sink, rx.clone()).await.unwrap();
    assert_eq!(report.exit, Exit::Code(0));
    assert_eq!(report.instructions, None);
    let mut budgeted = fx.probe(&["count", "1000"]);
    budgeted.limits.fuel = Some(1_000_000);
    let err = unmetered
        .run(&budgeted, Arc::new(Collected::default()), rx)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not meter fuel"), "{err}");
}

// --- pooled instance slots (`SandboxConfig::pool`) -------------------------------------------

fn pooled(runs: u32, memory_bytes: u64) -> SandboxRunner {
    SandboxRunner::new(SandboxConfig {
        cache_dir: Some(shared_cache_dir()),
        pool: Some(Pool { runs, memory_bytes }),
        ..SandboxConfig::default()
    })
    .unwrap()
}

async fn run_on(runner: &SandboxRunner, inv: &Invocation) -> Result<(RunReport, String), RunError> {
    let sink = Arc::new(Collected::default());
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let report = runner.run(inv, sink.clone(), rx).await?;
    Ok((report, sink.stdout()))
}

/// Tenants run one after another in one reused slot (a pool of one): the second finds
/// nothing of what the first wrote into its memory, while each run's own scan finds its own
/// writing (so the scan would see a residue).
#[tokio::test]
async fn a_reused_pool_slot_holds_nothing_of_the_previous_tenant() {
    let runner = pooled(1, hookbox::limits::DEFAULT_MEMORY_BYTES);
    let fx = Fixture::new();
    let marker = "tenant-a-secret-7f3c91";
    for round in 0..3 {
        let (report, stdout) = run_on(&runner, &fx.probe(&["residue", marker]))
            .await
            .unwrap();
        assert_eq!(report.exit, Exit::Code(0), "round {round}: {stdout}");
        assert_eq!(
            stdout, "residue=none\nselfcheck=found\n",
            "round {round}: the slot kept an earlier run's memory"
        );
    }
}

/// A pooled slot is sized to the operator's largest memory limit; each run's own lower limit
/// is still what stops it, and a run asking more than a slot holds is refused, not cut.
#[tokio::test]
async fn a_pooled_run_keeps_its_own_memory_limit_and_cannot_exceed_the_slot() {
    let runner = pooled(4, 64 << 20);
    let fx = Fixture::new();
    let mut inv = fx.probe(&["alloc"]);
    inv.limits.memory_bytes = 16 << 20;
    let (report, _) = run_on(&runner, &inv).await.unwrap();
    assert_eq!(report.exit, Exit::MemoryLimit);
    inv.limits.memory_bytes = 128 << 20;
    let err = run_on(&runner, &inv).await.unwrap_err();
    assert!(err.to_string().contains("pooled slots"), "{err}");
}

/// One run more than the pool holds is refused at its start with a reason; the runs in the
/// pool are not disturbed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_refuses_the_next_run_with_a_reason() {
    let runner = Arc::new(pooled(1, hookbox::limits::DEFAULT_MEMORY_BYTES));
    let fx = Fixture::new();
    // The module compiled and ready first, so the sleeper takes the slot at once.
    let (report, _) = run_on(&runner, &fx.probe(&["exit", "0"])).await.unwrap();
    assert_eq!(report.exit, Exit::Code(0));
    let mut sleeper = fx.probe(&["sleep-loop"]);
    sleeper.limits.timeout = Duration::from_secs(4);
    let holder = {
        let runner = Arc::clone(&runner);
        tokio::spawn(async move { run_on(&runner, &sleeper).await })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let err = run_on(&runner, &fx.probe(&["exit", "0"]))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("pool of 1 runs at once is full"),
        "{err}"
    );
    let (report, _) = holder.await.unwrap().unwrap();
    assert_eq!(report.exit, Exit::TimedOut);
    // The slot is free again.
    let (report, _) = run_on(&runner, &fx.probe(&["exit", "0"])).await.unwrap();
    assert_eq!(report.exit, Exit::Code(0));
}

#[tokio::test]
async fn deadline_stops_a_busy_loop_without_fuel_limit() {
    let fx = Fixture::new();
    let mut inv = fx.probe(&["spin"]);
    inv.limits.timeout = Duration::from_secs(1);
    let (report, _) = run(&inv).await;
    assert_eq!(report.exit, Exit::TimedOut);
    assert!(report.instructions.unwrap() > 0);
}

#[tokio::test]
async fn cancel_stops_a_running_guest() {
    let fx = Fixture::new();
    let inv = fx.probe(&["sleep-loop"]);
    let sink = Arc::new(Collected::default());
    let (tx, rx) = tokio::sync::watch::channel(false);
    let runner = runner();
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        tx.send(true).unwrap();
        tx
    });
    let report = runner.run(&inv, sink, rx).await.unwrap();
    let _tx = stopper.await.unwrap();
    assert_eq!(report.exit, Exit::Cancelled);
}

#[tokio::test]
async fn memory_bomb_hits_the_limit_with_a_clear_message() {
    let fx = Fixture::new();
    let mut inv = fx.probe(&["alloc"]);
    inv.limits.memory_bytes = 32 << 20;
    let (report, out) = run(&inv).await;
    assert_eq!(report.exit, Exit::MemoryLimit);
    assert!(
        out.stderr().contains("memory limit reached")
            && out.stderr().contains(&(32u64 << 20).to_string()),
        "{}",
        out.stderr()
    );
}

#[tokio::test]
async fn output_flood_of_one_gigabyte_is_cut_at_the_cap() {
    let fx = Fixture::new();
    let mut inv = fx.probe(&["flood", &(1u64 << 30).to_string()]);
    inv.limits.output_cap_bytes = 1 << 20;
    let (report, out) = run(&inv).await;
    // Not failed for its output; the cap took effect and was reported.
    assert_eq!(report.exit, Exit::Code(0));
    assert!(report.output_truncated);
    assert_eq!(*out.truncated.lock().unwrap(), Some(1 << 20));
    assert!(out.bytes() <= 1 << 20, "{} bytes kept", out.bytes());
    assert!(out.bytes() >= (1 << 20) - 1024);
    // Output after the cap (the final stderr line) is dropped.
    assert!(!out.stderr().contains("flood done"));
}

#[tokio::test]
async fn guest_sees_its_context_and_logs_through_the_hookbox_imports() {
    let fx = Fixture::new();
    let (report, out) = run(&fx.probe(&["context"])).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert_eq!(
        out.stdout(),
        format!("pre-deploy pre-deploy.wasm {} context\n", fx.work.display())
    );
    let (report, out) = run(&fx.probe(&["log", "migrations applied"])).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert_eq!(out.stderr(), "[info] migrations applied\n");
}

#[tokio::test]
async fn work_dir_is_granted_at_its_host_path_and_as_the_current_directory() {
    let fx = Fixture::new();
    std::fs::write(fx.work.join("data.txt"), "hello").unwrap();
    let (report, out) = run(&fx.probe(&["read", "data.txt"])).await;
    assert_eq!(
        (report.exit, out.stdout()),
        (Exit::Code(0), "OK hello\n".into())
    );
    let abs = fx.work.join("data.txt").display().to_string();
    let (report, out) = run(&fx.probe(&["read", &abs])).await;
    assert_eq!(
        (report.exit, out.stdout()),
        (Exit::Code(0), "OK hello\n".into())
    );
    let written = fx.work.join("out.txt").display().to_string();
    let (report, _) = run(&fx.probe(&["write", &written, "from guest"])).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert_eq!(
        std::fs::read_to_string(fx.work.join("out.txt")).unwrap(),
        "from guest"
    );
    let tmp_file = fx.temp.join("scratch").display().to_string();
    let (report, _) = run(&fx.probe(&["write", &tmp_file, "t"])).await;
    assert_eq!(report.exit, Exit::Code(0));
}

#[tokio::test]
async fn a_trap_is_reported_like_an_abort_with_its_message() {
    let fx = Fixture::new();
    let (report, out) = run(&fx.probe(&["trap"])).await;
    assert_eq!(report.exit, Exit::Signal(6));
    assert!(
        out.stderr().contains("hookbox: the hook trapped"),
        "{}",
        out.stderr()
    );
}

#[tokio::test]
async fn shell_hooks_run_in_the_bundled_shell_inside_the_sandbox() {
    let fx = Fixture::new();
    let outside = fx.base().join("planted");
    let script = fx.work.join("pre-deploy.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/bash\necho \"hello $1 from $0\"\necho made > inside.txt\n\
             echo x > {}\necho \"status $?\"\nexit 3\n",
            outside.display()
        ),
    )
    .unwrap();
    let mut inv = fx.probe(&["a"]);
    inv.program = HookProgram::Script(script.clone());
    let (report, out) = run(&inv).await;
    assert_eq!(
        report.exit,
        Exit::Code(3),
        "{}{}",
        out.stdout(),
        out.stderr()
    );
    assert!(report.instructions.unwrap() > 0);
    let stdout = out.stdout();
    assert!(
        stdout.starts_with(&format!("hello a from {}\n", script.display())),
        "{stdout}"
    );
    // The redirection out of the work directory failed inside the sandbox; nothing leaked.
    assert!(stdout.contains("status 1"), "{stdout}");
    assert!(!outside.exists());
    assert_eq!(
        std::fs::read_to_string(fx.work.join("inside.txt")).unwrap(),
        "made\n"
    );

    let mut inv = fx.probe(&["z"]);
    inv.program = HookProgram::Command("echo \"cmd $0 $1\"; exit 4".into());
    let (report, out) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(4), "{}", out.stderr());
    assert_eq!(out.stdout(), "cmd pre-deploy.wasm z\n");
}

#[tokio::test]
async fn a_corrupt_cache_entry_is_recompiled_never_loaded() {
    let cache = tempfile::tempdir().unwrap();
    let config = SandboxConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..SandboxConfig::default()
    };
    let probe = guest("probe");
    let first = SandboxRunner::new(config.clone()).unwrap();
    assert_eq!(first.prepare(&probe).await.unwrap(), CacheOutcome::Compiled);
    // The artifact (its checksum file beside it is `.cwasm.crc`).
    let entries: Vec<PathBuf> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(
        SandboxRunner::new(config.clone())
            .unwrap()
            .prepare(&probe)
            .await
            .unwrap(),
        CacheOutcome::Hit
    );

    type Corrupt = Box<dyn Fn(&mut Vec<u8>)>;
    let corruptions: Vec<Corrupt> = vec![
        // One flipped byte in the middle of the machine code.
        Box::new(|b: &mut Vec<u8>| {
            let mid = b.len() / 2;
            b[mid] ^= 0xff;
        }),
        // Truncated.
        Box::new(|b: &mut Vec<u8>| b.truncate(b.len() / 3)),
        // Garbage, too short to hold a digest.
        Box::new(|b: &mut Vec<u8>| *b = b"garbage".to_vec()),
    ];
    for corrupt in corruptions {
        let mut bytes = std::fs::read(entry).unwrap();
        corrupt(&mut bytes);
        // Replaced by rename, as the cache's contract says entries change: the module an
        // earlier runner mapped from this file may still be being dropped on a blocking
        // thread, and truncating a mapped file in place would SIGBUS it (its unwind info
        // is read from the mapping when it is deregistered).
        let replacement = entry.with_extension("corrupt");
        std::fs::write(&replacement, &bytes).unwrap();
        std::fs::rename(&replacement, entry).unwrap();
        let runner = SandboxRunner::new(config.clone()).unwrap();
        assert_eq!(
            runner.prepare(&probe).await.unwrap(),
            CacheOutcome::Recompiled
        );
        let fx = Fixture::new();
        let (report, _) = run_with(&runner, &fx.probe(&["exit", "4"])).await.unwrap();
        assert_eq!(report.exit, Exit::Code(4));
        // The entry was rewritten and is valid again.
        assert_eq!(
            SandboxRunner::new(config.clone())
                .unwrap()
                .prepare(&probe)
                .await
                .unwrap(),
            CacheOutcome::Hit
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_hooks_each_see_only_their_own_dir_and_env() {
    const N: usize = 200;
    let fixtures: Vec<Fixture> = (0..N).map(|_| Fixture::new()).collect();
    for (i, fx) in fixtures.iter().enumerate() {
        std::fs::write(fx.work.join("mine.txt"), format!("tenant-{i}")).unwrap();
    }
    let runner = runner();
    let mut tasks = Vec::new();
    for (i, fx) in fixtures.iter().enumerate() {
        let neighbour = fixtures[(i + 1) % N].work.join("mine.txt");
        let mut inv = fx.probe(&["tenant", &neighbour.display().to_string()]);
        inv.env.insert("TENANT".into(), format!("t{i}"));
        let runner = runner.clone();
        tasks.push(tokio::spawn(async move {
            let (report, out) = run_with(&runner, &inv).await.unwrap();
            (report, out.stdout())
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let (report, stdout) = task.await.unwrap();
        assert_eq!(report.exit, Exit::Code(0), "tenant {i}: {stdout}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines[0], format!("env=t{i}"));
        assert_eq!(lines[1], format!("mine=tenant-{i}"));
        assert!(
            lines[2].starts_with("neighbour=ERR"),
            "tenant {i}: {}",
            lines[2]
        );
        assert!(!stdout.contains(&format!("tenant-{}", (i + 1) % N)));
    }
}

// --- `hookbox exec` -------------------------------------------------------------------------

pub(crate) fn exec_cmd(dir: &Path) -> std::process::Command {
    let mut cmd = hookbox();
    cmd.current_dir(dir)
        .env("HOOKBOX_CACHE_DIR", shared_cache_dir());
    cmd.arg("exec").arg(guest("probe"));
    cmd
}

#[test]
fn exec_passes_the_guest_status_and_output_through() {
    let fx = Fixture::new();
    let out = exec_cmd(&fx.work)
        .args(["--", "exit", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let out = exec_cmd(&fx.work)
        .args(["--", "args", "x y"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "probe.wasm\nargs\nx y\n"
    );
}

/// `-v` is for a hook's author: hookbox's own debug lines, not wasmtime's or cranelift's
/// (`ignoring section …` on every compile), and no colour codes into a pipe.
#[test]
fn verbose_shows_hookboxs_diagnostics_without_the_engines_or_colour() {
    let fx = Fixture::new();
    let cache = tempfile::tempdir().unwrap();
    let out = hookbox()
        .current_dir(&fx.work)
        .env("HOOKBOX_CACHE_DIR", cache.path())
        .args(["-v", "exec"])
        .arg(guest("probe"))
        .args(["--", "exit", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("compiled module"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes into a pipe: {stderr}"
    );
    for line in stderr.lines() {
        assert!(
            line.contains("compiled module"),
            "a line that is not hookbox's: {line}\n{stderr}"
        );
    }
    // RUST_LOG still reaches the engine's crates for whoever needs them.
    let cache = tempfile::tempdir().unwrap();
    let out = hookbox()
        .current_dir(&fx.work)
        .env("HOOKBOX_CACHE_DIR", cache.path())
        .env("RUST_LOG", "trace")
        .arg("exec")
        .arg(guest("probe"))
        .args(["--", "exit", "0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.lines().any(|l| !l.contains("compiled module")),
        "{stderr}"
    );
}

#[test]
fn exec_uses_the_current_directory_as_work_directory() {
    let fx = Fixture::new();
    let out = exec_cmd(&fx.work)
        .args(["--", "write", "made-by-guest.txt", "yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(fx.work.join("made-by-guest.txt")).unwrap(),
        "yes"
    );
    let out = exec_cmd(&fx.work)
        .args(["--read-only", "--", "write", "second.txt", "no"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(!fx.work.join("second.txt").exists());
}

#[test]
fn exec_time_limit_gives_124_with_a_reason() {
    let fx = Fixture::new();
    let out = exec_cmd(&fx.work)
        .env("HOOK_TIMEOUT", "1")
        .args(["--", "sleep-loop"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(124), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("time limit of 1 s"), "{stderr}");
    // --timeout wins over HOOK_TIMEOUT.
    let out = exec_cmd(&fx.work)
        .env("HOOK_TIMEOUT", "100")
        .args(["--timeout", "1", "--", "spin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(124), "{out:?}");
}

#[test]
fn exec_fuel_and_memory_limits_give_137_with_a_reason() {
    let fx = Fixture::new();
    let out = exec_cmd(&fx.work)
        .args(["--fuel", "5000000", "--", "spin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(137), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("fuel exhausted after 5000000"));
    let out = exec_cmd(&fx.work)
        .args(["--memory", "16M", "--", "alloc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(137), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("memory limit of 16777216 bytes"));
}

#[test]
fn exec_of_a_malformed_module_is_a_usage_error() {
    let fx = Fixture::new();
    let bad = fx.work.join("bad.wasm");
    std::fs::write(&bad, b"this is not wasm").unwrap();
    let out = hookbox()
        .current_dir(&fx.work)
        .env("HOOKBOX_CACHE_DIR", shared_cache_dir())
        .args(["exec", "bad.wasm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a WebAssembly module"));
}
