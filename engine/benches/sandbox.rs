//! Per-hook overhead and throughput of the sandbox runner against `bash -c 'echo ok'`,
//! measured in the same run (BENCHMARKS.md has the numbers and the command).
//!
//! The sandboxed hook is the smallest honest equivalent of `echo ok`: a WASI module that
//! writes "ok\n" to stdout with `fd_write` and returns, run through the full
//! `SandboxRunner::run` path (store, WASI context with both preopens, fuel, limiter, output
//! capper, sink). The module is assembled below so the benchmark needs no wasm toolchain.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hookbox::bridge::policy::Policy;
use hookbox::limits::Limits;
use hookbox::plan::HookProgram;
use hookbox::runner::sandbox::{SandboxConfig, SandboxRunner};
use hookbox::runner::{Invocation, OutputSink, Runner, Stream};

/// Concurrent hooks in the throughput comparison.
const CONCURRENT: usize = 64;

fn section(id: u8, content: &[u8]) -> Vec<u8> {
    assert!(content.len() < 128, "one-byte LEB128 sizes only");
    let mut s = vec![id, content.len() as u8];
    s.extend_from_slice(content);
    s
}

fn name(s: &str) -> Vec<u8> {
    let mut v = vec![s.len() as u8];
    v.extend_from_slice(s.as_bytes());
    v
}

/// `(module (import "wasi_snapshot_preview1" "fd_write" ...) (memory (export "memory") 1)
///  (data "ok\n") (func (export "_start") ...fd_write(1, iov, 1, nwritten)...))`
fn echo_ok_module() -> Vec<u8> {
    let mut m = vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    m.extend(section(
        1,
        &[
            0x02, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00,
        ],
    ));
    let mut import = vec![0x01];
    import.extend(name("wasi_snapshot_preview1"));
    import.extend(name("fd_write"));
    import.extend([0x00, 0x00]);
    m.extend(section(2, &import));
    m.extend(section(3, &[0x01, 0x01]));
    m.extend(section(5, &[0x01, 0x00, 0x01]));
    let mut export = vec![0x02];
    export.extend(name("memory"));
    export.extend([0x02, 0x00]);
    export.extend(name("_start"));
    export.extend([0x00, 0x01]);
    m.extend(section(7, &export));
    let body = [
        0x00, 0x41, 0x01, 0x41, 0x00, 0x41, 0x01, 0x41, 0x08, 0x10, 0x00, 0x1a, 0x0b,
    ];
    let mut code = vec![0x01, body.len() as u8];
    code.extend(body);
    m.extend(section(10, &code));
    let mut data = vec![0x02];
    data.extend([0x00, 0x41, 0x10, 0x0b, 0x03, b'o', b'k', b'\n']);
    data.extend([0x00, 0x41, 0x00, 0x0b, 0x08, 0x10, 0, 0, 0, 0x03, 0, 0, 0]);
    m.extend(section(11, &data));
    m
}

#[derive(Default)]
struct CountLines(AtomicUsize);

impl OutputSink for CountLines {
    fn line(&self, _stream: Stream, _line: &[u8]) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn truncated(&self, _cap_bytes: u64) {}
}

fn invocation(module: &Path, work: &Path, temp: &Path) -> Invocation {
    let mut env = BTreeMap::new();
    env.insert("PATH".to_string(), "/usr/bin:/bin".to_string());
    env.insert("HOME".to_string(), temp.display().to_string());
    Invocation {
        hook_name: "echo-ok.wasm".into(),
        stage: "bench".into(),
        program: HookProgram::Wasm(module.to_path_buf()),
        args: Vec::new(),
        env,
        work_dir: work.to_path_buf(),
        temp_dir: temp.to_path_buf(),
        shared_dirs: Vec::new(),
        limits: Limits::default(),
        policy: Policy::default(),
    }
}

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
    assert_eq!(sink.0.load(Ordering::Relaxed), 1);
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
