//! The subcommands: read the inputs, call the library, print, return how it ended.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::args::{
    Command, DeployArgs, EnvArgs, HookArgs, PlanArgs, RollbackArgs, RunArgs, ValidateArgs,
};
use super::glue::{self, DiscoverInput};
use super::Ended;
use crate::discover::Severity;
use crate::events::redact::Redactor;
use crate::events::{Events, Terminal};
use crate::lifecycle::deploy::{DeployOptions, RollbackOptions, DEFAULT_HEALTH_INTERVAL};
use crate::lifecycle::releases::{state_name, StateDir};
use crate::lifecycle::{env, Outcome, Platform, RunContext, Runners, Timeouts};
use crate::limits::Limits;
use crate::plan::{HookProgram, Plan, RunnerKind};

/// How often a long hook's elapsed time is shown on a terminal.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

pub fn dispatch(command: Command) -> Result<Ended> {
    match command {
        Command::Plan(a) => plan(a),
        Command::Validate(a) => validate(a),
        Command::Run(a) => run(a),
        Command::Deploy(a) => deploy(a),
        Command::Rollback(a) => rollback(a),
        Command::Releases(a) => super::manage::releases(a),
        Command::Status(a) => super::manage::status(a),
        Command::Logs(a) => super::manage::logs(a),
        Command::Stop(a) => super::manage::stop(a),
        Command::Exec(a) => super::exec::exec(a).map(Ended::Status),
        Command::Shell(a) => super::shell::shell(a).map(Ended::Status),
        Command::Compile(a) => super::compile::compile(a).map(Ended::Status),
        Command::Completions(a) => super::docs::completions(a).map(Ended::Status),
        Command::Man => super::docs::man().map(Ended::Status),
        Command::Schema => super::docs::schema().map(Ended::Status),
        Command::Db(a) => super::fleet::db(a),
        Command::Submit(a) => super::fleet::submit(a),
        Command::Worker(a) => super::fleet::worker(a),
        Command::Fleet(a) => super::fleet::fleet(a),
    }
}

/// Where deploy state folders live by default as root.
pub const ROOT_DEPLOYS_DIR: &str = "/var/lib/hookbox/deploys";

/// The process environment, read once, here only.
pub(super) struct ProcessEnv {
    pub(super) hook_timeout: Option<Duration>,
    pub(super) skip_hooks: bool,
    pub(super) project_path: Option<String>,
    pub(super) flux_peer_index: u32,
    pub(super) state_dir: Option<PathBuf>,
    /// Where deploy state folders are made by default (`None`: no HOME to put them in).
    pub(super) deploys_root: Option<PathBuf>,
    pub(super) temp_root: PathBuf,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `SKIP_HOOKS`: `true`/`1`/`yes` skip; `false`/`0`/`no`/empty do not; anything else is an
/// error rather than a guess.
pub fn parse_skip_hooks(value: Option<&str>) -> Result<bool> {
    match value.map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) => match v.as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" | "" => Ok(false),
            _ => bail!("SKIP_HOOKS={v:?} is not understood: use true, 1 or yes to skip every hook (false, 0, no or unset to run them)"),
        },
    }
}

/// A `--log-file` given by a person: its folder must exist. hookbox makes the folders of its
/// own default logs, but a mistyped path (`/nonexistent/dir/x.log`) is an error, not a new
/// directory tree.
fn explicit_log_file(path: &Path) -> Result<&Path> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(folder) if !folder.is_dir() => bail!(
            "--log-file {}: the folder {} does not exist (create it first, or choose another file)",
            path.display(),
            folder.display()
        ),
        _ => Ok(path),
    }
}

/// `HOOK_TIMEOUT`: seconds or a duration (`5m`), from 1 s to a day ([`crate::limits::MAX_TIMEOUT`]).
pub fn parse_hook_timeout(value: Option<&str>) -> Result<Option<Duration>> {
    match value {
        None => Ok(None),
        Some(v) => match crate::limits::parse_timeout_secs(v) {
            Ok(timeout) => Ok(Some(timeout)),
            Err(why) => bail!("HOOK_TIMEOUT={v:?}: {why} (e.g. HOOK_TIMEOUT=600)"),
        },
    }
}

pub(super) fn read_process_env() -> Result<ProcessEnv> {
    let state_dir = match var("XDG_STATE_HOME").filter(|v| v.starts_with('/')) {
        Some(x) => Some(PathBuf::from(x).join("hookbox")),
        None => var("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".local/state/hookbox")),
    };
    let flux_peer_index = match var("FLUX_PEER_INDEX") {
        None => env::DEFAULT_FLUX_PEER_INDEX,
        Some(v) => v
            .trim()
            .parse()
            .with_context(|| format!("FLUX_PEER_INDEX={v:?} is not a number (e.g. 0)"))?,
    };
    let deploys_root = if rustix::process::geteuid().is_root() {
        Some(PathBuf::from(ROOT_DEPLOYS_DIR))
    } else {
        state_dir.as_ref().map(|d| d.join("deploys"))
    };
    Ok(ProcessEnv {
        deploys_root,
        hook_timeout: parse_hook_timeout(var("HOOK_TIMEOUT").as_deref())?,
        skip_hooks: parse_skip_hooks(var("SKIP_HOOKS").as_deref())?,
        project_path: var("PROJECT_PATH").filter(|p| !p.is_empty()),
        flux_peer_index,
        state_dir,
        temp_root: std::env::temp_dir(),
    })
}

/// The deploy state folder of the project `dir` (canonical): `--state-dir` (made absolute),
/// else `<deploys root>/<state_name(dir)>`.
pub(super) fn deploy_state_dir(
    dir: &Path,
    flag: Option<&Path>,
    penv: &ProcessEnv,
) -> Result<PathBuf> {
    if let Some(d) = flag {
        return absolute(d);
    }
    let root = penv.deploys_root.as_ref().context(
        "no place for the deploy state: HOME and XDG_STATE_HOME are unset; give --state-dir",
    )?;
    Ok(root.join(state_name(dir)))
}

/// `path` made absolute against the current directory (not resolved: the state folder's last
/// component is opened without following a symlink).
pub(super) fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(cwd.join(path))
}

pub(super) fn project_dir(dir: Option<&Path>) -> Result<PathBuf> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let canonical = dir
        .canonicalize()
        .with_context(|| format!("{}: no such project directory", dir.display()))?;
    if !canonical.is_dir() {
        bail!("{}: not a directory", dir.display());
    }
    Ok(canonical)
}

pub(super) fn app_env(plan: &Plan, args: &EnvArgs) -> Result<BTreeMap<String, String>> {
    let file = match &args.env_file {
        Some(path) => env::read_env_file(path)?,
        None => BTreeMap::new(),
    };
    let mut cli = BTreeMap::new();
    for a in &args.env {
        let (k, v) = env::parse_env_arg(a)?;
        cli.insert(k, v);
    }
    Ok(env::layer_app_env(&plan.env, &file, &cli))
}

pub(super) fn force_runner(plan: &mut Plan, runner: Option<RunnerKind>) {
    if let Some(kind) = runner {
        plan.runner = kind;
        for hook in &mut plan.hooks {
            if !matches!(hook.program, HookProgram::Wasm(_)) {
                hook.runner = kind;
            }
        }
    }
}

fn terminal(hook: &HookArgs) -> Terminal {
    if hook.quiet && !hook.json {
        Terminal::Brief
    } else {
        json_or_text(hook.json)
    }
}

fn json_or_text(json: bool) -> Terminal {
    if json {
        Terminal::Json
    } else {
        Terminal::Human
    }
}

pub(super) fn runtime() -> Result<super::runtime::CliRuntime> {
    super::runtime::CliRuntime::multi_thread(2)
}

/// A cancel watch set by SIGINT or SIGTERM (the running hook is stopped, nothing else runs).
fn cancel_on_signals() -> Result<tokio::sync::watch::Receiver<bool>> {
    use tokio::signal::unix::{signal, SignalKind};
    let (tx, rx) = tokio::sync::watch::channel(false);
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        eprintln!("hookbox: signal received, stopping the running hook");
        let _ = tx.send(true);
    });
    Ok(rx)
}

fn context(
    plan: &Plan,
    dir: &Path,
    app_env: BTreeMap<String, String>,
    penv: &ProcessEnv,
    hook: &HookArgs,
    extra_args: Vec<String>,
    policy: Option<&crate::platform::PlatformPolicy>,
) -> Result<RunContext> {
    let mut platform = Platform::new(dir, &plan.policy.path);
    platform.project_path = penv.project_path.clone();
    platform.flux_peer_index = penv.flux_peer_index;
    platform.extra = super::platform::passthrough_env(policy);
    let progress = !hook.json && !hook.quiet && std::io::stdout().is_terminal();
    Ok(RunContext {
        app_env,
        platform,
        timeouts: super::platform::cap_timeouts(
            policy,
            Timeouts {
                cli: hook.timeout.map(Duration::from_secs),
                env: penv.hook_timeout,
            },
        ),
        skip_hooks: penv.skip_hooks,
        extra_args,
        limits: plan.limits.apply(Limits::default()),
        temp_root: penv.temp_root.clone(),
        hook_user: glue::hook_ids(&plan.policy)?,
        progress_every: progress.then_some(PROGRESS_EVERY),
        gate: None,
    })
}

fn print_outcome(json: bool, outcome: &Outcome) {
    if json {
        let value = serde_json::json!({ "v": crate::events::JSON_VERSION, "event": "outcome", "outcome": outcome });
        println!("{value}");
    }
}

fn ended(outcome: &Outcome) -> Ended {
    if outcome.status.is_success() {
        Ended::Success
    } else {
        Ended::Failed
    }
}

fn plan(a: PlanArgs) -> Result<Ended> {
    let penv = read_process_env()?;
    let dir = project_dir(a.dir.as_deref())?;
    let policy = super::platform::load(&a.platform)?;
    let mut plan = glue::discover(&DiscoverInput {
        dir: dir.clone(),
        convention: a.convention.map(Into::into),
        project_path: penv.project_path,
        acquia_env: a.acquia_env,
        platform: policy.clone(),
        ..Default::default()
    })?;
    super::platform::show_hook_user(&mut plan, policy.as_ref(), &a.platform, &dir)?;
    if a.json {
        let value = super::platform::plan_json(&plan)?;
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(Ended::Success);
    }
    let redactor = Redactor::from_env(&plan.env);
    print!("{}", redactor.redact(&render_plan(&plan)));
    Ok(Ended::Success)
}

/// The serde (kebab-case) name of a unit enum value.
fn kebab<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// The text form of a plan.
pub fn render_plan(plan: &Plan) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let conventions: Vec<String> = plan
        .conventions
        .iter()
        .map(|c| {
            serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        })
        .collect();
    let _ = writeln!(s, "Project: {}", plan.root.display());
    let _ = writeln!(
        s,
        "Conventions: {}",
        if conventions.is_empty() {
            "none found".to_string()
        } else {
            conventions.join(", ")
        }
    );
    if plan.hooks.is_empty() {
        let _ = writeln!(s, "Hooks: none");
    } else {
        let _ = writeln!(s, "Hooks, in run order:");
        for h in &plan.hooks {
            let what = match &h.program {
                HookProgram::Script(p) => p
                    .strip_prefix(&plan.root)
                    .unwrap_or(p)
                    .display()
                    .to_string(),
                HookProgram::Command(c) => format!("`{c}`"),
                HookProgram::Wasm(p) => p
                    .strip_prefix(&plan.root)
                    .unwrap_or(p)
                    .display()
                    .to_string(),
            };
            let timeout = h
                .timeout
                .map(|t| format!(", timeout {} s", t.as_secs()))
                .unwrap_or_default();
            let args = if h.args.is_empty() {
                String::new()
            } else {
                format!(", args {:?}", h.args)
            };
            let _ = writeln!(
                s,
                "  {:<20} {:<24} {what}  [{}, on failure {}{timeout}{args}]",
                h.stage,
                h.name,
                kebab(&h.runner),
                kebab(&h.failure)
            );
        }
    }
    for sk in &plan.skipped {
        let _ = writeln!(s, "Not run: {}: {}", sk.path.display(), sk.reason);
    }
    for (name, command) in &plan.processes {
        let _ = writeln!(s, "Process (not a hook): {name}: {command}");
    }
    for (name, value) in &plan.env {
        let _ = writeln!(s, "Env: {name}={value}");
    }
    let d = &plan.deploy;
    for (name, c) in [
        ("install", &d.install),
        ("build", &d.build),
        ("start", &d.start),
        ("health-check", &d.health_check),
    ] {
        if let Some(c) = c {
            let _ = writeln!(s, "Deploy {name}: {c}");
        }
    }
    if let Some(eff) = &plan.effective_policy {
        s.push_str(&super::platform::render_policy(eff));
    }
    s
}

fn validate(v: ValidateArgs) -> Result<Ended> {
    let a = v.plan;
    let penv = read_process_env()?;
    let dir = project_dir(a.dir.as_deref())?;
    let policy = super::platform::load(&a.platform)?;
    let problems = glue::validate(&DiscoverInput {
        dir: dir.clone(),
        convention: a.convention.map(Into::into),
        project_path: penv.project_path,
        acquia_env: a.acquia_env,
        platform: policy,
        ..Default::default()
    })?;
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = problems.len() - errors;
    let failed = errors > 0 || (v.strict && warnings > 0);
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "v": 1,
                "dir": dir,
                "ok": !failed,
                "errors": errors,
                "warnings": warnings,
                "problems": problems,
            })
        );
    } else {
        for p in &problems {
            println!("{}", p.lint_line());
        }
        if problems.is_empty() {
            println!("{}: no problems found", dir.display());
        } else {
            println!("{errors} error(s), {warnings} warning(s)");
        }
    }
    if let Some(p) = problems.iter().find(|p| p.ceiling.is_some()) {
        // Asking for more than the operator grants is a configuration error: exit 2.
        bail!("the project asks for more than the platform policy grants: {p}");
    }
    Ok(if failed {
        Ended::Failed
    } else {
        Ended::Success
    })
}

fn run(a: RunArgs) -> Result<Ended> {
    let penv = read_process_env()?;
    let dir = project_dir(a.dir.as_deref())?;
    let policy = super::platform::load(&a.platform)?;
    super::platform::check_runner_flag(policy.as_ref(), a.hook.runner.map(Into::into))?;
    let mut plan = glue::discover(&DiscoverInput {
        dir: dir.clone(),
        convention: a.convention.map(Into::into),
        project_path: penv.project_path.clone(),
        acquia_env: a.acquia_env.clone(),
        source_code_version: a.source_code_version.clone(),
        target_code_version: a.target_code_version.clone(),
        platform: policy.clone(),
    })?;
    force_runner(&mut plan, a.hook.runner.map(Into::into));
    let _uid = super::platform::give_hook_user(&mut plan, policy.as_ref(), &a.platform, &dir)?;
    let app_env = app_env(&plan, &a.env)?;
    let log = match &a.hook.log_file {
        Some(p) => Some(explicit_log_file(p)?.to_path_buf()),
        None => penv.state_dir.as_ref().map(|d| d.join("hooks.log")),
    };
    let events = Arc::new(Events::new(
        log.as_deref(),
        terminal(&a.hook),
        super::platform::redactor(&app_env, &super::platform::passthrough_env(policy.as_ref())),
    )?);
    let ctx = context(
        &plan,
        &dir,
        app_env,
        &penv,
        &a.hook,
        a.args.clone(),
        policy.as_ref(),
    )?;
    let native = glue::native_runner()?;
    let rt = runtime()?;
    let outcome = rt.block_on(async {
        let sandbox = glue::sandbox_runner(&plan, a.hook.meter_fuel)?;
        let cancel = cancel_on_signals()?;
        let runners = Runners {
            native: native.as_ref(),
            sandbox: sandbox.as_deref(),
        };
        crate::lifecycle::run_stage(&plan, &a.stage, &ctx, &runners, &events, cancel)
            .await
            .map_err(anyhow::Error::from)
    })?;
    print_outcome(a.hook.json, &outcome);
    Ok(ended(&outcome))
}

fn deploy(a: DeployArgs) -> Result<Ended> {
    let penv = read_process_env()?;
    let dir = project_dir(a.dir.as_deref())?;
    let policy = super::platform::load(&a.platform)?;
    super::platform::check_runner_flag(policy.as_ref(), a.hook.runner.map(Into::into))?;
    let mut plan = glue::discover(&DiscoverInput {
        dir: dir.clone(),
        convention: a.convention.map(Into::into),
        project_path: penv.project_path.clone(),
        acquia_env: None,
        platform: policy.clone(),
        ..Default::default()
    })?;
    force_runner(&mut plan, a.hook.runner.map(Into::into));
    let _uid = super::platform::give_hook_user(&mut plan, policy.as_ref(), &a.platform, &dir)?;
    let app_env = app_env(&plan, &a.env)?;
    let redactor =
        super::platform::redactor(&app_env, &super::platform::passthrough_env(policy.as_ref()));
    let ctx = context(
        &plan,
        &dir,
        app_env,
        &penv,
        &a.hook,
        Vec::new(),
        policy.as_ref(),
    )?;
    let state_path = deploy_state_dir(&dir, a.state.state_dir.as_deref(), &penv)?;
    let state = StateDir::create(&state_path, ctx.hook_user)?;
    let events = Arc::new(match &a.hook.log_file {
        Some(log) => Events::new(Some(explicit_log_file(log)?), terminal(&a.hook), redactor)?,
        None => Events::with_log_file(
            state.open_log("hooks.log")?,
            &state.log_path("hooks.log"),
            terminal(&a.hook),
            redactor,
        ),
    });
    let opts = DeployOptions {
        keep: a.keep.max(1),
        health_timeout: Duration::from_secs(a.health_timeout),
        health_interval: DEFAULT_HEALTH_INTERVAL,
        ..DeployOptions::default()
    };
    let native = glue::native_runner()?;
    let rt = runtime()?;
    let outcome = rt.block_on(async {
        let sandbox = glue::sandbox_runner(&plan, a.hook.meter_fuel)?;
        let cancel = cancel_on_signals()?;
        let runners = Runners {
            native: native.as_ref(),
            sandbox: sandbox.as_deref(),
        };
        crate::lifecycle::deploy::deploy(&plan, &state, &ctx, &opts, runners, &events, cancel)
            .await
            .map_err(anyhow::Error::from)
    })?;
    print_outcome(a.hook.json, &outcome);
    Ok(ended(&outcome))
}

fn rollback(a: RollbackArgs) -> Result<Ended> {
    let penv = read_process_env()?;
    let state_path = match &a.state.state_dir {
        Some(d) => absolute(d)?,
        None => deploy_state_dir(&project_dir(a.dir.as_deref())?, None, &penv)?,
    };
    let Some(state) = StateDir::open(&state_path)? else {
        bail!(crate::lifecycle::deploy::DeployError::NotDeployed {
            dir: a.dir.clone().unwrap_or_else(|| PathBuf::from(".")),
            state: state_path,
        });
    };
    // Only the operator's own --env/--env-file go over what the deploy recorded; nothing is
    // read from the release (its files belong to the hook user).
    let file = match &a.env.env_file {
        Some(path) => env::read_env_file(path)?,
        None => BTreeMap::new(),
    };
    let mut extra = file;
    for e in &a.env.env {
        let (k, v) = env::parse_env_arg(e)?;
        extra.insert(k, v);
    }
    let mut redactor = Redactor::from_env(&extra);
    // Whichever release is started, its recorded secrets stay out of the output.
    for id in state.list()? {
        if let Some(record) = state.record(&id)? {
            redactor.extend(&Redactor::from_env(&record.start_env));
        }
    }
    let events = Arc::new(match &a.log_file {
        Some(log) => Events::new(
            Some(explicit_log_file(log)?),
            json_or_text(a.json),
            redactor,
        )?,
        None => Events::with_log_file(
            state.open_log("hooks.log")?,
            &state.log_path("hooks.log"),
            json_or_text(a.json),
            redactor,
        ),
    });
    let opts = RollbackOptions {
        to: a.to.clone(),
        temp_root: penv.temp_root.clone(),
        env: extra,
    };
    let outcome = crate::lifecycle::deploy::rollback(&state, &opts, &events)?;
    print_outcome(a.json, &outcome);
    Ok(ended(&outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_hooks_values() {
        for v in ["true", "1", "yes", "TRUE", " Yes "] {
            assert!(parse_skip_hooks(Some(v)).unwrap(), "{v}");
        }
        for v in ["false", "0", "no", ""] {
            assert!(!parse_skip_hooks(Some(v)).unwrap(), "{v}");
        }
        assert!(!parse_skip_hooks(None).unwrap());
        assert!(parse_skip_hooks(Some("maybe")).is_err());
    }

    #[test]
    fn hook_timeout_values() {
        assert_eq!(
            parse_hook_timeout(Some("600")).unwrap(),
            Some(Duration::from_secs(600))
        );
        assert_eq!(parse_hook_timeout(None).unwrap(), None);
        assert!(parse_hook_timeout(Some("0")).is_err());
        assert_eq!(
            parse_hook_timeout(Some("5m")).unwrap(),
            Some(Duration::from_secs(300))
        );
        assert!(parse_hook_timeout(Some("2.5s")).is_err());
        let err = parse_hook_timeout(Some("18446744073709551615")).unwrap_err();
        assert!(err.to_string().contains("HOOK_TIMEOUT"), "{err}");
    }
}
