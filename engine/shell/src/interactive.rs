//! The shell on a terminal with no script (`hookbox shell` typed at a prompt): bash's
//! interactive loop, reduced to what a person needs — a prompt (`PS1`, `PS2` while a command
//! is incomplete) on stderr, one complete command read and run at a time, `exit` or end of
//! input (Ctrl-D) ending it with the last status. Lines come from fd 0 byte by byte, so a
//! command run from the prompt reads what follows on the terminal itself.

use crate::io::{Io, Stream};
use crate::state::Shell;

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
            match stdin.read_byte() {
                Some(b'\n') => break false,
                Some(b) => line.push(b),
                None => break true,
            }
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
        let status = sh.run_string(&text, io);
        sh.last_status = status;
        text.clear();
        if let Some(code) = sh.pending_exit.take() {
            sh.last_status = code;
            break;
        }
    }
    sh.run_exit_trap(io)
}

/// The text so far ends inside a command (an open quote, `if` without `fi`, a here-document
/// still being read): the next line continues it.
fn incomplete(text: &str) -> bool {
    use brush_parser::{ParseError as P, TokenizerError as T};
    match crate::exec::parse(text) {
        Err(P::ParsingAtEndOfInput) => true,
        Err(P::Tokenizing { inner, .. }) => matches!(
            inner,
            T::UnterminatedEscapeSequence
                | T::UnterminatedSingleQuote(_)
                | T::UnterminatedAnsiCQuote(_)
                | T::UnterminatedDoubleQuote(_)
                | T::UnterminatedBackquote(_)
                | T::UnterminatedCommandSubstitution
                | T::UnterminatedExpansion
                | T::UnterminatedHereDocuments(..)
        ),
        _ => false,
    }
}
