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
                eprintln!("bash: -c: option requires an argument");
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
        sh.opts.invocation_flag = Some('c');
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
        sh.opts.invocation_flag = Some('s');
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
