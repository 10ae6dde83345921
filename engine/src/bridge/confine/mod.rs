//! Confinement of a bridged command: the bridge's grants (policy, granted directories, the
//! program the allow list let start, the hook user) turned into a [`crate::confine::Spec`].
//! What the kernel then enforces is the one confinement of all tenant code, in
//! [`crate::confine`]; nothing about it is decided here.

use std::path::{Path, PathBuf};

use crate::confine::{Prepared, Spec};
pub use crate::confine::{
    DEFAULT_CORE_BYTES, DEFAULT_CPU_GRACE_SECS, DEFAULT_NOFILE, DEFAULT_NPROC, DEVICE_PATHS,
    NETWORK_ETC_PATHS, SYSTEM_ETC_PATHS, SYSTEM_EXEC_PATHS,
};

use super::policy::Policy;
use super::BridgeError;
use crate::runner::user::HookUser;

/// What one command is confined to.
#[derive(Debug, Clone)]
pub(crate) struct ConfineSpec<'a> {
    pub policy: &'a Policy,
    pub work_dir: &'a Path,
    pub temp_dir: &'a Path,
    /// More directories granted read-write (`ExecHost::grant_dir`).
    pub extra_dirs: &'a [PathBuf],
    /// The program the policy let start: readable and executable even outside the system
    /// directories (an allow-list entry like `/opt/tools/bin/migrate`), nothing beside it.
    pub program: &'a Path,
    pub user: Option<HookUser>,
    /// `RLIMIT_DATA`.
    pub memory_bytes: u64,
    /// `RLIMIT_FSIZE`.
    pub file_size_bytes: u64,
    /// `RLIMIT_CPU` soft limit: the hook's remaining wall time, rounded up.
    pub cpu_seconds: u64,
}

impl ConfineSpec<'_> {
    /// Prepares the command's confinement; a bridged command always dies with hookbox.
    pub fn prepare(&self) -> Result<(Prepared, Vec<String>), BridgeError> {
        let extra_read = [self.program.to_path_buf()];
        let spec = Spec {
            network: self.policy.network,
            work_dir: self.work_dir,
            work_access: self.policy.work_dir,
            temp_dir: self.temp_dir,
            extra_dirs: self.extra_dirs,
            extra_read: &extra_read,
            user: self.user.as_ref().map(|u| (u.uid, u.gid)),
            memory_bytes: self.memory_bytes,
            file_size_bytes: self.file_size_bytes,
            cpu_seconds: Some(self.cpu_seconds),
            accept_weak: self.policy.accept_weak_confinement,
            namespaces: true,
            lifeline: true,
        };
        Prepared::new(&spec).map_err(|e| BridgeError::SpawnFailed(e.to_string()))
    }
}
