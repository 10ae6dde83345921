//! Every resource limit a hook runs under, each a named field with one documented default.
//!
//! The same values apply to both runners; where a limit only makes sense in one runner
//! (fuel), its doc says so.

use std::time::Duration;

/// Default wall-clock limit of one hook: 300 s (the seeds' five minutes).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Default output cap per hook: 10 MiB of stdout and stderr together.
pub const DEFAULT_OUTPUT_CAP_BYTES: u64 = 10 * 1024 * 1024;
/// Default memory limit of a sandboxed hook (linear memory) and of a bridged command
/// (`RLIMIT_DATA`): 256 MiB.
pub const DEFAULT_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
/// Default time between SIGTERM and SIGKILL when a native hook's deadline passes: 5 s.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(5);

/// The limits one hook runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock deadline. Default [`DEFAULT_TIMEOUT`]. Exceeding it stops the hook (its
    /// whole process group, or its guest) and counts as a failure under the hook's own
    /// failure rule, reported as a timeout. Guards against hooks that hang a deploy.
    pub timeout: Duration,
    /// Bytes of output kept per hook. Default [`DEFAULT_OUTPUT_CAP_BYTES`]. Past it output is
    /// dropped with one marker line; the hook is not failed for it. Guards the log and the
    /// host's memory against a flood.
    pub output_cap_bytes: u64,
    /// Sandbox only: instruction budget. Default `None` (metered and reported, not limited), so
    /// ordinary hooks behave the same in both runners. Running out is `FuelExhausted`, a failure
    /// under the hook's rule. Guards a shared host against CPU-bound guests.
    pub fuel: Option<u64>,
    /// Linear memory of a sandboxed hook and `RLIMIT_DATA` of a bridged command. Default
    /// [`DEFAULT_MEMORY_BYTES`]. A grow past it fails the hook with a clear message.
    pub memory_bytes: u64,
    /// Native runner: time between SIGTERM and SIGKILL at the deadline. Default
    /// [`DEFAULT_KILL_GRACE`].
    pub kill_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: DEFAULT_TIMEOUT,
            output_cap_bytes: DEFAULT_OUTPUT_CAP_BYTES,
            fuel: None,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            kill_grace: DEFAULT_KILL_GRACE,
        }
    }
}
