//! `validate`: every problem of a project that can be found without running a hook.
//!
//! Data enters as the project directory and options; it leaves as a list of [`Problem`]s (file,
//! line, message, fix), sorted by file and line. It runs discovery's scan (Procfile errors,
//! hookbox.toml keys, `.sh` + `.wasm` clashes, missing executable bits, empty and binary
//! files) and then looks into each script: a Flux-Orbit hook without a bash shebang, CRLF line
//! ends, and `bash -n` syntax errors (`bash -n` parses, it does not execute).

use std::path::{Path, PathBuf};

use super::files::{self, BashInput};
use super::{lossy, scan, DiscoverError, DiscoverOptions, Problem};
use crate::plan::{Convention, HookProgram, Plan};

/// Every problem in the project at `dir`; empty when it is ready to run.
pub fn validate(dir: &Path, opts: &DiscoverOptions) -> Vec<Problem> {
    let (plan, scan) = match scan(dir, opts) {
        Ok(r) => r,
        Err(DiscoverError::Project { path, message }) => {
            return vec![Problem::new(path, None, message).fix("pass the project's directory")];
        }
        Err(DiscoverError::Invalid { problems }) => return problems,
    };
    let mut problems = scan.errors;
    problems.extend(scan.lints);
    let ctx_root = dir.to_path_buf();
    for (i, hook) in plan.hooks.iter().enumerate() {
        match &hook.program {
            HookProgram::Script(path) => {
                problems.extend(check_script(&plan, &ctx_root, path, hook.convention))
            }
            HookProgram::Command(cmd) => problems.extend(check_command(
                &plan,
                &ctx_root,
                scan.origins.get(&i),
                hook,
                cmd,
            )),
            HookProgram::Wasm(_) => {}
        }
    }
    for (what, cmd, file, line) in &scan.commands {
        // The command is one TOML string: its own line numbers are not the file's.
        for (_, message) in files::bash_syntax(BashInput::Command(cmd)) {
            problems.push(
                Problem::new(
                    file.clone(),
                    Some(*line),
                    format!("{what}: bash -n: {message}"),
                )
                .fix("fix the command's shell syntax"),
            );
        }
    }
    problems.sort_by(|a, b| a.file.cmp(&b.file).then(a.line.cmp(&b.line)));
    problems.dedup();
    problems
}

fn shown(plan: &Plan, shown_root: &Path, path: &Path) -> std::path::PathBuf {
    lossy(&shown_root.join(path.strip_prefix(&plan.root).unwrap_or(path)))
}

fn check_script(
    plan: &Plan,
    shown_root: &Path,
    path: &Path,
    convention: Convention,
) -> Vec<Problem> {
    let mut out = Vec::new();
    let file = shown(plan, shown_root, path);
    let Ok(found) = files::inspect(path) else {
        return out;
    };
    if found.content != files::Content::Text {
        return out;
    }
    let rel = path.strip_prefix(&plan.root).unwrap_or(path);
    match (&found.shebang, convention) {
        (None, Convention::FluxOrbit) => out.push(
            Problem::new(
                file.clone(),
                Some(1),
                "no shebang: Flux-Orbit hooks must start with `#!/bin/bash`",
            )
            .fix("add `#!/bin/bash` as the first line"),
        ),
        (None, Convention::SiteFactory | Convention::AcquiaCloud) => out.push(
            Problem::new(
                file.clone(),
                Some(1),
                "no shebang: the platform executes this file directly, and without `#!` it cannot",
            )
            .fix("add `#!/usr/bin/env bash` (or the script's interpreter) as the first line"),
        ),
        (Some(s), Convention::FluxOrbit) if !found.shell_shebang() => out.push(
            Problem::new(
                file.clone(),
                Some(1),
                format!("shebang `#!{s}` is not bash: Flux-Orbit hooks are bash scripts"),
            )
            .fix("start the script with `#!/bin/bash`"),
        ),
        _ => {}
    }
    if let Some(line) = found.crlf_line {
        out.push(
            Problem::new(
                file.clone(),
                Some(line),
                "CRLF line ends: bash reads the `\\r` as part of each command",
            )
            .fix(format!(
                "convert to LF: sed -i 's/\\r$//' {}",
                rel.display()
            )),
        );
    }
    if found.is_shell(rel) {
        for (line, message) in files::bash_syntax(BashInput::File(path)) {
            out.push(
                Problem::new(file.clone(), line, format!("bash -n: {message}"))
                    .fix("fix the shell syntax at that line"),
            );
        }
    }
    out
}

/// A command line (Procfile entry, hookbox.toml `command`): `bash -n -c` it, and point at the
/// line that declared it.
fn check_command(
    plan: &Plan,
    shown_root: &Path,
    origin: Option<&(PathBuf, usize)>,
    hook: &crate::plan::Hook,
    cmd: &str,
) -> Vec<Problem> {
    let (file, line) = match origin {
        Some((file, line)) => (file.clone(), Some(*line)),
        None => (
            shown(plan, shown_root, Path::new(super::config::FILE_NAME)),
            None,
        ),
    };
    files::bash_syntax(BashInput::Command(cmd))
        .into_iter()
        .map(|(l, message)| {
            Problem::new(
                file.clone(),
                line.or(l),
                format!("`{}`: bash -n: {message}", hook.stage),
            )
            .fix("fix the command's shell syntax")
        })
        .collect()
}
