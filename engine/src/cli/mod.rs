//! The clap front end: parses the command line, reads the process environment (the only
//! module that does: `HOOK_TIMEOUT`, `SKIP_HOOKS`, `PROJECT_PATH`, `FLUX_PEER_INDEX`,
//! `XDG_STATE_HOME`, `HOME`, `TMPDIR`, `RUST_LOG`, `NO_COLOR`), turns them into library values, calls
//! discover / lifecycle, and maps the result to an exit code in one place ([`exit_code`]).

mod args;
mod commands;
mod compile;
mod docs;
pub mod exec;
mod fleet;
mod glue;
mod guest;
mod manage;
mod platform;
mod runtime;
mod shell;

use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;

/// How a command ended, before it becomes an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Exit 0: success, warnings allowed.
    Success,
    /// Exit 1: the stage or deployment failed; `validate` found a problem.
    Failed,
    /// `exec` and `shell`: the guest's own status, passed through like `sh` does.
    Status(u8),
}

/// The one mapping from results to exit codes. Errors are usage or configuration errors:
/// nothing ran (exit 2).
pub fn exit_code(result: &anyhow::Result<Ended>) -> u8 {
    match result {
        Ok(Ended::Success) => 0,
        Ok(Ended::Failed) => 1,
        Ok(Ended::Status(code)) => *code,
        Err(_) => 2,
    }
}

/// The diagnostics filter for `-v`/`-vv`: hookbox's own modules get louder, the crates under
/// it (wasmtime, cranelift, tokio) stay at warnings, whose debug lines (`ignoring section`,
/// compile timings) say nothing about a hook. `RUST_LOG` reaches them when someone needs it.
fn verbosity_filter(verbose: u8) -> &'static str {
    match verbose {
        0 => "warn",
        1 => "warn,hookbox=debug,hookbox_shell=debug",
        _ => "info,hookbox=trace,hookbox_shell=trace",
    }
}

/// Colour only where a person reads it: stderr on a terminal, and never with `NO_COLOR`
/// set to anything non-empty (no-color.org).
fn colour_on_stderr(no_color: Option<&std::ffi::OsStr>) -> bool {
    use std::io::IsTerminal;
    no_color.is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(verbosity_filter(verbose)));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour_on_stderr(std::env::var_os("NO_COLOR").as_deref()))
        .with_target(false)
        .try_init();
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and exit 0; real usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_tracing(cli.verbose);
    let json = cli.command.json();
    let result = commands::dispatch(cli.command);
    if let Err(e) = &result {
        eprintln!("error: {e:#}");
        if json {
            // Machine readers of --json get the error on stdout too.
            let value = serde_json::json!({
                "v": crate::events::JSON_VERSION,
                "event": "error",
                "message": format!("{e:#}"),
                "exit_code": exit_code(&result),
            });
            println!("{value}");
        }
    }
    ExitCode::from(exit_code(&result))
}
