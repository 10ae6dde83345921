//! The error type of hooks, and the exit code each error becomes.

use std::fmt;

/// What went wrong, as far as the exit code cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The hook itself failed (its own choice of exit code).
    Failed,
    /// The policy does not allow the command (bridge `DENIED`): exit 127, like a shell.
    Denied,
    /// The command is not in the policy's `PATH` (bridge `NOT_FOUND`): exit 127.
    NotFound,
    /// The host could not start the command, or its directory is not granted: exit 126.
    CannotRun,
    /// The hook's deadline passed during a bridge call: exit 124.
    Deadline,
    /// A malformed request or reply between this SDK and hookbox: exit 70 (EX_SOFTWARE).
    Protocol,
    /// Not running under hookbox (a host build, or a runtime without the `hookbox` imports).
    NotInSandbox,
}

/// An error that becomes the hook's exit status through [`crate::run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookError {
    kind: ErrorKind,
    code: i32,
    message: String,
}

impl HookError {
    /// The hook fails with this exit code and message.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        HookError {
            kind: ErrorKind::Failed,
            code,
            message: message.into(),
        }
    }

    /// An error of a kind, with the exit code the kind implies.
    pub fn with_kind(kind: ErrorKind, message: impl Into<String>) -> Self {
        let code = match kind {
            ErrorKind::Failed => 1,
            ErrorKind::Denied | ErrorKind::NotFound => 127,
            ErrorKind::CannotRun => 126,
            ErrorKind::Deadline => 124,
            ErrorKind::Protocol => 70,
            ErrorKind::NotInSandbox => 78,
        };
        HookError {
            kind,
            code,
            message: message.into(),
        }
    }

    /// The error for a negative bridge return code and the host's message.
    pub fn from_bridge(code: i32, message: String) -> Self {
        let kind = match code {
            -1 => ErrorKind::Denied,
            -2 => ErrorKind::NotFound,
            -4 | -6 => ErrorKind::CannotRun,
            -5 => ErrorKind::Deadline,
            _ => ErrorKind::Protocol,
        };
        HookError::with_kind(kind, message)
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The exit status this error gives the hook.
    pub fn exit_code(&self) -> i32 {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HookError {}

impl From<std::io::Error> for HookError {
    fn from(err: std::io::Error) -> Self {
        HookError::new(1, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_codes_map_to_shell_statuses() {
        assert_eq!(HookError::from_bridge(-1, "x".into()).exit_code(), 127);
        assert_eq!(HookError::from_bridge(-2, "x".into()).exit_code(), 127);
        assert_eq!(HookError::from_bridge(-4, "x".into()).exit_code(), 126);
        assert_eq!(HookError::from_bridge(-6, "x".into()).exit_code(), 126);
        assert_eq!(HookError::from_bridge(-5, "x".into()).exit_code(), 124);
        assert_eq!(HookError::new(3, "x").exit_code(), 3);
    }
}
