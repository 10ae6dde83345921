//! The shell-to-host bridge: guest exec requests checked against the tenant's policy and run
//! confined on the host.
//!
//! Data enters as the JSON request of `exec_spawn` (see `ABI.md`) and the guest's stdin bytes;
//! it leaves as the command's output (to the hook's output sink or the guest's `exec_read`)
//! and its status. [`exec::ExecHost`] is the one entry point; the rest are its parts:
//! `request` (the JSON), `allow` (the allow list and granted directories), `env` (variables
//! that load code), `confine` (what the kernel enforces in the child); the hook's user comes
//! from `runner::user`, shared with the native runner.

pub(crate) mod allow;
pub mod confine;
pub mod env;
pub mod exec;
pub mod policy;
mod request;

/// Why a bridge call failed. `Display` is the message the guest reads with `last_error`;
/// [`BridgeError::code`] is the ABI's negative code.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// Not on the allow list: the command never ran. `shell`: the developer's `hookbox
    /// shell`, whose fix is a flag, not a file.
    #[error("{}", denied(command, *shell))]
    Denied { command: String, shell: bool },
    /// Allowed, but not found in the policy `PATH`.
    #[error("{command}: command not found")]
    NotFound { command: String },
    /// Malformed request, unknown handle, bad fd, or a stream that is not piped.
    #[error("hookbox: bad bridge request: {0}")]
    BadRequest(String),
    /// The host could not start the command (confinement unavailable, exec error).
    #[error("hookbox: cannot start the command: {0}")]
    SpawnFailed(String),
    /// The hook's deadline passed during the call; every command of the hook was killed.
    #[error("hookbox: the hook's deadline passed")]
    Deadline,
    /// The working directory is outside the granted directories.
    #[error("hookbox: {0}")]
    NotPermitted(String),
    /// Found, but not a program that can start (a directory, no execute bit); bash's 126.
    #[error("{command}: {reason}")]
    CannotExecute { command: String, reason: String },
    /// A path naming nothing; bash's 127 with "No such file or directory".
    #[error("{command}: No such file or directory")]
    NoSuchFile { command: String },
}

fn denied(command: &str, shell: bool) -> String {
    if shell {
        format!(
            "hookbox: {command}: not allowed in this shell (start it with --allow {command}, or \
             --allow-all-commands)"
        )
    } else {
        format!(
            "hookbox: {command}: not allowed by the policy (add \"{command}\" to [policy] allow \
             in hookbox.toml)"
        )
    }
}

impl BridgeError {
    /// The ABI's error code (see `ABI.md`).
    pub fn code(&self) -> i32 {
        match self {
            BridgeError::Denied { .. } => -1,
            BridgeError::NotFound { .. } => -2,
            BridgeError::BadRequest(_) => -3,
            BridgeError::SpawnFailed(_) => -4,
            BridgeError::Deadline => -5,
            BridgeError::NotPermitted(_) => -6,
            BridgeError::CannotExecute { .. } => -7,
            BridgeError::NoSuchFile { .. } => -8,
        }
    }
}
