//! Background jobs that finished and `wait` has not collected.

/// A finished background job, not yet collected by `wait`.
#[derive(Clone, Debug)]
pub struct Job {
    pub pid: u32,
    pub status: i32,
}
