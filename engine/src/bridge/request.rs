//! The `exec_spawn` request JSON (see `ABI.md`), parsed strictly: unknown fields are errors.

use std::path::PathBuf;

use serde::Deserialize;

use super::BridgeError;

/// What the guest asked to run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExecRequest {
    pub argv: Vec<String>,
    #[serde(default)]
    pub env: Vec<(String, String)>,
    /// Absent: the work directory.
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    #[serde(default)]
    pub stdin: InputMode,
    /// Feed stdin from this earlier command's piped stdout, on the host, as it comes (a
    /// pipeline `a | b` of two bridged commands). That stdout is no longer the guest's to
    /// read.
    #[serde(default)]
    pub stdin_from: Option<u32>,
    /// For `stdin` `"file"`: the granted regular file the command reads, and the offset it
    /// starts at (the guest's own read position in that file).
    #[serde(default)]
    pub stdin_path: Option<PathBuf>,
    #[serde(default)]
    pub stdin_offset: u64,
    #[serde(default)]
    pub stdout: OutputMode,
    #[serde(default)]
    pub stderr: OutputMode,
}

/// The command's stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum InputMode {
    /// `/dev/null`, like a hook's own stdin.
    #[default]
    Null,
    Pipe,
    /// A pipe the host feeds from a queue: `exec_write` takes the bytes at once and returns,
    /// so the guest can go on to read the command's output meanwhile. The host writes only as
    /// the command reads, and after `exec_wait` `exec_stdin_end` says how many of the bytes the
    /// command left unread: the guest keeps those for its next reader, as a shared pipe would.
    Feed,
    /// `stdin_path` opened read-only at `stdin_offset`: the command shares the file offset, so
    /// after `exec_wait` `exec_stdin_end` gives the offset it stopped at (`head -1` on a file
    /// leaves the rest for the next reader, as with bash's shared descriptor).
    File,
    /// The hook's own stdin: the host process's stdin for `hookbox shell` when the guest reads
    /// it too ([`super::exec::ExecHost::inherit_stdin`]), `/dev/null` otherwise.
    Inherit,
}

/// Where one of the command's output streams goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OutputMode {
    /// Straight to the hook's own output (the event stream).
    #[default]
    Inherit,
    /// Buffered by the host for `exec_read`, up to the output cap (past it, dropped).
    Pipe,
    /// Like `Pipe`, but the host holds at most a window for the guest and then stops reading,
    /// so the command waits for the guest as a writer waits on a full pipe.
    Stream,
    Null,
}

impl ExecRequest {
    /// Parses and checks the request's shape (not the policy).
    pub fn parse(json: &[u8]) -> Result<Self, BridgeError> {
        let req: ExecRequest = serde_json::from_slice(json)
            .map_err(|e| BridgeError::BadRequest(format!("exec request: {e}")))?;
        if req.argv.first().is_none_or(|a| a.is_empty()) {
            return Err(BridgeError::BadRequest("exec request: empty argv".into()));
        }
        if req.argv.iter().any(|a| a.contains('\0')) {
            return Err(BridgeError::BadRequest(
                "exec request: NUL byte in an argument".into(),
            ));
        }
        for (key, value) in &req.env {
            if key.is_empty() || key.contains('=') || key.contains('\0') || value.contains('\0') {
                return Err(BridgeError::BadRequest(format!(
                    "exec request: invalid environment variable name {key:?}"
                )));
            }
        }
        Ok(req)
    }
}
