//! The last statuses, `$_`, BASH_COMMAND, and an `exit` still to honour.

#[derive(Clone, Default)]
pub struct Status {
    pub last_status: i32,
    /// PIPESTATUS: the status of each stage of the last pipeline.
    pub pipestatus: Vec<i32>,
    /// `$_`: the last argument of the previous simple command.
    pub last_arg: String,
    /// An `exit` run inside a trap or eval string, to honour after it.
    pub pending_exit: Option<i32>,
    /// A command substitution ran in the current command (its status becomes the
    /// command's when there is no command word).
    pub cmdsub_ran: bool,
    /// Set while `exec` runs a program: bash does not give it `_`.
    pub exec_running: bool,
    /// BASH_COMMAND: the command running now.
    pub bash_command: String,
}
