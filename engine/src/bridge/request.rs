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
