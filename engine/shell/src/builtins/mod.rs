//! Builtin commands. Each takes argv and the fd table and returns a status (or a Flow for
//! `exit`, `return`, `break`, `continue`).

use crate::io::Io;
use crate::state::{Shell, R};

mod vars;

mod alias;
mod args;
pub(crate) mod bind;
mod caller;
mod command;
pub(crate) mod completion;
mod dirs;
mod echo;
mod enable;
mod exec;
mod flow;
mod getopts;
pub mod hash;
pub(crate) mod history;
pub mod jobs;
mod options;
mod printf;
mod read;
mod sleep;
mod source;
mod trap;
mod ulimit;
mod umask;

/// What runs a builtin: argv (the name first) and the fd table in, a status or a Flow out.
type Run = fn(&mut Shell, &[String], &Io) -> R<i32>;

/// One builtin: the name it is called by and what runs it.
struct Builtin {
    name: &'static str,
    run: Run,
}

const fn b(name: &'static str, run: Run) -> Builtin {
    Builtin { name, run }
}

/// Every builtin, once. A name is a builtin exactly when it is here, and runs what is here.
const TABLE: &[Builtin] = &[
    b(crate::syntax::SELECT_BUILTIN, |sh, a, io| {
        Ok(sh.select_turn(a, io))
    }),
    b("echo", |sh, a, io| Ok(sh.b_echo(a, io))),
    b("printf", |sh, a, io| Ok(sh.b_printf(a, io))),
    b("test", |sh, a, io| Ok(sh.test_builtin(a, io))),
    b("[", |sh, a, io| Ok(sh.test_builtin(a, io))),
    b("cd", |sh, a, io| Ok(sh.b_cd(a, io))),
    b("pwd", |sh, a, io| Ok(sh.b_pwd(a, io))),
    b("export", Shell::b_declare_family),
    b("unset", |sh, a, io| Ok(sh.b_unset(a, io))),
    b("readonly", Shell::b_declare_family),
    b("declare", Shell::b_declare_family),
    b("typeset", Shell::b_declare_family),
    b("local", Shell::b_declare_family),
    b("read", |sh, a, io| Ok(sh.b_read(a, io))),
    b("shift", Shell::b_shift),
    b("set", Shell::b_set),
    b("exit", Shell::b_exit),
    b("return", Shell::b_return),
    b("true", |_, _, _| Ok(0)),
    b("false", |_, _, _| Ok(1)),
    b(":", |_, _, _| Ok(0)),
    b("eval", Shell::b_eval),
    b("source", Shell::b_source),
    b(".", Shell::b_source),
    b("command", Shell::b_command),
    b("type", |sh, a, io| Ok(sh.b_type(a, io))),
    b("getopts", |sh, a, io| Ok(sh.b_getopts(a, io))),
    b("trap", |sh, a, io| Ok(sh.b_trap(a, io))),
    b("sleep", Shell::b_sleep),
    b("break", Shell::b_break),
    b("continue", Shell::b_break),
    b("let", Shell::b_let),
    b("shopt", |sh, a, io| Ok(sh.b_shopt(a, io))),
    b("wait", |sh, a, io| Ok(sh.b_wait(a, io))),
    b("alias", |sh, a, io| Ok(sh.b_alias(a, io))),
    b("unalias", |sh, a, io| Ok(sh.b_unalias(a, io))),
    b("builtin", Shell::b_builtin),
    b("exec", Shell::b_exec),
    b("hash", |sh, a, io| Ok(sh.b_hash(a, io))),
    b("umask", |sh, a, io| Ok(sh.b_umask(a, io))),
    // A guest measures no CPU time of its own, and background jobs have finished
    // (builtins/jobs.rs) by the time `jobs` could list them.
    b("times", |_, _, _| Ok(0)),
    b("jobs", |_, _, _| Ok(0)),
    b("kill", Shell::b_kill),
    b("mapfile", |sh, a, io| Ok(sh.b_mapfile(a, io))),
    b("readarray", |sh, a, io| Ok(sh.b_mapfile(a, io))),
    b("pushd", |sh, a, io| Ok(sh.b_dirs(a, io))),
    b("popd", |sh, a, io| Ok(sh.b_dirs(a, io))),
    b("dirs", |sh, a, io| Ok(sh.b_dirs(a, io))),
    b("caller", Shell::b_caller),
    b("enable", |sh, a, io| Ok(sh.b_enable(a, io))),
    b("ulimit", |sh, a, io| Ok(sh.b_ulimit(a, io))),
    b("help", |sh, a, io| Ok(sh.b_help(a, io))),
    b("compgen", |sh, a, io| Ok(sh.b_compgen(a, io))),
    b("complete", |sh, a, io| Ok(sh.b_complete(a, io))),
    b("compopt", |sh, a, io| Ok(sh.b_compopt(a, io))),
    b("history", Shell::b_history),
    b("fc", Shell::b_fc),
    b("bind", |sh, a, io| Ok(sh.b_bind(a, io))),
];

fn lookup(n: &str) -> Option<&'static Builtin> {
    TABLE.iter().find(|b| b.name == n)
}

pub fn is_builtin(n: &str) -> bool {
    lookup(n).is_some()
}

/// POSIX special builtins; in bash mode their prefix assignments are temporary too, so no
/// builtin is treated specially for that purpose.
pub fn is_special(_n: &str) -> bool {
    false
}

impl Shell {
    pub fn builtin(&mut self, argv: Vec<String>, io: &Io) -> R<i32> {
        let Some(name) = argv.first() else {
            return Ok(0);
        };
        if matches!(name.as_str(), "eval" | "source" | ".") && !self.builtins.history.nohist {
            return self.without_history(|sh| sh.builtin(argv, io));
        }
        match lookup(name) {
            Some(b) => (b.run)(self, &argv, io),
            None => {
                self.error_io(io, &format!("{name}: not a shell builtin"));
                Ok(1)
            }
        }
    }

    /// `builtin NAME [ARG...]`: the builtin, even where a function has its name.
    fn b_builtin(&mut self, a: &[String], io: &Io) -> R<i32> {
        if a.len() < 2 {
            return Ok(0);
        }
        if !is_builtin(&a[1]) {
            self.error_io(io, &format!("builtin: {}: not a shell builtin", a[1]));
            return Ok(1);
        }
        self.builtin(a[1..].to_vec(), io)
    }

    /// `declare`, `typeset`, `local`, `export`, `readonly` (builtins/vars.rs); `local -` in
    /// a function saves the shell options for its return.
    fn b_declare_family(&mut self, a: &[String], io: &Io) -> R<i32> {
        if a[0] == "local" && a.iter().skip(1).any(|s| s == "-") && self.calls.func_depth > 0 {
            self.local_options();
            let rest: Vec<String> = a.iter().filter(|s| *s != "-").cloned().collect();
            if rest.len() > 1 {
                return self.b_declare(&rest, &[], io);
            }
            return Ok(0);
        }
        self.b_declare(a, &[], io)
    }
}

/// The reserved words (`enable` refuses them as builtin names).
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done",
    "in", "function", "select", "time", "{", "}", "[[", "]]", "!", "coproc",
];
