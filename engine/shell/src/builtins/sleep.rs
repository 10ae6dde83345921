//! `sleep`: runs in the shell (no process in a guest); Ctrl-C at a prompt ends it.

use crate::io::Io;
use crate::state::{Shell, R};

impl Shell {
    /// `sleep SECONDS...` (suffixes s, m, h, d; fractions).
    pub(super) fn b_sleep(&mut self, a: &[String], _io: &Io) -> R<i32> {
        let secs: f64 = a[1..].iter().map(|s| parse_duration(s)).sum();
        crate::io::flush_stdout();
        let total = std::time::Duration::from_secs_f64(secs.max(0.0));
        if !self.interrupts.on {
            std::thread::sleep(total);
            return Ok(0);
        }
        // At a prompt Ctrl-C ends a sleep, as SIGINT ends bash's: wake to look.
        let until = std::time::Instant::now() + total;
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break Ok(0);
            }
            std::thread::sleep(left.min(std::time::Duration::from_millis(50)));
            self.interrupts.check()?;
        }
    }
}

fn parse_duration(s: &str) -> f64 {
    let (num, mul) = match s.chars().last() {
        Some('s') => (&s[..s.len() - 1], 1.0),
        Some('m') => (&s[..s.len() - 1], 60.0),
        Some('h') => (&s[..s.len() - 1], 3600.0),
        Some('d') => (&s[..s.len() - 1], 86400.0),
        _ => (s, 1.0),
    };
    num.parse::<f64>().unwrap_or(0.0) * mul
}
