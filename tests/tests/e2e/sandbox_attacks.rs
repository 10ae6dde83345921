//! Attacks on the sandbox, each shown to fail with a clear error and no effect on the host.
//! Every test asserts both that the guest saw an error (the probe prints `ERR` and exits 3)
//! and that the protected thing did not leak or change, so removing the defence fails it.

use std::net::TcpListener;
use std::time::Duration;

use hookbox::bridge::policy::DirAccess;
use hookbox::plan::HookProgram;
use hookbox::runner::{Exit, RunError};

use super::sandbox::{run, run_with, runner, Fixture};

const SECRET: &str = "TOP-SECRET-7f3a";

fn assert_refused(exit: Exit, stdout: &str) {
    assert_eq!(exit, Exit::Code(3), "the guest was not refused: {stdout}");
    assert!(stdout.starts_with("ERR "), "{stdout}");
    assert!(!stdout.contains(SECRET), "secret leaked: {stdout}");
}

#[tokio::test]
async fn reading_etc_passwd_fails() {
    let fx = Fixture::new();
    let (report, out) = run(&fx.probe(&["read", "/etc/passwd"])).await;
    assert_refused(report.exit, &out.stdout());
    assert!(!out.stdout().contains("root:"));
    // `/` is not the host's root: wasi-libc resolves paths outside every preopen in the "."
    // preopen (the work directory), so listing it shows only the work directory.
    std::fs::write(fx.work.join("only-this"), "").unwrap();
    let (report, out) = run(&fx.probe(&["list", "/"])).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert_eq!(out.stdout(), "only-this\n");
}

#[tokio::test]
async fn dot_dot_and_absolute_paths_out_of_the_work_dir_fail() {
    let fx = Fixture::new();
    let secret = fx.base().join("secret.txt");
    std::fs::write(&secret, SECRET).unwrap();
    let through_work = format!("{}/../secret.txt", fx.work.display());
    for path in [
        "../secret.txt".to_string(),
        "../../secret.txt".to_string(),
        through_work,
        secret.display().to_string(),
    ] {
        let (report, out) = run(&fx.probe(&["read", &path])).await;
        assert_refused(report.exit, &out.stdout());
    }
    // Writing out of the work dir fails and creates nothing.
    let outside = fx.base().join("planted.txt");
    for path in ["../planted.txt".to_string(), outside.display().to_string()] {
        let (report, out) = run(&fx.probe(&["write", &path, "x"])).await;
        assert_refused(report.exit, &out.stdout());
    }
    assert!(!outside.exists());
}

#[tokio::test]
async fn a_symlink_in_the_work_dir_pointing_outside_fails() {
    let fx = Fixture::new();
    let secret = fx.base().join("secret.txt");
    std::fs::write(&secret, SECRET).unwrap();
    std::os::unix::fs::symlink(&secret, fx.work.join("link-abs")).unwrap();
    std::os::unix::fs::symlink("../secret.txt", fx.work.join("link-rel")).unwrap();
    std::os::unix::fs::symlink("/etc", fx.work.join("etc")).unwrap();
    for path in ["link-abs", "link-rel"] {
        let (report, out) = run(&fx.probe(&["read", path])).await;
        assert_refused(report.exit, &out.stdout());
    }
    let (report, out) = run(&fx.probe(&["read", "etc/passwd"])).await;
    assert_refused(report.exit, &out.stdout());
    assert!(!out.stdout().contains("root:"));
    // Writing through a symlink does not reach the target either.
    let (report, out) = run(&fx.probe(&["write", "link-abs", "overwritten"])).await;
    assert_refused(report.exit, &out.stdout());
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), SECRET);
}

#[tokio::test]
async fn the_temp_dir_of_another_run_and_the_host_tmp_are_invisible() {
    let fx = Fixture::new();
    let other = Fixture::new();
    std::fs::write(other.temp.join("token"), SECRET).unwrap();
    let path = other.temp.join("token").display().to_string();
    let (report, out) = run(&fx.probe(&["read", &path])).await;
    assert_refused(report.exit, &out.stdout());
    let (report, out) = run(&fx.probe(&["list", "/tmp"])).await;
    assert_refused(report.exit, &out.stdout());
}

#[tokio::test]
async fn the_read_only_work_dir_is_enforced() {
    let fx = Fixture::new();
    std::fs::write(fx.work.join("app.db"), SECRET).unwrap();
    let mut inv = fx.probe(&["write", "app.db", "clobbered"]);
    inv.policy.work_dir = DirAccess::ReadOnly;
    let (report, out) = run(&inv).await;
    assert_refused(report.exit, &out.stdout());
    assert_eq!(
        std::fs::read_to_string(fx.work.join("app.db")).unwrap(),
        SECRET
    );
    let mut inv = fx.probe(&["write", "new.txt", "x"]);
    inv.policy.work_dir = DirAccess::ReadOnly;
    let (report, out) = run(&inv).await;
    assert_refused(report.exit, &out.stdout());
    assert!(!fx.work.join("new.txt").exists());
    // Reading is still allowed.
    let mut inv = fx.probe(&["read", "app.db"]);
    inv.policy.work_dir = DirAccess::ReadOnly;
    let (report, _) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0));
}

#[tokio::test]
async fn opening_a_socket_fails_and_nothing_connects() {
    let fx = Fixture::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (report, out) = run(&fx.probe(&["socket", &addr])).await;
    assert_refused(report.exit, &out.stdout());
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        listener.accept().is_err(),
        "the guest reached the host's network"
    );
}

#[tokio::test]
async fn a_module_with_unknown_imports_is_refused_with_a_clear_error() {
    let fx = Fixture::new();
    // (module (import "env" "foo" (func)))
    let module: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: one () -> ()
        0x02, 0x0b, 0x01, 0x03, b'e', b'n', b'v', 0x03, b'f', b'o', b'o', 0x00,
        0x00, // import
    ];
    let path = fx.work.join("unknown.wasm");
    std::fs::write(&path, module).unwrap();
    let mut inv = fx.probe(&[]);
    inv.program = HookProgram::Wasm(path);
    let err = run_with(&runner(), &inv).await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, RunError::Program { .. }), "{message}");
    assert!(
        message.contains("env::foo") && message.contains("does not provide"),
        "{message}"
    );
}

#[tokio::test]
async fn a_malformed_module_is_refused_with_a_clear_error() {
    let fx = Fixture::new();
    for (name, bytes) in [
        ("text.wasm", b"#!/bin/sh\necho hi\n".to_vec()),
        (
            "truncated.wasm",
            vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x7f],
        ),
        ("empty.wasm", Vec::new()),
    ] {
        let path = fx.work.join(name);
        std::fs::write(&path, bytes).unwrap();
        let mut inv = fx.probe(&[]);
        inv.program = HookProgram::Wasm(path);
        let err = run_with(&runner(), &inv).await.unwrap_err();
        assert!(
            err.to_string().contains("not a valid WebAssembly module")
                || err.to_string().contains("is not a WebAssembly module"),
            "{name}: {err}"
        );
    }
}

#[tokio::test]
async fn a_missing_module_is_a_clear_error() {
    let fx = Fixture::new();
    let mut inv = fx.probe(&[]);
    inv.program = HookProgram::Wasm(fx.work.join("nope.wasm"));
    let err = run_with(&runner(), &inv).await.unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}
