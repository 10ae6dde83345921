//! Control of loops, functions and the shell: `break`, `continue`, `return`, `exit`,
//! `shift`, `let`.

use crate::io::Io;
use crate::state::{Flow, Shell, R};

impl Shell {
    /// `shift [N]`.
    pub(super) fn b_shift(&mut self, a: &[String], io: &Io) -> R<i32> {
        let n = a
            .get(1)
            .map(|s| s.parse::<usize>().unwrap_or(usize::MAX))
            .unwrap_or(1);
        if n > self.positional.len() {
            if a.get(1).is_some_and(|s| s.parse::<usize>().is_err()) {
                self.error_io(io, &format!("shift: {}: numeric argument required", a[1]));
                return Ok(1);
            }
            Ok(1)
        } else {
            self.positional.drain(..n);
            Ok(0)
        }
    }

    /// `exit [N]`.
    pub(super) fn b_exit(&mut self, a: &[String], io: &Io) -> R<i32> {
        let st = match a.get(1) {
            Some(s) => match s.trim().parse::<i64>() {
                Ok(v) => (v & 0xff) as i32,
                Err(_) => {
                    self.error_io(io, &format!("exit: {s}: numeric argument required"));
                    2
                }
            },
            None => self.status.last_status,
        };
        Err(Flow::Exit(st))
    }

    /// `return [N]`.
    pub(super) fn b_return(&mut self, a: &[String], io: &Io) -> R<i32> {
        let st = match a.get(1) {
            Some(s) => match s.trim().parse::<i64>() {
                Ok(v) => (v & 0xff) as i32,
                Err(_) => {
                    self.error_io(io, &format!("return: {s}: numeric argument required"));
                    2
                }
            },
            None => self.status.last_status,
        };
        if self.calls.func_depth == 0 && !self.calls.sourcing {
            self.error_io(
                io,
                "return: can only `return' from a function or sourced script",
            );
            return Ok(2);
        }
        Err(Flow::Return(st))
    }

    /// `break [N]` and `continue [N]`.
    pub(super) fn b_break(&mut self, a: &[String], io: &Io) -> R<i32> {
        let name = a[0].as_str();
        if a.len() > 2 && self.calls.loop_depth > 0 {
            // bash leaves every loop after this error too.
            self.error_io(io, &format!("{name}: too many arguments"));
            self.status.last_status = 1;
            return Err(Flow::Break(self.calls.loop_depth));
        }
        let n = match a.get(1).map(|s| (s, s.parse::<i64>())) {
            None => 1,
            Some((_, Ok(n))) if n >= 1 => u32::try_from(n).unwrap_or(u32::MAX),
            Some((s, Ok(_))) => {
                // bash leaves every loop after this error.
                self.error_io(io, &format!("{name}: {s}: loop count out of range"));
                self.status.last_status = 1;
                if self.calls.loop_depth == 0 {
                    return Ok(1);
                }
                return Err(Flow::Break(self.calls.loop_depth));
            }
            Some((s, Err(_))) if self.calls.loop_depth > 0 => {
                // A special builtin's usage error: the shell exits.
                self.error_io(io, &format!("{name}: {s}: numeric argument required"));
                return Err(Flow::Exit(128));
            }
            Some(_) => 1,
        };
        if self.calls.loop_depth == 0 {
            self.error_io(
                io,
                &format!("{name}: only meaningful in a `for', `while', or `until' loop"),
            );
            return Ok(0);
        }
        let n = n.min(self.calls.loop_depth);
        self.status.last_status = 0;
        Err(if name == "break" {
            Flow::Break(n)
        } else {
            Flow::Continue(n)
        })
    }

    /// `let EXPR...`: the status is whether the last is non-zero.
    pub(super) fn b_let(&mut self, a: &[String], _io: &Io) -> R<i32> {
        let mut v = 0;
        for e in &a[1..] {
            v = self.arith_cmd_str("let: ", e)?;
        }
        Ok((v == 0) as i32)
    }
}
