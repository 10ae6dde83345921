//! `hookbox shell [FLAGS] [SH-ARGS]`: the bundled bash interpreter in the sandbox, behaving
//! like `sh`: `-c CMD [NAME [ARGS]]`, `FILE [ARGS]`, or the script on stdin, with sh's options
//! (`-e`, `-u`, `-x`, `-o OPT`, `-n`). It is a shell, not a hook: no whole-script check (the
//! lines before a late syntax error run), no redaction, no hooks.log, no prefixes; the
//! guest's bytes reach our stdout and stderr as written.
//!
//! In: our flags (before the first sh argument), the current directory (granted
//! read-write), our stdin (read whole and handed over when it carries the script, otherwise
//! inherited by the guest for `read`), and, with `--env-passthrough`, our environment. Out:
//! the guest's output and its status (124: time limit, 137: fuel or memory, with a one-line
//! reason on stderr).

use std::io::{IsTerminal, Read};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};

use super::guest::{runtime_and_runner, Dirs, LimitFlags, RawSink};
use crate::bridge::policy::Policy;
use crate::plan::HookProgram;
use crate::runner::sandbox::{Interrupt, ShellInput};
use crate::runner::OutputSink;

/// Flags of `hookbox shell`. Ours come first; from the first other argument on, everything
/// is sh's (`-c CMD NAME ARGS`, `-e`, `FILE ARGS`, …).
#[derive(Debug, clap::Args)]
pub struct ShellArgs {
    /// Let the shell run this host command through the bridge (repeatable).
    #[arg(long = "allow", value_name = "CMD")]
    pub allow: Vec<String>,
    /// Let the shell run any host command through the bridge, found as a plain shell finds
    /// it: in the script's own PATH, relative paths from its current directory.
    #[arg(long)]
    pub allow_all_commands: bool,
    /// Pass our whole environment to the shell (default: only PATH, HOME and TMPDIR, with
    /// HOME and TMPDIR a private temporary directory).
    #[arg(long)]
    pub env_passthrough: bool,
    #[command(flatten)]
    pub limits: LimitFlags,
    /// sh's arguments: `-c CMD [NAME [ARGS]]`, `FILE [ARGS]`, options; none: the script is
    /// read from stdin.
    #[arg(
        value_name = "SH-ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<String>,
}

/// Where sh's arguments say the script is.
#[derive(Debug, PartialEq, Eq)]
enum ScriptFrom {
    Command,
    /// The operand at this index names the file.
    File(usize),
    Stdin,
}

/// Reads sh's arguments the way the guest does: options (`-o`/`+o` take a value), `--` ends
/// them, `-c` (also inside a cluster like `-ec`) or `-s` decide, else the first operand is
/// the file.
fn script_from(args: &[String]) -> ScriptFrom {
    let mut command = false;
    let mut stdin = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if a == "-o" || a == "+o" {
            i += 2;
            continue;
        }
        if a.starts_with("--") {
            i += 1;
            continue;
        }
        if (a.starts_with('-') || a.starts_with('+')) && a.len() > 1 {
            command |= a[1..].contains('c');
            stdin |= a[1..].contains('s');
            i += 1;
            if a.starts_with('-') && a[1..].contains('c') {
                // The command string follows; the rest are $0 and $@.
                return ScriptFrom::Command;
            }
            continue;
        }
        break;
    }
    if command {
        ScriptFrom::Command
    } else if stdin || i >= args.len() {
        ScriptFrom::Stdin
    } else {
        ScriptFrom::File(i)
    }
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
    policy.allow_any = args.allow_all_commands;
    // A shell on the developer's own files: commands run as the developer (see
    // `Policy::keep_user`), so `chmod`, `ln` and `sed -i` work where bash's would.
    policy.keep_user = true;
    policy.shell_session = true;
    let cwd = std::env::current_dir().context("the current directory")?;
    let dirs = Dirs::new(&cwd, "hookbox-shell-")?;

    let mut sh_args = args.args.clone();
    let (stdin, inherit) = match script_from(&sh_args) {
        ScriptFrom::Command => (None, true),
        ScriptFrom::File(i) => {
            if let Some(text) = outside_script(&dirs, &sh_args[i])? {
                // The guest could not open it: hand its text over with -c, `$0` still the
                // name given.
                sh_args.splice(i..i, ["-c".to_string(), text]);
            }
            (None, true)
        }
        // On a terminal the guest is interactive: it reads the terminal itself, line by line.
        ScriptFrom::Stdin if std::io::stdin().is_terminal() => (None, true),
        ScriptFrom::Stdin => {
            let mut script = Vec::new();
            std::io::stdin()
                .read_to_end(&mut script)
                .context("reading the script from stdin")?;
            (Some(script), false)
        }
    };
    let interactive = stdin.is_none() && matches!(script_from(&sh_args), ScriptFrom::Stdin);
    let input = ShellInput::Argv {
        args: sh_args,
        stdin,
    };
    let program = HookProgram::Command(String::new());
    let mut invocation = dirs.invocation("shell", program, limits.clone(), policy);
    if args.env_passthrough {
        // hookbox's own settings (the module cache) are not the script's.
        invocation.env = std::env::vars()
            .filter(|(k, _)| !k.starts_with("HOOKBOX_"))
            .collect();
    }

    let (runtime, runner) = runtime_and_runner(args.limits.meter_fuel())?;
    let report = runtime.block_on(async {
        let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
        let interrupt = interactive.then(|| Arc::new(Interrupt::default()));
        let raise = interrupt.clone();
        let on_signal = tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                match &raise {
                    // On a terminal Ctrl-C ends the command being run, not the shell (bash
                    // ignores SIGINT at its prompt): the guest goes back to its prompt.
                    Some(interrupt) => interrupt.raise(),
                    None => {
                        let _ = cancel_tx.send(true);
                        return;
                    }
                }
            }
        });
        let sink: Arc<dyn OutputSink> = Arc::new(RawSink);
        let result = runner
            .run_shell_session(&invocation, input, inherit, interrupt, sink, cancel_rx)
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

/// The text of a script file outside the granted directories (`None` inside them, or when
/// it does not exist: the guest then says so in bash's words).
fn outside_script(dirs: &Dirs, file: &str) -> Result<Option<String>> {
    let Ok(resolved) = std::fs::canonicalize(dirs.work_dir.join(file)) else {
        return Ok(None);
    };
    if resolved.starts_with(&dirs.work_dir) || resolved.starts_with(&dirs.temp_dir) {
        return Ok(None);
    }
    let text =
        std::fs::read(Path::new(&resolved)).with_context(|| format!("{file}: cannot read"))?;
    Ok(Some(String::from_utf8_lossy(&text).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(args: &[&str]) -> ScriptFrom {
        script_from(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn sh_arguments_name_the_script_like_sh() {
        assert_eq!(from(&["-c", "echo", "a"]), ScriptFrom::Command);
        assert_eq!(from(&["-ec", "echo"]), ScriptFrom::Command);
        assert_eq!(
            from(&["-e", "-o", "pipefail", "f.sh", "x"]),
            ScriptFrom::File(3)
        );
        assert_eq!(from(&["--", "f.sh"]), ScriptFrom::File(1));
        assert_eq!(from(&[]), ScriptFrom::Stdin);
        assert_eq!(from(&["-s", "a", "b"]), ScriptFrom::Stdin);
        assert_eq!(from(&["-x"]), ScriptFrom::Stdin);
    }
}
