//! Per-run store state: the WASI context, the memory limiter and the `hookbox` import state.
//!
//! In: an [`Invocation`] and the hook's output capper. Out: a [`HostState`] granting exactly
//! what the invocation grants (work directory, private temporary directory, environment,
//! arguments, stdout/stderr into the capper) and nothing else: no other path, no host
//! environment, no sockets, stdin empty.

use std::path::Path;
use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use super::abi::GuestBridge;
use super::stdio::GuestOutput;
use crate::bridge::policy::DirAccess;
use crate::runner::output::OutputCapper;
use crate::runner::{Invocation, RunError, Stream};

/// Most table elements a guest may have (function tables of large Rust or C programs stay far
/// below). Growth past it fails. Guards host memory: each element is a pointer. 1 Mi elements.
pub const MAX_TABLE_ELEMENTS: usize = 1 << 20;
/// Most memories, tables and instances in one run's store. A hook is one module; 4 leaves
/// room for multi-memory modules without letting a store multiply its limits.
pub const MAX_STORE_ITEMS: usize = 4;

/// Everything one run's store owns.
pub(crate) struct HostState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) bridge: GuestBridge,
    pub(crate) file_limit: super::file_size::FileSizeLimit,
}

/// Enforces the memory limit and remembers that the guest hit it, so the run is reported
/// as [`crate::runner::Exit::MemoryLimit`] rather than a bare trap.
pub(crate) struct MemoryLimiter {
    pub(crate) limit_bytes: u64,
    /// The size the guest asked for when it was refused.
    pub(crate) refused: Option<u64>,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.limit_bytes {
            self.refused = Some(desired as u64);
            // Refused like an allocator failure (memory.grow returns -1): a guest that
            // handles it may go on; most abort, and the run reports the limit.
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        MAX_STORE_ITEMS
    }
    fn tables(&self) -> usize {
        MAX_STORE_ITEMS
    }
    fn memories(&self) -> usize {
        MAX_STORE_ITEMS
    }
}

fn utf8_path<'a>(what: &str, path: &'a Path) -> Result<&'a str, RunError> {
    path.to_str().ok_or_else(|| RunError::Program {
        path: path.to_path_buf(),
        message: format!("the {what} must be a UTF-8 path to be granted to a sandboxed hook"),
    })
}

/// What the guest reads on fd 0. Hooks read nothing (`Empty`, like `/dev/null`); only
/// `hookbox shell` gives its own stdin to the guest.
#[derive(Debug, Clone, Default)]
pub(crate) enum GuestStdin {
    #[default]
    Empty,
    /// These bytes, then end of file.
    Bytes(bytes::Bytes),
    /// The host process's own stdin, and the Ctrl-C typed on it when it is a terminal.
    Inherit(Option<Arc<super::abi::Interrupt>>),
}

/// The WASI context of one run.
pub(crate) fn wasi_context(
    invocation: &Invocation,
    argv: &[String],
    shell: bool,
    capper: &Arc<OutputCapper>,
    stdin: GuestStdin,
) -> Result<WasiP1Ctx, RunError> {
    let mut builder = WasiCtxBuilder::new();
    match stdin {
        GuestStdin::Empty => {}
        GuestStdin::Bytes(bytes) => {
            builder.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(bytes));
        }
        GuestStdin::Inherit(interrupt) => {
            builder.stdin(super::stdio::ExactStdin::new(interrupt));
        }
    }
    builder
        .stdout(GuestOutput::new(Arc::clone(capper), Stream::Stdout))
        .stderr(GuestOutput::new(Arc::clone(capper), Stream::Stderr))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    // Filesystem calls stay on tokio's blocking pool (wasmtime-wasi's default), although
    // running them on the calling thread (`allow_blocking_current_thread`) made a trivial
    // shell hook 201 -> 153 us: a guest opening a FIFO would then block the executor thread
    // itself, and no deadline could stop it (shell_attacks.rs has the FIFO).
    builder.args(argv);
    for (key, value) in &invocation.env {
        if !(shell && key == "PWD") {
            builder.env(key, value);
        }
    }
    // The bundled shell starts in the work directory (WASI has no process cwd), as bash does
    // when it sets PWD itself.
    if shell {
        if let Some(dir) = invocation.work_dir.to_str() {
            builder.env("PWD", dir);
        }
        // Where the shell keeps its own temporary files (and its commands' TMPDIR when the
        // script sets none): /tmp is not granted. The shell drops it from its variables.
        if let Some(dir) = invocation.temp_dir.to_str() {
            builder.env("HOOKBOX_TMPDIR", dir);
        }
    }
    let work_perms = match invocation.policy.work_dir {
        DirAccess::ReadWrite => FsPerms::ReadWrite,
        DirAccess::ReadOnly => FsPerms::ReadOnly,
    };
    let grant_err = |path: &Path, err: wasmtime::Error| RunError::Program {
        path: path.to_path_buf(),
        message: format!("cannot grant this directory to the sandbox: {err:#}"),
    };
    let work = &invocation.work_dir;
    let work_guest = utf8_path("work directory", work)?;
    // At its host path, so paths given to bridged commands mean the same on both sides.
    builder
        .preopened_dir(work, work_guest, work_perms)
        .map_err(|e| grant_err(work, e))?;
    // A plain module also gets it as "." so its relative paths resolve in it. Not the shell:
    // wasi-libc matches *every* absolute path outside the other preopens against ".", so
    // `/tmp/cache` would alias `./tmp/cache` of the project (`rm -f /tmp/cache` deleted it);
    // the shell resolves paths itself and sets wasi-libc's cwd to the work directory.
    if !shell {
        builder
            .preopened_dir(work, ".", work_perms)
            .map_err(|e| grant_err(work, e))?;
    }
    let temp = &invocation.temp_dir;
    let temp_guest = utf8_path("temporary directory", temp)?;
    builder
        .preopened_dir(temp, temp_guest, FsPerms::ReadWrite)
        .map_err(|e| grant_err(temp, e))?;
    for dir in &invocation.shared_dirs {
        let guest = utf8_path("shared directory", dir)?;
        builder
            .preopened_dir(dir, guest, FsPerms::ReadWrite)
            .map_err(|e| grant_err(dir, e))?;
    }
    Ok(builder.build_p1())
}
