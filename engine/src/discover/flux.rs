//! Flux-Orbit: `pre-deploy.sh` (after install, before build; failure aborts) and
//! `post-deploy.sh` (after the switch; failure is a warning), each possibly a `.wasm` module.
//!
//! Data enters as the project root and `PROJECT_PATH`; hooks leave into the [`Scan`]. Per
//! hook, the `PROJECT_PATH` folder's file wins and the root's is the fallback. Flux makes hook
//! files executable itself, so a missing executable bit is not a reason to skip here.

use std::path::PathBuf;

use super::{clash, exists_no_follow, file_hook, hook_program, Ctx, Scan};
use crate::plan::Convention;

/// The Flux-Orbit stages, in lifecycle order.
pub const STAGES: [&str; 2] = ["pre-deploy", "post-deploy"];

pub(crate) fn scan(ctx: &Ctx<'_>, out: &mut Scan) {
    for stage in STAGES {
        let sh = format!("{stage}.sh");
        let wasm = format!("{stage}.wasm");
        let mut folders: Vec<PathBuf> = Vec::new();
        if let Some(pp) = &ctx.project_path {
            folders.push(pp.clone());
        }
        folders.push(PathBuf::new());
        let Some(folder) = folders.into_iter().find(|f| {
            exists_no_follow(&ctx.abs(&f.join(&sh))) || exists_no_follow(&ctx.abs(&f.join(&wasm)))
        }) else {
            continue;
        };
        out.found(Convention::FluxOrbit);
        let (sh_rel, wasm_rel) = (folder.join(&sh), folder.join(&wasm));
        let has_sh = exists_no_follow(&ctx.abs(&sh_rel));
        let has_wasm = exists_no_follow(&ctx.abs(&wasm_rel));
        if has_sh && has_wasm {
            clash(ctx, out, &sh_rel, &wasm_rel);
            continue;
        }
        let (rel, name) = if has_sh {
            (sh_rel, sh)
        } else {
            (wasm_rel, wasm)
        };
        if let Some((program, runner)) = hook_program(ctx, out, &rel, false) {
            out.hooks.push(file_hook(
                &name,
                stage,
                Convention::FluxOrbit,
                program,
                runner,
                Vec::new(),
            ));
        }
    }
}
