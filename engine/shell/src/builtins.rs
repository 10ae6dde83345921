//! Builtin commands. Each takes argv and the fd table and returns a status (or a Flow for
//! `exit`, `return`, `break`, `continue`).

use crate::io::Io;
use crate::state::{ElemKey, Flow, Shell, Value, Var, R};
use brush_parser::ast;

pub(crate) mod bind;
pub(crate) mod completion;
mod getopts;
pub(crate) mod history;
mod jobs;
mod printf;
pub(crate) mod shopt;
mod trap;

const BUILTINS: &[&str] = &[
    "echo",
    "printf",
    "test",
    "[",
    "cd",
    "pwd",
    "export",
    "unset",
    "readonly",
    "declare",
    "typeset",
    "local",
    "read",
    "shift",
    "set",
    "exit",
    "return",
    "true",
    "false",
    ":",
    "eval",
    "source",
    ".",
    "command",
    "type",
    "getopts",
    "trap",
    "sleep",
    "break",
    "continue",
    "let",
    "shopt",
    "wait",
    "alias",
    "unalias",
    "builtin",
    "exec",
    "hash",
    "umask",
    "times",
    "jobs",
    "kill",
    "mapfile",
    "readarray",
    "pushd",
    "popd",
    "dirs",
    "caller",
    "enable",
    "ulimit",
    "help",
    "compgen",
    "complete",
    "compopt",
    "history",
    "fc",
    "bind",
];

pub fn is_builtin(n: &str) -> bool {
    BUILTINS.contains(&n)
}

/// POSIX special builtins; in bash mode their prefix assignments are temporary too, so no
/// builtin is treated specially for that purpose.
pub fn is_special(_n: &str) -> bool {
    false
}

impl Shell {
    pub fn builtin(&mut self, argv: Vec<String>, io: &Io) -> R<i32> {
        if matches!(argv[0].as_str(), "eval" | "source" | ".") && !self.history.nohist {
            return self.without_history(|sh| sh.builtin(argv, io));
        }
        let a = &argv;
        let name = a[0].as_str();
        Ok(match name {
            ":" | "true" => 0,
            "false" => 1,
            "echo" => self.b_echo(a, io),
            "compgen" => self.b_compgen(a, io),
            "complete" => self.b_complete(a, io),
            "compopt" => self.b_compopt(a, io),
            "history" => self.b_history(a, io)?,
            "fc" => self.b_fc(a, io)?,
            "bind" => self.b_bind(a, io),
            "printf" => self.b_printf(a, io),
            "test" | "[" => self.test_builtin(a, io),
            "pwd" => {
                io.out(format!("{}\n", self.cwd.display()).as_bytes());
                0
            }
            "cd" => self.b_cd(a, io),
            "pushd" | "popd" | "dirs" => self.b_dirs(a, io),
            "export" | "readonly" | "declare" | "typeset" | "local" => {
                self.b_declare(a, &[], io)?
            }
            "unset" => self.b_unset(a, io),
            "read" => self.b_read(a, io),
            "mapfile" | "readarray" => self.b_mapfile(a, io),
            "shift" => {
                let n = a
                    .get(1)
                    .map(|s| s.parse::<usize>().unwrap_or(usize::MAX))
                    .unwrap_or(1);
                if n > self.positional.len() {
                    if a.get(1).is_some_and(|s| s.parse::<usize>().is_err()) {
                        self.error_io(io, &format!("shift: {}: numeric argument required", a[1]));
                        return Ok(1);
                    }
                    1
                } else {
                    self.positional.drain(..n);
                    0
                }
            }
            "set" => self.b_set(a, io)?,
            "shopt" => self.b_shopt(a, io),
            "exit" => {
                let st = match a.get(1) {
                    Some(s) => match s.trim().parse::<i64>() {
                        Ok(v) => (v & 0xff) as i32,
                        Err(_) => {
                            self.error_io(io, &format!("exit: {s}: numeric argument required"));
                            2
                        }
                    },
                    None => self.last_status,
                };
                return Err(Flow::Exit(st));
            }
            "return" => {
                let st = match a.get(1) {
                    Some(s) => match s.trim().parse::<i64>() {
                        Ok(v) => (v & 0xff) as i32,
                        Err(_) => {
                            self.error_io(io, &format!("return: {s}: numeric argument required"));
                            2
                        }
                    },
                    None => self.last_status,
                };
                if self.func_depth == 0 && !self.sourcing {
                    self.error_io(
                        io,
                        "return: can only `return' from a function or sourced script",
                    );
                    return Ok(2);
                }
                return Err(Flow::Return(st));
            }
            "break" | "continue" => {
                let n = a
                    .get(1)
                    .and_then(|s| s.parse::<u32>().ok())
                    .unwrap_or(1)
                    .max(1);
                if self.loop_depth == 0 {
                    return Ok(0);
                }
                let n = n.min(self.loop_depth);
                return Err(if name == "break" {
                    Flow::Break(n)
                } else {
                    Flow::Continue(n)
                });
            }
            "eval" => {
                let src = a[1..].join(" ");
                if let Err(e) = crate::exec::parse(&src) {
                    let (line, msg) = crate::exec::syntax_error_message(&src, &e);
                    let prefix = format!("{}: eval: line {line}: ", self.err_name);
                    for m in msg.split('\x00') {
                        io.err(format!("{prefix}{}\n", m.trim_end_matches('\n')).as_bytes());
                    }
                    return Ok(2);
                }
                // The eval'd text's first line is the line of the eval, one level deeper for -x.
                let off = std::mem::replace(&mut self.line_offset, self.lineno.saturating_sub(1));
                self.xdepth += 1;
                let r = self.run_string_flow(&src, io);
                self.xdepth -= 1;
                self.line_offset = off;
                r?
            }
            "source" | "." => {
                let Some(file) = a.get(1) else {
                    self.error_io(io, &format!("{name}: filename argument required"));
                    return Ok(2);
                };
                let path = if file.contains('/') {
                    Some(self.cwd.join(file))
                } else {
                    let p = self.cwd.join(file);
                    if p.is_file() {
                        Some(p)
                    } else {
                        None
                    }
                };
                // /dev/stdin and /dev/fd/N name this command's fds (a here-document, a pipe).
                let fd = match file.as_str() {
                    "/dev/stdin" => Some(0),
                    f => f
                        .strip_prefix("/dev/fd/")
                        .and_then(|n| n.parse::<usize>().ok()),
                };
                let text = match fd {
                    Some(fd) => io
                        .get(fd)
                        .map(|s| String::from_utf8_lossy(&s.read_to_end()).into_owned()),
                    None => path.and_then(|p| std::fs::read_to_string(p).ok()),
                };
                let Some(text) = text else {
                    self.error_io(io, &format!("{file}: No such file or directory"));
                    // A failing special builtin ends a POSIX-mode shell.
                    if self.option_enabled("posix") == Some(true) {
                        return Err(Flow::Exit(1));
                    }
                    return Ok(1);
                };
                let saved = if a.len() > 2 {
                    Some(std::mem::replace(&mut self.positional, a[2..].to_vec()))
                } else {
                    None
                };
                let was = self.sourcing;
                self.sourcing = true;
                self.xdepth += 1;
                let (line, off) = (self.lineno, self.line_offset);
                self.frames.push(crate::state::Frame {
                    name: "source".into(),
                    src: file.clone(),
                    call_line: line,
                    call_src: std::mem::replace(&mut self.cur_source, file.clone()),
                });
                self.line_offset = 0;
                let ft = self.trace_source_enter(a);
                let r = self.run_string_flow(&text, io);
                // RETURN fires when a sourced file finishes, still inside it.
                let r = match r {
                    Ok(_) | Err(Flow::Return(_)) => match self.return_trap(io) {
                        Ok(()) => r,
                        Err(e) => Err(e),
                    },
                    _ => r,
                };
                self.trace_func_leave(ft);
                if let Some(fr) = self.frames.pop() {
                    self.cur_source = fr.call_src;
                }
                self.lineno = line;
                self.line_offset = off;
                self.xdepth -= 1;
                self.sourcing = was;
                if let Some(s) = saved {
                    self.positional = s;
                }
                match r {
                    Ok(s) => s,
                    Err(Flow::Return(s)) => s,
                    Err(e) => return Err(e),
                }
            }
            "command" => return self.b_command(a, io),
            "builtin" => {
                if a.len() < 2 {
                    return Ok(0);
                }
                if !is_builtin(&a[1]) {
                    self.error_io(io, &format!("builtin: {}: not a shell builtin", a[1]));
                    return Ok(1);
                }
                return self.builtin(a[1..].to_vec(), io);
            }
            "type" => self.b_type(a, io),
            "getopts" => self.b_getopts(a, io),
            "trap" => self.b_trap(a, io),
            "sleep" => {
                let secs: f64 = a[1..].iter().map(|s| parse_duration(s)).sum();
                crate::io::flush_stdout();
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.max(0.0)));
                0
            }
            "let" => {
                let mut v = 0;
                for e in &a[1..] {
                    v = self.arith_str(e)?;
                }
                (v == 0) as i32
            }
            "caller" => {
                let n = match a.get(1) {
                    Some(v) => match v.parse::<usize>() {
                        Ok(n) => Some(n),
                        Err(_) => {
                            self.error_io(io, &format!("caller: {v}: invalid number"));
                            return Ok(2);
                        }
                    },
                    None => None,
                };
                let len = self.frames.len();
                let k = n.unwrap_or(0);
                // bash shows no frame for the top level of -c/stdin code.
                let avail = if self.script_mode || n.is_none() {
                    len
                } else {
                    len.saturating_sub(1)
                };
                if k >= avail {
                    return Ok(1);
                }
                let fr = &self.frames[len - 1 - k];
                let line = match n {
                    // Code read from stdin or -c has no file name: bash says NULL.
                    None if !self.script_mode && fr.call_src == "main" => {
                        format!("{} NULL\n", fr.call_line)
                    }
                    None => format!("{} {}\n", fr.call_line, fr.call_src),
                    Some(_) => {
                        let who = if len >= k + 2 {
                            self.frames[len - 2 - k].name.clone()
                        } else {
                            "main".into()
                        };
                        format!("{} {who} {}\n", fr.call_line, fr.call_src)
                    }
                };
                io.out(line.as_bytes());
                0
            }
            "wait" => self.b_wait(a, io),
            "hash" | "times" | "jobs" | "enable" | "ulimit" | "help" => 0,
            "umask" => {
                if a.len() == 1 {
                    io.out(b"0022\n");
                }
                0
            }
            "kill" => return self.b_kill(a, io),
            "alias" => {
                for x in &a[1..] {
                    if let Some((k, v)) = x.split_once('=') {
                        self.aliases.insert(k.into(), v.into());
                    } else if let Some(v) = self.aliases.get(x) {
                        io.out(format!("alias {x}='{v}'\n").as_bytes());
                    }
                }
                0
            }
            "unalias" => {
                for x in &a[1..] {
                    self.aliases.remove(x);
                }
                0
            }
            "exec" => {
                if a.len() == 1 {
                    return Ok(0);
                }
                let st = self.dispatch(a[1..].to_vec(), Vec::new(), io)?;
                return Err(Flow::Exit(st));
            }
            _ => 0,
        })
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
                let (d, stop) = crate::expand::decode_escapes(s, true);
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

    fn b_cd(&mut self, a: &[String], io: &Io) -> i32 {
        let args: Vec<&String> = a[1..]
            .iter()
            .filter(|s| !matches!(s.as_str(), "-L" | "-P" | "--"))
            .collect();
        if args.len() > 1 {
            self.error_io(io, "cd: too many arguments");
            return 1;
        }
        let mut print = false;
        let target = match args.first() {
            None => match self.get("HOME") {
                Some(h) => h,
                None => {
                    self.error_io(io, "cd: HOME not set");
                    return 1;
                }
            },
            Some(s) if s.as_str() == "-" => {
                print = true;
                match self.get("OLDPWD") {
                    Some(h) => h,
                    None => {
                        self.error_io(io, "cd: OLDPWD not set");
                        return 1;
                    }
                }
            }
            Some(s) => (*s).clone(),
        };
        let p = normalize(&self.cwd.join(&target));
        if !p.is_dir() {
            let why = if p.exists() {
                "Not a directory"
            } else {
                "No such file or directory"
            };
            self.error_io(io, &format!("cd: {target}: {why}"));
            return 1;
        }
        let old = self.cwd.to_string_lossy().into_owned();
        self.cwd = p;
        let _ = self.set_var("OLDPWD", old);
        let _ = self.set_var("PWD", self.cwd.to_string_lossy().into_owned());
        if print {
            io.out(format!("{}\n", self.cwd.display()).as_bytes());
        }
        0
    }

    fn b_dirs(&mut self, a: &[String], io: &Io) -> i32 {
        match a[0].as_str() {
            "pushd" => {
                let Some(d) = a.get(1) else { return 1 };
                let old = self.cwd.clone();
                if self.b_cd(&["cd".into(), d.clone()], io) != 0 {
                    return 1;
                }
                self.dirstack.push(old);
            }
            "popd" => {
                let Some(d) = self.dirstack.pop() else {
                    self.error_io(io, "popd: directory stack empty");
                    return 1;
                };
                self.cwd = d;
                let _ = self.set_var("PWD", self.cwd.to_string_lossy().into_owned());
            }
            _ => {}
        }
        let mut s = vec![self.cwd.display().to_string()];
        s.extend(self.dirstack.iter().rev().map(|d| d.display().to_string()));
        io.out(format!("{}\n", s.join(" ")).as_bytes());
        0
    }

    /// `declare`/`local`/`export`/`readonly` with structurally parsed assignment words.
    pub fn run_declaration(
        &mut self,
        argv: Vec<String>,
        decl: Vec<(usize, &ast::Assignment, &ast::Word)>,
        io: &Io,
    ) -> R<i32> {
        self.b_declare(&argv, &decl, io)
    }

    fn b_declare(
        &mut self,
        a: &[String],
        decl: &[(usize, &ast::Assignment, &ast::Word)],
        io: &Io,
    ) -> R<i32> {
        let cmd = a[0].as_str();
        let mut export = cmd == "export";
        let mut readonly = cmd == "readonly";
        let mut local = cmd == "local";
        let (
            mut arr,
            mut assoc,
            mut integer,
            mut upper,
            mut lower,
            mut print,
            mut unexport,
            mut func,
        ) = (false, false, false, false, false, false, false, false);
        let mut global = false;
        let mut nameref = false;
        // -t: the trace attribute (it only does something on functions).
        let mut trace_attr: Option<bool> = None;
        // Function attributes change only with `-f` (`+f` does not select functions).
        let mut func_on = false;
        let mut local_dash = false;
        let mut minus: Vec<char> = Vec::new();
        if local && self.func_depth == 0 {
            self.error_io(io, "local: can only be used in a function");
            return Ok(1);
        }
        let mut names: Vec<(usize, String)> = Vec::new();
        let mut st = 0;
        for (i, s) in a.iter().enumerate().skip(1) {
            let is_decl = decl.iter().any(|(k, _, _)| *k == i);
            if !is_decl
                && (s.starts_with('-') || s.starts_with('+'))
                && s.len() > 1
                && names.is_empty()
            {
                let on = s.starts_with('-');
                for c in s[1..].chars() {
                    if !on {
                        minus.push(c);
                    }
                    match c {
                        'x' => {
                            if on {
                                export = true
                            } else {
                                unexport = true
                            }
                        }
                        'r' => readonly = on,
                        'a' => arr = on,
                        'A' => assoc = on,
                        'i' => integer = on,
                        'u' => upper = on,
                        'l' => lower = on,
                        'p' => print = true,
                        'g' => global = true,
                        't' => trace_attr = Some(on),
                        'f' | 'F' => {
                            func = true;
                            func_on |= on;
                        }
                        'n' if cmd == "export" => {
                            export = false;
                            unexport = true;
                        }
                        'n' => nameref = on,
                        _ => {
                            self.error_io(io, &format!("{cmd}: -{c}: invalid option"));
                            let usage = match cmd {
                                "declare" => "declare [-aAfFgiIlnrtux] [name[=value] ...] or declare -p [-aAfFilnrtux] [name ...]",
                                "typeset" => "typeset [-aAfFgiIlnrtux] name[=value] ... or typeset -p [-aAfFilnrtux] [name ...]",
                                "local" => "local [option] name[=value] ...",
                                "export" => "export [-fn] [name[=value] ...] or export -p",
                                _ => "readonly [-aAf] [name[=value] ...] or readonly -p",
                            };
                            io.err(format!("{cmd}: usage: {usage}\n").as_bytes());
                            return Ok(2);
                        }
                    }
                }
                continue;
            }
            // `local -`: the function's `set` options are restored when it returns.
            if local && s == "-" {
                self.local_options();
                local_dash = true;
                continue;
            }
            names.push((i, s.clone()));
        }
        if cmd == "declare" || cmd == "typeset" {
            local = self.func_depth > 0 && !global;
        }
        if func {
            for (_, n) in &names {
                if !self.funcs.contains_key(n) {
                    st = 1;
                }
            }
            if (cmd == "export" || export || unexport) && !names.is_empty() {
                for (_, n) in &names {
                    if self.funcs.contains_key(n) {
                        if unexport {
                            self.exported_funcs.remove(n);
                        } else {
                            self.exported_funcs.insert(n.clone());
                        }
                    }
                }
                return Ok(st);
            }
            if let Some(on) = trace_attr {
                for (_, n) in names.iter().filter(|_| func_on) {
                    if self.funcs.contains_key(n) {
                        if on {
                            self.trace.traced_funcs.insert(n.clone());
                        } else {
                            self.trace.traced_funcs.remove(n);
                        }
                    }
                }
                if !print {
                    return Ok(st);
                }
            }
            let only_names = a[1..].iter().any(|x| x.starts_with('-') && x.contains('F'));
            let mut f: Vec<String> = if names.is_empty() {
                self.funcs.keys().cloned().collect()
            } else {
                names
                    .iter()
                    .map(|(_, n)| n.clone())
                    .filter(|n| self.funcs.contains_key(n))
                    .collect()
            };
            f.sort();
            for n in f {
                if only_names {
                    if names.is_empty() {
                        io.out(format!("declare -f {n}\n").as_bytes());
                    } else if self.opts.extdebug {
                        // extdebug adds where the function was defined.
                        let line = self.trace.func_defs.get(&n).map(|d| d.0).unwrap_or(0);
                        let src = self.func_src.get(&n).cloned().unwrap_or_default();
                        io.out(format!("{n} {line} {src}\n").as_bytes());
                    } else {
                        io.out(format!("{n}\n").as_bytes());
                    }
                } else if let Some(def) = self.funcs.get(&n) {
                    io.out(format!("{def}\n").as_bytes());
                }
            }
            return Ok(st);
        }
        if names.is_empty() && local_dash {
            return Ok(st);
        }
        if names.is_empty() {
            // `declare -p` lists declarations; plain `declare` lists name=value like `set`.
            let cmd = if print && cmd != "export" && cmd != "readonly" {
                "declare -p"
            } else {
                cmd
            };
            self.print_vars(cmd, export, readonly, io);
            return Ok(0);
        }
        if print {
            for (_, n) in &names {
                if matches!(
                    n.as_str(),
                    "FUNCNAME" | "BASH_SOURCE" | "BASH_LINENO" | "BASH_ARGV" | "BASH_ARGC"
                ) && self.lookup(n).is_none()
                {
                    // Call-stack arrays are computed, not stored.
                    let line = match self.get_array(n) {
                        None => format!("declare -a {n}"),
                        Some(items) => {
                            let items: Vec<String> = items
                                .iter()
                                .map(|(k, v)| format!("[{k}]=\"{}\"", dq_escape(v)))
                                .collect();
                            format!("declare -a {n}=({})", items.join(" "))
                        }
                    };
                    io.out(format!("{line}\n").as_bytes());
                    continue;
                }
                if self.lookup(n).is_none() {
                    self.error_io(io, &format!("{cmd}: {n}: not found"));
                    st = 1;
                    continue;
                }
                let line = self.declare_line(n);
                io.out(format!("{line}\n").as_bytes());
            }
            return Ok(st);
        }
        for (i, raw) in names {
            let assignment = decl.iter().find(|(k, _, _)| *k == i).map(|(_, a, _)| *a);
            let scalar = assignment.is_some_and(|a| {
                matches!(
                    (&a.name, &a.value),
                    (
                        ast::AssignmentName::VariableName(_),
                        ast::AssignmentValue::Scalar(_)
                    )
                )
            });
            let append = assignment
                .map(|a| a.append)
                .unwrap_or_else(|| raw.split_once('=').is_some_and(|(n, _)| n.ends_with('+')));
            let (name, value_str) = match assignment {
                Some(asg) => match &asg.name {
                    ast::AssignmentName::VariableName(n) => (
                        n.clone(),
                        if scalar {
                            raw.split_once('=').map(|(_, v)| v.to_string())
                        } else {
                            None
                        },
                    ),
                    ast::AssignmentName::ArrayElementName(n, _) => (n.clone(), None),
                },
                None => match raw.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (raw.clone(), None),
                },
            };
            let name = name.trim_end_matches('+').to_string();
            // An operand that only became `name=(...)` or `name[i]=v` after
            // expansion is parsed again as an assignment, as bash does.
            let reparsed = if assignment.is_none() && !nameref {
                self.reparse_operand(&name, value_str.as_deref(), arr || assoc, append)
            } else {
                None
            };
            let name = match (&reparsed, name.split_once('[')) {
                (Some(_), Some((base, _))) => base.to_string(),
                _ => name,
            };
            let value_str = if reparsed.is_some() { None } else { value_str };
            // `declare 'a[5]'` with no value declares `a` an indexed array.
            let bare_sub = reparsed.is_none()
                && value_str.is_none()
                && assignment.is_none()
                && name
                    .split_once('[')
                    .is_some_and(|(b, r)| crate::state::valid_name(b) && r.ends_with(']'));
            let name = if bare_sub {
                name.split('[').next().unwrap_or_default().to_string()
            } else {
                name
            };
            let arr = arr || bare_sub;
            if !crate::state::valid_name(&name) {
                self.error_io(io, &format!("{cmd}: `{raw}': not a valid identifier"));
                st = 1;
                continue;
            }
            if nameref {
                let target = value_str.clone().unwrap_or_default();
                let base = target.split('[').next().unwrap_or("");
                if value_str.is_some() && !crate::state::valid_name(base) {
                    self.error_io(
                        io,
                        &format!("{cmd}: `{target}': invalid variable name for name reference"),
                    );
                    st = 1;
                    continue;
                }
                if target == name {
                    self.error_io(
                        io,
                        &format!("{cmd}: {name}: nameref variable self references not allowed"),
                    );
                    st = 1;
                    continue;
                }
            }
            // Attributes given to a nameref apply to the variable it designates.
            let name = if !nameref
                && !minus.contains(&'n')
                && self.lookup(&name).is_some_and(|v| v.nameref)
            {
                let r = self.resolve(&name).into_owned();
                if r.contains(['[', '\u{0}']) {
                    name
                } else {
                    r
                }
            } else {
                name
            };
            if local {
                let top = self.scopes.len() - 1;
                if !self.scopes[top].contains_key(&name) {
                    let inherit = self.lookup(&name).cloned();
                    let mut v = Var::default();
                    if let Some(old) = inherit {
                        v.exported = old.exported;
                    }
                    self.scopes[top].insert(name.clone(), v);
                }
            } else if global && self.lookup(&name).is_none() {
                self.scopes[0].insert(name.clone(), Var::default());
            } else if self.lookup(&name).is_none() {
                let idx = if cmd == "export" || cmd == "readonly" {
                    0
                } else {
                    self.scopes.len() - 1
                };
                let idx = if self.func_depth == 0 { 0 } else { idx };
                self.scopes[idx].insert(name.clone(), Var::default());
            }
            if self.lookup(&name).is_some_and(|v| v.readonly)
                && (assignment.is_some() || value_str.is_some())
            {
                self.error_io(io, &format!("{name}: readonly variable"));
                st = 1;
                continue;
            }
            if (minus.contains(&'a') || minus.contains(&'A'))
                && self.lookup(&name).is_some_and(|x| {
                    x.kind != 0 || matches!(x.value, Some(Value::Arr(_) | Value::Assoc(_)))
                })
            {
                self.error_io(
                    io,
                    &format!("{cmd}: {name}: cannot destroy array variables in this way"),
                );
                st = 1;
                continue;
            }
            if minus.contains(&'r') && self.lookup(&name).is_some_and(|x| x.readonly) {
                self.error_io(io, &format!("{cmd}: {name}: readonly variable"));
                st = 1;
                continue;
            }
            if let Some(v) = self.lookup_mut(&name) {
                for c in &minus {
                    match c {
                        'i' => v.integer = false,
                        'u' => v.upper = false,
                        'l' => v.lower = false,
                        'n' => v.nameref = false,
                        _ => {}
                    }
                }
                if integer {
                    v.integer = true;
                }
                if upper {
                    v.upper = true;
                    v.lower = false;
                }
                if lower {
                    v.lower = true;
                    v.upper = false;
                }
                let mut conv_err = None;
                if arr {
                    match v.value.take() {
                        None => {}
                        Some(Value::Str(x)) => {
                            v.value = Some(Value::Arr([(0, x)].into_iter().collect()))
                        }
                        Some(Value::Assoc(m)) => {
                            v.value = Some(Value::Assoc(m));
                            conv_err = Some("cannot convert associative to indexed array");
                        }
                        other => v.value = other,
                    }
                    if conv_err.is_none() {
                        v.kind = 1;
                    }
                }
                if assoc {
                    match v.value.take() {
                        None => v.value = Some(Value::Assoc(Default::default())),
                        Some(Value::Str(x)) => {
                            v.value =
                                Some(Value::Assoc([("0".to_string(), x)].into_iter().collect()))
                        }
                        Some(Value::Arr(m)) if !m.is_empty() => {
                            v.value = Some(Value::Arr(m));
                            conv_err = Some("cannot convert indexed to associative array");
                        }
                        Some(Value::Arr(_)) => v.value = Some(Value::Assoc(Default::default())),
                        other => v.value = other,
                    }
                    if conv_err.is_none() {
                        v.kind = 2;
                    }
                }
                if let Some(e) = conv_err {
                    self.error_io(io, &format!("{cmd}: {name}: {e}"));
                    st = 1;
                    continue;
                }
            }
            if nameref {
                self.has_namerefs = true;
                let target = match assignment {
                    Some(asg) => match &asg.value {
                        ast::AssignmentValue::Scalar(w) => Some(self.expand_string(&w.value)?),
                        _ => None,
                    },
                    None => value_str.clone(),
                };
                let top = if local { self.scopes.len() - 1 } else { 0 };
                let slot = match self.scopes.iter().rposition(|m| m.contains_key(&name)) {
                    Some(i) => i,
                    None => top,
                };
                let v = self.scopes[slot].entry(name.clone()).or_default();
                v.nameref = true;
                if let Some(t) = target {
                    v.value = Some(Value::Str(t));
                }
            } else if let (Some(asg), false) = (assignment, scalar) {
                self.assign(asg, local)?;
            } else if let Some(asg) = reparsed {
                if let Err(Flow::Abort(s)) = self.assign(&asg, local) {
                    st = s;
                }
            } else if let Some(v) = value_str {
                let is_int = integer || self.lookup(&name).is_some_and(|x| x.integer);
                let old = if append {
                    self.get(&name).unwrap_or_default()
                } else {
                    String::new()
                };
                let v = if is_int {
                    let base = if append {
                        old.trim().parse::<i64>().unwrap_or(0)
                    } else {
                        0
                    };
                    (base + self.arith_str(&v)?).to_string()
                } else if append {
                    format!("{old}{v}")
                } else {
                    v
                };
                if let Err(e) = self.set_var(&name, v) {
                    self.error_io(io, &e);
                    st = 1;
                }
            }
            if let Some(v) = self.lookup_mut(&name) {
                if export {
                    v.exported = true;
                }
                if unexport {
                    v.exported = false;
                }
                if readonly {
                    v.readonly = true;
                }
            }
            if arr && assoc {
                self.error_io(
                    io,
                    &format!("{cmd}: {name}: cannot convert associative to indexed array"),
                );
                st = 1;
            }
        }
        Ok(st)
    }

    /// The assignment a textual declaration operand stands for when it is a
    /// compound value for an array or a subscripted name; `None` keeps it a
    /// plain string value.
    fn reparse_operand(
        &mut self,
        name: &str,
        value: Option<&str>,
        array_flag: bool,
        append: bool,
    ) -> Option<ast::Assignment> {
        let value = value?;
        let op = if append { "+=" } else { "=" };
        let src = if let Some((base, rest)) = name.split_once('[') {
            if !crate::state::valid_name(base) || !rest.ends_with(']') {
                return None;
            }
            // The value was expanded once already; only the subscript is
            // expanded again.
            format!("{name}{op}'{}'", value.replace('\'', "'\\''"))
        } else {
            let arrayish = array_flag
                || self.lookup(name).is_some_and(|v| {
                    v.kind != 0 || matches!(v.value, Some(Value::Arr(_) | Value::Assoc(_)))
                });
            if !(arrayish && value.starts_with('(') && value.ends_with(')')) {
                return None;
            }
            format!("{name}{op}{value}")
        };
        let prog = crate::exec::parse(&src).ok()?;
        let [cc] = prog.complete_commands.as_slice() else {
            return None;
        };
        let [item] = cc.0.as_slice() else {
            return None;
        };
        if !item.0.additional.is_empty() {
            return None;
        }
        let [ast::Command::Simple(sc)] = item.0.first.seq.as_slice() else {
            return None;
        };
        if sc.word_or_name.is_some() || sc.suffix.is_some() {
            return None;
        }
        let items = &sc.prefix.as_ref()?.0;
        match items.as_slice() {
            [ast::CommandPrefixOrSuffixItem::AssignmentWord(a, _)] => Some(a.clone()),
            _ => None,
        }
    }

    fn declare_line(&self, n: &str) -> String {
        let Some(v) = self.lookup(n) else {
            return String::new();
        };
        let mut flags = self.attr_flags(n);
        if flags.is_empty() {
            flags.push('-');
        }
        match &v.value {
            None => format!("declare -{flags} {n}"),
            Some(Value::Str(s)) => format!("declare -{flags} {n}={}", dq_value(s)),
            Some(Value::Arr(a)) => {
                let items: Vec<String> = a
                    .iter()
                    .map(|(k, v)| format!("[{k}]=\"{}\"", dq_escape(v)))
                    .collect();
                format!("declare -{flags} {n}=({})", items.join(" "))
            }
            Some(Value::Assoc(a)) => {
                let items: Vec<String> = a
                    .iter()
                    .map(|(k, v)| format!("[{k}]=\"{}\" ", dq_escape(v)))
                    .collect();
                format!("declare -{flags} {n}=({})", items.concat())
            }
        }
    }

    fn print_vars(&self, cmd: &str, export: bool, readonly: bool, io: &Io) {
        let mut all: std::collections::BTreeMap<&String, &Var> = Default::default();
        for s in &self.scopes {
            for (k, v) in s {
                all.insert(k, v);
            }
        }
        for (k, v) in all {
            if (cmd == "export" || export) && !v.exported {
                continue;
            }
            if (cmd == "readonly" || readonly) && !v.readonly {
                continue;
            }
            let line = self.declare_line(k);
            let plain = cmd == "set"
                || ((cmd == "declare" || cmd == "typeset" || cmd == "local")
                    && !export
                    && !readonly);
            let line = if plain {
                match &v.value {
                    Some(Value::Str(s)) => format!("{k}={}", sq_if_needed(s)),
                    // Arrays keep their `(...)` value, without the `declare -a`.
                    Some(_) => match line.find(&format!(" {k}=")) {
                        Some(p) => line[p + 1..].to_string(),
                        None => line,
                    },
                    None => continue,
                }
            } else {
                line
            };
            io.out(format!("{line}\n").as_bytes());
        }
    }

    fn b_unset(&mut self, a: &[String], io: &Io) -> i32 {
        let mut funcs = false;
        let mut unset_ref = false;
        let mut st = 0;
        for s in &a[1..] {
            match s.as_str() {
                "-f" => funcs = true,
                "-v" => funcs = false,
                "-n" => unset_ref = true,
                n => {
                    if unset_ref {
                        // `unset -n` only removes namerefs themselves.
                        if self.lookup(n).is_some_and(|v| !v.nameref) {
                            continue;
                        }
                        if self.lookup(n).is_some_and(|v| v.readonly) {
                            self.error_io(
                                io,
                                &format!("unset: {n}: cannot unset: readonly variable"),
                            );
                            st = 1;
                            continue;
                        }
                        let _ = self.unset_ref(n);
                        continue;
                    }
                    if funcs {
                        self.funcs.remove(n);
                        continue;
                    }
                    if let Some((name0, idx)) = n.split_once('[') {
                        let name_r = self.resolve(name0);
                        let name: &str = &name_r;
                        let idx = idx.trim_end_matches(']');
                        if idx == "@" || idx == "*" {
                            let _ = self.unset(name);
                            continue;
                        }
                        let assoc = self.is_assoc(name);
                        let i = if assoc {
                            0
                        } else {
                            self.arith_str(idx).unwrap_or(0)
                        };
                        if let Some(v) = self.lookup_mut(name) {
                            match &mut v.value {
                                Some(Value::Arr(m)) => {
                                    let k = if i < 0 {
                                        m.keys().next_back().copied().unwrap_or(0) + 1 + i
                                    } else {
                                        i
                                    };
                                    m.remove(&k);
                                }
                                Some(Value::Assoc(m)) => {
                                    m.remove(idx);
                                }
                                Some(Value::Str(_)) if i == 0 => v.value = None,
                                _ => {}
                            }
                        }
                        continue;
                    }
                    let resolved = self.resolve(n);
                    if resolved != n && resolved.ends_with(']') {
                        if let Some((an, idx)) = resolved.split_once('[') {
                            let idx = &idx[..idx.len() - 1];
                            let assoc = self.is_assoc(an);
                            if let Some(v) = self.lookup_mut(an) {
                                match &mut v.value {
                                    Some(Value::Arr(m)) if !assoc => {
                                        if let Ok(i) = idx.parse::<i64>() {
                                            m.remove(&i);
                                        }
                                    }
                                    Some(Value::Assoc(m)) => {
                                        m.remove(idx);
                                    }
                                    _ => {}
                                }
                            }
                        }
                        continue;
                    }
                    if let Err(e) = self.unset(n) {
                        self.error_io(
                            io,
                            &format!(
                                "unset: {}",
                                e.replace(
                                    ": readonly variable",
                                    ": cannot unset: readonly variable"
                                )
                            ),
                        );
                        st = 1;
                    } else if !self.is_set(n)
                        && self.funcs.contains_key(n)
                        && self.lookup(n).is_none()
                    {
                        self.funcs.remove(n);
                    }
                }
            }
        }
        st
    }

    fn b_read(&mut self, a: &[String], io: &Io) -> i32 {
        let mut raw = false;
        let mut arr: Option<String> = None;
        let mut delim = b'\n';
        let mut nchars: Option<usize> = None;
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
            let fields = split_read(&text, &ifs, usize::MAX);
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
                        self.error_io(io, &e);
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
                "-O" => origin = val(&mut i).parse().ok(),
                "-s" => skip = val(&mut i).parse().unwrap_or(0),
                "-n" => count = val(&mut i).parse().unwrap_or(0),
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
            self.error_io(io, &e);
            return 1;
        }
        0
    }

    fn b_set(&mut self, a: &[String], io: &Io) -> R<i32> {
        if a.len() == 1 {
            self.print_vars("set", false, false, io);
            return Ok(0);
        }
        let mut i = 1;
        while i < a.len() {
            let s = &a[i];
            if s == "--" {
                self.positional = a[i + 1..].to_vec();
                return Ok(0);
            }
            if s == "-" {
                // `set -` turns off -x and -v; the positional parameters change only if
                // words follow.
                self.opts.xtrace = false;
                self.opts.verbose = false;
                if i + 1 < a.len() {
                    self.positional = a[i + 1..].to_vec();
                }
                return Ok(0);
            }
            if (s.starts_with('-') || s.starts_with('+')) && s.len() > 1 {
                let on = s.starts_with('-');
                for c in s[1..].chars() {
                    if c == 'o' {
                        i += 1;
                        match a.get(i) {
                            Some(o) => {
                                if !self.set_long_option(o, on) {
                                    self.error_io(io, &format!("set: {o}: invalid option name"));
                                    return Ok(2);
                                }
                            }
                            None => {
                                let names = shopt::SET_O_NAMES;
                                for n in names {
                                    let v = self.option_enabled(n).unwrap_or(false);
                                    if on {
                                        io.out(
                                            format!("{n:<15}\t{}\n", if v { "on" } else { "off" })
                                                .as_bytes(),
                                        );
                                    } else {
                                        io.out(
                                            format!("set {}o {n}\n", if v { "-" } else { "+" })
                                                .as_bytes(),
                                        );
                                    }
                                }
                            }
                        }
                        continue;
                    }
                    let name = match c {
                        'e' => "errexit",
                        'u' => "nounset",
                        'x' => "xtrace",
                        'f' => "noglob",
                        'C' => "noclobber",
                        'a' => "allexport",
                        'n' => "noexec",
                        'v' => "verbose",
                        'B' => "braceexpand",
                        'T' => "functrace",
                        'E' => "errtrace",
                        't' => "onecmd",
                        'h' | 'm' | 'b' | 'H' | 'P' | 'k' => continue,
                        _ => {
                            self.error_io(
                                io,
                                &format!("set: {}{c}: invalid option", if on { '-' } else { '+' }),
                            );
                            return Ok(2);
                        }
                    };
                    self.set_long_option(name, on);
                }
                i += 1;
                continue;
            }
            self.positional = a[i..].to_vec();
            return Ok(0);
        }
        Ok(0)
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
            "functrace" => op.functrace = on,
            "errtrace" => op.errtrace = on,
            "onecmd" => op.onecmd = on,
            "history" => self.set_history_option(on),
            // Options with no effect here keep their state for `set -o` and `$SHELLOPTS`.
            "hashall"
            | "histexpand"
            | "interactive-comments"
            | "posix"
            | "vi"
            | "emacs"
            | "monitor"
            | "notify"
            | "physical"
            | "privileged"
            | "keyword"
            | "ignoreeof"
            | "nolog" => {
                if let Some(k) = shopt::SET_O_NAMES.iter().find(|k| **k == o) {
                    op.other_shopts.insert(k, on);
                }
            }
            _ => return false,
        }
        true
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
        if is_builtin(&argv[0]) {
            return self.builtin(argv, io);
        }
        self.run_external(argv, Vec::new(), io)
    }

    fn which(&self, n: &str) -> Option<String> {
        if self.funcs.contains_key(n) || is_builtin(n) || KEYWORDS.contains(&n) {
            return Some(n.to_string());
        }
        if let Some(a) = self.aliases.get(n) {
            return Some(format!("alias {n}='{a}'"));
        }
        if crate::tools::find(n).is_some() {
            return Some(n.to_string());
        }
        self.path_lookup(n)
    }

    fn path_lookup(&self, n: &str) -> Option<String> {
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
        None
    }

    fn b_type(&mut self, a: &[String], io: &Io) -> i32 {
        let mut st = 0;
        let mut mode = ' ';
        for n in &a[1..] {
            match n.as_str() {
                "-t" => {
                    mode = 't';
                    continue;
                }
                "-p" | "-P" => {
                    mode = 'p';
                    continue;
                }
                "-a" | "-f" => continue,
                _ => {}
            }
            let (kind, text) = if KEYWORDS.contains(&n.as_str()) {
                ("keyword", format!("{n} is a shell keyword"))
            } else if self.funcs.contains_key(n) {
                ("function", format!("{n} is a function"))
            } else if is_builtin(n) {
                ("builtin", format!("{n} is a shell builtin"))
            } else if let Some(p) = self.path_lookup(n) {
                ("file", format!("{n} is {p}"))
            } else if crate::tools::find(n).is_some() {
                ("file", format!("{n} is {n}"))
            } else {
                if mode != 't' && mode != 'p' {
                    self.error_io(io, &format!("type: {n}: not found"));
                }
                st = 1;
                continue;
            };
            match mode {
                't' => io.out(format!("{kind}\n").as_bytes()),
                'p' => {
                    if kind == "file" {
                        io.out(format!("{}\n", self.path_lookup(n).unwrap_or_default()).as_bytes())
                    } else {
                        true
                    }
                }
                _ => io.out(format!("{text}\n").as_bytes()),
            };
        }
        st
    }
}

const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done",
    "in", "function", "select", "time", "{", "}", "[[", "]]", "!", "coproc",
];

fn parse_duration(s: &str) -> f64 {
    let (num, mul) = match s.chars().last() {
        Some('s') => (&s[..s.len() - 1], 1.0),
        Some('m') => (&s[..s.len() - 1], 60.0),
        Some('h') => (&s[..s.len() - 1], 3600.0),
        Some('d') => (&s[..s.len() - 1], 86400.0),
        _ => (s, 1.0),
    };
    num.parse::<f64>().unwrap_or(0.0) * mul
}

fn normalize(p: &std::path::Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
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

fn dq_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "\\$")
        .replace('`', "\\`")
}

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

fn dq_value(s: &str) -> String {
    if has_ctl(s) {
        ansi_quote(s)
    } else {
        format!("\"{}\"", dq_escape(s))
    }
}

fn sq_if_needed(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:,+@%=".contains(c))
    {
        s.to_string()
    } else if has_ctl(s) {
        ansi_quote(s)
    } else if s == "'" {
        "\\'".to_string()
    } else {
        crate::expand::quote(s)
    }
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
