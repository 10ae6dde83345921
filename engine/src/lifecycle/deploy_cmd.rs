//! How the `[deploy]` commands start. They are the tenant's code like its hooks, so they run
//! under the same runner and the same confinement:
//!
//! - install, build and health-check run through [`runner`]: the project's runner
//!   ([`crate::plan::Plan::runner`]), as a command-line hook — natively inside
//!   [`crate::confine`], or in the sandbox's bundled shell with its commands going through the
//!   bridge;
//! - `start` (long-running, in the background) runs through [`spawn_start`]: `bash -c` inside
//!   [`crate::confine`] (own PID, mount and network namespaces, a private `/proc`, Landlock,
//!   seccomp, `no_new_privs`, the hook user), with no CPU limit and no lifeline, since it
//!   serves until the next deploy, a rollback or `hookbox stop` — not until hookbox exits. A
//!   sandboxed project's `start` runs there too: a guest lives inside hookbox's process and
//!   could not outlive `hookbox deploy`.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::deploy::DeployError;
use super::{HookIds, Runners};
use crate::bridge::policy::Policy;
use crate::confine::{Prepared, Spec};
use crate::limits::Limits;
use crate::plan::RunnerKind;
use crate::runner::Runner;

/// The runner of a foreground `[deploy]` command: the one a hook of the project's runner kind
/// gets. A sandboxed project without a sandbox runner is an error, never a native run.
pub(super) fn runner<'a>(
    runners: &Runners<'a>,
    kind: RunnerKind,
) -> Result<&'a dyn Runner, String> {
    runners.get(kind).ok_or_else(|| {
        "the project's runner is the sandbox, which is not available here; the command did not run"
            .to_string()
    })
}

/// What the `start` process may use besides its release, HOME and user.
#[derive(Debug, Clone)]
pub struct StartGrants {
    /// Network level, work-directory access, `accept_weak_confinement`.
    pub policy: Policy,
    /// `RLIMIT_DATA` of each of its processes.
    pub memory_bytes: u64,
    /// `RLIMIT_FSIZE` of each of its processes.
    pub file_size_bytes: u64,
}

impl StartGrants {
    pub fn of(policy: &Policy, limits: &Limits) -> Self {
        StartGrants {
            policy: policy.clone(),
            memory_bytes: limits.memory_bytes,
            file_size_bytes: limits.file_size_bytes,
        }
    }
}

/// What [`spawn_start`] starts.
pub(super) struct StartCommand<'a> {
    pub work_dir: &'a Path,
    pub command: &'a str,
    pub env: &'a BTreeMap<String, String>,
    /// Its private HOME (read-write).
    pub home: &'a Path,
    /// The deployment's shared folder (read-write).
    pub shared: &'a Path,
    pub user: Option<HookIds>,
    pub grants: &'a StartGrants,
    /// Where its stdout and stderr go.
    pub log: (File, File),
}

/// Starts `bash -c COMMAND` in the background inside the confinement. The child is the
/// confinement's waiter: its pid is the process group (and session) of everything the command
/// starts, and it ends exactly as the command ends.
pub(super) fn spawn_start(start: StartCommand<'_>) -> Result<Child, DeployError> {
    let bash = Path::new("/bin/bash");
    let extra_dirs = [start.shared.to_path_buf()];
    let extra_read = [PathBuf::from(bash)];
    let spec = Spec {
        network: start.grants.policy.network,
        work_dir: start.work_dir,
        work_access: start.grants.policy.work_dir,
        temp_dir: start.home,
        extra_dirs: if start.shared.is_dir() {
            &extra_dirs
        } else {
            &[]
        },
        extra_read: &extra_read,
        user: start.user.map(|ids| (ids.uid, ids.gid)),
        memory_bytes: start.grants.memory_bytes,
        file_size_bytes: start.grants.file_size_bytes,
        cpu_seconds: None,
        accept_weak: start.grants.policy.accept_weak_confinement,
        namespaces: true,
        lifeline: false,
    };
    let refused = |why: String| DeployError::io("confine", bash, std::io::Error::other(why));
    let (mut prepared, warnings) = Prepared::new(&spec).map_err(|e| refused(e.to_string()))?;
    let (out, err) = start.log;
    let mut cmd = Command::new(bash);
    cmd.arg("-c")
        .arg(start.command)
        .current_dir(start.work_dir)
        .env_clear()
        .envs(start.env)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
    prepared.install(&mut cmd);
    let spawned = cmd.spawn();
    let finished = prepared.finish(spawned.as_ref().err());
    for warning in warnings.iter().chain(&finished.warnings) {
        tracing::warn!("start: weak confinement: {warning}");
    }
    match (spawned, finished.refused) {
        (Ok(child), _) => Ok(child),
        (Err(_), Some(why)) => Err(refused(format!("confinement unavailable: {why}"))),
        (Err(e), None) => Err(DeployError::io("start", bash, e)),
    }
}
