//! Retries: whether a failed hook runs again, after how long, and how the lifecycle lets a
//! caller (the fleet worker) steer and record each attempt.
//!
//! In: a hook's [`RetryPolicy`] (hookbox.toml `[[hook]] retries`, `retry-delay-seconds`,
//! `retry-on`, `never-retry`; or its convention's default, [`RetryPolicy::default_for`]) and
//! how an attempt ended ([`Failure`]). Out: [`RetryPolicy::decide`]: run attempt N+1 after a
//! delay, or stop. The same rules hold for every runner and for `run`, `deploy` and the fleet.
//!
//! The attempt number reaches the hook as `HOOKBOX_ATTEMPT` (1 for the first run), and, for a
//! Site Factory hook that may be retried, as its fifth argument after the four of the
//! convention (Site Factory's own contract). Each attempt is one log block (`Running hook:`
//! … `Hook failed …`), with a `Retrying …` line between two blocks.
//!
//! [`AttemptGate`] is how a caller outside the process's memory takes part: before an attempt
//! the gate may say how many attempts were already used elsewhere (a worker that died), give a
//! cancel signal for the attempt (the lease was lost, the deployment cancelled), and refuse to
//! record an outcome (a fence token that is no longer current).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::plan::{Convention, Hook};

/// Default number of extra attempts after a failure: 0 (a hook runs once).
pub const DEFAULT_RETRIES: u32 = 0;
/// Default delay before the first retry: 1 s; it doubles for each further attempt.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(1);
/// Default longest delay between two attempts, whatever the doubling gives: 5 min.
pub const DEFAULT_RETRY_DELAY_CAP: Duration = Duration::from_secs(300);
/// Most extra attempts a project may ask for: more is a loop, not a retry.
pub const MAX_RETRIES: u32 = 20;
/// Site Factory's exit status that means "do not retry me".
pub const SITE_FACTORY_NO_RETRY_CODE: i32 = 131;
/// Site Factory stages whose scripts Site Factory tries three times.
pub const SITE_FACTORY_RETRIED_STAGES: [&str; 3] = [
    "post-site-install",
    "post-site-duplication",
    "post-site-update",
];
/// Extra attempts of [`SITE_FACTORY_RETRIED_STAGES`]: 2 (three tries).
pub const SITE_FACTORY_RETRIES: u32 = 2;

/// What a retry may be for (`retry-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum RetryOn {
    /// The worker running the attempt died or lost its lease (`"worker-lost"`).
    WorkerLost,
    /// The attempt hit its deadline (`"timeout"`).
    Timeout,
    /// The attempt exited with this status.
    Exit(i32),
}

/// How an attempt failed, as the retry policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Exited with a non-zero status (a signal counts as 128+N).
    Exit(i32),
    /// Stopped at its deadline.
    Timeout,
    /// Its worker died or lost the lease before it ended.
    WorkerLost,
    /// Anything else (fuel, memory, the runner could not start it).
    Other,
    /// Cancelled by the caller: never retried.
    Cancelled,
}

/// The retry policy of one hook. The default runs a hook once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    /// Extra attempts after the first. Default [`DEFAULT_RETRIES`]; at most [`MAX_RETRIES`].
    pub retries: u32,
    /// Delay before the first retry; doubled for each next one. Default [`DEFAULT_RETRY_DELAY`].
    pub delay: Duration,
    /// Longest delay. Default [`DEFAULT_RETRY_DELAY_CAP`].
    pub delay_cap: Duration,
    /// Which failures are retried. Empty (the default): every failure but a cancellation and
    /// the `never` codes, worker loss included.
    pub on: Vec<RetryOn>,
    /// Exit statuses never retried, whatever `on` says (Site Factory: 131).
    pub never: Vec<i32>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: DEFAULT_RETRIES,
            delay: DEFAULT_RETRY_DELAY,
            delay_cap: DEFAULT_RETRY_DELAY_CAP,
            on: Vec::new(),
            never: Vec::new(),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Run attempt `attempt` after `delay`.
    Retry { attempt: u32, delay: Duration },
    /// The failure stands.
    Stop,
}

impl RetryPolicy {
    /// The policy a hook gets from its convention when hookbox.toml says nothing: Site
    /// Factory never retries exit 131, and tries [`SITE_FACTORY_RETRIED_STAGES`] three times.
    pub fn default_for(convention: Convention, stage: &str) -> RetryPolicy {
        let mut policy = RetryPolicy::default();
        if convention == Convention::SiteFactory {
            policy.never = vec![SITE_FACTORY_NO_RETRY_CODE];
            if SITE_FACTORY_RETRIED_STAGES.contains(&stage) {
                policy.retries = SITE_FACTORY_RETRIES;
            }
        }
        policy
    }

    /// The policy of `hook`: its own, or its convention's default.
    pub fn of(hook: &Hook) -> RetryPolicy {
        hook.retry
            .clone()
            .unwrap_or_else(|| RetryPolicy::default_for(hook.convention, &hook.stage))
    }

    /// Total attempts allowed.
    pub fn max_attempts(&self) -> u32 {
        self.retries.min(MAX_RETRIES) + 1
    }

    /// The delay before attempt `next` (2 or more): `delay * 2^(next-2)`, capped.
    pub fn delay_before(&self, next: u32) -> Duration {
        let doublings = next.saturating_sub(2).min(31);
        self.delay
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.delay_cap)
            .min(self.delay_cap)
    }

    /// Whether `failure` of attempt `attempt` (1-based) is retried, and when.
    pub fn decide(&self, attempt: u32, failure: Failure) -> Decision {
        if attempt >= self.max_attempts() {
            return Decision::Stop;
        }
        let wanted = match failure {
            Failure::Cancelled => false,
            Failure::Exit(code) if self.never.contains(&code) => false,
            _ if self.on.is_empty() => true,
            Failure::Exit(code) => self.on.contains(&RetryOn::Exit(code)),
            Failure::Timeout => self.on.contains(&RetryOn::Timeout),
            Failure::WorkerLost => self.on.contains(&RetryOn::WorkerLost),
            Failure::Other => false,
        };
        if !wanted {
            return Decision::Stop;
        }
        let next = attempt + 1;
        Decision::Retry {
            attempt: next,
            delay: self.delay_before(next),
        }
    }

    /// Whether a Site Factory hook gets the attempt number as its fifth argument: when it
    /// may be retried at all (a hook that runs once keeps Site Factory's four).
    pub fn passes_attempt_arg(&self, hook: &Hook) -> bool {
        hook.convention == Convention::SiteFactory && self.max_attempts() > 1
    }
}

/// Why a gate refused an attempt or its outcome: the caller no longer owns the hook.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct GateRefused(pub String);

/// Where a hook starts, as the gate knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resume {
    /// Attempts already used (by a worker that died). 0 for a fresh hook.
    pub used: u32,
    /// The last used attempt ended with its worker lost.
    pub lost: bool,
}

/// How an attempt ended, for [`AttemptGate::attempt_ended`].
#[derive(Debug, Clone)]
pub struct AttemptEnd<'a> {
    pub attempt: u32,
    /// The outcome of the attempt.
    pub outcome: &'a crate::lifecycle::HookOutcome,
    /// Whether this is the hook's recorded outcome (no retry follows).
    pub last: bool,
}

/// A shareable [`AttemptGate`], as [`crate::lifecycle::RunContext`] holds it.
#[derive(Clone)]
pub struct Gate(pub std::sync::Arc<dyn AttemptGate>);

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gate")
    }
}

/// A boxed future returned by gate methods.
pub type GateFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, GateRefused>> + Send + 'a>>;

/// Lets a caller steer and record every attempt of every hook the lifecycle runs.
pub trait AttemptGate: Send + Sync {
    /// Before the hook's first attempt here: what was used before.
    fn begin<'a>(&'a self, hook: &'a Hook) -> GateFuture<'a, Resume>;
    /// Before attempt `attempt` runs. The returned receiver turns `true` when the attempt must
    /// stop (its lease was lost, the deployment was cancelled).
    fn attempt_started<'a>(
        &'a self,
        hook: &'a Hook,
        attempt: u32,
    ) -> GateFuture<'a, tokio::sync::watch::Receiver<bool>>;
    /// After the attempt: record it. An error means nothing was recorded and the caller lost
    /// the hook: the lifecycle stops.
    fn attempt_ended<'a>(&'a self, hook: &'a Hook, end: AttemptEnd<'a>) -> GateFuture<'a, ()>;
    /// While waiting `delay` before the next attempt: resolves early with an error when the
    /// caller lost the hook. The default just sleeps.
    fn wait<'a>(&'a self, _hook: &'a Hook, delay: Duration) -> GateFuture<'a, ()> {
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_once() {
        let p = RetryPolicy::default();
        assert_eq!(p.max_attempts(), 1);
        assert_eq!(p.decide(1, Failure::Exit(1)), Decision::Stop);
        assert_eq!(p.delay, DEFAULT_RETRY_DELAY);
        assert_eq!(p.delay_cap, DEFAULT_RETRY_DELAY_CAP);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy {
            retries: 10,
            delay: Duration::from_secs(2),
            delay_cap: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        assert_eq!(p.delay_before(2), Duration::from_secs(2));
        assert_eq!(p.delay_before(3), Duration::from_secs(4));
        assert_eq!(p.delay_before(4), Duration::from_secs(8));
        assert_eq!(p.delay_before(5), Duration::from_secs(10));
        assert_eq!(p.delay_before(40), Duration::from_secs(10));
    }

    #[test]
    fn retry_on_lists_what_is_retried() {
        let p = RetryPolicy {
            retries: 3,
            on: vec![RetryOn::WorkerLost, RetryOn::Exit(75)],
            ..RetryPolicy::default()
        };
        assert!(matches!(
            p.decide(1, Failure::Exit(75)),
            Decision::Retry { attempt: 2, .. }
        ));
        assert_eq!(p.decide(1, Failure::Exit(1)), Decision::Stop);
        assert_eq!(p.decide(1, Failure::Timeout), Decision::Stop);
        assert!(matches!(
            p.decide(3, Failure::WorkerLost),
            Decision::Retry { attempt: 4, .. }
        ));
        assert_eq!(p.decide(4, Failure::WorkerLost), Decision::Stop);
        assert_eq!(p.decide(1, Failure::Cancelled), Decision::Stop);
    }

    #[test]
    fn site_factory_131_is_never_retried() {
        let p = RetryPolicy::default_for(Convention::SiteFactory, "post-site-install");
        assert_eq!(p.max_attempts(), 3);
        assert_eq!(p.decide(1, Failure::Exit(131)), Decision::Stop);
        assert!(matches!(
            p.decide(2, Failure::Exit(1)),
            Decision::Retry { attempt: 3, .. }
        ));
        let once = RetryPolicy::default_for(Convention::SiteFactory, "post-staging-update");
        assert_eq!(once.max_attempts(), 1);
        assert_eq!(
            RetryPolicy::default_for(Convention::FluxOrbit, "post-site-install").max_attempts(),
            1
        );
    }
}
