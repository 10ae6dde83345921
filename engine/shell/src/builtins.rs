//! Builtin commands. Each takes argv and the fd table and returns a status (or a Flow for
//! `exit`, `return`, `break`, `continue`).

use crate::io::Io;
use crate::state::{ElemKey, Flow, Shell, Value, R};

mod vars;
pub(crate) use vars::{assoc_key_text, dq_value, value_text};

mod alias;
pub(crate) mod bind;
pub(crate) mod completion;
mod dirs;
mod enable;
mod exec;
mod getopts;
pub mod hash;
pub(crate) mod history;
pub mod jobs;
mod options;
mod printf;
mod source;
mod trap;
mod ulimit;
mod umask;
pub(crate) use umask::DEFAULT_UMASK;

const BUILTINS: &[&str] = &[
    crate::select::BUILTIN,
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
            "pwd" => self.b_pwd(a, io),
            "cd" => self.b_cd(a, io),
            "pushd" | "popd" | "dirs" => self.b_dirs(a, io),
            "local" if a.iter().skip(1).any(|s| s == "-") && self.func_depth > 0 => {
                self.local_options();
                let rest: Vec<String> = a.iter().filter(|s| *s != "-").cloned().collect();
                if rest.len() > 1 {
                    self.b_declare(&rest, &[], io)?
                } else {
                    0
                }
            }
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
                if a.len() > 2 && self.loop_depth > 0 {
                    // bash leaves every loop after this error too.
                    self.error_io(io, &format!("{name}: too many arguments"));
                    self.last_status = 1;
                    return Err(Flow::Break(self.loop_depth));
                }
                let n = match a.get(1).map(|s| (s, s.parse::<i64>())) {
                    None => 1,
                    Some((_, Ok(n))) if n >= 1 => u32::try_from(n).unwrap_or(u32::MAX),
                    Some((s, Ok(_))) => {
                        // bash leaves every loop after this error.
                        self.error_io(io, &format!("{name}: {s}: loop count out of range"));
                        self.last_status = 1;
                        if self.loop_depth == 0 {
                            return Ok(1);
                        }
                        return Err(Flow::Break(self.loop_depth));
                    }
                    Some((s, Err(_))) if self.loop_depth > 0 => {
                        // A special builtin's usage error: the shell exits.
                        self.error_io(io, &format!("{name}: {s}: numeric argument required"));
                        return Err(Flow::Exit(128));
                    }
                    Some(_) => 1,
                };
                if self.loop_depth == 0 {
                    self.error_io(
                        io,
                        &format!("{name}: only meaningful in a `for', `while', or `until' loop"),
                    );
                    return Ok(0);
                }
                let n = n.min(self.loop_depth);
                self.last_status = 0;
                return Err(if name == "break" {
                    Flow::Break(n)
                } else {
                    Flow::Continue(n)
                });
            }
            "eval" => {
                let mut args = &a[1..];
                if args.first().is_some_and(|x| x == "--") {
                    args = &args[1..];
                } else if let Some(opt) = args.first().filter(|x| x.len() > 1 && x.starts_with('-'))
                {
                    self.error_io(io, &format!("eval: {}: invalid option", &opt[..2]));
                    self.error_io(io, "eval: usage: eval [arg ...]");
                    return Ok(2);
                }
                let src = args.join(" ");
                // The eval'd text's first line is the line of the eval, one level deeper for -x.
                let off = std::mem::replace(&mut self.line_offset, self.lineno.saturating_sub(1));
                self.xdepth += 1;
                let r = self.run_text(&src, io, true);
                self.xdepth -= 1;
                self.line_offset = off;
                r?
            }
            "source" | "." => {
                let dashes = a.get(1).is_some_and(|x| x == "--");
                let a = if dashes { &a[1..] } else { &a[..] };
                let Some(file) = a.get(1) else {
                    self.error_io(io, &format!("{name}: filename argument required"));
                    return Ok(2);
                };
                let path = if file.contains('/') {
                    Some(self.cwd.join(file))
                } else {
                    self.source_search(file)
                };
                // The shell's own fds, not the process's, back /dev/stdin and /dev/fd/N.
                let own_fd = match file.as_str() {
                    "/dev/stdin" => Some(0),
                    f => f
                        .strip_prefix("/dev/fd/")
                        .and_then(|n| n.parse::<usize>().ok()),
                };
                let text = match own_fd.and_then(|n| io.get(n)) {
                    Some(stream) => {
                        Some(String::from_utf8_lossy(&stream.read_to_end()).into_owned())
                    }
                    None => path.and_then(|p| std::fs::read_to_string(p).ok()),
                };
                let Some(text) = text else {
                    self.error_io(io, &format!("{file}: No such file or directory"));
                    // A special builtin's failure ends a POSIX-mode shell.
                    if self.set_option_value("posix").unwrap_or(false) {
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
                if self.argv_main.is_none() {
                    self.argv_main = Some(self.positional.clone());
                }
                self.frames.push(crate::state::Frame {
                    name: "source".into(),
                    src: file.clone(),
                    call_line: line,
                    call_src: std::mem::replace(&mut self.cur_source, file.clone()),
                    argv: Some(vec![file.clone()]),
                });
                self.line_offset = 0;
                let ft = self.trace_source_enter();
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
            "hash" => self.b_hash(a, io),
            "getopts" => self.b_getopts(a, io),
            "trap" => self.b_trap(a, io),
            "sleep" => {
                let secs: f64 = a[1..].iter().map(|s| parse_duration(s)).sum();
                crate::io::flush_stdout();
                let total = std::time::Duration::from_secs_f64(secs.max(0.0));
                if !self.interrupts.on {
                    std::thread::sleep(total);
                    return Ok(0);
                }
                // At a prompt Ctrl-C ends a sleep, as SIGINT ends bash's: wake to look.
                let until = std::time::Instant::now() + total;
                loop {
                    let left = until.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        break 0;
                    }
                    std::thread::sleep(left.min(std::time::Duration::from_millis(50)));
                    self.interrupts.check()?;
                }
            }
            "let" => {
                let mut v = 0;
                for e in &a[1..] {
                    v = self.arith_cmd_str("let: ", e)?;
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
            // A guest measures no CPU time of its own, and background jobs have finished
            // (builtins/jobs.rs) by the time `jobs` could list them.
            "times" | "jobs" => 0,
            "enable" => self.b_enable(a, io),
            crate::select::BUILTIN => self.select_turn(a, io),
            "help" => self.b_help(a, io),
            "wait" => self.b_wait(a, io),
            "ulimit" => self.b_ulimit(a, io),
            "umask" => self.b_umask(a, io),
            "kill" => self.b_kill(a, io)?,
            "alias" => self.b_alias(a, io),
            "unalias" => self.b_unalias(a, io),
            "exec" => return self.b_exec(a, io),
            // A name in BUILTINS with no arm here: say so rather than succeed silently.
            _ => {
                self.error_io(io, &format!("{name}: builtin not implemented"));
                2
            }
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
