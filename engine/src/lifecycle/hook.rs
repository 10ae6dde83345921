//! One hook run: its private HOME, its environment, its timeout, the runner call, and the
//! events that report it. Used by every stage and deployment point.
//!
//! A hook may run several attempts under its [`RetryPolicy`]: each attempt is one log block
//! and gets `HOOKBOX_ATTEMPT`; a [`crate::retry::AttemptGate`] in the context (the fleet
//! worker) is asked before and told after each attempt.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{env, fsutil, LifecycleError, RunContext};
use crate::events::{Event, Events};
use crate::limits::Limits;
use crate::plan::{FailureRule, Hook, Plan, Point, RunnerKind};
use crate::retry::{AttemptEnd, Decision, Failure, Resume, RetryPolicy};
use crate::runner::{Exit, Invocation, OutputSink, Runner};

/// The variable that carries the attempt number (1 for the first run).
pub const ATTEMPT_VAR: &str = "HOOKBOX_ATTEMPT";

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
    /// Which attempt this outcome is (1 unless the hook was retried).
    pub attempt: u32,
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

/// How a failed attempt looks to the retry policy.
fn failure_of(outcome: &HookOutcome) -> Failure {
    match (outcome.exit, outcome.exit_code) {
        (Some(Exit::Cancelled), _) => Failure::Cancelled,
        (Some(Exit::TimedOut), _) => Failure::Timeout,
        (Some(_), Some(code)) => Failure::Exit(code),
        _ => Failure::Other,
    }
}

fn refused(hook: &Hook, e: crate::retry::GateRefused) -> LifecycleError {
    LifecycleError::Lost {
        hook: hook.name.clone(),
        why: e.0,
    }
}

/// Runs one hook with `runner`, attempt after attempt under its retry policy, and reports it.
pub(super) async fn run_one(
    plan: &Plan,
    hook: &Hook,
    runner: &dyn Runner,
    ctx: &RunContext,
    events: &Arc<Events>,
    cancel: tokio::sync::watch::Receiver<bool>,
) -> Result<HookOutcome, LifecycleError> {
    let policy = RetryPolicy::of(hook);
    let gate = ctx.gate.as_ref().map(|g| g.0.clone());
    let resume = match &gate {
        Some(g) => g.begin(hook).await.map_err(|e| refused(hook, e))?,
        None => Resume::default(),
    };
    let mut attempt = resume.used + 1;
    if resume.lost {
        let lost = resume.used;
        match policy.decide(lost, Failure::WorkerLost) {
            Decision::Stop => {
                let why =
                    format!("attempt {lost} was lost with its worker (it died or lost its lease)");
                events.emit(&Event::HookStopped {
                    hook: hook.name.clone(),
                    stage: hook.stage.clone(),
                    reason: why.clone(),
                    duration_ms: 0,
                });
                let outcome = HookOutcome {
                    name: hook.name.clone(),
                    stage: hook.stage.clone(),
                    point: hook.point,
                    runner: hook.runner,
                    failure_rule: hook.failure,
                    exit: None,
                    exit_code: None,
                    error: Some(why),
                    duration_ms: 0,
                    timeout_secs: ctx.timeouts.resolve(hook.timeout).as_secs(),
                    instructions: None,
                    truncated: false,
                    attempt: lost,
                };
                if let Some(g) = &gate {
                    g.attempt_ended(
                        hook,
                        AttemptEnd {
                            attempt: lost,
                            outcome: &outcome,
                            last: true,
                        },
                    )
                    .await
                    .map_err(|e| refused(hook, e))?;
                }
                return Ok(outcome);
            }
            Decision::Retry {
                attempt: next,
                delay,
            } => {
                events.emit(&Event::Info {
                    message: format!(
                        "Retrying {} in {} s (attempt {next} of {}): attempt {lost} was lost with its worker",
                        hook.name,
                        delay.as_secs_f32(),
                        policy.max_attempts()
                    ),
                });
                if let Some(g) = &gate {
                    g.wait(hook, delay).await.map_err(|e| refused(hook, e))?;
                } else {
                    tokio::time::sleep(delay).await;
                }
                attempt = next;
            }
        }
    }
    loop {
        let attempt_cancel = match &gate {
            Some(g) => Some(
                g.attempt_started(hook, attempt)
                    .await
                    .map_err(|e| refused(hook, e))?,
            ),
            None => None,
        };
        let (merged, forward) = merge_cancel(cancel.clone(), attempt_cancel);
        let outcome = run_attempt(plan, hook, runner, ctx, events, merged, attempt, &policy).await;
        if let Some(f) = forward {
            f.abort();
        }
        let outcome = outcome?;
        let decision = if outcome.succeeded() || *cancel.borrow() {
            Decision::Stop
        } else {
            policy.decide(attempt, failure_of(&outcome))
        };
        let last = decision == Decision::Stop;
        if let Some(g) = &gate {
            g.attempt_ended(
                hook,
                AttemptEnd {
                    attempt,
                    outcome: &outcome,
                    last,
                },
            )
            .await
            .map_err(|e| refused(hook, e))?;
        }
        let Decision::Retry {
            attempt: next,
            delay,
        } = decision
        else {
            return Ok(outcome);
        };
        events.emit(&Event::Info {
            message: format!(
                "Retrying {} in {} s (attempt {next} of {}): attempt {attempt} {}",
                hook.name,
                delay.as_secs_f32(),
                policy.max_attempts(),
                outcome.describe()
            ),
        });
        let user_cancel = fired(cancel.clone());
        let waited = async {
            match &gate {
                Some(g) => g.wait(hook, delay).await.map_err(|e| refused(hook, e)),
                None => {
                    tokio::time::sleep(delay).await;
                    Ok(())
                }
            }
        };
        tokio::select! {
            r = waited => r?,
            _ = user_cancel => return Ok(outcome),
        }
        attempt = next;
    }
}

/// One receiver that turns `true` when either the caller's or the gate's does. The returned
/// task forwards the gate's signal; abort it when the attempt is over.
fn merge_cancel(
    caller: tokio::sync::watch::Receiver<bool>,
    gate: Option<tokio::sync::watch::Receiver<bool>>,
) -> (
    tokio::sync::watch::Receiver<bool>,
    Option<tokio::task::JoinHandle<()>>,
) {
    let Some(mut gate) = gate else {
        return (caller, None);
    };
    let (tx, rx) = tokio::sync::watch::channel(*caller.borrow() || *gate.borrow_and_update());
    let task = tokio::spawn(async move {
        tokio::select! {
            _ = fired(caller) => {}
            _ = fired(gate) => {}
        }
        let _ = tx.send(true);
        // Keep the sender alive so the runner does not read a closed channel as "never".
        std::future::pending::<()>().await;
    });
    (rx, Some(task))
}

/// Resolves when `rx` turns `true`; never when its sender is gone (nobody can cancel then).
async fn fired(mut rx: tokio::sync::watch::Receiver<bool>) {
    if rx.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs one attempt of a hook and reports it as one log block.
#[allow(clippy::too_many_arguments)]
async fn run_attempt(
    plan: &Plan,
    hook: &Hook,
    runner: &dyn Runner,
    ctx: &RunContext,
    events: &Arc<Events>,
    cancel: tokio::sync::watch::Receiver<bool>,
    attempt: u32,
    policy: &RetryPolicy,
) -> Result<HookOutcome, LifecycleError> {
    let timeout = ctx.timeouts.resolve(hook.timeout);
    let home = fsutil::private_temp_dir(&ctx.temp_root, "hookbox-home-", ctx.hook_user).map_err(
        |source| LifecycleError::TempDir {
            dir: ctx.temp_root.clone(),
            source,
        },
    )?;
    let mut env = env::hook_env(
        &ctx.app_env,
        &ctx.platform,
        &hook.name,
        &hook.stage,
        home.path(),
    );
    env.insert(ATTEMPT_VAR.to_string(), attempt.to_string());
    let mut args = hook.args.clone();
    args.extend(ctx.extra_args.iter().cloned());
    if policy.passes_attempt_arg(hook) {
        // Site Factory passes the attempt after its four arguments.
        args.push(attempt.to_string());
    }
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
        attempt,
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
                detail: None,
            }),
        }
    }
}
