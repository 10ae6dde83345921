//! `echo`: `-n`, `-e`, `-E` (and xpg_echo), and a write error's status.

use crate::io::Io;
use crate::state::Shell;

impl Shell {
    pub(super) fn b_echo(&mut self, a: &[String], io: &Io) -> i32 {
        let mut i = 1;
        let mut newline = true;
        let mut escapes = self.opts.xpg_echo;
        while i < a.len() {
            let s = &a[i];
            if s.len() > 1
                && s.starts_with('-')
                && s[1..].chars().all(|c| matches!(c, 'n' | 'e' | 'E'))
            {
                for c in s[1..].chars() {
                    match c {
                        'n' => newline = false,
                        'e' => escapes = true,
                        _ => escapes = false,
                    }
                }
                i += 1;
            } else {
                break;
            }
        }
        let mut out = String::new();
        for (k, s) in a[i..].iter().enumerate() {
            if k > 0 {
                out.push(' ');
            }
            if escapes {
                let (d, stop) = crate::expand::decode_echo_escapes(s);
                out.push_str(&d);
                if stop {
                    io.out(out.as_bytes());
                    return 0;
                }
            } else {
                out.push_str(s);
            }
        }
        if newline {
            out.push('\n');
        }
        if io.out(out.as_bytes()) {
            0
        } else {
            self.error_io(io, "echo: write error: Bad file descriptor");
            1
        }
    }
}
