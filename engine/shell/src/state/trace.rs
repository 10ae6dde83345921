//! DEBUG/RETURN/ERR trap and function-trace bookkeeping.

use super::{Map, Set};

#[derive(Clone, Default)]
pub struct TraceState {
    /// Traps a subshell or substitution still lists (`trap -p`) but does not run, because
    /// it did not inherit them; setting the trap again makes it live.
    pub(crate) dormant: u8,
    /// Functions with the trace attribute (`declare -ft`).
    pub traced_funcs: Set<String>,
    /// Definition line of each function and the line offset its body's lines count from.
    pub func_defs: Map<String, (usize, usize)>,
    /// The DEBUG/RETURN/ERR traps running now: none of them fires inside itself.
    pub(crate) in_progress: u8,
    /// Trap handlers running now (BASH_COMMAND does not follow their commands).
    pub(crate) trap_depth: u32,
    /// The DEBUG trap of the next simple command already ran (in the parent of a pipeline).
    pub(crate) skip_debug_once: bool,
    /// This subshell's BASHPID (the top level's is `$$`).
    pub bashpid: Option<u32>,
    /// The trace fd to use instead of BASH_XTRACEFD's current value.
    pub xtrace_pin: Option<Option<usize>>,
}
