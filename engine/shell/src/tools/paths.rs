//! `basename`, `dirname` and `realpath`: path names in, path names out.
//!
//! `basename` and `dirname` are pure string operations, as in GNU. `realpath` walks the file
//! system itself (WASI has no `realpath(3)`), following symbolic links, relative names resolved
//! against the shell's directory.

use std::path::{Component, Path, PathBuf};

use super::opts::{self, Spec};
use super::{errno_text, quote, quotef, write_failed, ToolContext};

fn base(name: &str, suffix: &str) -> String {
    let trimmed = name.trim_end_matches('/');
    if trimmed.is_empty() {
        return if name.is_empty() {
            String::new()
        } else {
            "/".into()
        };
    }
    let b = match trimmed.rfind('/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    };
    match b.strip_suffix(suffix) {
        Some(s) if !suffix.is_empty() && !s.is_empty() => s.to_string(),
        _ => b.to_string(),
    }
}

fn dir(name: &str) -> String {
    let trimmed = name.trim_end_matches('/');
    if trimmed.is_empty() {
        return if name.is_empty() {
            ".".into()
        } else {
            "/".into()
        };
    }
    match trimmed.rfind('/') {
        None => ".".into(),
        Some(i) => {
            let d = trimmed[..i].trim_end_matches('/');
            if d.is_empty() {
                "/".into()
            } else {
                d.to_string()
            }
        }
    }
}

pub(crate) fn basename(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "az",
        with_value: "s",
        long: &[
            ("multiple", false, 'a'),
            ("suffix", true, 's'),
            ("zero", false, 'z'),
        ],
        stop_at_operand: false,
    };
    let (options, ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("basename", &e, ctx.stderr, 1),
    };
    let mut multiple = false;
    let mut suffix = String::new();
    let mut end = '\n';
    for o in options {
        match o.key {
            'a' => multiple = true,
            's' => {
                multiple = true;
                suffix = o.value.unwrap_or_default();
            }
            'z' => end = '\0',
            _ => {}
        }
    }
    if ops.is_empty() {
        return opts::usage_error("basename", "missing operand", ctx.stderr, 1);
    }
    let names: Vec<&String> = if multiple {
        ops.iter().collect()
    } else {
        if ops.len() > 2 {
            let msg = format!("extra operand {}", quote(&ops[2]));
            return opts::usage_error("basename", &msg, ctx.stderr, 1);
        }
        if let Some(s) = ops.get(1) {
            suffix = s.clone();
        }
        vec![&ops[0]]
    };
    let mut out = String::new();
    for n in names {
        out.push_str(&base(n, &suffix));
        out.push(end);
    }
    match ctx.stdout.write_all(out.as_bytes()) {
        Ok(()) => 0,
        Err(e) => write_failed("basename", &e, ctx.stderr),
    }
}

pub(crate) fn dirname(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "z",
        with_value: "",
        long: &[("zero", false, 'z')],
        stop_at_operand: false,
    };
    let (options, ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("dirname", &e, ctx.stderr, 1),
    };
    let end = if options.iter().any(|o| o.key == 'z') {
        '\0'
    } else {
        '\n'
    };
    if ops.is_empty() {
        return opts::usage_error("dirname", "missing operand", ctx.stderr, 1);
    }
    let mut out = String::new();
    for n in &ops {
        out.push_str(&dir(n));
        out.push(end);
    }
    match ctx.stdout.write_all(out.as_bytes()) {
        Ok(()) => 0,
        Err(e) => write_failed("dirname", &e, ctx.stderr),
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Need {
    /// All but the last component must exist (GNU's default, -E).
    AllButLast,
    /// Every component must exist (-e).
    All,
    /// Nothing need exist (-m).
    Nothing,
}

/// Resolves `path` to an absolute name without `.`/`..` and, unless `logical`, without links.
pub(crate) fn canonical(
    cwd: &Path,
    path: &str,
    need: Need,
    logical: bool,
) -> std::io::Result<PathBuf> {
    let mut pending: Vec<std::ffi::OsString> = Vec::new();
    let start = super::resolve(cwd, path);
    for c in start.components().rev() {
        pending.push(c.as_os_str().to_os_string());
    }
    let mut out = PathBuf::from("/");
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        let part_path = PathBuf::from(&part);
        match part_path.components().next() {
            Some(Component::RootDir) | Some(Component::CurDir) | None => continue,
            Some(Component::ParentDir) => {
                out.pop();
                continue;
            }
            _ => {}
        }
        let candidate = out.join(&part);
        let is_last = pending.is_empty();
        match std::fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() && !logical => {
                hops += 1;
                if hops > 40 {
                    return Err(std::io::Error::other("Too many levels of symbolic links"));
                }
                let target = std::fs::read_link(&candidate)?;
                if target.is_absolute() {
                    out = PathBuf::from("/");
                }
                for c in target.components().rev() {
                    pending.push(c.as_os_str().to_os_string());
                }
            }
            Ok(m) => {
                if !is_last && !m.is_dir() && need != Need::Nothing {
                    return Err(std::io::Error::from(std::io::ErrorKind::NotADirectory));
                }
                out = candidate;
            }
            Err(e) => {
                // In the sandbox the ancestors of a granted directory cannot be seen: a prefix
                // that fails to stat while the whole path exists is one of those, not an error.
                if !is_last {
                    let mut full = candidate.clone();
                    for p in pending.iter().rev() {
                        full.push(p);
                    }
                    if std::fs::metadata(&full).is_ok() {
                        out = candidate;
                        continue;
                    }
                }
                let tolerated = match need {
                    Need::Nothing => true,
                    Need::AllButLast => is_last,
                    Need::All => false,
                };
                if !tolerated || e.kind() != std::io::ErrorKind::NotFound {
                    return Err(e);
                }
                out = candidate;
            }
        }
    }
    Ok(out)
}

pub(crate) fn realpath(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "emEsqzL",
        with_value: "",
        long: &[
            ("canonicalize-existing", false, 'e'),
            ("canonicalize-missing", false, 'm'),
            ("no-symlinks", false, 's'),
            ("strip", false, 's'),
            ("quiet", false, 'q'),
            ("zero", false, 'z'),
            ("logical", false, 'L'),
        ],
        stop_at_operand: false,
    };
    let (options, ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("realpath", &e, ctx.stderr, 1),
    };
    let mut need = Need::AllButLast;
    let mut logical = false;
    let mut quiet = false;
    let mut end = '\n';
    for o in options {
        match o.key {
            'e' => need = Need::All,
            'm' => need = Need::Nothing,
            'E' => need = Need::AllButLast,
            's' | 'L' => logical = true,
            'q' => quiet = true,
            'z' => end = '\0',
            _ => {}
        }
    }
    if ops.is_empty() {
        return opts::usage_error("realpath", "missing operand", ctx.stderr, 1);
    }
    let mut status = 0;
    for op in &ops {
        match canonical(ctx.cwd, op, need, logical) {
            Ok(p) => {
                if let Err(e) = write!(ctx.stdout, "{}{end}", p.display()) {
                    return write_failed("realpath", &e, ctx.stderr);
                }
            }
            Err(e) => {
                if !quiet {
                    let _ = writeln!(ctx.stderr, "realpath: {}: {}", quotef(op), errno_text(&e));
                }
                status = 1;
            }
        }
    }
    status
}
