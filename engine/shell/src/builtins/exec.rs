//! `exec` with a command: the shell is replaced, so the command runs and the shell exits with
//! its status. `-c` runs it with an empty environment; `-a NAME` and `-l` would change the
//! command's argv[0], which the host interface cannot pass: the command runs under its own
//! name (a known gap).

use crate::io::Io;
use crate::state::{Flow, Shell, R};

impl Shell {
    pub(super) fn b_exec(&mut self, a: &[String], io: &Io) -> R<i32> {
        let mut clear_env = false;
        let mut i = 1;
        while let Some(s) = a.get(i) {
            if s == "--" {
                i += 1;
                break;
            }
            if !s.starts_with('-') || s.len() < 2 {
                break;
            }
            for c in s.chars().skip(1) {
                match c {
                    'c' => clear_env = true,
                    'l' => {}
                    'a' => i += 1,
                    _ => {
                        self.error_io(io, &format!("exec: -{c}: invalid option"));
                        io.err(b"exec: usage: exec [-cl] [-a name] [command [argument ...]] [redirection ...]\n");
                        return Ok(2);
                    }
                }
            }
            i += 1;
        }
        let Some(cmd) = a.get(i) else {
            return Ok(0);
        };
        let known = cmd.contains('/')
            || self.functions.funcs.contains_key(cmd)
            || self.builtin_enabled(cmd)
            || self.path_lookup(cmd).is_some()
            || crate::tools::find(cmd).is_some();
        if !known {
            self.error_io(io, &format!("exec: {cmd}: not found"));
            return Err(Flow::Exit(127));
        }
        if clear_env {
            // The shell ends here, so its own variables can simply stop being exported.
            for scope in &mut self.scopes {
                for v in scope.values_mut() {
                    v.exported = false;
                }
            }
        }
        // bash does not give a program run by exec `_`.
        self.status.exec_running = true;
        let st = self.dispatch(a.get(i..).unwrap_or_default().to_vec(), Vec::new(), io);
        self.status.exec_running = false;
        Err(Flow::Exit(st?))
    }
}
