//! `hookbox-shell`: sh-like entry (`-c CMD [NAME [ARGS]]`, `FILE [ARGS]`, or the script on
//! stdin; `-n`, `-e`, `-u`, `-x`, `-o OPT`). The shell keeps its own cwd (WASI has no chdir).

use hookbox_shell::{exec, io, Shell, Source};
use std::io::Read;
use std::rc::Rc;

fn main() {
    let code = run();
    io::flush_stdout();
    std::process::exit(code);
}

fn run() -> i32 {
    let args: Vec<String> = std::env::args().collect();
    let env: Vec<(String, String)> = std::env::vars().collect();
    // WASI has no chdir: the host tells the guest its directory through PWD.
    let pwd = env
        .iter()
        .find(|(k, v)| k == "PWD" && v.starts_with('/'))
        .map(|(_, v)| std::path::PathBuf::from(v));
    let cwd = if cfg!(target_os = "wasi") { pwd } else { None }
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| std::path::PathBuf::from("/"));
    let host: Rc<dyn hookbox_shell::host::Host> = Rc::new(hookbox_shell::host::DefaultHost);
    let mut sh = Shell::new(host, cwd, &env);
    // $BASH is the file this shell was started as: argv[0], found through PATH.
    if let Some(a0) = args.first().filter(|a| !a.contains('/') && !a.is_empty()) {
        let path = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_str());
        let found = path
            .unwrap_or("")
            .split(':')
            .filter(|d| !d.is_empty())
            .find_map(|d| {
                let p = std::path::Path::new(d).join(a0);
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
                    eprintln!("bash: {a}: invalid option");
                    eprint!("{USAGE}");
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
            eprintln!("bash: {o}: invalid option name");
            return 2;
        }
    }
    for (o, on) in shopts {
        let flag = if on { "-s" } else { "-u" };
        let argv = vec!["shopt".to_string(), flag.to_string(), o];
        if !matches!(sh.builtin(argv, &io::Io::process()), Ok(0)) {
            return 2;
        }
    }
    if dash_c {
        command = args.get(i).cloned();
        if command.is_none() {
            eprintln!("bash: -c: option requires an argument");
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
        sh.fatal_status = 127;
        let _ = sh.set_var("BASH_EXECUTION_STRING", c.clone());
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
                eprintln!("bash: {file}: {why}");
                return 127;
            }
        }
    } else {
        let mut s = String::new();
        let _ = std::io::stdin().read_to_string(&mut s);
        sh.positional = rest;
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
    let io = io::Io::process();
    sh.run_script(&src, source, &io)
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
