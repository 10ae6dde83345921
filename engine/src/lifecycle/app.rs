//! The deployed application's "start" process: started in the background in its own process
//! group, recorded in `.hookbox/app.json`, stopped by the next deploy, a rollback, or the
//! failure of the deploy that started it.
//!
//! A stale record never kills a stranger: the record keeps the process's start time from
//! `/proc/PID/stat`, and a process whose start time differs is left alone.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::deploy::DeployError;
use super::deploy_cmd::{self, StartCommand, StartGrants};
use super::releases::Layout;
use super::HookIds;

/// Time between SIGTERM and SIGKILL when stopping the application: 5 s.
pub const DEFAULT_APP_STOP_GRACE: Duration = Duration::from_secs(5);

/// What `.hookbox/app.json` records about the running application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRecord {
    /// Process id, also its process group id.
    pub pid: i32,
    /// Start time of the process (clock ticks since boot), to recognise it later.
    pub start_time: Option<u64>,
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

fn proc_start_time(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22, counted after the command name in parentheses (which may contain spaces).
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

/// Starts `bash -c COMMAND` in `work_dir` with exactly `env`, as `user` when given, confined
/// (see [`deploy_cmd::spawn_start`]), output appended to `.hookbox/logs/app.log`.
#[allow(clippy::too_many_arguments)]
pub fn start(
    layout: &Layout,
    release: &str,
    work_dir: &Path,
    command: &str,
    env: &BTreeMap<String, String>,
    home: PathBuf,
    user: Option<HookIds>,
    grants: &StartGrants,
) -> Result<App, DeployError> {
    let log_path = layout.logs.join("app.log");
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| DeployError::io("open", &log_path, e))?;
    let log2 = log
        .try_clone()
        .map_err(|e| DeployError::io("open", &log_path, e))?;
    let child = deploy_cmd::spawn_start(StartCommand {
        work_dir,
        command,
        env,
        home: &home,
        shared: &layout.shared,
        user,
        grants,
        log: (log, log2),
    })?;
    let pid = child.id() as i32;
    let record = AppRecord {
        pid,
        start_time: proc_start_time(pid),
        release: release.to_string(),
        command: command.to_string(),
        home: Some(home),
    };
    let text = serde_json::to_string_pretty(&record).unwrap_or_default();
    fs::write(&layout.app, text).map_err(|e| DeployError::io("write", &layout.app, e))?;
    Ok(App {
        record,
        child: Some(child),
    })
}

impl App {
    /// The exit status if the process has already ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Stops the whole process group and forgets the record.
    pub fn stop(mut self, layout: &Layout) {
        stop_group(&self.record, self.child.as_mut());
        forget(layout, &self.record);
    }
}

fn forget(layout: &Layout, record: &AppRecord) {
    if let Ok(text) = fs::read_to_string(&layout.app) {
        if let Ok(on_disk) = serde_json::from_str::<AppRecord>(&text) {
            if on_disk.pid == record.pid {
                let _ = fs::remove_file(&layout.app);
            }
        }
    }
    if let Some(home) = &record.home {
        let _ = fs::remove_dir_all(home);
    }
}

fn stop_group(record: &AppRecord, mut child: Option<&mut Child>) {
    let pgid = record.pid;
    if pgid <= 1 {
        return;
    }
    // SAFETY: signalling a process group we started (checked by start time below).
    unsafe { libc::kill(-pgid, libc::SIGTERM) };
    let deadline = Instant::now() + DEFAULT_APP_STOP_GRACE;
    while Instant::now() < deadline {
        if let Some(c) = child.as_mut() {
            let _ = c.try_wait();
        }
        if !group_alive(pgid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: as above.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
    if let Some(c) = child {
        let _ = c.wait();
    }
}

/// The recorded application, if one is recorded.
pub fn recorded(layout: &Layout) -> Option<AppRecord> {
    let text = fs::read_to_string(&layout.app).ok()?;
    serde_json::from_str(&text).ok()
}

/// Stops the application recorded in app.json (if it is still the same process) and removes
/// the record. Returns the record.
pub fn stop_recorded(layout: &Layout) -> Option<AppRecord> {
    let record = recorded(layout)?;
    let same = record.start_time.is_some() && proc_start_time(record.pid) == record.start_time;
    if same {
        stop_group(&record, None);
    } else if group_alive(record.pid) {
        tracing::warn!(
            "app.json names pid {} but that is another process now; not stopping it",
            record.pid
        );
    }
    forget(layout, &record);
    Some(record)
}
