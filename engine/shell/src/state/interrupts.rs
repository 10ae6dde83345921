//! Whether Ctrl-C is looked for (only at a terminal prompt).

/// Ctrl-C for the interactive loop ([`Shell::interrupts`]). The host keeps it raised until
/// the prompt clears it, so a subshell's copy of the shell sees it as the shell does.
#[derive(Debug, Clone, Copy, Default)]
pub struct Interrupts {
    /// Looked for at all: only at a terminal prompt (a script pays nothing for it).
    pub on: bool,
}
