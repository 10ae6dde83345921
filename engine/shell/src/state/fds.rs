//! The shell's own fds: where its messages go, exec's changes, the running stage.

use super::StageSlot;

#[derive(Clone)]
pub struct Fds {
    /// fd 2 of the command being run, for the shell's own messages.
    pub cur_io: crate::io::Io,
    /// fds changed by `exec` redirections, applied to the shell's own fd table.
    pub fd_overlay: Vec<(usize, Option<crate::io::Stream>)>,
    /// Process substitutions made so far (each gets its own file name).
    pub psub_counter: u32,
    /// Set while a pipeline stage runs (see [`StageSlot`]).
    pub stage: Option<StageSlot>,
}

impl Default for Fds {
    fn default() -> Self {
        Fds {
            cur_io: crate::io::Io::process(),
            fd_overlay: Vec::new(),
            psub_counter: 0,
            stage: None,
        }
    }
}
