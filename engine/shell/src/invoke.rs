//! Starting a shell the way `bash`/`sh` is started: options (`-e`, `-u`, `-x`, `-o OPT`, `-n`,
//! `-s`), then `-c CMD [NAME [ARGS]]`, `FILE [ARGS]`, or the script on standard input.
//!
//! The binary's `main` uses it for the process's own arguments, and the evaluator uses it when
//! a script runs `bash …`, `sh …` or an executable script whose `#!` line names one of them:
//! in a guest with no fork that is a fresh shell in this process, with the exported
//! environment, the current directory and the caller's fds — never a host process, so a hook
//! cannot leave the sandbox by starting a shell.

use std::cell::Cell;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::exec::{self, Source};
use crate::host::Host;
use crate::io::{Io, StreamReader};
use crate::state::Shell;

/// Most shells started inside one another (`bash -c 'bash -c …'`). Each one costs stack in a
/// guest whose stack is fixed; bash's own limit is memory, ours must be a number.
pub const MAX_NESTED_SHELLS: u32 = 16;

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Everything a shell starts with besides its arguments.
pub struct Start<'a> {
    pub host: Rc<dyn Host>,
    pub cwd: PathBuf,
    pub env: &'a [(String, String)],
    /// The sandbox's private temporary directory (see `Shell::temp_dir`).
    pub temp_dir: Option<String>,
}

/// Runs a shell with sh's arguments (`args[0]` is its name) on the given fds; returns its
/// status.
pub fn run(args: &[String], start: Start<'_>, io: &Io) -> i32 {
    let depth = DEPTH.with(Cell::get);
    if depth >= MAX_NESTED_SHELLS {
        io.err(
            format!("bash: more than {MAX_NESTED_SHELLS} shells started inside one another\n")
                .as_bytes(),
        );
        return 126;
    }
    DEPTH.with(|d| d.set(depth + 1));
    let status = run_shell(args, start, io);
    DEPTH.with(|d| d.set(depth));
    status
}

fn run_shell(args: &[String], start: Start<'_>, io: &Io) -> i32 {
    let mut sh = Shell::new(start.host, start.cwd, start.env);
    sh.temp_dir = start.temp_dir;
    let mut i = 1;
    let mut command: Option<String> = None;
    let mut noexec = false;
    let mut opts: Vec<(String, bool)> = Vec::new();
    let mut read_stdin = false;
    while i < args.len() {
        let a = &args[i];
        if a == "-c" {
            i += 1;
            command = args.get(i).cloned();
            if command.is_none() {
                io.err(b"bash: -c: option requires an argument\n");
                return 2;
            }
            i += 1;
            continue;
        }
        if a == "--" {
            i += 1;
            break;
        }
        if a == "-o" || a == "+o" {
            if let Some(o) = args.get(i + 1) {
                opts.push((o.clone(), a == "-o"));
            }
            i += 2;
            continue;
        }
        if a.starts_with("--") {
            i += 1;
            continue;
        }
        if (a.starts_with('-') || a.starts_with('+')) && a.len() > 1 {
            let on = a.starts_with('-');
            for c in a[1..].chars() {
                let name = match c {
                    'e' => "errexit",
                    'u' => "nounset",
                    'x' => "xtrace",
                    'f' => "noglob",
                    'C' => "noclobber",
                    'a' => "allexport",
                    'v' => "verbose",
                    'T' => "functrace",
                    'E' => "errtrace",
                    't' => "onecmd",
                    'n' => {
                        noexec = true;
                        continue;
                    }
                    's' => {
                        read_stdin = true;
                        continue;
                    }
                    'c' => {
                        command = args.get(i + 1).cloned();
                        i += 1;
                        continue;
                    }
                    _ => continue,
                };
                opts.push((name.to_string(), on));
            }
            i += 1;
            continue;
        }
        break;
    }
    for (o, on) in opts {
        sh.set_long_option(&o, on);
    }
    let rest: Vec<String> = args[i.min(args.len())..].to_vec();
    let (src, source) = if let Some(c) = command {
        if let Some(n) = rest.first() {
            sh.arg0 = n.clone();
            sh.positional = rest[1..].to_vec();
        }
        sh.fatal_status = 127;
        sh.opts.read_mode = Some('c');
        (c, Source::DashC)
    } else if !rest.is_empty() && !read_stdin {
        let file = &rest[0];
        let path = sh.cwd.join(file);
        match std::fs::read(&path) {
            Ok(b) => {
                sh.arg0 = file.clone();
                sh.err_name = file.clone();
                sh.err_lines = true;
                sh.script_mode = true;
                sh.cur_source = file.clone();
                sh.positional = rest[1..].to_vec();
                (String::from_utf8_lossy(&b).into_owned(), Source::File)
            }
            Err(e) => {
                let why = if e.kind() == std::io::ErrorKind::NotFound {
                    "No such file or directory".to_string()
                } else {
                    e.to_string()
                };
                io.err(format!("bash: {file}: {why}\n").as_bytes());
                return 127;
            }
        }
    } else {
        let mut s = String::new();
        let _ = StreamReader(io.stdin()).read_to_string(&mut s);
        sh.positional = rest;
        sh.opts.read_mode = Some('s');
        (s, Source::Stdin)
    };
    if noexec {
        return match exec::parse(&src) {
            Ok(_) => 0,
            Err(e) => {
                let (line, msg) = exec::syntax_error_message(&src, &e);
                sh.print_syntax_error(source, line, &msg);
                2
            }
        };
    }
    sh.run_script(&src, source, io)
}

/// Whether running `argv` means starting a shell, and with which arguments: `bash`/`sh` by
/// name or path, or an executable file whose `#!` line names one of them (directly or through
/// `env`). `None`: an ordinary command.
pub fn shell_command(argv: &[String], cwd: &Path) -> Option<Vec<String>> {
    let first = argv.first()?;
    if is_shell_name(first) {
        return Some(argv.to_vec());
    }
    if !first.contains('/') {
        return None;
    }
    let (interp, arg) = shebang_shell(&cwd.join(first))?;
    // The kernel runs `INTERP [ARG] PATH ARGS`; the shell sees the script as its operand.
    let mut args = vec![interp];
    args.extend(arg);
    args.extend(argv.iter().cloned());
    Some(args)
}

fn is_shell_name(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    // By path, only where a system keeps its shells: `./bash` is some other program.
    matches!(base, "bash" | "sh")
        && (!name.contains('/')
            || matches!(
                name,
                "/bin/bash" | "/bin/sh" | "/usr/bin/bash" | "/usr/bin/sh" | "/usr/local/bin/bash"
            ))
}

/// The shell a script's `#!` line names, when the file is an executable script for bash or sh.
fn shebang_shell(path: &Path) -> Option<(String, Option<String>)> {
    let mut head = [0u8; 128];
    let mut file = std::fs::File::open(path).ok()?;
    let n = file.read(&mut head).ok()?;
    let line = head[..n].strip_prefix(b"#!")?;
    let line = line.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split_whitespace();
    let mut interp = words.next()?;
    if interp == "/usr/bin/env" || interp == "/bin/env" {
        interp = words.next()?;
    }
    if !is_shell_name(interp) || !crate::test::is_executable(path) {
        return None;
    }
    // Like Linux, everything after the interpreter is one argument.
    let rest: Vec<&str> = words.collect();
    let arg = (!rest.is_empty()).then(|| rest.join(" "));
    let name = interp.rsplit('/').next().unwrap_or(interp).to_string();
    Some((name, arg))
}
