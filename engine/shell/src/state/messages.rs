//! How the shell words its own error messages.

#[derive(Clone, Debug)]
pub struct Messages {
    /// The prefix of error messages: `bash` for -c and stdin, the script path otherwise.
    pub err_name: String,
    /// Whether error messages carry `line N:` (scripts do, -c and stdin do not).
    pub err_lines: bool,
    /// Status of a fatal expansion error (`set -u`, `${v:?}`): bash exits 127 under -c, 1
    /// otherwise.
    pub fatal_status: i32,
}

impl Default for Messages {
    fn default() -> Self {
        Messages {
            err_name: "bash".into(),
            err_lines: true,
            fatal_status: 1,
        }
    }
}
