//! `validate`: every problem of a project that can be found without running a hook.
//!
//! Data enters as the project directory and options; it leaves as a list of [`Problem`]s (file,
//! line, message, fix), sorted by file and line. It runs discovery's scan (Procfile errors,
//! hookbox.toml keys, `.sh` + `.wasm` clashes, missing executable bits, empty and binary
//! files) and then looks into each script: a Flux-Orbit hook without a bash shebang, CRLF line
//! ends, syntax errors, and, for hooks the sandbox runs, every host command the script calls
//! that the policy does not allow (the bridge would refuse it at deploy time with 127).
//!
//! Syntax is checked by the parser of the runner that will run the hook: the bundled shell's
//! for sandboxed hooks, `bash -n` for native ones (real bash runs those; `-n` parses, it does
//! not execute). Problems the scan only notes (a Site Factory script left non-executable, which
//! is how that convention disables a hook) are warnings.

use std::path::{Path, PathBuf};

use super::files::{self, BashInput};
use super::{commands, lossy, rules, scan, DiscoverError, DiscoverOptions, Problem};
use crate::bridge::allow::Resolver;
use crate::plan::{Convention, Hook, HookProgram, Plan, RunnerKind};

/// Every problem in the project at `dir`; empty when it is ready to run.
pub fn validate(dir: &Path, opts: &DiscoverOptions) -> Vec<Problem> {
    let (plan, scan) = match scan(dir, opts) {
        Ok(r) => r,
        Err(DiscoverError::Project { path, message }) => {
            return vec![Problem::new(path, None, message)
                .fix("pass the project's directory")
                .rule(rules::PROJECT)];
        }
        Err(DiscoverError::Invalid { problems }) => return problems,
    };
    let mut problems = scan.errors;
    problems.extend(scan.lints.into_iter().map(Problem::warning));
    let ctx_root = dir.to_path_buf();
    let mut resolver = Resolver::new(plan.root.clone());
    for (i, hook) in plan.hooks.iter().enumerate() {
        match &hook.program {
            HookProgram::Script(path) => {
                problems.extend(check_script(&plan, &ctx_root, path, hook));
                if hook.runner == RunnerKind::Sandbox {
                    if let Ok(text) = std::fs::read_to_string(path) {
                        let file = shown(&plan, &ctx_root, path);
                        problems.extend(check_allowed(&plan, &mut resolver, &file, &text, (0, 0)));
                    }
                }
            }
            HookProgram::Command(cmd) => {
                problems.extend(check_command(
                    &plan,
                    &ctx_root,
                    scan.origins.get(&i),
                    hook,
                    cmd,
                ));
                if hook.runner == RunnerKind::Sandbox {
                    let (file, line, column) =
                        command_origin(&plan, &ctx_root, scan.origins.get(&i), cmd);
                    problems.extend(check_allowed(
                        &plan,
                        &mut resolver,
                        &file,
                        cmd,
                        (line.saturating_sub(1), column.saturating_sub(1)),
                    ));
                }
            }
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
                .fix("fix the command's shell syntax")
                .rule(rules::SYNTAX),
            );
        }
    }
    problems.sort_by(|a, b| {
        a.file
            .cmp(&b.file)
            .then(a.line.cmp(&b.line))
            .then(a.column.cmp(&b.column))
    });
    problems.dedup();
    problems
}

fn shown(plan: &Plan, shown_root: &Path, path: &Path) -> std::path::PathBuf {
    lossy(&shown_root.join(path.strip_prefix(&plan.root).unwrap_or(path)))
}

fn check_script(plan: &Plan, shown_root: &Path, path: &Path, hook: &Hook) -> Vec<Problem> {
    let convention = hook.convention;
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
            .fix("add `#!/bin/bash` as the first line")
            .rule(rules::SHEBANG),
        ),
        (None, Convention::SiteFactory | Convention::AcquiaCloud) => out.push(
            Problem::new(
                file.clone(),
                Some(1),
                "no shebang: the platform executes this file directly, and without `#!` it cannot",
            )
            .fix("add `#!/usr/bin/env bash` (or the script's interpreter) as the first line")
            .rule(rules::SHEBANG),
        ),
        (Some(s), Convention::FluxOrbit) if !found.shell_shebang() => out.push(
            Problem::new(
                file.clone(),
                Some(1),
                format!("shebang `#!{s}` is not bash: Flux-Orbit hooks are bash scripts"),
            )
            .fix("start the script with `#!/bin/bash`")
            .rule(rules::SHEBANG),
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
            ))
            .rule(rules::CRLF),
        );
    }
    if found.is_shell(rel) {
        if hook.runner == RunnerKind::Sandbox {
            if let Some((line, message)) = std::fs::read_to_string(path)
                .ok()
                .and_then(|text| commands::syntax_error(&text))
            {
                out.push(
                    Problem::new(file.clone(), Some(line), message)
                        .fix("fix the shell syntax at that line")
                        .rule(rules::SYNTAX),
                );
            }
        } else {
            for (line, message) in files::bash_syntax(BashInput::File(path)) {
                out.push(
                    Problem::new(file.clone(), line, format!("bash -n: {message}"))
                        .fix("fix the shell syntax at that line")
                        .rule(rules::SYNTAX),
                );
            }
        }
    }
    out
}

/// Every host command of a sandboxed hook's `text` that the policy does not let start.
/// `offset` is where the text begins in `file` (0-based line and column), for a command line
/// written inside a Procfile or hookbox.toml.
fn check_allowed(
    plan: &Plan,
    resolver: &mut Resolver,
    file: &Path,
    text: &str,
    offset: (usize, usize),
) -> Vec<Problem> {
    let mut out = Vec::new();
    for called in commands::called(text) {
        let line = called.line + offset.0;
        let column = if called.line == 1 {
            called.column + offset.1
        } else {
            called.column
        };
        let name = &called.name;
        match resolver.resolve(&plan.policy, name) {
            Ok(_) => {}
            // A project folder in PATH that is not there yet (`.venv/bin`) is made by the
            // deploy's install or build: what it will hold cannot be known before.
            Err(crate::bridge::BridgeError::NotFound { .. }) if made_at_deploy(plan) => {}
            Err(crate::bridge::BridgeError::NotFound { .. }) => out.push(
                Problem::new(
                    file.to_path_buf(),
                    Some(line),
                    format!("`{name}` is allowed by the policy but not found in its PATH on this machine"),
                )
                .column(column)
                .warning()
                .fix(format!("install `{name}`, or add its folder to `path` in [policy]"))
                .rule(rules::NOT_ALLOWED),
            ),
            Err(_) => out.push(
                Problem::new(
                    file.to_path_buf(),
                    Some(line),
                    format!(
                        "`{name}` is not allowed by the policy: the sandboxed hook will fail here with 127"
                    ),
                )
                .column(column)
                .fix(format!(
                    "add it to hookbox.toml: [policy] allow = [\"{name}\"] (or run this hook with runner = \"native\")"
                ))
                .rule(rules::NOT_ALLOWED),
            ),
        }
    }
    out
}

/// Whether the policy's PATH names a folder of the project that does not exist yet.
fn made_at_deploy(plan: &Plan) -> bool {
    std::env::split_paths(&plan.policy.path)
        .any(|dir| dir.is_relative() && !plan.root.join(&dir).exists())
}

/// Where a command line was declared: its file, 1-based line, and the 1-based column where the
/// command starts on that line (found by searching the line for the command's first line).
fn command_origin(
    plan: &Plan,
    shown_root: &Path,
    origin: Option<&(PathBuf, usize)>,
    cmd: &str,
) -> (PathBuf, usize, usize) {
    let Some((file, line)) = origin else {
        return (
            shown(plan, shown_root, Path::new(super::config::FILE_NAME)),
            1,
            1,
        );
    };
    let first = cmd.lines().next().unwrap_or("");
    let column = std::fs::read_to_string(file)
        .ok()
        .and_then(|text| {
            let l = text.lines().nth(line.saturating_sub(1))?;
            let at = l.find(first)?;
            Some(l[..at].chars().count() + 1)
        })
        .unwrap_or(1);
    (file.clone(), *line, column)
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
    let found = if hook.runner == RunnerKind::Sandbox {
        commands::syntax_error(cmd)
            .map(|(l, message)| vec![(Some(l), message)])
            .unwrap_or_default()
    } else {
        files::bash_syntax(BashInput::Command(cmd))
            .into_iter()
            .map(|(l, message)| (l, format!("bash -n: {message}")))
            .collect()
    };
    found
        .into_iter()
        .map(|(l, message)| {
            Problem::new(
                file.clone(),
                line.or(l),
                format!("`{}`: {message}", hook.stage),
            )
            .fix("fix the command's shell syntax")
            .rule(rules::SYNTAX)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_rule_id_is_documented() {
        let doc = include_str!("../../../docs/validate.md");
        for id in super::rules::ALL {
            assert!(
                doc.contains(&format!("| {id} |")),
                "{id} is missing from docs/validate.md's table"
            );
        }
    }
}
