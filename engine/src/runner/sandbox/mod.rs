//! The sandbox runner: hooks as WASI preview 1 modules under wasmtime.
//!
//! In: an [`Invocation`] whose program is a `.wasm` module. Out: a [`RunReport`] with the
//! guest's exit, the instructions it used (consumed fuel, when the runner meters it) and
//! whether its output was cut; output lines go to the [`OutputSink`] as they come.
//!
//! One [`SandboxRunner`] serves any number of concurrent runs (it is `Send + Sync`; share it
//! with `Arc`). It owns one wasmtime engine with its epoch ticker, the linker (WASI preview 1
//! and the `hookbox` import module), the on-disk compiled-module cache and, in memory, the
//! modules ready to instantiate. Each run gets its own store with its own limits:
//!
//! - fuel (metered runners only, [`SandboxConfig::meter_fuel`]): the tenant's budget, or an
//!   unreachable one when unlimited; running out is [`Exit::FuelExhausted`];
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
mod file_size;
mod load;
mod shell;
mod stdio;
mod store;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use wasmtime::{Engine, InstancePre, Linker, Store, Trap};
use wasmtime_wasi::I32Exit;

pub use abi::Interrupt;
pub use cache::{CacheOutcome, ModuleCache};
pub use engine::{Pool, SandboxEngine, DEFAULT_EPOCH_TICK, DEFAULT_POOL_RUNS};
pub use load::{MAX_FUNCTION_BODY_BYTES, MAX_FUNCTION_LOCALS, MAX_MODULE_FUNCTIONS};
pub use shell::{embed_script, embedded_script, ShellInput, SCRIPT_SECTION};
pub use store::{MAX_STORE_ITEMS, MAX_TABLE_ELEMENTS};

use crate::limits::deadline_after;
use crate::plan::HookProgram;
use crate::runner::output::OutputCapper;
use crate::runner::{Exit, Invocation, OutputSink, RunError, RunFuture, RunReport, Runner, Stream};
use crate::shell_module::{SHELL_WASM, SHELL_WASM_SHA256};
use load::{FileKey, ModuleFile};
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
    /// Count fuel (instructions) in every run: needed to give hooks a fuel budget
    /// ([`Limits::fuel`](crate::limits::Limits::fuel)) and to report "instructions used";
    /// costs a CPU-bound guest about a fifth of its speed. Default `false`: a run with a fuel
    /// budget is then refused, and no instructions are reported.
    pub meter_fuel: bool,
    /// Run hooks in pre-allocated, reused instance slots ([`Pool`]): for an embedding that
    /// runs many hooks (a platform, the fleet worker). Default `None`: each run maps its own.
    pub pool: Option<Pool>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            cache_dir: None,
            ready_modules: DEFAULT_READY_MODULES,
            meter_fuel: false,
            pool: None,
        }
    }
}

/// A module compiled and linked, or why it could not be.
type Compiled = Result<(InstancePre<HostState>, CacheOutcome), String>;

/// One module in the runner's table.
enum Slot {
    Ready {
        pre: InstancePre<HostState>,
        used: u64,
    },
    /// Being compiled on a blocking thread; the result arrives here. A run whose deadline
    /// passes stops waiting, the compilation goes on, and the next run of the same file
    /// takes its result instead of compiling again.
    Compiling(tokio::sync::watch::Receiver<Option<Compiled>>),
}

#[derive(Default)]
struct Table {
    clock: u64,
    slots: HashMap<FileKey, Slot>,
}

/// Why preparing a module did not give a module to run.
enum Unprepared {
    Failed(RunError),
    TimedOut,
    Cancelled,
}

/// Runs `.wasm` hooks in the sandbox. See the module docs.
pub struct SandboxRunner {
    engine: SandboxEngine,
    linker: Arc<Linker<HostState>>,
    cache: ModuleCache,
    ready_modules: usize,
    // Never held across an await: concurrent runs of one new module find its `Compiling`
    // slot and wait for that one compilation.
    ready: Mutex<Table>,
}

impl std::fmt::Debug for SandboxRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxRunner")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// What a run instantiates: a module file (already read), or the bundled shell.
#[derive(Clone, Copy)]
enum Source<'a> {
    File(&'a ModuleFile),
    Shell,
}

impl Source<'_> {
    /// The path errors name.
    fn path(&self) -> PathBuf {
        match self {
            Source::File(file) => file.key.path.clone(),
            Source::Shell => PathBuf::from(SHELL_NAME),
        }
    }
}

/// How errors and the module table name the bundled shell.
const SHELL_NAME: &str = "<bundled shell>";

enum Ended {
    Returned(wasmtime::Result<wasmtime::Result<()>>),
    TimedOut,
    Cancelled,
}

impl SandboxRunner {
    /// A runner with its own engine and ticker.
    pub fn new(config: SandboxConfig) -> Result<Self, RunError> {
        let engine = SandboxEngine::build(
            engine::DEFAULT_EPOCH_TICK,
            config.meter_fuel,
            config.pool.as_ref(),
        )
        .map_err(|e| RunError::Other(format!("{e:#}")))?;
        let mut linker = Linker::new(engine.wasmtime());
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s: &mut HostState| &mut s.wasi)
            .and_then(|()| abi::shadow_proc_exit(&mut linker))
            .and_then(|()| file_size::shadow_file_writes(&mut linker))
            .and_then(|()| abi::add_to_linker(&mut linker))
            .map_err(|e| RunError::Other(format!("linking the sandbox imports: {e:#}")))?;
        let cache = ModuleCache::new(engine.wasmtime(), config.cache_dir);
        Ok(SandboxRunner {
            engine,
            linker: Arc::new(linker),
            cache,
            ready_modules: config.ready_modules.max(1),
            ready: Mutex::new(Table::default()),
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
    /// `validate` and `compile` want. Errors say what is wrong with the module. The file is
    /// read and checked as a hook's is (no symlink, a regular file, the default
    /// [`Limits::module_bytes_max`](crate::limits::Limits::module_bytes_max) and compile caps);
    /// the compilation has no deadline.
    pub async fn prepare(&self, path: &Path) -> Result<CacheOutcome, RunError> {
        let max = crate::limits::DEFAULT_MODULE_BYTES_MAX;
        let owned = path.to_path_buf();
        let file = tokio::task::spawn_blocking(move || {
            let file = load::read_file(&owned, &[], max)?;
            load::inspect(&file.bytes)?;
            Ok::<_, String>(file)
        })
        .await
        .map_err(|e| RunError::Other(format!("reading the module: {e}")))?
        .map_err(|message| RunError::Program {
            path: path.to_path_buf(),
            message,
        })?;
        self.prepared(Source::File(&file), None, None).await
    }

    /// Compiles (or loads from the cache) the bundled shell, so the first shell hook does
    /// not pay for it.
    pub async fn prepare_shell(&self) -> Result<CacheOutcome, RunError> {
        self.prepared(Source::Shell, None, None).await
    }

    async fn prepared(
        &self,
        source: Source<'_>,
        deadline: Option<tokio::time::Instant>,
        cancel: Option<tokio::sync::watch::Receiver<bool>>,
    ) -> Result<CacheOutcome, RunError> {
        match self.instance_pre(source, deadline, cancel).await {
            Ok((_, outcome)) => Ok(outcome),
            Err(Unprepared::Failed(e)) => Err(e),
            Err(Unprepared::TimedOut | Unprepared::Cancelled) => Err(RunError::Other(
                "preparing the module was stopped before it finished".into(),
            )),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // The table holds no invariant a panic could break half-way.
        self.ready.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The module linked and ready to instantiate: from the table, or compiled on a blocking
    /// thread while this run waits, until `deadline` when there is one (a tenant's module
    /// counts its compilation against its hook's time; the bundled shell is ours and is not
    /// timed) or until `cancel`.
    async fn instance_pre(
        &self,
        source: Source<'_>,
        deadline: Option<tokio::time::Instant>,
        cancel: Option<tokio::sync::watch::Receiver<bool>>,
    ) -> Result<(InstancePre<HostState>, CacheOutcome), Unprepared> {
        let key = match source {
            Source::File(file) => file.key.clone(),
            Source::Shell => FileKey::builtin(SHELL_NAME, SHELL_WASM.len()),
        };
        let mut compiled = {
            let mut table = self.table();
            table.clock += 1;
            let now = table.clock;
            match table.slots.get_mut(&key) {
                Some(Slot::Ready { pre, used }) => {
                    *used = now;
                    return Ok((pre.clone(), CacheOutcome::Hit));
                }
                Some(Slot::Compiling(result)) => result.clone(),
                None => {
                    let (tx, rx) = tokio::sync::watch::channel(None);
                    let (wasm, digest) = match source {
                        Source::File(file) => (file.bytes.clone(), None),
                        Source::Shell => (
                            bytes::Bytes::from_static(SHELL_WASM),
                            Some(SHELL_WASM_SHA256),
                        ),
                    };
                    let engine = self.engine.wasmtime().clone();
                    let (cache, linker) = (self.cache.clone(), Arc::clone(&self.linker));
                    tokio::task::spawn_blocking(move || {
                        let _ = tx.send(Some(compile(&engine, &cache, &linker, &wasm, digest)));
                    });
                    self.evict(&mut table);
                    table.slots.insert(key.clone(), Slot::Compiling(rx.clone()));
                    rx
                }
            }
        };
        let wait = async {
            let far = deadline.unwrap_or_else(|| {
                deadline_after(tokio::time::Instant::now(), crate::limits::MAX_TIMEOUT)
            });
            let cancel = async {
                match cancel {
                    Some(cancel) => cancelled(cancel).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = cancel => Err(Unprepared::Cancelled),
                done = tokio::time::timeout_at(far, compiled.wait_for(Option::is_some)) => match done {
                    Err(_) if deadline.is_some() => Err(Unprepared::TimedOut),
                    Err(_) => Err(Unprepared::Failed(RunError::Other("compiling the module took longer than a day".into()))),
                    Ok(Err(_)) => Ok(None),
                    Ok(Ok(result)) => Ok(result.clone()),
                },
            }
        };
        let result = wait.await?.unwrap_or_else(|| {
            Err("compiling the module failed (the compiler thread ended without a result)".into())
        });
        let mut table = self.table();
        if matches!(table.slots.get(&key), Some(Slot::Compiling(_))) {
            let now = table.clock;
            match &result {
                Ok((pre, _)) => {
                    table.slots.insert(
                        key,
                        Slot::Ready {
                            pre: pre.clone(),
                            used: now,
                        },
                    );
                }
                Err(_) => {
                    table.slots.remove(&key);
                }
            }
        }
        result.map_err(|message| {
            Unprepared::Failed(RunError::Program {
                path: source.path(),
                message,
            })
        })
    }

    /// Makes room for one more module: drops the least recently used ready one (a module
    /// still compiling is kept, so its compilation is never started twice).
    fn evict(&self, table: &mut Table) {
        if table.slots.len() < self.ready_modules {
            return;
        }
        let oldest = table
            .slots
            .iter()
            .filter_map(|(k, slot)| match slot {
                Slot::Ready { used, .. } => Some((k, *used)),
                Slot::Compiling(_) => None,
            })
            .min_by_key(|(_, used)| *used)
            .map(|(k, _)| k.clone());
        if let Some(oldest) = oldest {
            table.slots.remove(&oldest);
        }
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
        self.run_module_until(
            tokio::time::Instant::now(),
            invocation,
            source,
            argv,
            stdin,
            output,
            cancel,
        )
        .await
    }

    /// [`Self::run_module`] with the clock already started (a `.wasm` hook's starts before its
    /// file is read): the time limit and the reported duration both count from `started`.
    #[allow(clippy::too_many_arguments)]
    async fn run_module_until(
        &self,
        started: tokio::time::Instant,
        invocation: &Invocation,
        source: Source<'_>,
        argv: Vec<String>,
        stdin: GuestStdin,
        output: Arc<dyn OutputSink>,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> Result<RunReport, RunError> {
        let deadline = deadline_after(started, invocation.limits.timeout);
        let path = source.path();
        let timed = matches!(source, Source::File(_)).then_some(deadline);
        let pre = match self.instance_pre(source, timed, Some(cancel.clone())).await {
            Ok((pre, _)) => pre,
            Err(Unprepared::Failed(e)) => return Err(e),
            Err(stopped) => {
                let exit = match stopped {
                    Unprepared::TimedOut => {
                        let line = format!(
                            "hookbox: {} was still compiling when the hook's time limit ({} s) \
                             passed",
                            path.display(),
                            invocation.limits.timeout.as_secs()
                        );
                        output.line(Stream::Stderr, line.as_bytes());
                        Exit::TimedOut
                    }
                    _ => Exit::Cancelled,
                };
                return Ok(RunReport {
                    exit,
                    duration: started.elapsed(),
                    instructions: None,
                    output_truncated: false,
                });
            }
        };
        let (stdin_inherited, interrupt) = match &stdin {
            GuestStdin::Inherit(interrupt) => (true, interrupt.clone()),
            _ => (false, None),
        };
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
        let mut bridge = abi::GuestBridge::new(invocation, Arc::clone(&capper), exec);
        bridge.interrupt = interrupt;
        let file_limit =
            file_size::FileSizeLimit::new(invocation.limits.file_size_bytes, Arc::clone(&capper));
        let mut store = Store::new(
            self.engine.wasmtime(),
            HostState {
                wasi,
                limiter: MemoryLimiter {
                    limit_bytes: invocation.limits.memory_bytes,
                    refused: None,
                },
                bridge,
                file_limit,
            },
        );
        store.limiter(|state| &mut state.limiter);
        let metered = self.engine.meters_fuel();
        let budget = invocation.limits.fuel.unwrap_or(UNLIMITED_FUEL);
        if metered {
            store
                .set_fuel(budget)
                .map_err(|e| RunError::Other(format!("{e:#}")))?;
        }
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
        let used = metered.then(|| budget.saturating_sub(store.get_fuel().unwrap_or(0)));
        store.data_mut().bridge.exec.shutdown().await;
        let refused = store.data().limiter.refused;
        let exit = match ended {
            Ended::Returned(Ok(Ok(()))) => Exit::Code(0),
            Ended::Returned(Ok(Err(err))) => classify(&err, refused, invocation, &output),
            Ended::Returned(Err(err)) => match refused {
                Some(_) => classify(&err, refused, invocation, &output),
                None if err.is::<wasmtime::PoolConcurrencyLimitError>() => {
                    let runs = self.engine.pool().map_or(0, |p| p.runs);
                    return Err(RunError::Other(format!(
                        "the sandbox's pool of {runs} runs at once is full ({err}); \
                         `SandboxConfig::pool` sizes it"
                    )));
                }
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
            instructions: used,
            output_truncated: capper.truncated(),
        })
    }
}

/// Bytes → a module linked and ready to instantiate: compiled (or loaded from the on-disk
/// cache), its imports checked, linked. CPU-bound (seconds for a large module): it runs on a
/// blocking thread, never on the async workers.
fn compile(
    engine: &Engine,
    cache: &ModuleCache,
    linker: &Linker<HostState>,
    wasm: &[u8],
    digest: Option<[u8; 32]>,
) -> Compiled {
    let loaded = match digest {
        Some(d) => cache.load_keyed(engine, wasm, &d),
        None => cache.load(engine, wasm),
    };
    let (module, outcome) = loaded.map_err(|e| format!("not a valid WebAssembly module: {e:#}"))?;
    for import in module.imports() {
        let known = import.module() == abi::MODULE || import.module() == "wasi_snapshot_preview1";
        if !known {
            return Err(format!(
                "the module imports `{}::{}`, which the sandbox does not provide (it provides \
                 `wasi_snapshot_preview1` and `hookbox`)",
                import.module(),
                import.name()
            ));
        }
    }
    let pre = linker
        .instantiate_pre(&module)
        .map_err(|e| format!("cannot link the module: {e:#}"))?;
    Ok((pre, outcome))
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
            if invocation.limits.fuel.is_some() && !self.engine.meters_fuel() {
                return Err(RunError::Other(
                    "the hook has a fuel budget, but this sandbox runner does not meter fuel \
                     (build it with `SandboxConfig::meter_fuel`)"
                        .into(),
                ));
            }
            if let Some(pool) = self.engine.pool() {
                if invocation.limits.memory_bytes > pool.memory_bytes {
                    return Err(RunError::Other(format!(
                        "the hook's memory limit ({} bytes) is larger than this sandbox's pooled \
                         slots ({} bytes, `SandboxConfig::pool`)",
                        invocation.limits.memory_bytes, pool.memory_bytes
                    )));
                }
            }
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
        let engine =
            SandboxEngine::with_options(std::time::Duration::from_millis(1), false).unwrap();
        drop(engine);
    }
}
