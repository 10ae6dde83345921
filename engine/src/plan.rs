//! The plan: what discovery found in a project, in the order the lifecycle runs it.
//!
//! `discover` builds a [`Plan`] from files on disk; `lifecycle` consumes it. Nothing here
//! touches the file system.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::bridge::policy::Policy;

/// A convention a project can use to declare hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Convention {
    /// `pre-deploy.sh` / `post-deploy.sh` in the root or `PROJECT_PATH`.
    FluxOrbit,
    /// Procfile `postdeploy:` (Scalingo) and `release:` (Heroku).
    Procfile,
    /// `factory-hooks/<hook>/*` (Acquia Site Factory).
    SiteFactory,
    /// `hooks/common/<hook>/` then `hooks/<env>/<hook>/` (Acquia Cloud).
    AcquiaCloud,
    /// `hookbox.toml`, the explicit form of all of the above.
    HookboxToml,
}

/// Where in a deployment a hook runs. Each point has its failure rule (see DESIGN.md's table).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Point {
    /// After install, before build (`pre-deploy.sh`).
    BeforeBuild,
    /// New version started, before the traffic switch (Procfile `postdeploy:` / `release:`).
    BeforeSwitch,
    /// After the health check, traffic switched (`post-deploy.sh`).
    AfterSwitch,
    /// Site Factory / Acquia Cloud task hooks (`post-staging-update`, `db-update`, …), run by
    /// `hookbox run`, per site.
    Task,
}

/// What a failure (non-zero exit, timeout, fuel exhaustion) of a hook does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FailureRule {
    /// Abort the deployment; the previous release keeps serving.
    Abort,
    /// Fail the deployment with status `hook-error`; the previous release keeps serving.
    HookError,
    /// Log a WARNING; the deployment still succeeds.
    Warn,
    /// Skip the remaining scripts of the hook; the task fails with the error in its log.
    FailTask,
}

/// Which runner executes a hook.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum RunnerKind {
    /// Ordinary host process.
    #[default]
    Native,
    /// wasmtime + WASI.
    Sandbox,
}

impl RunnerKind {
    /// The name configuration files and flags use.
    pub fn name(self) -> &'static str {
        match self {
            RunnerKind::Native => "native",
            RunnerKind::Sandbox => "sandbox",
        }
    }
}

/// What a hook executes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum HookProgram {
    /// A script file (shell, or anything with a shebang), run with its interpreter.
    Script(PathBuf),
    /// A command line (a Procfile entry, a hookbox.toml `command`), run by bash `-c`.
    Command(String),
    /// A WASI preview 1 module; always runs in the sandbox.
    Wasm(PathBuf),
}

/// One hook invocation in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    /// The name logged in `Running hook: NAME` (`pre-deploy.sh`, `postdeploy`, `10-migrate.sh`).
    pub name: String,
    /// The stage as its convention spells it (`pre-deploy`, `postdeploy`, `post-staging-update`).
    pub stage: String,
    /// Where in the deployment it runs.
    pub point: Point,
    /// Which convention declared it.
    pub convention: Convention,
    /// What it executes.
    pub program: HookProgram,
    /// Which runner executes it.
    pub runner: RunnerKind,
    /// Its own timeout from hookbox.toml, if any (the CLI's `--timeout` still wins).
    pub timeout: Option<Duration>,
    /// What its failure does.
    pub failure: FailureRule,
    /// Arguments from the convention (Site Factory's `sitegroup env db_role domain`).
    pub args: Vec<String>,
    /// Its retry policy from hookbox.toml; `None`: its convention's default
    /// ([`crate::retry::RetryPolicy::default_for`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<crate::retry::RetryPolicy>,
}

/// A file discovery looked at and did not turn into a hook, with the reason (reported, not run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// Commands of a local deployment (`hookbox deploy`), from hookbox.toml `[deploy]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployCommands {
    pub install: Option<String>,
    pub build: Option<String>,
    /// Started in the background; stopped by the next deploy or on failure.
    pub start: Option<String>,
    pub health_check: Option<String>,
}

/// Resource limits a project sets in hookbox.toml `[limits]`; `None` keeps the default of
/// [`crate::limits::Limits`] (see its `DEFAULT_*` constants).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanLimits {
    /// Sandbox instruction budget per hook. Default `None`: metered, not limited.
    pub fuel: Option<u64>,
    /// Memory limit per hook in bytes. Default `None`: [`crate::limits::DEFAULT_MEMORY_BYTES`].
    pub memory_bytes: Option<u64>,
    /// Output cap per hook in bytes. Default `None`: [`crate::limits::DEFAULT_OUTPUT_CAP_BYTES`].
    pub output_cap_bytes: Option<u64>,
}

impl PlanLimits {
    /// `base` with the values this project sets.
    pub fn apply(&self, mut base: crate::limits::Limits) -> crate::limits::Limits {
        if let Some(fuel) = self.fuel {
            base.fuel = Some(fuel);
        }
        if let Some(memory) = self.memory_bytes {
            base.memory_bytes = memory;
        }
        if let Some(cap) = self.output_cap_bytes {
            base.output_cap_bytes = cap;
        }
        base
    }
}

/// Default command of a Site Factory hook that has no script (`post-staging-update`,
/// `db-update`), as Site Factory does.
pub const DEFAULT_SITE_FACTORY_COMMAND: &str = "drush updatedb";

/// Site Factory settings that the lifecycle needs at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SiteFactorySettings {
    /// Runs when a hook directory has no script (hookbox.toml `[site-factory] default-command`).
    /// Default [`DEFAULT_SITE_FACTORY_COMMAND`].
    pub default_command: String,
    /// Code version of the source (production) environment, if known (DiscoverOptions or
    /// hookbox.toml `[site-factory] source-code-version`).
    pub source_code_version: Option<String>,
    /// Code version of the target (staged) environment, if known.
    pub target_code_version: Option<String>,
}

impl Default for SiteFactorySettings {
    fn default() -> Self {
        SiteFactorySettings {
            default_command: DEFAULT_SITE_FACTORY_COMMAND.to_string(),
            source_code_version: None,
            target_code_version: None,
        }
    }
}

impl SiteFactorySettings {
    /// Whether `post-staging-update` hooks run: Site Factory runs them only when the two
    /// environments' code differs. Unknown versions (either missing) count as different, so
    /// the hook runs rather than being silently dropped.
    pub fn post_staging_update_applies(&self) -> bool {
        match (&self.source_code_version, &self.target_code_version) {
            (Some(source), Some(target)) => source != target,
            _ => true,
        }
    }
}

/// Everything discovery found in a project.
///
/// Script and wasm paths in hooks are absolute (`root` joined with the file's place), so a
/// plan runs in place; a deploy discovers again in the release directory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The project directory.
    pub root: PathBuf,
    /// The conventions found (or forced), in the order they were detected.
    pub conventions: Vec<Convention>,
    /// Hooks, in run order within each point and stage.
    pub hooks: Vec<Hook>,
    /// Files looked at and not run, with why.
    pub skipped: Vec<Skipped>,
    /// Procfile process types that are not hooks (`web`, `worker`), listed for the user.
    pub processes: BTreeMap<String, String>,
    /// Application variables from hookbox.toml `[env]` (the CLI layers `--env-file`/`--env`).
    pub env: BTreeMap<String, String>,
    /// Deploy commands from hookbox.toml.
    pub deploy: DeployCommands,
    /// The tenant's sandbox and bridge policy from hookbox.toml.
    pub policy: Policy,
    /// Resource limits from hookbox.toml `[limits]`.
    #[serde(default)]
    pub limits: PlanLimits,
    /// Site Factory default command and code versions.
    #[serde(default)]
    pub site_factory: SiteFactorySettings,
    /// What the operator's platform policy (or developer mode) made of the tenant's
    /// settings, and where each value came from; `policy` and `limits` above are already
    /// the narrowed values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_policy: Option<crate::platform::EffectivePolicy>,
    /// The project's runner: the one of hooks that name none, and of the `[deploy]` install,
    /// build and health-check commands (tenant code, run like a hook). Default
    /// [`RunnerKind::Native`]; hookbox.toml `runner` or the CLI's `--runner` set it.
    #[serde(default)]
    pub runner: RunnerKind,
}
