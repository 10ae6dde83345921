//! The command line: one clap definition per flag, its help text beside it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::plan::{Convention, RunnerKind};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (warnings allowed: a failed post-deploy hook is a WARNING)
  1  the stage or the deployment failed (a hook, the build, the health check; --json says which);
     `validate`: a problem was found
  2  usage or configuration error; nothing ran
  exec, shell: the guest's own status, like sh; 124 when its time limit stops it, 137 for fuel
     or memory

Environment (read only here, never by hooks):
  HOOK_TIMEOUT    seconds a hook may run (default 300); --timeout and hookbox.toml win over it
  SKIP_HOOKS      true|1|yes: skip every hook, and say so
  PROJECT_PATH    monorepo subfolder whose hook files win over the root's
  XDG_STATE_HOME  where `run` keeps hooks.log (default ~/.local/state/hookbox/hooks.log)
  RUST_LOG        diagnostics on stderr (or -v, -vv)";

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
  hookbox rollback ./app                point current at the previous release";

#[derive(Debug, Parser)]
#[command(name = "hookbox", version, about = ABOUT, after_help = format!("{EXAMPLES}\n\n{EXIT_CODES}"))]
pub struct Cli {
    /// More diagnostics on stderr (-v: debug, -vv: trace). RUST_LOG overrides.
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
    #[command(after_help = EXIT_CODES)]
    Validate(PlanArgs),
    /// Run the hooks of one STAGE in place on DIR (no release is made).
    #[command(after_help = format!("Examples:\n  hookbox run pre-deploy\n  hookbox run release ./app --env DATABASE_URL=sqlite:///tmp/db\n  hookbox run post-staging-update . -- sitegroup env db_role domain\n\n{EXIT_CODES}"))]
    Run(RunArgs),
    /// Deploy DIR locally into DIR/.hookbox/: copy to releases/<id>, install, pre-deploy
    /// hooks, build, start, health check, Procfile gate, switch `current`, post-deploy hooks.
    #[command(after_help = format!("On failure `current` keeps pointing at the previous release. A second deploy of \
the same DIR while one runs fails at once (exit 2). Ctrl-C stops the running hook and leaves `current` as it was \
(status cancelled, exit 1).\n\n{EXIT_CODES}"))]
    Deploy(DeployArgs),
    /// Point DIR/.hookbox/current at the release before it and restart its application.
    #[command(after_help = EXIT_CODES)]
    Rollback(RollbackArgs),
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
            Command::Plan(a) | Command::Validate(a) => a.json,
            Command::Run(a) => a.hook.json,
            Command::Deploy(a) => a.hook.json,
            Command::Rollback(a) => a.json,
            Command::Db(a) => a.json(),
            Command::Submit(a) => a.json,
            Command::Worker(a) => a.json,
            Command::Fleet(a) => a.json(),
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

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Project directory (default: the current directory).
    pub dir: Option<PathBuf>,
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
    /// Seconds each hook may run; wins over hookbox.toml and HOOK_TIMEOUT (default 300).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Append the hook log here (default: deploy → DIR/.hookbox/logs/hooks.log, run →
    /// $XDG_STATE_HOME/hookbox/hooks.log).
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// Run hooks with this runner (.wasm hooks always run in the sandbox).
    #[arg(long, value_enum)]
    pub runner: Option<RunnerArg>,
    /// JSON lines on stdout (one event per line, then the outcome) instead of text.
    #[arg(long)]
    pub json: bool,
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
    pub env: EnvArgs,
    #[command(flatten)]
    pub hook: HookArgs,
    /// Releases to keep (default 5).
    #[arg(long, value_name = "N", default_value_t = crate::lifecycle::releases::DEFAULT_KEEP_RELEASES)]
    pub keep: usize,
    /// Seconds the health check may take (default 60).
    #[arg(long, value_name = "SECS", default_value_t = crate::lifecycle::deploy::DEFAULT_HEALTH_TIMEOUT.as_secs())]
    pub health_timeout: u64,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Project directory (default: the current directory).
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub env: EnvArgs,
    /// Append the hook log here (default DIR/.hookbox/logs/hooks.log).
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
        assert_eq!(d.health_timeout, 60);
        assert_eq!(d.hook.timeout, None);
        let cli =
            Cli::try_parse_from(["hookbox", "run", "pre-deploy", "app", "--", "a", "b"]).unwrap();
        let Command::Run(r) = cli.command else {
            panic!("not run")
        };
        assert_eq!(r.dir, Some(PathBuf::from("app")));
        assert_eq!(r.args, ["a", "b"]);
    }
}
