//! Managing what `deploy` left in a state folder: the releases kept, the deployment's status,
//! and stopping its application (`hookbox releases|status|stop`; `logs` reads
//! [`StateDir::read_log`], `rollback` is [`super::deploy::rollback`]).
//!
//! In: an open [`StateDir`]. Out: serialisable reports. Everything read comes from the state
//! folder (root-owned records and `app.json`), never from a release.

use std::path::PathBuf;

use serde::Serialize;

use super::app::{self, AppRecord};
use super::deploy::DeployError;
use super::releases::StateDir;

/// One kept release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseInfo {
    pub id: String,
    /// Whether `current` points at it.
    pub current: bool,
    pub path: PathBuf,
    /// When its deploy started (RFC 3339), from its record.
    pub deployed_at: Option<String>,
    /// Its deploy's status (`success`, `success-with-warnings`; `deploying` when that deploy
    /// never finished), `None` without a record.
    pub status: Option<String>,
    /// `[deploy] start` as recorded.
    pub start: Option<String>,
}

/// The kept releases, oldest first.
pub fn releases(state: &StateDir) -> Result<Vec<ReleaseInfo>, DeployError> {
    let current = state.current_id();
    let mut out = Vec::new();
    for id in state.list()? {
        let record = state.record(&id)?;
        out.push(ReleaseInfo {
            current: current.as_ref() == Some(&id),
            path: state.release(&id),
            deployed_at: record.as_ref().map(|r| r.deployed_at.clone()),
            status: record.as_ref().map(|r| r.status.clone()),
            start: record.and_then(|r| r.start),
            id,
        });
    }
    Ok(out)
}

/// The application as `app.json` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppStatus {
    pub pid: i32,
    pub release: String,
    pub command: String,
    /// Whether that process still runs (and is the one recorded).
    pub running: bool,
}

impl AppStatus {
    fn of(record: &AppRecord) -> Self {
        AppStatus {
            pid: record.pid,
            release: record.release.clone(),
            command: record.command.clone(),
            running: app::is_running(record),
        }
    }
}

/// The state of one deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeployStatus {
    pub state_dir: PathBuf,
    /// The project last deployed here (from the newest record).
    pub project: Option<PathBuf>,
    pub current: Option<String>,
    pub releases: usize,
    /// The newest release kept.
    pub latest: Option<ReleaseInfo>,
    pub app: Option<AppStatus>,
    pub hooks_log: PathBuf,
}

/// The status of the deployment in `state`.
pub fn status(state: &StateDir) -> Result<DeployStatus, DeployError> {
    let list = releases(state)?;
    let project = match list.last() {
        Some(r) => state.record(&r.id)?.map(|r| r.project),
        None => None,
    };
    Ok(DeployStatus {
        state_dir: state.path().to_path_buf(),
        project,
        current: state.current_id(),
        releases: list.len(),
        latest: list.last().cloned(),
        app: app::recorded(state).as_ref().map(AppStatus::of),
        hooks_log: state.log_path("hooks.log"),
    })
}

/// What `hookbox stop` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stopped {
    /// The application recorded, if one was.
    pub app: Option<AppStatus>,
    /// Whether a running process was stopped (false: there was none, or the recorded pid is
    /// no longer that process and was left alone).
    pub stopped: bool,
}

/// Stops the recorded application of `state` (under the state folder's lock, so no deploy
/// starts one meanwhile), after checking the pid is still the process recorded.
pub fn stop(state: &StateDir) -> Result<Stopped, DeployError> {
    let _lock = state.lock()?;
    let before = app::recorded(state).as_ref().map(AppStatus::of);
    let stopped = before.as_ref().is_some_and(|a| a.running);
    app::stop_recorded(state);
    Ok(Stopped {
        app: before,
        stopped,
    })
}
