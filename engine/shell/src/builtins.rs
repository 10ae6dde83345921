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
pub mod hash;
pub(crate) mod history;
pub mod jobs;
mod options;
mod signals;
mod source;
mod ulimit;

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
                if let Err(e) = crate::exec::parse(&src) {
                    let (line, msg) = crate::exec::syntax_error_message(&src, &e);
                    let prefix = format!("{}: eval: line {line}: ", self.err_name);
                    for m in msg.split('\x00') {
                        io.err(format!("{prefix}{}\n", m.trim_end_matches('\n')).as_bytes());
                    }
                    return Ok(2);
                }
                self.run_string_flow(&src, io)?
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
                let r = self.run_string_flow(&text, io);
                // RETURN fires when a sourced file finishes, still inside it.
                if !self.in_trap && !matches!(r, Err(Flow::Exit(_))) {
                    if let Some(t) = self.traps.get("RETURN").cloned() {
                        let st = self.last_status;
                        self.run_trap(&t, io);
                        self.last_status = st;
                    }
                }
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
            "times" | "jobs" => 0,
            "enable" => self.b_enable(a, io),
            crate::select::BUILTIN => self.select_turn(a, io),
            "help" => self.b_help(a, io),
            "wait" => self.b_wait(a, io),
            "ulimit" => self.b_ulimit(a, io),
            "umask" => {
                if a.len() == 1 {
                    io.out(b"0022\n");
                }
                0
            }
            "kill" => self.b_kill(a, io)?,
            "alias" => self.b_alias(a, io),
            "unalias" => self.b_unalias(a, io),
            "exec" => return self.b_exec(a, io),
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

    fn b_printf(&mut self, a: &[String], io: &Io) -> i32 {
        let mut i = 1;
        let mut var = None;
        if a.get(1).map(|s| s.as_str()) == Some("-v") {
            var = a.get(2).cloned();
            i = 3;
        }
        if a.get(i).map(|s| s.as_str()) == Some("--") {
            i += 1;
        }
        let Some(fmt) = a.get(i) else {
            self.error_io(io, "printf: usage: printf [-v var] format [arguments]");
            return 2;
        };
        let args = &a[i + 1..];
        let (out, st) = printf_format(fmt, args, |m| self.error_io(io, &format!("printf: {m}")));
        match var {
            Some(v) => {
                if let Some((n, idx)) = v.split_once('[') {
                    let idx = idx.trim_end_matches(']');
                    let key = if self.is_assoc(n) {
                        ElemKey::Str(idx.into())
                    } else {
                        ElemKey::Idx(self.arith_str(idx).unwrap_or(0))
                    };
                    let _ = self.set_elem(n, key, out);
                } else if let Err(e) = self.set_var(&v, out) {
                    self.error_io(io, &e);
                    return 1;
                }
            }
            None => {
                io.out(out.as_bytes());
            }
        }
        st
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
        if matches!(
            self.lookup(&name).and_then(|v| v.value.as_ref()),
            Some(Value::Assoc(_))
        ) {
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
            self.error_io(io, &e);
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
        None
    }

    fn b_getopts(&mut self, a: &[String], io: &Io) -> i32 {
        if a.len() < 3 {
            self.error_io(io, "getopts: usage: getopts optstring name [arg ...]");
            return 2;
        }
        let spec = a[1].clone();
        let var = a[2].clone();
        let args: Vec<String> = if a.len() > 3 {
            a[3..].to_vec()
        } else {
            self.positional.clone()
        };
        let silent = spec.starts_with(':');
        let mut optind: usize = self
            .get("OPTIND")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1)
            .max(1);
        if optind == 1 && self.getopts_sub > 0 && self.getopts_last_ind != 1 {
            self.getopts_sub = 0;
        }
        let Some(cur) = args.get(optind - 1).cloned() else {
            let _ = self.set_var(&var, "?".into());
            return 1;
        };
        if self.getopts_sub == 0 {
            if cur == "--" {
                let _ = self.set_var("OPTIND", (optind + 1).to_string());
                let _ = self.set_var(&var, "?".into());
                return 1;
            }
            if !cur.starts_with('-') || cur == "-" {
                let _ = self.set_var(&var, "?".into());
                return 1;
            }
            self.getopts_sub = 1;
        }
        let chars: Vec<char> = cur.chars().collect();
        let c = chars[self.getopts_sub];
        self.getopts_sub += 1;
        let at_end = self.getopts_sub >= chars.len();
        let pos = spec.find(c).filter(|_| c != ':');
        let needs_arg = pos.is_some_and(|p| spec[p + 1..].starts_with(':'));
        let _ = self.unset("OPTARG");
        let mut ret_c = c.to_string();
        if pos.is_none() {
            if silent {
                let _ = self.set_var("OPTARG", c.to_string());
            } else {
                io.err(format!("{}: illegal option -- {c}\n", self.arg0).as_bytes());
            }
            ret_c = "?".into();
        } else if needs_arg {
            if !at_end {
                let _ = self.set_var("OPTARG", chars[self.getopts_sub..].iter().collect());
                self.getopts_sub = chars.len();
            } else if let Some(v) = args.get(optind) {
                let _ = self.set_var("OPTARG", v.clone());
                optind += 1;
            } else if silent {
                let _ = self.set_var("OPTARG", c.to_string());
                ret_c = ":".into();
            } else {
                io.err(format!("{}: option requires an argument -- {c}\n", self.arg0).as_bytes());
                ret_c = "?".into();
            }
        }
        if self.getopts_sub >= chars.len() {
            self.getopts_sub = 0;
            optind += 1;
        }
        self.getopts_last_ind = optind;
        let _ = self.set_var("OPTIND", optind.to_string());
        let _ = self.set_var(&var, ret_c);
        0
    }

    fn b_trap(&mut self, a: &[String], io: &Io) -> i32 {
        let show = |sh: &Self, sig: &str| -> Option<String> {
            let cmd = sh.traps.get(sig)?;
            let shown = if matches!(sig, "EXIT" | "ERR" | "DEBUG" | "RETURN") {
                sig.to_string()
            } else {
                format!("SIG{sig}")
            };
            Some(format!("trap -- {} {shown}\n", crate::expand::quote(cmd)))
        };
        if a.get(1).map(|s| s.as_str()) == Some("-l") {
            io.out(b" 1) SIGHUP\t 2) SIGINT\t 3) SIGQUIT\t 4) SIGILL\t 5) SIGTRAP\n 6) SIGABRT\t 7) SIGBUS\t 8) SIGFPE\t 9) SIGKILL\t10) SIGUSR1\n11) SIGSEGV\t12) SIGUSR2\t13) SIGPIPE\t14) SIGALRM\t15) SIGTERM\n");
            return 0;
        }
        if a.len() == 1 || a.get(1).map(|s| s.as_str()) == Some("-p") {
            let mut out = String::new();
            if a.len() > 2 {
                for s in &a[2..] {
                    if let Some(l) = show(self, &sig_name(s)) {
                        out.push_str(&l);
                    }
                }
            } else {
                let mut t: Vec<&String> = self.traps.keys().collect();
                t.sort_by_key(|k| sig_order(k));
                for sig in t {
                    if let Some(l) = show(self, sig) {
                        out.push_str(&l);
                    }
                }
            }
            io.out(out.as_bytes());
            return 0;
        }
        let mut args = &a[1..];
        if args[0] == "--" {
            args = &args[1..];
        }
        if args.is_empty() {
            return 0;
        }
        // A lone signal number/name resets it.
        if args.len() == 1 || args[0] == "-" {
            let sigs = if args[0] == "-" { &args[1..] } else { args };
            for s in sigs {
                let name = sig_name(s);
                if name == "DEBUG" {
                    self.debug_inherited = false;
                }
                self.traps.remove(&name);
            }
            return 0;
        }
        let cmd = &args[0];
        let mut st = 0;
        for s in &args[1..] {
            let sig = sig_name(s);
            if sig.is_empty() {
                self.error_io(io, &format!("trap: {s}: invalid signal specification"));
                st = 1;
                continue;
            }
            if sig == "EXIT" {
                self.exit_trap_level = self.subshell;
            }
            if sig == "DEBUG" {
                self.debug_inherited = false;
            }
            self.traps.insert(sig, cmd.clone());
        }
        st
    }
}

fn sig_order(s: &str) -> u32 {
    match s {
        "EXIT" => 0,
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "USR1" => 10,
        "USR2" => 12,
        "PIPE" => 13,
        "ALRM" => 14,
        "TERM" => 15,
        "CHLD" => 17,
        "DEBUG" => 100,
        "ERR" => 101,
        "RETURN" => 102,
        _ => 50,
    }
}

/// shopt options accepted for compatibility; they do not change this shell's behaviour.
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done",
    "in", "function", "select", "time", "{", "}", "[[", "]]", "!", "coproc",
];

fn sig_name(s: &str) -> String {
    let u = s.to_uppercase();
    let u = u.strip_prefix("SIG").unwrap_or(&u).to_string();
    match u.as_str() {
        "0" | "EXIT" => "EXIT".into(),
        "ERR" | "DEBUG" | "RETURN" => u,
        "1" | "HUP" => "HUP".into(),
        "2" | "INT" => "INT".into(),
        "3" | "QUIT" => "QUIT".into(),
        "15" | "TERM" => "TERM".into(),
        "9" | "KILL" => "KILL".into(),
        "10" | "USR1" => "USR1".into(),
        "12" | "USR2" => "USR2".into(),
        "13" | "PIPE" => "PIPE".into(),
        "14" | "ALRM" => "ALRM".into(),
        "17" | "CHLD" => "CHLD".into(),
        _ => String::new(),
    }
}

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

/// bash's printf: the format is reused until the arguments are consumed.
pub fn printf_format(fmt: &str, args: &[String], mut err: impl FnMut(&str)) -> (String, i32) {
    let mut out = String::new();
    let mut st = 0;
    let mut ai = 0;
    let f: Vec<char> = fmt.chars().collect();
    loop {
        let start_ai = ai;
        let mut i = 0;
        while i < f.len() {
            let c = f[i];
            if c == '\\' {
                let mut j = i + 1;
                // Take the escape sequence text.
                if j < f.len() {
                    let e = f[j];
                    j += 1;
                    if e.is_digit(8) || e == 'x' || e == 'u' || e == 'U' {
                        let max = match e {
                            'x' => 2,
                            'u' => 4,
                            'U' => 8,
                            _ => 2,
                        };
                        let mut k = 0;
                        while k < max
                            && j < f.len()
                            && (if e.is_digit(8) {
                                f[j].is_digit(8)
                            } else {
                                f[j].is_ascii_hexdigit()
                            })
                        {
                            j += 1;
                            k += 1;
                        }
                    }
                }
                let seq: String = f[i..j].iter().collect();
                if seq == "\\c" {
                    return (out, st);
                }
                out.push_str(&crate::expand::decode_escapes(&seq, false).0);
                i = j;
                continue;
            }
            if c != '%' {
                out.push(c);
                i += 1;
                continue;
            }
            i += 1;
            if i < f.len() && f[i] == '%' {
                out.push('%');
                i += 1;
                continue;
            }
            let mut flags = String::new();
            while i < f.len() && "-+ #0".contains(f[i]) {
                flags.push(f[i]);
                i += 1;
            }
            let mut width = String::new();
            if i < f.len() && f[i] == '*' {
                width = args.get(ai).cloned().unwrap_or_default();
                ai += 1;
                i += 1;
            } else {
                while i < f.len() && f[i].is_ascii_digit() {
                    width.push(f[i]);
                    i += 1;
                }
            }
            let mut prec: Option<String> = None;
            if i < f.len() && f[i] == '.' {
                i += 1;
                let mut p = String::new();
                if i < f.len() && f[i] == '*' {
                    p = args.get(ai).cloned().unwrap_or_default();
                    ai += 1;
                    i += 1;
                } else {
                    while i < f.len() && f[i].is_ascii_digit() {
                        p.push(f[i]);
                        i += 1;
                    }
                }
                prec = Some(p);
            }
            while i < f.len() && "hlLjzt".contains(f[i]) {
                i += 1;
            }
            let Some(&conv) = f.get(i) else {
                out.push('%');
                break;
            };
            i += 1;
            let arg = args.get(ai).cloned();
            if !matches!(conv, '%') {
                ai += 1;
            }
            let left = flags.contains('-');
            let zero = flags.contains('0') && !left;
            let w: usize = width.trim_start_matches('-').parse().unwrap_or(0);
            let left = left || width.starts_with('-');
            let pad = |s: String, numeric: bool| -> String {
                let n = s.chars().count();
                if n >= w {
                    return s;
                }
                if left {
                    format!("{s}{}", " ".repeat(w - n))
                } else if zero && numeric {
                    let (sign, digits) = if s.starts_with('-') || s.starts_with('+') {
                        s.split_at(1)
                    } else {
                        ("", s.as_str())
                    };
                    format!("{sign}{}{digits}", "0".repeat(w - n))
                } else {
                    format!("{}{s}", " ".repeat(w - n))
                }
            };
            match conv {
                's' | 'b' | 'q' => {
                    let mut s = arg.unwrap_or_default();
                    if conv == 'b' {
                        let (d, stop) = crate::expand::decode_escapes(&s, true);
                        s = d;
                        if stop {
                            out.push_str(&pad(s, false));
                            return (out, st);
                        }
                    }
                    if conv == 'q' {
                        s = printf_q(&s);
                    }
                    if let Some(p) = &prec {
                        let p: usize = p.parse().unwrap_or(0);
                        s = s.chars().take(p).collect();
                    }
                    out.push_str(&pad(s, false));
                }
                'c' => {
                    let s: String = arg.unwrap_or_default().chars().take(1).collect();
                    out.push_str(&pad(s, false));
                }
                'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
                    let a = arg.unwrap_or_default();
                    let v = match parse_num(&a) {
                        Some(v) => v,
                        None => {
                            err(&format!("{a}: invalid number"));
                            st = 1;
                            0
                        }
                    };
                    let mut s = match conv {
                        'd' | 'i' => v.to_string(),
                        'u' => (v as u64).to_string(),
                        'x' => format!("{:x}", v),
                        'X' => format!("{:X}", v),
                        _ => format!("{:o}", v),
                    };
                    if let Some(p) = &prec {
                        let p: usize = p.parse().unwrap_or(0);
                        let neg = s.starts_with('-');
                        let digits = s.trim_start_matches('-').to_string();
                        if digits.len() < p {
                            s = format!(
                                "{}{}{}",
                                if neg { "-" } else { "" },
                                "0".repeat(p - digits.len()),
                                digits
                            );
                        }
                    }
                    if flags.contains('+') && v >= 0 && matches!(conv, 'd' | 'i') {
                        s = format!("+{s}");
                    } else if flags.contains(' ') && v >= 0 && matches!(conv, 'd' | 'i') {
                        s = format!(" {s}");
                    }
                    if flags.contains('#') && v != 0 {
                        match conv {
                            'x' => s = format!("0x{s}"),
                            'X' => s = format!("0X{s}"),
                            'o' => s = format!("0{s}"),
                            _ => {}
                        }
                    }
                    out.push_str(&pad(s, prec.is_none()));
                }
                'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                    let a = arg.unwrap_or_default();
                    let v: f64 = a
                        .trim()
                        .parse()
                        .unwrap_or_else(|_| parse_num(&a).unwrap_or(0) as f64);
                    let p: usize = prec.as_ref().and_then(|p| p.parse().ok()).unwrap_or(6);
                    let mut s = match conv {
                        'f' | 'F' => format!("{:.*}", p, v),
                        'e' | 'E' => {
                            let s = format!("{:.*e}", p, v);
                            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                            let ev: i32 = e.parse().unwrap_or(0);
                            let r =
                                format!("{m}e{}{:02}", if ev < 0 { '-' } else { '+' }, ev.abs());
                            if conv == 'E' {
                                r.to_uppercase()
                            } else {
                                r
                            }
                        }
                        _ => {
                            let p = if p == 0 { 1 } else { p };
                            let exp = if v == 0.0 {
                                0
                            } else {
                                v.abs().log10().floor() as i32
                            };
                            if exp < -4 || exp >= p as i32 {
                                let s = format!("{:.*e}", p - 1, v);
                                let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                                let m = if m.contains('.') {
                                    m.trim_end_matches('0').trim_end_matches('.')
                                } else {
                                    m
                                };
                                let ev: i32 = e.parse().unwrap_or(0);
                                format!("{m}e{}{:02}", if ev < 0 { '-' } else { '+' }, ev.abs())
                            } else {
                                let s = format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, v);
                                if s.contains('.') {
                                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                                } else {
                                    s
                                }
                            }
                        }
                    };
                    if flags.contains('+') && v >= 0.0 {
                        s = format!("+{s}");
                    }
                    out.push_str(&pad(s, true));
                }
                other => {
                    err(&format!("%{other}: invalid format character"));
                    return (out, 1);
                }
            }
        }
        if ai >= args.len() || ai == start_ai {
            break;
        }
    }
    (out, st)
}

fn parse_num(a: &str) -> Option<i64> {
    let t = a.trim();
    if t.is_empty() {
        return Some(0);
    }
    if let Some(c) = t.strip_prefix('\'').or_else(|| t.strip_prefix('"')) {
        return Some(c.chars().next().map(|c| c as i64).unwrap_or(0));
    }
    let (neg, d) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = if let Some(h) = d.strip_prefix("0x").or_else(|| d.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if d.len() > 1 && d.starts_with('0') {
        i64::from_str_radix(&d[1..], 8).ok()?
    } else {
        d.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

fn printf_q(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || "_-./=:,+@%^".contains(c) {
            out.push(c);
        } else if c == '\n' {
            return format!(
                "$'{}'",
                s.replace('\\', "\\\\")
                    .replace('\'', "\\'")
                    .replace('\n', "\\n")
                    .replace('\t', "\\t")
            );
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

#[allow(dead_code)]
fn unused(_: Flow, _: ElemKey) {}
