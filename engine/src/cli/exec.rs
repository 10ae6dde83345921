//! `hookbox exec MODULE.wasm [-- ARGS]`: one WASI module in the sandbox, with the grants and
//! limits of a hook (the current directory as work directory, a private temporary
//! directory, no host environment, no commands unless `--allow`ed).
//!
//! In: the flags, `HOOK_TIMEOUT`, and the cache location (`HOOKBOX_CACHE_DIR`,
//! `XDG_CACHE_HOME`, `HOME`), read here because only the CLI reads the environment. Out: the
//! guest's output on our stdout/stderr as it comes, and an exit status like `sh` gives: the
//! guest's own status, 124 for the time limit, 137 for fuel or memory (with a one-line
//! reason on stderr). No hooks.log.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};

use crate::bridge::policy::{DirAccess, Policy};
use crate::limits::Limits;
use crate::plan::HookProgram;
use crate::runner::sandbox::{SandboxConfig, SandboxRunner};
use crate::runner::{Exit, Invocation, OutputSink, RunReport, Runner, Stream};

/// Flags of `hookbox exec`.
#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// The WASI preview 1 module (`.wasm`) to run.
    pub module: PathBuf,
    /// Wall-clock limit: seconds or a duration (90s, 5m), 1 s to a day. Default:
    /// HOOK_TIMEOUT, else 300.
    #[arg(long, value_name = "DURATION", value_parser = super::args::timeout_secs)]
    pub timeout: Option<u64>,
    /// Instruction budget (fuel). Default: unlimited, not metered.
    #[arg(long, value_name = "INSTRUCTIONS")]
    pub fuel: Option<u64>,
    /// Count the instructions the module uses and report them (a CPU-bound guest runs about a
    /// fifth slower). Always on with --fuel.
    #[arg(long)]
    pub meter_fuel: bool,
    /// Memory limit in bytes (suffixes K, M, G). Default 256M.
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub memory: Option<u64>,
    /// Output cap in bytes (suffixes K, M, G). Default 10M.
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub output_cap: Option<u64>,
    /// Let the module run this host command through the bridge (repeatable).
    #[arg(long = "allow", value_name = "CMD")]
    pub allow: Vec<String>,
    /// Set a variable in the module's environment (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Grant the current directory read-only.
    #[arg(long)]
    pub read_only: bool,
    /// Arguments for the module (`$1..`; `$0` is the module's file name).
    #[arg(last = true)]
    pub args: Vec<String>,
}

/// `64M` → 67108864.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&s[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("`{s}` is not a size (bytes, or a number with K, M or G)"))
}

/// The module cache directory: `HOOKBOX_CACHE_DIR`, else `$XDG_CACHE_HOME/hookbox/modules`,
/// else `~/.cache/hookbox/modules`.
pub fn cache_dir_from_env() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("HOOKBOX_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("hookbox").join("modules"))
}

/// Writes the guest's lines to our own stdout/stderr, unprefixed (exec is not a hook run).
struct TerminalSink;

impl OutputSink for TerminalSink {
    fn line(&self, stream: Stream, line: &[u8]) {
        let _ = match stream {
            Stream::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(line).and_then(|()| out.write_all(b"\n"))
            }
            Stream::Stderr => {
                let mut err = std::io::stderr().lock();
                err.write_all(line).and_then(|()| err.write_all(b"\n"))
            }
        };
    }
    fn truncated(&self, cap_bytes: u64) {
        eprintln!("hookbox: output cap of {cap_bytes} bytes reached; the rest is dropped");
    }
}

/// The exit status for a report, and the one-line reason when a limit stopped the module.
pub fn exit_status(report: &RunReport, limits: &Limits) -> (u8, Option<String>) {
    let instructions = report.instructions.unwrap_or(0);
    match report.exit {
        Exit::Code(code) => (u8::try_from(code & 0xff).unwrap_or(1), None),
        Exit::Signal(sig) => (u8::try_from((128 + sig) & 0xff).unwrap_or(1), None),
        Exit::TimedOut => (
            124,
            Some(format!(
                "hookbox: time limit of {} s reached; the module was stopped",
                limits.timeout.as_secs_f64()
            )),
        ),
        Exit::FuelExhausted => (
            137,
            Some(format!(
                "hookbox: fuel exhausted after {instructions} instructions; the module was stopped"
            )),
        ),
        Exit::MemoryLimit => (
            137,
            Some(format!(
                "hookbox: memory limit of {} bytes reached; the module was stopped",
                limits.memory_bytes
            )),
        ),
        Exit::Cancelled => (130, Some("hookbox: interrupted".to_string())),
    }
}

/// Runs `hookbox exec` and returns the exit status.
pub fn exec(args: ExecArgs) -> Result<u8> {
    let mut limits = Limits::default();
    let env_timeout = std::env::var("HOOK_TIMEOUT").ok().filter(|v| !v.is_empty());
    if let Some(secs) = args.timeout {
        limits.timeout = Duration::from_secs(secs);
    } else if let Some(timeout) = super::commands::parse_hook_timeout(env_timeout.as_deref())? {
        limits.timeout = timeout;
    }
    limits.fuel = args.fuel;
    if let Some(bytes) = args.memory {
        limits.memory_bytes = bytes;
    }
    if let Some(bytes) = args.output_cap {
        limits.output_cap_bytes = bytes;
    }
    let policy = Policy {
        work_dir: if args.read_only {
            DirAccess::ReadOnly
        } else {
            DirAccess::ReadWrite
        },
        allow: args.allow.clone(),
        ..Policy::default()
    };
    let work_dir = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .context("the current directory")?;
    // Absolute but not resolved: the runner opens it without following a symlink (beneath
    // the work directory when it lies there), so a link cannot point it elsewhere.
    let module = std::path::absolute(&args.module)
        .with_context(|| format!("{}: cannot open the module", args.module.display()))?;
    let temp = tempfile::Builder::new()
        .prefix("hookbox-exec-")
        .tempdir()
        .context("creating the private temporary directory")?;
    let temp_dir = std::fs::canonicalize(temp.path()).context("the temporary directory")?;
    // Bridged commands run as the hook user when hookbox runs as root: HOME is theirs.
    if let Some(ids) = super::glue::hook_ids(&policy)? {
        std::os::unix::fs::chown(&temp_dir, Some(ids.uid), Some(ids.gid))
            .context("giving the temporary directory to the hook user")?;
    }
    let hook_name = args
        .module
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "module.wasm".into());

    let mut env = BTreeMap::new();
    env.insert("PATH".to_string(), policy.path.clone());
    env.insert("HOME".to_string(), temp_dir.to_string_lossy().into_owned());
    env.insert(
        "TMPDIR".to_string(),
        temp_dir.to_string_lossy().into_owned(),
    );
    env.insert(
        "WORK_DIR".to_string(),
        work_dir.to_string_lossy().into_owned(),
    );
    env.insert("HOOK_NAME".to_string(), hook_name.clone());
    env.insert("HOOK_STAGE".to_string(), "exec".to_string());
    for kv in &args.env {
        let Some((key, value)) = kv.split_once('=') else {
            bail!("--env {kv:?}: expected KEY=VALUE");
        };
        env.insert(key.to_string(), value.to_string());
    }

    let invocation = Invocation {
        hook_name,
        stage: "exec".to_string(),
        program: HookProgram::Wasm(module),
        args: args.args,
        env,
        work_dir,
        temp_dir,
        shared_dirs: Vec::new(),
        limits: limits.clone(),
        policy,
    };
    let runtime = super::runtime::CliRuntime::current_thread()?;
    let report = runtime.block_on(async {
        let runner = SandboxRunner::new(SandboxConfig {
            cache_dir: cache_dir_from_env(),
            meter_fuel: args.meter_fuel || args.fuel.is_some(),
            ..SandboxConfig::default()
        })?;
        let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
        let on_signal = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = cancel_tx.send(true);
            }
        });
        let sink: Arc<dyn OutputSink> = Arc::new(TerminalSink);
        let result = runner.run(&invocation, sink, cancel_rx).await;
        on_signal.abort();
        result
    })?;
    drop(temp);
    let (status, reason) = exit_status(&report, &limits);
    if let Some(reason) = reason {
        eprintln!("{reason}");
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_suffixes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
    }
}
