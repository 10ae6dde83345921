//! `kill`: signal names and numbers (Linux numbering, as bash shows them) and sending. A guest
//! has no signals and no other processes: `kill` to the shell itself runs the trap set for the
//! signal, or ends the shell with status 128+N where bash would die of the signal (a real
//! death by signal cannot be shown); any other pid is reported as not existing.

use crate::io::Io;
use crate::state::{Flow, Shell, R};

/// Signals 1..=31 by number (index + 1).
const NAMES: &[&str] = &[
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];
const RTMIN: u32 = 34;
const RTMAX: u32 = 64;

/// The name of signal `n` without `SIG` (0 is `EXIT`).
pub fn signal_name(n: u32) -> Option<String> {
    match n {
        0 => Some("EXIT".into()),
        1..=31 => NAMES.get(n as usize - 1).map(|s| s.to_string()),
        RTMIN => Some("RTMIN".into()),
        RTMAX => Some("RTMAX".into()),
        35..=49 => Some(format!("RTMIN+{}", n - RTMIN)),
        50..=63 => Some(format!("RTMAX-{}", RTMAX - n)),
        _ => None,
    }
}

/// The number of a signal given by name (any case, with or without `SIG`) or number.
pub fn signal_number(s: &str) -> Option<u32> {
    if let Ok(n) = s.parse::<u32>() {
        return signal_name(n).map(|_| n);
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    (0..=RTMAX).find(|&n| signal_name(n).as_deref() == Some(name))
}

impl Shell {
    pub(super) fn b_kill(&mut self, a: &[String], io: &Io) -> R<i32> {
        let usage = |_: &Shell| {
            io.err(b"kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n");
        };
        let mut sig = 15;
        let mut i = 1;
        while let Some(s) = a.get(i) {
            match s.as_str() {
                "-l" | "-L" => return Ok(self.kill_list(a.get(i + 1..).unwrap_or_default(), io)),
                "-s" | "-n" => {
                    let Some(v) = a.get(i + 1) else {
                        self.error_io(io, &format!("kill: {s}: option requires an argument"));
                        return Ok(2);
                    };
                    match signal_number(v) {
                        Some(n) => sig = n,
                        None => {
                            self.error_io(io, &format!("kill: {v}: invalid signal specification"));
                            return Ok(1);
                        }
                    }
                    i += 2;
                    continue;
                }
                "--" => {
                    i += 1;
                    break;
                }
                _ if s.starts_with('-') && s.len() > 1 => {
                    let spec = &s[1..];
                    match signal_number(spec) {
                        Some(n) => sig = n,
                        None => {
                            self.error_io(
                                io,
                                &format!("kill: {spec}: invalid signal specification"),
                            );
                            return Ok(1);
                        }
                    }
                }
                _ => break,
            }
            i += 1;
        }
        let targets = a.get(i..).unwrap_or_default();
        if targets.is_empty() {
            usage(self);
            return Ok(2);
        }
        let mut st = 0;
        for t in targets {
            if t.starts_with('%') {
                self.error_io(io, &format!("kill: {t}: no such job"));
                st = 1;
                continue;
            }
            let Ok(pid) = t.parse::<i64>() else {
                self.error_io(
                    io,
                    &format!("kill: {t}: arguments must be process or job IDs"),
                );
                st = 1;
                continue;
            };
            // $$, or $BASHPID of this (sub)shell (see Shell::get).
            let own = i64::from(self.pid.wrapping_add(self.subshell));
            if pid != i64::from(self.pid) && pid != own {
                self.error_io(io, &format!("kill: ({pid}) - No such process"));
                st = 1;
                continue;
            }
            if sig == 0 {
                continue;
            }
            let name = signal_name(sig).unwrap_or_default();
            if let Some(t) = self.traps.get(&name).cloned() {
                if !t.is_empty() {
                    self.run_trap(&t, io);
                }
                continue;
            }
            // Ignored by default, or stop/continue (no job control here): nothing happens.
            if matches!(name.as_str(), "CHLD" | "URG" | "WINCH" | "CONT")
                || matches!(name.as_str(), "STOP" | "TSTP" | "TTIN" | "TTOU")
            {
                continue;
            }
            return Err(Flow::Exit(128 + sig as i32));
        }
        Ok(st)
    }

    /// `kill -l [sigspec ...]`.
    fn kill_list(&self, specs: &[String], io: &Io) -> i32 {
        if specs.is_empty() {
            let mut out = String::new();
            let mut col = 0;
            for n in 1..=RTMAX {
                let Some(name) = signal_name(n).filter(|_| !(32..34).contains(&n)) else {
                    continue;
                };
                col += 1;
                out.push_str(&format!("{n:2}) SIG{name}"));
                out.push(if col % 5 == 0 { '\n' } else { '\t' });
            }
            if !out.ends_with('\n') {
                out.push('\n');
            }
            io.out(out.as_bytes());
            return 0;
        }
        let mut st = 0;
        for s in specs {
            let line = match s.parse::<u32>() {
                Ok(n) => {
                    // An exit status of a signal death names the signal.
                    let n = if n > 128 { n - 128 } else { n };
                    signal_name(n)
                }
                Err(_) => signal_number(s).map(|n| n.to_string()),
            };
            match line {
                Some(l) => {
                    io.out(format!("{l}\n").as_bytes());
                }
                None => {
                    self.error_io(io, &format!("kill: {s}: invalid signal specification"));
                    st = 1;
                }
            }
        }
        st
    }
}
