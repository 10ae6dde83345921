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
            if !any {
                for j in &mut self.bg_jobs {
                    j.2 = true;
                }
                return 0;
            }
            // -n: the next job to finish, in the order they finished (started).
            return match self.bg_jobs.iter_mut().find(|j| !j.2) {
                Some(j) => {
                    j.2 = true;
                    j.1
                }
                None => 127,
            };
        }
        let mut st = 0;
        for id in ids {
            let n = self.bg_jobs.len();
            let idx = match id.strip_prefix('%') {
                Some("" | "%" | "+") => n.checked_sub(1),
                Some("-") => n.checked_sub(2),
                Some(k) => k
                    .parse::<usize>()
                    .ok()
                    .and_then(|k| k.checked_sub(1))
                    .filter(|k| *k < n),
                None => match id.parse::<u32>() {
                    Ok(pid) => self.bg_jobs.iter().position(|j| j.0 == pid),
                    Err(_) => {
                        self.error_io(io, &format!("wait: `{id}': not a pid or valid job spec"));
                        st = 2;
                        continue;
                    }
                },
            };
            st = match idx.and_then(|k| self.bg_jobs.get_mut(k)) {
                Some(j) => {
                    j.2 = true;
                    j.1
                }
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
