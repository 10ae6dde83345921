//! `wait`. A background job (`cmd &`) runs to completion when it starts (the guest has no
//! processes to run it alongside), so waiting only reports the statuses jobs ended with.

use crate::io::Io;
use crate::state::Shell;

impl Shell {
    pub(super) fn b_wait(&mut self, a: &[String], io: &Io) -> i32 {
        let mut ids = Vec::new();
        let mut any = false;
        for s in &a[1..] {
            match s.as_str() {
                "-n" => any = true,
                "-f" | "--" => {}
                _ => ids.push(s.clone()),
            }
        }
        if ids.is_empty() {
            return match (any, self.bg_jobs.last()) {
                (true, Some((_, st))) => *st,
                (true, None) => 127,
                (false, _) => 0,
            };
        }
        let mut st = 0;
        for id in ids {
            let job = match id.strip_prefix('%') {
                Some("" | "%" | "+") => self.bg_jobs.last(),
                Some("-") => self.bg_jobs.iter().rev().nth(1),
                Some(n) => n
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|n| self.bg_jobs.get(n)),
                None => match id.parse::<u32>() {
                    Ok(pid) => self.bg_jobs.iter().find(|(p, _)| *p == pid),
                    Err(_) => {
                        self.error_io(io, &format!("wait: `{id}': not a pid or valid job spec"));
                        st = 2;
                        continue;
                    }
                },
            };
            st = match job {
                Some((_, s)) => *s,
                None if id.starts_with('%') => {
                    self.error_io(io, &format!("wait: {id}: no such job"));
                    127
                }
                None => {
                    self.error_io(io, &format!("wait: pid {id} is not a child of this shell"));
                    127
                }
            };
        }
        st
    }
}
