//! The deployed application's "start" process: started in the background in its own process
//! group, recorded in the state folder's `app.json` (root-owned, 0600), stopped by the next
//! deploy, a rollback, `hookbox stop`, or the failure of the deploy that started it.
//!
//! A record never makes hookbox signal a stranger: it lives where no tenant can write, and
//! before signalling, the process must still be the one recorded — same start time (from
//! `/proc/PID/stat`), still leader of its own process group, same real uid. A process that
//! differs in any of these is left alone and the stale record dropped.
//!
//! The command is launched, confined like every tenant command, by
//! [`deploy_cmd::spawn_start`].

use std::collections::BTreeMap;
use std::fs;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::deploy::DeployError;
use super::deploy_cmd::{self, StartCommand, StartGrants};
use super::releases::StateDir;
use super::{safefs, HookIds};

/// Time between SIGTERM and SIGKILL when stopping the application: 5 s.
pub const DEFAULT_APP_STOP_GRACE: Duration = Duration::from_secs(5);

const APP_FILE: &str = "app.json";

/// What `app.json` records about the running application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRecord {
    /// Process id, also its process group id.
    pub pid: i32,
    /// Start time of the process (clock ticks since boot, `/proc/PID/stat` field 22).
    pub start_time: u64,
    /// Real uid of the process, read from `/proc/PID/status` when it started.
    pub uid: u32,
    pub release: String,
    pub command: String,
    /// The process's private HOME, removed when it is stopped.
    pub home: Option<PathBuf>,
}

/// A started application.
#[derive(Debug)]
pub struct App {
    pub record: AppRecord,
    child: Option<Child>,
}

/// What `/proc/PID` says about a process: (start time, process group, real uid).
fn proc_identity(pid: i32) -> Option<(u64, i32, u32)> {
    if pid <= 1 {
        return None;
    }
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name in parentheses (which may contain spaces): state is
    // field 3, pgrp field 5, starttime field 22.
    let after: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    if after.first() == Some(&"Z") {
        return None;
    }
    let pgrp = after.get(2)?.parse().ok()?;
    let start = after.get(19)?.parse().ok()?;
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((start, pgrp, uid))
}

/// Whether the process `record` names is still that process (see the module doc).
pub fn is_running(record: &AppRecord) -> bool {
    proc_identity(record.pid) == Some((record.start_time, record.pid, record.uid))
}

/// Starts the application of `release` and records it in `app.json`; output is appended to
/// the state folder's `logs/app.log`.
#[allow(clippy::too_many_arguments)]
pub fn start(
    state: &StateDir,
    release: &str,
    work_dir: &Path,
    command: &str,
    env: &BTreeMap<String, String>,
    home: PathBuf,
    user: Option<HookIds>,
    grants: &StartGrants,
) -> Result<App, DeployError> {
    let log_path = state.log_path("app.log");
    let log = state.open_log("app.log")?;
    let log2 = log
        .try_clone()
        .map_err(|e| DeployError::io("open", &log_path, e))?;
    let mut child = deploy_cmd::spawn_start(StartCommand {
        work_dir,
        command,
        env,
        home: &home,
        shared: &state.shared(),
        user,
        grants,
        log: (log, log2),
    })?;
    let pid = child.id() as i32;
    let Some((start_time, _, uid)) = proc_identity(pid) else {
        // Already gone: the health check reports its exit status.
        let record = AppRecord {
            pid,
            start_time: 0,
            uid: user.map(|u| u.uid).unwrap_or(u32::MAX),
            release: release.to_string(),
            command: command.to_string(),
            home: Some(home),
        };
        let _ = child.try_wait();
        return Ok(App {
            record,
            child: Some(child),
        });
    };
    let record = AppRecord {
        pid,
        start_time,
        uid,
        release: release.to_string(),
        command: command.to_string(),
        home: Some(home),
    };
    if let Err(e) = write(state, &record) {
        stop_group(&record, Some(&mut child));
        return Err(e);
    }
    Ok(App {
        record,
        child: Some(child),
    })
}

fn write(state: &StateDir, record: &AppRecord) -> Result<(), DeployError> {
    let path = state.path().join(APP_FILE);
    let text = serde_json::to_vec_pretty(record)
        .map_err(|e| DeployError::io("write", &path, std::io::Error::other(e)))?;
    safefs::write_file_atomic(state.fd(), APP_FILE, &text, 0o600)
        .map_err(|e| DeployError::io("write", &path, e))
}

impl App {
    /// The exit status if the process has already ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Stops the whole process group and forgets the record.
    pub fn stop(mut self, state: &StateDir) {
        stop_group(&self.record, self.child.as_mut());
        forget(state, &self.record);
    }
}

fn forget(state: &StateDir, record: &AppRecord) {
    if recorded(state).is_some_and(|r| r.pid == record.pid) {
        let _ = safefs::remove_file_at(state.fd(), APP_FILE);
    }
    remove_home(record);
}

/// Removes the application's private HOME (walking handles: its owner is the hook user).
fn remove_home(record: &AppRecord) {
    let Some(home) = &record.home else { return };
    let (Some(parent), Some(name)) = (home.parent(), home.file_name().and_then(|n| n.to_str()))
    else {
        return;
    };
    if let Ok(fd) = safefs::open_dir_path(parent) {
        let _ = safefs::remove_tree_at(fd.as_fd(), name);
    }
}

/// Signals the process group of `record` — only while it is still the recorded process.
fn stop_group(record: &AppRecord, mut child: Option<&mut Child>) {
    let pgid = record.pid;
    if !is_running(record) {
        if let Some(c) = child {
            let _ = c.try_wait();
        }
        return;
    }
    // SAFETY: kill(2) on a process group verified above to be the one we started.
    unsafe { libc::kill(-pgid, libc::SIGTERM) };
    let deadline = Instant::now() + DEFAULT_APP_STOP_GRACE;
    while Instant::now() < deadline {
        if let Some(c) = child.as_mut() {
            let _ = c.try_wait();
        }
        // SAFETY: signal 0 only checks whether the group still has members.
        if unsafe { libc::kill(-pgid, 0) } != 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // The leader may be gone with members left: a group id is not reused while any member
    // lives, so the group is still ours.
    // SAFETY: as above.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
    if let Some(c) = child {
        let _ = c.wait();
    }
}

/// The recorded application, if one is recorded (and the record is readable).
pub fn recorded(state: &StateDir) -> Option<AppRecord> {
    let data = safefs::read_file_at(state.fd(), APP_FILE).ok()??;
    serde_json::from_slice(&data).ok()
}

/// Stops the application recorded in `app.json` (when it is still the recorded process) and
/// removes the record. Returns the record.
pub fn stop_recorded(state: &StateDir) -> Option<AppRecord> {
    let record = recorded(state)?;
    if is_running(&record) {
        stop_group(&record, None);
    } else {
        tracing::info!(
            "app.json names pid {}, which is no longer the recorded process; not signalling it",
            record.pid
        );
    }
    forget(state, &record);
    Some(record)
}
