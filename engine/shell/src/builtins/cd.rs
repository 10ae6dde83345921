//! `cd` and `pwd`: the logical directory (`-L`, the default, keeps symlinks in
//! PWD and resolves `..` textually, checking that what precedes it exists) and
//! the physical one (`-P`), CDPATH, and `cd -`.

use crate::io::Io;
use crate::state::Shell;
use std::path::{Component, Path, PathBuf};

impl Shell {
    pub(crate) fn cd_builtin(&mut self, a: &[String], io: &Io) -> i32 {
        let mut physical = false;
        let mut i = 1;
        while let Some(arg) = a.get(i) {
            if arg == "--" {
                i += 1;
                break;
            }
            if arg.len() < 2 || !arg.starts_with('-') {
                break;
            }
            for c in arg[1..].chars() {
                match c {
                    'L' => physical = false,
                    'P' => physical = true,
                    'e' | '@' => {}
                    _ => {
                        self.error_io(io, &format!("cd: -{c}: invalid option"));
                        self.error_io(io, "cd: usage: cd [-L|[-P [-e]] [-@]] [dir]");
                        return 2;
                    }
                }
            }
            i += 1;
        }
        let args = a.get(i..).unwrap_or_default();
        if args.len() > 1 {
            self.error_io(io, "cd: too many arguments");
            return 1;
        }
        let mut print = false;
        let target = match args.first().map(String::as_str) {
            None => match self.get("HOME") {
                Some(h) => h,
                None => {
                    self.error_io(io, "cd: HOME not set");
                    return 1;
                }
            },
            Some("-") => {
                print = true;
                match self.get("OLDPWD").filter(|o| !o.is_empty()) {
                    Some(o) => o,
                    None => {
                        self.error_io(io, "cd: OLDPWD not set");
                        return 1;
                    }
                }
            }
            Some(s) => s.to_string(),
        };
        if target.is_empty() {
            return 0;
        }
        let mut found: Option<PathBuf> = None;
        let first = target.split('/').next().unwrap_or("");
        if !target.starts_with('/') && first != "." && first != ".." {
            let cdpath = self.get("CDPATH").unwrap_or_default();
            if !cdpath.is_empty() {
                for entry in cdpath.split(':') {
                    let base = if entry.is_empty() { "." } else { entry };
                    let cand = Path::new(base).join(&target);
                    if let Ok(p) = self.cd_resolve(&cand, physical) {
                        if p.is_dir() {
                            print |= !entry.is_empty();
                            found = Some(p);
                            break;
                        }
                    }
                }
            }
        }
        let dest = match found {
            Some(p) => p,
            None => match self.cd_resolve(Path::new(&target), physical) {
                Ok(p) if p.is_dir() => p,
                Ok(p) => {
                    let why = match std::fs::metadata(&p) {
                        Ok(_) => "Not a directory",
                        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                            "Permission denied"
                        }
                        Err(_) => "No such file or directory",
                    };
                    self.error_io(io, &format!("cd: {target}: {why}"));
                    return 1;
                }
                Err(why) => {
                    self.error_io(io, &format!("cd: {target}: {why}"));
                    return 1;
                }
            },
        };
        let old = self
            .get("PWD")
            .filter(|p| p.starts_with('/'))
            .unwrap_or_else(|| self.cwd.to_string_lossy().into_owned());
        self.cwd = dest;
        let _ = self.set_var("OLDPWD", old);
        let _ = self.set_var("PWD", self.cwd.to_string_lossy().into_owned());
        if print {
            io.out(format!("{}\n", self.cwd.display()).as_bytes());
        }
        0
    }

    /// The directory `target` names from the current one.
    fn cd_resolve(&self, target: &Path, physical: bool) -> Result<PathBuf, &'static str> {
        let joined = self.cwd.join(target);
        if physical {
            return match std::fs::canonicalize(&joined) {
                Ok(p) => Ok(p),
                // WASI has no realpath: the textual form is the best there is.
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => Ok(lexical(&joined)),
                Err(_) => Err("No such file or directory"),
            };
        }
        let mut out = PathBuf::new();
        for c in joined.components() {
            match c {
                Component::ParentDir => {
                    if !out.is_dir() {
                        return Err("No such file or directory");
                    }
                    out.pop();
                }
                Component::CurDir => {}
                other => out.push(other.as_os_str()),
            }
        }
        Ok(out)
    }

    pub(crate) fn pwd_builtin(&mut self, a: &[String], io: &Io) -> i32 {
        let mut physical = false;
        for arg in a.iter().skip(1) {
            if arg == "--" || arg.len() < 2 || !arg.starts_with('-') {
                break;
            }
            for c in arg[1..].chars() {
                match c {
                    'L' => physical = false,
                    'P' => physical = true,
                    _ => {
                        self.error_io(io, &format!("pwd: -{c}: invalid option"));
                        self.error_io(io, "pwd: usage: pwd [-LP]");
                        return 2;
                    }
                }
            }
        }
        let dir = if physical {
            std::fs::canonicalize(&self.cwd).unwrap_or_else(|_| self.cwd.clone())
        } else {
            self.cwd.clone()
        };
        io.out(format!("{}\n", dir.display()).as_bytes());
        0
    }
}

fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}
