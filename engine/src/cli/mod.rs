//! The clap front end. The only module that reads the process environment.

pub mod exec;

use clap::Parser;

/// Command line (minimal until the lifecycle commands land; `exec` is complete).
#[derive(Debug, Parser)]
#[command(name = "hookbox", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Run one WASI module in the sandbox with a hook's grants and limits; exits with the
    /// module's status (124: time limit, 137: fuel or memory limit).
    Exec(exec::ExecArgs),
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Exec(args) => match exec::exec(args) {
            Ok(status) => i32::from(status),
            Err(e) => {
                eprintln!("hookbox: {e:#}");
                2
            }
        },
    }
}
