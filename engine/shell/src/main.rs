//! `hookbox-shell`: sh-like entry (`-c CMD [NAME [ARGS]]`, `FILE [ARGS]`, or the script on
//! stdin; `-n`, `-e`, `-u`, `-x`, `-o OPT`). The shell keeps its own cwd (WASI has no chdir).

use hookbox_shell::{invoke, io};
use std::rc::Rc;

fn main() {
    let code = run();
    io::flush_stdout();
    std::process::exit(code);
}

fn run() -> i32 {
    let args: Vec<String> = std::env::args().collect();
    let mut env: Vec<(String, String)> = std::env::vars().collect();
    let temp_dir = env
        .iter()
        .position(|(k, _)| k == "HOOKBOX_TMPDIR")
        .map(|i| env.remove(i).1);
    // WASI has no chdir: the host tells the guest its directory through PWD.
    let pwd = env
        .iter()
        .find(|(k, v)| k == "PWD" && v.starts_with('/'))
        .map(|(_, v)| std::path::PathBuf::from(v));
    // Natively, an inherited PWD that names the current directory (through
    // symlinks) is kept, as bash keeps the logical path.
    let same_dir = |p: &std::path::PathBuf| {
        let here = std::env::current_dir().and_then(std::fs::canonicalize).ok();
        here.is_some() && std::fs::canonicalize(p).ok() == here
    };
    let cwd = if cfg!(target_os = "wasi") {
        pwd
    } else {
        pwd.filter(same_dir)
    }
    .or_else(|| std::env::current_dir().ok())
    .unwrap_or_else(|| std::path::PathBuf::from("/"));
    // The shell resolves every path against its own cwd and hands the host absolute paths
    // only, so wasi-libc's cwd is left at "/" (no `set_current_dir`: its check of the
    // directory is a filesystem call, which the host hands to another thread, and that was
    // more than half of a trivial shell hook, 325 -> 136 us). A relative path that reached wasi-libc would resolve
    // under "/", which no grant covers (the host grants the work directory at its host path
    // only, no "." that would alias every other absolute path into it): it fails, it does
    // not escape.
    let host: Rc<dyn hookbox_shell::host::Host> = Rc::new(hookbox_shell::host::DefaultHost);
    let start = invoke::Start {
        host,
        cwd,
        env: &env,
        temp_dir,
    };
    invoke::run(&args, start, &io::Io::process())
}
