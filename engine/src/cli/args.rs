//! The command line: one clap definition per flag, its help text beside it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::plan::{Convention, RunnerKind};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (warnings allowed: a failed post-deploy hook is a WARNING)
  1  the stage or the deployment failed (a hook, the build, the health check; --json says which);
     `validate`: a problem was found
  2  usage or configuration error; nothing ran (also `validate` of a project that asks for
     more than the operator's platform policy grants)
  exec, shell: the guest's own status, like sh; 124 when its time limit stops it, 137 for fuel
     or memory

Environment (read only here, never by hooks):
  HOOK_TIMEOUT    how long a hook may run, seconds or a duration like 5m (default 300);
                  --timeout and hookbox.toml win over it
  SKIP_HOOKS      true|1|yes: skip every hook, and say so
  PROJECT_PATH    monorepo subfolder whose hook files win over the root's
  HOOKBOX_PLATFORM  the operator's platform policy file (as --platform)
  XDG_STATE_HOME  where `run` keeps hooks.log (default ~/.local/state/hookbox/hooks.log) and,
                  when not root, `deploy` its state (…/hookbox/deploys/<name>; as root
                  /var/lib/hookbox/deploys/<name>)
  RUST_LOG        diagnostics on stderr (or -v, -vv), e.g. RUST_LOG=wasmtime=debug
  NO_COLOR        set: no colour in diagnostics (they are coloured only on a terminal)";

const ABOUT: &str = "Run deployment hooks (Flux-Orbit pre-deploy.sh/post-deploy.sh, Procfile \
postdeploy:/release:, Site Factory factory-hooks/, Acquia Cloud hooks/, hookbox.toml) with one \
lifecycle, natively or in a WebAssembly sandbox.";

const EXAMPLES: &str = "\
Examples:
  hookbox plan                          what would run here, in order
  hookbox validate ./app                check every hook without running one
  hookbox run pre-deploy ./app          run one stage's hooks in place
  hookbox run post-staging-update . -- mygroup 01live db1 example.com
  hookbox deploy ./app --env-file prod.env --keep 3
  hookbox rollback ./app                point current at the previous release
  hookbox releases ./app                the releases kept (* marks current)
  hookbox logs ./app --follow           the deploy's hooks.log as it grows";

/// Parses a `--timeout`-like flag: whole seconds or a duration (`5m`), from 1 s to a day
/// ([`crate::limits::MAX_TIMEOUT`]); anything else is a usage error (exit 2), never a panic
/// later when the deadline is computed.
pub fn timeout_secs(text: &str) -> Result<u64, String> {
    crate::limits::parse_timeout_secs(text).map(|d| d.as_secs())
}

#[derive(Debug, Parser)]
#[command(name = "hookbox", version, about = ABOUT, after_help = format!("{EXAMPLES}\n\n{EXIT_CODES}"))]
pub struct Cli {
    /// More of hookbox's diagnostics on stderr (-v: debug, -vv: trace); the engine's crates
    /// stay at warnings. RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the hooks found in DIR, in run order, with their runner, timeout and failure rule.
    #[command(after_help = EXIT_CODES)]
    Plan(PlanArgs),
    /// Check DIR's hooks without running any: shebangs, exec bits, Procfile syntax, `bash -n`,
    /// hookbox.toml keys. Exits 1 when it finds a problem.
    #[command(after_help = format!("Output: one problem a line, `file:line:col: error|warning: message [HBnnn]` \
(the rule ids are in docs/validate.md), or --json. Warnings (a Site Factory script left non-executable, \
which disables it) do not fail unless --strict.\n\n{EXIT_CODES}"))]
    Validate(ValidateArgs),
    /// Run the hooks of one STAGE in place on DIR (no release is made).
    #[command(after_help = format!("Examples:\n  hookbox run pre-deploy\n  hookbox run release ./app --env DATABASE_URL=sqlite:///tmp/db\n  hookbox run post-staging-update . -- sitegroup env db_role domain\n\n{EXIT_CODES}"))]
    Run(RunArgs),
    /// Deploy DIR locally into its state folder (outside DIR; see --state-dir): copy to
    /// releases/<id>, install, pre-deploy hooks, build, start, health check, Procfile gate,
    /// switch `current`, post-deploy hooks.
    #[command(after_help = format!("On failure `current` keeps pointing at the previous release. A second deploy of \
the same DIR while one runs fails at once (exit 2). Ctrl-C stops the running hook and leaves `current` as it was \
(status cancelled, exit 1).\n\n{EXIT_CODES}"))]
    Deploy(DeployArgs),
    /// Point DIR's `current` at the release before it (or --to ID, older or newer) and start
    /// its application as its deploy recorded it.
    #[command(after_help = EXIT_CODES)]
    Rollback(RollbackArgs),
    /// List the releases kept in DIR's deploy state folder, oldest first (* marks current).
    #[command(after_help = EXIT_CODES)]
    Releases(ManageArgs),
    /// Show DIR's deployment: the current release, the last deploy, the running application.
    #[command(after_help = EXIT_CODES)]
    Status(ManageArgs),
    /// Print DIR's deploy hooks.log (--app: the application's output); --follow keeps
    /// printing lines as they are written, until interrupted.
    #[command(after_help = EXIT_CODES)]
    Logs(LogsArgs),
    /// Stop the application DIR's deploy started (only while the recorded pid is still the
    /// process it started: same start time, process group and uid).
    #[command(after_help = EXIT_CODES)]
    Stop(ManageArgs),
    /// Run one WASI module in the sandbox with a hook's grants and limits (the current
    /// directory as work directory); exits with the module's status (124: time limit, 137:
    /// fuel or memory limit). Writes no hooks.log.
    Exec(super::exec::ExecArgs),
    /// The bundled bash in the sandbox, like `sh`: `-c CMD [NAME [ARGS]]`, `FILE [ARGS]`, or
    /// the script on stdin. The current directory is granted read-write; no commands and no
    /// host environment unless --allow, --allow-all-commands, --env-passthrough. Exits with
    /// the script's status (124: time limit, 137: fuel or memory limit). No hooks.log.
    Shell(super::shell::ShellArgs),
    /// Check a shell hook and write it as a self-contained WASI module (the bundled shell with
    /// the script embedded), which every convention accepts as a `.wasm` hook. A syntax error
    /// exits 2 with file and line and writes nothing.
    Compile(super::compile::CompileArgs),
    /// Print a completion script for SHELL on stdout
    /// (`hookbox completions bash > /etc/bash_completion.d/hookbox`).
    Completions(super::docs::CompletionsArgs),
    /// Print hookbox's man page (roff) on stdout (`hookbox man | man -l -`).
    Man,
    /// Print the JSON Schema of hookbox.toml on stdout, for editors (also shipped as
    /// docs/hookbox.schema.json; with taplo, start the file with
    /// `#:schema ./hookbox.schema.json`).
    Schema,
    /// The fleet's database: `hookbox db migrate --db URL` creates or upgrades its tables.
    Db(super::fleet::DbArgs),
    /// Upload DIR as a content-addressed artifact and enqueue its deployment for the fleet's
    /// workers (PostgreSQL, --db or HOOKBOX_DATABASE_URL). Exits 0 once enqueued; with --wait
    /// or --follow, once it ended: 0 success, 1 failed.
    Submit(super::fleet::SubmitArgs),
    /// Claim and run queued deployments (N at a time) until SIGTERM/SIGINT, then drain.
    Worker(super::fleet::WorkerArgs),
    /// Read and steer queued deployments: status, logs [--follow], cancel.
    Fleet(super::fleet::FleetArgs),
}

impl Command {
    /// Whether the command was asked for JSON output.
    pub fn json(&self) -> bool {
        match self {
            Command::Plan(a) => a.json,
            Command::Validate(a) => a.plan.json,
            Command::Run(a) => a.hook.json,
            Command::Deploy(a) => a.hook.json,
            Command::Rollback(a) => a.json,
            Command::Releases(a) | Command::Status(a) | Command::Stop(a) => a.json,
            Command::Logs(a) => a.manage.json,
            Command::Db(a) => a.json(),
            Command::Submit(a) => a.json,
            Command::Worker(a) => a.json,
            Command::Fleet(a) => a.json(),
            Command::Compile(a) => a.json,
            _ => false,
        }
    }
}

/// Which convention to use instead of auto-detection.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ConventionArg {
    FluxOrbit,
    Procfile,
    SiteFactory,
    AcquiaCloud,
    HookboxToml,
}

impl From<ConventionArg> for Convention {
    fn from(c: ConventionArg) -> Self {
        match c {
            ConventionArg::FluxOrbit => Convention::FluxOrbit,
            ConventionArg::Procfile => Convention::Procfile,
            ConventionArg::SiteFactory => Convention::SiteFactory,
            ConventionArg::AcquiaCloud => Convention::AcquiaCloud,
            ConventionArg::HookboxToml => Convention::HookboxToml,
        }
    }
}

/// Which runner runs hooks that are not `.wasm` (those always run in the sandbox).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RunnerArg {
    Native,
    Sandbox,
}

impl From<RunnerArg> for RunnerKind {
    fn from(r: RunnerArg) -> Self {
        match r {
            RunnerArg::Native => RunnerKind::Native,
            RunnerArg::Sandbox => RunnerKind::Sandbox,
        }
    }
}

/// Flags of `hookbox validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Fail (exit 1) on warnings too, not only on errors.
    #[arg(long)]
    pub strict: bool,
}

/// The operator's side of a run: the platform policy and the tenant.
#[derive(Debug, Clone, Default, Args)]
pub struct PlatformArgs {
    /// The operator's platform policy, whose ceilings the project can only narrow (default:
    /// /etc/hookbox/platform.toml when it exists; without one, developer mode).
    #[arg(long, value_name = "FILE", env = "HOOKBOX_PLATFORM")]
    pub platform: Option<PathBuf>,
    /// The tenant the project belongs to, which decides its hook uid under the platform
    /// policy (default: derived from DIR's canonical path).
    #[arg(long, value_name = "NAME")]
    pub tenant: Option<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Project directory (default: the current directory).
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub platform: PlatformArgs,
    /// Use this convention instead of detecting one.
    #[arg(long, value_enum)]
    pub convention: Option<ConventionArg>,
    /// Acquia Cloud environment whose `hooks/<env>/` folder applies (after `hooks/common/`).
    #[arg(long, value_name = "ENV")]
    pub acquia_env: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Application variable for the hooks (repeatable); wins over --env-file and hookbox.toml.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// dotenv file of application variables; wins over hookbox.toml [env].
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// How long each hook may run: seconds (600) or a duration (90s, 5m, 1h), 1 s to a day;
    /// wins over hookbox.toml and HOOK_TIMEOUT (default 300).
    #[arg(long, value_name = "DURATION", value_parser = timeout_secs)]
    pub timeout: Option<u64>,
    /// Append the hook log here (default: deploy → logs/hooks.log of its state folder, run →
    /// $XDG_STATE_HOME/hookbox/hooks.log).
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// Run hooks with this runner (.wasm hooks always run in the sandbox).
    #[arg(long, value_enum)]
    pub runner: Option<RunnerArg>,
    /// Count and report the instructions each sandboxed hook uses (a CPU-bound hook runs
    /// about a fifth slower). On whenever a fuel budget is set, or the platform policy's
    /// `[sandbox] meter-fuel`.
    #[arg(long)]
    pub meter_fuel: bool,
    /// JSON lines on stdout (one event per line, then the outcome) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Show only failures, warnings and the final status (the hook log still gets everything).
    #[arg(long, short = 'q', conflicts_with = "json")]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The stage as its convention spells it: pre-deploy, post-deploy, postdeploy, release,
    /// post-staging-update, db-update, …
    pub stage: String,
    /// Project directory (default: the current directory).
    pub dir: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub convention: Option<ConventionArg>,
    /// Acquia Cloud environment (`hooks/<env>/`).
    #[arg(long, value_name = "ENV")]
    pub acquia_env: Option<String>,
    /// Site Factory: code version of the source (production) environment; with
    /// --target-code-version, `post-staging-update` runs only when they differ.
    #[arg(long, value_name = "VERSION")]
    pub source_code_version: Option<String>,
    /// Site Factory: code version of the target (staged) environment.
    #[arg(long, value_name = "VERSION")]
    pub target_code_version: Option<String>,
    #[command(flatten)]
    pub platform: PlatformArgs,
    #[command(flatten)]
    pub env: EnvArgs,
    #[command(flatten)]
    pub hook: HookArgs,
    /// Arguments given to every hook of the stage (after its own).
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Project directory (default: the current directory).
    pub dir: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub convention: Option<ConventionArg>,
    #[command(flatten)]
    pub platform: PlatformArgs,
    #[command(flatten)]
    pub env: EnvArgs,
    #[command(flatten)]
    pub hook: HookArgs,
    /// Releases to keep (default 5).
    #[arg(long, value_name = "N", default_value_t = crate::lifecycle::releases::DEFAULT_KEEP_RELEASES)]
    pub keep: usize,
    /// How long the health check may take: seconds or a duration (2m), 1 s to a day
    /// (default 60).
    #[arg(long, value_name = "DURATION", value_parser = timeout_secs, default_value_t = crate::lifecycle::deploy::DEFAULT_HEALTH_TIMEOUT.as_secs())]
    pub health_timeout: u64,
    #[command(flatten)]
    pub state: StateDirArg,
}

/// Where a project's deploy state lives.
#[derive(Debug, Args)]
pub struct StateDirArg {
    /// The deploy state folder (releases/, current, shared/, logs/, app.json, records/).
    /// Default: /var/lib/hookbox/deploys/<name> as root, else
    /// $XDG_STATE_HOME/hookbox/deploys/<name> (~/.local/state/…); <name> is DIR's last
    /// component and a hash of its canonical path. Must be owned by hookbox's user and
    /// writable by no one else.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ManageArgs {
    /// Project directory (default: the current directory); not needed with --state-dir.
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub state: StateDirArg,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub manage: ManageArgs,
    /// Keep printing lines as they are appended, until interrupted.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// The application's output (logs/app.log) instead of hooks.log.
    #[arg(long)]
    pub app: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Project directory (default: the current directory).
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub platform: PlatformArgs,
    #[command(flatten)]
    pub env: EnvArgs,
    /// The release to point `current` at, older or newer than it (`hookbox releases` lists
    /// them). Default: the newest successful release before `current`.
    #[arg(long, value_name = "ID")]
    pub to: Option<String>,
    #[command(flatten)]
    pub state: StateDirArg,
    /// Append the hook log here (default: logs/hooks.log of the state folder).
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// Print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults() {
        let cli = Cli::try_parse_from(["hookbox", "deploy"]).unwrap();
        let Command::Deploy(d) = cli.command else {
            panic!("not deploy")
        };
        assert_eq!(d.keep, 5);
        assert_eq!(d.state.state_dir, None);
        assert_eq!(d.health_timeout, 60);
        assert_eq!(d.hook.timeout, None);
        let cli =
            Cli::try_parse_from(["hookbox", "run", "pre-deploy", "app", "--", "a", "b"]).unwrap();
        let Command::Run(r) = cli.command else {
            panic!("not run")
        };
        assert_eq!(r.dir, Some(PathBuf::from("app")));
        assert_eq!(r.args, ["a", "b"]);
        // No --platform: the CLI looks for the default file itself.
        assert_eq!(r.platform.platform, None);
        assert_eq!(r.platform.tenant, None);
        let cli = Cli::try_parse_from([
            "hookbox",
            "validate",
            "--platform",
            "/p.toml",
            "--tenant",
            "acme",
        ])
        .unwrap();
        let Command::Validate(v) = cli.command else {
            panic!("not validate")
        };
        assert_eq!(v.plan.platform.platform, Some(PathBuf::from("/p.toml")));
        assert_eq!(v.plan.platform.tenant.as_deref(), Some("acme"));
    }

    #[test]
    fn timeouts_past_a_day_are_usage_errors() {
        for args in [
            &[
                "hookbox",
                "run",
                "pre-deploy",
                "--timeout",
                "18446744073709551615",
            ][..],
            &["hookbox", "deploy", "--timeout", "86401"],
            &[
                "hookbox",
                "deploy",
                "--health-timeout",
                "18446744073709551615",
            ],
            &[
                "hookbox",
                "exec",
                "m.wasm",
                "--timeout",
                "18446744073709551615",
            ],
            &["hookbox", "shell", "--timeout", "0", "-c", "true"],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
        let cli = Cli::try_parse_from(["hookbox", "deploy", "--timeout", "86400"]).unwrap();
        let Command::Deploy(d) = cli.command else {
            panic!("not deploy")
        };
        assert_eq!(d.hook.timeout, Some(86400));
    }
}
