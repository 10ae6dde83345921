//! Past one machine: deployments queued in PostgreSQL and run by many workers.
//!
//! hookbox builds no cluster of its own: PostgreSQL is the shared engine. The pieces:
//!
//! - [`schema`]: the tables, as versioned migrations ([`schema::migrate`]).
//! - [`artifact`]: a project directory as a content-addressed tar (sha256), stored once.
//! - [`queue::Queue`]: [`queue::Queue::submit`] uploads the artifact and enqueues the
//!   deployment's hooks in the order the lifecycle runs them; status, cancel and logs read and
//!   steer it.
//! - [`worker::Worker`]: [`worker::Worker::run`] claims a deployment (`FOR UPDATE SKIP
//!   LOCKED`), holds a lease on it with heartbeats ([`lease`]), unpacks the artifact and runs
//!   the remaining hooks through [`crate::lifecycle::run_hooks`], the same code and runners as
//!   `hookbox run`/`deploy`. Every attempt and every outcome is written under a fence token
//!   ([`lease::Fence`]): a worker that lost its lease cannot record anything, and kills its
//!   hook. Output goes to the database through [`logs::DbSink`], an
//!   [`crate::events::EventSink`].
//!
//! ```no_run
//! # async fn example(url: &str, dir: &std::path::Path) -> Result<(), hookbox::fleet::FleetError> {
//! use hookbox::fleet::{queue::{Queue, Submission}, worker::{Worker, WorkerConfig}};
//! let mut queue = Queue::connect(url).await?;
//! let plan = hookbox::discover::discover(dir, &Default::default()).expect("a project");
//! let submitted = queue.submit(Submission::new("tenant-a", dir, plan)).await?;
//! let (stop, shutdown) = tokio::sync::watch::channel(false);
//! let worker = Worker::new(WorkerConfig::new(url, std::env::temp_dir().join("hookbox-fleet")));
//! tokio::spawn(async move { worker.run(shutdown).await });
//! let _ = (submitted, stop);
//! # Ok(()) }
//! ```
//!
//! Each (deployment, hook) has exactly one recorded outcome: the row is written once, under the
//! current fence, in the transaction that closes the attempt. Output lines are stored with
//! (deployment, position, attempt, seq) and a NOTIFY per batch, not per line.

pub mod artifact;
pub mod lease;
pub mod logs;
pub mod queue;
pub mod schema;
pub mod worker;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The NOTIFY channel of new work (a submit, a hand-back).
pub const QUEUE_CHANNEL: &str = "hookbox_queue";
/// The NOTIFY channel of log batches and state changes; the payload is the deployment id.
pub const LOG_CHANNEL: &str = "hookbox_logs";

/// Why a fleet operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("cannot connect to the database ({url}): {source}; check --db / HOOKBOX_DATABASE_URL (e.g. host=/run/postgresql dbname=hookbox)")]
    Connect {
        url: String,
        source: tokio_postgres::Error,
    },
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i32,
        name: &'static str,
        source: tokio_postgres::Error,
    },
    #[error("the database schema is at version {found}, this hookbox needs {wanted}: run `hookbox db migrate --db URL` first")]
    SchemaOutdated { found: i32, wanted: i32 },
    #[error("the database schema is at version {found}, newer than this hookbox knows ({known}): upgrade hookbox")]
    SchemaTooNew { found: i32, known: i32 },
    #[error(transparent)]
    Fenced(#[from] lease::Fenced),
    #[error("no deployment {0}")]
    NoDeployment(i64),
    #[error("idempotency key {key:?} of tenant {tenant:?} was used for deployment {existing} with other content (artifact {existing_artifact}, now {artifact}); use a new key")]
    KeyReused {
        tenant: String,
        key: String,
        existing: i64,
        existing_artifact: String,
        artifact: String,
    },
    #[error("artifact {path}: {source}")]
    Artifact {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("artifact {sha256} is missing from the database")]
    NoArtifact { sha256: String },
    #[error("stored {what} of deployment {id} cannot be read: {source}")]
    Stored {
        what: &'static str,
        id: i64,
        source: serde_json::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// What a deployment runs: the hooks of a deploy (`pre-deploy`, the Procfile gate,
/// `post-deploy`, in that order) or of one stage (`hookbox run STAGE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "stage")]
pub enum Scope {
    #[default]
    Deploy,
    Stage(String),
}

/// Everything about a run that is not in the plan, fixed at submit time (the submitter's
/// command line and environment), so every worker runs it the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Settings {
    /// Application variables, already layered (`[env]` < `--env-file` < `--env`).
    pub app_env: BTreeMap<String, String>,
    /// `SKIP_HOOKS`.
    pub skip_hooks: bool,
    /// `--timeout`, in seconds.
    pub timeout_cli_secs: Option<u64>,
    /// `HOOK_TIMEOUT`, in seconds.
    pub timeout_env_secs: Option<u64>,
    /// `PROJECT_PATH`.
    pub project_path: Option<String>,
    /// `hookbox run STAGE -- ARGS`.
    pub extra_args: Vec<String>,
    /// What runs.
    pub scope: Scope,
}

impl Settings {
    pub(crate) fn timeouts(&self) -> crate::lifecycle::Timeouts {
        crate::lifecycle::Timeouts {
            cli: self.timeout_cli_secs.map(Duration::from_secs),
            env: self.timeout_env_secs.map(Duration::from_secs),
        }
    }
}

/// Connects and drives the connection in a task; notifications (LISTEN) are sent to `notify`.
pub async fn connect(
    url: &str,
    notify: Option<tokio::sync::mpsc::UnboundedSender<tokio_postgres::Notification>>,
) -> Result<tokio_postgres::Client, FleetError> {
    let (client, mut connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|source| FleetError::Connect {
            url: redact_url(url),
            source,
        })?;
    tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) => {
                    if let Some(tx) = &notify {
                        let _ = tx.send(n);
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::warn!("database connection ended: {e}");
                    break;
                }
                None => break,
            }
        }
    });
    Ok(client)
}

/// The URL with any password masked, for messages.
pub fn redact_url(url: &str) -> String {
    let mut r = crate::events::redact::Redactor::empty();
    for part in url.split_whitespace() {
        if let Some(pw) = part.strip_prefix("password=") {
            r.add_secret(pw);
        }
    }
    r.redact(url)
}
