//! The bundled shell against bash and dash, measured in the same run (BENCHMARKS.md has the
//! numbers and the command):
//!
//! - `echo ok` start to exit: the sandbox runs `-c 'echo ok'` in the bundled shell through
//!   `SandboxRunner::run_shell_session` (store, WASI context, fuel, limiter, capper, sink;
//!   the shell compiled once, as a platform or `hookbox shell` keeps it), against
//!   `bash -c 'echo ok'` and `dash -c 'echo ok'` spawned as processes.
//! - a CPU-bound script: 100 000 iterations of arithmetic and string work, against bash.
//!
//! Plain timing (median of N runs) rather than criterion: the loop takes seconds a run.
//! `SHELL_BENCH_RUNS` sets N (default 20 for echo, 3 for the loop).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hookbox::bridge::policy::Policy;
use hookbox::limits::Limits;
use hookbox::plan::HookProgram;
use hookbox::runner::sandbox::{SandboxConfig, SandboxRunner, ShellInput};
use hookbox::runner::{Exit, Invocation, OutputSink, Stream};

/// The CPU-bound script: arithmetic, a substring, concatenation, a test, per iteration.
const LOOP: &str = r#"i=0; n=0; s=""
while [ "$i" -lt 100000 ]; do
  n=$(( (n + i * 7) % 1000003 ))
  s="${s:0:16}x$i"
  i=$((i + 1))
done
echo "$n ${#s}""#;

struct Count(std::sync::atomic::AtomicUsize);

impl OutputSink for Count {
    fn line(&self, _stream: Stream, line: &[u8]) {
        self.0
            .fetch_add(line.len() + 1, std::sync::atomic::Ordering::Relaxed);
    }
    fn truncated(&self, _cap_bytes: u64) {}
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_process(shell: &str, script: &str, runs: usize) -> (Duration, String) {
    let mut times = Vec::new();
    let mut out = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        let o = std::process::Command::new(shell)
            .args(["-c", script])
            .output()
            .expect("shell runs");
        times.push(t.elapsed());
        out = String::from_utf8_lossy(&o.stdout).trim().to_string();
    }
    (median(times), out)
}

fn main() {
    let runs: usize = std::env::var("SHELL_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().expect("temp dir");
    let work = std::fs::canonicalize(dir.path()).expect("canonical");
    let cache = std::env::var_os("HOOKBOX_CACHE_DIR").map(Into::into);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let runner = SandboxRunner::new(SandboxConfig {
        cache_dir: cache,
        ..SandboxConfig::default()
    })
    .expect("runner");
    let t = Instant::now();
    runtime
        .block_on(runner.prepare_shell())
        .expect("shell compiles");
    println!("shell prepared (compiled or loaded) in {:?}", t.elapsed());

    let invocation = Invocation {
        hook_name: "bench".into(),
        stage: "bench".into(),
        program: HookProgram::Command(String::new()),
        args: Vec::new(),
        env: BTreeMap::from([("PATH".to_string(), "/usr/bin:/bin".to_string())]),
        work_dir: work.clone(),
        temp_dir: work.clone(),
        shared_dirs: Vec::new(),
        limits: Limits::default(),
        policy: Policy::default(),
    };
    let sandboxed = |script: &str, runs: usize| {
        let mut times = Vec::new();
        let mut instructions = 0;
        for _ in 0..runs {
            let sink = Arc::new(Count(Default::default()));
            let input = ShellInput::Argv {
                args: vec!["-c".into(), script.into()],
                stdin: None,
            };
            let (_tx, rx) = tokio::sync::watch::channel(false);
            let t = Instant::now();
            let report = runtime
                .block_on(runner.run_shell_session(&invocation, input, false, None, sink, rx))
                .expect("runs");
            times.push(t.elapsed());
            assert_eq!(report.exit, Exit::Code(0));
            instructions = report.instructions.unwrap_or(0);
        }
        (median(times), instructions)
    };
    let (ours, _) = sandboxed("echo ok", runs);
    let (bash, _) = time_process("bash", "echo ok", runs);
    let (dash, _) = time_process("dash", "echo ok", runs);
    println!("echo ok, median of {runs}:");
    println!("  hookbox shell (sandbox, in process) {ours:?}");
    println!(
        "  bash -c  {bash:?}  (bash / sandbox = {:.2})",
        bash.as_secs_f64() / ours.as_secs_f64()
    );
    println!(
        "  dash -c  {dash:?}  (dash / sandbox = {:.2})",
        dash.as_secs_f64() / ours.as_secs_f64()
    );

    let loop_runs = (runs / 6).max(1);
    let (ours, instructions) = sandboxed(LOOP, loop_runs);
    let (bash, out) = time_process("bash", LOOP, loop_runs);
    println!("100 000-iteration loop, median of {loop_runs} (bash printed {out:?}):");
    println!("  hookbox shell (sandbox) {ours:?}, {instructions} instructions");
    println!(
        "  bash -c {bash:?}  (bash / sandbox = {:.2})",
        bash.as_secs_f64() / ours.as_secs_f64()
    );
}
