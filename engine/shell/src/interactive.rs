//! The shell on a terminal with no script (`hookbox shell` typed at a prompt): bash's
//! interactive loop, reduced to what a person needs — a prompt (`PS1`, `PS2` while a command
//! is incomplete) on stderr, one complete command read and run at a time, `exit` or end of
//! input (Ctrl-D) ending it with the last status. Lines come from fd 0 byte by byte, so a
//! command run from the prompt reads what follows on the terminal itself.

use crate::io::{Io, Stream};
use crate::state::interrupts::Interrupts;
use crate::state::{Flow, Shell, R};

impl Interrupts {
    /// Stops the command being run (status 130, bash's for SIGINT) when Ctrl-C was typed;
    /// called before every command of a list, so loops stop at their next turn.
    pub fn check(&self) -> R<()> {
        if self.on && crate::host::interrupted(false) {
            return Err(Flow::Abort(130));
        }
        Ok(())
    }
}

/// bash's default prompts for a shell that is not a login shell.
const DEFAULT_PS1: &str = "bash-5.2$ ";
const DEFAULT_PS2: &str = "> ";

/// Standard input is the process's own and a terminal: the interactive loop applies.
pub fn on_terminal(io: &Io) -> bool {
    matches!(io.get(0), Some(Stream::Inherit(0)))
        && std::io::IsTerminal::is_terminal(&std::io::stdin())
}

/// Runs commands from the terminal until `exit` or end of input; returns the status.
pub fn run(sh: &mut Shell, io: &Io) -> i32 {
    let stdin = io.stdin();
    sh.interrupts.on = true;
    let mut text = String::new();
    loop {
        let prompt = if text.is_empty() {
            sh.get("PS1").unwrap_or_else(|| DEFAULT_PS1.into())
        } else {
            sh.get("PS2").unwrap_or_else(|| DEFAULT_PS2.into())
        };
        crate::io::flush_stdout();
        io.err(prompt.as_bytes());
        let mut line = Vec::new();
        let ended = loop {
            let mut b = [0u8; 1];
            match stdin.read(&mut b) {
                Ok(1) if b[0] == b'\n' => break Some(false),
                Ok(1) => line.push(b[0]),
                Ok(_) => break Some(true),
                // Ctrl-C at the prompt: what was typed is dropped, as bash drops it.
                Err(_) if crate::host::interrupted(true) => break None,
                Err(_) => break Some(true),
            }
        };
        let Some(ended) = ended else {
            text.clear();
            ended_by_ctrl_c(sh, io);
            continue;
        };
        if ended && line.is_empty() {
            if !text.is_empty() {
                io.err(b"bash: syntax error: unexpected end of file\n");
            }
            io.err(b"exit\n");
            break;
        }
        text.push_str(&String::from_utf8_lossy(&line));
        text.push('\n');
        if incomplete(&text) && !ended {
            continue;
        }
        // A Ctrl-C typed at the prompt belongs to no command.
        crate::host::interrupted(true);
        let status = sh.run_string(&text, io);
        sh.status.last_status = status;
        if crate::host::interrupted(true) {
            ended_by_ctrl_c(sh, io);
        }
        text.clear();
        if let Some(code) = sh.status.pending_exit.take() {
            sh.status.last_status = code;
            break;
        }
    }
    sh.run_exit_trap(io)
}

/// A line (typed, or running) ended by Ctrl-C: bash starts a new line and the status is 130.
fn ended_by_ctrl_c(sh: &mut Shell, io: &Io) {
    crate::io::flush_stdout();
    io.err(b"\n");
    sh.status.last_status = 130;
}

/// The text so far ends inside a command (an open quote, `if` without `fi`, a here-document
/// still being read): the next line continues it.
fn incomplete(text: &str) -> bool {
    crate::syntax::is_incomplete(text)
}
