//! Acquia Site Factory: `factory-hooks/<hook>/` directories for `post-staging-update`,
//! `db-update`, `post-site-install`, `post-site-duplication`, `post-theme-deploy` and
//! `post-site-update`. Task hooks (run by `hookbox run`, per site): failure skips the
//! remaining scripts and fails the task.
//!
//! Data enters as the directories' entries; hooks leave into the [`Scan`], in byte order of
//! their names, with `sitegroup env db_role domain` as arguments. A file without the
//! executable bit is skipped and reported, as Site Factory does. When `post-staging-update` or
//! `db-update` has no script, the default command (`drush updatedb`, or hookbox.toml's
//! `[site-factory] default-command`) runs instead.

use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::{
    clash, exists_no_follow, file_hook, files, hook_program, Ctx, Problem, Scan, SITE_FACTORY_HOOKS,
};
use crate::plan::{Convention, HookProgram, Skipped, DEFAULT_SITE_FACTORY_COMMAND};

/// Hooks that run the default command when they have no script.
pub const DEFAULT_COMMAND_HOOKS: [&str; 2] = ["post-staging-update", "db-update"];

pub(crate) fn scan(ctx: &Ctx<'_>, default_command: Option<&str>, out: &mut Scan) {
    let base = ctx.locate("factory-hooks");
    let forced = ctx.opts.convention == Some(Convention::SiteFactory);
    if base.is_none() && !forced {
        return;
    }
    out.found(Convention::SiteFactory);
    let args: Vec<String> = ctx
        .opts
        .site_factory_args
        .as_ref()
        .map(|a| a.to_vec())
        .unwrap_or_default();
    if let Some(base) = &base {
        match files::sorted_entries(&ctx.abs(base), base) {
            Ok(entries) => {
                for e in entries {
                    let known = e
                        .name
                        .to_str()
                        .is_some_and(|n| SITE_FACTORY_HOOKS.contains(&n));
                    if !known {
                        out.skipped.push(Skipped {
                            path: ctx.shown(&e.rel),
                            reason: format!(
                                "not a Site Factory hook directory (known: {})",
                                SITE_FACTORY_HOOKS.join(", ")
                            ),
                        });
                    }
                }
            }
            Err(msg) => {
                out.errors.push(
                    Problem::new(ctx.shown(base), None, format!("factory-hooks {msg}"))
                        .fix("make factory-hooks a readable folder of hook folders")
                        .rule(super::rules::LAYOUT),
                );
                return;
            }
        }
    }
    for hook in SITE_FACTORY_HOOKS {
        let added = match &base {
            Some(base) => scan_dir(
                ctx,
                out,
                &base.join(hook),
                hook,
                Convention::SiteFactory,
                &args,
            ),
            None => 0,
        };
        if added == 0 && DEFAULT_COMMAND_HOOKS.contains(&hook) {
            let cmd = default_command.unwrap_or(DEFAULT_SITE_FACTORY_COMMAND);
            out.hooks.push(file_hook(
                cmd,
                hook,
                Convention::SiteFactory,
                HookProgram::Command(cmd.to_string()),
                ctx.runner,
                args.clone(),
            ));
        }
    }
}

/// Add the hooks of one hook directory (`rel`, relative to the root), in byte order of their
/// names; returns how many were added. A missing directory adds none.
pub(crate) fn scan_dir(
    ctx: &Ctx<'_>,
    out: &mut Scan,
    rel: &Path,
    stage: &str,
    convention: Convention,
    args: &[String],
) -> usize {
    let abs = ctx.abs(rel);
    if !exists_no_follow(&abs) {
        return 0;
    }
    let entries = match std::fs::metadata(&abs) {
        Ok(m) if m.is_dir() => files::sorted_entries(&abs, rel),
        Ok(_) => Err("is not a folder".to_string()),
        Err(e) => Err(files::io_message(&e)),
    };
    let entries = match entries {
        Ok(e) => e,
        Err(msg) => {
            out.errors.push(
                Problem::new(ctx.shown(rel), None, format!("hook folder {msg}"))
                    .fix("make it a folder of executable hook scripts")
                    .rule(super::rules::LAYOUT),
            );
            return 0;
        }
    };
    let names: BTreeSet<Vec<u8>> = entries.iter().map(|e| e.name.as_bytes().to_vec()).collect();
    let mut added = 0;
    for e in entries {
        let bytes = e.name.as_bytes();
        if bytes.starts_with(b".") {
            out.skipped.push(Skipped {
                path: ctx.shown(&e.rel),
                reason: "hidden file, not a hook".into(),
            });
            continue;
        }
        if std::fs::metadata(ctx.abs(&e.rel)).is_ok_and(|m| m.is_dir()) {
            out.skipped.push(Skipped {
                path: ctx.shown(&e.rel),
                reason: "a folder inside a hook folder is not run".into(),
            });
            continue;
        }
        if let Some(stem) = bytes.strip_suffix(b".wasm") {
            let sh: Vec<u8> = [stem, b".sh"].concat();
            if names.contains(&sh) {
                let sh_rel = rel.join(std::ffi::OsStr::from_bytes(&sh));
                clash(ctx, out, &sh_rel, &e.rel);
                continue;
            }
        }
        if let Some(stem) = bytes.strip_suffix(b".sh") {
            // Reported once, from the .wasm side.
            if names.contains(&[stem, b".wasm"].concat()) {
                continue;
            }
        }
        if let Some((program, runner)) = hook_program(ctx, out, &e.rel, true) {
            let name = e.name.to_string_lossy().into_owned();
            out.hooks.push(file_hook(
                &name,
                stage,
                convention,
                program,
                runner,
                args.to_vec(),
            ));
            added += 1;
        }
    }
    added
}
