//! The operator's platform policy at the command line: which file (`--platform`,
//! `HOOKBOX_PLATFORM`, else [`DEFAULT_PLATFORM_FILE`] when it exists), the tenant and its hook
//! uid, the host variables passed through, the timeouts cut to the ceiling, and how `plan`
//! shows the effective policy (secrets redacted).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::args::PlatformArgs;
use crate::events::redact::Redactor;
use crate::lifecycle::Timeouts;
use crate::limits::DEFAULT_TIMEOUT;
use crate::plan::{Plan, RunnerKind};
use crate::platform::{
    EffectivePolicy, Origin, PlatformPolicy, Setting, UidLease, DEFAULT_PLATFORM_FILE,
};

/// The platform policy of this run: `None` is developer mode (no file).
pub fn load(args: &PlatformArgs) -> Result<Option<PlatformPolicy>> {
    let path = match &args.platform {
        Some(p) => p.clone(),
        None => {
            let default = PathBuf::from(DEFAULT_PLATFORM_FILE);
            if !default.exists() {
                return Ok(None);
            }
            default
        }
    };
    let policy = PlatformPolicy::load(&path)
        .with_context(|| format!("the platform policy {} cannot be used", path.display()))?;
    Ok(Some(policy))
}

/// `--runner KIND` is the operator's command line, but it still may not pick a runner the
/// platform policy forbids for tenant code.
pub fn check_runner_flag(
    platform: Option<&PlatformPolicy>,
    runner: Option<RunnerKind>,
) -> Result<()> {
    if let (Some(pp), Some(kind)) = (platform, runner) {
        if !pp.allows_runner(kind) {
            bail!(
                "--runner {}: the platform policy does not let tenant hooks use this runner (runners at {}); change `runners` there to allow it",
                kind.name(),
                pp.where_is("runners")
            );
        }
    }
    Ok(())
}

/// Gives the tenant its hook uid (recorded per tenant, or held for this run) and puts it in
/// the plan's policy, which both runners and the bridge read. Keep the lease alive for the
/// whole run.
pub fn give_hook_user(
    plan: &mut Plan,
    platform: Option<&PlatformPolicy>,
    args: &PlatformArgs,
    dir: &Path,
) -> Result<Option<UidLease>> {
    let Some(pp) = platform else {
        return Ok(None);
    };
    let tenant = PlatformPolicy::tenant_name(args.tenant.as_deref(), dir)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        // Hooks run as hookbox's own (unprivileged) user: no uid to give, nothing to record.
        if let Some(eff) = plan.effective_policy.as_mut() {
            eff.set_hook_user(
                &tenant,
                Some("hookbox's own user (hookbox is not root)".into()),
            );
        }
        return Ok(None);
    }
    let lease = pp.hook_user_for(&tenant)?;
    if let Some(l) = &lease {
        plan.policy.run_as = Some(l.run_as());
    }
    if let Some(eff) = plan.effective_policy.as_mut() {
        let uid = lease
            .as_ref()
            .map(|l| format!("uid {} gid {}", l.uid, l.gid));
        eff.set_hook_user(&tenant, uid);
    }
    Ok(lease)
}

/// For `plan`: the tenant's uid when one is recorded, assigning nothing.
pub fn show_hook_user(
    plan: &mut Plan,
    platform: Option<&PlatformPolicy>,
    args: &PlatformArgs,
    dir: &Path,
) -> Result<()> {
    let Some(pp) = platform else {
        return Ok(());
    };
    let tenant = PlatformPolicy::tenant_name(args.tenant.as_deref(), dir)?;
    if let Some(eff) = plan.effective_policy.as_mut() {
        let uid = match (&pp.hook_uids, pp.recorded_uid(&tenant)) {
            (Some(r), Some(uid)) => Some(format!("uid {uid} gid {}", r.gid.unwrap_or(uid))),
            (Some(_), None) => Some(format!("{} (given at the first run)", eff.hook_user.value)),
            (None, _) => None,
        };
        eff.set_hook_user(&tenant, uid);
    }
    Ok(())
}

/// The operator's `--timeout` and `HOOK_TIMEOUT`, cut to the ceiling; when neither is given
/// and the default is above the ceiling, the ceiling is the default.
pub fn cap_timeouts(platform: Option<&PlatformPolicy>, t: Timeouts) -> Timeouts {
    let Some(pp) = platform else {
        return t;
    };
    Timeouts {
        cli: t.cli.map(|d| pp.cap_timeout(d)),
        env: match t.env {
            Some(d) => Some(pp.cap_timeout(d)),
            None if DEFAULT_TIMEOUT > pp.max_timeout => Some(pp.max_timeout),
            None => None,
        },
    }
}

/// The host variables the operator passes to hooks, read from this process's environment.
pub fn passthrough_env(platform: Option<&PlatformPolicy>) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    if let Some(pp) = platform {
        for name in &pp.env_passthrough {
            if let Ok(value) = std::env::var(name) {
                env.insert(name.clone(), value);
            }
        }
    }
    env
}

/// The redactor of a run: the application variables' secrets and the passed-through ones.
pub fn redactor(
    app_env: &BTreeMap<String, String>,
    passthrough: &BTreeMap<String, String>,
) -> Redactor {
    let mut r = Redactor::from_env(app_env);
    r.extend(&Redactor::from_env(passthrough));
    r
}

/// Every string of `value` redacted (so a secret is masked whatever JSON escaping does).
fn redact_value(value: &mut serde_json::Value, r: &Redactor) {
    match value {
        serde_json::Value::String(s) => *s = r.redact(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|v| redact_value(v, r)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|v| redact_value(v, r)),
        _ => {}
    }
}

/// `plan --json`: the plan with every secret of its environment (and every URL password
/// anywhere) masked.
pub fn plan_json(plan: &Plan) -> Result<serde_json::Value> {
    let r = Redactor::from_env(&plan.env);
    let mut value = serde_json::to_value(plan)?;
    redact_value(&mut value, &r);
    Ok(value)
}

fn from_name(f: Origin) -> &'static str {
    match f {
        Origin::Operator => "operator",
        Origin::Tenant => "tenant",
        Origin::Default => "default",
    }
}

fn row<T>(s: &mut String, name: &str, shown: String, setting: &Setting<T>) {
    use std::fmt::Write;
    let ceiling = setting
        .ceiling
        .as_ref()
        .map(|c| format!("  (ceiling: {c})"))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "  {name:<24} {shown:<28} from {}{ceiling}",
        from_name(setting.from)
    );
}

fn kebab<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// The text form of the effective policy, for `plan`.
pub fn render_policy(eff: &EffectivePolicy) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    match &eff.platform_file {
        _ if eff.mode == "developer" => {
            let _ = writeln!(s, "Policy: no platform policy: developer mode");
        }
        Some(f) => {
            let _ = writeln!(s, "Policy: platform policy {}", f.display());
        }
        None => {
            let _ = writeln!(s, "Policy: platform policy (library value)");
        }
    }
    if let Some(t) = &eff.tenant {
        let _ = writeln!(s, "  {:<24} {t}", "tenant");
    }
    let runners: Vec<String> = eff.runners_allowed.iter().map(kebab).collect();
    let _ = writeln!(s, "  {:<24} {}", "runners allowed", runners.join(", "));
    row(
        &mut s,
        "default runner",
        kebab(&eff.default_runner.value),
        &eff.default_runner,
    );
    row(&mut s, "allow", list(&eff.allow.value), &eff.allow);
    if !eff.not_granted.is_empty() {
        let _ = writeln!(
            s,
            "  {:<24} {}  (the project allows them, the operator does not: they are denied)",
            "not granted",
            eff.not_granted.join(", ")
        );
    }
    row(&mut s, "path", eff.path.value.clone(), &eff.path);
    row(&mut s, "network", kebab(&eff.network.value), &eff.network);
    row(
        &mut s,
        "work-dir",
        kebab(&eff.work_dir.value),
        &eff.work_dir,
    );
    row(
        &mut s,
        "accept-weak-confinement",
        eff.accept_weak_confinement.value.to_string(),
        &eff.accept_weak_confinement,
    );
    row(
        &mut s,
        "hook user",
        eff.hook_user.value.clone(),
        &eff.hook_user,
    );
    row(
        &mut s,
        "timeout-seconds",
        eff.timeout_seconds.value.to_string(),
        &eff.timeout_seconds,
    );
    row(
        &mut s,
        "memory-bytes",
        eff.memory_bytes.value.to_string(),
        &eff.memory_bytes,
    );
    row(
        &mut s,
        "output-cap-bytes",
        eff.output_cap_bytes.value.to_string(),
        &eff.output_cap_bytes,
    );
    row(
        &mut s,
        "fuel",
        eff.fuel
            .value
            .map_or("no budget".to_string(), |f| f.to_string()),
        &eff.fuel,
    );
    row(
        &mut s,
        "meter-fuel",
        eff.meter_fuel.value.to_string(),
        &eff.meter_fuel,
    );
    let dirs: Vec<String> = eff
        .extra_dirs
        .value
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    row(&mut s, "extra-dirs", list(&dirs), &eff.extra_dirs);
    row(
        &mut s,
        "env-passthrough",
        list(&eff.env_passthrough.value),
        &eff.env_passthrough,
    );
    s
}
