//! The history list and what is still to be written to HISTFILE.

use std::rc::Rc;

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) line: String,
    pub(crate) time: i64,
}

/// The history list and what `history -a` and the exit still have to write.
#[derive(Clone, Default)]
pub struct History {
    /// `set -o history`.
    pub on: bool,
    pub(crate) entries: Vec<Entry>,
    /// Entries added since the file was last written (appended at exit, or by `-a`).
    pub(crate) unsaved: usize,
    /// The script being run and its first line not yet recorded.
    pub(crate) script: Option<Rc<Vec<String>>>,
    pub(crate) next_line: usize,
    /// Whether the running command line was added (so `fc` and `history -s` skip/replace it).
    pub(crate) last_added: bool,
    /// Lines of HISTFILE already read by `history -r`/`-n`.
    pub(crate) file_lines_read: usize,
    /// Inside `eval` or `source`, which bash runs with history off: `fc` then counts the
    /// command line that called them.
    pub nohist: bool,
    /// The number of the first entry (HISTSIZE drops the oldest ones).
    pub(crate) base: usize,
    /// Whether a script has started (options given before it are the shell's start-up ones).
    pub(crate) started: bool,
}
