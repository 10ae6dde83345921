//! Running a command by name: functions, builtins, the host's programs.

use crate::io::{Io, Stream};
use crate::state::{Flow, Shell, Value, Var, R};
use brush_parser::ast::{self};
use std::rc::Rc;

impl Shell {
    /// Runs a command by name: function, builtin, tool, external.
    pub fn dispatch(&mut self, argv: Vec<String>, temp: Vec<(String, String)>, io: &Io) -> R<i32> {
        let name = argv[0].as_str();
        if let Some(f) = self.functions.funcs.get(name).cloned() {
            if temp.is_empty() {
                return self.call_function(&f, argv, io);
            }
            let mut scope = crate::state::Map::default();
            for (k, v) in temp {
                scope.insert(
                    k,
                    Var {
                        value: Some(Value::Str(v)),
                        exported: true,
                        ..Var::default()
                    },
                );
            }
            self.scopes.push(scope);
            let r = self.call_function(&f, argv, io);
            self.scopes.pop();
            return r;
        }
        if self.builtin_enabled(name) {
            if temp.is_empty() {
                return self.builtin(argv, io);
            }
            let special = crate::builtins::is_special(name);
            if special {
                for (k, v) in temp {
                    if let Err(e) = self.set_var(&k, v) {
                        self.error(&e.to_string());
                    }
                }
                return self.builtin(argv, io);
            }
            let mut scope = crate::state::Map::default();
            for (k, v) in temp {
                scope.insert(
                    k,
                    Var {
                        value: Some(Value::Str(v)),
                        exported: true,
                        ..Var::default()
                    },
                );
            }
            self.scopes.push(scope);
            let r = self.builtin(argv, io);
            self.scopes.pop();
            return r;
        }
        self.run_external(argv, temp, io)
    }

    /// A tool or an external command (never a function or builtin).
    pub fn run_external(
        &mut self,
        argv: Vec<String>,
        temp: Vec<(String, String)>,
        io: &Io,
    ) -> R<i32> {
        let mut env = self.env();
        // `env [-i] [-u NAME] [NAME=VALUE]... CMD ARGS`: the command runs here, not in the tool.
        if argv[0] == "env" {
            let mut i = 1;
            let mut clear = false;
            let mut unset = Vec::new();
            let mut sets = Vec::new();
            while i < argv.len() {
                let a = &argv[i];
                if a == "-i" || a == "-" {
                    clear = true;
                } else if a == "-v" {
                    // Verbose: only traces what env does.
                } else if a == "-u" && i + 1 < argv.len() {
                    i += 1;
                    unset.push(argv[i].clone());
                } else if a == "--" {
                    i += 1;
                    break;
                } else if let Some((k, v)) = a.split_once('=').filter(|(k, _)| !k.is_empty()) {
                    sets.push((k.to_string(), v.to_string()));
                } else {
                    break;
                }
                i += 1;
            }
            if i < argv.len() {
                let mut temp2: Vec<(String, String)> = if clear { Vec::new() } else { temp };
                if clear {
                    env.clear();
                }
                env.retain(|(k, _)| !unset.contains(k));
                temp2.retain(|(k, _)| !unset.contains(k));
                temp2.extend(sets);
                return self.run_with_env(argv[i..].to_vec(), env, temp2, io);
            }
        }
        self.run_with_env(argv, env, temp, io)
    }

    fn run_with_env(
        &mut self,
        argv: Vec<String>,
        mut env: Vec<(String, String)>,
        temp: Vec<(String, String)>,
        io: &Io,
    ) -> R<i32> {
        for (k, v) in temp {
            if let Some(e) = env.iter_mut().find(|(ek, _)| *ek == k) {
                e.1 = v;
            } else {
                env.push((k, v));
            }
        }
        self.remember_command(&argv[0]);
        // In the sandbox /tmp is not writable; commands get the run's private temporary
        // directory where the script has not chosen one.
        if let Some(dir) = &self.process.temp_dir {
            if !env.iter().any(|(k, _)| k == "TMPDIR") {
                env.push(("TMPDIR".into(), dir.clone()));
            }
        }
        if let Some(args) = crate::invoke::shell_command(&argv, &self.cwd) {
            crate::io::flush_stdout();
            let start = crate::invoke::Start {
                host: self.host.clone(),
                cwd: self.cwd.clone(),
                env: &env,
                temp_dir: self.process.temp_dir.clone(),
            };
            return Ok(crate::invoke::run(&args, start, io));
        }
        // bash gives a program `_` set to the path it runs.
        let path = if self.status.exec_running {
            None
        } else if argv[0].contains('/') {
            Some(argv[0].clone())
        } else {
            self.path_lookup(&argv[0])
        };
        if let Some(p) = path {
            env.retain(|(k, _)| k != "_");
            env.push(("_".into(), p));
        }
        if let Some(tool) = crate::tools::find(&argv[0]) {
            let stdin = io.stdin();
            let stdin_len = match &stdin {
                crate::io::Stream::File(f, _) => f
                    .try_borrow()
                    .ok()
                    .and_then(|f| f.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len()),
                _ => None,
            };
            let mut r = crate::io::StreamReader(stdin);
            let mut w = crate::io::StreamWriter(io.get(1).cloned());
            let mut e = crate::io::StreamWriter(io.get(2).cloned());
            let mut ctx = crate::tools::ToolContext {
                cwd: &self.cwd,
                env: &env,
                stdin: &mut r,
                stdin_len,
                stdout: &mut w,
                stderr: &mut e,
            };
            return Ok(tool(&argv, &mut ctx));
        }
        let path_var = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_str());
        let script = crate::invoke::headerless_script(
            &argv,
            &self.cwd,
            path_var.unwrap_or("/usr/local/bin:/usr/bin:/bin"),
        );
        if let Some(args) = script {
            crate::io::flush_stdout();
            let start = crate::invoke::Start {
                host: self.host.clone(),
                cwd: self.cwd.clone(),
                env: &env,
                temp_dir: self.process.temp_dir.clone(),
            };
            return Ok(crate::invoke::run(&args, start, io));
        }
        let req = crate::host::ExecRequest {
            argv: &argv,
            env: &env,
            cwd: &self.cwd,
        };
        let host = self.host.clone();
        // The command that is a whole pipeline stage, writing to the stage's buffer: start it
        // and let the next stage read its output as it comes (the pipeline collects its
        // status). Its stderr must not need the guest meanwhile.
        if let Some(slot) = self.fds.stage.take() {
            let to_stage = matches!(io.get(1), Some(Stream::Buf(b))
                if Rc::ptr_eq(b, &slot.buf) && b.borrow().is_empty());
            let stderr_free = matches!(
                io.get(2),
                Some(Stream::Inherit(2)) | Some(Stream::Null) | None
            );
            // Its stdin must not need the guest either (feeding a buffer while nobody reads
            // the output could stall both sides).
            let stdin_free = matches!(
                io.get(0),
                Some(Stream::Inherit(0)) | Some(Stream::Null) | Some(Stream::Running(_)) | None
            );
            if to_stage && stderr_free && stdin_free && slot.func_depth == self.calls.func_depth {
                match host.spawn_stage(&req, io) {
                    Ok(r) => {
                        *slot.running.borrow_mut() = Some(r);
                        return Ok(0);
                    }
                    Err(crate::host::HostError::NotFound) => {}
                    Err(crate::host::HostError::Message(m, s)) => {
                        self.error_io(io, &m);
                        return Ok(s);
                    }
                }
            }
        }
        match host.run(&req, io) {
            Ok(s) => Ok(s),
            Err(crate::host::HostError::NotFound) => {
                // With no PATH to search, bash tries the name as a file.
                let no_path = self.get("PATH").is_none_or(|p| p.is_empty());
                let why = if no_path {
                    "No such file or directory"
                } else {
                    "command not found"
                };
                self.error_io(io, &format!("{}: {why}", argv[0]));
                Ok(127)
            }
            Err(crate::host::HostError::Message(m, s)) => {
                self.error_io(io, &m);
                Ok(s)
            }
        }
    }

    pub fn error_io(&self, io: &Io, msg: &str) {
        io.err(format!("{}{}\n", self.err_prefix(), msg).as_bytes());
    }

    pub fn call_function(
        &mut self,
        f: &Rc<ast::FunctionDefinition>,
        argv: Vec<String>,
        io: &Io,
    ) -> R<i32> {
        // bash's FUNCNEST when set to a positive number; otherwise the shell's own limit,
        // reached before the guest's stacks are (bash without FUNCNEST recurses until it
        // crashes).
        let limit = self
            .lookup("FUNCNEST")
            .and_then(|v| match &v.value {
                Some(crate::state::Value::Str(s)) => s.trim().parse::<u32>().ok(),
                _ => None,
            })
            .filter(|n| *n > 0)
            .map_or(crate::state::MAX_FUNC_DEPTH, |n| {
                n.min(crate::state::MAX_FUNC_DEPTH)
            });
        if self.calls.func_depth >= limit {
            self.error_io(
                io,
                &format!(
                    "{}: maximum function nesting level exceeded ({limit})",
                    argv[0]
                ),
            );
            return Err(Flow::Abort(1));
        }
        let mut it = argv.into_iter();
        let name = it.next().unwrap_or_default();
        let saved = std::mem::replace(&mut self.positional, it.collect());
        self.scopes.push(crate::state::Map::default());
        self.calls.func_depth += 1;
        // A function body does not see its caller's loops (bash 5.2).
        let saved_loops = std::mem::replace(&mut self.calls.loop_depth, 0);
        let src = self
            .functions
            .func_src
            .get(&name)
            .cloned()
            .unwrap_or_else(|| "main".into());
        let argv = self.extdebug().then(|| self.positional.clone());
        self.calls.frames.push(crate::state::Frame {
            name: name.clone(),
            src: src.clone(),
            call_line: self.lines.lineno,
            call_src: std::mem::replace(&mut self.calls.cur_source, src),
            argv,
        });
        let ft = self.trace_func_enter(&name);
        self.calls.funcnames.push(name);
        let saved_line = self.lines.lineno;
        let body = &f.body;
        let r = (|| -> R<i32> {
            // A traced function runs the DEBUG trap once more on entry, inside it.
            let cmd = self.status.bash_command.clone();
            if let Some(st) = self.debug_trap(&cmd, io)? {
                return Ok(st);
            }
            let io2;
            let io = match &body.1 {
                Some(r) => match self.apply_redirs(&r.0, io)? {
                    Some(n) => {
                        io2 = n;
                        &io2
                    }
                    None => return Ok(1),
                },
                None => io,
            };
            self.run_compound(&body.0, io)
        })();
        let r = match r {
            Ok(_) | Err(Flow::Return(_)) => match self.return_trap(io) {
                Ok(()) => r,
                Err(e) => Err(e),
            },
            _ => r,
        };
        self.trace_func_leave(ft);
        self.calls.funcnames.pop();
        if let Some(fr) = self.calls.frames.pop() {
            self.calls.cur_source = fr.call_src;
        }
        self.lines.lineno = saved_line;
        self.restore_local_options();
        self.calls.loop_depth = saved_loops;
        self.calls.func_depth -= 1;
        let scope = self.scopes.pop();
        self.restore_local_opts(scope);
        self.positional = saved;
        match r {
            Ok(s) => Ok(s),
            Err(Flow::Return(s)) => Ok(s),
            Err(e) => Err(e),
        }
    }
}
