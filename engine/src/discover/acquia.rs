//! Acquia Cloud hooks: `hooks/common/<hook>/` then `hooks/<env>/<hook>/` for
//! `post-code-deploy`, `post-code-update`, `post-db-copy` and `post-files-copy`. Task hooks,
//! like Site Factory's: byte order, executable bit required, failure fails the task.
//!
//! Data enters as the directories' entries and the environment name from
//! [`super::DiscoverOptions::acquia_env`]; hooks leave into the [`Scan`]. Environment folders
//! found without an environment name are reported in `skipped`, so nothing is silently ignored.

use std::path::PathBuf;

use super::{exists_no_follow, factory::scan_dir, files, Ctx, Problem, Scan, ACQUIA_CLOUD_HOOKS};
use crate::plan::{Convention, Skipped};

/// Folders under `hooks/` that are Acquia's examples, not an environment.
const NOT_ENVIRONMENTS: [&str; 3] = ["common", "templates", "samples"];

pub(crate) fn scan(ctx: &Ctx<'_>, out: &mut Scan) {
    let Some(base) = ctx.locate("hooks") else {
        return;
    };
    let env = ctx.opts.acquia_env.as_deref();
    if let Some(env) = env {
        if env.is_empty() || env.contains('/') || env == "." || env == ".." {
            out.errors.push(
                Problem::new(
                    ctx.shown(&base),
                    None,
                    format!("Acquia environment name `{env}` is not a folder name"),
                )
                .fix("pass the environment's name (`dev`, `test`, `prod`)")
                .rule(super::rules::LAYOUT),
            );
            return;
        }
    }
    let has_hook_dir = |folder: &str| {
        ACQUIA_CLOUD_HOOKS
            .iter()
            .any(|h| exists_no_follow(&ctx.abs(&base.join(folder).join(h))))
    };
    // `hooks/` alone is too common a name (git hooks, app code): only folders shaped like
    // Acquia's count as the convention.
    let common = has_hook_dir("common");
    let env_found = env.is_some_and(has_hook_dir);
    let forced = ctx.opts.convention == Some(Convention::AcquiaCloud);
    if !common && !env_found && !forced {
        return;
    }
    out.found(Convention::AcquiaCloud);
    let mut folders: Vec<&str> = vec!["common"];
    if let Some(env) = env {
        folders.push(env);
    }
    for hook in ACQUIA_CLOUD_HOOKS {
        for folder in &folders {
            let rel: PathBuf = base.join(folder).join(hook);
            scan_dir(ctx, out, &rel, hook, Convention::AcquiaCloud, &[]);
        }
    }
    if let Ok(entries) = files::sorted_entries(&ctx.abs(&base), &base) {
        for e in entries {
            let name = e.name.to_string_lossy();
            if NOT_ENVIRONMENTS.contains(&name.as_ref()) || Some(name.as_ref()) == env {
                continue;
            }
            if ACQUIA_CLOUD_HOOKS
                .iter()
                .any(|h| exists_no_follow(&ctx.abs(&e.rel.join(h))))
            {
                out.skipped.push(Skipped {
                    path: ctx.shown(&e.rel),
                    reason: match env {
                        Some(env) => {
                            format!("hooks of environment `{name}`; this run is for `{env}`")
                        }
                        None => format!(
                            "hooks of environment `{name}`; no Acquia environment was given"
                        ),
                    },
                });
            }
        }
    }
}
