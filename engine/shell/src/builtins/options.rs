//! Shell options: the `set` and `shopt` builtins, `$-`, and the `set -o` table that `[[ -o ]]`
//! and `shopt -o` read. Options that change nothing in this interpreter (`emacs`, `monitor`,
//! `checkwinsize`, ...) are still recorded, so scripts can set and read them back as in bash.

use crate::io::Io;
use crate::state::{Shell, R};

/// Every `set -o` name, in the (alphabetical) order bash lists them.
pub(crate) const SET_O: &[&str] = &[
    "allexport",
    "braceexpand",
    "emacs",
    "errexit",
    "errtrace",
    "functrace",
    "hashall",
    "histexpand",
    "history",
    "ignoreeof",
    "interactive-comments",
    "keyword",
    "monitor",
    "noclobber",
    "noexec",
    "noglob",
    "nolog",
    "notify",
    "nounset",
    "onecmd",
    "physical",
    "pipefail",
    "posix",
    "privileged",
    "verbose",
    "vi",
    "xtrace",
];

/// The single-letter options, in the order bash shows them in `$-`.
const FLAGS: &[(char, &str)] = &[
    ('a', "allexport"),
    ('b', "notify"),
    ('e', "errexit"),
    ('f', "noglob"),
    ('h', "hashall"),
    ('k', "keyword"),
    ('m', "monitor"),
    ('n', "noexec"),
    ('p', "privileged"),
    ('t', "onecmd"),
    ('u', "nounset"),
    ('v', "verbose"),
    ('x', "xtrace"),
    ('B', "braceexpand"),
    ('C', "noclobber"),
    ('E', "errtrace"),
    ('H', "histexpand"),
    ('P', "physical"),
    ('T', "functrace"),
];

/// Every `shopt` name, in the order bash lists them.
pub(crate) const SHOPT: &[&str] = &[
    "autocd",
    "assoc_expand_once",
    "cdable_vars",
    "cdspell",
    "checkhash",
    "checkjobs",
    "checkwinsize",
    "cmdhist",
    "compat31",
    "compat32",
    "compat40",
    "compat41",
    "compat42",
    "compat43",
    "compat44",
    "complete_fullquote",
    "direxpand",
    "dirspell",
    "dotglob",
    "execfail",
    "expand_aliases",
    "extdebug",
    "extglob",
    "extquote",
    "failglob",
    "force_fignore",
    "globasciiranges",
    "globskipdots",
    "globstar",
    "gnu_errfmt",
    "histappend",
    "histreedit",
    "histverify",
    "hostcomplete",
    "huponexit",
    "inherit_errexit",
    "interactive_comments",
    "lastpipe",
    "lithist",
    "localvar_inherit",
    "localvar_unset",
    "login_shell",
    "mailwarn",
    "no_empty_cmd_completion",
    "nocaseglob",
    "nocasematch",
    "noexpand_translation",
    "nullglob",
    "patsub_replacement",
    "progcomp",
    "progcomp_alias",
    "promptvars",
    "restricted_shell",
    "shift_verbose",
    "sourcepath",
    "varredir_close",
    "xpg_echo",
];

/// `shopt` options that are on in a fresh non-interactive bash.
const SHOPT_DEFAULT_ON: &[&str] = &[
    "checkwinsize",
    "cmdhist",
    "complete_fullquote",
    "extquote",
    "force_fignore",
    "globasciiranges",
    "globskipdots",
    "hostcomplete",
    "interactive_comments",
    "patsub_replacement",
    "progcomp",
    "promptvars",
    "sourcepath",
];

fn on_off(v: bool) -> &'static str {
    if v {
        "on"
    } else {
        "off"
    }
}

impl Shell {
    /// The state of a `set -o` option, or None for an unknown name.
    pub fn set_option_value(&self, name: &str) -> Option<bool> {
        let o = &self.opts;
        Some(match name {
            "errexit" => o.errexit,
            "nounset" => o.nounset,
            "pipefail" => o.pipefail,
            "xtrace" => o.xtrace,
            "noglob" => o.noglob,
            "noclobber" => o.noclobber,
            "allexport" => o.allexport,
            "noexec" => o.noexec,
            "verbose" => o.verbose,
            "braceexpand" => !o.no_braceexpand,
            "history" => self.builtins.history.on,
            _ => {
                let key = SET_O.iter().find(|k| **k == name)?;
                let default = matches!(name, "hashall" | "interactive-comments");
                o.other_shopts.get(key).copied().unwrap_or(default)
            }
        })
    }

    pub fn set_long_option(&mut self, o: &str, on: bool) -> bool {
        let op = &mut self.opts;
        match o {
            "errexit" => op.errexit = on,
            "nounset" => op.nounset = on,
            "pipefail" => op.pipefail = on,
            "xtrace" => op.xtrace = on,
            "noglob" => op.noglob = on,
            "noclobber" => op.noclobber = on,
            "allexport" => op.allexport = on,
            "noexec" => op.noexec = on,
            "verbose" => op.verbose = on,
            "braceexpand" => op.no_braceexpand = !on,
            "history" => self.set_history_option(on),
            _ => {
                let Some(key) = SET_O.iter().find(|k| **k == o) else {
                    return false;
                };
                // The two line-editing modes exclude each other.
                match *key {
                    "emacs" if on => {
                        op.other_shopts.insert("vi", false);
                    }
                    "vi" if on => {
                        op.other_shopts.insert("emacs", false);
                    }
                    _ => {}
                }
                op.other_shopts.insert(key, on);
            }
        }
        true
    }

    /// `$SHELLOPTS`: the `set -o` options that are on.
    pub fn shellopts(&self) -> String {
        let on: Vec<&str> = SET_O
            .iter()
            .copied()
            .filter(|n| self.set_option_value(n) == Some(true))
            .collect();
        on.join(":")
    }

    /// `set -t`: the shell exits after the command it has just run.
    pub fn one_command_done(&self) -> bool {
        self.opts.other_shopts.get("onecmd") == Some(&true)
    }

    /// `$-`: the single-letter options that are on, then `c`/`s` for how the script came in.
    pub fn option_flags(&self) -> String {
        let mut f: String = FLAGS
            .iter()
            .filter(|(_, n)| self.set_option_value(n).unwrap_or(false))
            .map(|(c, _)| *c)
            .collect();
        if let Some(c) = self.opts.invocation_flag {
            f.push(c);
        }
        f
    }

    /// Whether the `shopt` option `n` is on (false for names `shopt` does not know).
    pub(crate) fn shopt_is_on(&self, n: &str) -> bool {
        let o = &self.opts;
        match n {
            "nullglob" => o.nullglob,
            "failglob" => o.failglob,
            "extglob" => o.extglob,
            "dotglob" => o.dotglob,
            "nocaseglob" => o.nocaseglob,
            "nocasematch" => o.nocasematch,
            "lastpipe" => o.lastpipe,
            "expand_aliases" => o.expand_aliases,
            "globstar" => o.globstar,
            "xpg_echo" => o.xpg_echo,
            "inherit_errexit" => o.inherit_errexit,
            _ => {
                SHOPT.contains(&n)
                    && o.other_shopts
                        .get(n)
                        .copied()
                        .unwrap_or(SHOPT_DEFAULT_ON.contains(&n))
            }
        }
    }

    /// Every `shopt` option that is on, in name order.
    pub(crate) fn shopts_on(&self) -> Vec<&'static str> {
        let mut on: Vec<&'static str> = SHOPT
            .iter()
            .copied()
            .filter(|n| self.shopt_is_on(n))
            .collect();
        on.sort_unstable();
        on
    }

    fn shopt_slot(&mut self, n: &str) -> Option<&mut bool> {
        let o = &mut self.opts;
        Some(match n {
            "nullglob" => &mut o.nullglob,
            "failglob" => &mut o.failglob,
            "extglob" => &mut o.extglob,
            "dotglob" => &mut o.dotglob,
            "nocaseglob" => &mut o.nocaseglob,
            "nocasematch" => &mut o.nocasematch,
            "lastpipe" => &mut o.lastpipe,
            "expand_aliases" => &mut o.expand_aliases,
            "globstar" => &mut o.globstar,
            "xpg_echo" => &mut o.xpg_echo,
            "inherit_errexit" => &mut o.inherit_errexit,
            _ => {
                let key = SHOPT.iter().find(|k| **k == n)?;
                o.other_shopts
                    .entry(key)
                    .or_insert(SHOPT_DEFAULT_ON.contains(&n))
            }
        })
    }

    pub(super) fn b_set(&mut self, a: &[String], io: &Io) -> R<i32> {
        if a.len() == 1 {
            self.print_set_vars(io);
            return Ok(0);
        }
        let mut i = 1;
        while let Some(s) = a.get(i) {
            if s == "--" {
                self.positional = a.get(i + 1..).unwrap_or_default().to_vec();
                return Ok(0);
            }
            if s == "-" {
                // `set -` turns off -x and -v; the words after it (if any) become the
                // positional parameters.
                self.opts.xtrace = false;
                self.opts.verbose = false;
                if a.len() > i + 1 {
                    self.positional = a.get(i + 1..).unwrap_or_default().to_vec();
                }
                return Ok(0);
            }
            if s == "+" {
                // A lone `+` is an empty flag word: ignored.
                i += 1;
                continue;
            }
            if !((s.starts_with('-') || s.starts_with('+')) && s.len() > 1) {
                self.positional = a.get(i..).unwrap_or_default().to_vec();
                return Ok(0);
            }
            let on = s.starts_with('-');
            for c in s.chars().skip(1) {
                if c == 'o' {
                    match a.get(i + 1) {
                        Some(o) => {
                            i += 1;
                            if !self.set_long_option(o, on) {
                                self.error_io(io, &format!("set: {o}: invalid option name"));
                                return Ok(2);
                            }
                        }
                        None => self.list_set_o(on, None, io),
                    }
                    continue;
                }
                let Some((_, name)) = FLAGS.iter().find(|(f, _)| *f == c) else {
                    let sign = if on { '-' } else { '+' };
                    self.error_io(io, &format!("set: {sign}{c}: invalid option"));
                    self.error_io_raw(
                        io,
                        "set: usage: set [-abefhkmnptuvxBCEHPT] [-o option-name] [--] [-] [arg ...]",
                    );
                    return Ok(2);
                };
                self.set_long_option(name, on);
            }
            i += 1;
        }
        Ok(0)
    }

    /// Writes a line to stderr with no `bash: line N:` prefix (usage lines).
    fn error_io_raw(&self, io: &Io, msg: &str) {
        io.err(format!("{msg}\n").as_bytes());
    }

    /// `set -o` (table) or `set +o` (commands) for `names`, or for all options.
    fn list_set_o(&self, table: bool, names: Option<&[&str]>, io: &Io) {
        for n in names.unwrap_or(SET_O) {
            let v = self.set_option_value(n).unwrap_or(false);
            if table {
                io.out(format!("{n:<15}\t{}\n", on_off(v)).as_bytes());
            } else {
                io.out(format!("set {}o {n}\n", if v { '-' } else { '+' }).as_bytes());
            }
        }
    }

    /// `set` with no arguments: every variable as an assignment bash could read back.
    fn print_set_vars(&self, io: &Io) {
        let mut all: std::collections::BTreeMap<&String, &crate::state::Var> = Default::default();
        for s in &self.scopes {
            all.extend(s.iter());
        }
        for (n, v) in all {
            let line = match &v.value {
                Some(crate::state::Value::Str(s)) => {
                    format!("{n}={}", crate::quote::sq_if_needed(s))
                }
                None => continue,
                Some(_) => {
                    // `declare -a x=(...)` -> `x=(...)`.
                    let line = self.declare_line(n);
                    match line.strip_prefix("declare ") {
                        Some(r) => r
                            .split_once(' ')
                            .map(|(_, r)| r.to_string())
                            .unwrap_or(line),
                        None => line,
                    }
                }
            };
            io.out(format!("{line}\n").as_bytes());
        }
    }

    pub(super) fn b_shopt(&mut self, a: &[String], io: &Io) -> i32 {
        let mut set = None;
        let mut query = false;
        let mut print = false;
        let mut set_o = false;
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
                    's' => set = Some(true),
                    'u' => set = Some(false),
                    'q' => query = true,
                    'p' => print = true,
                    'o' => set_o = true,
                    _ => {
                        self.error_io(io, &format!("shopt: -{c}: invalid option"));
                        self.error_io_raw(io, "shopt: usage: shopt [-pqsu] [-o] [optname ...]");
                        return 2;
                    }
                }
            }
            i += 1;
        }
        let names: Vec<String> = a.get(i..).unwrap_or_default().to_vec();
        let all: &[&str] = if set_o { SET_O } else { SHOPT };
        let mut st = 0;
        if names.is_empty() {
            if set.is_some() {
                // `shopt -s` alone lists the options that are on (`-u`: off).
                let want = set.unwrap_or(true);
                for n in all {
                    let v = self.shopt_value(n, set_o);
                    if v == want && !query {
                        self.print_shopt(n, v, print, set_o, io);
                    }
                }
                return 0;
            }
            for n in all {
                let v = self.shopt_value(n, set_o);
                if !query {
                    self.print_shopt(n, v, print, set_o, io);
                }
            }
            return 0;
        }
        for n in &names {
            let known = if set_o {
                SET_O.contains(&n.as_str())
            } else {
                SHOPT.contains(&n.as_str())
            };
            if !known {
                let what = if set_o {
                    "option name"
                } else {
                    "shell option name"
                };
                self.error_io(io, &format!("shopt: {n}: invalid {what}"));
                st = 1;
                continue;
            }
            match set {
                Some(v) => {
                    if set_o {
                        self.set_long_option(n, v);
                    } else if let Some(slot) = self.shopt_slot(n) {
                        *slot = v;
                        if n == "extdebug" {
                            self.extdebug_changed(v);
                        }
                    }
                }
                None => {
                    let v = self.shopt_value(n, set_o);
                    if !v {
                        st = 1;
                    }
                    if !query {
                        self.print_shopt(n, v, print, set_o, io);
                    }
                }
            }
        }
        st
    }

    fn shopt_value(&mut self, n: &str, set_o: bool) -> bool {
        if set_o {
            self.set_option_value(n).unwrap_or(false)
        } else {
            self.shopt_slot(n).map(|v| *v).unwrap_or(false)
        }
    }

    fn print_shopt(&self, n: &str, v: bool, print: bool, set_o: bool, io: &Io) {
        let line = match (print, set_o) {
            (false, _) => format!("{n:<15}\t{}\n", on_off(v)),
            (true, true) => format!("set {}o {n}\n", if v { '-' } else { '+' }),
            (true, false) => format!("shopt {} {n}\n", if v { "-s" } else { "-u" }),
        };
        io.out(line.as_bytes());
    }

    /// `local -`: the options are restored when the current function returns.
    pub(super) fn local_options(&mut self) {
        let depth = self.calls.func_depth;
        if !self.opts.saved_by_local.iter().any(|(d, _)| *d == depth) {
            let mut snap = self.opts.clone();
            snap.saved_by_local.clear();
            self.opts.saved_by_local.push((depth, Box::new(snap)));
        }
    }

    pub fn restore_local_options(&mut self) {
        let depth = self.calls.func_depth;
        if self
            .opts
            .saved_by_local
            .last()
            .is_some_and(|(d, _)| *d == depth)
        {
            if let Some((_, snap)) = self.opts.saved_by_local.pop() {
                let stack = std::mem::take(&mut self.opts.saved_by_local);
                self.opts = *snap;
                self.opts.saved_by_local = stack;
            }
        }
    }
}
