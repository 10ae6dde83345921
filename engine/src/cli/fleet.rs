//! `hookbox db migrate`, `hookbox submit`, `hookbox worker`, `hookbox fleet status|logs|cancel`:
//! the command line over [`crate::fleet`]. `--db` comes from the flag or
//! `HOOKBOX_DATABASE_URL`; everything else the library takes as values.
//!
//! The reading commands are a `fleet` group (`hookbox fleet status ID`) so they never clash
//! with the local, single-machine `hookbox status`/`logs` of a `deploy` state folder.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};

use super::args::{ConventionArg, EnvArgs, PlatformArgs, RunnerArg};
use super::commands::{app_env, force_runner, project_dir, read_process_env, runtime};
use super::glue::{self, DiscoverInput};
use super::Ended;
use crate::fleet::queue::{self, DeploymentStatus, LogLine, Queue, Submission};
use crate::fleet::worker::{Worker, WorkerConfig, DEFAULT_CONCURRENCY};
use crate::fleet::{schema, Scope, Settings};

/// How often `--wait`/`--follow` look again when no NOTIFY came: 2 s.
const FOLLOW_POLL: Duration = Duration::from_secs(2);

#[derive(Debug, Args)]
pub struct DbArg {
    /// PostgreSQL connection string (`host=/run/postgresql dbname=hookbox`) or URL
    /// (`postgresql://user@host/db`).
    #[arg(
        long,
        env = "HOOKBOX_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub db: String,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

impl DbArgs {
    pub fn json(&self) -> bool {
        match &self.command {
            DbCommand::Migrate { json, .. } => *json,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create or upgrade the fleet's tables (versioned; running it again changes nothing).
    Migrate {
        #[command(flatten)]
        db: DbArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Project directory (default: the current directory).
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbArg,
    /// The tenant the deployment belongs to (its persistent folder on workers is per tenant).
    #[arg(long)]
    pub tenant: String,
    /// A second submit with the same tenant and key returns the first deployment instead of
    /// enqueueing another (an error if the project's content differs).
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Wait until the deployment ends; exit 0 on success, 1 on failure.
    #[arg(long)]
    pub wait: bool,
    /// Print the deployment's log as workers store it, until it ends (implies --wait).
    #[arg(long)]
    pub follow: bool,
    /// Run only this stage's hooks (like `hookbox run STAGE`) instead of a deployment's.
    #[arg(long, value_name = "STAGE")]
    pub stage: Option<String>,
    #[arg(long, value_enum)]
    pub convention: Option<ConventionArg>,
    #[command(flatten)]
    pub env: EnvArgs,
    /// How long each hook may run: seconds or a duration (5m), 1 s to a day; wins over
    /// hookbox.toml and HOOK_TIMEOUT (default 300).
    #[arg(long, value_name = "DURATION", value_parser = super::args::timeout_secs)]
    pub timeout: Option<u64>,
    /// Run hooks with this runner (.wasm hooks always run in the sandbox).
    #[arg(long, value_enum)]
    pub runner: Option<RunnerArg>,
    /// The operator's platform policy the project is narrowed by before it is queued, as for
    /// `hookbox deploy` (default: /etc/hookbox/platform.toml when it exists).
    #[arg(long, value_name = "FILE", env = "HOOKBOX_PLATFORM")]
    pub platform: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// With --stage: arguments given to every hook of the stage.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (write e.g. 30s, 500ms, 2m)"))
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Deployments run at once by this process.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// This worker's name in attempts and logs (default: HOSTNAME:PID).
    #[arg(long, value_name = "NAME")]
    pub id: Option<String>,
    /// Where deployments are unpacked and tenants' persistent folders live (default:
    /// /var/lib/hookbox/fleet as root, else $XDG_STATE_HOME/hookbox/fleet).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Lease of a claimed deployment: a worker silent this long loses it.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
    pub lease: Duration,
    /// Time between two lease renewals (and the longest a cancel takes to reach a hook).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub heartbeat: Duration,
    /// Pause between two looks at an empty queue when no NOTIFY came.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "2s")]
    pub poll: Duration,
    /// On SIGTERM, time running hooks get to finish before they are given back.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    pub drain_timeout: Duration,
    /// Print the worker's report as JSON when it stops.
    /// This machine's platform policy: runners tenant hooks may use here and the directories
    /// granted to them (default: /etc/hookbox/platform.toml when it exists).
    #[arg(long, value_name = "FILE", env = "HOOKBOX_PLATFORM")]
    pub platform: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FleetArgs {
    #[command(subcommand)]
    pub command: FleetCommand,
}

impl FleetArgs {
    pub fn json(&self) -> bool {
        match &self.command {
            FleetCommand::Status(a) | FleetCommand::Cancel(a) => a.json,
            FleetCommand::Logs(a) => a.json,
        }
    }
}

#[derive(Debug, Args)]
pub struct DeploymentArg {
    /// The deployment id `submit` printed.
    pub deployment: i64,
    #[command(flatten)]
    pub db: DbArg,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The deployment id `submit` printed.
    pub deployment: i64,
    #[command(flatten)]
    pub db: DbArg,
    /// Keep printing lines as they are stored, until the deployment ends.
    #[arg(long)]
    pub follow: bool,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// A deployment's state, status and hooks. Exit 0 when it succeeded or is still running,
    /// 1 when it failed.
    Status(DeploymentArg),
    /// A deployment's stored log.
    Logs(LogsArgs),
    /// Stop a deployment: a queued one at once, a running one within one heartbeat (its hook
    /// is killed, the rest skipped).
    Cancel(DeploymentArg),
}

pub fn db(a: DbArgs) -> Result<Ended> {
    let DbCommand::Migrate { db, json } = a.command;
    let rt = runtime()?;
    let applied = rt.block_on(async {
        let mut client = crate::fleet::connect(&db.db, None).await?;
        schema::migrate(&mut client).await
    })?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "applied": applied, "version": schema::latest_version() })
        );
    } else if applied.is_empty() {
        println!("schema up to date (version {})", schema::latest_version());
    } else {
        println!(
            "applied migration(s) {:?}; schema at version {}",
            applied,
            schema::latest_version()
        );
    }
    Ok(Ended::Success)
}

pub fn submit(a: SubmitArgs) -> Result<Ended> {
    let penv = read_process_env()?;
    let dir = project_dir(a.dir.as_deref())?;
    // The queued plan is what workers run: it is narrowed here, by the operator's policy,
    // like a local deploy's, and carries the tenant's hook user.
    let platform_args = PlatformArgs {
        platform: a.platform.clone(),
        tenant: Some(a.tenant.clone()),
    };
    let policy = super::platform::load(&platform_args)?;
    super::platform::check_runner_flag(policy.as_ref(), a.runner.map(Into::into))?;
    let mut plan = glue::discover(&DiscoverInput {
        dir: dir.clone(),
        convention: a.convention.map(Into::into),
        project_path: penv.project_path.clone(),
        platform: policy.clone(),
        ..Default::default()
    })?;
    force_runner(&mut plan, a.runner.map(Into::into));
    let _uid = super::platform::give_hook_user(&mut plan, policy.as_ref(), &platform_args, &dir)?;
    // Cut to the ceiling exactly as a local run's are.
    let timeouts = super::platform::cap_timeouts(
        policy.as_ref(),
        crate::lifecycle::Timeouts {
            cli: a.timeout.map(Duration::from_secs),
            env: penv.hook_timeout,
        },
    );
    let scope = match &a.stage {
        Some(stage) => {
            if !plan.hooks.iter().any(|h| &h.stage == stage) {
                bail!(
                    "no hook for stage {stage:?} in {}; see `hookbox plan {}`",
                    dir.display(),
                    dir.display()
                );
            }
            Scope::Stage(stage.clone())
        }
        None => {
            if !a.args.is_empty() {
                bail!("`-- ARGS` go to the hooks of one stage: add --stage STAGE");
            }
            Scope::Deploy
        }
    };
    let settings = Settings {
        app_env: app_env(&plan, &a.env)?,
        skip_hooks: penv.skip_hooks,
        timeout_cli_secs: timeouts.cli.map(|d| d.as_secs()),
        timeout_env_secs: timeouts.env.map(|d| d.as_secs()),
        project_path: penv.project_path.clone(),
        extra_args: a.args.clone(),
        scope,
    };
    let mut submission = Submission::new(&a.tenant, &dir, plan);
    submission.idempotency_key = a.idempotency_key.clone();
    submission.settings = settings;
    let rt = runtime()?;
    rt.block_on(async {
        let mut queue = Queue::connect(&a.db.db).await?;
        let submitted = queue.submit(submission).await?;
        if a.json {
            println!(
                "{}",
                serde_json::json!({ "event": "submitted", "submitted": submitted })
            );
        } else if submitted.existing {
            println!(
                "deployment {} (already submitted with this idempotency key; nothing new enqueued)",
                submitted.deployment
            );
        } else {
            println!(
                "deployment {} enqueued: {} hook(s), artifact {}",
                submitted.deployment, submitted.hooks, submitted.artifact
            );
        }
        if !(a.wait || a.follow) {
            return Ok(Ended::Success);
        }
        let json = a.json;
        let follow = a.follow;
        let status = queue::follow(&a.db.db, submitted.deployment, FOLLOW_POLL, |line| {
            if follow {
                print_line(line, json)
            }
        })
        .await?;
        print_status(&status, json);
        Ok(if status.succeeded() {
            Ended::Success
        } else {
            Ended::Failed
        })
    })
}

fn default_work_dir() -> Result<PathBuf> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return Ok(PathBuf::from("/var/lib/hookbox/fleet"));
    }
    let penv = read_process_env()?;
    match penv.state_dir {
        Some(d) => Ok(d.join("fleet")),
        None => bail!("no place for the worker's folders: give --work-dir DIR"),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

pub fn worker(a: WorkerArgs) -> Result<Ended> {
    let penv = read_process_env()?;
    let work_root = match a.work_dir.clone() {
        Some(d) => d,
        None => default_work_dir()?,
    };
    let mut config = WorkerConfig::new(&a.db.db, work_root);
    config.id =
        a.id.clone()
            .unwrap_or_else(|| format!("{}:{}", hostname(), std::process::id()));
    config.temp_root = penv.temp_root.clone();
    config.concurrency = a.concurrency.max(1);
    config.lease = a.lease;
    config.heartbeat = a.heartbeat;
    config.poll = a.poll;
    config.drain_timeout = a.drain_timeout;
    config.sandbox_cache_dir = super::exec::cache_dir_from_env();
    config.platform = super::platform::load(&PlatformArgs {
        platform: a.platform.clone(),
        tenant: None,
    })?;
    if config.heartbeat >= config.lease {
        bail!(
            "--heartbeat ({}) must be shorter than --lease ({}): a third of it is usual",
            humantime::format_duration(config.heartbeat),
            humantime::format_duration(config.lease)
        );
    }
    let rt = runtime()?;
    let report = rt.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
        let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        tokio::spawn(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            eprintln!("hookbox worker: stopping: no new claims; finishing what runs");
            let _ = tx.send(true);
        });
        eprintln!("hookbox worker {}: waiting for deployments", config.id);
        let worker = Worker::new(config);
        worker.run(rx).await.map_err(anyhow::Error::from)
    })?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({ "event": "worker-stopped", "report": report })
        );
    } else {
        eprintln!(
            "hookbox worker: stopped after {} claim(s): {} finished, {} lost or given back",
            report.claimed, report.finished, report.lost
        );
    }
    Ok(Ended::Success)
}

fn print_line(line: &LogLine, json: bool) {
    use std::io::Write;
    let text = if json {
        serde_json::json!({
            "event": "log", "position": line.position, "attempt": line.attempt,
            "seq": line.seq, "ts": line.ts, "stream": line.stream, "text": line.text,
        })
        .to_string()
    } else {
        match line.event.get("hook").and_then(|h| h.as_str()) {
            Some(hook) if line.stream.is_some() => format!(
                "{} [{hook}] {}: {}",
                line.ts,
                line.stream.as_deref().unwrap_or_default(),
                line.text
            ),
            _ => format!("{} {}", line.ts, line.text),
        }
    };
    // A closed stdout (piped into `head`) ends the output, not in a panic.
    let _ = writeln!(std::io::stdout(), "{text}");
}

fn print_status(status: &DeploymentStatus, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({ "event": "status", "deployment": status })
        );
        return;
    }
    println!(
        "deployment {} (tenant {}): {}{}",
        status.id,
        status.tenant,
        status.state,
        status
            .status
            .as_ref()
            .map(|s| format!(", status {s}"))
            .unwrap_or_default()
    );
    if let Some(m) = &status.message {
        println!("  {m}");
    }
    for h in &status.hooks {
        println!(
            "  {:>3} {:<20} {:<24} {} ({} attempt(s))",
            h.position, h.stage, h.name, h.state, h.attempts
        );
    }
}

pub fn fleet(a: FleetArgs) -> Result<Ended> {
    let rt = runtime()?;
    rt.block_on(async {
        match a.command {
            FleetCommand::Status(d) => {
                let queue = Queue::connect(&d.db.db).await?;
                let status = queue.status(d.deployment).await?;
                print_status(&status, d.json);
                Ok(if status.done() && !status.succeeded() {
                    Ended::Failed
                } else {
                    Ended::Success
                })
            }
            FleetCommand::Cancel(d) => {
                let mut queue = Queue::connect(&d.db.db).await?;
                let status = queue.cancel(d.deployment).await?;
                if !d.json {
                    println!(
                        "deployment {}: cancel requested{}",
                        d.deployment,
                        if status.done() {
                            ""
                        } else {
                            "; its worker stops the running hook within one heartbeat"
                        }
                    );
                }
                print_status(&status, d.json);
                Ok(Ended::Success)
            }
            FleetCommand::Logs(l) => {
                if l.follow {
                    let status = queue::follow(&l.db.db, l.deployment, FOLLOW_POLL, |line| {
                        print_line(line, l.json)
                    })
                    .await?;
                    return Ok(if status.succeeded() {
                        Ended::Success
                    } else {
                        Ended::Failed
                    });
                }
                let queue = Queue::connect(&l.db.db).await?;
                queue.status(l.deployment).await?;
                for line in queue.logs(l.deployment, 0).await? {
                    print_line(&line, l.json);
                }
                Ok(Ended::Success)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::args::{Cli, Command};
    use super::*;
    use crate::fleet::lease;
    use crate::fleet::worker::{DEFAULT_DRAIN_TIMEOUT, DEFAULT_POLL};
    use clap::Parser;

    #[test]
    fn worker_defaults() {
        let cli = Cli::try_parse_from(["hookbox", "worker", "--db", "host=/tmp"]).unwrap();
        let Command::Worker(w) = cli.command else {
            panic!("not worker")
        };
        assert_eq!(w.concurrency, DEFAULT_CONCURRENCY);
        assert_eq!(w.lease, lease::DEFAULT_LEASE);
        assert_eq!(w.heartbeat, lease::DEFAULT_HEARTBEAT);
        assert_eq!(w.poll, DEFAULT_POLL);
        assert_eq!(w.drain_timeout, DEFAULT_DRAIN_TIMEOUT);
        let cli = Cli::try_parse_from([
            "hookbox",
            "worker",
            "--db",
            "x",
            "--lease",
            "3s",
            "--heartbeat",
            "500ms",
        ])
        .unwrap();
        let Command::Worker(w) = cli.command else {
            panic!("not worker")
        };
        assert_eq!(w.lease, Duration::from_secs(3));
        assert_eq!(w.heartbeat, Duration::from_millis(500));
    }
}
