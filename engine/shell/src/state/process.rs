//! What a shell is as a process: its ids, clock, random state, umask and limits.

/// The process side of a shell (a subshell's copy changes `subshell`).
#[derive(Clone, Debug)]
pub struct Process {
    pub pid: u32,
    pub subshell: u32,
    pub start: std::time::Instant,
    pub seconds_base: i64,
    pub rng: u32,
    /// `umask`'s mask (kept, not applied: see builtins/umask.rs).
    pub umask: u32,
    /// `ulimit` values this shell has set: option letter -> (soft, hard), None = unlimited.
    pub limits: std::collections::BTreeMap<char, (Option<u64>, Option<u64>)>,
    /// The temporary directory for the shell's own files and its commands' `TMPDIR` when the
    /// script sets none: the sandbox's private one (the host passes `HOOKBOX_TMPDIR`, which
    /// never becomes a shell variable). `None`: /tmp, as bash.
    pub temp_dir: Option<String>,
}

impl Process {
    pub fn new(pid: u32) -> Self {
        Process {
            pid,
            subshell: 0,
            start: std::time::Instant::now(),
            seconds_base: 0,
            rng: pid.wrapping_mul(2654435761) ^ 0x5eed,
            umask: super::DEFAULT_UMASK,
            limits: Default::default(),
            temp_dir: None,
        }
    }
}
