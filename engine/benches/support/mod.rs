//! Pieces the sandbox benchmark and `examples/overhead.rs` share: the smallest honest WASI
//! hook (a module that writes "ok\n" with `fd_write` and returns, assembled here so no wasm
//! toolchain is needed) in a folder of its own, a counting sink, one checked run of a hook,
//! and its peer `bash -c 'echo ok'`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hookbox::bridge::policy::Policy;
use hookbox::limits::Limits;
use hookbox::plan::HookProgram;
use hookbox::runner::sandbox::SandboxRunner;
use hookbox::runner::{Invocation, OutputSink, Runner, Stream};

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

impl CountLines {
    /// Lines received.
    fn count(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// The echo-ok module written to a temporary folder with a work and a temporary directory,
/// and an invocation of it there.
pub struct EchoOk {
    _dir: tempfile::TempDir,
    pub invocation: Invocation,
}

impl EchoOk {
    pub fn in_temp_dir() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().canonicalize().expect("canonical");
        let (work, temp) = (base.join("work"), base.join("tmp"));
        std::fs::create_dir(&work).expect("work");
        std::fs::create_dir(&temp).expect("tmp");
        let module = base.join("echo-ok.wasm");
        std::fs::write(&module, echo_ok_module()).expect("module");
        let invocation = invocation(&module, &work, &temp);
        EchoOk {
            _dir: dir,
            invocation,
        }
    }
}

/// Runs `invocation` once; it must succeed and print its one line.
pub async fn run_hook(runner: &SandboxRunner, invocation: &Invocation) {
    let sink = Arc::new(CountLines::default());
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let report = runner.run(invocation, sink.clone(), rx).await.expect("run");
    assert!(
        report.exit.success(),
        "{}: {report:?}",
        invocation.hook_name
    );
    assert_eq!(sink.count(), 1, "{} printed its line", invocation.hook_name);
}

/// `bash -c 'echo ok'` as a child process, the peer of every case.
pub async fn run_bash() {
    let out = tokio::process::Command::new("bash")
        .args(["-c", "echo ok"])
        .output()
        .await
        .expect("bash");
    assert!(out.status.success());
}
