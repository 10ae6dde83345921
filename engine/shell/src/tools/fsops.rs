//! File-system tools: `mkdir`, `rm`, `rmdir`, `touch`, `cp`, `mv`, `mktemp`, `ls`.
//!
//! Operands are resolved against the shell's directory; diagnostics name them as the user wrote
//! them. Everything goes through `std::fs`, which WASI confines to the preopened directories, so
//! a path outside the grants fails with the OS error like any other.

use std::path::{Path, PathBuf};

use super::opts::{self, Spec};
use super::{errno_text, quote, resolve, write_failed, ToolContext};

fn is_dir(p: &Path) -> bool {
    std::fs::metadata(p).map(|m| m.is_dir()).unwrap_or(false)
}

fn exists_nofollow(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

pub(crate) fn mkdir(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "pv",
        with_value: "m",
        long: &[
            ("parents", false, 'p'),
            ("verbose", false, 'v'),
            ("mode", true, 'm'),
        ],
        stop_at_operand: false,
    };
    let (options, ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("mkdir", &e, ctx.stderr, 1),
    };
    let parents = options.iter().any(|o| o.key == 'p');
    let verbose = options.iter().any(|o| o.key == 'v');
    let mode = match options.iter().rev().find(|o| o.key == 'm') {
        Some(o) => match u32::from_str_radix(o.value.as_deref().unwrap_or(""), 8) {
            Ok(m) if m <= 0o7777 => Some(m),
            _ => {
                let _ = writeln!(
                    ctx.stderr,
                    "mkdir: invalid mode {}",
                    quote(o.value.as_deref().unwrap_or(""))
                );
                return 1;
            }
        },
        None => None,
    };
    if ops.is_empty() {
        return opts::usage_error("mkdir", "missing operand", ctx.stderr, 1);
    }
    let mut status = 0;
    for op in &ops {
        let path = resolve(ctx.cwd, op);
        if parents {
            // Create each missing ancestor in turn so `-v` can name them and errors name the
            // component that failed, as GNU does.
            let mut prefix = String::new();
            let parts: Vec<&str> = op.split('/').collect();
            let mut failed = false;
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    prefix.push('/');
                }
                prefix.push_str(part);
                if part.is_empty() || *part == "." || *part == ".." {
                    continue;
                }
                let p = resolve(ctx.cwd, &prefix);
                // Above a granted directory the host's own directories exist, unseen.
                if is_dir(&p) || crate::grants::is_ancestor(&p) {
                    continue;
                }
                match std::fs::create_dir(&p) {
                    Ok(()) => {
                        set_mode(&p, if i + 1 == parts.len() { mode } else { None });
                        if verbose {
                            let _ =
                                writeln!(ctx.stdout, "mkdir: created directory {}", quote(&prefix));
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && is_dir(&p) => {}
                    Err(e) => {
                        let e = if e.kind() == std::io::ErrorKind::AlreadyExists {
                            std::io::Error::from(std::io::ErrorKind::NotADirectory)
                        } else {
                            e
                        };
                        let _ = writeln!(
                            ctx.stderr,
                            "mkdir: cannot create directory {}: {}",
                            quote(&prefix),
                            errno_text(&e)
                        );
                        failed = true;
                        break;
                    }
                }
            }
            if failed {
                status = 1;
            }
            continue;
        }
        match std::fs::create_dir(&path) {
            Ok(()) => {
                set_mode(&path, mode);
                if verbose {
                    let _ = writeln!(ctx.stdout, "mkdir: created directory {}", quote(op));
                }
            }
            Err(e) => {
                let _ = writeln!(
                    ctx.stderr,
                    "mkdir: cannot create directory {}: {}",
                    quote(op),
                    errno_text(&e)
                );
                status = 1;
            }
        }
    }
    status
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: Option<u32>) {
    use std::os::unix::fs::PermissionsExt;
    if let Some(m) = mode {
        let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    }
}

#[cfg(not(unix))]
fn set_mode(_p: &Path, _mode: Option<u32>) {
    // WASI has no permission bits to set.
}

pub(crate) fn rm(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "rRfvdiI",
        with_value: "",
        long: &[
            ("recursive", false, 'r'),
            ("force", false, 'f'),
            ("verbose", false, 'v'),
            ("dir", false, 'd'),
            ("no-preserve-root", false, 'N'),
            ("preserve-root", false, 'P'),
        ],
        stop_at_operand: false,
    };
    let (options, ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("rm", &e, ctx.stderr, 1),
    };
    let mut recursive = false;
    let mut force = false;
    let mut verbose = false;
    let mut dir_ok = false;
    for o in &options {
        match o.key {
            'r' | 'R' => recursive = true,
            'f' => force = true,
            'i' | 'I' => force = false,
            'v' => verbose = true,
            'd' => dir_ok = true,
            _ => {}
        }
    }
    if ops.is_empty() {
        if force {
            return 0;
        }
        return opts::usage_error("rm", "missing operand", ctx.stderr, 1);
    }
    let mut status = 0;
    for op in &ops {
        let last = op.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        if recursive && (last == "." || last == "..") {
            let _ = writeln!(
                ctx.stderr,
                "rm: refusing to remove '.' or '..' directory: skipping {}",
                quote(op)
            );
            status = 1;
            continue;
        }
        let path = resolve(ctx.cwd, op);
        if recursive && path.parent().is_none() {
            let _ = writeln!(
                ctx.stderr,
                "rm: it is dangerous to operate recursively on {}",
                quote(op)
            );
            let _ = writeln!(
                ctx.stderr,
                "rm: use --no-preserve-root to override this failsafe"
            );
            status = 1;
            continue;
        }
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                let missing = matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                );
                if !(force && missing) {
                    let _ = writeln!(
                        ctx.stderr,
                        "rm: cannot remove {}: {}",
                        quote(op),
                        errno_text(&e)
                    );
                    status = 1;
                }
                continue;
            }
        };
        if meta.is_dir() {
            if recursive {
                if !remove_tree(&path, op, verbose, ctx) {
                    status = 1;
                }
            } else if dir_ok {
                match std::fs::remove_dir(&path) {
                    Ok(()) => {
                        if verbose {
                            let _ = writeln!(ctx.stdout, "removed directory {}", quote(op));
                        }
                    }
                    Err(e) => {
                        let _ = writeln!(
                            ctx.stderr,
                            "rm: cannot remove {}: {}",
                            quote(op),
                            errno_text(&e)
                        );
                        status = 1;
                    }
                }
            } else {
                let _ = writeln!(
                    ctx.stderr,
                    "rm: cannot remove {}: Is a directory",
                    quote(op)
                );
                status = 1;
            }
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {
                if verbose {
                    let _ = writeln!(ctx.stdout, "removed {}", quote(op));
                }
            }
            Err(e) => {
                let _ = writeln!(
                    ctx.stderr,
                    "rm: cannot remove {}: {}",
                    quote(op),
                    errno_text(&e)
                );
                status = 1;
            }
        }
    }
    status
}

/// Removes a directory tree depth first, reporting like GNU `rm -r`; false on any failure.
fn remove_tree(path: &Path, shown: &str, verbose: bool, ctx: &mut ToolContext<'_>) -> bool {
    let mut ok = true;
    match std::fs::read_dir(path) {
        Ok(entries) => {
            let mut names: Vec<_> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name())
                .collect();
            names.sort();
            for name in names {
                let child = path.join(&name);
                let child_shown =
                    format!("{}/{}", shown.trim_end_matches('/'), name.to_string_lossy());
                let is_real_dir = std::fs::symlink_metadata(&child)
                    .map(|m| m.is_dir())
                    .unwrap_or(false);
                if is_real_dir {
                    ok &= remove_tree(&child, &child_shown, verbose, ctx);
                } else {
                    match std::fs::remove_file(&child) {
                        Ok(()) => {
                            if verbose {
                                let _ = writeln!(ctx.stdout, "removed {}", quote(&child_shown));
                            }
                        }
                        Err(e) => {
                            let _ = writeln!(
                                ctx.stderr,
                                "rm: cannot remove {}: {}",
                                quote(&child_shown),
                                errno_text(&e)
                            );
                            ok = false;
                        }
                    }
                }
            }
        }
        Err(e) => {
            let _ = writeln!(
                ctx.stderr,
                "rm: cannot remove {}: {}",
                quote(shown),
                errno_text(&e)
            );
            return false;
        }
    }
    if !ok {
        return false;
    }
    match std::fs::remove_dir(path) {
        Ok(()) => {
            if verbose {
                let _ = writeln!(ctx.stdout, "removed directory {}", quote(shown));
            }
            true
        }
        Err(e) => {
            let _ = writeln!(
                ctx.stderr,
                "rm: cannot remove {}: {}",
                quote(shown),
                errno_text(&e)
            );
            false
        }
    }
}

pub(crate) fn rmdir(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "pv",
        with_value: "",
        long: &[
            ("parents", false, 'p'),
            ("verbose", false, 'v'),
            ("ignore-fail-on-non-empty", false, 'I'),
        ],
        stop_at_operand: false,
    };
    let (options, ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("rmdir", &e, ctx.stderr, 1),
    };
    let parents = options.iter().any(|o| o.key == 'p');
    let verbose = options.iter().any(|o| o.key == 'v');
    let ignore_nonempty = options.iter().any(|o| o.key == 'I');
    if ops.is_empty() {
        return opts::usage_error("rmdir", "missing operand", ctx.stderr, 1);
    }
    let mut status = 0;
    for op in &ops {
        let mut current = op.trim_end_matches('/').to_string();
        loop {
            if verbose {
                let _ = writeln!(ctx.stdout, "rmdir: removing directory, {}", quote(&current));
            }
            if let Err(e) = std::fs::remove_dir(resolve(ctx.cwd, &current)) {
                if !(ignore_nonempty && e.kind() == std::io::ErrorKind::DirectoryNotEmpty) {
                    let _ = writeln!(
                        ctx.stderr,
                        "rmdir: failed to remove {}: {}",
                        quote(&current),
                        errno_text(&e)
                    );
                    status = 1;
                }
                break;
            }
            if !parents {
                break;
            }
            match current.rfind('/') {
                Some(i) if i > 0 => current.truncate(i),
                _ => break,
            }
        }
    }
    status
}

/// Parses `touch -t [[CC]YY]MMDDhhmm[.ss]` into epoch seconds.
fn parse_stamp(s: &str) -> Option<i64> {
    let (main, secs) = match s.split_once('.') {
        Some((m, ss)) if ss.len() == 2 => (m, ss.parse::<i64>().ok()?),
        Some(_) => return None,
        None => (s, 0),
    };
    if !main.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let now_year = 1970 + super::date::now_epoch() / 31_556_952;
    let (year, rest) = match main.len() {
        8 => (now_year, main),
        10 => {
            let yy: i64 = main[..2].parse().ok()?;
            (if yy < 69 { 2000 + yy } else { 1900 + yy }, &main[2..])
        }
        12 => (main[..4].parse().ok()?, &main[4..]),
        _ => return None,
    };
    let month: i64 = rest[0..2].parse().ok()?;
    let day: i64 = rest[2..4].parse().ok()?;
    let h: i64 = rest[4..6].parse().ok()?;
    let m: i64 = rest[6..8].parse().ok()?;
    let iso = format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{secs:02}");
    super::date::parse_epoch(&iso)
}

pub(crate) fn touch(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "acmfh",
        with_value: "dtr",
        long: &[
            ("no-create", false, 'c'),
            ("date", true, 'd'),
            ("reference", true, 'r'),
            ("no-dereference", false, 'h'),
            ("time", true, 'T'),
        ],
        stop_at_operand: false,
    };
    let (options, ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("touch", &e, ctx.stderr, 1),
    };
    let mut no_create = false;
    let mut only_a = false;
    let mut only_m = false;
    let mut when: Option<std::time::SystemTime> = None;
    for o in options {
        let v = o.value.unwrap_or_default();
        match o.key {
            'c' => no_create = true,
            'a' => only_a = true,
            'm' => only_m = true,
            'T' => match v.as_str() {
                "access" | "atime" | "use" => only_a = true,
                "modify" | "mtime" => only_m = true,
                _ => {
                    let _ = writeln!(
                        ctx.stderr,
                        "touch: invalid argument {} for '--time'",
                        quote(&v)
                    );
                    return 1;
                }
            },
            'd' => match super::date::parse_epoch(&v) {
                Some(secs) => when = Some(epoch_to_time(secs)),
                None => {
                    let _ = writeln!(ctx.stderr, "touch: invalid date format {}", quote(&v));
                    return 1;
                }
            },
            't' => match parse_stamp(&v) {
                Some(secs) => when = Some(epoch_to_time(secs)),
                None => {
                    let _ = writeln!(ctx.stderr, "touch: invalid date format {}", quote(&v));
                    return 1;
                }
            },
            'r' => match std::fs::metadata(resolve(ctx.cwd, &v)).and_then(|m| m.modified()) {
                Ok(t) => when = Some(t),
                Err(e) => {
                    let _ = writeln!(
                        ctx.stderr,
                        "touch: failed to get attributes of {}: {}",
                        quote(&v),
                        errno_text(&e)
                    );
                    return 1;
                }
            },
            _ => {}
        }
    }
    if ops.is_empty() {
        return opts::usage_error("touch", "missing file operand", ctx.stderr, 1);
    }
    let t = when.unwrap_or_else(std::time::SystemTime::now);
    let mut times = std::fs::FileTimes::new();
    if !only_m || only_a {
        times = times.set_accessed(t);
    }
    if !only_a || only_m {
        times = times.set_modified(t);
    }
    let mut status = 0;
    for op in &ops {
        let path = resolve(ctx.cwd, op);
        let file = if exists_nofollow(&path) || no_create {
            std::fs::File::open(&path)
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
        };
        let result = match file {
            Ok(f) => f.set_times(times),
            Err(e) if no_create && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            let _ = writeln!(
                ctx.stderr,
                "touch: cannot touch {}: {}",
                quote(op),
                errno_text(&e)
            );
            status = 1;
        }
    }
    status
}

fn epoch_to_time(secs: i64) -> std::time::SystemTime {
    let base = std::time::UNIX_EPOCH;
    if secs >= 0 {
        base + std::time::Duration::from_secs(secs.unsigned_abs())
    } else {
        base - std::time::Duration::from_secs(secs.unsigned_abs())
    }
}

/// Copies one file or tree; returns false after reporting a failure.
fn copy_one(
    src: &Path,
    dst: &Path,
    shown_src: &str,
    shown_dst: &str,
    recursive: bool,
    preserve: bool,
    ctx: &mut ToolContext<'_>,
) -> bool {
    let meta = match std::fs::metadata(src) {
        Ok(m) => m,
        Err(e) => {
            let _ = writeln!(
                ctx.stderr,
                "cp: cannot stat {}: {}",
                quote(shown_src),
                errno_text(&e)
            );
            return false;
        }
    };
    if meta.is_dir() {
        if !recursive {
            let _ = writeln!(
                ctx.stderr,
                "cp: -r not specified; omitting directory {}",
                quote(shown_src)
            );
            return false;
        }
        if dst.starts_with(src) {
            let _ = writeln!(
                ctx.stderr,
                "cp: cannot copy a directory, {}, into itself",
                quote(shown_src)
            );
            return false;
        }
        if !is_dir(dst) {
            if let Err(e) = std::fs::create_dir(dst) {
                let _ = writeln!(
                    ctx.stderr,
                    "cp: cannot create directory {}: {}",
                    quote(shown_dst),
                    errno_text(&e)
                );
                return false;
            }
        }
        let mut ok = true;
        let mut names: Vec<_> = match std::fs::read_dir(src) {
            Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.file_name()).collect(),
            Err(e) => {
                let _ = writeln!(
                    ctx.stderr,
                    "cp: cannot access {}: {}",
                    quote(shown_src),
                    errno_text(&e)
                );
                return false;
            }
        };
        names.sort();
        for n in names {
            let shown = format!(
                "{}/{}",
                shown_src.trim_end_matches('/'),
                n.to_string_lossy()
            );
            let shown_child_dst = format!(
                "{}/{}",
                shown_dst.trim_end_matches('/'),
                n.to_string_lossy()
            );
            ok &= copy_one(
                &src.join(&n),
                &dst.join(&n),
                &shown,
                &shown_child_dst,
                recursive,
                preserve,
                ctx,
            );
        }
        return ok;
    }
    // std's canonicalize is unsupported on WASI; without this check `cp f f` would truncate f.
    let canon = |p: &Path| {
        super::paths::canonical(
            Path::new("/"),
            &p.to_string_lossy(),
            super::paths::Need::All,
            false,
        )
    };
    if let (Ok(a), Ok(b)) = (canon(src), canon(dst)) {
        if a == b {
            let _ = writeln!(
                ctx.stderr,
                "cp: {} and {} are the same file",
                quote(shown_src),
                quote(shown_dst)
            );
            return false;
        }
    }
    match std::fs::copy(src, dst) {
        Ok(_) => {
            if preserve {
                if let (Ok(f), Ok(m)) = (std::fs::File::open(dst), meta.modified()) {
                    let _ = f.set_times(std::fs::FileTimes::new().set_modified(m));
                }
            }
            true
        }
        Err(e) => {
            let _ = writeln!(
                ctx.stderr,
                "cp: cannot create regular file {}: {}",
                quote(shown_dst),
                errno_text(&e)
            );
            false
        }
    }
}

/// Splits `cp`/`mv` operands into sources and the destination path for each.
fn targets(
    tool: &str,
    ops: &[String],
    ctx: &mut ToolContext<'_>,
) -> Result<Vec<(String, PathBuf, String)>, i32> {
    match ops.len() {
        0 => Err(opts::usage_error(
            tool,
            "missing file operand",
            ctx.stderr,
            1,
        )),
        1 => {
            let msg = format!("missing destination file operand after {}", quote(&ops[0]));
            Err(opts::usage_error(tool, &msg, ctx.stderr, 1))
        }
        n => {
            let dest = &ops[n - 1];
            let dest_path = resolve(ctx.cwd, dest);
            if is_dir(&dest_path) {
                Ok(ops[..n - 1]
                    .iter()
                    .map(|s| {
                        let name = Path::new(s.trim_end_matches('/'))
                            .file_name()
                            .map(|f| f.to_os_string())
                            .unwrap_or_default();
                        let shown =
                            format!("{}/{}", dest.trim_end_matches('/'), name.to_string_lossy());
                        (s.clone(), dest_path.join(name), shown)
                    })
                    .collect())
            } else if n > 2 {
                let why = if exists_nofollow(&dest_path) {
                    "Not a directory"
                } else {
                    "No such file or directory"
                };
                let _ = writeln!(ctx.stderr, "{tool}: target {}: {why}", quote(dest));
                Err(1)
            } else {
                Ok(vec![(ops[0].clone(), dest_path, dest.clone())])
            }
        }
    }
}

pub(crate) fn cp(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "rRapfvnT",
        with_value: "",
        long: &[
            ("recursive", false, 'r'),
            ("archive", false, 'a'),
            ("force", false, 'f'),
            ("verbose", false, 'v'),
            ("no-clobber", false, 'n'),
            ("preserve", false, 'p'),
        ],
        stop_at_operand: false,
    };
    let (options, ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("cp", &e, ctx.stderr, 1),
    };
    let recursive = options.iter().any(|o| matches!(o.key, 'r' | 'R' | 'a'));
    let preserve = options.iter().any(|o| matches!(o.key, 'p' | 'a'));
    let no_clobber = options.iter().any(|o| o.key == 'n');
    let verbose = options.iter().any(|o| o.key == 'v');
    let pairs = match targets("cp", &ops, ctx) {
        Ok(p) => p,
        Err(s) => return s,
    };
    let mut status = 0;
    for (src, dst, shown_dst) in pairs {
        if no_clobber && exists_nofollow(&dst) {
            continue;
        }
        if !copy_one(
            &resolve(ctx.cwd, &src),
            &dst,
            &src,
            &shown_dst,
            recursive,
            preserve,
            ctx,
        ) {
            status = 1;
        } else if verbose {
            let _ = writeln!(ctx.stdout, "{} -> {}", quote(&src), quote(&shown_dst));
        }
    }
    status
}

pub(crate) fn mv(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "fvnT",
        with_value: "",
        long: &[
            ("force", false, 'f'),
            ("verbose", false, 'v'),
            ("no-clobber", false, 'n'),
        ],
        stop_at_operand: false,
    };
    let (options, ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("mv", &e, ctx.stderr, 1),
    };
    let no_clobber = options.iter().any(|o| o.key == 'n');
    let verbose = options.iter().any(|o| o.key == 'v');
    let pairs = match targets("mv", &ops, ctx) {
        Ok(p) => p,
        Err(s) => return s,
    };
    let mut status = 0;
    for (src, dst, shown_dst) in pairs {
        let from = resolve(ctx.cwd, &src);
        if let Err(e) = std::fs::symlink_metadata(&from) {
            let _ = writeln!(
                ctx.stderr,
                "mv: cannot stat {}: {}",
                quote(&src),
                errno_text(&e)
            );
            status = 1;
            continue;
        }
        if no_clobber && exists_nofollow(&dst) {
            continue;
        }
        let canon = |p: &Path| {
            super::paths::canonical(
                Path::new("/"),
                &p.to_string_lossy(),
                super::paths::Need::All,
                true,
            )
        };
        if let (Ok(a), Ok(b)) = (canon(&from), canon(&dst)) {
            if a == b {
                let _ = writeln!(
                    ctx.stderr,
                    "mv: {} and {} are the same file",
                    quote(&src),
                    quote(&shown_dst)
                );
                status = 1;
                continue;
            }
        }
        match std::fs::rename(&from, &dst) {
            Ok(()) => {
                if verbose {
                    let _ = writeln!(
                        ctx.stdout,
                        "renamed {} -> {}",
                        quote(&src),
                        quote(&shown_dst)
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
                // Across preopened directories: copy, then remove the original.
                if copy_one(&from, &dst, &src, &shown_dst, true, true, ctx) {
                    let removed = if is_dir(&from) {
                        std::fs::remove_dir_all(&from)
                    } else {
                        std::fs::remove_file(&from)
                    };
                    if let Err(e) = removed {
                        let _ = writeln!(
                            ctx.stderr,
                            "mv: cannot remove {}: {}",
                            quote(&src),
                            errno_text(&e)
                        );
                        status = 1;
                    }
                } else {
                    status = 1;
                }
            }
            Err(e) => {
                let _ = writeln!(
                    ctx.stderr,
                    "mv: cannot move {} to {}: {}",
                    quote(&src),
                    quote(&shown_dst),
                    errno_text(&e)
                );
                status = 1;
            }
        }
    }
    status
}

/// Random letters for `mktemp` from the standard library's seeded hasher (WASI `random_get`).
fn random_suffix(n: usize, salt: u64) -> String {
    use std::hash::{BuildHasher, Hasher};
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::new();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(salt);
    let mut v = h.finish();
    for i in 0..n {
        if i % 10 == 9 {
            h.write_u64(v);
            v = h.finish();
        }
        out.push(CHARS[(v % CHARS.len() as u64) as usize] as char);
        v /= CHARS.len() as u64;
    }
    out
}

pub(crate) fn mktemp(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "dqut",
        with_value: "p",
        long: &[
            ("directory", false, 'd'),
            ("quiet", false, 'q'),
            ("dry-run", false, 'u'),
            ("tmpdir", true, 'p'),
            ("suffix", true, 'S'),
        ],
        stop_at_operand: false,
    };
    let (options, ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("mktemp", &e, ctx.stderr, 1),
    };
    let dir_mode = options.iter().any(|o| o.key == 'd');
    let quiet = options.iter().any(|o| o.key == 'q');
    let dry = options.iter().any(|o| o.key == 'u');
    let mut use_tmpdir = options.iter().any(|o| o.key == 't');
    let mut tmpdir: Option<String> = None;
    let mut suffix = String::new();
    for o in &options {
        match o.key {
            'p' => {
                use_tmpdir = true;
                tmpdir = o.value.clone();
            }
            'S' => suffix = o.value.clone().unwrap_or_default(),
            _ => {}
        }
    }
    if ops.len() > 1 {
        let msg = "too many templates".to_string();
        return opts::usage_error("mktemp", &msg, ctx.stderr, 1);
    }
    let template = match ops.first() {
        Some(t) => t.clone(),
        None => {
            use_tmpdir = true;
            "tmp.XXXXXXXXXX".to_string()
        }
    };
    let xs = template.len() - template.trim_end_matches('X').len();
    let (template, suffix) = if xs == 0 && suffix.is_empty() {
        // GNU allows the X's before a suffix only with --suffix; otherwise this is an error.
        (template, String::new())
    } else {
        (template, suffix)
    };
    let xs = template.len() - template.trim_end_matches('X').len();
    if xs < 3 {
        if !quiet {
            let _ = writeln!(
                ctx.stderr,
                "mktemp: too few X's in template {}",
                quote(&template)
            );
        }
        return 1;
    }
    let stem = &template[..template.len() - xs];
    let base_dir = if use_tmpdir {
        let d = tmpdir
            .filter(|d| !d.is_empty())
            .or_else(|| {
                super::getenv(ctx.env, "TMPDIR")
                    .filter(|d| !d.is_empty())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "/tmp".to_string());
        Some(d)
    } else {
        None
    };
    for attempt in 0..100u64 {
        let name = format!("{stem}{}{suffix}", random_suffix(xs, attempt));
        let shown = match &base_dir {
            Some(d) => format!("{}/{}", d.trim_end_matches('/'), name),
            None => name,
        };
        let path = resolve(ctx.cwd, &shown);
        let result = if dry {
            if exists_nofollow(&path) {
                Err(std::io::Error::from(std::io::ErrorKind::AlreadyExists))
            } else {
                Ok(())
            }
        } else if dir_mode {
            std::fs::create_dir(&path)
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map(|_| ())
        };
        match result {
            Ok(()) => {
                return match writeln!(ctx.stdout, "{shown}") {
                    Ok(()) => 0,
                    Err(e) => write_failed("mktemp", &e, ctx.stderr),
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                if !quiet {
                    let what = if dir_mode { "directory" } else { "file" };
                    let _ = writeln!(
                        ctx.stderr,
                        "mktemp: failed to create {what} via template {}: {}",
                        quote(&shown_template(&base_dir, &template)),
                        errno_text(&e)
                    );
                }
                return 1;
            }
        }
    }
    1
}

fn shown_template(base: &Option<String>, template: &str) -> String {
    match base {
        Some(d) => format!("{}/{}", d.trim_end_matches('/'), template),
        None => template.to_string(),
    }
}

pub(crate) fn ls(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "1aAdpFrl",
        with_value: "",
        long: &[
            ("all", false, 'a'),
            ("almost-all", false, 'A'),
            ("directory", false, 'd'),
            ("reverse", false, 'r'),
        ],
        stop_at_operand: false,
    };
    let (options, mut ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("ls", &e, ctx.stderr, 2),
    };
    let mut all = false;
    let mut almost = false;
    let mut dir_only = false;
    let mut slash = false;
    let mut reverse = false;
    for o in &options {
        match o.key {
            'a' => all = true,
            'A' => almost = true,
            'd' => dir_only = true,
            'p' | 'F' => slash = true,
            'r' => reverse = true,
            'l' => {
                let _ = writeln!(
                    ctx.stderr,
                    "ls: the long format (-l) is not available in hookbox's shell"
                );
                return 2;
            }
            _ => {}
        }
    }
    if ops.is_empty() {
        ops.push(".".into());
    }
    let mut status = 0;
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for op in &ops {
        let p = resolve(ctx.cwd, op);
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() && !dir_only => dirs.push(op.clone()),
            Ok(m) => files.push((op.clone(), m.is_dir())),
            Err(e) => {
                let _ = writeln!(
                    ctx.stderr,
                    "ls: cannot access {}: {}",
                    quote(op),
                    errno_text(&e)
                );
                status = 2;
            }
        }
    }
    files.sort();
    dirs.sort();
    if reverse {
        files.reverse();
        dirs.reverse();
    }
    let mut out = String::new();
    for (f, is_d) in &files {
        out.push_str(f);
        if slash && *is_d {
            out.push('/');
        }
        out.push('\n');
    }
    let headers = ops.len() > 1;
    for (i, d) in dirs.iter().enumerate() {
        if headers {
            if i > 0 || !files.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("{d}:\n"));
        }
        let p = resolve(ctx.cwd, d);
        let mut names: Vec<(String, bool)> = match std::fs::read_dir(&p) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .map(|e| {
                    let is_d = e.path().is_dir();
                    (e.file_name().to_string_lossy().into_owned(), is_d)
                })
                .filter(|(n, _)| all || almost || !n.starts_with('.'))
                .collect(),
            Err(e) => {
                let _ = writeln!(
                    ctx.stderr,
                    "ls: cannot open directory {}: {}",
                    quote(d),
                    errno_text(&e)
                );
                status = 2;
                continue;
            }
        };
        if all {
            names.push((".".into(), true));
            names.push(("..".into(), true));
        }
        names.sort_by(|a, b| a.0.cmp(&b.0));
        if reverse {
            names.reverse();
        }
        for (n, is_d) in names {
            out.push_str(&n);
            if slash && is_d {
                out.push('/');
            }
            out.push('\n');
        }
    }
    match ctx.stdout.write_all(out.as_bytes()) {
        Ok(()) => status,
        Err(e) => write_failed("ls", &e, ctx.stderr),
    }
}
