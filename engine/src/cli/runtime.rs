//! The async runtime of one CLI command, and how it ends.
//!
//! A guest's filesystem calls run on tokio's blocking pool, so a guest stuck in one (opening
//! a FIFO no one writes, say) is stopped at its deadline while that thread stays blocked in
//! the kernel. Dropping a tokio runtime waits for its blocking threads without limit, which
//! would keep `hookbox` alive after it has reported the time limit; this runtime waits
//! [`SHUTDOWN_GRACE`] for them and then leaves them to the process's exit.

use std::ops::Deref;
use std::time::Duration;

use anyhow::{Context as _, Result};

/// How long ending a command waits for blocking work still running: 1 s.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// A tokio runtime that ends within [`SHUTDOWN_GRACE`] when dropped.
pub struct CliRuntime(Option<tokio::runtime::Runtime>);

impl CliRuntime {
    /// A multi-threaded runtime with this many workers: for commands that run several things
    /// at once.
    pub fn multi_thread(workers: usize) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(CliRuntime(Some(runtime)))
    }

    /// A runtime on the calling thread: for a command that runs one guest (no worker
    /// threads to start; the guest yields at every epoch tick, so signals and deadlines are
    /// still seen).
    pub fn current_thread() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(CliRuntime(Some(runtime)))
    }
}

impl Deref for CliRuntime {
    type Target = tokio::runtime::Runtime;

    fn deref(&self) -> &Self::Target {
        // Always `Some` until `drop` takes it.
        self.0.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for CliRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
        }
    }
}
