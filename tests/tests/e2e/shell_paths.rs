//! Absolute paths outside the grants never alias into the project. wasi-libc resolves every
//! absolute path that matches no other preopen in a `.` preopen, so when the work directory was
//! also granted as `.`, `/tmp/cache` meant `./tmp/cache` of the project: `rm -f /tmp/cache`
//! deleted the project's own file, `echo hi > /new.txt` made `./new.txt`, and
//! `mkdir -p "$PWD/releases/1"` made `./tmp/...` too. Each test plants the project file an
//! alias would reach and checks it is untouched, through `hookbox shell` and a sandboxed hook.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hookbox::bridge::policy::Policy;
use hookbox::limits::Limits;
use hookbox::plan::HookProgram;
use hookbox::runner::{Exit, Invocation};

use super::shell_fuzz::{run_hookbox, Arena, Outcome};

const WALL: Duration = Duration::from_secs(120);

fn sh(work: &Path, script: &str) -> Outcome {
    let o = run_hookbox(
        work,
        &[OsStr::new("shell")],
        &[],
        &[OsStr::new("-c"), OsStr::new(script)],
        &[],
        WALL,
    );
    assert!(!o.killed, "hookbox overran {WALL:?}: {}", o.err());
    o
}

/// Where an alias of the absolute `path` would land: the same path beneath `work`.
fn alias(work: &Path, path: &Path) -> PathBuf {
    work.join(path.strip_prefix("/").unwrap())
}

#[test]
fn rm_of_an_absolute_path_outside_the_grants_leaves_the_projects_mirror_alone() {
    let arena = Arena::new();
    let outside = arena.base.path().join("cache");
    std::fs::write(&outside, "host file").unwrap();
    let mirror = alias(&arena.work, &outside);
    std::fs::create_dir_all(mirror.parent().unwrap()).unwrap();
    std::fs::write(&mirror, "project file").unwrap();
    let o = sh(
        &arena.work,
        &format!("rm -f '{}'; echo rc=$?", outside.display()),
    );
    assert_eq!(o.status, Some(0), "{}", o.err());
    assert_eq!(std::fs::read_to_string(&mirror).unwrap(), "project file");
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "host file");
    // Without -f, rm says the path is not there, as bash's rm says of a missing one.
    let o = sh(&arena.work, &format!("rm '{}'", outside.display()));
    assert_eq!(o.status, Some(1));
    assert!(o.err().contains("No such file or directory"), "{}", o.err());
    assert!(mirror.exists() && outside.exists());
}

#[test]
fn writing_an_absolute_path_outside_the_grants_fails_and_creates_nothing() {
    let arena = Arena::new();
    let o = sh(&arena.work, "echo hi > /new.txt; echo rc=$?");
    assert_eq!(o.out(), "rc=1\n");
    assert!(
        o.err().contains("/new.txt: No such file or directory"),
        "{}",
        o.err()
    );
    assert!(
        !arena.work.join("new.txt").exists(),
        "aliased into the project"
    );
    assert!(!Path::new("/new.txt").exists());
    // Reading and listing outside fail too; the project's mirror of the path is not read.
    let mirror = alias(&arena.work, Path::new("/etc/hostname"));
    std::fs::create_dir_all(mirror.parent().unwrap()).unwrap();
    std::fs::write(&mirror, "MIRROR\n").unwrap();
    let o = sh(&arena.work, "cat /etc/hostname; echo rc=$?");
    assert_eq!(o.out(), "rc=1\n", "{}", o.err());
    // A positive control: the same write inside the work directory, by absolute path.
    let o = sh(
        &arena.work,
        "echo hi > \"$PWD/new.txt\"; cat \"$PWD/new.txt\"",
    );
    assert_eq!(o.out(), "hi\n", "{}", o.err());
}

#[test]
fn mkdir_p_of_a_path_inside_the_work_dir_creates_no_alias() {
    let arena = Arena::new();
    let work = arena.work.canonicalize().unwrap();
    let o = sh(&work, "mkdir -p \"$PWD/releases/1\" && echo made");
    assert_eq!(o.out(), "made\n", "{}", o.err());
    assert!(work.join("releases/1").is_dir());
    // The first component of the work directory's own path, made inside it, is the alias.
    let first = work.components().nth(1).unwrap();
    let entries: Vec<_> = std::fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        entries,
        vec![std::ffi::OsString::from("releases")],
        "{first:?}"
    );
    // Outside the grants, mkdir -p fails and makes nothing anywhere.
    let target = arena.base.path().join("elsewhere/x");
    let o = sh(&work, &format!("mkdir -p '{}'", target.display()));
    assert_eq!(o.status, Some(1), "{}", o.out());
    assert!(!target.exists());
    assert!(!alias(&work, &target).exists());
}

#[tokio::test]
async fn a_sandboxed_hook_cannot_reach_the_project_through_an_absolute_path() {
    let arena = Arena::new();
    let work = arena.work.canonicalize().unwrap();
    let temp = arena.base.path().canonicalize().unwrap().join("tmp");
    std::fs::create_dir(&temp).unwrap();
    let mirror = alias(&work, Path::new("/var/cache/app"));
    std::fs::create_dir_all(mirror.parent().unwrap()).unwrap();
    std::fs::write(&mirror, "project file").unwrap();
    let script = work.join("hook.sh");
    std::fs::write(
        &script,
        "rm -f /var/cache/app\necho x > /var/cache/other || echo refused\nls /var/cache/app || echo gone\n",
    )
    .unwrap();
    let invocation = Invocation {
        hook_name: "hook.sh".into(),
        stage: "pre-deploy".into(),
        program: HookProgram::Script(script),
        args: Vec::new(),
        env: BTreeMap::from([("PATH".to_string(), "/usr/bin:/bin".to_string())]),
        work_dir: work.clone(),
        temp_dir: temp,
        shared_dirs: Vec::new(),
        limits: Limits::default(),
        policy: Policy::default(),
    };
    let (report, out) = super::sandbox::run(&invocation).await;
    assert_eq!(report.exit, Exit::Code(0), "{}", out.stderr());
    assert_eq!(out.stdout(), "refused\ngone\n", "{}", out.stderr());
    assert_eq!(std::fs::read_to_string(&mirror).unwrap(), "project file");
    assert!(!alias(&work, Path::new("/var/cache/other")).exists());
}
