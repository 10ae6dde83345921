//! Background lists (`cmd &`) and `wait`. A guest has no threads and no fork, so a
//! background list runs to completion at once, in a subshell copy of the shell, when it is
//! started; its status is kept under a made-up pid (`$!`) for `wait` to collect. Output of a
//! background job therefore comes before that of the commands after it, whereas in bash the
//! two may interleave.

use crate::io::Io;
use crate::state::jobs::Job;
use crate::state::{Flow, Shell};
use brush_parser::ast;

impl Shell {
    /// `list &`: runs it in a subshell now and records its status; the list's own status is 0.
    pub fn run_background(&mut self, l: &ast::AndOrList, io: &Io) -> i32 {
        let mut sub = self.clone();
        sub.process.subshell += 1;
        sub.trace_subshell();
        let st = match sub.run_andor(l, io) {
            Ok(s) => s,
            Err(Flow::Exit(s)) | Err(Flow::Return(s)) | Err(Flow::Abort(s)) => s,
            Err(_) => sub.status.last_status,
        };
        sub.status.last_status = st;
        let st = sub.run_exit_trap(io);
        self.jobs.started += 1;
        // The job's pid is the BASHPID it had.
        let pid = sub.trace.bashpid.unwrap_or(self.process.pid);
        self.jobs.finished.push(Job { pid, status: st });
        self.jobs.last_pid = Some(pid);
        0
    }

    pub(super) fn b_wait(&mut self, a: &[String], io: &Io) -> i32 {
        let mut next = false;
        let mut pid_var = None;
        let mut i = 1;
        while let Some(s) = a.get(i) {
            match s.as_str() {
                "-n" => next = true,
                "-f" => {}
                "-p" => {
                    i += 1;
                    pid_var = a.get(i).cloned();
                }
                "--" => {
                    i += 1;
                    break;
                }
                _ => break,
            }
            i += 1;
        }
        let ids = a.get(i..).unwrap_or_default();
        if next {
            if self.jobs.finished.is_empty() {
                return 127;
            }
            let job = self.jobs.finished.remove(0);
            if let Some(v) = pid_var {
                let _ = self.set_var(&v, job.pid.to_string());
            }
            return job.status;
        }
        if ids.is_empty() {
            self.jobs.finished.clear();
            return 0;
        }
        let mut st = 0;
        for id in ids {
            let found = if let Some(n) = id.strip_prefix('%') {
                match n.parse::<usize>() {
                    Ok(k) if k >= 1 && k <= self.jobs.finished.len() => Some(k - 1),
                    _ => {
                        self.error_io(io, &format!("wait: {id}: no such job"));
                        st = 127;
                        continue;
                    }
                }
            } else {
                match id.parse::<u32>() {
                    Ok(p) => self.jobs.finished.iter().position(|j| j.pid == p),
                    Err(_) => {
                        self.error_io(io, &format!("wait: `{id}': not a pid or valid job spec"));
                        st = 1;
                        continue;
                    }
                }
            };
            match found {
                Some(k) => {
                    let job = self.jobs.finished.remove(k);
                    if let Some(v) = &pid_var {
                        let _ = self.set_var(v, job.pid.to_string());
                    }
                    st = job.status;
                }
                None => {
                    self.error_io(io, &format!("wait: pid {id} is not a child of this shell"));
                    st = 127;
                }
            }
        }
        st
    }
}
