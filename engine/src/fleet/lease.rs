//! Leases and fences: how a worker claims a deployment, keeps it, and proves on every write
//! that it still holds it.
//!
//! A claim ([`claim`]) takes the oldest deployment that is queued, or running under a lease
//! that has expired (its worker died, stopped or lost the network), with `FOR UPDATE SKIP
//! LOCKED` so concurrent workers never wait for each other nor take the same row. It increments
//! the deployment's fence token and closes the open attempt of the previous holder as `lost`
//! (ending at that holder's last lease), in the same transaction.
//!
//! Every later write of the holder starts with [`check`]: the row locked, the fence unchanged
//! and the lease not expired, or the write is refused. The holder renews the lease every
//! heartbeat ([`heartbeat`]); a lease that has lapsed is never renewed: it is lost, and the
//! worker kills its hook and records nothing more.

use std::time::Duration;

use tokio_postgres::{Client, GenericClient};

use super::FleetError;
use crate::plan::{Hook, Plan};

/// Default lease of a claimed deployment: 30 s. A worker that does not renew it in time
/// (dead, stopped, cut off) loses the deployment to the next claim.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// Default time between two renewals: 10 s (a third of the lease, so two can fail in a row).
/// It also bounds how late a cancellation reaches a running hook.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(10);

/// The proof of holding a deployment: its id and the fence token of this claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    pub deployment: i64,
    pub token: i64,
}

/// A write was refused: the lease expired or another worker holds the deployment.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("deployment {deployment}: the lease of fence {token} is lost (expired, or claimed by another worker)")]
pub struct Fenced {
    pub deployment: i64,
    pub token: i64,
}

/// A hook of a claimed deployment, as stored.
#[derive(Debug, Clone)]
pub struct ClaimedHook {
    pub position: i32,
    pub hook: Hook,
    /// `pending`, `running` (its worker was lost), or a final state.
    pub state: String,
    /// Attempts used so far.
    pub attempts: i32,
    /// Its recorded outcome, when it has one.
    pub outcome: Option<serde_json::Value>,
}

/// A claimed deployment.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub fence: Fence,
    /// How many times it was claimed, this claim included.
    pub claims: i32,
    pub tenant: String,
    pub artifact: String,
    pub plan: Plan,
    pub settings: super::Settings,
    pub cancel_requested: bool,
    pub hooks: Vec<ClaimedHook>,
}

/// Claims the oldest claimable deployment for `worker`, or `None` when there is none.
pub async fn claim(
    client: &mut Client,
    worker: &str,
    lease: Duration,
) -> Result<Option<Claimed>, FleetError> {
    let tx = client.transaction().await?;
    let Some(row) = tx
        .query_opt(
            "SELECT id FROM hookbox_deployments
             WHERE state = 'queued' OR (state = 'running' AND lease_until < now())
             ORDER BY id LIMIT 1
             FOR UPDATE SKIP LOCKED",
            &[],
        )
        .await?
    else {
        return Ok(None);
    };
    let id: i64 = row.get(0);
    let row = tx
        .query_one(
            "UPDATE hookbox_deployments
             SET state = 'running', fence = fence + 1, claims = claims + 1, worker = $2,
                 lease_until = now() + make_interval(secs => $3),
                 started_at = coalesce(started_at, now())
             WHERE id = $1
             RETURNING fence, claims, tenant, artifact, plan, settings, cancel_requested",
            &[&id, &worker, &lease.as_secs_f64()],
        )
        .await?;
    // The previous holder's open attempt ends where its lease ended.
    tx.execute(
        "UPDATE hookbox_attempts SET ended_at = lease_until, result = 'lost'
         WHERE deployment_id = $1 AND ended_at IS NULL",
        &[&id],
    )
    .await?;
    let stored = |what: &'static str| move |source| FleetError::Stored { what, id, source };
    let plan: Plan = serde_json::from_value(row.get(4)).map_err(stored("plan"))?;
    let settings: super::Settings =
        serde_json::from_value(row.get(5)).map_err(stored("settings"))?;
    let mut hooks = Vec::new();
    for h in tx
        .query(
            "SELECT position, hook, state, attempts, outcome FROM hookbox_hooks
             WHERE deployment_id = $1 ORDER BY position",
            &[&id],
        )
        .await?
    {
        hooks.push(ClaimedHook {
            position: h.get(0),
            hook: serde_json::from_value(h.get(1)).map_err(stored("hook"))?,
            state: h.get(2),
            attempts: h.get(3),
            outcome: h.get(4),
        });
    }
    tx.commit().await?;
    Ok(Some(Claimed {
        fence: Fence {
            deployment: id,
            token: row.get(0),
        },
        claims: row.get(1),
        tenant: row.get(2),
        artifact: row.get(3),
        plan,
        settings,
        cancel_requested: row.get(6),
        hooks,
    }))
}

/// Inside a transaction: locks the deployment row and checks the fence and the lease.
/// Returns whether a cancellation was requested.
pub async fn check(tx: &impl GenericClient, fence: Fence) -> Result<bool, FleetError> {
    match tx
        .query_opt(
            "SELECT cancel_requested FROM hookbox_deployments
             WHERE id = $1 AND fence = $2 AND state = 'running' AND lease_until > now()
             FOR UPDATE",
            &[&fence.deployment, &fence.token],
        )
        .await?
    {
        Some(row) => Ok(row.get(0)),
        None => Err(FleetError::Fenced(Fenced {
            deployment: fence.deployment,
            token: fence.token,
        })),
    }
}

/// Renews the lease (and the open attempt's). `Ok(Some(cancel_requested))` when renewed,
/// `Ok(None)` when it is lost: never renewed once lapsed.
pub async fn heartbeat(
    client: &Client,
    fence: Fence,
    lease: Duration,
) -> Result<Option<bool>, FleetError> {
    let row = client
        .query_opt(
            "WITH d AS (
                 UPDATE hookbox_deployments SET lease_until = now() + make_interval(secs => $3)
                 WHERE id = $1 AND fence = $2 AND state = 'running' AND lease_until > now()
                 RETURNING lease_until, cancel_requested
             ), a AS (
                 UPDATE hookbox_attempts SET lease_until = (SELECT lease_until FROM d)
                 WHERE deployment_id = $1 AND fence = $2 AND ended_at IS NULL
                   AND EXISTS (SELECT 1 FROM d)
             )
             SELECT cancel_requested FROM d",
            &[&fence.deployment, &fence.token, &lease.as_secs_f64()],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Gives the deployment back (a draining worker past its drain time): the lease ends now, so
/// the next claim takes it at once and counts the open attempt as lost.
pub async fn release(client: &Client, fence: Fence) -> Result<bool, FleetError> {
    let row = client
        .query_one(
            "WITH d AS (
                 UPDATE hookbox_deployments SET lease_until = clock_timestamp()
                 WHERE id = $1 AND fence = $2 AND state = 'running'
                 RETURNING lease_until
             ), a AS (
                 UPDATE hookbox_attempts SET lease_until = (SELECT lease_until FROM d)
                 WHERE deployment_id = $1 AND fence = $2 AND ended_at IS NULL
                   AND EXISTS (SELECT 1 FROM d)
             )
             SELECT count(*) FROM d",
            &[&fence.deployment, &fence.token],
        )
        .await?;
    let n: i64 = row.get(0);
    client
        .execute(
            &format!("SELECT pg_notify('{}', $1)", super::QUEUE_CHANNEL),
            &[&fence.deployment.to_string()],
        )
        .await?;
    Ok(n == 1)
}
