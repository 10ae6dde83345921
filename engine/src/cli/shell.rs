//! `hookbox shell [-c CMD [NAME [ARGS]]] | FILE [ARGS] | (script on stdin)`: the bundled
//! bash interpreter in the sandbox, behaving like `sh`. It is a shell, not a hook: no
//! whole-script check (the lines before a late syntax error run), no redaction, no
//! hooks.log, no prefixes; the guest's bytes reach our stdout and stderr as written.
//!
//! In: flags, the current directory (granted read-write), our stdin (the script when no
//! `-c` or FILE is given; otherwise inherited by the guest for `read`), and, with
//! `--env-passthrough`, our environment. Out: the guest's output and its status (124: time
//! limit, 137: fuel or memory, with a one-line reason on stderr).

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};

use super::guest::{all_commands, runtime_and_runner, Dirs, LimitFlags, RawSink};
use crate::bridge::policy::Policy;
use crate::plan::HookProgram;
use crate::runner::sandbox::ShellInput;
use crate::runner::OutputSink;

/// Flags of `hookbox shell`. Our own flags come before the script or `-c`; everything after
/// the first operand belongs to the script.
#[derive(Debug, clap::Args)]
pub struct ShellArgs {
    /// Run CMD instead of a file; the operands after it become `$0`, `$1`, …
    #[arg(short = 'c', value_name = "CMD", allow_hyphen_values = true)]
    pub command: Option<String>,
    /// Let the shell run this host command through the bridge (repeatable).
    #[arg(long = "allow", value_name = "CMD")]
    pub allow: Vec<String>,
    /// Let the shell run every command found in PATH through the bridge.
    #[arg(long)]
    pub allow_all_commands: bool,
    /// Pass our whole environment to the shell (default: only PATH, HOME and TMPDIR, with
    /// HOME and TMPDIR a private temporary directory).
    #[arg(long)]
    pub env_passthrough: bool,
    #[command(flatten)]
    pub limits: LimitFlags,
    /// FILE [ARGS] (without -c), or NAME [ARGS] with -c (`$0`, `$1`, …).
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<String>,
}

/// Runs `hookbox shell` and returns the exit status.
pub fn shell(args: ShellArgs) -> Result<u8> {
    let limits = args.limits.limits()?;
    let mut policy = Policy::default();
    if args.env_passthrough {
        if let Ok(path) = std::env::var("PATH") {
            policy.path = path;
        }
    }
    policy.allow = args.allow.clone();
    if args.allow_all_commands {
        policy.allow.extend(all_commands(&policy.path));
    }
    let cwd = std::env::current_dir().context("the current directory")?;
    let dirs = Dirs::new(&cwd, "hookbox-shell-")?;

    let (input, inherit_stdin) = match (&args.command, args.args.split_first()) {
        (Some(line), _) => (
            ShellInput::Command {
                line: line.clone(),
                args: args.args.clone(),
            },
            true,
        ),
        (None, Some((file, rest))) => (script_input(&dirs, file, rest)?, true),
        (None, None) => {
            let mut script = Vec::new();
            if !std::io::stdin().is_terminal() {
                std::io::stdin()
                    .read_to_end(&mut script)
                    .context("reading the script from stdin")?;
            }
            (
                ShellInput::Stdin {
                    script,
                    args: Vec::new(),
                },
                false,
            )
        }
    };
    let program = match &input {
        ShellInput::File { path, .. } => HookProgram::Script(path.clone()),
        ShellInput::Command { line, .. } => HookProgram::Command(line.clone()),
        ShellInput::Stdin { .. } => HookProgram::Command(String::new()),
    };
    let mut invocation = dirs.invocation("shell", program, limits.clone(), policy);
    if args.env_passthrough {
        invocation.env = std::env::vars().collect();
    }

    let (runtime, runner) = runtime_and_runner()?;
    let report = runtime.block_on(async {
        let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
        let on_signal = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = cancel_tx.send(true);
            }
        });
        let sink: Arc<dyn OutputSink> = Arc::new(RawSink);
        let result = runner
            .run_shell_session(&invocation, input, inherit_stdin, sink, cancel_rx)
            .await;
        on_signal.abort();
        result
    })?;
    let (status, reason) = super::exec::exit_status(&report, &limits);
    if let Some(reason) = reason {
        eprintln!("{}", reason.replace("the module", "the shell"));
    }
    Ok(status)
}

/// A script file as the guest gets it. Inside the granted directories it is named as given
/// (so `$0` and messages read like bash's); outside them the guest could not open it, so we
/// read it here and pass its text with `-c`, `$0` still the name given.
fn script_input(dirs: &Dirs, file: &str, rest: &[String]) -> Result<ShellInput> {
    let resolved = std::fs::canonicalize(dirs.work_dir.join(file));
    let granted = match &resolved {
        Ok(p) => p.starts_with(&dirs.work_dir) || p.starts_with(&dirs.temp_dir),
        // Missing: the guest says so in bash's words.
        Err(_) => true,
    };
    if granted {
        return Ok(ShellInput::File {
            path: PathBuf::from(file),
            args: rest.to_vec(),
        });
    }
    let text = std::fs::read(Path::new(file)).with_context(|| format!("{file}: cannot read"))?;
    let mut args = vec![file.to_string()];
    args.extend(rest.iter().cloned());
    Ok(ShellInput::Command {
        line: String::from_utf8_lossy(&text).into_owned(),
        args,
    })
}
