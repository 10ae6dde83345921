//! Builtin commands. Each takes argv and the fd table and returns a status (or a Flow for
//! `exit`, `return`, `break`, `continue`).

use crate::io::Io;
use crate::state::{ElemKey, Flow, Shell, Value, R};

mod vars;
pub(crate) use vars::{assoc_key_text, dq_value, value_text};

mod alias;
pub(crate) mod bind;
mod caller;
pub(crate) mod completion;
mod dirs;
mod enable;
mod exec;
mod flow;
mod getopts;
pub mod hash;
pub(crate) mod history;
pub mod jobs;
mod options;
mod printf;
mod sleep;
mod source;
mod trap;
mod ulimit;
mod umask;
pub(crate) use umask::DEFAULT_UMASK;

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
        if matches!(name.as_str(), "eval" | "source" | ".") && !self.history.nohist {
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
        if a[0] == "local" && a.iter().skip(1).any(|s| s == "-") && self.func_depth > 0 {
            self.local_options();
            let rest: Vec<String> = a.iter().filter(|s| *s != "-").cloned().collect();
            if rest.len() > 1 {
                return self.b_declare(&rest, &[], io);
            }
            return Ok(0);
        }
        self.b_declare(a, &[], io)
    }

    fn b_echo(&mut self, a: &[String], io: &Io) -> i32 {
        let mut i = 1;
        let mut newline = true;
        let mut escapes = self.opts.xpg_echo;
        while i < a.len() {
            let s = &a[i];
            if s.len() > 1
                && s.starts_with('-')
                && s[1..].chars().all(|c| matches!(c, 'n' | 'e' | 'E'))
            {
                for c in s[1..].chars() {
                    match c {
                        'n' => newline = false,
                        'e' => escapes = true,
                        _ => escapes = false,
                    }
                }
                i += 1;
            } else {
                break;
            }
        }
        let mut out = String::new();
        for (k, s) in a[i..].iter().enumerate() {
            if k > 0 {
                out.push(' ');
            }
            if escapes {
                let (d, stop) = crate::expand::decode_echo_escapes(s);
                out.push_str(&d);
                if stop {
                    io.out(out.as_bytes());
                    return 0;
                }
            } else {
                out.push_str(s);
            }
        }
        if newline {
            out.push('\n');
        }
        if io.out(out.as_bytes()) {
            0
        } else {
            self.error_io(io, "echo: write error: Bad file descriptor");
            1
        }
    }

    fn b_read(&mut self, a: &[String], io: &Io) -> i32 {
        let mut raw = false;
        let mut arr: Option<String> = None;
        let mut delim = b'\n';
        let mut nchars: Option<usize> = None;
        // -N: the characters read are taken whole, not split into fields.
        let mut exact_n = false;
        let mut prompt = None;
        let mut names = Vec::new();
        let mut i = 1;
        let mut silent_fd = None;
        while i < a.len() {
            let s = &a[i];
            if s.starts_with('-') && s.len() > 1 && names.is_empty() {
                let mut chars = s[1..].chars();
                while let Some(c) = chars.next() {
                    let rest: String = chars.clone().collect();
                    let mut take = || -> Option<String> {
                        if !rest.is_empty() {
                            Some(rest.clone())
                        } else {
                            i += 1;
                            a.get(i).cloned()
                        }
                    };
                    match c {
                        'r' => raw = true,
                        's' | 'e' => {}
                        'a' => {
                            arr = take();
                            break;
                        }
                        'd' => {
                            delim = take().and_then(|d| d.bytes().next()).unwrap_or(0);
                            break;
                        }
                        'n' | 'N' => {
                            exact_n = c == 'N';
                            nchars = take().and_then(|d| d.parse().ok());
                            break;
                        }
                        'p' => {
                            prompt = take();
                            break;
                        }
                        't' => {
                            take();
                            break;
                        }
                        'u' => {
                            silent_fd = take().and_then(|d| d.parse::<usize>().ok());
                            break;
                        }
                        _ => {
                            self.error_io(io, &format!("read: -{c}: invalid option"));
                            return 2;
                        }
                    }
                }
            } else {
                names.push(s.clone());
            }
            i += 1;
        }
        let _ = prompt;
        let input = match silent_fd {
            Some(fd) => io.get(fd).cloned().unwrap_or(crate::io::Stream::Null),
            None => io.stdin(),
        };
        let mut buf: Vec<u8> = Vec::new();
        let mut got_delim = false;
        let mut count = 0;
        loop {
            if nchars.is_some_and(|n| count >= n) {
                got_delim = true;
                break;
            }
            let Some(b) = input.read_byte() else { break };
            if !raw && b == b'\\' {
                match input.read_byte() {
                    Some(b'\n') => continue,
                    Some(n) => {
                        buf.push(0x01);
                        buf.push(n);
                        count += 1;
                        continue;
                    }
                    None => break,
                }
            }
            if b == delim && nchars.is_none() {
                got_delim = true;
                break;
            }
            buf.push(b);
            count += 1;
        }
        let text = String::from_utf8_lossy(&buf).into_owned();
        let ifs = self.get_ifs();
        if let Some(arr) = arr {
            let fields = if exact_n {
                vec![text.replace('\x01', "")]
            } else {
                split_read(&text, &ifs, usize::MAX)
            };
            let m = fields
                .into_iter()
                .enumerate()
                .map(|(i, f)| (i as i64, f))
                .collect();
            let _ = self.set_value(&arr, Value::Arr(m));
        } else {
            if names.is_empty() {
                let t = text.replace('\x01', "");
                let _ = self.set_var("REPLY", t);
            } else {
                let fields = split_read(&text, &ifs, names.len());
                for (k, n) in names.iter().enumerate() {
                    let v = fields.get(k).cloned().unwrap_or_default();
                    if let Err(e) = self.set_var(n, v) {
                        self.error_io(io, &e.to_string());
                        return 1;
                    }
                }
            }
        }
        if got_delim || (nchars.is_some() && count > 0) {
            0
        } else {
            1
        }
    }

    fn b_mapfile(&mut self, a: &[String], io: &Io) -> i32 {
        let mut strip = false;
        let mut name = "MAPFILE".to_string();
        let mut origin: Option<i64> = None;
        let mut skip = 0usize;
        let mut count = 0usize;
        let mut delim = b'\n';
        let mut fd: Option<usize> = None;
        let mut i = 1;
        while i < a.len() {
            let s = &a[i];
            let val = |i: &mut usize| -> String {
                *i += 1;
                a.get(*i).cloned().unwrap_or_default()
            };
            match s.as_str() {
                "-t" => strip = true,
                "-O" => {
                    let v = val(&mut i);
                    match v.parse::<i64>() {
                        Ok(n) if n >= 0 => origin = Some(n),
                        _ => {
                            self.error_io(io, &format!("{}: {v}: invalid array origin", a[0]));
                            return 1;
                        }
                    }
                }
                "-s" | "-n" => {
                    let v = val(&mut i);
                    let Ok(n) = v.parse::<usize>() else {
                        self.error_io(io, &format!("{}: {v}: invalid line count", a[0]));
                        return 1;
                    };
                    if s == "-s" {
                        skip = n;
                    } else {
                        count = n;
                    }
                }
                "-d" => delim = val(&mut i).bytes().next().unwrap_or(0),
                "-u" => fd = val(&mut i).parse().ok(),
                "-C" | "-c" => {
                    val(&mut i);
                }
                n if !n.starts_with('-') => name = n.to_string(),
                _ => {}
            }
            i += 1;
        }
        let input = match fd {
            Some(f) => match io.get(f) {
                Some(s) => s.clone(),
                None => {
                    self.error_io(
                        io,
                        &format!("{}: {f}: invalid file descriptor specification", a[0]),
                    );
                    return 1;
                }
            },
            None => io.stdin(),
        };
        let name = self.resolve(&name).into_owned();
        // Declared with -A, even while it has no value yet.
        if self.is_assoc(&name) {
            self.error_io(io, &format!("{}: {name}: not an indexed array", a[0]));
            return 1;
        }
        let mut m = match (origin, self.lookup(&name).and_then(|v| v.value.clone())) {
            (Some(_), Some(Value::Arr(m))) => m,
            (Some(_), Some(Value::Str(s))) => {
                let mut m = std::collections::BTreeMap::new();
                m.insert(0, s);
                m
            }
            _ => Default::default(),
        };
        let mut idx = origin.unwrap_or(0);
        let mut read = 0usize;
        let mut line: Vec<u8> = Vec::new();
        loop {
            if count > 0 && read >= count + skip {
                break;
            }
            let b = input.read_byte();
            match b {
                Some(c) => {
                    line.push(c);
                    if c != delim {
                        continue;
                    }
                }
                None if line.is_empty() => break,
                None => {}
            }
            read += 1;
            if read > skip {
                if strip && line.last() == Some(&delim) {
                    line.pop();
                }
                m.insert(idx, String::from_utf8_lossy(&line).into_owned());
                idx += 1;
            }
            line.clear();
            if b.is_none() {
                break;
            }
        }
        if let Err(e) = self.set_value(&name, Value::Arr(m)) {
            self.error_io(io, &e.to_string());
            return 1;
        }
        0
    }

    fn b_command(&mut self, a: &[String], io: &Io) -> R<i32> {
        let mut i = 1;
        let mut verbose = 0;
        while i < a.len() && a[i].starts_with('-') && a[i].len() > 1 {
            match a[i].as_str() {
                "-v" => verbose = 1,
                "-V" => verbose = 2,
                "-p" => {}
                "--" => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        if i >= a.len() {
            return Ok(0);
        }
        if verbose > 0 {
            let mut st = 0;
            for n in &a[i..] {
                if verbose == 1 {
                    match self.which(n) {
                        Some(w) => {
                            io.out(format!("{w}\n").as_bytes());
                        }
                        None => st = 1,
                    }
                } else {
                    st |= self.b_type(&["type".into(), n.clone()], io);
                }
            }
            return Ok(st);
        }
        let argv = a[i..].to_vec();
        if self.builtin_enabled(&argv[0]) {
            return self.builtin(argv, io);
        }
        self.run_external(argv, Vec::new(), io)
    }

    fn which(&self, n: &str) -> Option<String> {
        if self.funcs.contains_key(n) || self.builtin_enabled(n) || KEYWORDS.contains(&n) {
            return Some(n.to_string());
        }
        if let Some(a) = self.aliases.get(n) {
            return Some(format!("alias {n}='{a}'"));
        }
        // A file in PATH is what bash names; the bundled tool stands in where there is none.
        self.path_lookup(n)
            .or_else(|| crate::tools::find(n).map(|_| n.to_string()))
    }

    pub(crate) fn path_lookup(&self, n: &str) -> Option<String> {
        if n.contains('/') {
            return if self.cwd.join(n).is_file() {
                Some(n.to_string())
            } else {
                None
            };
        }
        let path = self.lookup("PATH").and_then(|v| match &v.value {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        })?;
        for d in path.split(':') {
            let p = std::path::Path::new(if d.is_empty() { "." } else { d }).join(n);
            if self.cwd.join(&p).is_file() {
                return Some(p.display().to_string());
            }
        }
        // The guest sees only its grants; the host says what the bridge would run.
        #[cfg(target_os = "wasi")]
        if let Some(found) = crate::host::which(n, &path, &self.cwd) {
            return Some(found);
        }
        None
    }
}

/// shopt options accepted for compatibility; they do not change this shell's behaviour.
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done",
    "in", "function", "select", "time", "{", "}", "[[", "]]", "!", "coproc",
];

pub(crate) fn has_ctl(s: &str) -> bool {
    s.chars().any(|c| (c as u32) < 0x20 || c as u32 == 0x7f)
}

/// `$'...'` quoting with bash's escapes.
pub(crate) fn ansi_quote(s: &str) -> String {
    let mut o = String::from("$'");
    for c in s.chars() {
        match c {
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            '\x07' => o.push_str("\\a"),
            '\x08' => o.push_str("\\b"),
            '\x0b' => o.push_str("\\v"),
            '\x0c' => o.push_str("\\f"),
            '\x1b' => o.push_str("\\E"),
            '\'' => o.push_str("\\'"),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                o.push_str(&format!("\\{:03o}", c as u32))
            }
            c => o.push(c),
        }
    }
    o.push('\'');
    o
}

/// `read`'s splitting: at most `n` fields, the last taking the rest; \x01 marks an escaped char.
fn split_read(text: &str, ifs: &str, n: usize) -> Vec<String> {
    let is_ws = |c: char| ifs.contains(c) && " \t\n".contains(c);
    let is_delim = |c: char| ifs.contains(c);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut fields = Vec::new();
    while i < chars.len() && is_ws(chars[i]) {
        i += 1;
    }
    while i < chars.len() {
        if fields.len() + 1 == n {
            // Last field: rest of line minus trailing IFS whitespace.
            let mut rest: Vec<char> = chars[i..].to_vec();
            while rest.last().is_some_and(|c| is_ws(*c))
                && !(rest.len() >= 2 && rest[rest.len() - 2] == '\x01')
            {
                rest.pop();
            }
            // One trailing non-whitespace delimiter ends the last field and is
            // dropped (`a:b:` gives `b`); two in a row are kept (`b::`).
            let n = rest.len();
            if n >= 1 && is_delim(rest[n - 1]) && !is_ws(rest[n - 1]) {
                let mut j = n - 1;
                while j > 0 && is_ws(rest[j - 1]) {
                    j -= 1;
                }
                let escaped = n >= 2 && rest[n - 2] == '\x01';
                let doubled = j > 0 && is_delim(rest[j - 1]) && !is_ws(rest[j - 1]);
                if !escaped && !doubled {
                    rest.truncate(j);
                }
            }
            fields.push(rest.into_iter().filter(|c| *c != '\x01').collect());
            return fields;
        }
        let mut f = String::new();
        while i < chars.len() && !is_delim(chars[i]) {
            if chars[i] == '\x01' && i + 1 < chars.len() {
                i += 1;
            }
            f.push(chars[i]);
            i += 1;
        }
        fields.push(f);
        // Skip one delimiter with surrounding whitespace.
        while i < chars.len() && is_ws(chars[i]) {
            i += 1;
        }
        if i < chars.len() && is_delim(chars[i]) && !is_ws(chars[i]) {
            i += 1;
            while i < chars.len() && is_ws(chars[i]) {
                i += 1;
            }
        }
    }
    fields
}

#[allow(dead_code)]
fn unused(_: Flow, _: ElemKey) {}
