//! The worker: claims deployments and runs their hooks, `concurrency` at a time.
//!
//! In: a [`WorkerConfig`] (database URL, work folder, lease settings, runners' settings) and a
//! shutdown watch. Out: attempts, outcomes, log lines and final statuses in the database.
//!
//! One claimed deployment, in order:
//! 1. [`lease::claim`] (fence `F`); a heartbeat task renews the lease every `heartbeat` on a
//!    connection of its own and turns the *lost* watch on when the lease is gone (or locally
//!    past its end while the database does not answer), the *cancel* watch on when
//!    `hookbox fleet cancel` asked.
//! 2. The artifact is unpacked into a fresh folder (handed to the hook user when root).
//! 3. The hooks without an outcome run through [`crate::lifecycle::run_hooks`] — the same
//!    ordering, failure rules, timeouts, `SKIP_HOOKS` and retries as one process — with a
//!    [`FleetGate`] in the context: each attempt is opened and closed in a fenced transaction,
//!    and the hook's output reaches the database through [`DbSink`]. A lost lease kills the
//!    running hook (the runner's cancel) and nothing more is recorded.
//! 4. The final status is written under `F`; the folder is removed.
//!
//! Drain: when `shutdown` turns `true` the worker stops claiming and finishes what it holds;
//! past `drain_timeout` it kills the running hooks and gives their deployments back (the next
//! claim counts the attempt as lost, and retries it under `worker-lost`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use tokio::sync::{watch, Mutex};
use tokio_postgres::Client;

use super::lease::{self, Claimed, Fence, DEFAULT_HEARTBEAT, DEFAULT_LEASE};
use super::logs::{self, DbSink};
use super::{artifact, FleetError, QUEUE_CHANNEL};
use crate::events::redact::Redactor;
use crate::events::{Event, Events, Terminal};
use crate::lifecycle::{
    self, HookIds, HookOutcome, LifecycleError, Platform, RunContext, Runners, Status,
};
use crate::limits::Limits;
use crate::plan::{FailureRule, Hook, HookProgram, Plan};
use crate::retry::{AttemptEnd, AttemptGate, Gate, GateFuture, GateRefused, Resume};
use crate::runner::native::NativeRunner;
use crate::runner::sandbox::{SandboxConfig, SandboxRunner};
use crate::runner::Runner;

/// Default number of deployments one worker process runs at once: 1.
pub const DEFAULT_CONCURRENCY: usize = 1;
/// Default pause between two claims when the queue looked empty and no NOTIFY came: 2 s.
pub const DEFAULT_POLL: Duration = Duration::from_secs(2);
/// Default time a draining worker lets running hooks finish before giving them back: 60 s.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time between two log batches of a running hook: 200 ms.
pub const DEFAULT_FLUSH_EVERY: Duration = Duration::from_millis(200);

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// tokio-postgres connection string or URL.
    pub db: String,
    /// Names this worker in attempts (`hostname:pid` by the CLI).
    pub id: String,
    /// Where deployments are unpacked (`runs/`) and tenants' persistent folders live
    /// (`shared/<tenant>`). Must be reachable by the hook user (not under `/root`).
    pub work_root: PathBuf,
    /// Where each hook's private HOME is made.
    pub temp_root: PathBuf,
    /// Deployments run at once. Default [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    /// Default [`DEFAULT_LEASE`].
    pub lease: Duration,
    /// Default [`DEFAULT_HEARTBEAT`]; must be shorter than the lease.
    pub heartbeat: Duration,
    /// Default [`DEFAULT_POLL`].
    pub poll: Duration,
    /// Default [`DEFAULT_DRAIN_TIMEOUT`].
    pub drain_timeout: Duration,
    /// Default [`DEFAULT_FLUSH_EVERY`].
    pub flush_every: Duration,
    /// The sandbox runner's compiled-module cache.
    pub sandbox_cache_dir: Option<PathBuf>,
    /// This machine's platform policy: which runners tenant hooks may use here and the
    /// directories (`extra-dirs`) granted to them. Plans are narrowed when submitted; the
    /// worker checks the runners again and grants only its own directories. Default none.
    pub platform: Option<crate::platform::PlatformPolicy>,
}

impl WorkerConfig {
    /// Defaults, with the database and work folder given.
    pub fn new(db: &str, work_root: PathBuf) -> Self {
        WorkerConfig {
            db: db.to_string(),
            id: format!("worker-{}", std::process::id()),
            work_root,
            temp_root: std::env::temp_dir(),
            concurrency: DEFAULT_CONCURRENCY,
            lease: DEFAULT_LEASE,
            heartbeat: DEFAULT_HEARTBEAT,
            poll: DEFAULT_POLL,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            flush_every: DEFAULT_FLUSH_EVERY,
            sandbox_cache_dir: None,
            platform: None,
        }
    }
}

/// What a worker did, returned when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WorkerReport {
    /// Claims made.
    pub claimed: u64,
    /// Deployments it finished (any status).
    pub finished: u64,
    /// Deployments it lost (lease) or gave back (drain).
    pub lost: u64,
}

/// A worker process's claim loops.
pub struct Worker {
    config: WorkerConfig,
    native: NativeRunner,
    sandbox: tokio::sync::OnceCell<Option<SandboxRunner>>,
    report: StdMutex<WorkerReport>,
}

impl Worker {
    pub fn new(config: WorkerConfig) -> Self {
        Worker {
            config,
            native: NativeRunner::new(),
            sandbox: tokio::sync::OnceCell::new(),
            report: StdMutex::new(WorkerReport::default()),
        }
    }

    fn count(&self, f: impl FnOnce(&mut WorkerReport)) {
        if let Ok(mut r) = self.report.lock() {
            f(&mut r);
        }
    }

    /// Runs until `shutdown` turns `true`, then drains (see the module doc).
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<WorkerReport, FleetError> {
        if self.config.heartbeat >= self.config.lease {
            return Err(FleetError::Invalid(format!(
                "the heartbeat ({:?}) must be shorter than the lease ({:?})",
                self.config.heartbeat, self.config.lease
            )));
        }
        std::fs::create_dir_all(self.config.work_root.join("runs")).map_err(|source| {
            FleetError::Artifact {
                path: self.config.work_root.clone(),
                source,
            }
        })?;
        {
            let client = super::connect(&self.config.db, None).await?;
            super::schema::check(&client).await?;
        }
        // One listener per process wakes every idle claim loop on a submit.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let listener = super::connect(&self.config.db, Some(tx)).await?;
        listener
            .batch_execute(&format!("LISTEN {QUEUE_CHANNEL}"))
            .await?;
        let wake = Arc::new(tokio::sync::Notify::new());
        let forward = {
            let wake = wake.clone();
            tokio::spawn(async move {
                while rx.recv().await.is_some() {
                    wake.notify_waiters();
                }
            })
        };
        let this = Arc::new(self);
        let mut slots = Vec::new();
        for slot in 0..this.config.concurrency.max(1) {
            let this = this.clone();
            let wake = wake.clone();
            let shutdown = shutdown.clone();
            slots.push(tokio::spawn(async move {
                this.slot(slot, wake, shutdown).await
            }));
        }
        let mut first_error = None;
        for s in slots {
            match s.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(e) => {
                    first_error.get_or_insert(FleetError::Invalid(format!(
                        "a claim loop ended abnormally: {e}"
                    )));
                }
            }
        }
        forward.abort();
        drop(listener);
        if let Some(e) = first_error {
            return Err(e);
        }
        let report = this.report.lock().map(|r| r.clone()).unwrap_or_default();
        Ok(report)
    }

    async fn slot(
        &self,
        slot: usize,
        wake: Arc<tokio::sync::Notify>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), FleetError> {
        let mut client = super::connect(&self.config.db, None).await?;
        let mut backoff = Duration::from_millis(100);
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let claimed = match lease::claim(&mut client, &self.config.id, self.config.lease).await
            {
                Ok(c) => {
                    backoff = Duration::from_millis(100);
                    c
                }
                Err(FleetError::Db(e)) if client.is_closed() => {
                    tracing::warn!(slot, "database connection lost ({e}); reconnecting");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.config.poll.max(Duration::from_secs(1)));
                    if let Ok(c) = super::connect(&self.config.db, None).await {
                        client = c;
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            match claimed {
                Some(claimed) => {
                    self.count(|r| r.claimed += 1);
                    tracing::info!(
                        worker = %self.config.id,
                        deployment = claimed.fence.deployment,
                        claim = claimed.claims,
                        "claimed"
                    );
                    match self.hold(claimed, shutdown.clone()).await {
                        Ok(true) => self.count(|r| r.finished += 1),
                        Ok(false) => self.count(|r| r.lost += 1),
                        Err(e) => {
                            tracing::warn!(worker = %self.config.id, "deployment ended with a database error: {e}");
                            self.count(|r| r.lost += 1);
                        }
                    }
                }
                None => {
                    tokio::select! {
                        _ = &mut notified => {}
                        _ = tokio::time::sleep(self.config.poll) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
    }

    async fn sandbox_for(&self, plan: &Plan) -> Option<&SandboxRunner> {
        if !plan
            .hooks
            .iter()
            .any(|h| h.runner == crate::plan::RunnerKind::Sandbox)
        {
            return None;
        }
        self.sandbox
            .get_or_init(|| async {
                // Under an operator's policy every hook's memory is capped by its ceiling, so
                // reused slots of that size serve them all: one hook at a time per deployment
                // held. Without one a tenant's limit has no ceiling, and runs map their own.
                let pool = self
                    .config
                    .platform
                    .as_ref()
                    .filter(|p| !p.developer)
                    .map(|p| crate::runner::sandbox::Pool {
                        runs: u32::try_from(self.config.concurrency.max(1)).unwrap_or(u32::MAX),
                        memory_bytes: p.max_memory_bytes,
                    });
                match SandboxRunner::new(SandboxConfig {
                    cache_dir: self.config.sandbox_cache_dir.clone(),
                    // One runner serves every tenant's plan, and any of them may carry a fuel
                    // budget.
                    meter_fuel: true,
                    pool,
                    ..SandboxConfig::default()
                }) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        tracing::warn!("no sandbox runner on this worker: {e}");
                        None
                    }
                }
            })
            .await
            .as_ref()
    }

    /// Holds one claimed deployment to its end. `Ok(true)`: its final status is recorded;
    /// `Ok(false)`: the lease was lost or given back.
    async fn hold(
        &self,
        claimed: Claimed,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<bool, FleetError> {
        let fence = claimed.fence;
        let writer = Arc::new(Mutex::new(super::connect(&self.config.db, None).await?));
        let (lost_tx, lost_rx) = watch::channel(false);
        let (cancel_tx, cancel_rx) = watch::channel(claimed.cancel_requested);
        let lost_tx = Arc::new(lost_tx);
        let heartbeat = {
            let db = self.config.db.clone();
            let (lease, every) = (self.config.lease, self.config.heartbeat);
            let lost_tx = lost_tx.clone();
            tokio::spawn(
                async move { keep_lease(db, fence, lease, every, lost_tx, cancel_tx).await },
            )
        };
        let sink = Arc::new(DbSink::new(claimed.claims));
        let flusher = {
            let writer = writer.clone();
            let sink = sink.clone();
            let lost_tx = lost_tx.clone();
            let every = self.config.flush_every;
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(every) => {}
                        _ = sink.full() => {}
                    }
                    let mut client = writer.lock().await;
                    if let Err(FleetError::Fenced(_)) = logs::flush(&mut client, fence, &sink).await
                    {
                        let _ = lost_tx.send(true);
                        return;
                    }
                }
            })
        };
        let handing_back = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let run = self.run_claimed(
            &claimed,
            writer.clone(),
            sink.clone(),
            lost_rx.clone(),
            cancel_rx,
            handing_back.clone(),
        );
        tokio::pin!(run);
        let drain_timeout = self.config.drain_timeout;
        let result = loop {
            tokio::select! {
                r = &mut run => break r,
                _ = shutdown.wait_for(|s| *s), if !*shutdown.borrow() => {}
                _ = tokio::time::sleep(drain_timeout), if *shutdown.borrow() && !handing_back.load(std::sync::atomic::Ordering::Relaxed) => {
                    // Drained too long: kill the hook, record nothing, give it back.
                    handing_back.store(true, std::sync::atomic::Ordering::Relaxed);
                    let _ = lost_tx.send(true);
                }
            }
        };
        flusher.abort();
        heartbeat.abort();
        if handing_back.load(std::sync::atomic::Ordering::Relaxed) {
            let client = writer.lock().await;
            let _ = lease::release(&client, fence).await;
            return Ok(false);
        }
        result
    }

    /// Unpacks, runs the remaining hooks, records the final status.
    async fn run_claimed(
        &self,
        claimed: &Claimed,
        writer: Arc<Mutex<Client>>,
        sink: Arc<DbSink>,
        lost: watch::Receiver<bool>,
        cancel: watch::Receiver<bool>,
        handing_back: Arc<std::sync::atomic::AtomicBool>,
    ) -> Result<bool, FleetError> {
        let fence = claimed.fence;
        let events = Arc::new(
            Events::with_output(
                None,
                Terminal::Quiet,
                Redactor::from_env(&claimed.settings.app_env),
                None,
            )
            .map_err(|e| FleetError::Invalid(e.to_string()))?,
        );
        events.add_sink(sink.clone());
        events.emit(&Event::Info {
            message: format!(
                "Deployment {} (tenant {}): claim {} by worker {}",
                fence.deployment, claimed.tenant, claimed.claims, self.config.id
            ),
        });
        let run_dir = self
            .config
            .work_root
            .join("runs")
            .join(format!("{}-{}", fence.deployment, claimed.claims));
        let _ = std::fs::remove_dir_all(&run_dir);
        let prepared = self.prepare(claimed, &writer, &run_dir).await;
        let result = match prepared {
            Err(why) => {
                events.emit(&Event::Warning {
                    message: why.clone(),
                });
                finish(&writer, fence, &sink, "error", &why, &events).await
            }
            Ok(prep) => {
                let gate = Arc::new(FleetGate {
                    writer: writer.clone(),
                    fence,
                    worker: self.config.id.clone(),
                    sink: sink.clone(),
                    claimed_hooks: claimed.hooks.clone(),
                    done: StdMutex::new(Vec::new()),
                    lost: lost.clone(),
                    handing_back,
                });
                let mut ctx = prep.ctx;
                ctx.gate = Some(Gate(gate));
                let remaining: Vec<&Hook> = prep.remaining.iter().collect();
                let sandbox = self.sandbox_for(&prep.plan).await;
                let runners = Runners {
                    native: &self.native as &dyn Runner,
                    sandbox: sandbox.map(|s| s as &dyn Runner),
                };
                let outcome =
                    lifecycle::run_hooks(&prep.plan, &remaining, &ctx, &runners, &events, &cancel)
                        .await;
                match outcome {
                    Err(LifecycleError::Lost { .. }) => Ok(false),
                    Err(e) => {
                        let why = e.to_string();
                        events.emit(&Event::Warning {
                            message: why.clone(),
                        });
                        finish(&writer, fence, &sink, "error", &why, &events).await
                    }
                    Ok(r) => {
                        let warnings = prep.earlier_warnings + r.warnings.len();
                        let status = if r.cancelled || *cancel.borrow() {
                            Status::Cancelled
                        } else if let Some(rule) = r.fatal {
                            Status::of_failure(rule)
                        } else if warnings > 0 {
                            Status::SuccessWithWarnings
                        } else {
                            Status::Success
                        };
                        let message = match (status, r.hooks.last()) {
                            (Status::Success, _) => "Deployment status: success".to_string(),
                            (Status::SuccessWithWarnings, _) => {
                                format!("Deployment status: success-with-warnings ({warnings} warning(s))")
                            }
                            (s, Some(h)) => {
                                format!("Deployment status: {s} ({} {})", h.name, h.describe())
                            }
                            (s, None) => format!("Deployment status: {s}"),
                        };
                        events.emit(&Event::Status {
                            status: status.to_string(),
                            message: message.clone(),
                        });
                        finish(&writer, fence, &sink, status.as_str(), &message, &events).await
                    }
                }
            }
        };
        let _ = std::fs::remove_dir_all(&run_dir);
        match result {
            Err(FleetError::Fenced(_)) => Ok(false),
            other => other,
        }
    }

    /// The run folder, plan and context of a claimed deployment, or why it cannot run.
    async fn prepare(
        &self,
        claimed: &Claimed,
        writer: &Arc<Mutex<Client>>,
        run_dir: &Path,
    ) -> Result<Prepared, String> {
        let content: Option<Vec<u8>> = {
            let client = writer.lock().await;
            client
                .query_opt(
                    "SELECT content FROM hookbox_artifacts WHERE sha256 = $1",
                    &[&claimed.artifact],
                )
                .await
                .map_err(|e| format!("cannot read artifact {}: {e}", claimed.artifact))?
                .map(|r| r.get(0))
        };
        let content = content.ok_or_else(|| format!("artifact {} is missing", claimed.artifact))?;
        if artifact::sha256_of(&content) != claimed.artifact {
            return Err(format!(
                "artifact {} does not match its sha256: refusing to run it",
                claimed.artifact
            ));
        }
        std::fs::create_dir_all(run_dir).map_err(|e| format!("{}: {e}", run_dir.display()))?;
        let release = run_dir.join("release");
        artifact::unpack(&content, &release)
            .map_err(|e| format!("cannot unpack artifact {}: {e}", claimed.artifact))?;
        let mut plan = rebase(&claimed.plan, &release);
        if let Some(pp) = &self.config.platform {
            if let Some(h) = plan.hooks.iter().find(|h| !pp.allows_runner(h.runner)) {
                return Err(format!(
                    "hook {} is to run with the {} runner, which this worker's platform policy \
                     does not allow (`runners` at {})",
                    h.name,
                    h.runner.name(),
                    pp.where_is("runners")
                ));
            }
            // Directories are this machine's to grant, not the submitter's.
            plan.policy.extra_dirs = pp.extra_dirs.clone();
        }
        let hook_user = crate::runner::user::resolve(plan.policy.run_as.as_deref())
            .map_err(|e| e.to_string())?
            .map(|u| HookIds {
                uid: u.uid,
                gid: u.gid,
            });
        let shared = self
            .config
            .work_root
            .join("shared")
            .join(tenant_dir(&claimed.tenant));
        std::fs::create_dir_all(&shared).map_err(|e| format!("{}: {e}", shared.display()))?;
        if let Some(ids) = hook_user {
            // Through handles, never by path: the unpacked tree is the tenant's.
            lifecycle::safefs::open_dir_path(&release)
                .and_then(|fd| {
                    use std::os::fd::AsFd;
                    lifecycle::safefs::chown_tree(fd.as_fd(), ids)
                })
                .and_then(|()| std::os::unix::fs::lchown(&shared, Some(ids.uid), Some(ids.gid)))
                .map_err(|e| format!("cannot hand the run folder to the hook user: {e}"))?;
        }
        let settings = &claimed.settings;
        let work_dir = match &settings.project_path {
            Some(pp) if release.join(pp).is_dir() => release.join(pp),
            _ => release.clone(),
        };
        lifecycle::check_reachable(&work_dir, hook_user).map_err(|e| e.to_string())?;
        let mut platform = Platform::new(&work_dir, &plan.policy.path);
        platform.project_path = settings.project_path.clone();
        platform.container_version = Some(format!("fleet-{}", claimed.fence.deployment));
        platform.shared_dir = Some(shared);
        platform.extra.insert(
            "HOOKBOX_DEPLOYMENT".into(),
            claimed.fence.deployment.to_string(),
        );
        let ctx = RunContext {
            app_env: settings.app_env.clone(),
            platform,
            timeouts: settings.timeouts(),
            skip_hooks: settings.skip_hooks,
            extra_args: settings.extra_args.clone(),
            limits: plan.limits.apply(Limits::default()),
            temp_root: self.config.temp_root.clone(),
            hook_user,
            progress_every: None,
            gate: None,
        };
        let mut remaining = Vec::new();
        let mut earlier_warnings = 0;
        for h in &claimed.hooks {
            match h.state.as_str() {
                "pending" | "running" => {
                    remaining.push(rebase_hook(&claimed.plan, &h.hook, &release))
                }
                "failed" if h.hook.failure == FailureRule::Warn => earlier_warnings += 1,
                _ => {}
            }
        }
        Ok(Prepared {
            plan,
            ctx,
            remaining,
            earlier_warnings,
        })
    }
}

struct Prepared {
    plan: Plan,
    ctx: RunContext,
    remaining: Vec<Hook>,
    earlier_warnings: usize,
}

/// A tenant's folder name: the name itself when it is plain, else a hash of it.
fn tenant_dir(tenant: &str) -> String {
    let plain = !tenant.is_empty()
        && tenant.len() <= 64
        && !tenant.starts_with('.')
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if plain {
        tenant.to_string()
    } else {
        format!("t-{}", &artifact::sha256_of(tenant.as_bytes())[..32])
    }
}

fn rebase_path(plan: &Plan, release: &Path, path: &Path) -> PathBuf {
    match path.strip_prefix(&plan.root) {
        Ok(rel) => release.join(rel),
        Err(_) if path.is_relative() => release.join(path),
        Err(_) => path.to_path_buf(),
    }
}

fn rebase_hook(plan: &Plan, hook: &Hook, release: &Path) -> Hook {
    let mut h = hook.clone();
    h.program = match &hook.program {
        HookProgram::Script(s) => HookProgram::Script(rebase_path(plan, release, s)),
        HookProgram::Wasm(s) => HookProgram::Wasm(rebase_path(plan, release, s)),
        other => other.clone(),
    };
    h
}

/// The plan with its root and hook files moved into the unpacked release.
fn rebase(plan: &Plan, release: &Path) -> Plan {
    let mut p = plan.clone();
    p.hooks = plan
        .hooks
        .iter()
        .map(|h| rebase_hook(plan, h, release))
        .collect();
    p.root = release.to_path_buf();
    p
}

/// Renews the lease until aborted; `lost` turns on when it is gone, `cancel` when asked.
async fn keep_lease(
    db: String,
    fence: Fence,
    lease: Duration,
    every: Duration,
    lost: Arc<watch::Sender<bool>>,
    cancel: watch::Sender<bool>,
) {
    let mut valid_until = Instant::now() + lease;
    let mut client: Option<Client> = None;
    loop {
        tokio::time::sleep(every).await;
        if client.as_ref().is_none_or(|c| c.is_closed()) {
            client = super::connect(&db, None).await.ok();
        }
        let sent = Instant::now();
        let renewed = match &client {
            Some(c) => tokio::time::timeout(every, lease::heartbeat(c, fence, lease)).await,
            None => Ok(Err(FleetError::Invalid("no connection".into()))),
        };
        match renewed {
            Ok(Ok(Some(cancel_requested))) => {
                valid_until = sent + lease;
                if cancel_requested && !*cancel.borrow() {
                    let _ = cancel.send(true);
                }
            }
            Ok(Ok(None)) => {
                let _ = lost.send(true);
                return;
            }
            Ok(Err(_)) | Err(_) => {
                // No answer: the lease may still stand, until its own end.
                if Instant::now() >= valid_until {
                    let _ = lost.send(true);
                    return;
                }
            }
        }
    }
}

/// Records the final status under the fence, with the last lines.
async fn finish(
    writer: &Arc<Mutex<Client>>,
    fence: Fence,
    sink: &DbSink,
    status: &str,
    message: &str,
    _events: &Events,
) -> Result<bool, FleetError> {
    let mut client = writer.lock().await;
    let lines = sink.take();
    let tx = client.transaction().await?;
    lease::check(&tx, fence).await?;
    logs::insert(&tx, fence, &lines).await?;
    tx.execute(
        "UPDATE hookbox_hooks SET state = CASE WHEN state = 'running' THEN 'cancelled' ELSE 'skipped' END
         WHERE deployment_id = $1 AND state IN ('pending', 'running')",
        &[&fence.deployment],
    )
    .await?;
    tx.execute(
        "UPDATE hookbox_deployments SET state = 'done', status = $2, message = $3,
             finished_at = now(), lease_until = NULL
         WHERE id = $1",
        &[&fence.deployment, &status, &message],
    )
    .await?;
    tx.execute(
        &format!("SELECT pg_notify('{}', $1)", super::LOG_CHANNEL),
        &[&fence.deployment.to_string()],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The lifecycle's [`AttemptGate`] for one claimed deployment.
struct FleetGate {
    writer: Arc<Mutex<Client>>,
    fence: Fence,
    worker: String,
    sink: Arc<DbSink>,
    claimed_hooks: Vec<lease::ClaimedHook>,
    /// Positions whose outcome this holder recorded.
    done: StdMutex<Vec<i32>>,
    lost: watch::Receiver<bool>,
    handing_back: Arc<std::sync::atomic::AtomicBool>,
}

impl FleetGate {
    /// The stored hook `hook` is: the first one without an outcome whose content matches
    /// (ignoring the folder it was unpacked in).
    fn find(&self, hook: &Hook) -> Result<&lease::ClaimedHook, GateRefused> {
        let done = self.done.lock().map(|d| d.clone()).unwrap_or_default();
        self.claimed_hooks
            .iter()
            .filter(|c| matches!(c.state.as_str(), "pending" | "running"))
            .filter(|c| !done.contains(&c.position))
            .find(|c| {
                c.hook.name == hook.name && c.hook.stage == hook.stage && c.hook.point == hook.point
            })
            .ok_or_else(|| {
                GateRefused(format!(
                    "hook {} is not one of this deployment's",
                    hook.name
                ))
            })
    }

    fn refused(&self, e: FleetError) -> GateRefused {
        GateRefused(e.to_string())
    }
}

fn result_of(outcome: &HookOutcome) -> &'static str {
    match outcome.exit {
        _ if outcome.succeeded() => "succeeded",
        Some(crate::runner::Exit::Cancelled) => "cancelled",
        _ => "failed",
    }
}

impl AttemptGate for FleetGate {
    fn begin<'a>(&'a self, hook: &'a Hook) -> GateFuture<'a, Resume> {
        Box::pin(async move {
            let c = self.find(hook)?;
            Ok(Resume {
                used: c.attempts.max(0) as u32,
                lost: c.state == "running" && c.attempts > 0,
            })
        })
    }

    fn attempt_started<'a>(
        &'a self,
        hook: &'a Hook,
        attempt: u32,
    ) -> GateFuture<'a, watch::Receiver<bool>> {
        Box::pin(async move {
            if self.handing_back.load(std::sync::atomic::Ordering::Relaxed) || *self.lost.borrow() {
                return Err(GateRefused("the lease is lost or being given back".into()));
            }
            let position = self.find(hook)?.position;
            let mut client = self.writer.lock().await;
            // The lines so far (the deployment's own) are stored before the attempt opens.
            let lines = self.sink.take();
            let r = async {
                let tx = client.transaction().await?;
                lease::check(&tx, self.fence).await?;
                logs::insert(&tx, self.fence, &lines).await?;
                tx.execute(
                    "INSERT INTO hookbox_attempts (deployment_id, position, attempt, fence, worker, lease_until)
                     SELECT $1, $2, $3, $4, $5, lease_until FROM hookbox_deployments WHERE id = $1",
                    &[&self.fence.deployment, &position, &(attempt as i32), &self.fence.token, &self.worker],
                )
                .await?;
                tx.execute(
                    "UPDATE hookbox_hooks SET state = 'running', attempts = $3
                     WHERE deployment_id = $1 AND position = $2 AND outcome IS NULL",
                    &[&self.fence.deployment, &position, &(attempt as i32)],
                )
                .await?;
                tx.commit().await?;
                Ok::<(), FleetError>(())
            }
            .await;
            r.map_err(|e| self.refused(e))?;
            self.sink.set_current(position, attempt as i32);
            Ok(self.lost.clone())
        })
    }

    fn attempt_ended<'a>(&'a self, hook: &'a Hook, end: AttemptEnd<'a>) -> GateFuture<'a, ()> {
        Box::pin(async move {
            if self.handing_back.load(std::sync::atomic::Ordering::Relaxed) || *self.lost.borrow() {
                return Err(GateRefused("the lease is lost or being given back".into()));
            }
            let position = self.find(hook)?.position;
            let outcome_json = serde_json::to_value(end.outcome).unwrap_or(serde_json::Value::Null);
            let mut client = self.writer.lock().await;
            let lines = self.sink.take();
            let r = async {
                let tx = client.transaction().await?;
                lease::check(&tx, self.fence).await?;
                logs::insert(&tx, self.fence, &lines).await?;
                let result = result_of(end.outcome);
                let closed = tx
                    .execute(
                        "UPDATE hookbox_attempts SET ended_at = clock_timestamp(), result = $5, exit_code = $6
                         WHERE deployment_id = $1 AND position = $2 AND attempt = $3 AND fence = $4
                           AND ended_at IS NULL",
                        &[
                            &self.fence.deployment,
                            &position,
                            &(end.attempt as i32),
                            &self.fence.token,
                            &result,
                            &end.outcome.exit_code,
                        ],
                    )
                    .await?;
                // An attempt closed before (lost with its worker) keeps its own result.
                let state = if closed == 1 {
                    result.to_string()
                } else {
                    tx.query_opt(
                        "SELECT result FROM hookbox_attempts
                         WHERE deployment_id = $1 AND position = $2 AND attempt = $3",
                        &[&self.fence.deployment, &position, &(end.attempt as i32)],
                    )
                    .await?
                    .and_then(|r| r.get::<_, Option<String>>(0))
                    .unwrap_or_else(|| result.to_string())
                };
                if end.last {
                    let n = tx
                        .execute(
                            "UPDATE hookbox_hooks SET state = $3, outcome = $4
                             WHERE deployment_id = $1 AND position = $2 AND outcome IS NULL",
                            &[&self.fence.deployment, &position, &state, &outcome_json],
                        )
                        .await?;
                    if n != 1 {
                        return Err(FleetError::Invalid(format!(
                            "hook {position} of deployment {} already has an outcome",
                            self.fence.deployment
                        )));
                    }
                }
                tx.commit().await?;
                Ok::<(), FleetError>(())
            }
            .await;
            r.map_err(|e| self.refused(e))?;
            self.sink.set_deployment();
            if end.last {
                if let Ok(mut d) = self.done.lock() {
                    d.push(position);
                }
            }
            Ok(())
        })
    }

    fn wait<'a>(&'a self, _hook: &'a Hook, delay: Duration) -> GateFuture<'a, ()> {
        Box::pin(async move {
            let mut lost = self.lost.clone();
            tokio::select! {
                _ = tokio::time::sleep(delay) => Ok(()),
                _ = lost.wait_for(|l| *l) => Err(GateRefused("the lease was lost while waiting to retry".into())),
            }
        })
    }
}
