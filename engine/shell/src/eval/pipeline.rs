//! Pipelines: `!`, `time`, and commands joined by `|`, each stage with its own fds.

use crate::io::{Io, Stream};
use crate::state::{Flow, Shell, R};
use brush_parser::ast::{self, Command, CompoundCommand as CC};
use std::cell::RefCell;
use std::rc::Rc;

impl Shell {
    /// A pipeline whose failure triggers `set -e` and the ERR trap.
    pub(super) fn run_pipeline_checked(&mut self, p: &ast::Pipeline, io: &Io) -> R<i32> {
        let st = self.run_pipeline(p, io)?;
        self.status.last_status = st;
        if self.process.subshell == 0 && !self.caches.borrow().pending_signals.is_empty() {
            self.pending_signals(io)?;
        }
        if st != 0 && !p.bang && self.cond_depth == 0 {
            let simple_like = p.seq.len() > 1
                || matches!(
                    p.seq.first(),
                    Some(Command::Simple(_))
                        | Some(Command::Compound(CC::Subshell(_), _))
                        | Some(Command::ExtendedTest(..))
                        | Some(Command::Compound(CC::Arithmetic(_), _))
                );
            if simple_like {
                self.err_trap(io)?;
                self.status.last_status = st;
                if self.opts.errexit {
                    return Err(Flow::Exit(st));
                }
            }
        }
        Ok(st)
    }

    pub(super) fn run_pipeline(&mut self, p: &ast::Pipeline, io: &Io) -> R<i32> {
        let st = if p.seq.len() == 1 {
            if p.bang {
                self.cond_depth += 1;
            }
            let r = self.run_command(&p.seq[0], io);
            if p.bang {
                self.cond_depth -= 1;
            }
            let st = r?;
            self.status.pipestatus = vec![st];
            st
        } else {
            let mut input: Option<Stream> = None;
            let mut statuses = Vec::new();
            let mut streamed: Vec<(usize, Rc<dyn crate::host::Running>)> = Vec::new();
            let n = p.seq.len();
            for (i, cmd) in p.seq.iter().enumerate() {
                let mut sio = io.clone();
                sio.base = false;
                if let Some(inp) = input.take() {
                    sio.set(0, Some(inp));
                }
                let buf = if i + 1 < n {
                    let b = Rc::new(RefCell::new(Vec::new()));
                    sio.set(1, Some(Stream::Buf(b.clone())));
                    Some(b)
                } else {
                    None
                };
                // A stage that is one simple command may stream, if it is external.
                let slot = match (&buf, cmd) {
                    (Some(b), Command::Simple(_)) => Some(crate::state::StageSlot {
                        buf: b.clone(),
                        running: Rc::default(),
                        func_depth: self.calls.func_depth,
                    }),
                    _ => None,
                };
                let last_in_shell = i + 1 == n && self.opts.lastpipe;
                let st = if last_in_shell {
                    self.run_command(cmd, &sio)?
                } else if let Some(skipped) = self.pipeline_debug_trap(cmd, io)? {
                    skipped
                } else {
                    let mut sub = self.clone();
                    sub.fds.stage = slot.clone();
                    sub.process.subshell += 1;
                    sub.trace_subshell();
                    sub.skip_next_debug(cmd);
                    let st = match sub.run_command(cmd, &sio) {
                        Ok(s) => s,
                        Err(Flow::Exit(s)) | Err(Flow::Return(s)) | Err(Flow::Abort(s)) => s,
                        Err(_) => sub.status.last_status,
                    };
                    sub.status.last_status = st;
                    sub.run_exit_trap(&sio)
                };
                statuses.push(st);
                let running = slot.and_then(|s| s.running.borrow_mut().take());
                if let Some(b) = buf {
                    let data = std::mem::take(&mut *b.borrow_mut());
                    input = Some(match running {
                        Some(r) if data.is_empty() => {
                            streamed.push((i, r.clone()));
                            Stream::Running(r)
                        }
                        // Output written after the streamed command (a trap): keep the
                        // order by reading the command to its end first.
                        Some(r) => {
                            let mut all = Stream::Running(r.clone()).read_to_end();
                            all.extend(data);
                            if let Some(s) = statuses.last_mut() {
                                *s = r.finish();
                            }
                            Stream::input(all)
                        }
                        None => Stream::input(data),
                    });
                }
            }
            // The streamed stages end once the last stage is done with their output, the
            // last first: each one's end is what ends the writer before it (SIGPIPE).
            drop(input);
            for (i, r) in streamed.into_iter().rev() {
                if let Some(s) = statuses.get_mut(i) {
                    *s = r.finish();
                }
            }
            let st = if self.opts.pipefail {
                statuses
                    .iter()
                    .rev()
                    .find(|s| **s != 0)
                    .copied()
                    .unwrap_or(0)
            } else {
                statuses.last().copied().unwrap_or(0)
            };
            self.status.pipestatus = statuses;
            st
        };
        let st = if p.bang { (st == 0) as i32 } else { st };
        self.status.last_status = st;
        Ok(st)
    }
}
