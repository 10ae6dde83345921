//! `shopt`: the bash options (`-s`/`-u`/`-q`/`-p`), and with `-o` the `set -o` ones.

use crate::io::Io;
use crate::state::Shell;

/// shopt options with an effect here, besides those in SHOPT_NOOP.
const SHOPT_REAL: &[&str] = &[
    "dotglob",
    "expand_aliases",
    "extdebug",
    "extglob",
    "failglob",
    "globstar",
    "inherit_errexit",
    "lastpipe",
    "nocaseglob",
    "nocasematch",
    "nullglob",
    "xpg_echo",
];

/// The `set -o` option names, in bash's order.
pub const SET_O_NAMES: &[&str] = &[
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

/// shopt options accepted for compatibility; they do not change this shell's behaviour.
const SHOPT_NOOP: &[&str] = &[
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
    "execfail",
    "extquote",
    "force_fignore",
    "globasciiranges",
    "globskipdots",
    "gnu_errfmt",
    "histappend",
    "histreedit",
    "histverify",
    "hostcomplete",
    "huponexit",
    "interactive_comments",
    "lithist",
    "localvar_inherit",
    "localvar_unset",
    "login_shell",
    "mailwarn",
    "no_empty_cmd_completion",
    "noexpand_translation",
    "patsub_replacement",
    "progcomp",
    "progcomp_alias",
    "promptvars",
    "restricted_shell",
    "shift_verbose",
    "sourcepath",
    "varredir_close",
];
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

/// Every shopt name, in bash's order (alphabetical but for autocd).
fn shopt_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = SHOPT_REAL.iter().chain(SHOPT_NOOP).copied().collect();
    v.sort_unstable_by_key(|n| (*n != "autocd", *n));
    v
}

impl Shell {
    /// The state of shopt option `n` (None: no such option).
    pub fn shopt_get(&self, n: &str) -> Option<bool> {
        let o = &self.opts;
        Some(match n {
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
            "extdebug" => o.extdebug,
            _ if SHOPT_NOOP.contains(&n) => o
                .other_shopts
                .get(n)
                .copied()
                .unwrap_or(SHOPT_DEFAULT_ON.contains(&n)),
            _ => return None,
        })
    }

    /// Sets shopt option `n`; false if there is no such option.
    fn shopt_set(&mut self, n: &str, on: bool) -> bool {
        if n == "extdebug" {
            self.set_extdebug(on);
            return true;
        }
        let o = &mut self.opts;
        let slot = match n {
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
            _ => match SHOPT_NOOP.iter().find(|k| **k == n) {
                Some(k) => o.other_shopts.entry(k).or_insert(false),
                None => return false,
            },
        };
        *slot = on;
        true
    }

    /// BASHOPTS: the shopt options that are on.
    pub fn bashopts(&self) -> String {
        shopt_names()
            .into_iter()
            .filter(|n| self.shopt_get(n) == Some(true))
            .collect::<Vec<_>>()
            .join(":")
    }

    pub(super) fn b_shopt(&mut self, a: &[String], io: &Io) -> i32 {
        let (mut set, mut unset, mut query, mut print, mut setopt) =
            (false, false, false, false, false);
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
                    's' => set = true,
                    'u' => unset = true,
                    'q' => query = true,
                    'p' => print = true,
                    'o' => setopt = true,
                    _ => {
                        self.error_io(io, &format!("shopt: -{c}: invalid option"));
                        io.err(b"shopt: usage: shopt [-pqsu] [-o] [optname ...]\n");
                        return 2;
                    }
                }
            }
            i += 1;
        }
        if set && unset {
            self.error_io(
                io,
                "shopt: cannot set and unset shell options simultaneously",
            );
            return 1;
        }
        let names: Vec<String> = a[i..].to_vec();
        let get = |sh: &Self, n: &str| -> Option<bool> {
            if setopt {
                sh.option_enabled(n)
            } else {
                sh.shopt_get(n)
            }
        };
        let line = |n: &str, on: bool| -> String {
            match (print, setopt) {
                (true, true) => format!("set {}o {n}\n", if on { '-' } else { '+' }),
                (true, false) => format!("shopt {} {n}\n", if on { "-s" } else { "-u" }),
                _ => format!("{n:<15}\t{}\n", if on { "on" } else { "off" }),
            }
        };
        if names.is_empty() {
            if query {
                return 0;
            }
            let all: Vec<&str> = if setopt {
                SET_O_NAMES.to_vec()
            } else {
                shopt_names()
            };
            let mut out = String::new();
            for n in all {
                let on = get(self, n).unwrap_or(false);
                // -s / -u alone list the options that are on / off.
                if (set && !on) || (unset && on) {
                    continue;
                }
                out.push_str(&line(n, on));
            }
            io.out(out.as_bytes());
            return 0;
        }
        let mut st = 0;
        for n in &names {
            if set || unset {
                let ok = if setopt {
                    self.set_long_option(n, set)
                } else {
                    self.shopt_set(n, set)
                };
                if !ok {
                    self.error_io(io, &format!("shopt: {n}: invalid shell option name"));
                    st = 1;
                }
                continue;
            }
            match get(self, n) {
                Some(on) => {
                    if !on {
                        st = 1;
                    }
                    if !query {
                        io.out(line(n, on).as_bytes());
                    }
                }
                None => {
                    self.error_io(io, &format!("shopt: {n}: invalid shell option name"));
                    st = 1;
                }
            }
        }
        st
    }
}
