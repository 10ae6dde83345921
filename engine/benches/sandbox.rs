//! Per-hook overhead and throughput of the sandbox runner against `bash -c 'echo ok'`,
//! measured in the same run (BENCHMARKS.md has the numbers and the command).
//!
//! The sandboxed hook is the smallest honest equivalent of `echo ok`: a WASI module that
//! writes "ok\n" to stdout with `fd_write` and returns, run through the full
//! `SandboxRunner::run` path (store, WASI context with both preopens, limiter, output
//! capper, sink). The module is assembled in `support/` so the benchmark needs no wasm toolchain.

mod support;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hookbox::runner::sandbox::{SandboxConfig, SandboxRunner};
use support::{run_bash, run_hook, EchoOk};

/// Concurrent hooks in the throughput comparison.
const CONCURRENT: usize = 64;

struct Setup {
    echo_ok: EchoOk,
    runner: Arc<SandboxRunner>,
    rt: tokio::runtime::Runtime,
}

fn setup() -> Setup {
    let echo_ok = EchoOk::in_temp_dir();
    let runner = Arc::new(SandboxRunner::new(SandboxConfig::default()).expect("runner"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Sanity (and the module compiled before timing): the hook runs and prints its line.
    rt.block_on(run_hook(&runner, &echo_ok.invocation));
    Setup {
        echo_ok,
        runner,
        rt,
    }
}

fn per_hook(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("per_hook");
    group.bench_function("sandbox_echo_ok", |b| {
        b.iter(|| s.rt.block_on(run_hook(&s.runner, &s.echo_ok.invocation)))
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
                        let inv = s.echo_ok.invocation.clone();
                        tasks.push(tokio::spawn(async move { run_hook(&runner, &inv).await }));
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
