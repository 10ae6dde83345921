//! The operator's platform policy: the ceilings a tenant's project can only narrow.
//!
//! Two parties configure a run (DESIGN.md, "Operator and tenant"): the **operator** writes the
//! platform policy (a file, `--platform FILE`, or a [`PlatformPolicy`] value made by a library
//! user), the **tenant** writes the project (hookbox.toml, Procfile, hook files). Data enters
//! here as the platform file's text ([`PlatformPolicy::load`], parsed in `file`) or as a value
//! ([`PlatformPolicy::developer`] when there is no file); discovery hands it the tenant's
//! settings, and `narrow` combines the two into the effective [`Policy`](crate::bridge::policy::Policy)
//! and limits of the plan, plus an [`EffectivePolicy`] report saying where each value came
//! from. A project asking for more than a ceiling is a [`Problem`] naming the key, its line
//! and the ceiling, so `validate`, `run` and `deploy` refuse it before anything runs.
//!
//! The hook user is the operator's alone: a uid range ([`HookUids`]) from which each tenant
//! (or each run) gets its own uid, recorded in a registry directory (`uids`), never a name
//! from the project.
//!
//! Nothing here reads the process environment: the CLI decides which file to load (the
//! default path [`DEFAULT_PLATFORM_FILE`] is only a constant here) and reads the variables of
//! [`PlatformPolicy::env_passthrough`].

mod file;
pub(crate) mod narrow;
pub mod uids;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::bridge::policy::{DirAccess, Network, DEFAULT_POLICY_PATH};
use crate::discover::Problem;
use crate::plan::RunnerKind;

pub use narrow::{EffectivePolicy, Origin, Setting};
pub use uids::UidLease;

/// Where the CLI looks for the platform policy when `--platform` is not given (used only
/// when the file exists).
pub const DEFAULT_PLATFORM_FILE: &str = "/etc/hookbox/platform.toml";

/// Bytes of a platform file read at most.
pub const DEFAULT_PLATFORM_FILE_BYTES: u64 = 1024 * 1024;

/// Default ceiling of a hook's timeout under a platform policy: one hour. A tenant's
/// `timeout-seconds` above the ceiling is refused; `--timeout` and `HOOK_TIMEOUT` are cut to
/// it. Guards the platform's workers against hooks that hold them.
pub const DEFAULT_MAX_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Default ceiling of a hook's memory under a platform policy: 1 GiB (a tenant's
/// `memory-bytes` above it is refused). Guards the host's memory.
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 1024 * 1024 * 1024;

/// Default ceiling of a hook's output cap under a platform policy: 100 MiB. Guards the logs.
pub const DEFAULT_MAX_OUTPUT_CAP_BYTES: u64 = 100 * 1024 * 1024;

/// Default directory of the uid registry (which tenant has which uid of [`HookUids`]).
pub const DEFAULT_UID_REGISTRY: &str = "/var/lib/hookbox/hook-uids";

/// Which host commands the operator lets tenants allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommandGrant {
    /// Whatever the tenant lists (`allow = "any"`). The developer default.
    Any,
    /// Only these names or paths; the tenant's list is intersected with them. The platform
    /// default is the empty list: no host command.
    Only(Vec<String>),
}

/// Whether a tenant keeps its uid across runs or each run gets a fresh one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum UidPer {
    /// Default: one uid per tenant, the same on every run (recorded in the registry), so a
    /// deployment's files stay the tenant's and tenants never share `RLIMIT_NPROC`.
    #[default]
    Tenant,
    /// A free uid of the range for the duration of one run (held by a lock in the registry).
    Run,
}

/// The operator's uid range for hooks (`hook-uids` in the platform file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookUids {
    /// First uid of the range (at least [`crate::runner::user::MIN_TENANT_UID`]).
    pub first: u32,
    /// Number of uids in the range (at least 1); running out is an error, never a shared uid.
    pub count: u32,
    /// The hooks' group. Default `None`: the same number as the uid.
    pub gid: Option<u32>,
    /// Per tenant (default) or per run.
    pub per: UidPer,
    /// Directory where assignments are recorded (created mode 0700, owned by hookbox).
    /// Default [`DEFAULT_UID_REGISTRY`].
    pub registry: PathBuf,
}

/// The operator's ceilings. Every field is public so a library user can build one; the
/// defaults of a platform *file* are those of [`PlatformPolicy::platform_defaults`], the
/// developer's (no file) those of [`PlatformPolicy::developer`]; `docs/platform.md` lists both
/// and a test pins them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformPolicy {
    /// The file it was read from (`None`: developer mode or a library value).
    pub file: Option<PathBuf>,
    /// Developer mode: no platform policy exists; the project is the developer's own and the
    /// ceilings are wide open (today's behaviour), except that `run-as` may not name an
    /// account that owns something.
    pub developer: bool,
    /// Runners tenants may use. Platform default: sandbox only.
    pub runners: Vec<RunnerKind>,
    /// Runner of hooks whose project names none. Platform default sandbox; developer native.
    pub default_runner: RunnerKind,
    /// Host commands tenants may allow. Platform default: none.
    pub allow: CommandGrant,
    /// The hooks' `PATH`, in which allowed names are resolved; a tenant's `path` may only
    /// keep some of its entries. Default [`DEFAULT_POLICY_PATH`].
    pub path: String,
    /// Network ceiling of bridged commands (none < loopback < host). Platform default none.
    pub network: Network,
    /// Work directory ceiling (read-only < read-write). Default read-write.
    pub work_dir: DirAccess,
    /// Whether commands may run where the kernel lacks a confinement. Platform default false;
    /// a tenant may only turn it off.
    pub accept_weak_confinement: bool,
    /// More directories granted read-write to every hook (like a deployment's `shared/`).
    /// Default none.
    pub extra_dirs: Vec<PathBuf>,
    /// Host variables the CLI passes to hooks (read from its own environment). Default none.
    pub env_passthrough: Vec<String>,
    /// Ceiling of a hook's timeout. Platform default [`DEFAULT_MAX_TIMEOUT`].
    pub max_timeout: Duration,
    /// Ceiling of a hook's memory. Platform default [`DEFAULT_MAX_MEMORY_BYTES`].
    pub max_memory_bytes: u64,
    /// Ceiling of a hook's output cap. Platform default [`DEFAULT_MAX_OUTPUT_CAP_BYTES`].
    pub max_output_cap_bytes: u64,
    /// Ceiling of a sandboxed hook's instruction budget; when set, it is also the budget of
    /// hooks whose project sets none. Default `None`: no budget.
    pub max_fuel: Option<u64>,
    /// `[sandbox] meter-fuel`: count instructions (and report them) even without a budget.
    /// Default false (metering costs about 18% of a CPU-bound guest's time).
    pub meter_fuel: bool,
    /// `[retry]`: the retry policy of hooks whose project sets no retry key of its own, laid
    /// over their convention's default (Site Factory's `never-retry = [131]` stays). Default
    /// none: the conventions' defaults.
    pub retry_defaults: crate::discover::config::RetryOverrides,
    /// The hooks' uids. Default `None`: the runners' default user (`nobody`), shared by every
    /// tenant — `plan` warns about it.
    pub hook_uids: Option<HookUids>,
    /// Where each key of the file is (`policy.network` → line), for messages.
    pub lines: std::collections::BTreeMap<String, usize>,
}

/// Why a platform policy cannot be used, or a hook uid cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The file cannot be read.
    #[error("{}: cannot read the platform policy: {message}", path.display())]
    Read { path: PathBuf, message: String },
    /// The file has problems; each names its line and the fix.
    #[error("{}", problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid { problems: Vec<Problem> },
    /// A tenant name that cannot be one (`--tenant`).
    #[error("tenant name {name:?} is not valid: use 1 to 64 letters, digits, `.`, `_` or `-`, not starting with `.`")]
    TenantName { name: String },
    /// The uid registry cannot be used.
    #[error("{}: the hook uid registry {message}", path.display())]
    Registry { path: PathBuf, message: String },
    /// Every uid of the range is taken.
    #[error("every uid of hook-uids ({first}..{}) is taken: widen `count` in the platform policy{}", u64::from(*first) + u64::from(*count), file.as_ref().map(|f| format!(" ({})", f.display())).unwrap_or_default())]
    RangeFull {
        first: u32,
        count: u32,
        file: Option<PathBuf>,
    },
}

impl PlatformPolicy {
    /// No platform policy: a developer's tool on their own project. Ceilings wide open
    /// (every runner, native by default; any command; host network; read-write; weak
    /// confinement allowed on request; no limit maxima beyond the project's own checks), the
    /// hook user `nobody` unless the project's `run-as` names a user that owns nothing.
    pub fn developer() -> Self {
        PlatformPolicy {
            file: None,
            developer: true,
            runners: vec![RunnerKind::Native, RunnerKind::Sandbox],
            default_runner: RunnerKind::Native,
            allow: CommandGrant::Any,
            path: DEFAULT_POLICY_PATH.to_string(),
            network: Network::Host,
            work_dir: DirAccess::ReadWrite,
            accept_weak_confinement: true,
            extra_dirs: Vec::new(),
            env_passthrough: Vec::new(),
            max_timeout: Duration::from_secs(crate::discover::config::MAX_TIMEOUT_SECONDS),
            max_memory_bytes: u64::MAX,
            max_output_cap_bytes: u64::MAX,
            max_fuel: None,
            meter_fuel: false,
            retry_defaults: Default::default(),
            hook_uids: None,
            lines: Default::default(),
        }
    }

    /// The policy of an empty platform file: deny by default (sandbox only, no commands, no
    /// network, no weak confinement, the `DEFAULT_MAX_*` ceilings).
    pub fn platform_defaults() -> Self {
        PlatformPolicy {
            file: None,
            developer: false,
            runners: vec![RunnerKind::Sandbox],
            default_runner: RunnerKind::Sandbox,
            allow: CommandGrant::Only(Vec::new()),
            path: DEFAULT_POLICY_PATH.to_string(),
            network: Network::None,
            work_dir: DirAccess::ReadWrite,
            accept_weak_confinement: false,
            extra_dirs: Vec::new(),
            env_passthrough: Vec::new(),
            max_timeout: DEFAULT_MAX_TIMEOUT,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            max_output_cap_bytes: DEFAULT_MAX_OUTPUT_CAP_BYTES,
            max_fuel: None,
            meter_fuel: false,
            retry_defaults: Default::default(),
            hook_uids: None,
            lines: Default::default(),
        }
    }

    /// Reads and checks a platform file. Unknown keys, wrong types and inconsistent values
    /// (a default runner that is not allowed, a uid range reaching system accounts) are
    /// [`PlatformError::Invalid`], each with its line and a fix.
    pub fn load(path: &Path) -> Result<Self, PlatformError> {
        let text = file::read(path)?;
        Self::parse(&text, path)
    }

    /// [`PlatformPolicy::load`] of text already read; `path` names it in problems.
    pub fn parse(text: &str, path: &Path) -> Result<Self, PlatformError> {
        let (mut policy, problems) = file::parse(text, path);
        if !problems.is_empty() {
            return Err(PlatformError::Invalid { problems });
        }
        policy.file = Some(path.to_path_buf());
        Ok(policy)
    }

    /// Whether tenants may use `runner`.
    pub fn allows_runner(&self, runner: RunnerKind) -> bool {
        self.runners.contains(&runner)
    }

    /// `FILE:LINE` of a key of the platform file, or what its absence means.
    pub fn where_is(&self, key: &str) -> String {
        match (&self.file, self.lines.get(key)) {
            (Some(f), Some(l)) => format!("{}:{l}", f.display()),
            (Some(f), None) => format!("the default of {}", f.display()),
            (None, _) if self.developer => "developer mode".to_string(),
            (None, _) => "the platform policy".to_string(),
        }
    }

    /// The tenant's name: `explicit` (the operator's `--tenant`), checked, or one derived
    /// from the project's canonical path (its last component and a hash of the whole path,
    /// so two projects of the same folder name are two tenants).
    pub fn tenant_name(explicit: Option<&str>, project: &Path) -> Result<String, PlatformError> {
        if let Some(name) = explicit {
            let ok = !name.is_empty()
                && name.len() <= 64
                && !name.starts_with('.')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            return if ok {
                Ok(name.to_string())
            } else {
                Err(PlatformError::TenantName {
                    name: name.to_string(),
                })
            };
        }
        use sha2::Digest;
        let digest = sha2::Sha256::digest(project.as_os_str().as_encoded_bytes());
        let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        let base: String = project
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        Ok(if base.is_empty() {
            format!("project-{hash}")
        } else {
            format!("{base}-{hash}")
        })
    }

    /// The `run_as` value of the tenant's uid: held by the returned lease for the run (per
    /// run) or recorded for good (per tenant). `None` when the policy has no uid range.
    pub fn hook_user_for(&self, tenant: &str) -> Result<Option<UidLease>, PlatformError> {
        match &self.hook_uids {
            None => Ok(None),
            Some(range) => uids::assign(range, tenant, self.file.as_deref()).map(Some),
        }
    }

    /// The tenant's uid if one is already recorded (for `plan`, which assigns nothing).
    pub fn recorded_uid(&self, tenant: &str) -> Option<u32> {
        let range = self.hook_uids.as_ref()?;
        uids::recorded(range, tenant)
    }

    /// A timeout the operator's CLI gives (`--timeout`, `HOOK_TIMEOUT`), cut to the ceiling.
    pub fn cap_timeout(&self, t: Duration) -> Duration {
        t.min(self.max_timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names() {
        let a = PlatformPolicy::tenant_name(None, Path::new("/srv/a/app")).unwrap();
        let b = PlatformPolicy::tenant_name(None, Path::new("/srv/b/app")).unwrap();
        assert!(
            a.starts_with("app-") && b.starts_with("app-") && a != b,
            "{a} {b}"
        );
        assert_eq!(
            PlatformPolicy::tenant_name(Some("acme"), Path::new("/x")).unwrap(),
            "acme"
        );
        for bad in ["", "../x", ".hidden", "a b", "a/b"] {
            assert!(PlatformPolicy::tenant_name(Some(bad), Path::new("/x")).is_err());
        }
    }
}
