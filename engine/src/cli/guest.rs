//! What `hookbox shell` and `hookbox compile` share with `hookbox exec`: the limit flags and
//! how they become [`Limits`], the private temporary directory, the sandbox runner with its
//! module cache, and a sink that writes a guest's output to our stdout/stderr byte for byte.
//!
//! In: flags and the process environment (`HOOK_TIMEOUT`, the cache location). Out: library
//! values (limits, an invocation skeleton) and the guest's bytes on our own streams.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::bridge::policy::Policy;
use crate::limits::Limits;
use crate::plan::HookProgram;
use crate::runner::sandbox::{SandboxConfig, SandboxRunner};
use crate::runner::{Invocation, OutputSink, Stream};

use super::runtime::CliRuntime;

/// The limit flags of a sandboxed run started from the command line.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LimitFlags {
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
    #[arg(long, value_name = "BYTES", value_parser = super::exec::parse_size)]
    pub memory: Option<u64>,
    /// Output cap in bytes (suffixes K, M, G). Default 10M.
    #[arg(long, value_name = "BYTES", value_parser = super::exec::parse_size)]
    pub output_cap: Option<u64>,
}

impl LimitFlags {
    /// Whether the runner must count fuel: a budget is set or counting was asked for.
    pub fn meter_fuel(&self) -> bool {
        self.meter_fuel || self.fuel.is_some()
    }

    /// The limits: flags first, then `HOOK_TIMEOUT` (read here: only the CLI reads the
    /// environment), then the defaults.
    pub fn limits(&self) -> Result<Limits> {
        let mut limits = Limits::default();
        if let Some(secs) = self.timeout {
            limits.timeout = Duration::from_secs(secs);
        } else if let Some(timeout) = super::commands::parse_hook_timeout(
            std::env::var("HOOK_TIMEOUT")
                .ok()
                .filter(|v| !v.is_empty())
                .as_deref(),
        )? {
            limits.timeout = timeout;
        }
        limits.fuel = self.fuel;
        if let Some(bytes) = self.memory {
            limits.memory_bytes = bytes;
        }
        if let Some(bytes) = self.output_cap {
            limits.output_cap_bytes = bytes;
        }
        Ok(limits)
    }
}

/// A sandboxed run's directories: the work directory and a private temporary directory that
/// lives as long as this value.
pub struct Dirs {
    pub work_dir: PathBuf,
    pub temp_dir: PathBuf,
    _temp: tempfile::TempDir,
}

impl Dirs {
    /// `work` (canonical) and a new private temporary directory.
    pub fn new(work: &std::path::Path, prefix: &str) -> Result<Self> {
        let work_dir = std::fs::canonicalize(work)
            .with_context(|| format!("the directory {}", work.display()))?;
        let temp = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .context("creating the private temporary directory")?;
        let temp_dir = std::fs::canonicalize(temp.path()).context("the temporary directory")?;
        Ok(Dirs {
            work_dir,
            temp_dir,
            _temp: temp,
        })
    }

    /// An invocation in these directories with `PATH`, `HOME` and `TMPDIR` set.
    pub fn invocation(
        &self,
        name: &str,
        program: HookProgram,
        limits: Limits,
        policy: Policy,
    ) -> Invocation {
        let mut env = BTreeMap::new();
        env.insert("PATH".to_string(), policy.path.clone());
        let temp = self.temp_dir.to_string_lossy().into_owned();
        env.insert("HOME".to_string(), temp.clone());
        env.insert("TMPDIR".to_string(), temp);
        Invocation {
            hook_name: name.to_string(),
            stage: name.to_string(),
            program,
            args: Vec::new(),
            env,
            work_dir: self.work_dir.clone(),
            temp_dir: self.temp_dir.clone(),
            shared_dirs: Vec::new(),
            limits,
            policy,
        }
    }
}

/// The sandbox runner with the on-disk module cache, and an async runtime for its one guest
/// (on the calling thread: ~0.1-0.3 ms of a start saved on worker threads).
pub fn runtime_and_runner(meter_fuel: bool) -> Result<(CliRuntime, SandboxRunner)> {
    let runtime = CliRuntime::current_thread()?;
    let runner = SandboxRunner::new(SandboxConfig {
        cache_dir: super::exec::cache_dir_from_env(),
        meter_fuel,
        ..SandboxConfig::default()
    })?;
    Ok((runtime, runner))
}

/// Writes a guest's output to our own stdout and stderr exactly as it came: partial lines
/// kept, the two streams separate, nothing prefixed or redacted (a shell, not a hook).
pub struct RawSink;

impl OutputSink for RawSink {
    fn line(&self, stream: Stream, line: &[u8]) {
        let mut bytes = line.to_vec();
        bytes.push(b'\n');
        self.raw(stream, &bytes);
    }
    fn truncated(&self, cap_bytes: u64) {
        eprintln!("hookbox: output cap of {cap_bytes} bytes reached; the rest is dropped");
    }
    fn raw(&self, stream: Stream, bytes: &[u8]) -> bool {
        // A closed stdout (`| head`) is not our failure: the bytes are dropped, as bash
        // would lose them.
        let _ = match stream {
            Stream::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Stream::Stderr => std::io::stderr().lock().write_all(bytes),
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_flags_default_to_the_library_defaults() {
        let flags = LimitFlags {
            timeout: Some(7),
            ..LimitFlags::default()
        };
        let limits = flags.limits().unwrap();
        assert_eq!(limits.timeout, Duration::from_secs(7));
        assert_eq!(limits.fuel, None);
        assert_eq!(limits.memory_bytes, crate::limits::DEFAULT_MEMORY_BYTES);
        assert_eq!(
            limits.output_cap_bytes,
            crate::limits::DEFAULT_OUTPUT_CAP_BYTES
        );
    }
}
