//! One hook run: its private HOME, its environment, its timeout, the runner call, and the
//! events that report it. Used by every stage and deployment point.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{env, fsutil, LifecycleError, RunContext};
use crate::events::{Event, Events};
use crate::limits::Limits;
use crate::plan::{FailureRule, Hook, Plan, Point, RunnerKind};
use crate::runner::{Exit, Invocation, OutputSink, Runner};

/// What one hook run produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HookOutcome {
    pub name: String,
    pub stage: String,
    pub point: Point,
    pub runner: RunnerKind,
    pub failure_rule: FailureRule,
    /// How it ended; `None` when the runner could not run it (`error` says why).
    pub exit: Option<Exit>,
    /// The exit status as a number where one applies (128+N for a signal).
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: u64,
    pub timeout_secs: u64,
    /// Sandbox: instructions used.
    pub instructions: Option<u64>,
    /// Output passed the cap and was cut.
    pub truncated: bool,
}

impl HookOutcome {
    pub fn succeeded(&self) -> bool {
        matches!(self.exit, Some(e) if e.success())
    }

    /// `failed with exit code 1`, `timed out after 5 s`, … for WARNING lines and summaries.
    pub fn describe(&self) -> String {
        match (self.exit, &self.error) {
            (Some(Exit::Code(0)), _) => "succeeded".into(),
            (Some(Exit::Code(n)), _) => format!("failed with exit code {n}"),
            (Some(Exit::TimedOut), _) => format!("timed out after {} s", self.timeout_secs),
            (Some(Exit::Signal(s)), _) => format!("was killed by signal {s}"),
            (Some(Exit::FuelExhausted), _) => "ran out of fuel".into(),
            (Some(Exit::MemoryLimit), _) => "exceeded its memory limit".into(),
            (Some(Exit::Cancelled), _) => "was cancelled".into(),
            (None, Some(e)) => format!("could not run: {e}"),
            (None, None) => "could not run".into(),
        }
    }
}

/// Runs one hook with `runner` and reports it.
pub(super) async fn run_one(
    plan: &Plan,
    hook: &Hook,
    runner: &dyn Runner,
    ctx: &RunContext,
    events: &Arc<Events>,
    cancel: tokio::sync::watch::Receiver<bool>,
) -> Result<HookOutcome, LifecycleError> {
    let timeout = ctx.timeouts.resolve(hook.timeout);
    let home = fsutil::private_temp_dir(&ctx.temp_root, "hookbox-home-", ctx.hook_user).map_err(
        |source| LifecycleError::TempDir {
            dir: ctx.temp_root.clone(),
            source,
        },
    )?;
    let env = env::hook_env(
        &ctx.app_env,
        &ctx.platform,
        &hook.name,
        &hook.stage,
        home.path(),
    );
    let mut args = hook.args.clone();
    args.extend(ctx.extra_args.iter().cloned());
    let invocation = Invocation {
        hook_name: hook.name.clone(),
        stage: hook.stage.clone(),
        program: hook.program.clone(),
        args,
        env,
        work_dir: ctx.platform.work_dir.clone(),
        temp_dir: home.path().to_path_buf(),
        shared_dirs: ctx
            .platform
            .shared_dir
            .iter()
            .chain(&plan.policy.extra_dirs)
            .cloned()
            .collect(),
        limits: Limits {
            timeout,
            ..ctx.limits.clone()
        },
        policy: plan.policy.clone(),
    };
    events.emit(&Event::HookStarted {
        hook: hook.name.clone(),
        stage: hook.stage.clone(),
        runner: hook.runner,
    });
    let sink = events.hook_sink(&hook.name);
    let started = Instant::now();
    let result = with_progress(
        runner.run(&invocation, sink.clone() as Arc<dyn OutputSink>, cancel),
        &hook.name,
        ctx.progress_every,
        events,
    )
    .await;
    let duration = started.elapsed();
    drop(home);
    let duration_ms = duration.as_millis() as u64;
    let mut outcome = HookOutcome {
        name: hook.name.clone(),
        stage: hook.stage.clone(),
        point: hook.point,
        runner: hook.runner,
        failure_rule: hook.failure,
        exit: None,
        exit_code: None,
        error: None,
        duration_ms,
        timeout_secs: timeout.as_secs(),
        instructions: None,
        truncated: false,
    };
    let (name, stage) = (hook.name.clone(), hook.stage.clone());
    match result {
        Ok(report) => {
            outcome.exit = Some(report.exit);
            outcome.instructions = report.instructions;
            outcome.truncated = report.output_truncated || sink.was_truncated();
            if report.output_truncated && !sink.was_truncated() {
                sink.truncated(ctx.limits.output_cap_bytes);
            }
            if let Some(count) = report.instructions {
                events.emit(&Event::Instructions {
                    hook: name.clone(),
                    count,
                });
            }
            let event = match report.exit {
                Exit::Code(0) => {
                    outcome.exit_code = Some(0);
                    Event::HookSucceeded {
                        hook: name,
                        stage,
                        duration_ms,
                    }
                }
                Exit::Code(code) => {
                    outcome.exit_code = Some(code);
                    Event::HookFailed {
                        hook: name,
                        stage,
                        exit_code: code,
                        duration_ms,
                    }
                }
                Exit::TimedOut => Event::HookTimedOut {
                    hook: name,
                    stage,
                    timeout_secs: timeout.as_secs(),
                    duration_ms,
                },
                Exit::Signal(sig) => {
                    outcome.exit_code = Some(128 + sig);
                    Event::HookStopped {
                        hook: name,
                        stage,
                        reason: format!("killed by signal {sig} (exit code {})", 128 + sig),
                        duration_ms,
                    }
                }
                Exit::FuelExhausted | Exit::MemoryLimit | Exit::Cancelled => Event::HookStopped {
                    hook: name,
                    stage,
                    reason: outcome.describe(),
                    duration_ms,
                },
            };
            events.emit(&event);
        }
        Err(e) => {
            outcome.error = Some(e.to_string());
            events.emit(&Event::HookStopped {
                hook: name,
                stage,
                reason: e.to_string(),
                duration_ms,
            });
        }
    }
    Ok(outcome)
}

/// Awaits `fut`, emitting a progress event every `every` while it runs.
async fn with_progress<F: std::future::Future>(
    fut: F,
    hook: &str,
    every: Option<Duration>,
    events: &Arc<Events>,
) -> F::Output {
    let Some(every) = every else {
        return fut.await;
    };
    let started = Instant::now();
    tokio::pin!(fut);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            out = &mut fut => return out,
            _ = ticker.tick() => events.emit(&Event::Progress {
                hook: hook.to_string(),
                elapsed_secs: started.elapsed().as_secs(),
            }),
        }
    }
}
