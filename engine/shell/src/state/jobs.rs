//! Background jobs that finished and `wait` has not collected.

/// A finished background job, not yet collected by `wait`.
#[derive(Clone, Debug)]
pub struct Job {
    pub pid: u32,
    pub status: i32,
}

/// The background jobs of a shell.
#[derive(Clone, Debug, Default)]
pub struct Jobs {
    /// Finished, and not yet collected by `wait`.
    pub finished: Vec<Job>,
    /// How many were started (the next job number).
    pub started: u32,
    /// `$!`: the last one started.
    pub last_pid: Option<u32>,
}
