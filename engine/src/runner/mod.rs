//! Runners: turn one [`Invocation`] into a [`RunReport`].
//!
//! Two implementations share these semantics exactly: `native` (tokio processes in their own
//! process group) and `sandbox` (wasmtime + WASI). The lifecycle never asks which one it has.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::bridge::policy::Policy;
use crate::limits::Limits;
use crate::plan::HookProgram;

pub mod native;
pub mod output;
pub mod sandbox;
pub mod user;

/// Everything a runner needs to run one hook. The environment is complete: the runner adds
/// nothing of the host's.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Name logged for the hook (`pre-deploy.sh`).
    pub hook_name: String,
    /// Stage as its convention spells it (`pre-deploy`).
    pub stage: String,
    /// What to execute.
    pub program: HookProgram,
    /// `$1..` of the hook.
    pub args: Vec<String>,
    /// The hook's whole environment (application + platform variables, policy PATH, HOME).
    pub env: BTreeMap<String, String>,
    /// Working directory: the project or release directory.
    pub work_dir: PathBuf,
    /// The run's private temporary directory (also `HOME`); created and removed by the caller.
    pub temp_dir: PathBuf,
    /// More directories the hook may read and write besides the work and temporary ones (a
    /// deploy's persistent `shared/` folder). Default: none. The sandbox preopens each at its
    /// host path and the bridge grants it to bridged commands; native hooks reach it anyway.
    pub shared_dirs: Vec<PathBuf>,
    /// Limits for this run.
    pub limits: Limits,
    /// The tenant's policy (work dir access, bridged commands, network, user).
    pub policy: Policy,
}

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Receives a hook's output line by line, as it comes. Implemented by `events`, which
/// redacts, prefixes and logs. Lines come without their trailing newline.
pub trait OutputSink: Send + Sync {
    /// One line of output (a final line without newline is delivered too).
    fn line(&self, stream: Stream, line: &[u8]);
    /// The output cap was reached; further output is dropped.
    fn truncated(&self, cap_bytes: u64);
    /// Output exactly as written, partial lines included, for sinks that are a terminal
    /// rather than a log (`hookbox shell`). Return `true` when handled: `line` is then not
    /// called for these bytes. The default (every hook sink) handles nothing. Only the
    /// sandbox runner offers raw bytes.
    fn raw(&self, _stream: Stream, _bytes: &[u8]) -> bool {
        false
    }
    /// Where hookbox may cut a line it must deliver in pieces (longer than
    /// [`output::LINE_CHUNK_BYTES`], or cut by the output cap): at most `at`, and `0` for
    /// nowhere. A redacting sink moves the cut before any secret that would straddle it
    /// (`bytes` may continue past its end), so each piece is redacted whole. The default
    /// cuts at `at`.
    fn cut_point(&self, _bytes: &[u8], at: usize) -> usize {
        at
    }
}

/// How a hook ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum Exit {
    /// Exited with this status (0 is success).
    Code(i32),
    /// Killed by this signal (native), reported as 128+N where a status is needed.
    Signal(i32),
    /// Stopped at its deadline.
    TimedOut,
    /// Sandbox: ran out of fuel.
    FuelExhausted,
    /// Sandbox: tried to grow memory past its limit.
    MemoryLimit,
    /// Stopped because the caller cancelled the run (Ctrl-C during a deploy).
    Cancelled,
}

impl Exit {
    /// Whether the hook succeeded.
    pub fn success(&self) -> bool {
        matches!(self, Exit::Code(0))
    }
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    pub exit: Exit,
    pub duration: Duration,
    /// Sandbox: instructions used (fuel consumed). `None` for native runs.
    pub instructions: Option<u64>,
    /// Whether output passed the cap and was cut.
    pub output_truncated: bool,
}

/// Why a runner could not run a hook at all (as opposed to the hook failing).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{path}: {message}")]
    Program { path: PathBuf, message: String },
    #[error("the sandbox runner cannot run {what}: {why}")]
    Unsupported { what: String, why: String },
    #[error("confinement unavailable: {0}")]
    Confinement(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// A boxed future, so runners can be trait objects.
pub type RunFuture<'a> = Pin<Box<dyn Future<Output = Result<RunReport, RunError>> + Send + 'a>>;

/// Runs one hook. `cancel` resolves when the caller wants the hook stopped (Ctrl-C).
pub trait Runner: Send + Sync {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
        output: Arc<dyn OutputSink>,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> RunFuture<'a>;
}
