//! The submitting and steering side: [`Queue::submit`] enqueues a deployment, [`Queue::status`],
//! [`Queue::cancel`] and [`Queue::logs`] read and steer it.
//!
//! In: a plan discovered from the project directory (by the caller, with its command line and
//! environment as [`Settings`]), the directory itself (packed as an [`super::artifact`]).
//! Out: rows in `hookbox_deployments` and `hookbox_hooks` (one per hook, in the order the
//! lifecycle runs them), committed in one transaction with a NOTIFY on [`QUEUE_CHANNEL`].

use std::path::{Path, PathBuf};

use serde::Serialize;
use tokio_postgres::Client;

use super::artifact::{self, DEFAULT_MAX_ARTIFACT_BYTES};
use super::{schema, FleetError, Scope, Settings, LOG_CHANNEL, QUEUE_CHANNEL};
use crate::plan::{Hook, Plan, Point};

/// A deployment to enqueue.
#[derive(Debug, Clone)]
pub struct Submission {
    pub tenant: String,
    /// Same tenant and key: the same deployment, never a second one.
    pub idempotency_key: Option<String>,
    /// The project directory, packed as the artifact.
    pub dir: PathBuf,
    pub plan: Plan,
    pub settings: Settings,
    /// See [`DEFAULT_MAX_ARTIFACT_BYTES`].
    pub max_artifact_bytes: u64,
}

impl Submission {
    /// A deploy of `dir` with `plan`, default settings.
    pub fn new(tenant: &str, dir: &Path, plan: Plan) -> Self {
        Submission {
            tenant: tenant.to_string(),
            idempotency_key: None,
            dir: dir.to_path_buf(),
            plan,
            settings: Settings::default(),
            max_artifact_bytes: DEFAULT_MAX_ARTIFACT_BYTES,
        }
    }
}

/// What [`Queue::submit`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submitted {
    pub deployment: i64,
    pub artifact: String,
    /// The idempotency key had been used: this is the earlier deployment, nothing new was
    /// enqueued.
    pub existing: bool,
    pub hooks: usize,
}

/// The hooks a deployment runs, in the lifecycle's order.
pub fn sequence(plan: &Plan, scope: &Scope) -> Vec<Hook> {
    match scope {
        Scope::Deploy => [Point::BeforeBuild, Point::BeforeSwitch, Point::AfterSwitch]
            .iter()
            .flat_map(|p| plan.hooks.iter().filter(move |h| h.point == *p))
            .cloned()
            .collect(),
        Scope::Stage(stage) => plan
            .hooks
            .iter()
            .filter(|h| &h.stage == stage)
            .cloned()
            .collect(),
    }
}

/// One hook of a deployment, as `status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct HookStatus {
    pub position: i32,
    pub name: String,
    pub stage: String,
    pub state: String,
    pub attempts: i32,
    pub outcome: Option<serde_json::Value>,
}

/// A deployment, as `status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentStatus {
    pub id: i64,
    pub tenant: String,
    pub idempotency_key: Option<String>,
    pub artifact: String,
    pub state: String,
    pub status: Option<String>,
    pub message: Option<String>,
    pub cancel_requested: bool,
    pub worker: Option<String>,
    pub claims: i32,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub hooks: Vec<HookStatus>,
}

impl DeploymentStatus {
    /// Whether it ended (success or not).
    pub fn done(&self) -> bool {
        self.state == "done"
    }

    /// Whether it ended as a success (warnings allowed).
    pub fn succeeded(&self) -> bool {
        matches!(
            self.status.as_deref(),
            Some("success" | "success-with-warnings")
        )
    }
}

/// One stored log line.
#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    pub id: i64,
    pub position: i32,
    pub attempt: i32,
    pub seq: i32,
    pub ts: String,
    pub stream: Option<String>,
    pub text: String,
    pub event: serde_json::Value,
}

/// The submitting and steering side of the queue, on one connection.
pub struct Queue {
    client: Client,
}

impl Queue {
    /// Connects and checks the schema version.
    pub async fn connect(url: &str) -> Result<Self, FleetError> {
        let client = super::connect(url, None).await?;
        schema::check(&client).await?;
        Ok(Queue { client })
    }

    /// A queue over an existing connection (schema not checked).
    pub fn from_client(client: Client) -> Self {
        Queue { client }
    }

    /// The connection.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Packs the project, stores the artifact (once per content) and enqueues the deployment
    /// with its hooks, in one transaction. With an idempotency key already used by the
    /// tenant, returns that deployment (an error if its artifact differs).
    pub async fn submit(&mut self, s: Submission) -> Result<Submitted, FleetError> {
        if s.tenant.trim().is_empty() {
            return Err(FleetError::Invalid(
                "the tenant is empty: give --tenant NAME".into(),
            ));
        }
        let packed = artifact::pack(&s.dir, s.max_artifact_bytes)?;
        let hooks = sequence(&s.plan, &s.settings.scope);
        let plan_json = serde_json::to_value(&s.plan).map_err(|e| FleetError::Stored {
            what: "plan",
            id: 0,
            source: e,
        })?;
        let settings_json = serde_json::to_value(&s.settings).map_err(|e| FleetError::Stored {
            what: "settings",
            id: 0,
            source: e,
        })?;
        let tx = self.client.transaction().await?;
        tx.execute(
            "INSERT INTO hookbox_artifacts (sha256, size_bytes, content) VALUES ($1, $2, $3)
             ON CONFLICT (sha256) DO NOTHING",
            &[&packed.sha256, &(packed.bytes.len() as i64), &packed.bytes],
        )
        .await?;
        let inserted = tx
            .query_opt(
                "INSERT INTO hookbox_deployments (tenant, idempotency_key, artifact, plan, settings)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (tenant, idempotency_key) DO NOTHING
                 RETURNING id",
                &[
                    &s.tenant,
                    &s.idempotency_key,
                    &packed.sha256,
                    &plan_json,
                    &settings_json,
                ],
            )
            .await?;
        let Some(row) = inserted else {
            // The key was used: the earlier deployment stands.
            let row = tx
                .query_one(
                    "SELECT d.id, d.artifact, (SELECT count(*) FROM hookbox_hooks h WHERE h.deployment_id = d.id)
                     FROM hookbox_deployments d WHERE d.tenant = $1 AND d.idempotency_key = $2",
                    &[&s.tenant, &s.idempotency_key],
                )
                .await?;
            let (existing, existing_artifact, count): (i64, String, i64) =
                (row.get(0), row.get(1), row.get(2));
            tx.commit().await?;
            if existing_artifact != packed.sha256 {
                return Err(FleetError::KeyReused {
                    tenant: s.tenant,
                    key: s.idempotency_key.unwrap_or_default(),
                    existing,
                    existing_artifact,
                    artifact: packed.sha256,
                });
            }
            return Ok(Submitted {
                deployment: existing,
                artifact: packed.sha256,
                existing: true,
                hooks: count as usize,
            });
        };
        let id: i64 = row.get(0);
        for (position, hook) in hooks.iter().enumerate() {
            let json = serde_json::to_value(hook).map_err(|e| FleetError::Stored {
                what: "hook",
                id,
                source: e,
            })?;
            tx.execute(
                "INSERT INTO hookbox_hooks (deployment_id, position, name, stage, hook)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&id, &(position as i32), &hook.name, &hook.stage, &json],
            )
            .await?;
        }
        tx.execute(
            &format!("SELECT pg_notify('{QUEUE_CHANNEL}', $1)"),
            &[&id.to_string()],
        )
        .await?;
        tx.commit().await?;
        Ok(Submitted {
            deployment: id,
            artifact: packed.sha256,
            existing: false,
            hooks: hooks.len(),
        })
    }

    /// The deployment and its hooks.
    pub async fn status(&self, id: i64) -> Result<DeploymentStatus, FleetError> {
        let row = self
            .client
            .query_opt(
                "SELECT id, tenant, idempotency_key, artifact, state, status, message,
                        cancel_requested, worker, claims,
                        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
                        to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')
                 FROM hookbox_deployments WHERE id = $1",
                &[&id],
            )
            .await?
            .ok_or(FleetError::NoDeployment(id))?;
        let hooks = self
            .client
            .query(
                "SELECT position, name, stage, state, attempts, outcome FROM hookbox_hooks
                 WHERE deployment_id = $1 ORDER BY position",
                &[&id],
            )
            .await?
            .iter()
            .map(|h| HookStatus {
                position: h.get(0),
                name: h.get(1),
                stage: h.get(2),
                state: h.get(3),
                attempts: h.get(4),
                outcome: h.get(5),
            })
            .collect();
        Ok(DeploymentStatus {
            id: row.get(0),
            tenant: row.get(1),
            idempotency_key: row.get(2),
            artifact: row.get(3),
            state: row.get(4),
            status: row.get(5),
            message: row.get(6),
            cancel_requested: row.get(7),
            worker: row.get(8),
            claims: row.get(9),
            created_at: row.get(10),
            finished_at: row.get(11),
            hooks,
        })
    }

    /// Asks for the deployment to stop. A queued deployment ends at once as `cancelled`; a
    /// running one is stopped by its worker at its next heartbeat (the running hook is
    /// killed, the rest is skipped). Returns the state after the request.
    pub async fn cancel(&mut self, id: i64) -> Result<DeploymentStatus, FleetError> {
        let tx = self.client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT state FROM hookbox_deployments WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .await?
            .ok_or(FleetError::NoDeployment(id))?;
        let state: String = row.get(0);
        match state.as_str() {
            "queued" => {
                tx.execute(
                    "UPDATE hookbox_deployments SET cancel_requested = true, state = 'done',
                         status = 'cancelled', message = 'cancelled before it started',
                         finished_at = now()
                     WHERE id = $1",
                    &[&id],
                )
                .await?;
                tx.execute(
                    "UPDATE hookbox_hooks SET state = 'skipped' WHERE deployment_id = $1 AND state = 'pending'",
                    &[&id],
                )
                .await?;
            }
            "running" => {
                tx.execute(
                    "UPDATE hookbox_deployments SET cancel_requested = true WHERE id = $1",
                    &[&id],
                )
                .await?;
            }
            _ => {}
        }
        tx.execute(
            &format!("SELECT pg_notify('{LOG_CHANNEL}', $1)"),
            &[&id.to_string()],
        )
        .await?;
        tx.commit().await?;
        self.status(id).await
    }

    /// Stored log lines of the deployment after line id `after` (0: from the start), in the
    /// order they were stored.
    pub async fn logs(&self, id: i64, after: i64) -> Result<Vec<LogLine>, FleetError> {
        let rows = self
            .client
            .query(
                "SELECT id, position, attempt, seq,
                        to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                        stream, text, event
                 FROM hookbox_log_lines WHERE deployment_id = $1 AND id > $2 ORDER BY id",
                &[&id, &after],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| LogLine {
                id: r.get(0),
                position: r.get(1),
                attempt: r.get(2),
                seq: r.get(3),
                ts: r.get(4),
                stream: r.get(5),
                text: r.get(6),
                event: r.get(7),
            })
            .collect())
    }
}

/// Follows a deployment: calls `each` for every stored line, in order, as batches arrive
/// (LISTEN on [`LOG_CHANNEL`], with a poll every `poll` as a safety net), until it is done.
/// Returns its final status.
pub async fn follow(
    url: &str,
    id: i64,
    poll: std::time::Duration,
    mut each: impl FnMut(&LogLine),
) -> Result<DeploymentStatus, FleetError> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = super::connect(url, Some(tx)).await?;
    client
        .batch_execute(&format!("LISTEN {LOG_CHANNEL}"))
        .await?;
    let queue = Queue::from_client(client);
    let mut after = 0i64;
    loop {
        // Status first: lines stored before it said "done" are all read below.
        let status = queue.status(id).await?;
        for line in queue.logs(id, after).await? {
            after = line.id;
            each(&line);
        }
        if status.done() {
            return Ok(status);
        }
        let wanted = id.to_string();
        let deadline = tokio::time::sleep(poll);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                n = rx.recv() => match n {
                    Some(n) if n.payload() == wanted => break,
                    Some(_) => continue,
                    None => {
                        tokio::time::sleep(poll).await;
                        break;
                    }
                },
                _ = &mut deadline => break,
            }
        }
    }
}
