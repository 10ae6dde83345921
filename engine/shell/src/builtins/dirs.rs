//! The working directory: `cd`, `pwd`, and the directory stack (`pushd`, `popd`, `dirs`).
//! The shell keeps its directory as a logical path (symlinks kept, as `$PWD` shows it);
//! `-P` resolves it through the file system.

use crate::io::Io;
use std::path::{Path, PathBuf};

use crate::state::Shell;

/// `..` and `.` removed textually, as bash does for logical paths.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

const GETCWD_ERR: &str =
    "error retrieving current directory: getcwd: cannot access parent directories: No such file or directory";

impl Shell {
    /// Changes to `target` (logical unless `physical`), updating PWD and OLDPWD.
    fn change_dir(&mut self, target: &str, physical: bool, io: &Io, who: &str) -> bool {
        let joined = self.cwd.join(target);
        let p = if physical {
            std::fs::canonicalize(&joined).unwrap_or_else(|_| normalize(&joined))
        } else {
            normalize(&joined)
        };
        if !p.is_dir() {
            let why = if p.exists() || joined.exists() {
                "Not a directory"
            } else {
                "No such file or directory"
            };
            self.error_io(io, &format!("{who}: {target}: {why}"));
            return false;
        }
        let old = self.cwd.to_string_lossy().into_owned();
        self.cwd = p;
        let _ = self.set_var("OLDPWD", old);
        let _ = self.set_var("PWD", self.cwd.to_string_lossy().into_owned());
        true
    }

    pub(super) fn b_cd(&mut self, a: &[String], io: &Io) -> i32 {
        let mut physical = false;
        let mut i = 1;
        while let Some(s) = a.get(i) {
            match s.as_str() {
                "--" => {
                    i += 1;
                    break;
                }
                "-" => break,
                _ if s.starts_with('-') && s.len() > 1 => {
                    for c in s.chars().skip(1) {
                        match c {
                            'P' => physical = true,
                            'L' => physical = false,
                            'e' | '@' => {}
                            _ => {
                                self.error_io(io, &format!("cd: -{c}: invalid option"));
                                io.err(b"cd: usage: cd [-L|[-P [-e]] [-@]] [dir]\n");
                                return 2;
                            }
                        }
                    }
                }
                _ => break,
            }
            i += 1;
        }
        let args = a.get(i..).unwrap_or_default();
        if args.len() > 1 {
            self.error_io(io, "cd: too many arguments");
            return 1;
        }
        let mut print = false;
        let target = match args.first().map(|s| s.as_str()) {
            None => match self.get("HOME") {
                Some(h) => h,
                None => {
                    self.error_io(io, "cd: HOME not set");
                    return 1;
                }
            },
            Some("-") => {
                print = true;
                match self.get("OLDPWD").filter(|s| !s.is_empty()) {
                    Some(h) => h,
                    None => {
                        self.error_io(io, "cd: OLDPWD not set");
                        return 1;
                    }
                }
            }
            Some(s) => {
                // A relative name not starting with `.` is looked up in CDPATH first.
                let mut t = s.to_string();
                if !s.starts_with('/') && !s.starts_with('.') {
                    if let Some(cdpath) = self.get("CDPATH").filter(|c| !c.is_empty()) {
                        for d in cdpath.split(':') {
                            if d.is_empty() {
                                continue;
                            }
                            let cand = self.cwd.join(d).join(s);
                            if cand.is_dir() {
                                t = cand.to_string_lossy().into_owned();
                                print = true;
                                break;
                            }
                        }
                    }
                }
                t
            }
        };
        if !self.change_dir(&target, physical, io, "cd") {
            return 1;
        }
        if print {
            io.out(format!("{}\n", self.cwd.display()).as_bytes());
        }
        0
    }

    pub(super) fn b_pwd(&mut self, a: &[String], io: &Io) -> i32 {
        let spec = super::args::Spec {
            flags: "LP",
            with_value: "",
            usage: "pwd [-LP]",
        };
        let Some(parsed) = self.builtin_options(a, &spec, io) else {
            return 2;
        };
        // The last of -L and -P counts.
        let physical = parsed.opts.last().is_some_and(|(c, _)| *c == 'P');
        if !physical {
            io.out(format!("{}\n", self.cwd.display()).as_bytes());
            return 0;
        }
        match std::fs::canonicalize(&self.cwd) {
            Ok(p) => {
                io.out(format!("{}\n", p.display()).as_bytes());
                0
            }
            Err(_) if !self.cwd.exists() => {
                self.error_io_bare(io, &format!("pwd: {GETCWD_ERR}"));
                1
            }
            // A guest may not resolve paths: the logical one is the best answer there.
            Err(_) => {
                io.out(format!("{}\n", self.cwd.display()).as_bytes());
                0
            }
        }
    }

    /// An error with no `bash: line N:` prefix (bash's getcwd message has none).
    fn error_io_bare(&self, io: &Io, msg: &str) {
        io.err(format!("{msg}\n").as_bytes());
    }

    /// The stack as bash numbers it: the current directory, then the saved ones.
    fn stack(&self) -> Vec<PathBuf> {
        let mut s = vec![self.cwd.clone()];
        s.extend(self.builtins.dirstack.iter().rev().cloned());
        s
    }

    /// `~+N` (from the top) or `~-N` (from the bottom) of the directory stack.
    pub fn dir_stack_entry(&self, from_top: bool, n: usize) -> Option<String> {
        let s = self.stack();
        let i = if from_top {
            n
        } else {
            s.len().checked_sub(n + 1)?
        };
        s.get(i).map(|p| p.display().to_string())
    }

    fn set_stack(&mut self, s: Vec<PathBuf>) {
        self.builtins.dirstack = s.into_iter().skip(1).rev().collect();
    }

    fn tilde(&self, p: &Path) -> String {
        let s = p.display().to_string();
        let home = self.lookup("HOME").and_then(|v| match &v.value {
            Some(crate::state::Value::Str(h)) => Some(h.clone()),
            _ => None,
        });
        if let Some(h) = home.filter(|h| !h.is_empty() && h != "/") {
            if s == h {
                return "~".into();
            }
            if let Some(rest) = s.strip_prefix(&format!("{h}/")) {
                return format!("~/{rest}");
            }
        }
        s
    }

    /// `+N`/`-N` as an index into a stack of `len` entries.
    fn stack_index(spec: &str, len: usize) -> Option<usize> {
        let n: usize = spec.get(1..)?.parse().ok()?;
        match spec.as_bytes().first()? {
            b'+' if n < len => Some(n),
            b'-' if n < len => Some(len - 1 - n),
            _ => None,
        }
    }

    pub(super) fn b_dirs(&mut self, a: &[String], io: &Io) -> i32 {
        match a.first().map(|s| s.as_str()) {
            Some("pushd") => self.b_pushd(a, io),
            Some("popd") => self.b_popd(a, io),
            _ => self.b_dirs_list(a, io),
        }
    }

    fn b_dirs_list(&mut self, a: &[String], io: &Io) -> i32 {
        let (mut long, mut per_line, mut verbose) = (false, false, false);
        let mut pick = None;
        for s in a.iter().skip(1) {
            if (s.starts_with('+') || s.starts_with('-'))
                && s.len() > 1
                && s[1..].parse::<usize>().is_ok()
            {
                pick = Some(s.clone());
                continue;
            }
            match s.as_str() {
                "-c" => {
                    self.builtins.dirstack.clear();
                    return 0;
                }
                "-l" => long = true,
                "-p" => per_line = true,
                "-v" => {
                    verbose = true;
                    per_line = true;
                }
                _ => {
                    self.error_io(io, &format!("dirs: {s}: invalid option"));
                    io.err(b"dirs: usage: dirs [-clpv] [+N] [-N]\n");
                    return 2;
                }
            }
        }
        let stack = self.stack();
        let show = |p: &Path| {
            if long {
                p.display().to_string()
            } else {
                self.tilde(p)
            }
        };
        if let Some(spec) = pick {
            let Some(i) = Self::stack_index(&spec, stack.len()) else {
                self.error_io(
                    io,
                    &format!("dirs: {}: directory stack index out of range", &spec[1..]),
                );
                return 1;
            };
            let p = stack.get(i).map(|p| show(p)).unwrap_or_default();
            io.out(format!("{p}\n").as_bytes());
            return 0;
        }
        let items: Vec<String> = stack.iter().map(|p| show(p)).collect();
        let out = if verbose {
            items
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{i:2}  {p}\n"))
                .collect::<String>()
        } else if per_line {
            items.iter().map(|p| format!("{p}\n")).collect()
        } else {
            format!("{}\n", items.join(" "))
        };
        io.out(out.as_bytes());
        0
    }

    fn print_stack(&self, io: &Io) {
        let items: Vec<String> = self.stack().iter().map(|p| self.tilde(p)).collect();
        io.out(format!("{}\n", items.join(" ")).as_bytes());
    }

    fn b_pushd(&mut self, a: &[String], io: &Io) -> i32 {
        let mut no_cd = false;
        let mut arg = None;
        for s in a.iter().skip(1) {
            match s.as_str() {
                "-n" => no_cd = true,
                "--" => {}
                _ => arg = Some(s.clone()),
            }
        }
        let mut stack = self.stack();
        match arg {
            None => {
                if stack.len() < 2 {
                    self.error_io(io, "pushd: no other directory");
                    return 1;
                }
                stack.swap(0, 1);
            }
            Some(spec)
                if (spec.starts_with('+') || spec.starts_with('-'))
                    && spec.len() > 1
                    && spec[1..].parse::<usize>().is_ok() =>
            {
                let Some(i) = Self::stack_index(&spec, stack.len()) else {
                    self.error_io(
                        io,
                        &format!("pushd: {}: directory stack index out of range", &spec[1..]),
                    );
                    return 1;
                };
                stack.rotate_left(i);
            }
            Some(dir) => {
                if no_cd {
                    let p = normalize(&self.cwd.join(&dir));
                    stack.insert(1, p);
                    self.set_stack(stack);
                    self.print_stack(io);
                    return 0;
                }
                let old = self.cwd.clone();
                if !self.change_dir(&dir, false, io, "pushd") {
                    return 1;
                }
                self.builtins.dirstack.push(old);
                self.print_stack(io);
                return 0;
            }
        }
        if !no_cd {
            let top = stack.first().cloned().unwrap_or_default();
            if !self.change_dir(&top.to_string_lossy(), false, io, "pushd") {
                return 1;
            }
        } else if let Some(cwd) = stack.first_mut() {
            // -n keeps the directory: only the saved entries move.
            *cwd = self.cwd.clone();
        }
        self.set_stack(stack);
        self.print_stack(io);
        0
    }

    fn b_popd(&mut self, a: &[String], io: &Io) -> i32 {
        let mut no_cd = false;
        let mut spec = None;
        for s in a.iter().skip(1) {
            match s.as_str() {
                "-n" => no_cd = true,
                "--" => {}
                _ => spec = Some(s.clone()),
            }
        }
        let mut stack = self.stack();
        if stack.len() < 2 {
            self.error_io(io, "popd: directory stack empty");
            return 1;
        }
        let i = match &spec {
            None => usize::from(no_cd),
            Some(s) => match Self::stack_index(s, stack.len()) {
                Some(i) => i,
                None => {
                    self.error_io(
                        io,
                        &format!(
                            "popd: {}: directory stack index out of range",
                            s.get(1..).unwrap_or(s)
                        ),
                    );
                    return 1;
                }
            },
        };
        stack.remove(i);
        if i == 0 && !no_cd {
            let top = stack.first().cloned().unwrap_or_default();
            if !self.change_dir(&top.to_string_lossy(), false, io, "popd") {
                return 1;
            }
        } else if let Some(c) = stack.first_mut() {
            *c = self.cwd.clone();
        }
        self.set_stack(stack);
        self.print_stack(io);
        0
    }
}
