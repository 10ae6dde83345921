//! hookbox-sdk: the guest-side API for hooks written in Rust and built for `wasm32-wasip1`.
//!
//! A hook is an ordinary WASI command (`fn main`). This crate adds what the `hookbox` import
//! module (bridge ABI v1, `engine/src/bridge/ABI.md` in the hookbox repository) offers:
//!
//! - [`context()`]: the stage, hook name, arguments and work directory;
//! - [`log`]: structured log lines into hookbox's event stream;
//! - [`Command`]: host commands run through the bridge, checked against the tenant's policy
//!   and confined on the host;
//! - [`HookError`] and [`run`]: errors that become the hook's exit status.
//!
//! ```no_run
//! use hookbox_sdk::{Command, HookError};
//!
//! fn main() {
//!     hookbox_sdk::run(|| {
//!         let ctx = hookbox_sdk::context()?;
//!         hookbox_sdk::log::info(&format!("running {} for {}", ctx.hook, ctx.stage));
//!         let out = Command::new("sqlite3").arg("app.db").arg("select 1;").output()?;
//!         if !out.success() {
//!             return Err(HookError::new(1, "sqlite3 failed"));
//!         }
//!         Ok(())
//!     })
//! }
//! ```
//!
//! On other targets (`cargo test` on the host) the crate compiles; every bridge call fails
//! with [`ErrorKind::NotInSandbox`].

mod command;
mod error;
pub mod log;
mod sys;

use serde::Deserialize;

pub use command::{Command, Output, Stdio};
pub use error::{ErrorKind, HookError};

/// The ABI version this crate speaks.
pub const ABI_VERSION: i32 = 1;

/// What hookbox tells a hook about its run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Context {
    /// ABI version of the host.
    pub abi: i32,
    /// The stage as its convention spells it (`pre-deploy`).
    pub stage: String,
    /// The hook's name (`pre-deploy.wasm`).
    pub hook: String,
    /// The hook's arguments (`$1..`).
    #[serde(default)]
    pub args: Vec<String>,
    /// The work directory, at the same path inside and outside the sandbox.
    pub work_dir: String,
}

/// The ABI version of the host, or an error outside hookbox.
pub fn abi_version() -> Result<i32, HookError> {
    sys::abi_version()
}

/// The hook's context.
pub fn context() -> Result<Context, HookError> {
    sys::abi_version()?;
    let json = sys::read_reply(sys::context)?;
    serde_json::from_slice(&json).map_err(|e| {
        HookError::with_kind(
            ErrorKind::Protocol,
            format!("hookbox sent a context this SDK cannot read: {e}"),
        )
    })
}

/// Runs `body` and exits with its status: 0 on `Ok`, the error's exit code otherwise, after
/// printing the error on stderr. Use it as the whole of `main`.
pub fn run(body: impl FnOnce() -> Result<(), HookError>) -> ! {
    match body() {
        Ok(()) => std::process::exit(0),
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(err.exit_code())
        }
    }
}
