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

use crate::host::Host;
use crate::io::{Io, StreamReader};
use crate::state::Shell;
use crate::state::Source;

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
    sh.process.temp_dir = start.temp_dir;
    // $BASH is the file this shell was started as: argv[0], found through PATH.
    if let Some(a0) = args.first().filter(|a| !a.contains('/') && !a.is_empty()) {
        let path = start
            .env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_str());
        let found = path
            .unwrap_or("")
            .split(':')
            .filter(|d| !d.is_empty())
            .find_map(|d| {
                let p = Path::new(d).join(a0);
                p.is_file().then(|| p.to_string_lossy().into_owned())
            });
        if let Some(p) = found {
            let _ = sh.set_var("BASH", p);
        }
    }
    let mut i = 1;
    let mut command: Option<String> = None;
    let mut dash_c = false;
    let mut noexec = false;
    let mut opts: Vec<(String, bool)> = Vec::new();
    let mut shopts: Vec<(String, bool)> = Vec::new();
    let mut read_stdin = false;
    // bash's invocation: options up to the first other word or `--`; `-c` only says that
    // the first remaining word is the command, and `-o`/`-O` take the next argument.
    while i < args.len() {
        let a = &args[i];
        if a == "--" || a == "-" {
            i += 1;
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            match long {
                "rcfile" | "init-file" => i += 1,
                "norc" | "noprofile" | "posix" | "login" | "noediting" | "debug" | "debugger"
                | "dump-strings" | "dump-po-strings" | "restricted" | "pretty-print" | "help"
                | "version" => {}
                "verbose" => opts.push(("verbose".into(), true)),
                _ => {
                    io.err(format!("bash: {a}: invalid option\n{USAGE}").as_bytes());
                    return 2;
                }
            }
            i += 1;
            continue;
        }
        if (a.starts_with('-') || a.starts_with('+')) && a.len() > 1 {
            let on = a.starts_with('-');
            let mut consumed = 0;
            for c in a[1..].chars() {
                let name = match c {
                    'e' => "errexit",
                    'u' => "nounset",
                    'x' => "xtrace",
                    'f' => "noglob",
                    'C' => "noclobber",
                    'a' => "allexport",
                    'v' => "verbose",
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
                        dash_c = true;
                        continue;
                    }
                    'o' | 'O' => {
                        consumed += 1;
                        if let Some(o) = args.get(i + consumed) {
                            if c == 'o' {
                                opts.push((o.clone(), on));
                            } else {
                                shopts.push((o.clone(), on));
                            }
                        }
                        continue;
                    }
                    _ => continue,
                };
                opts.push((name.to_string(), on));
            }
            i += 1 + consumed;
            continue;
        }
        break;
    }
    for (o, on) in opts {
        if !sh.set_long_option(&o, on) {
            io.err(format!("bash: {o}: invalid option name\n").as_bytes());
            return 2;
        }
    }
    for (o, on) in shopts {
        let flag = if on { "-s" } else { "-u" };
        let argv = vec!["shopt".to_string(), flag.to_string(), o];
        if !matches!(sh.builtin(argv, io), Ok(0)) {
            return 2;
        }
    }
    if dash_c {
        command = args.get(i).cloned();
        if command.is_none() {
            io.err(b"bash: -c: option requires an argument\n");
            return 2;
        }
        i += 1;
    }
    let rest: Vec<String> = args[i.min(args.len())..].to_vec();
    let (src, source) = if let Some(c) = command {
        if let Some(n) = rest.first() {
            sh.arg0 = n.clone();
            sh.positional = rest[1..].to_vec();
        }
        sh.messages.fatal_status = 127;
        let _ = sh.set_var("BASH_EXECUTION_STRING", c.clone());
        sh.opts.invocation_flag = Some('c');
        (c, Source::DashC)
    } else if !rest.is_empty() && !read_stdin {
        let file = &rest[0];
        let path = sh.cwd.join(file);
        match std::fs::read(&path) {
            Ok(b) => {
                sh.arg0 = file.clone();
                sh.messages.err_name = file.clone();
                sh.messages.err_lines = true;
                sh.calls.script_mode = true;
                sh.calls.cur_source = file.clone();
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
    } else if crate::interactive::on_terminal(io) && !noexec {
        sh.positional = rest;
        sh.opts.invocation_flag = Some('s');
        return crate::interactive::run(&mut sh, io);
    } else {
        let mut s = String::new();
        let _ = StreamReader(io.stdin()).read_to_string(&mut s);
        sh.positional = rest;
        sh.opts.invocation_flag = Some('s');
        (s, Source::Stdin)
    };
    if noexec {
        return match crate::syntax::parse(&src) {
            Ok(_) => 0,
            Err(e) => {
                sh.print_syntax_error(source, e.line, &e.message);
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

/// An executable text file without a `#!` line fails to exec (ENOEXEC) and bash
/// then runs it as a shell script itself: the arguments for that shell, when
/// `argv` names such a file (directly or along `path`). Binaries (a NUL byte
/// near the start) are left to the host.
pub fn headerless_script(argv: &[String], cwd: &Path, path: &str) -> Option<Vec<String>> {
    let first = argv.first()?;
    let file = if first.contains('/') {
        cwd.join(first)
    } else {
        path.split(':').find_map(|dir| {
            let dir = if dir.is_empty() { "." } else { dir };
            let p = cwd.join(dir).join(first);
            (p.is_file() && crate::test::is_executable(&p)).then_some(p)
        })?
    };
    if !file.is_file() || !crate::test::is_executable(&file) {
        return None;
    }
    let mut head = [0u8; 128];
    let n = std::fs::File::open(&file).ok()?.read(&mut head).ok()?;
    let head = &head[..n];
    if head.starts_with(b"#!") || head.contains(&0) {
        return None;
    }
    let mut args = vec!["bash".to_string(), file.to_string_lossy().into_owned()];
    args.extend(argv.iter().skip(1).cloned());
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
    let Some(line) = head[..n].strip_prefix(b"#!") else {
        // No `#!`: the kernel refuses it (ENOEXEC) and bash runs it as a shell script
        // itself, unless its first line holds a NUL (a binary file).
        let first = head[..n].split(|&b| b == b'\n').next().unwrap_or_default();
        let binary = first.contains(&0) || head[..n].starts_with(b"\x7fELF");
        return (!binary && crate::test::is_executable(path)).then(|| ("bash".to_string(), None));
    };
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

const USAGE: &str = "Usage:\tbash [GNU long option] [option] ...
\tbash [GNU long option] [option] script-file ...
GNU long options:
\t--debug
\t--debugger
\t--dump-po-strings
\t--dump-strings
\t--help
\t--init-file
\t--login
\t--noediting
\t--noprofile
\t--norc
\t--posix
\t--pretty-print
\t--rcfile
\t--restricted
\t--verbose
\t--version
Shell options:
\t-ilrsD or -c command or -O shopt_option\t\t(invocation only)
\t-abefhkmnptuvxBCEHPT or -o option
";
