//! Narrowing: the tenant's settings (hookbox.toml, as discovery read them, with their lines)
//! combined with the operator's ceilings into the plan's effective policy and limits.
//!
//! In: a [`PlatformPolicy`], the project's [`Config`] (if any) and the [`Plan`] discovery
//! built. Out: the plan's `policy` and `limits` replaced by the effective values, an
//! [`EffectivePolicy`] saying where each came from (operator / tenant / default), and one
//! [`Problem`] per tenant key that asks for more than its ceiling (key, line, ceiling).
//! Rules, per setting:
//!
//! | setting | tenant may | effective |
//! | --- | --- | --- |
//! | runner (top level, `[[hook]]`) | a runner in `runners` | tenant's, else the operator's default |
//! | `[policy] allow` | any list | tenant's list ∩ the operator's (`any`: the tenant's) |
//! | `[policy] path` | a subset of the operator's entries | tenant's, else the operator's |
//! | `[policy] network` | up to the ceiling (none < loopback < host) | tenant's, else none |
//! | `[policy] work-dir` | up to the ceiling (read-only < read-write) | tenant's, else the ceiling |
//! | `[policy] accept-weak-confinement` | `true` only when the operator's is | tenant's, else the operator's |
//! | `[policy] run-as` | nothing under a platform policy; in developer mode only a user that owns nothing | the operator's uid |
//! | `[limits]`, `timeout-seconds` | up to the maxima | tenant's, else the default cut to the maximum |

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{CommandGrant, PlatformPolicy};
use crate::bridge::policy::{DirAccess, Network, Policy};
use crate::discover::config::Config;
use crate::discover::Problem;
use crate::limits::{DEFAULT_MEMORY_BYTES, DEFAULT_OUTPUT_CAP_BYTES, DEFAULT_TIMEOUT};
use crate::plan::{Plan, PlanLimits, RunnerKind};

/// Who decided a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// The operator's platform policy.
    Operator,
    /// The project (hookbox.toml), within the operator's ceiling.
    Tenant,
    /// Nobody set it: hookbox's default.
    Default,
}

/// One effective value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting<T> {
    pub value: T,
    pub from: Origin,
    /// The ceiling and where it is set, when one applies (`loopback (/etc/…:5)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<String>,
}

fn setting<T>(value: T, from: Origin, ceiling: Option<String>) -> Setting<T> {
    Setting {
        value,
        from,
        ceiling,
    }
}

/// The effective policy of a plan, for `plan` (text and `--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectivePolicy {
    /// `developer` (no platform policy) or `platform`.
    pub mode: String,
    pub platform_file: Option<PathBuf>,
    /// The tenant, when the CLI knows it (set after discovery).
    pub tenant: Option<String>,
    pub runners_allowed: Vec<RunnerKind>,
    pub default_runner: Setting<RunnerKind>,
    pub allow: Setting<Vec<String>>,
    /// Commands the tenant allows that the operator does not grant (dropped).
    pub not_granted: Vec<String>,
    pub path: Setting<String>,
    pub network: Setting<Network>,
    pub work_dir: Setting<DirAccess>,
    pub accept_weak_confinement: Setting<bool>,
    /// Who hooks run as when hookbox runs as root.
    pub hook_user: Setting<String>,
    /// Timeout of a hook that sets none (per-hook settings are in the hooks).
    pub timeout_seconds: Setting<u64>,
    pub memory_bytes: Setting<u64>,
    pub output_cap_bytes: Setting<u64>,
    pub fuel: Setting<Option<u64>>,
    pub meter_fuel: Setting<bool>,
    pub extra_dirs: Setting<Vec<PathBuf>>,
    pub env_passthrough: Setting<Vec<String>>,
}

fn network_rank(n: Network) -> u8 {
    match n {
        Network::None => 0,
        Network::Loopback => 1,
        Network::Host => 2,
    }
}

fn network_name(n: Network) -> &'static str {
    match n {
        Network::None => "none",
        Network::Loopback => "loopback",
        Network::Host => "host",
    }
}

struct Judge<'a> {
    pp: &'a PlatformPolicy,
    file: PathBuf,
    problems: Vec<Problem>,
}

impl Judge<'_> {
    /// `what` (the operator's key) with its place: `network = "loopback" (FILE:5)`.
    fn ceiling(&self, key: &str, shown: String) -> String {
        format!("{shown} ({})", self.pp.where_is(key))
    }

    fn refuse(&mut self, line: Option<usize>, message: String, ceiling: String, fix: &str) {
        let message = format!("{message}; the platform policy's ceiling is {ceiling}");
        self.problems.push(
            Problem::new(self.file.clone(), line, message)
                .fix(fix)
                .ceiling(ceiling),
        );
    }
}

/// Narrows `plan` (built from `cfg`, shown as `cfg_file`) by `pp`. See the module doc.
pub(crate) fn narrow(
    pp: &PlatformPolicy,
    cfg: Option<&Config>,
    cfg_file: &Path,
    plan: &mut Plan,
) -> (EffectivePolicy, Vec<Problem>) {
    let mut j = Judge {
        pp,
        file: cfg_file.to_path_buf(),
        problems: Vec::new(),
    };
    let line = |key: &str| cfg.and_then(|c| c.lines.get(key).copied());
    let set = |key: &str| line(key).is_some();
    let tenant = plan.policy.clone();
    let runners_shown = format!(
        "runners = [{}]",
        pp.runners
            .iter()
            .map(|r| format!("\"{}\"", r.name()))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // Runners: what the tenant wrote, then any hook still on a runner it may not use.
    let mut judged_lines = Vec::new();
    if let Some(c) = cfg {
        if let Some(r) = c.runner.filter(|r| !pp.allows_runner(*r)) {
            let ceiling = j.ceiling("runners", runners_shown.clone());
            j.refuse(
                line("runner"),
                format!("`runner = \"{}\"` asks for a runner tenants may not use", r.name()),
                ceiling,
                "remove `runner` (hooks then run in the operator's default runner) or use an allowed one",
            );
            judged_lines.extend(line("runner"));
        }
        for h in &c.hooks {
            if let Some(r) = h.runner.filter(|r| !pp.allows_runner(*r)) {
                let ceiling = j.ceiling("runners", runners_shown.clone());
                j.refuse(
                    h.runner_line,
                    format!(
                        "`runner = \"{}\"` of the [[hook]] at line {} asks for a runner tenants may not use",
                        r.name(),
                        h.line
                    ),
                    ceiling,
                    "remove the hook's `runner` or use an allowed one",
                );
                judged_lines.extend(h.runner_line);
            }
        }
    }
    if judged_lines.is_empty() {
        for h in plan.hooks.iter().filter(|h| !pp.allows_runner(h.runner)) {
            let ceiling = j.ceiling("runners", runners_shown.clone());
            j.refuse(
                None,
                format!(
                    "hook `{}` would run in the {} runner, which tenants may not use",
                    h.name,
                    h.runner.name()
                ),
                ceiling,
                "make the hook one the allowed runner can run (a shell script or a .wasm module)",
            );
        }
    }

    // `start` is an application server: it always runs natively (confined), so it needs the
    // native runner's grant like a native hook does.
    if !pp.allows_runner(RunnerKind::Native) {
        if let Some(c) = cfg.filter(|c| c.deploy.start.is_some()) {
            let start_line = c
                .deploy_lines
                .iter()
                .find(|(k, _, _)| k == "start")
                .map(|(_, _, l)| *l);
            let ceiling = j.ceiling("runners", runners_shown.clone());
            j.refuse(
                start_line,
                "`start` in [deploy] runs the application as a native (confined) process, and \
                 tenants may not use the native runner"
                    .to_string(),
                ceiling,
                "remove `start` (the platform starts the application itself), or ask the operator to allow \"native\" in `runners`",
            );
        }
    }

    // The hook user.
    let mut run_as = None;
    let hook_user = if let Some(wanted) = &tenant.run_as {
        if pp.developer {
            match crate::runner::user::tenant_may_choose(wanted) {
                Ok(()) => {
                    run_as = Some(wanted.clone());
                    setting(wanted.clone(), Origin::Tenant, None)
                }
                Err(why) => {
                    j.problems.push(
                        Problem::new(
                            j.file.clone(),
                            line("policy.run-as"),
                            format!("`run-as = \"{wanted}\"` is refused: {why}; a project may only pick `nobody` or an unused uid of at least {}", crate::runner::user::MIN_TENANT_UID),
                        )
                        .fix("remove `run-as` (hooks run as nobody), or name an unused uid such as 43210")
                        .ceiling("developer mode: run-as may not name an account that owns files"),
                    );
                    setting(
                        crate::runner::user::DEFAULT_HOOK_USER.to_string(),
                        Origin::Default,
                        None,
                    )
                }
            }
        } else {
            let ceiling = j.ceiling("hook-uids", "the operator's hook user".into());
            j.refuse(
                line("policy.run-as"),
                format!(
                    "`run-as = \"{wanted}\"`: a project cannot choose the user its hooks run as"
                ),
                ceiling.clone(),
                "remove `run-as`: the operator gives each tenant its own uid",
            );
            operator_user(pp)
        }
    } else if pp.developer {
        setting(
            crate::runner::user::DEFAULT_HOOK_USER.to_string(),
            Origin::Default,
            None,
        )
    } else {
        operator_user(pp)
    };

    // Weak confinement: the operator's; a tenant may only turn it off.
    if tenant.accept_weak_confinement && !pp.accept_weak_confinement {
        let ceiling = j.ceiling("policy.accept-weak-confinement", "false".into());
        j.refuse(
            line("policy.accept-weak-confinement"),
            "`accept-weak-confinement = true` asks to run without the full confinement".into(),
            ceiling,
            "remove it: only the operator can accept weaker confinement",
        );
    }
    let weak = if set("policy.accept-weak-confinement") {
        setting(
            tenant.accept_weak_confinement && pp.accept_weak_confinement,
            Origin::Tenant,
            None,
        )
    } else if pp.developer {
        setting(false, Origin::Default, None)
    } else {
        setting(
            pp.accept_weak_confinement,
            from_operator(pp, "policy.accept-weak-confinement"),
            None,
        )
    };

    // Network.
    let net_ceiling = j.ceiling(
        "policy.network",
        format!("network = \"{}\"", network_name(pp.network)),
    );
    let net_shown = (!pp.developer).then(|| net_ceiling.clone());
    if network_rank(tenant.network) > network_rank(pp.network) {
        j.refuse(
            line("policy.network"),
            format!(
                "`network = \"{}\"` asks for more network than granted",
                network_name(tenant.network)
            ),
            net_ceiling.clone(),
            "lower `network` in [policy] to the ceiling, or remove it",
        );
    }
    let network = if set("policy.network") {
        setting(tenant.network, Origin::Tenant, net_shown)
    } else {
        setting(Network::None, Origin::Default, net_shown)
    };

    // Work directory.
    let wd_ceiling = j.ceiling(
        "policy.work-dir",
        match pp.work_dir {
            DirAccess::ReadWrite => "work-dir = \"read-write\"".into(),
            DirAccess::ReadOnly => "work-dir = \"read-only\"".into(),
        },
    );
    let wd_shown = (!pp.developer).then(|| wd_ceiling.clone());
    let work_dir = if set("policy.work-dir") {
        if tenant.work_dir == DirAccess::ReadWrite && pp.work_dir == DirAccess::ReadOnly {
            j.refuse(
                line("policy.work-dir"),
                "`work-dir = \"read-write\"` asks to write the work directory".into(),
                wd_ceiling.clone(),
                "write work-dir = \"read-only\", or remove it",
            );
        }
        setting(tenant.work_dir, Origin::Tenant, wd_shown)
    } else if pp.work_dir == DirAccess::ReadOnly {
        setting(
            DirAccess::ReadOnly,
            from_operator(pp, "policy.work-dir"),
            wd_shown,
        )
    } else {
        setting(DirAccess::ReadWrite, Origin::Default, wd_shown)
    };

    // Commands: the tenant's list ∩ the operator's.
    let (allowed, not_granted): (Vec<String>, Vec<String>) = match &pp.allow {
        CommandGrant::Any => (tenant.allow.clone(), Vec::new()),
        CommandGrant::Only(granted) => tenant
            .allow
            .iter()
            .cloned()
            .partition(|c| granted.contains(c)),
    };
    let allow_ceiling = match &pp.allow {
        CommandGrant::Any => None,
        CommandGrant::Only(g) => Some(j.ceiling("policy.allow", format!("allow = {g:?}"))),
    };
    let allow = setting(
        allowed.clone(),
        if set("policy.allow") {
            Origin::Tenant
        } else {
            Origin::Default
        },
        allow_ceiling,
    );

    // PATH: a tenant may keep some of the operator's entries, in any order, never add one.
    let path = if set("policy.path") {
        if !pp.developer {
            let granted: Vec<&str> = pp.path.split(':').collect();
            let extra: Vec<&str> = tenant
                .path
                .split(':')
                .filter(|e| !granted.contains(e))
                .collect();
            if !extra.is_empty() {
                let ceiling = j.ceiling("policy.path", format!("path = {:?}", pp.path));
                j.refuse(
                    line("policy.path"),
                    format!(
                        "`path` adds {} to the operator's PATH",
                        extra
                            .iter()
                            .map(|e| format!("`{e}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    ceiling,
                    "keep only directories of the operator's path, or remove `path`",
                );
            }
        }
        setting(tenant.path.clone(), Origin::Tenant, None)
    } else if pp.developer {
        setting(tenant.path.clone(), Origin::Default, None)
    } else {
        setting(pp.path.clone(), from_operator(pp, "policy.path"), None)
    };

    // Limits: a tenant may ask up to the maxima; the defaults are cut to them.
    let tenant_limits = plan.limits.clone();
    let mut limit = |key: &str, asked: Option<u64>, default: u64, max: u64| -> Setting<u64> {
        let ceiling =
            (!pp.developer).then(|| j.ceiling(&format!("limits.{key}"), format!("{key} = {max}")));
        match asked {
            Some(v) => {
                if v > max {
                    let c = ceiling.clone().unwrap_or_default();
                    j.refuse(
                        line(&format!("limits.{key}")),
                        format!("`{key} = {v}` in [limits] is above the maximum"),
                        c,
                        "lower it to the maximum or remove it",
                    );
                }
                setting(v.min(max), Origin::Tenant, ceiling)
            }
            None if default > max => setting(max, Origin::Operator, ceiling),
            None => setting(default, Origin::Default, ceiling),
        }
    };
    let memory = limit(
        "memory-bytes",
        tenant_limits.memory_bytes,
        DEFAULT_MEMORY_BYTES,
        pp.max_memory_bytes,
    );
    let output = limit(
        "output-cap-bytes",
        tenant_limits.output_cap_bytes,
        DEFAULT_OUTPUT_CAP_BYTES,
        pp.max_output_cap_bytes,
    );
    let fuel_ceiling = pp
        .max_fuel
        .map(|m| j.ceiling("limits.fuel", format!("fuel = {m}")));
    let fuel = match (tenant_limits.fuel, pp.max_fuel) {
        (Some(v), Some(max)) if v > max => {
            j.refuse(
                line("limits.fuel"),
                format!("`fuel = {v}` in [limits] is above the maximum"),
                fuel_ceiling.clone().unwrap_or_default(),
                "lower it to the maximum or remove it",
            );
            setting(Some(max), Origin::Tenant, fuel_ceiling)
        }
        (Some(v), _) => setting(Some(v), Origin::Tenant, fuel_ceiling),
        (None, Some(max)) => setting(Some(max), Origin::Operator, fuel_ceiling),
        (None, None) => setting(None, Origin::Default, None),
    };
    let max_secs = pp.max_timeout.as_secs();
    if !pp.developer {
        if let Some(c) = cfg {
            for h in &c.hooks {
                if let Some(t) = h.timeout.filter(|t| *t > pp.max_timeout) {
                    let ceiling = j.ceiling(
                        "limits.timeout-seconds",
                        format!("timeout-seconds = {max_secs}"),
                    );
                    j.refuse(
                        h.timeout_line.or(Some(h.line)),
                        format!(
                            "`timeout-seconds = {}` of the [[hook]] at line {} is above the maximum",
                            t.as_secs(),
                            h.line
                        ),
                        ceiling,
                        "lower it to the maximum or remove it",
                    );
                }
            }
        }
    }
    let timeout = if DEFAULT_TIMEOUT > pp.max_timeout {
        setting(max_secs, Origin::Operator, None)
    } else {
        setting(DEFAULT_TIMEOUT.as_secs(), Origin::Default, None)
    };
    let timeout = Setting {
        ceiling: (!pp.developer).then(|| {
            j.ceiling(
                "limits.timeout-seconds",
                format!("timeout-seconds = {max_secs}"),
            )
        }),
        ..timeout
    };

    let effective = EffectivePolicy {
        mode: if pp.developer {
            "developer"
        } else {
            "platform"
        }
        .into(),
        platform_file: pp.file.clone(),
        tenant: None,
        runners_allowed: pp.runners.clone(),
        default_runner: if set("runner") {
            setting(
                cfg.and_then(|c| c.runner).unwrap_or(pp.default_runner),
                Origin::Tenant,
                None,
            )
        } else if pp.developer {
            setting(pp.default_runner, Origin::Default, None)
        } else {
            setting(pp.default_runner, from_operator(pp, "runner"), None)
        },
        allow,
        not_granted,
        path,
        network,
        work_dir,
        accept_weak_confinement: weak,
        hook_user,
        timeout_seconds: timeout,
        memory_bytes: memory,
        output_cap_bytes: output,
        fuel,
        meter_fuel: setting(pp.meter_fuel, from_operator(pp, "sandbox.meter-fuel"), None),
        extra_dirs: setting(
            pp.extra_dirs.clone(),
            from_operator(pp, "policy.extra-dirs"),
            None,
        ),
        env_passthrough: setting(
            pp.env_passthrough.clone(),
            from_operator(pp, "policy.env-passthrough"),
            None,
        ),
    };

    // The operator's retry defaults, for hooks whose project chose no retry policy.
    if pp.retry_defaults != Default::default() {
        for hook in plan.hooks.iter_mut().filter(|h| h.retry.is_none()) {
            hook.retry = Some(
                pp.retry_defaults
                    .apply(crate::retry::RetryPolicy::default_for(
                        hook.convention,
                        &hook.stage,
                    )),
            );
        }
    }

    // The plan carries the effective values from here on.
    plan.policy = Policy {
        work_dir: effective.work_dir.value,
        allow: allowed,
        path: effective.path.value.clone(),
        network: effective.network.value,
        run_as,
        accept_weak_confinement: effective.accept_weak_confinement.value,
        extra_dirs: pp.extra_dirs.clone(),
        ..Policy::default()
    };
    if !pp.developer {
        plan.limits = PlanLimits {
            fuel: effective.fuel.value,
            memory_bytes: Some(effective.memory_bytes.value),
            output_cap_bytes: Some(effective.output_cap_bytes.value),
        };
    }
    j.problems.sort_by_key(|p| p.line);
    (effective, j.problems)
}

fn from_operator(pp: &PlatformPolicy, key: &str) -> Origin {
    if pp.lines.contains_key(key) {
        Origin::Operator
    } else {
        Origin::Default
    }
}

/// The hook user as the operator decides it (the uid itself is given at run time).
fn operator_user(pp: &PlatformPolicy) -> Setting<String> {
    match &pp.hook_uids {
        Some(r) => setting(
            format!(
                "a uid of {}..{} per {}",
                r.first,
                u64::from(r.first) + u64::from(r.count),
                match r.per {
                    super::UidPer::Tenant => "tenant",
                    super::UidPer::Run => "run",
                }
            ),
            Origin::Operator,
            None,
        ),
        None => setting(
            format!(
                "{} (shared by every tenant: set hook-uids to give each its own)",
                crate::runner::user::DEFAULT_HOOK_USER
            ),
            Origin::Default,
            None,
        ),
    }
}

impl EffectivePolicy {
    /// Records the tenant, and its uid (`Some`: the operator's, from its range) once the
    /// caller (the CLI) knows them.
    pub fn set_hook_user(&mut self, tenant: &str, uid: Option<String>) {
        self.tenant = Some(tenant.to_string());
        if let Some(described) = uid {
            self.hook_user = setting(described, Origin::Operator, None);
        }
    }
}
