//! `hash` and `type`: the table of remembered command paths (filled when an external command
//! is found in PATH, or by `hash -p`) and the description of what a name would run.

use crate::io::Io;
use crate::state::hash::Hashed;
use crate::state::{Shell, Value};

impl Shell {
    fn path_var(&self) -> Option<String> {
        self.lookup("PATH").and_then(|v| match &v.value {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        })
    }

    /// Every file named `n` in PATH, in PATH order.
    fn path_lookup_all(&self, n: &str) -> Vec<String> {
        let Some(path) = self.path_var() else {
            return Vec::new();
        };
        path.split(':')
            .map(|d| std::path::Path::new(if d.is_empty() { "." } else { d }).join(n))
            .filter(|p| self.cwd.join(p).is_file())
            .map(|p| p.display().to_string())
            .collect()
    }

    /// Drops the entries remembered under another PATH.
    fn forget_stale_hashes(&mut self) {
        if self.builtins.hashed.is_empty() {
            return;
        }
        let now = self.path_var().unwrap_or_default();
        self.builtins.hashed.retain(|h| h.under == now);
    }

    pub fn hashed_path(&self, n: &str) -> Option<&str> {
        let now = self.path_var().unwrap_or_default();
        self.builtins
            .hashed
            .iter()
            .find(|h| h.name == n && h.under == now)
            .map(|h| h.path.as_str())
    }

    /// An external command is about to run: bash remembers where PATH found it.
    pub fn remember_command(&mut self, n: &str) {
        if n.contains('/') {
            return;
        }
        self.forget_stale_hashes();
        if let Some(h) = self.builtins.hashed.iter_mut().find(|h| h.name == n) {
            h.hits += 1;
            return;
        }
        if let Some(p) = self.path_lookup(n) {
            let under = self.path_var().unwrap_or_default();
            self.builtins.hashed.push(Hashed {
                name: n.to_string(),
                path: p,
                hits: 1,
                under,
            });
        }
    }

    pub(super) fn b_hash(&mut self, a: &[String], io: &Io) -> i32 {
        let (mut del, mut list, mut print, mut path) = (false, false, false, None);
        let mut i = 1;
        while let Some(s) = a.get(i) {
            if s == "--" {
                i += 1;
                break;
            }
            if !s.starts_with('-') || s.len() < 2 {
                break;
            }
            let mut chars = s.chars().skip(1);
            while let Some(c) = chars.next() {
                match c {
                    'r' => self.builtins.hashed.clear(),
                    'd' => del = true,
                    'l' => list = true,
                    't' => print = true,
                    'p' => {
                        let rest: String = chars.by_ref().collect();
                        if !rest.is_empty() {
                            path = Some(rest);
                        } else {
                            i += 1;
                            match a.get(i) {
                                Some(p) => path = Some(p.clone()),
                                None => {
                                    self.error_io(io, "hash: -p: option requires an argument");
                                    return 2;
                                }
                            }
                        }
                    }
                    _ => {
                        self.error_io(io, &format!("hash: -{c}: invalid option"));
                        io.err(b"hash: usage: hash [-lr] [-p pathname] [-dt] [name ...]\n");
                        return 2;
                    }
                }
            }
            i += 1;
        }
        self.forget_stale_hashes();
        let under = self.path_var().unwrap_or_default();
        let names = a.get(i..).unwrap_or_default();
        if print && names.is_empty() {
            self.error_io(io, "hash: -t: option requires an argument");
            return 1;
        }
        if names.is_empty() && path.is_none() && !del {
            if a.iter()
                .skip(1)
                .any(|s| s.starts_with('-') && s.contains('r'))
                && !list
            {
                return 0;
            }
            if self.builtins.hashed.is_empty() {
                if !list {
                    io.out(b"hash: hash table empty\n");
                }
                return 0;
            }
            if !list {
                io.out(b"hits\tcommand\n");
            }
            for h in &self.builtins.hashed {
                let line = if list {
                    format!("builtin hash -p {} {}\n", h.path, h.name)
                } else {
                    format!("{:>4}\t{}\n", h.hits, h.path)
                };
                io.out(line.as_bytes());
            }
            return 0;
        }
        let mut st = 0;
        for n in names {
            if let Some(p) = &path {
                self.builtins.hashed.retain(|h| &h.name != n);
                self.builtins.hashed.push(Hashed {
                    name: n.clone(),
                    path: p.clone(),
                    hits: 0,
                    under: under.clone(),
                });
            } else if del {
                let before = self.builtins.hashed.len();
                self.builtins.hashed.retain(|h| &h.name != n);
                if before > 0 && before == self.builtins.hashed.len() {
                    self.error_io(io, &format!("hash: {n}: not found"));
                    st = 1;
                }
            } else if print {
                match self.hashed_path(n) {
                    Some(p) => {
                        let line = if list {
                            format!("builtin hash -p {p} {n}\n")
                        } else if names.len() > 1 {
                            format!("{n}\t{p}\n")
                        } else {
                            format!("{p}\n")
                        };
                        io.out(line.as_bytes());
                    }
                    None => {
                        self.error_io(io, &format!("hash: {n}: not found"));
                        st = 1;
                    }
                }
            } else if n.contains('/')
                || self.functions.funcs.contains_key(n)
                || self.builtin_enabled(n)
            {
                // bash hashes only what a PATH search would find.
            } else {
                match self.path_lookup(n) {
                    Some(p) => {
                        self.builtins.hashed.retain(|h| &h.name != n);
                        self.builtins.hashed.push(Hashed {
                            name: n.clone(),
                            path: p,
                            hits: 0,
                            under: under.clone(),
                        });
                    }
                    None => {
                        self.builtins.hashed.retain(|h| &h.name != n);
                        self.error_io(io, &format!("hash: {n}: not found"));
                        st = 1;
                    }
                }
            }
        }
        st
    }

    pub(super) fn b_type(&mut self, a: &[String], io: &Io) -> i32 {
        let spec = super::args::Spec {
            flags: "aftpP",
            with_value: "",
            usage: "type [-afptP] name [name ...]",
        };
        let Some(parsed) = self.builtin_options(a, &spec, io) else {
            return 2;
        };
        let has = |l: char| parsed.opts.iter().any(|(c, _)| *c == l);
        let (all, kind_only, path_only, force_path, no_funcs) =
            (has('a'), has('t'), has('p'), has('P'), has('f'));
        let mut st = 0;
        for n in parsed.operands {
            if force_path {
                let found = match self.hashed_path(n) {
                    Some(p) => vec![p.to_string()],
                    None if all => self.path_lookup_all(n),
                    None => self.path_lookup(n).into_iter().collect(),
                };
                if found.is_empty() {
                    st = 1;
                }
                for p in found {
                    io.out(format!("{p}\n").as_bytes());
                }
                continue;
            }
            // (kind, description) of every way `n` can run, in bash's order of precedence.
            let mut found: Vec<(&str, String)> = Vec::new();
            if self.opts.expand_aliases {
                if let Some(v) = self.builtins.aliases.get(n) {
                    found.push(("alias", format!("{n} is aliased to `{v}'")));
                }
            }
            if super::KEYWORDS.contains(&n.as_str()) {
                found.push(("keyword", format!("{n} is a shell keyword")));
            }
            if !no_funcs {
                if let Some(def) = self.functions.funcs.get(n) {
                    found.push(("function", format!("{n} is a function\n{def}")));
                }
            }
            if self.builtin_enabled(n) {
                found.push(("builtin", format!("{n} is a shell builtin")));
            }
            let mut files: Vec<(&str, String)> = Vec::new();
            match self.hashed_path(n) {
                Some(p) if !all => files.push(("hashed", p.to_string())),
                _ if all => {
                    for p in self.path_lookup_all(n) {
                        files.push(("file", p));
                    }
                }
                _ => {
                    if let Some(p) = self.path_lookup(n) {
                        files.push(("file", p));
                    }
                }
            }
            if files.is_empty() && crate::tools::find(n).is_some() {
                files.push(("file", n.clone()));
            }
            if found.is_empty() && files.is_empty() {
                if !kind_only && !path_only {
                    self.error_io(io, &format!("{}: {n}: not found", a[0]));
                }
                st = 1;
                continue;
            }
            if path_only {
                // -p names a file only when that is what would run.
                if found.is_empty() || all {
                    for (_, p) in &files {
                        io.out(format!("{p}\n").as_bytes());
                        if !all {
                            break;
                        }
                    }
                }
                continue;
            }
            let shown = found.len() + files.len();
            let take = if all { shown } else { 1 };
            let items = found
                .into_iter()
                .chain(files.into_iter().map(|(k, p)| {
                    let t = if k == "hashed" {
                        format!("{n} is hashed ({p})")
                    } else {
                        format!("{n} is {p}")
                    };
                    ("file", t)
                }))
                .take(take);
            for (k, t) in items {
                let line = if kind_only { k.to_string() } else { t };
                io.out(format!("{line}\n").as_bytes());
            }
        }
        st
    }
}
