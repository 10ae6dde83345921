//! `enable` (turning builtins off and on, listing them) and `help` for names it does not know.

use crate::io::Io;
use crate::state::Shell;

/// bash 5.2's builtins, in the order `enable` lists them.
pub(crate) const BASH_BUILTINS: &[&str] = &[
    ".",
    ":",
    "[",
    "alias",
    "bg",
    "bind",
    "break",
    "builtin",
    "caller",
    "cd",
    "command",
    "compgen",
    "complete",
    "compopt",
    "continue",
    "declare",
    "dirs",
    "disown",
    "echo",
    "enable",
    "eval",
    "exec",
    "exit",
    "export",
    "false",
    "fc",
    "fg",
    "getopts",
    "hash",
    "help",
    "history",
    "jobs",
    "kill",
    "let",
    "local",
    "logout",
    "mapfile",
    "popd",
    "printf",
    "pushd",
    "pwd",
    "read",
    "readarray",
    "readonly",
    "return",
    "set",
    "shift",
    "shopt",
    "source",
    "suspend",
    "test",
    "times",
    "trap",
    "true",
    "type",
    "typeset",
    "ulimit",
    "umask",
    "unalias",
    "unset",
    "wait",
];

/// POSIX special builtins, as `enable -s` lists them.
const SPECIAL: &[&str] = &[
    ".", ":", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set",
    "shift", "source", "times", "trap", "unset",
];

impl Shell {
    /// Whether `n` runs as a builtin here (it is one, and `enable -n` has not turned it off).
    pub fn builtin_enabled(&self, n: &str) -> bool {
        super::is_builtin(n) && !self.builtins.disabled_builtins.iter().any(|d| d == n)
    }

    pub(super) fn b_enable(&mut self, a: &[String], io: &Io) -> i32 {
        let (mut off, mut all, mut special) = (false, false, false);
        let mut i = 1;
        while let Some(s) = a.get(i) {
            if s == "--" {
                i += 1;
                break;
            }
            if !s.starts_with('-') || s.len() < 2 {
                break;
            }
            for c in s.chars().skip(1) {
                match c {
                    'n' => off = true,
                    'a' => all = true,
                    's' => special = true,
                    'p' => {}
                    'f' | 'd' => {
                        self.error_io(io, "enable: dynamic loading not supported");
                        return 1;
                    }
                    _ => {
                        self.error_io(io, &format!("enable: -{c}: invalid option"));
                        io.err(b"enable: usage: enable [-a] [-dnps] [-f filename] [name ...]\n");
                        return 2;
                    }
                }
            }
            i += 1;
        }
        let names = a.get(i..).unwrap_or_default();
        if names.is_empty() {
            let list: &[&str] = if special { SPECIAL } else { BASH_BUILTINS };
            for n in list {
                let on = !self.builtins.disabled_builtins.iter().any(|d| d == n);
                // -n lists the disabled ones, -a all, neither the enabled ones.
                if all || on != off {
                    let line = if on {
                        format!("enable {n}\n")
                    } else {
                        format!("enable -n {n}\n")
                    };
                    io.out(line.as_bytes());
                }
            }
            return 0;
        }
        let mut st = 0;
        for n in names {
            if !super::is_builtin(n) {
                self.error_io(io, &format!("enable: {n}: not a shell builtin"));
                st = 1;
                continue;
            }
            self.builtins.disabled_builtins.retain(|d| d != n);
            if off {
                self.builtins.disabled_builtins.push(n.clone());
            }
        }
        st
    }

    pub(super) fn b_help(&mut self, a: &[String], io: &Io) -> i32 {
        let topics: Vec<&String> = a.iter().skip(1).filter(|s| !s.starts_with('-')).collect();
        let known = |n: &str| super::is_builtin(n) || super::KEYWORDS.contains(&n);
        // Fails only when no topic matches (the help texts themselves are not bundled).
        if topics.is_empty() || topics.iter().any(|n| known(n)) {
            return 0;
        }
        for n in topics {
            self.error_io(
                io,
                &format!(
                    "help: no help topics match `{n}'.  Try `help help' or `man -k {n}' or `info {n}'."
                ),
            );
        }
        1
    }
}
