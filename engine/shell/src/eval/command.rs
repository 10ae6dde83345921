//! One command of a pipeline: its kind, its redirections, `set -e` and ERR traps.

use crate::io::Io;
use crate::state::{Flow, Shell, R};
use brush_parser::ast::{self, Command};
use std::rc::Rc;

impl Shell {
    pub fn run_command(&mut self, c: &Command, io: &Io) -> R<i32> {
        // `set -n`: commands are read but not run (a script cannot turn it off again).
        if self.opts.noexec {
            return Ok(self.status.last_status);
        }
        let merged;
        let io = if io.base && !self.fds.fd_overlay.is_empty() {
            let mut m = io.clone();
            for (fd, s) in &self.fds.fd_overlay {
                m.set(*fd, s.clone());
            }
            m.base = false;
            merged = m;
            &merged
        } else {
            io
        };
        // Most commands run with the table already current: no clone of it to switch, and
        // it is put back only if the command changed it.
        let saved = if self.fds.cur_io.same_streams(io) {
            None
        } else {
            Some(self.set_err(io))
        };
        let r = self.run_command_inner(c, io);
        match saved {
            Some(saved) => self.fds.cur_io = saved,
            None if !self.fds.cur_io.same_streams(io) => self.fds.cur_io = io.clone(),
            None => {}
        }
        r
    }

    /// Points the shell's own messages at this command's fd 2; returns the previous target.
    pub fn set_err(&mut self, io: &Io) -> Io {
        std::mem::replace(&mut self.fds.cur_io, io.clone())
    }

    fn run_command_inner(&mut self, c: &Command, io: &Io) -> R<i32> {
        match c {
            Command::Simple(s) => self.run_simple(s, io),
            Command::Compound(cc, redirs) => {
                let io2;
                if redirs.is_some() {
                    if let Some(loc) = ast::SourceLocation::location(cc) {
                        self.set_line(&loc);
                    }
                }
                let io = match redirs {
                    Some(r) => match self.apply_redirs(&r.0, io)? {
                        Some(n) => {
                            io2 = n;
                            &io2
                        }
                        None => return self.compound_redir_failed(io),
                    },
                    None => io,
                };
                self.set_err(io);
                let st = self.run_compound(cc, io)?;
                self.status.last_status = st;
                Ok(st)
            }
            Command::Function(f) => {
                self.check_function_name(&f.fname.value)?;
                if self.functions.readonly_funcs.contains(&f.fname.value) {
                    self.error(&format!("{}: readonly function", f.fname.value));
                    return Ok(1);
                }
                self.trace_define(f);
                self.functions
                    .func_src
                    .insert(f.fname.value.clone(), self.calls.cur_source.clone());
                self.functions
                    .funcs
                    .insert(f.fname.value.clone(), Rc::new(f.clone()));
                Ok(0)
            }
            Command::ExtendedTest(t, redirs) => {
                let io2;
                let io = match redirs {
                    Some(r) => match self.apply_redirs(&r.0, io)? {
                        Some(n) => {
                            io2 = n;
                            &io2
                        }
                        None => return Ok(1),
                    },
                    None => io,
                };
                self.set_err(io);
                self.set_line(&t.loc);
                if self.debug_trap_for(|| format!("[[ {} ]]", t.expr), io)? {
                    return Ok(0);
                }
                let r = self.ext_test(&t.expr)?;
                Ok(r)
            }
        }
    }

    /// A compound command whose redirection failed did not run; since bash
    /// 5.2 that failure counts for `set -e` and the ERR trap like a simple
    /// command's (a compound's own status otherwise never does).
    fn compound_redir_failed(&mut self, io: &Io) -> R<i32> {
        self.status.last_status = 1;
        if self.cond_depth == 0 {
            self.err_trap(io)?;
            self.status.last_status = 1;
            if self.opts.errexit {
                return Err(Flow::Exit(1));
            }
        }
        Ok(1)
    }

    pub(super) fn set_line(&mut self, loc: &brush_parser::SourceSpan) {
        self.lines.lineno = loc.start.line + self.lines.line_offset;
    }
}
