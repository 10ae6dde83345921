//! The evaluator: walks the parser's AST. Programs enter as text (`run_script`), commands read
//! and write through the fd table (`Io`), and status leaves as an `i32` or a `Flow`.

use crate::io::Io;
use crate::state::{Flow, Shell, Value, Var, R};
use brush_parser::ast;

mod assign;
mod command;
mod compound;
mod dispatch;
mod pipeline;
mod redirect;
mod simple;

pub use crate::state::Source;

impl Shell {
    /// Runs a whole script as bash does: lines before a late syntax error still run.
    pub fn run_script(&mut self, src: &str, source: Source, io: &Io) -> i32 {
        self.status.last_arg.clone_from(&self.arg0);
        if self.script_may_alias(src) {
            return self.run_script_with_aliases(src, source, io);
        }
        let parsed = crate::syntax::parse_prefix(src);
        self.parse_warnings(&parsed.warnings);
        let status = match self.run_script_program(&parsed.program, src, source, io) {
            Ok(s) => s,
            Err(Flow::Exit(s)) | Err(Flow::Return(s)) if parsed.error.is_some() => {
                self.status.last_status = s;
                let st = self.run_exit_trap(io);
                self.hist_save_at_exit();
                return st;
            }
            Err(Flow::Exit(s)) => s,
            Err(Flow::Return(s)) | Err(Flow::Abort(s)) => s,
            Err(_) => self.status.last_status,
        };
        let status = match parsed.error {
            None => status,
            Some(e) => self.script_syntax_error(source, &e),
        };
        self.status.last_status = status;
        let st = self.run_exit_trap(io);
        self.hist_save_at_exit();
        st
    }

    /// Prints what the parser warned of (a here-document ended by the end of input).
    pub(crate) fn parse_warnings(&mut self, warnings: &[crate::syntax::Warning]) {
        for w in warnings {
            self.lines.lineno = w.line;
            self.error(&format!("warning: {}", w.message));
        }
    }

    /// Reports a script's syntax error; the status the script ends with.
    pub(crate) fn script_syntax_error(
        &mut self,
        source: Source,
        e: &crate::syntax::SyntaxError,
    ) -> i32 {
        self.print_syntax_error(source, e.line, &e.message);
        match e.kind {
            // The conditional parser reports its own error; the script just ends.
            crate::syntax::ErrorKind::Conditional => self.status.last_status,
            _ => 2,
        }
    }

    pub fn print_syntax_error(&self, source: Source, line: usize, msg: &str) {
        let prefix = match source {
            Source::DashC => format!("{}: -c: line {line}: ", self.messages.err_name),
            Source::Stdin => format!("{}: line {line}: ", self.messages.err_name),
            Source::File => format!("{}: line {line}: ", self.messages.err_name),
        };
        crate::io::flush_stdout();
        for m in msg.split('\x00') {
            eprintln!("{prefix}{}", m.trim_end_matches('\n'));
        }
    }

    pub fn run_exit_trap(&mut self, io: &Io) -> i32 {
        if self.exit_trap_level != self.process.subshell {
            return self.status.last_status;
        }
        if let Some(t) = self.traps.remove("EXIT") {
            let saved = self.status.last_status;
            let st = self.run_string(&t, io);
            let _ = st;
            match self.status.pending_exit.take() {
                Some(s) => return s,
                None => return saved,
            }
        }
        self.status.last_status
    }

    /// Runs a string (eval, traps, command substitution) in this shell; Flow passes through.
    pub fn run_string_flow(&mut self, src: &str, io: &Io) -> R<i32> {
        self.run_text(src, io, false)
    }

    /// Runs `src` a complete command at a time, as bash does: the commands before a syntax
    /// error run, then the error is reported (in `eval`'s words when `eval`) with status 2.
    pub(crate) fn run_text(&mut self, src: &str, io: &Io, eval: bool) -> R<i32> {
        // eval, source, traps and $( ) nest through here: bounded before the stack is.
        if self.calls.xdepth > crate::state::MAX_EVAL_DEPTH {
            self.error(&format!(
                "maximum eval nesting level exceeded ({})",
                crate::state::MAX_EVAL_DEPTH
            ));
            return Err(Flow::Abort(1));
        }
        if self.aliases_live() {
            return self.run_text_with_aliases(src, io, eval);
        }
        let parsed = crate::syntax::parse_prefix(src);
        let st = self.run_program(&parsed.program, io)?;
        let Some(e) = parsed.error else {
            return Ok(st);
        };
        self.report_syntax_error(&e, io, eval);
        Ok(2)
    }

    /// [`Self::run_text`] with aliases live: a command at a time, each read with the
    /// aliases the commands before it left.
    fn run_text_with_aliases(&mut self, src: &str, io: &Io, eval: bool) -> R<i32> {
        let mut reader = crate::syntax::Reader::new(src);
        let mut st = self.status.last_status;
        loop {
            reader.set_aliases(self.live_aliases());
            match reader.next_command() {
                Ok(Some(cc)) => self.run_complete_command(&cc, &mut st, io)?,
                Ok(None) => return Ok(st),
                Err(e) => {
                    self.report_syntax_error(&e, io, eval);
                    return Ok(2);
                }
            }
        }
    }

    fn report_syntax_error(&self, e: &crate::syntax::SyntaxError, io: &Io, eval: bool) {
        if eval {
            let prefix = format!(
                "{}: eval: line {}: ",
                self.messages.err_name,
                e.line + self.lines.line_offset
            );
            for m in e.message.split('\x00') {
                io.err(format!("{prefix}{}\n", m.trim_end_matches('\n')).as_bytes());
            }
        } else {
            self.error(&e.message.replace('\x00', &self.err_prefix()));
        }
    }

    pub fn run_string(&mut self, src: &str, io: &Io) -> i32 {
        match self.run_string_flow(src, io) {
            Ok(s) => s,
            Err(Flow::Exit(s)) => {
                self.status.pending_exit = Some(s);
                s
            }
            Err(Flow::Abort(s)) | Err(Flow::Return(s)) => s,
            Err(_) => self.status.last_status,
        }
    }

    /// Runs a string as a subshell (already a clone); returns its exit status.
    pub fn run_string_in(&mut self, src: &str, io: &Io, _subshell: bool) -> i32 {
        let st = match self.run_string_flow(src, io) {
            Ok(s) => s,
            Err(Flow::Exit(s)) | Err(Flow::Abort(s)) | Err(Flow::Return(s)) => s,
            Err(_) => self.status.last_status,
        };
        self.status.last_status = st;
        self.run_exit_trap(io)
    }

    pub fn run_program(&mut self, prog: &ast::Program, io: &Io) -> R<i32> {
        let mut st = self.status.last_status;
        for cc in &prog.complete_commands {
            self.run_complete_command(cc, &mut st, io)?;
        }
        Ok(st)
    }

    /// One top-level command of a program: its status into `st`; an aborted command (an
    /// expansion error) ends only itself; `-c`'s single-command mode ends the shell after it.
    pub(crate) fn run_complete_command(
        &mut self,
        cc: &ast::CompoundList,
        st: &mut i32,
        io: &Io,
    ) -> R<()> {
        match self.run_list(cc, io) {
            Ok(s) => *st = s,
            Err(Flow::Abort(s)) => {
                *st = s;
                self.status.last_status = s;
            }
            Err(e) => return Err(e),
        }
        if self.one_command_done() {
            return Err(Flow::Exit(*st));
        }
        Ok(())
    }

    pub fn run_list(&mut self, list: &ast::CompoundList, io: &Io) -> R<i32> {
        let mut st = 0;
        for item in &list.0 {
            self.interrupts.check()?;
            // `set -n`: commands are read, not run.
            if self.opts.noexec {
                break;
            }
            if matches!(item.1, ast::SeparatorOperator::Async) {
                st = self.run_background(&item.0, io);
                self.status.last_status = st;
                continue;
            }
            st = self.run_andor(&item.0, io)?;
        }
        Ok(st)
    }

    pub(crate) fn run_andor(&mut self, l: &ast::AndOrList, io: &Io) -> R<i32> {
        let n = l.additional.len();
        if n == 0 {
            return self.run_pipeline_checked(&l.first, io);
        }
        self.cond_depth += 1;
        let r = self.run_pipeline(&l.first, io);
        self.cond_depth -= 1;
        let mut st = r?;
        self.status.last_status = st;
        for (i, next) in l.additional.iter().enumerate() {
            let (run, p) = match next {
                ast::AndOr::And(p) => (st == 0, p),
                ast::AndOr::Or(p) => (st != 0, p),
            };
            if !run {
                continue;
            }
            if i + 1 == n {
                st = self.run_pipeline_checked(p, io)?;
            } else {
                self.cond_depth += 1;
                let r = self.run_pipeline(p, io);
                self.cond_depth -= 1;
                st = r?;
            }
            self.status.last_status = st;
        }
        Ok(st)
    }
}

/// A scope holding prefix assignments as exported variables.
pub(super) fn temp_scope(temp: &[(String, String)]) -> crate::state::Map<String, Var> {
    temp.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                Var {
                    value: Some(Value::Str(v.clone())),
                    exported: true,
                    ..Var::default()
                },
            )
        })
        .collect()
}
