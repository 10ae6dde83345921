//! A deployment's events into `hookbox_log_lines`: the [`DbSink`] buffers them as they come
//! (an [`EventSink`], called on the emitting thread, never blocking on the database) and
//! [`write`] stores a batch in one fenced transaction with one NOTIFY.
//!
//! Each line is keyed (deployment, position, attempt, seq): `position` is the hook's place in
//! the deployment (`-1` for the deployment's own lines, whose `attempt` is the claim number),
//! `seq` counts from 1 within one attempt with no gap. Sequence numbers are given when a line
//! arrives, and batches are written by one writer at a time, so the stored order is the emitted
//! order. Lines of a worker that lost its lease are refused with the rest of its writes.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio_postgres::Transaction;

use super::lease::{self, Fence};
use super::{FleetError, LOG_CHANNEL};
use crate::events::{Event, EventSink};
use crate::runner::Stream;

/// Lines buffered before the writer is woken early: 500. Below it the writer runs every
/// flush interval.
pub const DEFAULT_BATCH_LINES: usize = 500;

/// Lines held in memory at most while the database does not take them: 100,000. Past it
/// further lines are dropped (the hook's own output cap bounds this long before).
pub const DEFAULT_MAX_BUFFERED_LINES: usize = 100_000;

/// The position of the deployment's own lines (not a hook's).
pub const DEPLOYMENT_POSITION: i32 = -1;

/// One line waiting to be stored.
#[derive(Debug, Clone)]
pub struct Pending {
    pub position: i32,
    pub attempt: i32,
    pub seq: i32,
    pub ts: String,
    pub stream: Option<String>,
    pub text: String,
    pub event: serde_json::Value,
}

#[derive(Default)]
struct State {
    current: (i32, i32),
    next_seq: HashMap<(i32, i32), i32>,
    pending: Vec<Pending>,
}

/// The database event sink of one claimed deployment.
pub struct DbSink {
    claim: i32,
    state: Mutex<State>,
    wake: tokio::sync::Notify,
    batch_lines: usize,
}

impl DbSink {
    /// A sink whose lines belong to the deployment's claim `claim` until [`DbSink::set_current`].
    pub fn new(claim: i32) -> Self {
        DbSink {
            claim,
            state: Mutex::new(State {
                current: (DEPLOYMENT_POSITION, claim),
                ..State::default()
            }),
            wake: tokio::sync::Notify::new(),
            batch_lines: DEFAULT_BATCH_LINES,
        }
    }

    /// Lines from now on belong to (`position`, `attempt`).
    pub fn set_current(&self, position: i32, attempt: i32) {
        if let Ok(mut s) = self.state.lock() {
            s.current = (position, attempt);
        }
    }

    /// Lines from now on are the deployment's own again.
    pub fn set_deployment(&self) {
        self.set_current(DEPLOYMENT_POSITION, self.claim);
    }

    /// Takes every buffered line, in order.
    pub fn take(&self) -> Vec<Pending> {
        match self.state.lock() {
            Ok(mut s) => std::mem::take(&mut s.pending),
            Err(_) => Vec::new(),
        }
    }

    /// Puts lines that could not be written back in front, to be written again.
    pub fn put_back(&self, mut lines: Vec<Pending>) {
        if let Ok(mut s) = self.state.lock() {
            lines.append(&mut s.pending);
            s.pending = lines;
        }
    }

    /// Resolves when a batch is full.
    pub async fn full(&self) {
        self.wake.notified().await
    }
}

impl EventSink for DbSink {
    fn event(&self, ts: &str, event: &Event) {
        if matches!(event, Event::Progress { .. }) {
            return;
        }
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        if s.pending.len() >= DEFAULT_MAX_BUFFERED_LINES {
            return;
        }
        let (position, attempt) = s.current;
        let seq = s.next_seq.entry((position, attempt)).or_insert(0);
        *seq += 1;
        let seq = *seq;
        let (stream, text) = match event {
            Event::Output { stream, line, .. } => (
                Some(match stream {
                    Stream::Stdout => "stdout".to_string(),
                    Stream::Stderr => "stderr".to_string(),
                }),
                line.clone(),
            ),
            other => (None, other.text()),
        };
        s.pending.push(Pending {
            position,
            attempt,
            seq,
            ts: ts.to_string(),
            stream,
            text,
            event: serde_json::to_value(event).unwrap_or(serde_json::Value::Null),
        });
        if s.pending.len() >= self.batch_lines {
            self.wake.notify_one();
        }
    }
}

/// Inside a transaction that has passed [`lease::check`]: stores `lines` and notifies
/// followers once.
pub async fn insert(
    tx: &Transaction<'_>,
    fence: Fence,
    lines: &[Pending],
) -> Result<(), FleetError> {
    if lines.is_empty() {
        return Ok(());
    }
    let positions: Vec<i32> = lines.iter().map(|l| l.position).collect();
    let attempts: Vec<i32> = lines.iter().map(|l| l.attempt).collect();
    let seqs: Vec<i32> = lines.iter().map(|l| l.seq).collect();
    let ts: Vec<&str> = lines.iter().map(|l| l.ts.as_str()).collect();
    let streams: Vec<Option<&str>> = lines.iter().map(|l| l.stream.as_deref()).collect();
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    let events: Vec<&serde_json::Value> = lines.iter().map(|l| &l.event).collect();
    tx.execute(
        "INSERT INTO hookbox_log_lines (deployment_id, position, attempt, seq, ts, stream, text, event)
         SELECT $1, p, a, s, t::timestamptz, st, tx, ev
         FROM unnest($2::int4[], $3::int4[], $4::int4[], $5::text[], $6::text[], $7::text[], $8::jsonb[])
              AS u(p, a, s, t, st, tx, ev)",
        &[
            &fence.deployment,
            &positions,
            &attempts,
            &seqs,
            &ts,
            &streams,
            &texts,
            &events,
        ],
    )
    .await?;
    tx.execute(
        &format!("SELECT pg_notify('{LOG_CHANNEL}', $1)"),
        &[&fence.deployment.to_string()],
    )
    .await?;
    Ok(())
}

/// Stores what the sink holds, in one fenced transaction. On a database error the lines go
/// back into the sink (written with the next batch); when fenced they are dropped with the
/// rest of this holder's writes.
pub async fn flush(
    client: &mut tokio_postgres::Client,
    fence: Fence,
    sink: &DbSink,
) -> Result<(), FleetError> {
    let lines = sink.take();
    if lines.is_empty() {
        return Ok(());
    }
    let result = async {
        let tx = client.transaction().await?;
        lease::check(&tx, fence).await?;
        insert(&tx, fence, &lines).await?;
        tx.commit().await?;
        Ok::<(), FleetError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(()),
        Err(e @ FleetError::Fenced(_)) => Err(e),
        Err(e) => {
            sink.put_back(lines);
            Err(e)
        }
    }
}
