//! The sandbox runner: hooks as WASI preview 1 modules under wasmtime.
//!
//! In: an [`Invocation`] whose program is a `.wasm` module. Out: a [`RunReport`] with the
//! guest's exit, the instructions it used (consumed fuel, always metered) and whether its
//! output was cut; output lines go to the [`OutputSink`] as they come.
//!
//! One [`SandboxRunner`] serves any number of concurrent runs (it is `Send + Sync`; share it
//! with `Arc`). It owns one wasmtime engine with its epoch ticker, the linker (WASI preview 1
//! and the `hookbox` import module), the on-disk compiled-module cache and, in memory, the
//! modules ready to instantiate. Each run gets its own store with its own limits:
//!
//! - fuel: the tenant's budget, or an unreachable one when unlimited; running out is
//!   [`Exit::FuelExhausted`];
//! - wall clock: the run's future is dropped at the deadline (guests yield at every epoch
//!   tick, and host calls are async), so time blocked in the bridge counts too;
//!   [`Exit::TimedOut`];
//! - memory: a store limiter refuses growth past the limit; [`Exit::MemoryLimit`];
//! - output: the capper keeps the first `output_cap_bytes` and drops the rest with a marker.
//!
//! ```no_run
//! # async fn demo(invocation: hookbox::runner::Invocation,
//! #               sink: std::sync::Arc<dyn hookbox::runner::OutputSink>) -> Result<(), Box<dyn std::error::Error>> {
//! use hookbox::runner::{Runner, sandbox::{SandboxConfig, SandboxRunner}};
//! let runner = std::sync::Arc::new(SandboxRunner::new(SandboxConfig::default())?);
//! let (_cancel, cancelled) = tokio::sync::watch::channel(false);
//! let report = runner.run(&invocation, sink, cancelled).await?;
//! println!("{:?}, {:?} instructions", report.exit, report.instructions);
//! # Ok(()) }
//! ```

mod abi;
mod cache;
mod engine;
mod exec_link;
mod shell;
mod stdio;
mod store;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use wasmtime::{InstancePre, Linker, Store, Trap};
use wasmtime_wasi::I32Exit;

pub use cache::{CacheOutcome, ModuleCache};
pub use engine::{SandboxEngine, DEFAULT_EPOCH_TICK};
pub use shell::{embed_script, embedded_script, ShellInput, SCRIPT_SECTION};
pub use store::{MAX_STORE_ITEMS, MAX_TABLE_ELEMENTS};

use crate::plan::HookProgram;
use crate::runner::output::OutputCapper;
use crate::runner::{Exit, Invocation, OutputSink, RunError, RunFuture, RunReport, Runner, Stream};
use crate::shell_module::SHELL_WASM;
use store::{GuestStdin, HostState, MemoryLimiter};

/// Fuel given to a run without a budget: metered, never reached in practice (at a few
/// billion instructions a second it lasts decades).
pub const UNLIMITED_FUEL: u64 = i64::MAX as u64;
/// Modules kept compiled and linked in memory for repeated runs. 64.
pub const DEFAULT_READY_MODULES: usize = 64;

/// Settings of a [`SandboxRunner`].
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Directory of the on-disk compiled-module cache. Default `None`: compile in memory
    /// only. The directory must not be writable by hooks (see SECURITY.md).
    pub cache_dir: Option<PathBuf>,
    /// How many compiled modules are kept ready to instantiate. Default
    /// [`DEFAULT_READY_MODULES`]; past it the oldest is dropped (and recompiled or loaded
    /// from the disk cache when it runs again).
    pub ready_modules: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            cache_dir: None,
            ready_modules: DEFAULT_READY_MODULES,
        }
    }
}

/// Identity of a module file for the in-memory table: path plus what changes when the file
/// is rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FileKey {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

struct Ready {
    pre: InstancePre<HostState>,
    used: u64,
}

/// Runs `.wasm` hooks in the sandbox. See the module docs.
pub struct SandboxRunner {
    engine: SandboxEngine,
    linker: Linker<HostState>,
    cache: ModuleCache,
    ready_modules: usize,
    // A tokio mutex: a miss compiles while holding it, so concurrent runs of one new module
    // compile it once and the others wait for it.
    ready: tokio::sync::Mutex<(u64, HashMap<FileKey, Ready>)>,
}

impl std::fmt::Debug for SandboxRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxRunner")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// What a run instantiates: a module file, or the bundled shell.
#[derive(Clone, Copy)]
enum Source<'a> {
    File(&'a Path),
    Shell,
}

impl Source<'_> {
    /// The path errors name.
    fn path(&self) -> PathBuf {
        match self {
            Source::File(path) => path.to_path_buf(),
            Source::Shell => PathBuf::from("<bundled shell>"),
        }
    }
}

enum Ended {
    Returned(wasmtime::Result<wasmtime::Result<()>>),
    TimedOut,
    Cancelled,
}

impl SandboxRunner {
    /// A runner with its own engine and ticker.
    pub fn new(config: SandboxConfig) -> Result<Self, RunError> {
        let engine = SandboxEngine::new().map_err(|e| RunError::Other(format!("{e:#}")))?;
        let mut linker = Linker::new(engine.wasmtime());
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s: &mut HostState| &mut s.wasi)
            .and_then(|()| abi::shadow_proc_exit(&mut linker))
            .and_then(|()| abi::add_to_linker(&mut linker))
            .map_err(|e| RunError::Other(format!("linking the sandbox imports: {e:#}")))?;
        let cache = ModuleCache::new(engine.wasmtime(), config.cache_dir);
        Ok(SandboxRunner {
            engine,
            linker,
            cache,
            ready_modules: config.ready_modules.max(1),
            ready: tokio::sync::Mutex::new((0, HashMap::new())),
        })
    }

    /// The engine (for embedders that want to share it or inspect it).
    pub fn engine(&self) -> &SandboxEngine {
        &self.engine
    }

    /// The on-disk module cache.
    pub fn cache(&self) -> &ModuleCache {
        &self.cache
    }

    /// Compiles (or loads from the cache) and links a module without running it: the check
    /// `validate` and `compile` want. Errors say what is wrong with the module.
    pub async fn prepare(&self, path: &Path) -> Result<CacheOutcome, RunError> {
        self.instance_pre(Source::File(path))
            .await
            .map(|(_, outcome)| outcome)
    }

    /// Compiles (or loads from the cache) the bundled shell, so the first shell hook does
    /// not pay for it.
    pub async fn prepare_shell(&self) -> Result<CacheOutcome, RunError> {
        self.instance_pre(Source::Shell)
            .await
            .map(|(_, outcome)| outcome)
    }

    async fn instance_pre(
        &self,
        source: Source<'_>,
    ) -> Result<(InstancePre<HostState>, CacheOutcome), RunError> {
        let path = source.path();
        let program_err = |message: String| RunError::Program {
            path: path.clone(),
            message,
        };
        let key = match source {
            Source::File(file) => {
                let meta = tokio::fs::metadata(file)
                    .await
                    .map_err(|e| program_err(format!("cannot read the module: {e}")))?;
                FileKey {
                    path: file.to_path_buf(),
                    len: meta.len(),
                    modified: meta.modified().ok(),
                }
            }
            Source::Shell => FileKey {
                path: path.clone(),
                len: SHELL_WASM.len() as u64,
                modified: None,
            },
        };
        let mut guard = self.ready.lock().await;
        let (clock, table) = &mut *guard;
        *clock += 1;
        if let Some(ready) = table.get_mut(&key) {
            ready.used = *clock;
            return Ok((ready.pre.clone(), CacheOutcome::Hit));
        }
        let wasm = match source {
            Source::File(file) => tokio::fs::read(file)
                .await
                .map_err(|e| program_err(format!("cannot read the module: {e}")))?,
            Source::Shell => SHELL_WASM.to_vec(),
        };
        // Compiling is CPU-bound (seconds for a large module): off the async workers.
        let (engine, cache) = (self.engine.wasmtime().clone(), self.cache.clone());
        let (module, outcome) = tokio::task::spawn_blocking(move || cache.load(&engine, &wasm))
            .await
            .map_err(|e| program_err(format!("compiling the module: {e}")))?
            .map_err(|e| program_err(format!("not a valid WebAssembly module: {e:#}")))?;
        for import in module.imports() {
            let known =
                import.module() == abi::MODULE || import.module() == "wasi_snapshot_preview1";
            if !known {
                return Err(program_err(format!(
                    "the module imports `{}::{}`, which the sandbox does not provide (it \
                     provides `wasi_snapshot_preview1` and `hookbox`)",
                    import.module(),
                    import.name()
                )));
            }
        }
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| program_err(format!("cannot link the module: {e:#}")))?;
        if table.len() >= self.ready_modules {
            if let Some(oldest) = table
                .iter()
                .min_by_key(|(_, r)| r.used)
                .map(|(k, _)| k.clone())
            {
                table.remove(&oldest);
            }
        }
        table.insert(
            key,
            Ready {
                pre: pre.clone(),
                used: *clock,
            },
        );
        Ok((pre, outcome))
    }

    /// Runs the bundled shell (`engine/shell`) with exactly `argv` (`argv[0]` included: `bash
    /// -c CMD NAME ARGS`, `bash FILE ARGS`) under the invocation's grants and limits; the
    /// invocation's `program` and `args` are not used. For `hookbox shell`.
    pub async fn run_shell(
        &self,
        invocation: &Invocation,
        argv: Vec<String>,
        output: Arc<dyn OutputSink>,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> Result<RunReport, RunError> {
        self.run_module(
            invocation,
            Source::Shell,
            argv,
            GuestStdin::Empty,
            output,
            cancel,
        )
        .await
    }

    async fn run_module(
        &self,
        invocation: &Invocation,
        source: Source<'_>,
        argv: Vec<String>,
        stdin: GuestStdin,
        output: Arc<dyn OutputSink>,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> Result<RunReport, RunError> {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + invocation.limits.timeout;
        let path = source.path();
        let (pre, _) = self.instance_pre(source).await?;
        let stdin_inherited = matches!(stdin, GuestStdin::Inherit);
        let capper = Arc::new(OutputCapper::new(
            Arc::clone(&output),
            invocation.limits.output_cap_bytes,
        ));
        let wasi = store::wasi_context(
            invocation,
            &argv,
            matches!(source, Source::Shell),
            &capper,
            stdin,
        )?;
        let mut exec = exec_link::ExecState::new(invocation, deadline, &capper);
        if stdin_inherited {
            exec.inherit_stdin();
        }
        let bridge = abi::GuestBridge::new(invocation, Arc::clone(&capper), exec);
        let mut store = Store::new(
            self.engine.wasmtime(),
            HostState {
                wasi,
                limiter: MemoryLimiter {
                    limit_bytes: invocation.limits.memory_bytes,
                    refused: None,
                },
                bridge,
            },
        );
        store.limiter(|state| &mut state.limiter);
        let budget = invocation.limits.fuel.unwrap_or(UNLIMITED_FUEL);
        store
            .set_fuel(budget)
            .map_err(|e| RunError::Other(format!("{e:#}")))?;
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);

        let ended = {
            // Outer error: the module could not be started (instantiation, no `_start`);
            // inner: how the guest's run ended.
            let run = async {
                let instance = pre.instantiate_async(&mut store).await?;
                let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
                Ok::<_, wasmtime::Error>(start.call_async(&mut store, ()).await)
            };
            tokio::select! {
                biased;
                () = cancelled(cancel) => Ended::Cancelled,
                result = tokio::time::timeout_at(deadline, run) => match result {
                    Ok(returned) => Ended::Returned(returned),
                    Err(_) => Ended::TimedOut,
                },
            }
        };
        let remaining = store.get_fuel().unwrap_or(0);
        store.data_mut().bridge.exec.shutdown().await;
        let refused = store.data().limiter.refused;
        let exit = match ended {
            Ended::Returned(Ok(Ok(()))) => Exit::Code(0),
            Ended::Returned(Ok(Err(err))) => classify(&err, refused, invocation, &output),
            Ended::Returned(Err(err)) => match refused {
                Some(_) => classify(&err, refused, invocation, &output),
                None => {
                    return Err(RunError::Program {
                        path,
                        message: format!("cannot start the module: {err:#}"),
                    })
                }
            },
            Ended::TimedOut => Exit::TimedOut,
            Ended::Cancelled => Exit::Cancelled,
        };
        capper.finish();
        Ok(RunReport {
            exit,
            duration: started.elapsed(),
            instructions: Some(budget.saturating_sub(remaining)),
            output_truncated: capper.truncated(),
        })
    }
}

/// Turns the error a guest run ended with into its exit. A guest's own `proc_exit` is its
/// status; a trap is reported as its cause (fuel, memory) or, for any other trap or host
/// error, like a native process that aborted (SIGABRT) with the message on stderr.
fn classify(
    err: &wasmtime::Error,
    refused: Option<u64>,
    invocation: &Invocation,
    output: &Arc<dyn OutputSink>,
) -> Exit {
    if let Some(exit) = err.downcast_ref::<I32Exit>() {
        return Exit::Code(exit.0);
    }
    if let Some(Trap::OutOfFuel) = err.downcast_ref::<Trap>() {
        return Exit::FuelExhausted;
    }
    if let Some(asked) = refused {
        let line = format!(
            "hookbox: memory limit reached: the hook asked for {asked} bytes of memory, the \
             limit is {} bytes",
            invocation.limits.memory_bytes
        );
        output.line(Stream::Stderr, line.as_bytes());
        return Exit::MemoryLimit;
    }
    let line = format!("hookbox: the hook trapped: {err:#}").replace('\n', " ");
    output.line(Stream::Stderr, line.as_bytes());
    Exit::Signal(libc::SIGABRT)
}

/// Resolves when the caller asks for the run to stop; never if the sender is gone.
async fn cancelled(mut cancel: tokio::sync::watch::Receiver<bool>) {
    if cancel.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Runner for SandboxRunner {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
        output: Arc<dyn OutputSink>,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> RunFuture<'a> {
        Box::pin(async move {
            match &invocation.program {
                HookProgram::Wasm(path) => {
                    self.run_wasm_or_compiled(invocation, path, output, cancel)
                        .await
                }
                HookProgram::Script(_) | HookProgram::Command(_) => {
                    self.run_shell_hook(invocation, output, cancel).await
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Platforms share one runner between threads and tenants.
    #[test]
    fn the_runner_is_send_and_sync() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<SandboxRunner>();
        shared::<Arc<dyn Runner>>();
    }

    #[test]
    fn the_engine_stops_its_ticker_when_dropped() {
        let engine = SandboxEngine::with_tick(std::time::Duration::from_millis(1)).unwrap();
        drop(engine);
    }
}
