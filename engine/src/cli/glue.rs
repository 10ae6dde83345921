//! Where the CLI meets the other modules' entry points: discovery, the runners, the hook user.
//! Kept in one file so a new runner (the sandbox) is added in one obvious place.

use std::path::PathBuf;

use anyhow::Result;

use crate::discover::{self as disc, DiscoverOptions, Problem};
use crate::lifecycle::HookIds;
use crate::plan::{Convention, Plan, RunnerKind};
use crate::runner::native::NativeRunner;
use crate::runner::sandbox::{SandboxConfig, SandboxRunner};
use crate::runner::Runner;

/// What discovery needs from the command line and the process environment.
#[derive(Debug, Clone, Default)]
pub struct DiscoverInput {
    pub dir: PathBuf,
    pub convention: Option<Convention>,
    pub project_path: Option<String>,
    pub acquia_env: Option<String>,
    pub source_code_version: Option<String>,
    pub target_code_version: Option<String>,
    /// The operator's platform policy (`None`: developer mode).
    pub platform: Option<crate::platform::PlatformPolicy>,
}

impl DiscoverInput {
    fn options(&self) -> DiscoverOptions {
        DiscoverOptions {
            project_path: self.project_path.as_ref().map(PathBuf::from),
            convention: self.convention,
            acquia_env: self.acquia_env.clone(),
            // `hookbox run STAGE -- ARGS` passes Site Factory's four arguments to every hook.
            site_factory_args: None,
            source_code_version: self.source_code_version.clone(),
            target_code_version: self.target_code_version.clone(),
            platform: self.platform.clone(),
        }
    }
}

/// The plan of a project (configuration errors are errors: exit 2).
pub fn discover(input: &DiscoverInput) -> Result<Plan> {
    Ok(disc::discover(&input.dir, &input.options())?)
}

/// Every problem discovery can find without running anything.
pub fn validate(input: &DiscoverInput) -> Result<Vec<Problem>> {
    Ok(disc::validate(&input.dir, &input.options()))
}

/// The native runner.
pub fn native_runner() -> Result<Box<dyn Runner>> {
    Ok(Box::new(NativeRunner::new()))
}

/// The sandbox runner, made only when the plan has sandboxed hooks (it owns a wasmtime
/// engine and its ticker). Call inside the tokio runtime.
/// `meter_fuel` (`--meter-fuel`) counts instructions even without a fuel budget.
pub fn sandbox_runner(plan: &Plan, meter_fuel: bool) -> Result<Option<Box<dyn Runner>>> {
    // `[deploy]` commands run under the project's runner too.
    let deploy_commands = plan.deploy.install.is_some()
        || plan.deploy.build.is_some()
        || plan.deploy.health_check.is_some();
    let deploy_sandboxed = deploy_commands && plan.runner == RunnerKind::Sandbox;
    if !deploy_sandboxed && !plan.hooks.iter().any(|h| h.runner == RunnerKind::Sandbox) {
        return Ok(None);
    }
    let accounting = plan
        .effective_policy
        .as_ref()
        .is_some_and(|e| e.meter_fuel.value);
    let runner = SandboxRunner::new(SandboxConfig {
        cache_dir: super::exec::cache_dir_from_env(),
        meter_fuel: meter_fuel || accounting || plan.limits.fuel.is_some(),
        ..SandboxConfig::default()
    })?;
    Ok(Some(Box::new(runner)))
}

/// The user hooks run as when hookbox runs as root (`None` otherwise).
pub fn hook_ids(policy: &crate::bridge::policy::Policy) -> Result<Option<HookIds>> {
    Ok(
        crate::runner::user::resolve(policy.run_as.as_deref())?.map(|u| HookIds {
            uid: u.uid,
            gid: u.gid,
        }),
    )
}
