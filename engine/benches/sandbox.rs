//! Per-hook overhead and throughput of the sandbox runner against `bash -c 'echo ok'`,
//! measured in the same run (BENCHMARKS.md has the numbers and the command).
//!
//! The sandboxed hook is the smallest honest equivalent of `echo ok`: a WASI module that
//! writes "ok\n" to stdout with `fd_write` and returns, run through the full
//! `SandboxRunner::run` path (store, WASI context with both preopens, limiter, output
//! capper, sink). The module is assembled in `support/` so the benchmark needs no wasm toolchain.

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hookbox::runner::sandbox::{SandboxConfig, SandboxRunner};
use hookbox::runner::{Invocation, Runner};
use support::{echo_ok_module, invocation, CountLines};

/// Concurrent hooks in the throughput comparison.
const CONCURRENT: usize = 64;

struct Setup {
    _dir: tempfile::TempDir,
    invocation: Invocation,
    runner: Arc<SandboxRunner>,
    rt: tokio::runtime::Runtime,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let base: PathBuf = dir.path().canonicalize().expect("canonical");
    let (work, temp) = (base.join("work"), base.join("tmp"));
    std::fs::create_dir(&work).expect("work");
    std::fs::create_dir(&temp).expect("tmp");
    let module = base.join("echo-ok.wasm");
    std::fs::write(&module, echo_ok_module()).expect("module");
    let runner = Arc::new(SandboxRunner::new(SandboxConfig::default()).expect("runner"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let invocation = invocation(&module, &work, &temp);
    // Sanity: the hook runs and prints its line.
    let sink = Arc::new(CountLines::default());
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let report = rt
        .block_on(runner.run(&invocation, sink.clone(), rx))
        .expect("run");
    assert!(report.exit.success(), "{report:?}");
    assert_eq!(sink.count(), 1);
    Setup {
        _dir: dir,
        invocation,
        runner,
        rt,
    }
}

async fn run_sandboxed(runner: &SandboxRunner, invocation: &Invocation) {
    let sink = Arc::new(CountLines::default());
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let report = runner.run(invocation, sink, rx).await.expect("run");
    assert!(report.exit.success());
}

async fn run_bash() {
    let out = tokio::process::Command::new("bash")
        .args(["-c", "echo ok"])
        .output()
        .await
        .expect("bash");
    assert!(out.status.success());
}

fn per_hook(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("per_hook");
    group.bench_function("sandbox_echo_ok", |b| {
        b.iter(|| s.rt.block_on(run_sandboxed(&s.runner, &s.invocation)))
    });
    group.bench_function("bash_c_echo_ok", |b| b.iter(|| s.rt.block_on(run_bash())));
    group.finish();
}

fn throughput(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("concurrent");
    group.throughput(Throughput::Elements(CONCURRENT as u64));
    group.bench_with_input(
        BenchmarkId::new("sandbox_echo_ok", CONCURRENT),
        &CONCURRENT,
        |b, &n| {
            b.iter(|| {
                s.rt.block_on(async {
                    let mut tasks = Vec::with_capacity(n);
                    for _ in 0..n {
                        let runner = Arc::clone(&s.runner);
                        let inv = s.invocation.clone();
                        tasks.push(tokio::spawn(
                            async move { run_sandboxed(&runner, &inv).await },
                        ));
                    }
                    for t in tasks {
                        t.await.expect("task");
                    }
                })
            })
        },
    );
    group.bench_with_input(
        BenchmarkId::new("bash_c_echo_ok", CONCURRENT),
        &CONCURRENT,
        |b, &n| {
            b.iter(|| {
                s.rt.block_on(async {
                    let mut tasks = Vec::with_capacity(n);
                    for _ in 0..n {
                        tasks.push(tokio::spawn(run_bash()));
                    }
                    for t in tasks {
                        t.await.expect("task");
                    }
                })
            })
        },
    );
    group.finish();
}

criterion_group!(benches, per_hook, throughput);
criterion_main!(benches);
