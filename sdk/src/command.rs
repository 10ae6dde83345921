//! Host commands through the bridge, shaped like `std::process::Command`.
//!
//! A request (argv, environment, working directory, which streams are piped) goes to the
//! host with `exec_spawn`; the host checks it against the tenant's policy and runs it
//! confined. Output comes back through `exec_read`, the status through `exec_wait`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::HookError;
use crate::sys;

/// Where a command's stream goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stdio {
    /// Into the hook's own output (the event stream), capped and redacted.
    Inherit,
    /// Back to the hook ([`Command::output`]).
    Pipe,
    /// Nowhere.
    Null,
}

/// What a finished command produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Exit status as a shell sees it (128+N for a signal).
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    /// Whether the status is 0.
    pub fn success(&self) -> bool {
        self.status == 0
    }
}

#[derive(Serialize)]
struct Request<'a> {
    argv: &'a [String],
    env: Vec<(&'a str, &'a str)>,
    cwd: &'a str,
    stdin: &'a str,
    stdout: Stdio,
    stderr: Stdio,
}

/// A host command to run through the bridge.
#[derive(Debug, Clone)]
pub struct Command {
    argv: Vec<String>,
    env: BTreeMap<String, String>,
    cwd: Option<String>,
    stdin: Option<Vec<u8>>,
}

/// Chunk size of reads from a command. 64 KiB.
const READ_CHUNK: usize = 64 * 1024;

impl Command {
    /// A command by name (resolved by the host in the policy's `PATH`). It gets the hook's
    /// own environment unless changed with [`env`](Self::env) / [`env_clear`](Self::env_clear).
    pub fn new(program: impl Into<String>) -> Self {
        Command {
            argv: vec![program.into()],
            env: std::env::vars().collect(),
            cwd: None,
            stdin: None,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl Into<String>) -> &mut Self {
        self.argv.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.argv.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets a variable.
    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Removes every variable.
    pub fn env_clear(&mut self) -> &mut Self {
        self.env.clear();
        self
    }

    /// Working directory (an absolute path inside the granted directories). Default: the
    /// hook's work directory.
    pub fn current_dir(&mut self, dir: impl Into<String>) -> &mut Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Bytes fed to the command's stdin (otherwise stdin is empty).
    pub fn stdin(&mut self, input: impl Into<Vec<u8>>) -> &mut Self {
        self.stdin = Some(input.into());
        self
    }

    fn spawn(&self, out: Stdio, err: Stdio) -> Result<i32, HookError> {
        let cwd = match &self.cwd {
            Some(dir) => dir.clone(),
            None => crate::context()?.work_dir,
        };
        let request = Request {
            argv: &self.argv,
            env: self
                .env
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            cwd: &cwd,
            stdin: if self.stdin.is_some() { "pipe" } else { "null" },
            stdout: out,
            stderr: err,
        };
        let json = serde_json::to_vec(&request).map_err(|e| {
            HookError::with_kind(crate::ErrorKind::Protocol, format!("request: {e}"))
        })?;
        let handle = sys::spawn(&json)?;
        if let Some(input) = &self.stdin {
            let mut rest = input.as_slice();
            while !rest.is_empty() {
                let n = sys::write(handle, rest)?;
                rest = &rest[n.min(rest.len())..];
            }
            sys::close_stdin(handle)?;
        }
        Ok(handle)
    }

    /// Runs the command with its output captured.
    pub fn output(&self) -> Result<Output, HookError> {
        let handle = self.spawn(Stdio::Pipe, Stdio::Pipe)?;
        let stdout = read_all(handle, 1)?;
        let stderr = read_all(handle, 2)?;
        let status = sys::wait(handle)?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// Runs the command with its output going to the hook's own output; returns its status.
    pub fn status(&self) -> Result<i32, HookError> {
        let handle = self.spawn(Stdio::Inherit, Stdio::Inherit)?;
        sys::wait(handle)
    }

    /// Kills a command started by this SDK (for hooks that manage handles themselves).
    pub fn kill(handle: i32) -> Result<(), HookError> {
        sys::kill(handle)
    }
}

fn read_all(handle: i32, fd: i32) -> Result<Vec<u8>, HookError> {
    let mut all = Vec::new();
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let n = sys::read(handle, fd, &mut buf)?;
        if n == 0 {
            return Ok(all);
        }
        all.extend_from_slice(&buf[..n.min(buf.len())]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_the_sandbox_commands_fail_cleanly() {
        let err = Command::new("true").output().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::NotInSandbox);
    }
}
