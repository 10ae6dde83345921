//! The shared wasmtime engine: one per process (or per platform embedding), with the epoch
//! ticker that lets deadlines interrupt guests.
//!
//! In: nothing but the constants below. Out: a [`SandboxEngine`] whose `wasmtime()` engine
//! compiles and runs every hook. The ticker thread belongs to the value: dropping the engine
//! stops it, so a library user can hold several engines without a process-global.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

use super::store::MAX_TABLE_ELEMENTS;

/// Bytes of a pooled slot's memory cleared with `memset` when it is given back, instead of
/// returned to the kernel with `madvise`: 1 MiB. `madvise` makes every core running another
/// thread of this process flush its TLB, which is most of a trivial hook's cost.
const POOL_KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// Default number of runs a pooled engine holds at once ([`Pool::runs`]): 256.
pub const DEFAULT_POOL_RUNS: u32 = 256;

/// Pre-allocated instance slots: a platform that runs many hooks reuses one slot's memory,
/// table and async stack for run after run instead of mapping and faulting in new ones
/// (wasmtime's pooling allocator). Linear memory and tables are reset between runs; a guest
/// cannot read the async stack, which is reused as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// Runs at once. Default [`DEFAULT_POOL_RUNS`]. One more is refused at its start (a
    /// `RunError` saying the pool is full, nothing run): size it to the concurrency the
    /// embedder allows.
    pub runs: u32,
    /// Linear memory of each slot: the largest memory limit any run may have (the operator's
    /// ceiling). Default [`crate::limits::DEFAULT_MEMORY_BYTES`]. Each run's own, lower limit
    /// is still enforced by its store; a run whose limit is higher is refused, never cut.
    pub memory_bytes: u64,
}

impl Default for Pool {
    fn default() -> Self {
        Pool {
            runs: DEFAULT_POOL_RUNS,
            memory_bytes: crate::limits::DEFAULT_MEMORY_BYTES,
        }
    }
}

/// How often the ticker advances the engine's epoch. Each running guest yields to the async
/// executor at every tick, so this bounds how late a deadline or a cancellation is noticed
/// while a guest computes, and how long one guest can hold an executor thread. 10 ms.
pub const DEFAULT_EPOCH_TICK: Duration = Duration::from_millis(10);

/// A wasmtime engine configured for hooks (epoch interruption always on, fuel metering when
/// asked for) and the ticker thread that drives its epochs.
pub struct SandboxEngine {
    engine: Engine,
    ticker: Option<Ticker>,
    meter_fuel: bool,
    pool: Option<Pool>,
}

impl std::fmt::Debug for SandboxEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxEngine").finish_non_exhaustive()
    }
}

/// Native stack a guest's wasm frames may use. 8 MiB (wasmtime's default is 512 KiB): the
/// bundled shell recurses per nesting level of a script (parser, evaluator, `$(( ))`), and its
/// own depth limits must be reached before this one (a trap here ends the hook with 134). Past
/// it the guest traps ("call stack exhausted"); the host's stack is never at risk.
pub const MAX_WASM_STACK_BYTES: usize = 8 << 20;
/// Each run's async stack: the wasm stack plus room for the host calls made on it.
const ASYNC_STACK_BYTES: usize = MAX_WASM_STACK_BYTES + (1 << 20);

impl SandboxEngine {
    /// Builds the engine (fuel not metered) and starts its ticker with
    /// [`DEFAULT_EPOCH_TICK`].
    pub fn new() -> Result<Self, wasmtime::Error> {
        Self::with_options(DEFAULT_EPOCH_TICK, false)
    }

    /// Builds the engine with a ticker of the given period; `meter_fuel` compiles fuel
    /// counting into every module, which a fuel budget and "instructions used" need and which
    /// costs a CPU-bound guest about a fifth of its speed (see the Contracts, "Fuel").
    pub fn with_options(tick: Duration, meter_fuel: bool) -> Result<Self, wasmtime::Error> {
        Self::build(tick, meter_fuel, None)
    }

    /// [`Self::with_options`], with instances from a [`Pool`] when one is given (else each
    /// run maps its own memory and stack, wasmtime's on-demand allocator).
    pub fn build(
        tick: Duration,
        meter_fuel: bool,
        pool: Option<&Pool>,
    ) -> Result<Self, wasmtime::Error> {
        let mut config = Config::new();
        config.consume_fuel(meter_fuel);
        config.epoch_interruption(true);
        config.cranelift_opt_level(OptLevel::Speed);
        config.max_wasm_stack(MAX_WASM_STACK_BYTES);
        config.async_stack_size(ASYNC_STACK_BYTES);
        // Hooks are core modules; the component model is compiled in only because wasmtime-wasi
        // needs its resource table.
        config.wasm_component_model(false);
        if let Some(pool) = pool {
            let mut slots = PoolingAllocationConfig::default();
            slots
                .total_core_instances(pool.runs)
                .total_memories(pool.runs)
                .total_tables(pool.runs)
                .total_stacks(pool.runs)
                .total_component_instances(0)
                .max_memory_size(usize::try_from(pool.memory_bytes).unwrap_or(usize::MAX))
                .table_elements(MAX_TABLE_ELEMENTS)
                .linear_memory_keep_resident(POOL_KEEP_RESIDENT_BYTES)
                .table_keep_resident(POOL_KEEP_RESIDENT_BYTES / 16);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(slots));
        }
        let engine = Engine::new(&config)?;
        let ticker = Ticker::start(engine.clone(), tick)?;
        Ok(SandboxEngine {
            engine,
            ticker: Some(ticker),
            meter_fuel,
            pool: pool.cloned(),
        })
    }

    /// The wasmtime engine.
    pub fn wasmtime(&self) -> &Engine {
        &self.engine
    }

    /// Whether its modules count fuel.
    pub fn meters_fuel(&self) -> bool {
        self.meter_fuel
    }

    /// Its instance pool, when it has one.
    pub fn pool(&self) -> Option<&Pool> {
        self.pool.as_ref()
    }
}

impl Drop for SandboxEngine {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.stop();
        }
    }
}

/// A thread that increments the engine's epoch every tick until stopped.
struct Ticker {
    stop: Arc<(Mutex<bool>, Condvar)>,
    handle: JoinHandle<()>,
}

impl Ticker {
    fn start(engine: Engine, tick: Duration) -> Result<Self, wasmtime::Error> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread_stop = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("hookbox-epoch".into())
            .spawn(move || {
                let (lock, cvar) = &*thread_stop;
                let Ok(mut stopped) = lock.lock() else { return };
                while !*stopped {
                    match cvar.wait_timeout(stopped, tick) {
                        Ok((guard, _)) => stopped = guard,
                        Err(_) => return,
                    }
                    engine.increment_epoch();
                }
            })?;
        Ok(Ticker { stop, handle })
    }

    fn stop(self) {
        let (lock, cvar) = &*self.stop;
        if let Ok(mut stopped) = lock.lock() {
            *stopped = true;
        }
        cvar.notify_all();
        let _ = self.handle.join();
    }
}
