//! The lifecycle: a [`Plan`] plus runners in, an [`Outcome`] out, under DESIGN.md's table.
//!
//! [`run_stage`] runs the hooks of one stage in place (`hookbox run STAGE`); [`deploy`] runs
//! a whole local deployment and calls [`run_point`] at each point of it. Both apply the same
//! rules: the scripts of one stage run in plan (byte) order and the first failure stops the
//! rest; what a failure then does is the hook's [`FailureRule`]; a timeout is a failure
//! reported as a timeout; `SKIP_HOOKS` skips every hook and says so.
//!
//! The lifecycle never asks which runner it has: it picks the runner of the hook's
//! [`RunnerKind`] from [`Runners`]; a sandbox hook without a sandbox runner is an error before
//! anything runs, never a silent native run. Everything it reports goes through
//! [`crate::events::Events`].

pub mod app;
pub mod copyfilter;
pub mod deploy;
mod deploy_cmd;
pub mod env;
pub(crate) mod fsutil;
mod hook;
pub mod manage;
pub mod releases;
pub mod safefs;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::events::{Event, Events};
use crate::limits::{Limits, DEFAULT_TIMEOUT};
use crate::plan::{FailureRule, Hook, Plan, Point, RunnerKind};
use crate::runner::{Exit, Runner};

pub use env::Platform;
pub use hook::HookOutcome;

/// The runners a run may use, one per [`RunnerKind`].
#[derive(Clone, Copy)]
pub struct Runners<'a> {
    pub native: &'a dyn Runner,
    /// `None` when this build or host has no sandbox runner: sandbox hooks are then refused.
    pub sandbox: Option<&'a dyn Runner>,
}

impl<'a> Runners<'a> {
    fn get(&self, kind: RunnerKind) -> Option<&'a dyn Runner> {
        match kind {
            RunnerKind::Native => Some(self.native),
            RunnerKind::Sandbox => self.sandbox,
        }
    }
}

/// The user hook processes run as, when hookbox runs as root: the folders a hook may write
/// (its temporary HOME, the release, shared/) are handed to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct HookIds {
    pub uid: u32,
    pub gid: u32,
}

/// Where a timeout comes from, in the Contracts' order of precedence:
/// `--timeout` > the hook's own setting > `HOOK_TIMEOUT` > [`DEFAULT_TIMEOUT`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// `--timeout`.
    pub cli: Option<Duration>,
    /// `HOOK_TIMEOUT`, read by the CLI.
    pub env: Option<Duration>,
}

impl Timeouts {
    /// The timeout of a hook whose own setting is `own`.
    pub fn resolve(&self, own: Option<Duration>) -> Duration {
        self.cli.or(own).or(self.env).unwrap_or(DEFAULT_TIMEOUT)
    }
}

/// Everything a run needs besides the plan. Built by the caller (the CLI reads the process
/// environment into it; a library user fills it directly).
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Application variables, already layered (see [`env::layer_app_env`]).
    pub app_env: BTreeMap<String, String>,
    /// Platform values (`WORK_DIR`, `PROJECT_PATH`, …).
    pub platform: Platform,
    pub timeouts: Timeouts,
    /// `SKIP_HOOKS`: skip every hook, saying so.
    pub skip_hooks: bool,
    /// Arguments appended to every hook's own (`hookbox run STAGE -- ARGS`).
    pub extra_args: Vec<String>,
    /// Limits other than the timeout (which [`Timeouts`] decides per hook).
    pub limits: Limits,
    /// Where each hook run's private HOME is created (and removed after the hook).
    pub temp_root: PathBuf,
    /// The hook user when running as root (see [`HookIds`]).
    pub hook_user: Option<HookIds>,
    /// Print "still running" every this often for a long hook (terminal only). `None`: never.
    pub progress_every: Option<Duration>,
    /// Steers and records every attempt of every hook (the fleet worker). `None`: attempts
    /// are decided in this process alone.
    pub gate: Option<crate::retry::Gate>,
}

/// The overall status of a stage run or a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Success,
    SuccessWithWarnings,
    /// A pre-deploy hook (or another `abort` hook) failed; the previous release keeps serving.
    Aborted,
    /// A Procfile `postdeploy`/`release` hook failed; the previous release keeps serving.
    HookError,
    /// A task hook (Site Factory) failed; its remaining scripts were skipped.
    TaskFailed,
    BuildFailed,
    HealthCheckFailed,
    Cancelled,
}

impl Status {
    /// Whether the run counts as a success (exit 0).
    pub fn is_success(self) -> bool {
        matches!(self, Status::Success | Status::SuccessWithWarnings)
    }

    /// The kebab-case name (`hook-error`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::SuccessWithWarnings => "success-with-warnings",
            Status::Aborted => "aborted",
            Status::HookError => "hook-error",
            Status::TaskFailed => "task-failed",
            Status::BuildFailed => "build-failed",
            Status::HealthCheckFailed => "health-check-failed",
            Status::Cancelled => "cancelled",
        }
    }

    /// The status a failure under `rule` gives.
    pub fn of_failure(rule: FailureRule) -> Status {
        match rule {
            FailureRule::Abort => Status::Aborted,
            FailureRule::HookError => Status::HookError,
            FailureRule::FailTask => Status::TaskFailed,
            FailureRule::Warn => Status::SuccessWithWarnings,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a stage run or a deployment produced.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub status: Status,
    /// Every hook that ran, in order.
    pub hooks: Vec<HookOutcome>,
    /// Hooks not run because `SKIP_HOOKS` is set, or because an earlier script failed.
    pub skipped: Vec<String>,
    /// The WARNING lines of non-fatal failures.
    pub warnings: Vec<String>,
    /// Deploy only: the steps, in order.
    pub steps: Vec<deploy::StepOutcome>,
    /// Deploy only: the release created.
    pub release: Option<String>,
    /// Deploy/rollback only: what `current` points at after the run.
    pub current: Option<String>,
    /// A one-line summary.
    pub message: String,
}

/// Why a run could not start (nothing ran): the CLI maps these to exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("no hook for stage {stage:?} in {root}; stages found: {}", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    NoHooks {
        stage: String,
        root: PathBuf,
        known: Vec<String>,
    },
    #[error("hook {hook} needs the sandbox runner, which is not available here; run it with `--runner native` only if you trust it, or use a build with the sandbox")]
    NoSandboxRunner { hook: String },
    #[error("cannot create the hook's temporary directory in {dir}: {source}")]
    TempDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("hooks run as uid {uid} (hookbox runs as root), which cannot reach {path}: {blocker} is mode {mode:o}; move the project somewhere the hook user can enter (not under /root), or set [policy] run-as in hookbox.toml to a user who can")]
    Unreachable {
        uid: u32,
        path: PathBuf,
        blocker: PathBuf,
        mode: u32,
    },
    #[error(transparent)]
    Deploy(#[from] deploy::DeployError),
    #[error("hook {hook}: this run no longer owns it ({why}); nothing more was recorded")]
    Lost { hook: String, why: String },
}

/// Refuses before anything runs when the hook user cannot even enter the work directory
/// (a project under `/root`, mode 0700): every hook would fail with a confusing error.
pub fn check_reachable(
    path: &std::path::Path,
    user: Option<HookIds>,
) -> Result<(), LifecycleError> {
    let Some(ids) = user else {
        return Ok(());
    };
    match fsutil::unreachable_for(path, ids) {
        None => Ok(()),
        Some((blocker, mode)) => Err(LifecycleError::Unreachable {
            uid: ids.uid,
            path: path.to_path_buf(),
            blocker,
            mode,
        }),
    }
}

/// Refuses before anything runs when a hook's runner is missing.
pub fn check_runners<'h>(
    hooks: impl IntoIterator<Item = &'h Hook>,
    runners: &Runners<'_>,
) -> Result<(), LifecycleError> {
    for hook in hooks {
        if runners.get(hook.runner).is_none() {
            return Err(LifecycleError::NoSandboxRunner {
                hook: hook.name.clone(),
            });
        }
    }
    Ok(())
}

/// The result of running a list of hooks.
#[derive(Debug, Default)]
pub struct PointResult {
    pub hooks: Vec<HookOutcome>,
    pub skipped: Vec<String>,
    pub warnings: Vec<String>,
    /// The rule of the hook whose failure stopped the run (never `Warn`).
    pub fatal: Option<FailureRule>,
    pub cancelled: bool,
}

impl PointResult {
    fn absorb(&mut self, other: PointResult) {
        self.hooks.extend(other.hooks);
        self.skipped.extend(other.skipped);
        self.warnings.extend(other.warnings);
        self.fatal = self.fatal.or(other.fatal);
        self.cancelled |= other.cancelled;
    }
}

/// Runs `hooks` in order. Within one stage the first failure stops the rest of that stage;
/// a failure under `Warn` logs a WARNING and the next stage still runs; any other rule stops
/// everything (`fatal`). Cancellation stops everything.
pub async fn run_hooks(
    plan: &Plan,
    hooks: &[&Hook],
    ctx: &RunContext,
    runners: &Runners<'_>,
    events: &Arc<Events>,
    cancel: &tokio::sync::watch::Receiver<bool>,
) -> Result<PointResult, LifecycleError> {
    let mut result = PointResult::default();
    if hooks.is_empty() {
        return Ok(result);
    }
    if ctx.skip_hooks {
        let names: Vec<String> = hooks.iter().map(|h| h.name.clone()).collect();
        events.emit(&Event::HooksSkipped {
            reason: "SKIP_HOOKS is set".into(),
            hooks: names.clone(),
        });
        result.skipped = names;
        return Ok(result);
    }
    check_runners(hooks.iter().copied(), runners)?;
    let mut i = 0;
    while i < hooks.len() {
        let hook = hooks[i];
        if *cancel.borrow() {
            result.cancelled = true;
            result
                .skipped
                .extend(hooks[i..].iter().map(|h| h.name.clone()));
            break;
        }
        let Some(runner) = runners.get(hook.runner) else {
            return Err(LifecycleError::NoSandboxRunner {
                hook: hook.name.clone(),
            });
        };
        let outcome = hook::run_one(plan, hook, runner, ctx, events, cancel.clone()).await?;
        let ok = outcome.succeeded();
        let exit = outcome.exit;
        let why = outcome.describe();
        result.hooks.push(outcome);
        i += 1;
        if ok {
            continue;
        }
        if exit == Some(Exit::Cancelled) || *cancel.borrow() {
            result.cancelled = true;
            result
                .skipped
                .extend(hooks[i..].iter().map(|h| h.name.clone()));
            break;
        }
        // The rest of this stage is skipped whatever the rule.
        let rest_of_stage: Vec<String> = hooks[i..]
            .iter()
            .take_while(|h| h.stage == hook.stage)
            .map(|h| h.name.clone())
            .collect();
        if !rest_of_stage.is_empty() {
            events.emit(&Event::Info {
                message: format!(
                    "Skipping the remaining {} script(s) of {}: {}",
                    rest_of_stage.len(),
                    hook.stage,
                    rest_of_stage.join(", ")
                ),
            });
        }
        match hook.failure {
            FailureRule::Warn => {
                let what = if ctx.platform.is_deployment() {
                    "the deployment"
                } else {
                    "the run"
                };
                let message = format!(
                    "{} {why}; {} is not fatal, {what} continues",
                    hook.name, hook.stage
                );
                events.emit(&Event::Warning {
                    message: message.clone(),
                });
                result.warnings.push(message);
                i += rest_of_stage.len();
                result.skipped.extend(rest_of_stage);
            }
            rule => {
                result.fatal = Some(rule);
                result
                    .skipped
                    .extend(hooks[i..].iter().map(|h| h.name.clone()));
                break;
            }
        }
    }
    Ok(result)
}

/// Reports the files discovery found and will not run (a Site Factory script without the
/// executable flag), so a hook that silently never runs is visible.
pub fn report_not_run(plan: &Plan, events: &Events) {
    for skipped in &plan.skipped {
        let path = skipped
            .path
            .strip_prefix(&plan.root)
            .unwrap_or(&skipped.path);
        events.emit(&Event::Info {
            message: format!("Not run: {}: {}", path.display(), skipped.reason),
        });
    }
}

/// The hooks of the plan at `point`, in plan order.
pub fn hooks_at(plan: &Plan, point: Point) -> Vec<&Hook> {
    plan.hooks.iter().filter(|h| h.point == point).collect()
}

/// Site Factory's stage that runs only when the two environments' code differs.
pub const POST_STAGING_UPDATE: &str = "post-staging-update";

/// Runs every hook of the plan at one deployment point.
pub async fn run_point(
    plan: &Plan,
    point: Point,
    ctx: &RunContext,
    runners: &Runners<'_>,
    events: &Arc<Events>,
    cancel: &tokio::sync::watch::Receiver<bool>,
) -> Result<PointResult, LifecycleError> {
    let hooks = hooks_at(plan, point);
    run_hooks(plan, &hooks, ctx, runners, events, cancel).await
}

/// `hookbox run STAGE`: runs the hooks of one stage in place on the project directory.
///
/// Errors (nothing ran): no hook for that stage, a sandbox hook without a sandbox runner.
/// Otherwise the outcome's status follows the failing hook's rule: `aborted` (pre-deploy),
/// `hook-error` (postdeploy/release), `task-failed` (Site Factory), `success-with-warnings`
/// (post-deploy).
pub async fn run_stage(
    plan: &Plan,
    stage: &str,
    ctx: &RunContext,
    runners: &Runners<'_>,
    events: &Arc<Events>,
    cancel: tokio::sync::watch::Receiver<bool>,
) -> Result<Outcome, LifecycleError> {
    let hooks: Vec<&Hook> = plan.hooks.iter().filter(|h| h.stage == stage).collect();
    if hooks.is_empty() {
        let mut known: Vec<String> = plan.hooks.iter().map(|h| h.stage.clone()).collect();
        known.dedup();
        return Err(LifecycleError::NoHooks {
            stage: stage.to_string(),
            root: plan.root.clone(),
            known,
        });
    }
    if stage == POST_STAGING_UPDATE && !plan.site_factory.post_staging_update_applies() {
        // Site Factory runs post-staging-update only when the two environments' code differs.
        let names: Vec<String> = hooks.iter().map(|h| h.name.clone()).collect();
        events.emit(&Event::HooksSkipped {
            reason: format!(
                "the source and target environments run the same code ({}); post-staging-update runs only when it differs",
                plan.site_factory.source_code_version.as_deref().unwrap_or_default()
            ),
            hooks: names.clone(),
        });
        let message = format!(
            "Stage {stage}: {} (code unchanged, hooks skipped)",
            Status::Success
        );
        events.emit(&Event::Status {
            status: Status::Success.to_string(),
            message: message.clone(),
        });
        return Ok(Outcome {
            status: Status::Success,
            hooks: Vec::new(),
            skipped: names,
            warnings: Vec::new(),
            steps: Vec::new(),
            release: None,
            current: None,
            message,
        });
    }
    if !ctx.skip_hooks {
        check_runners(hooks.iter().copied(), runners)?;
        check_reachable(&ctx.platform.work_dir, ctx.hook_user)?;
    }
    if let Some(ids) = ctx.hook_user {
        if !fsutil::writable_by(&ctx.platform.work_dir, ids) {
            // In place, hookbox does not take the project away from its owner; say what the
            // hook user can and cannot do instead of letting a hook fail obscurely.
            events.emit(&Event::Warning {
                message: format!(
                    "hooks run as uid {} (hookbox runs as root), which cannot write {}: they can read it; `hookbox deploy` gives each release to the hook user",
                    ids.uid,
                    ctx.platform.work_dir.display()
                ),
            });
        }
    }
    report_not_run(plan, events);
    let mut total = PointResult::default();
    total.absorb(run_hooks(plan, &hooks, ctx, runners, events, &cancel).await?);
    let status = if total.cancelled {
        Status::Cancelled
    } else if let Some(rule) = total.fatal {
        Status::of_failure(rule)
    } else if !total.warnings.is_empty() {
        Status::SuccessWithWarnings
    } else {
        Status::Success
    };
    let message = if total.hooks.is_empty() && !total.skipped.is_empty() {
        format!("Stage {stage}: {status} (hooks skipped)")
    } else {
        format!("Stage {stage}: {status}")
    };
    events.emit(&Event::Status {
        status: status.to_string(),
        message: message.clone(),
    });
    Ok(Outcome {
        status,
        hooks: total.hooks,
        skipped: total.skipped,
        warnings: total.warnings,
        steps: Vec::new(),
        release: None,
        current: None,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_precedence() {
        let s = Duration::from_secs;
        let t = Timeouts {
            cli: Some(s(5)),
            env: Some(s(7)),
        };
        assert_eq!(t.resolve(Some(s(6))), s(5));
        let t = Timeouts {
            cli: None,
            env: Some(s(7)),
        };
        assert_eq!(t.resolve(Some(s(6))), s(6));
        assert_eq!(t.resolve(None), s(7));
        assert_eq!(Timeouts::default().resolve(None), DEFAULT_TIMEOUT);
    }
}
