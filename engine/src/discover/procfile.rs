//! Procfile: `release:` (Heroku) and `postdeploy:` (Scalingo) become hooks that run after
//! the new version started and before the traffic switch (failure: status `hook-error`);
//! the other process types (`web`, `worker`) are listed in the plan, not run as hooks.
//!
//! Data enters as the Procfile's bytes (in `PROJECT_PATH` if it has one, else the root);
//! hooks, processes and problems leave into the [`Scan`]. Syntax per line:
//! `^[A-Za-z0-9_-]+:\s*(.+)$`; blank lines and `#` comments are ignored, CRLF is accepted, and
//! a malformed line is an error naming the line.

use std::path::Path;

use super::{file_hook, files, Ctx, Problem, Scan};
use crate::plan::{Convention, HookProgram};

/// Process types that are hooks, in the order they run (Heroku's release phase comes before
/// Scalingo's postdeploy container when a Procfile has both).
pub const HOOK_TYPES: [&str; 2] = ["release", "postdeploy"];

/// Bytes of a Procfile read at most: it is a short list of command lines.
pub const DEFAULT_PROCFILE_BYTES: u64 = 1024 * 1024;

/// One parsed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub command: String,
    /// 1-based.
    pub line: usize,
}

/// Parse Procfile text into entries and per-line problems (line, message).
pub fn parse(text: &str) -> (Vec<Entry>, Vec<(usize, String)>) {
    let mut entries: Vec<Entry> = Vec::new();
    let mut problems = Vec::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((name, command)) = line.split_once(':') else {
            problems.push((
                line_no,
                format!(
                    "malformed line `{}`: expected `type: command`",
                    shorten(line)
                ),
            ));
            continue;
        };
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        let command = command.trim();
        if !valid_name {
            problems.push((
                line_no,
                format!(
                    "malformed process type `{}`: letters, digits, `_` and `-` only, at the start of the line",
                    shorten(name)
                ),
            ));
        } else if command.is_empty() {
            problems.push((line_no, format!("process type `{name}` has no command")));
        } else if let Some(first) = entries.iter().find(|e| e.name == name) {
            problems.push((
                line_no,
                format!(
                    "process type `{name}` is declared twice (first at line {})",
                    first.line
                ),
            ));
        } else {
            entries.push(Entry {
                name: name.to_string(),
                command: command.to_string(),
                line: line_no,
            });
        }
    }
    (entries, problems)
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

pub(crate) fn scan(ctx: &Ctx<'_>, out: &mut Scan) {
    let Some(rel) = ctx.locate("Procfile") else {
        return;
    };
    out.found(Convention::Procfile);
    let shown = ctx.shown(&rel);
    let text = match ctx
        .contained(&ctx.abs(&rel))
        .and_then(|()| read(&ctx.abs(&rel)))
    {
        Ok(t) => t,
        Err(msg) => {
            out.errors.push(
                Problem::new(shown, None, format!("Procfile {msg}"))
                    .fix("make the Procfile a UTF-8 text file of `type: command` lines")
                    .rule(super::rules::FILE),
            );
            return;
        }
    };
    let (entries, problems) = parse(&text);
    for (line, message) in problems {
        out.errors.push(
            Problem::new(shown.clone(), Some(line), message)
                .fix("write `type: command` (for example `postdeploy: ./migrate.sh`), or comment the line out with `#`")
                .rule(super::rules::PROCFILE),
        );
    }
    if entries.is_empty() {
        out.lints.push(
            Problem::new(shown.clone(), None, "Procfile declares no process type")
                .fix("add `postdeploy: COMMAND` or remove the empty Procfile")
                .rule(super::rules::PROCFILE),
        );
    }
    for hook_type in HOOK_TYPES {
        if let Some(e) = entries.iter().find(|e| e.name == hook_type) {
            out.origins.insert(out.hooks.len(), (shown.clone(), e.line));
            out.hooks.push(file_hook(
                hook_type,
                hook_type,
                Convention::Procfile,
                HookProgram::Command(e.command.clone()),
                ctx.runner,
                Vec::new(),
            ));
        }
    }
    for e in entries {
        if !HOOK_TYPES.contains(&e.name.as_str()) {
            out.processes.insert(e.name, e.command);
        }
    }
}

/// The Procfile's text: a regular, UTF-8 file without NUL bytes, within the size cap.
fn read(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| files::io_message(&e))?;
    if meta.is_dir() {
        return Err("is a directory, expected a file".into());
    }
    if !meta.is_file() {
        return Err("is not a regular file (a FIFO, socket or device)".into());
    }
    if meta.len() > DEFAULT_PROCFILE_BYTES {
        return Err(format!("is larger than {DEFAULT_PROCFILE_BYTES} bytes"));
    }
    let bytes = std::fs::read(path).map_err(|e| files::io_message(&e))?;
    if bytes.contains(&0) {
        return Err("is a binary file (contains NUL bytes)".into());
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "is not valid UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}
