//! `caller`: where the current function or sourced file was called from.

use crate::io::Io;
use crate::state::{Shell, R};

impl Shell {
    /// `caller [N]`: the line and file of a call frame.
    pub(super) fn b_caller(&mut self, a: &[String], io: &Io) -> R<i32> {
        let n = match a.get(1) {
            Some(v) => match v.parse::<usize>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.error_io(io, &format!("caller: {v}: invalid number"));
                    return Ok(2);
                }
            },
            None => None,
        };
        let len = self.calls.frames.len();
        let k = n.unwrap_or(0);
        // bash shows no frame for the top level of -c/stdin code.
        let avail = if self.calls.script_mode || n.is_none() {
            len
        } else {
            len.saturating_sub(1)
        };
        if k >= avail {
            return Ok(1);
        }
        let fr = &self.calls.frames[len - 1 - k];
        let line = match n {
            // Code read from stdin or -c has no file name: bash says NULL.
            None if !self.calls.script_mode && fr.call_src == "main" => {
                format!("{} NULL\n", fr.call_line)
            }
            None => format!("{} {}\n", fr.call_line, fr.call_src),
            Some(_) => {
                let who = if len >= k + 2 {
                    self.calls.frames[len - 2 - k].name.clone()
                } else {
                    "main".into()
                };
                format!("{} {who} {}\n", fr.call_line, fr.call_src)
            }
        };
        io.out(line.as_bytes());
        Ok(0)
    }
}
