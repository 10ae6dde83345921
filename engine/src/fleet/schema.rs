//! The fleet's tables, as numbered migrations applied in order, each once.
//!
//! In: a connection. Out: the versions applied by this call ([`migrate`]). The applied
//! versions are kept in `hookbox_schema`; a transaction-scoped advisory lock makes concurrent
//! `hookbox db migrate` calls (every worker at boot) wait for each other instead of racing.
//! A migration is never edited once released: a change is a new entry at the end.
//!
//! What each table holds is described in docs/fleet.md.

use tokio_postgres::Client;

use super::FleetError;

/// One schema step.
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Key of the advisory lock that serialises migrations (an arbitrary constant: "hookbox").
const MIGRATION_LOCK: i64 = 0x0068_6f6f_6b62_6f78;

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "queue, leases, attempts, logs",
    sql: r#"
CREATE TABLE hookbox_artifacts (
    sha256      text PRIMARY KEY,
    size_bytes  bigint NOT NULL,
    content     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hookbox_deployments (
    id                bigserial PRIMARY KEY,
    tenant            text NOT NULL,
    idempotency_key   text,
    artifact          text NOT NULL REFERENCES hookbox_artifacts (sha256),
    plan              jsonb NOT NULL,
    settings          jsonb NOT NULL,
    state             text NOT NULL DEFAULT 'queued'
                      CHECK (state IN ('queued', 'running', 'done')),
    status            text,
    message           text,
    cancel_requested  boolean NOT NULL DEFAULT false,
    fence             bigint NOT NULL DEFAULT 0,
    claims            integer NOT NULL DEFAULT 0,
    worker            text,
    lease_until       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    UNIQUE (tenant, idempotency_key)
);
CREATE INDEX hookbox_deployments_claimable
    ON hookbox_deployments (id) WHERE state <> 'done';

CREATE TABLE hookbox_hooks (
    deployment_id  bigint NOT NULL REFERENCES hookbox_deployments (id) ON DELETE CASCADE,
    position       integer NOT NULL,
    name           text NOT NULL,
    stage          text NOT NULL,
    hook           jsonb NOT NULL,
    state          text NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'lost',
                                    'cancelled', 'skipped')),
    attempts       integer NOT NULL DEFAULT 0,
    outcome        jsonb,
    PRIMARY KEY (deployment_id, position)
);

CREATE TABLE hookbox_attempts (
    deployment_id  bigint NOT NULL,
    position       integer NOT NULL,
    attempt        integer NOT NULL,
    fence          bigint NOT NULL,
    worker         text NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    lease_until    timestamptz NOT NULL,
    ended_at       timestamptz,
    result         text CHECK (result IN ('succeeded', 'failed', 'lost', 'cancelled')),
    exit_code      integer,
    PRIMARY KEY (deployment_id, position, attempt),
    FOREIGN KEY (deployment_id, position)
        REFERENCES hookbox_hooks (deployment_id, position) ON DELETE CASCADE
);

CREATE TABLE hookbox_log_lines (
    id             bigserial PRIMARY KEY,
    deployment_id  bigint NOT NULL REFERENCES hookbox_deployments (id) ON DELETE CASCADE,
    position       integer NOT NULL,
    attempt        integer NOT NULL,
    seq            integer NOT NULL,
    ts             timestamptz NOT NULL,
    stream         text,
    text           text NOT NULL,
    event          jsonb NOT NULL,
    UNIQUE (deployment_id, position, attempt, seq)
);
CREATE INDEX hookbox_log_lines_by_deployment ON hookbox_log_lines (deployment_id, id);
"#,
}];

/// The newest schema version this build knows.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

/// Applies every migration not applied yet, in order, in one transaction; returns the
/// versions applied now (empty when the schema was up to date).
pub async fn migrate(client: &mut Client) -> Result<Vec<i32>, FleetError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS hookbox_schema (
             version     integer PRIMARY KEY,
             name        text NOT NULL,
             applied_at  timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let current: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM hookbox_schema", &[])
        .await?
        .get(0);
    if current > latest_version() {
        return Err(FleetError::SchemaTooNew {
            found: current,
            known: latest_version(),
        });
    }
    let mut applied = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.batch_execute(m.sql)
            .await
            .map_err(|e| FleetError::Migration {
                version: m.version,
                name: m.name,
                source: e,
            })?;
        tx.execute(
            "INSERT INTO hookbox_schema (version, name) VALUES ($1, $2)",
            &[&m.version, &m.name],
        )
        .await?;
        applied.push(m.version);
    }
    tx.commit().await?;
    Ok(applied)
}

/// Fails unless the schema is at this build's version (workers and `submit` call it, so an
/// unmigrated database gives one clear error instead of a missing-table one).
pub async fn check(client: &Client) -> Result<(), FleetError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('hookbox_schema') IS NOT NULL", &[])
        .await?
        .get(0);
    let found: i32 = if exists {
        client
            .query_one("SELECT coalesce(max(version), 0) FROM hookbox_schema", &[])
            .await?
            .get(0)
    } else {
        0
    };
    if found < latest_version() {
        return Err(FleetError::SchemaOutdated {
            found,
            wanted: latest_version(),
        });
    }
    if found > latest_version() {
        return Err(FleetError::SchemaTooNew {
            found,
            known: latest_version(),
        });
    }
    Ok(())
}
