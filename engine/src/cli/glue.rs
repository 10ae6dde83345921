//! Where the CLI meets the other modules' entry points: discovery, the runners, the hook user.
//! Kept in one file so a new runner (the sandbox) is added in one obvious place.

use std::path::PathBuf;

use anyhow::Result;

use crate::lifecycle::HookIds;
use crate::plan::{Convention, Plan};
use crate::runner::Runner;

/// What discovery needs from the command line and the process environment.
#[derive(Debug, Clone)]
pub struct DiscoverInput {
    pub dir: PathBuf,
    pub convention: Option<Convention>,
    pub project_path: Option<String>,
    pub acquia_env: Option<String>,
}

/// One problem `validate` found, as the CLI prints it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProblemView {
    pub text: String,
}

/// The plan of a project (configuration errors are errors: exit 2).
pub fn discover(input: &DiscoverInput) -> Result<Plan> {
    let _ = (&input.convention, &input.project_path, &input.acquia_env);
    anyhow::bail!(
        "discovery is not available in this build (cannot read {})",
        input.dir.display()
    )
}

/// Every problem discovery can find without running anything.
pub fn validate(input: &DiscoverInput) -> Result<Vec<ProblemView>> {
    anyhow::bail!(
        "discovery is not available in this build (cannot read {})",
        input.dir.display()
    )
}

/// The native runner.
pub fn native_runner() -> Result<Box<dyn Runner>> {
    anyhow::bail!("the native runner is not available in this build")
}

/// The sandbox runner, when this build has one. `None`: sandbox hooks are refused with a
/// clear error (never run natively instead).
pub fn sandbox_runner() -> Option<Box<dyn Runner>> {
    let config = crate::runner::sandbox::SandboxConfig {
        cache_dir: super::exec::cache_dir_from_env(),
        ..Default::default()
    };
    match crate::runner::sandbox::SandboxRunner::new(config) {
        Ok(runner) => Some(Box::new(runner)),
        Err(err) => {
            tracing::warn!(%err, "the sandbox runner cannot start");
            None
        }
    }
}

/// The user hooks run as when hookbox runs as root (`None` otherwise).
pub fn hook_ids(_policy: &crate::bridge::policy::Policy) -> Result<Option<HookIds>> {
    Ok(None)
}
