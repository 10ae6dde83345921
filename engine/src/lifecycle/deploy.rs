//! `hookbox deploy` and `hookbox rollback`: a real local deployment into a state folder
//! owned by hookbox, outside the project ([`super::releases`]).
//!
//! The flow (each step reported with its duration):
//! copy DIR into `releases/<id>` → install → pre-deploy hooks → build → start (background)
//! → health check → Procfile gate (`postdeploy`/`release`) → switch `current` → post-deploy
//! hooks → prune old releases.
//!
//! Until the switch, `current` keeps pointing at the previous release: any failure (or
//! SIGINT/SIGTERM, through the cancel watch) stops what this deploy started, starts the
//! previous application again when this deploy had stopped it, removes the failed release,
//! and says that the previous release keeps serving. Install, build, health-check commands run
//! like command hooks under the project's runner (in the release, the hook environment, as the
//! hook user when root, confined); "start" runs confined in the background ([`super::app`],
//! [`super::deploy_cmd`]).
//!
//! What a later rollback or restart needs (the start command, its environment, the user, the
//! policy) is recorded in the state folder at deploy time ([`ReleaseRecord`]) and read from
//! there, never from the release, which the hook user owns.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::app::{self, App};
use super::copyfilter::{CopyFilter, IgnoreError};
use super::deploy_cmd::{self, StartGrants};
use super::releases::{ReleaseRecord, StateDir, DEFAULT_KEEP_RELEASES};
use super::{
    env, fsutil, run_point, LifecycleError, Outcome, PointResult, RunContext, Runners, Status,
};
use crate::events::{Event, Events, StepState};
use crate::limits::Limits;
use crate::plan::{HookProgram, Plan, Point};
use crate::runner::{Exit, Invocation, OutputSink, RunReport, Stream};

/// Default time the health check may take before the deploy fails: 60 s (Flux-Orbit's).
pub const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(60);
/// Default pause between two health-check attempts: 1 s.
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(1);
/// Default longest single health-check attempt: 10 s.
pub const DEFAULT_HEALTH_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a "start" process must stay up when no health check is configured: 1 s.
pub const DEFAULT_START_GRACE: Duration = Duration::from_secs(1);
/// Default timeout of the install and build commands: 30 min (dependency installs are slow;
/// the limit only guards against a hung deploy).
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Options of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployOptions {
    /// Releases kept after a successful deploy (`--keep`). Default [`DEFAULT_KEEP_RELEASES`].
    pub keep: usize,
    /// Health-check budget. Default [`DEFAULT_HEALTH_TIMEOUT`].
    pub health_timeout: Duration,
    /// Pause between attempts. Default [`DEFAULT_HEALTH_INTERVAL`].
    pub health_interval: Duration,
    /// Install/build timeout. Default [`DEFAULT_COMMAND_TIMEOUT`].
    pub command_timeout: Duration,
    /// See [`DEFAULT_START_GRACE`].
    pub start_grace: Duration,
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions {
            keep: DEFAULT_KEEP_RELEASES,
            health_timeout: DEFAULT_HEALTH_TIMEOUT,
            health_interval: DEFAULT_HEALTH_INTERVAL,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            start_grace: DEFAULT_START_GRACE,
        }
    }
}

/// A step of a deployment, for the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepOutcome {
    pub step: String,
    pub state: StepState,
    pub duration_ms: u64,
    pub detail: Option<String>,
}

/// Why a deployment or rollback could not be done (state folder problems, the lock).
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("another deploy or rollback of this project is running (it holds {lock}); wait for it to finish")]
    Busy { lock: PathBuf },
    #[error("cannot {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("nothing to roll back to in {dir}: {why}")]
    NoRollback { dir: PathBuf, why: String },
    #[error("refusing the deploy state folder {path}: {why}; give --state-dir a folder only hookbox's user owns and can write (mode 0700 or 0711)")]
    UnsafeState { path: PathBuf, why: String },
    #[error("{dir} was never deployed here (no state folder {state}); deploy it first, or give the --state-dir it was deployed with")]
    NotDeployed { dir: PathBuf, state: PathBuf },
    #[error("no release {id} in {state}; `hookbox releases` lists the ones kept")]
    UnknownRelease { id: String, state: PathBuf },
    #[error(transparent)]
    Ignore(#[from] IgnoreError),
}

impl DeployError {
    pub(crate) fn io(what: &'static str, path: &Path, source: std::io::Error) -> Self {
        DeployError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Keeps the last lines of a command's output (health-check attempts would flood the log).
#[derive(Default)]
struct TailSink {
    lines: Mutex<Vec<(Stream, String)>>,
}

const TAIL_LINES: usize = 20;

impl OutputSink for TailSink {
    fn line(&self, stream: Stream, line: &[u8]) {
        if let Ok(mut l) = self.lines.lock() {
            if l.len() >= TAIL_LINES {
                l.remove(0);
            }
            l.push((stream, String::from_utf8_lossy(line).into_owned()));
        }
    }
    fn truncated(&self, _cap_bytes: u64) {}
}

struct Flow<'a> {
    state: &'a StateDir,
    opts: &'a DeployOptions,
    ctx: RunContext,
    runners: Runners<'a>,
    events: &'a Arc<Events>,
    cancel: tokio::sync::watch::Receiver<bool>,
    steps: Vec<StepOutcome>,
    hooks: PointResult,
    /// The project's policy: install/build/health run as its user, like hooks.
    policy: crate::bridge::policy::Policy,
    /// The project's runner: install/build/health run under it, like hooks.
    runner: crate::plan::RunnerKind,
}

impl Flow<'_> {
    fn step_start(&self, step: &str, detail: Option<String>) -> Instant {
        self.events.emit(&Event::Step {
            step: step.into(),
            state: StepState::Started,
            duration_ms: None,
            detail,
        });
        Instant::now()
    }

    fn step_end(&mut self, step: &str, state: StepState, started: Instant, detail: Option<String>) {
        let duration_ms = started.elapsed().as_millis() as u64;
        self.events.emit(&Event::Step {
            step: step.into(),
            state,
            duration_ms: Some(duration_ms),
            detail: detail.clone(),
        });
        self.steps.push(StepOutcome {
            step: step.into(),
            state,
            duration_ms,
            detail,
        });
    }

    fn skipped(&mut self, step: &str, why: &str) {
        self.events.emit(&Event::Step {
            step: step.into(),
            state: StepState::Skipped,
            duration_ms: None,
            detail: Some(why.into()),
        });
        self.steps.push(StepOutcome {
            step: step.into(),
            state: StepState::Skipped,
            duration_ms: 0,
            detail: Some(why.into()),
        });
    }

    fn cancelled(&self) -> bool {
        *self.cancel.borrow()
    }

    /// Runs `bash -c command` in the release through the project's runner, like a hook.
    async fn command(
        &self,
        step: &str,
        command: &str,
        timeout: Duration,
        sink: Arc<dyn OutputSink>,
    ) -> Result<RunReport, String> {
        let home =
            fsutil::private_temp_dir(&self.ctx.temp_root, "hookbox-home-", self.ctx.hook_user)
                .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let invocation = Invocation {
            hook_name: step.to_string(),
            stage: step.to_string(),
            program: HookProgram::Command(command.to_string()),
            args: Vec::new(),
            env: env::hook_env(
                &self.ctx.app_env,
                &self.ctx.platform,
                step,
                step,
                home.path(),
            ),
            work_dir: self.ctx.platform.work_dir.clone(),
            temp_dir: home.path().to_path_buf(),
            shared_dirs: self
                .ctx
                .platform
                .shared_dir
                .iter()
                .chain(&self.policy.extra_dirs)
                .cloned()
                .collect(),
            limits: Limits {
                timeout,
                ..self.ctx.limits.clone()
            },
            policy: self.policy.clone(),
        };
        deploy_cmd::runner(&self.runners, self.runner)?
            .run(&invocation, sink, self.cancel.clone())
            .await
            .map_err(|e| e.to_string())
    }

    /// A foreground step (install, build); `Ok(())` when it succeeded or is not configured.
    async fn foreground(&mut self, step: &str, command: Option<&str>) -> Result<(), String> {
        let Some(command) = command else {
            self.skipped(step, "not configured");
            return Ok(());
        };
        let started = self.step_start(step, Some(command.to_string()));
        let sink = self.events.hook_sink(step);
        let result = self
            .command(step, command, self.opts.command_timeout, sink)
            .await;
        let why = match result {
            Ok(r) if r.exit.success() => {
                self.step_end(step, StepState::Ok, started, None);
                return Ok(());
            }
            Ok(r) => describe_exit(r.exit, self.opts.command_timeout),
            Err(e) => e,
        };
        self.step_end(step, StepState::Failed, started, Some(why.clone()));
        Err(format!("{step} {why}"))
    }

    /// Repeats the health check until it passes, the app dies, or the budget is spent.
    async fn health(&mut self, command: Option<&str>, app: &mut Option<App>) -> Result<(), String> {
        let Some(command) = command else {
            let Some(a) = app.as_mut() else {
                self.skipped("health-check", "not configured");
                return Ok(());
            };
            let started = self.step_start(
                "health-check",
                Some(format!(
                    "start must stay up for {} s",
                    self.opts.start_grace.as_secs_f32()
                )),
            );
            tokio::time::sleep(self.opts.start_grace).await;
            return match a.exited() {
                None => {
                    self.step_end("health-check", StepState::Ok, started, None);
                    Ok(())
                }
                Some(status) => {
                    let why = format!(
                        "the start command exited ({status}); see {}",
                        self.state.log_path("app.log").display()
                    );
                    self.step_end(
                        "health-check",
                        StepState::Failed,
                        started,
                        Some(why.clone()),
                    );
                    Err(why)
                }
            };
        };
        let started = self.step_start(
            "health-check",
            Some(format!(
                "{command} (up to {} s)",
                self.opts.health_timeout.as_secs()
            )),
        );
        let deadline = started
            .checked_add(self.opts.health_timeout.min(crate::limits::MAX_TIMEOUT))
            .unwrap_or(started);
        let mut attempts = 0u32;
        // The health check can wait a minute in silence; on a terminal, say it is waiting
        // once it has for a second, then as often as a long hook says it is running.
        let mut next_progress = self
            .ctx
            .progress_every
            .map(|_| started + Duration::from_secs(1));
        loop {
            attempts += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let tail = Arc::new(TailSink::default());
            let result = self
                .command(
                    "health-check",
                    command,
                    remaining
                        .min(DEFAULT_HEALTH_ATTEMPT_TIMEOUT)
                        .max(Duration::from_secs(1)),
                    tail.clone(),
                )
                .await;
            if matches!(&result, Ok(r) if r.exit.success()) {
                self.step_end(
                    "health-check",
                    StepState::Ok,
                    started,
                    Some(format!("{attempts} attempt(s)")),
                );
                return Ok(());
            }
            let app_died = app.as_mut().and_then(|a| a.exited());
            if self.cancelled()
                || app_died.is_some()
                || Instant::now() + self.opts.health_interval >= deadline
            {
                for (stream, line) in tail.lines.lock().map(|l| l.clone()).unwrap_or_default() {
                    self.events.emit(&Event::Output {
                        hook: "health-check".into(),
                        stream,
                        line,
                    });
                }
                let why = match (app_died, result) {
                    (Some(status), _) => {
                        format!(
                            "the start command exited ({status}); see {}",
                            self.state.log_path("app.log").display()
                        )
                    }
                    (None, Ok(r)) => format!(
                        "not healthy after {attempts} attempt(s) in {} s (last: {})",
                        started.elapsed().as_secs(),
                        describe_exit(r.exit, remaining)
                    ),
                    (None, Err(e)) => e,
                };
                self.step_end(
                    "health-check",
                    StepState::Failed,
                    started,
                    Some(why.clone()),
                );
                return Err(why);
            }
            if let (Some(at), Some(every)) = (next_progress, self.ctx.progress_every) {
                if Instant::now() >= at {
                    self.events.emit(&Event::Progress {
                        hook: "health-check".into(),
                        elapsed_secs: started.elapsed().as_secs(),
                        detail: Some(format!(
                            "not healthy yet, {attempts} attempt(s), trying until {} s",
                            self.opts.health_timeout.as_secs()
                        )),
                    });
                    next_progress = Some(Instant::now() + every);
                }
            }
            let mut cancel = self.cancel.clone();
            tokio::select! {
                _ = tokio::time::sleep(self.opts.health_interval) => {}
                _ = cancel.changed() => {}
            }
        }
    }

    async fn hooks(
        &mut self,
        step: &str,
        plan: &Plan,
        point: Point,
    ) -> Result<PointResult, LifecycleError> {
        let count = super::hooks_at(plan, point).len();
        if count == 0 {
            self.skipped(step, "no hooks");
            return Ok(PointResult::default());
        }
        let started = self.step_start(step, None);
        let r = run_point(
            plan,
            point,
            &self.ctx,
            &self.runners,
            self.events,
            &self.cancel,
        )
        .await?;
        let (state, detail) = if r.cancelled {
            (StepState::Failed, Some("cancelled".to_string()))
        } else if r.fatal.is_some() {
            (
                StepState::Failed,
                r.hooks
                    .last()
                    .map(|h| format!("{} {}", h.name, h.describe())),
            )
        } else if !r.skipped.is_empty() && r.hooks.is_empty() {
            (StepState::Skipped, Some("SKIP_HOOKS".to_string()))
        } else if !r.warnings.is_empty() {
            (
                StepState::Ok,
                Some(format!("{} warning(s)", r.warnings.len())),
            )
        } else {
            (StepState::Ok, None)
        };
        self.step_end(step, state, started, detail);
        Ok(r)
    }
}

fn describe_exit(exit: Exit, timeout: Duration) -> String {
    match exit {
        Exit::Code(n) => format!("failed with exit code {n}"),
        Exit::TimedOut => format!("timed out after {} s", timeout.as_secs()),
        Exit::Signal(s) => format!("was killed by signal {s}"),
        Exit::Cancelled => "was cancelled".into(),
        Exit::FuelExhausted => "ran out of fuel".into(),
        Exit::MemoryLimit => "exceeded its memory limit".into(),
    }
}

/// The plan with its root and hook files moved from the project into the release.
fn rebase(plan: &Plan, release: &Path) -> Plan {
    let mut p = plan.clone();
    let re = |path: &Path| -> PathBuf {
        match path.strip_prefix(&plan.root) {
            Ok(rel) => release.join(rel),
            Err(_) if path.is_relative() => release.join(path),
            Err(_) => path.to_path_buf(),
        }
    };
    for hook in &mut p.hooks {
        hook.program = match &hook.program {
            HookProgram::Script(s) => HookProgram::Script(re(s)),
            HookProgram::Wasm(s) => HookProgram::Wasm(re(s)),
            other => other.clone(),
        };
    }
    p.root = release.to_path_buf();
    p
}

/// Deploys the project of `plan` (discovered from `plan.root`) into the state folder `state`
/// ([`StateDir::create`]). `ctx.platform` is adjusted per release (work dir,
/// `CONTAINER_VERSION`, shared dir). Errors mean nothing was deployed and nothing ran (the
/// lock is held by another deploy, the state folder is unusable, a bad `.hookboxignore`).
pub async fn deploy(
    plan: &Plan,
    state: &StateDir,
    ctx: &RunContext,
    opts: &DeployOptions,
    runners: Runners<'_>,
    events: &Arc<Events>,
    cancel: tokio::sync::watch::Receiver<bool>,
) -> Result<Outcome, LifecycleError> {
    let filter = CopyFilter::for_project(&plan.root).map_err(DeployError::from)?;
    super::check_reachable(&state.releases_path(), ctx.hook_user)?;
    let _lock = state.lock()?;
    if !ctx.skip_hooks {
        super::check_runners(
            plan.hooks.iter().filter(|h| h.point != Point::Task),
            &runners,
        )?;
    }
    let previous = state.current_id();
    let id = state.new_id()?;
    let release_dir = state.release(&id);
    let work_dir = release_dir.clone();

    let mut run_ctx = ctx.clone();
    run_ctx.platform.work_dir = work_dir.clone();
    run_ctx.platform.container_version = Some(id.clone());
    run_ctx.platform.shared_dir = Some(state.shared());
    let mut flow = Flow {
        state,
        opts,
        ctx: run_ctx,
        runners,
        events,
        cancel,
        steps: Vec::new(),
        hooks: PointResult::default(),
        policy: plan.policy.clone(),
        runner: plan.runner,
    };
    events.emit(&Event::Info {
        message: format!(
            "Deploying {} as release {id} into {} (current: {})",
            plan.root.display(),
            release_dir.display(),
            previous.as_deref().unwrap_or("none")
        ),
    });

    super::report_not_run(plan, events);
    // copy
    let started = flow.step_start("copy", Some(format!("releases/{id}")));
    let skip = |rel: &Path, is_dir: bool| filter.skips(rel, is_dir);
    let mut record = ReleaseRecord {
        id: id.clone(),
        project: plan.root.clone(),
        deployed_at: crate::events::time::rfc3339(std::time::SystemTime::now()),
        status: "deploying".into(),
        work_dir: work_dir.clone(),
        start: plan.deploy.start.clone(),
        start_env: recordable_env(env::hook_env(
            &flow.ctx.app_env,
            &flow.ctx.platform,
            "start",
            "start",
            Path::new(""),
        )),
        user: ctx.hook_user,
        policy: plan.policy.clone(),
    };
    let copied = state
        .create_release(&id, &plan.root, &skip, ctx.hook_user)
        .and_then(|_| state.write_record(&record));
    if let Err(e) = copied {
        flow.step_end("copy", StepState::Failed, started, Some(e.to_string()));
        let _ = state.remove_release(&id);
        return Ok(finish(
            flow,
            Status::BuildFailed,
            &format!("copying the project failed: {e}"),
            previous,
            None,
            None,
            &id,
        ));
    }
    flow.step_end("copy", StepState::Ok, started, None);
    let plan = rebase(plan, &release_dir);
    let d = plan.deploy.clone();

    let mut app: Option<App> = None;
    let mut stopped_previous: Option<app::AppRecord> = None;

    let mut error: Option<LifecycleError> = None;
    let failure: Option<(Status, String)> = 'flow: {
        macro_rules! check_cancel {
            () => {
                if flow.cancelled() {
                    break 'flow Some((Status::Cancelled, "cancelled by signal".to_string()));
                }
            };
        }
        check_cancel!();
        if let Err(why) = flow.foreground("install", d.install.as_deref()).await {
            break 'flow Some((
                if flow.cancelled() {
                    Status::Cancelled
                } else {
                    Status::BuildFailed
                },
                why,
            ));
        }
        check_cancel!();
        let r = match flow.hooks("pre-deploy", &plan, Point::BeforeBuild).await {
            Ok(r) => r,
            Err(e) => {
                error = Some(e);
                break 'flow None;
            }
        };
        let (fatal, cancelled) = (r.fatal, r.cancelled);
        let last = r
            .hooks
            .last()
            .map(|h| format!("{} {}", h.name, h.describe()));
        flow.hooks.absorb(r);
        if cancelled {
            break 'flow Some((Status::Cancelled, "cancelled by signal".into()));
        }
        if let Some(rule) = fatal {
            break 'flow Some((Status::of_failure(rule), last.unwrap_or_default()));
        }
        check_cancel!();
        if let Err(why) = flow.foreground("build", d.build.as_deref()).await {
            break 'flow Some((
                if flow.cancelled() {
                    Status::Cancelled
                } else {
                    Status::BuildFailed
                },
                why,
            ));
        }
        check_cancel!();
        match d.start.as_deref() {
            None => flow.skipped("start", "not configured"),
            Some(command) => {
                let started = flow.step_start("start", Some(command.to_string()));
                stopped_previous = app::stop_recorded(state);
                let home = fsutil::private_temp_dir(&ctx.temp_root, "hookbox-app-", ctx.hook_user)
                    .map(|t| t.keep());
                let result = home
                    .map_err(|e| DeployError::io("create", &ctx.temp_root, e))
                    .and_then(|home| {
                        let env = with_home(&record.start_env, &home);
                        let grants = StartGrants::of(&flow.policy, &ctx.limits);
                        app::start(
                            state,
                            &id,
                            &work_dir,
                            command,
                            &env,
                            home,
                            ctx.hook_user,
                            &grants,
                        )
                    });
                match result {
                    Ok(a) => {
                        let pid = a.record.pid;
                        app = Some(a);
                        flow.step_end(
                            "start",
                            StepState::Ok,
                            started,
                            Some(format!(
                                "pid {pid}, output in {}",
                                state.log_path("app.log").display()
                            )),
                        );
                    }
                    Err(e) => {
                        flow.step_end("start", StepState::Failed, started, Some(e.to_string()));
                        break 'flow Some((Status::HealthCheckFailed, e.to_string()));
                    }
                }
            }
        }
        check_cancel!();
        if let Err(why) = flow.health(d.health_check.as_deref(), &mut app).await {
            break 'flow Some((
                if flow.cancelled() {
                    Status::Cancelled
                } else {
                    Status::HealthCheckFailed
                },
                format!("health check: {why}"),
            ));
        }
        check_cancel!();
        let r = match flow.hooks("gate", &plan, Point::BeforeSwitch).await {
            Ok(r) => r,
            Err(e) => {
                error = Some(e);
                break 'flow None;
            }
        };
        let (fatal, cancelled) = (r.fatal, r.cancelled);
        let last = r
            .hooks
            .last()
            .map(|h| format!("{} {}", h.name, h.describe()));
        flow.hooks.absorb(r);
        if cancelled {
            break 'flow Some((Status::Cancelled, "cancelled by signal".into()));
        }
        if let Some(rule) = fatal {
            break 'flow Some((Status::of_failure(rule), last.unwrap_or_default()));
        }
        check_cancel!();
        None
    };

    if let Some(e) = error {
        // Nothing could run (a temporary directory, a runner): undo as for a failure.
        if let Some(a) = app.take() {
            a.stop(state);
        }
        if let Some(prev) = stopped_previous {
            restart_previous(&mut flow, &prev);
        }
        let _ = state.remove_release(&id);
        return Err(e);
    }
    if let Some((status, why)) = failure {
        // Undo: stop what this deploy started, bring the previous application back.
        if let Some(a) = app.take() {
            a.stop(state);
        }
        if let Some(prev) = stopped_previous {
            restart_previous(&mut flow, &prev);
        }
        let _ = state.remove_release(&id);
        return Ok(finish(
            flow,
            status,
            &why,
            previous.clone(),
            previous,
            None,
            &id,
        ));
    }

    // switch
    let started = flow.step_start("switch", Some(format!("current -> releases/{id}")));
    if let Err(e) = state.switch(&id) {
        flow.step_end("switch", StepState::Failed, started, Some(e.to_string()));
        if let Some(a) = app.take() {
            a.stop(state);
        }
        if let Some(prev) = stopped_previous {
            restart_previous(&mut flow, &prev);
        }
        let _ = state.remove_release(&id);
        return Ok(finish(
            flow,
            Status::BuildFailed,
            &e.to_string(),
            previous.clone(),
            previous,
            None,
            &id,
        ));
    }
    flow.step_end("switch", StepState::Ok, started, None);
    if d.start.is_none() {
        // The new release runs no application: the old one must not keep serving.
        app::stop_recorded(state);
    }

    // post-deploy: failures are warnings; a cancel here no longer undoes the switch.
    let r = flow.hooks("post-deploy", &plan, Point::AfterSwitch).await?;
    flow.hooks.absorb(r);

    match state.prune(opts.keep) {
        Ok(removed) if !removed.is_empty() => events.emit(&Event::Info {
            message: format!("Removed old release(s): {}", removed.join(", ")),
        }),
        Ok(_) => {}
        Err(e) => {
            let message = format!("could not remove old releases: {e}");
            events.emit(&Event::Warning {
                message: message.clone(),
            });
            flow.hooks.warnings.push(message);
        }
    }
    let status = if flow.hooks.warnings.is_empty() {
        Status::Success
    } else {
        Status::SuccessWithWarnings
    };
    record.status = status.to_string();
    if let Err(e) = state.write_record(&record) {
        let message = format!("could not record the release's status: {e}");
        events.emit(&Event::Warning {
            message: message.clone(),
        });
        flow.hooks.warnings.push(message);
    }
    Ok(finish(
        flow,
        status,
        "",
        previous,
        Some(id.clone()),
        Some(id.clone()),
        &id,
    ))
}

/// The recorded environment of `start`: everything but the per-run `HOME` and `TMPDIR`.
fn recordable_env(mut env: BTreeMap<String, String>) -> BTreeMap<String, String> {
    env.remove("HOME");
    env.remove("TMPDIR");
    env
}

/// A recorded environment with this run's private `HOME` and `TMPDIR`.
fn with_home(recorded: &BTreeMap<String, String>, home: &Path) -> BTreeMap<String, String> {
    let mut env = recorded.clone();
    let h = home.to_string_lossy().into_owned();
    env.insert("HOME".into(), h.clone());
    env.insert("TMPDIR".into(), h);
    env
}

/// Starts release `id`'s application as its deploy recorded it (command, environment with
/// `extra` over it, user), never as the release's own files now say.
fn start_recorded(
    state: &StateDir,
    record: &ReleaseRecord,
    command: &str,
    temp_root: &Path,
    extra: &BTreeMap<String, String>,
) -> Result<App, DeployError> {
    let home = fsutil::private_temp_dir(temp_root, "hookbox-app-", record.user)
        .map(|t| t.keep())
        .map_err(|e| DeployError::io("create", temp_root, e))?;
    let mut env = with_home(&record.start_env, &home);
    env.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    // The memory limit is not recorded; the default applies to a restarted application.
    let grants = StartGrants::of(&record.policy, &Limits::default());
    app::start(
        state,
        &record.id,
        &record.work_dir,
        command,
        &env,
        home,
        record.user,
        &grants,
    )
}

fn restart_previous(flow: &mut Flow<'_>, prev: &app::AppRecord) {
    let record = match flow.state.record(&prev.release) {
        Ok(Some(r)) => r,
        Ok(None) | Err(_) => {
            flow.events.emit(&Event::Warning {
                message: format!(
                    "the application of releases/{} cannot be started again: its deploy record is missing",
                    prev.release
                ),
            });
            return;
        }
    };
    let Some(command) = record.start.clone() else {
        return;
    };
    if !flow.state.release(&record.id).is_dir() {
        return;
    }
    let started = flow.step_start(
        "restart-previous",
        Some(format!("releases/{}", prev.release)),
    );
    let result = start_recorded(
        flow.state,
        &record,
        &command,
        &flow.ctx.temp_root,
        &BTreeMap::new(),
    );
    match result {
        Ok(_) => flow.step_end("restart-previous", StepState::Ok, started, None),
        Err(e) => flow.step_end(
            "restart-previous",
            StepState::Failed,
            started,
            Some(e.to_string()),
        ),
    }
}

fn finish(
    flow: Flow<'_>,
    status: Status,
    why: &str,
    previous: Option<String>,
    current: Option<String>,
    release: Option<String>,
    id: &str,
) -> Outcome {
    let message = if status.is_success() {
        let warn = if status == Status::SuccessWithWarnings {
            format!(" with {} warning(s)", flow.hooks.warnings.len())
        } else {
            String::new()
        };
        format!("Deployment status: {status}{warn}; current -> releases/{id}")
    } else {
        let serving = match &previous {
            Some(p) => {
                format!("current still points at releases/{p}; the previous release keeps serving")
            }
            None => "there was no previous release; nothing is deployed".to_string(),
        };
        format!("Deployment status: {status} ({why}); release {id} was removed; {serving}")
    };
    flow.events.emit(&Event::Status {
        status: status.to_string(),
        message: message.clone(),
    });
    Outcome {
        status,
        hooks: flow.hooks.hooks,
        skipped: flow.hooks.skipped,
        warnings: flow.hooks.warnings,
        steps: flow.steps,
        release,
        current,
        message,
    }
}

/// Options of a rollback.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollbackOptions {
    /// The release to point `current` at (older or newer than it). Default: the newest
    /// successfully deployed release older than `current`.
    pub to: Option<String>,
    /// Where the application's private HOME is made.
    pub temp_root: PathBuf,
    /// Variables over the recorded environment of `start` (the operator's `--env`).
    pub env: BTreeMap<String, String>,
}

fn deployed_ok(record: &Option<ReleaseRecord>) -> bool {
    record.as_ref().is_some_and(|r| {
        r.status == Status::Success.as_str() || r.status == Status::SuccessWithWarnings.as_str()
    })
}

/// `hookbox rollback`: points `current` at another kept release (the one before it, or
/// `opts.to`) and starts that release's application with what its deploy recorded: command,
/// environment, user — never the release's own `hookbox.toml`, which a hook may have
/// rewritten. A release whose deploy did not succeed (or left no record) is refused.
pub fn rollback(
    state: &StateDir,
    opts: &RollbackOptions,
    events: &Arc<Events>,
) -> Result<Outcome, LifecycleError> {
    let dir = state.path().to_path_buf();
    let _lock = state.lock()?;
    let ids = state.list()?;
    let current = state.current_id();
    let (target, record) = match &opts.to {
        Some(to) => {
            if !ids.contains(to) {
                return Err(DeployError::UnknownRelease {
                    id: to.clone(),
                    state: dir,
                }
                .into());
            }
            if current.as_ref() == Some(to) {
                return Err(DeployError::NoRollback {
                    dir,
                    why: format!("releases/{to} is already current"),
                }
                .into());
            }
            let record = state.record(to)?;
            if !deployed_ok(&record) {
                return Err(DeployError::NoRollback {
                    dir,
                    why: format!(
                        "releases/{to} was not deployed successfully ({})",
                        record
                            .map(|r| r.status)
                            .unwrap_or_else(|| "no record".into())
                    ),
                }
                .into());
            }
            (to.clone(), record)
        }
        None => {
            let Some(cur) = current.clone() else {
                return Err(DeployError::NoRollback {
                    dir,
                    why: "no current release".into(),
                }
                .into());
            };
            let mut found = None;
            for id in ids.iter().rev().filter(|id| **id < cur) {
                let record = state.record(id)?;
                if deployed_ok(&record) {
                    found = Some((id.clone(), record));
                    break;
                }
            }
            found.ok_or_else(|| DeployError::NoRollback {
                dir,
                why: format!("releases/{cur} is the oldest release kept"),
            })?
        }
    };
    let was = current.as_deref().unwrap_or("none").to_string();
    let started = Instant::now();
    state.switch(&target)?;
    let detail = format!("current -> releases/{target} (was {was})");
    events.emit(&Event::Step {
        step: "switch".into(),
        state: StepState::Ok,
        duration_ms: Some(started.elapsed().as_millis() as u64),
        detail: Some(detail.clone()),
    });
    let mut steps = vec![StepOutcome {
        step: "switch".into(),
        state: StepState::Ok,
        duration_ms: started.elapsed().as_millis() as u64,
        detail: Some(detail),
    }];
    let mut warnings = Vec::new();
    let had_app = app::stop_recorded(state).is_some();
    let command = record.as_ref().and_then(|r| r.start.clone());
    if let (Some(record), Some(command)) = (&record, command) {
        let started = Instant::now();
        let result = start_recorded(state, record, &command, &opts.temp_root, &opts.env);
        let (step_state, detail) = match result {
            Ok(a) => (StepState::Ok, Some(format!("pid {}", a.record.pid))),
            Err(e) => {
                let m = format!("the application of releases/{target} did not start: {e}");
                events.emit(&Event::Warning { message: m.clone() });
                warnings.push(m);
                (StepState::Failed, Some(e.to_string()))
            }
        };
        let duration_ms = started.elapsed().as_millis() as u64;
        events.emit(&Event::Step {
            step: "start".into(),
            state: step_state,
            duration_ms: Some(duration_ms),
            detail: detail.clone(),
        });
        steps.push(StepOutcome {
            step: "start".into(),
            state: step_state,
            duration_ms,
            detail,
        });
    } else if had_app {
        events.emit(&Event::Info {
            message: "The running application was stopped; the release rolled back to has no start command".into(),
        });
    }
    let status = if warnings.is_empty() {
        Status::Success
    } else {
        Status::SuccessWithWarnings
    };
    let message = format!("Rollback status: {status}; current -> releases/{target} (was {was})");
    events.emit(&Event::Status {
        status: status.to_string(),
        message: message.clone(),
    });
    Ok(Outcome {
        status,
        hooks: Vec::new(),
        skipped: Vec::new(),
        warnings,
        steps,
        release: None,
        current: Some(target),
        message,
    })
}
