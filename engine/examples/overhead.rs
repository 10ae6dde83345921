//! Per-hook overhead of hookbox's runners against `bash -c true` spawned by tokio, all
//! measured in this one run (BENCHMARKS.md has the numbers):
//!
//! ```text
//! cargo run --release -p hookbox --example overhead
//! ```
//!
//! One line per case, `NAME per-hook-us=N hooks-per-s=N`: the median latency of one hook run
//! at a time (from `run` to its report), and the throughput of many at once
//! ([`CONCURRENT`] in flight, every core busy).
//!
//! - `wasm-hook`: a WASI module that writes "ok" and returns, through `SandboxRunner::run`.
//! - `shell-hook`: the command `echo ok` run by the bundled shell in the sandbox.
//! - `wasm-hook-pooled`, `shell-hook-pooled`: the same through a runner whose instances come
//!   from a pool of reused slots (`SandboxConfig::pool`, as the fleet worker runs them).
//! - `bash-spawn`: `bash -c 'echo ok'` as a child process.
//!
//! Names given as arguments (`-- wasm-hook`) measure only those cases.

#[path = "../benches/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookbox::plan::HookProgram;
use hookbox::runner::sandbox::{Pool, SandboxConfig, SandboxRunner};
use hookbox::runner::Invocation;
use support::{run_bash, run_hook, EchoOk};

/// Hooks run one at a time for the latency median.
const SEQUENTIAL: usize = 300;
/// Hooks in flight at once for the throughput figure.
const CONCURRENT: usize = 64;
/// Hooks run in all for the throughput figure.
const THROUGHPUT_RUNS: usize = 2_000;

#[derive(Clone, Copy)]
enum Case {
    WasmHook,
    ShellHook,
    WasmHookPooled,
    ShellHookPooled,
    BashSpawn,
}

const CASES: [Case; 5] = [
    Case::WasmHook,
    Case::ShellHook,
    Case::WasmHookPooled,
    Case::ShellHookPooled,
    Case::BashSpawn,
];

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::WasmHook => "wasm-hook",
            Case::ShellHook => "shell-hook",
            Case::WasmHookPooled => "wasm-hook-pooled",
            Case::ShellHookPooled => "shell-hook-pooled",
            Case::BashSpawn => "bash-spawn",
        }
    }
}

/// The two sandbox runners: instances mapped per run, and from a pool.
struct Runners {
    mapped: SandboxRunner,
    pooled: SandboxRunner,
}

async fn once(case: Case, runners: &Runners, wasm: &Invocation, shell: &Invocation) {
    match case {
        Case::WasmHook => run_hook(&runners.mapped, wasm).await,
        Case::ShellHook => run_hook(&runners.mapped, shell).await,
        Case::WasmHookPooled => run_hook(&runners.pooled, wasm).await,
        Case::ShellHookPooled => run_hook(&runners.pooled, shell).await,
        Case::BashSpawn => run_bash().await,
    }
}

fn main() {
    let echo_ok = EchoOk::in_temp_dir();
    let wasm = Arc::new(echo_ok.invocation.clone());
    let mut shell = echo_ok.invocation.clone();
    shell.program = HookProgram::Command("echo ok".into());
    let shell = Arc::new(shell);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let runner = Arc::new(Runners {
        mapped: SandboxRunner::new(SandboxConfig::default()).expect("runner"),
        pooled: SandboxRunner::new(SandboxConfig {
            pool: Some(Pool {
                runs: CONCURRENT as u32,
                ..Pool::default()
            }),
            ..SandboxConfig::default()
        })
        .expect("pooled runner"),
    });
    // Compiling the shell and the module is a one-time cost, not a hook's.
    rt.block_on(runner.mapped.prepare_shell()).expect("shell");
    rt.block_on(runner.pooled.prepare_shell()).expect("shell");
    for case in CASES {
        rt.block_on(once(case, &runner, &wasm, &shell));
    }

    // `overhead wasm-hook` (any case names) measures only those.
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let cases = CASES
        .into_iter()
        .filter(|c| wanted.is_empty() || wanted.iter().any(|w| w == c.name()));
    for case in cases {
        let mut times: Vec<Duration> = (0..SEQUENTIAL)
            .map(|_| {
                let t = Instant::now();
                rt.block_on(once(case, &runner, &wasm, &shell));
                t.elapsed()
            })
            .collect();
        times.sort();
        let median = times[times.len() / 2];

        let started = Instant::now();
        rt.block_on(async {
            let gate = Arc::new(tokio::sync::Semaphore::new(CONCURRENT));
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..THROUGHPUT_RUNS {
                let permit = Arc::clone(&gate).acquire_owned().await.expect("permit");
                let (runner, wasm, shell) =
                    (Arc::clone(&runner), Arc::clone(&wasm), Arc::clone(&shell));
                tasks.spawn(async move {
                    once(case, &runner, &wasm, &shell).await;
                    drop(permit);
                });
            }
            while let Some(done) = tasks.join_next().await {
                done.expect("task");
            }
        });
        let per_s = THROUGHPUT_RUNS as f64 / started.elapsed().as_secs_f64();
        println!(
            "{} per-hook-us={} hooks-per-s={:.0}",
            case.name(),
            median.as_micros(),
            per_s
        );
    }
}
