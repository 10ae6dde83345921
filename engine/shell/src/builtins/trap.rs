//! `trap` and `kill`, and the signal table they share. There are no real signals in the guest:
//! `kill` aimed at the shell itself delivers the signal in-process (its trap runs, `''`
//! ignores it, and a signal whose default action terminates ends the shell with 128+n).

use crate::io::Io;
use crate::state::{Flow, Shell, R};

/// Signals 1..=31, as Linux numbers them.
const NAMES: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];
const RTMIN: u32 = 34;
const RTMAX: u32 = 64;

/// The name of signal `n` without `SIG` (`EXIT` for 0).
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

/// The number of a signal given by number or by name (any case, `SIG` optional).
pub fn signal_number(s: &str) -> Option<u32> {
    if let Ok(n) = s.parse::<u32>() {
        return signal_name(n).map(|_| n);
    }
    let u = s.to_ascii_uppercase();
    let u = u.strip_prefix("SIG").unwrap_or(&u);
    if u == "EXIT" {
        return Some(0);
    }
    (0..=RTMAX).find(|n| *n > 0 && signal_name(*n).as_deref() == Some(u))
}

/// `kill -l` / `trap -l`: the numbered table, five to a line.
fn signal_table() -> String {
    let mut out = String::new();
    let mut k = 0;
    for n in 1..=RTMAX {
        if let Some(name) = signal_name(n) {
            k += 1;
            out.push_str(&format!("{n:2}) SIG{name}"));
            out.push(if k % 5 == 0 { '\n' } else { '\t' });
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The key a trap is stored under: `EXIT`, `DEBUG`, `ERR`, `RETURN` or a signal name.
pub fn sig_name(s: &str) -> String {
    let u = s.to_ascii_uppercase();
    match u.as_str() {
        "ERR" | "DEBUG" | "RETURN" => u,
        _ => signal_number(s).and_then(signal_name).unwrap_or_default(),
    }
}

fn sig_order(s: &str) -> u32 {
    match s {
        "DEBUG" => 100,
        "ERR" => 101,
        "RETURN" => 102,
        _ => signal_number(s).unwrap_or(99),
    }
}

/// Signals whose default action does not end the process.
fn ignored_by_default(n: u32) -> bool {
    matches!(
        signal_name(n).as_deref(),
        Some("CHLD" | "CONT" | "URG" | "WINCH" | "STOP" | "TSTP" | "TTIN" | "TTOU")
    )
}

impl Shell {
    pub(super) fn b_trap(&mut self, a: &[String], io: &Io) -> i32 {
        let show = |sh: &Self, sig: &str| -> Option<String> {
            let cmd = sh.traps.get(sig)?;
            let shown = if matches!(sig, "EXIT" | "ERR" | "DEBUG" | "RETURN") {
                sig.to_string()
            } else {
                format!("SIG{sig}")
            };
            Some(format!("trap -- {} {shown}\n", crate::quote::quote(cmd)))
        };
        if a.get(1).map(|s| s.as_str()) == Some("-l") {
            io.out(signal_table().as_bytes());
            return 0;
        }
        if a.len() == 1 || a.get(1).map(|s| s.as_str()) == Some("-p") {
            let mut out = String::new();
            let mut st = 0;
            if a.len() > 2 {
                for s in &a[2..] {
                    let name = sig_name(s);
                    if name.is_empty() {
                        self.error_io(io, &format!("trap: {s}: invalid signal specification"));
                        st = 1;
                        continue;
                    }
                    if let Some(l) = show(self, &name) {
                        out.push_str(&l);
                    }
                }
            } else {
                let mut t: Vec<&String> = self.traps.keys().collect();
                t.sort_by_key(|k| sig_order(k));
                for sig in t {
                    if let Some(l) = show(self, sig) {
                        out.push_str(&l);
                    }
                }
            }
            io.out(out.as_bytes());
            return st;
        }
        let mut args = &a[1..];
        if args[0] == "--" {
            args = &args[1..];
        }
        if args.is_empty() {
            return 0;
        }
        // A lone signal, `-` before the signals, or a first operand that is a signal
        // number (`trap 0 2`) resets them.
        let numeric = !args[0].is_empty() && args[0].bytes().all(|c| c.is_ascii_digit());
        let (cmd, sigs) = if args[0] == "-" {
            if args.len() == 1 {
                io.err(b"trap: usage: trap [-lp] [[arg] signal_spec ...]\n");
                return 2;
            }
            (None, &args[1..])
        } else if args.len() == 1 || numeric {
            (None, args)
        } else {
            (Some(&args[0]), &args[1..])
        };
        let mut st = 0;
        for s in sigs {
            let sig = sig_name(s);
            if sig.is_empty() {
                self.error_io(io, &format!("trap: {s}: invalid signal specification"));
                st = 1;
                continue;
            }
            self.trace_trap_changed(&sig);
            match cmd {
                None => {
                    self.traps.remove(&sig);
                }
                Some(c) => {
                    if sig == "EXIT" {
                        self.exit_trap_level = self.process.subshell;
                    }
                    self.traps.insert(sig, c.clone());
                }
            }
        }
        st
    }

    pub(super) fn b_kill(&mut self, a: &[String], io: &Io) -> R<i32> {
        let usage = |sh: &Self| {
            sh.error_io(io, "kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]");
            Ok(2)
        };
        let mut sig = 15;
        let mut i = 1;
        match a.get(1).map(|s| s.as_str()) {
            None => return usage(self),
            Some("-l") | Some("-L") => {
                if a.len() == 2 {
                    io.out(signal_table().as_bytes());
                    return Ok(0);
                }
                let mut st = 0;
                for s in &a[2..] {
                    let line = match s.parse::<u32>() {
                        // An exit status above 128 names the signal that caused it.
                        Ok(n) => signal_name(if n > 128 { n - 128 } else { n }),
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
                return Ok(st);
            }
            Some("-s") | Some("-n") => {
                let Some(spec) = a.get(2) else {
                    let o = &a[1];
                    self.error_io(io, &format!("kill: {o}: option requires an argument"));
                    return usage(self);
                };
                match signal_number(spec) {
                    Some(n) => sig = n,
                    None => {
                        self.error_io(io, &format!("kill: {spec}: invalid signal specification"));
                        return Ok(1);
                    }
                }
                i = 3;
            }
            Some("--") => i = 2,
            Some(o) if o.len() > 1 && o.starts_with('-') => {
                match signal_number(&o[1..]) {
                    Some(n) => sig = n,
                    None => {
                        self.error_io(
                            io,
                            &format!("kill: {}: invalid signal specification", &o[1..]),
                        );
                        return Ok(1);
                    }
                }
                i = 2;
            }
            Some(_) => {}
        }
        if i >= a.len() {
            return usage(self);
        }
        let mut st = 0;
        for t in &a[i..] {
            match t.parse::<u32>() {
                // A subshell signalling itself ($BASHPID).
                Ok(p) if self.process.subshell > 0 && Some(p) == self.trace.bashpid => {
                    self.deliver_signal(sig, io)?;
                }
                Ok(p) if p == self.process.pid => {
                    if self.process.subshell == 0 {
                        self.deliver_signal(sig, io)?;
                    } else {
                        // $$ is the top-level shell: it handles the signal once this
                        // subshell's command is done.
                        self.caches.borrow_mut().pending_signals.push(sig);
                    }
                }
                Ok(_) => {
                    self.error_io(io, &format!("kill: ({t}) - No such process"));
                    st = 1;
                }
                Err(_) => {
                    self.error_io(
                        io,
                        &format!("kill: {t}: arguments must be process or job IDs"),
                    );
                    st = 1;
                }
            }
        }
        Ok(st)
    }

    /// Signal `n` reaches this shell: its trap runs, an empty trap ignores it, else the
    /// default action applies.
    pub fn deliver_signal(&mut self, n: u32, io: &Io) -> R<()> {
        if n == 0 {
            return Ok(());
        }
        let name = signal_name(n).unwrap_or_default();
        match self.traps.get(&name).cloned() {
            Some(t) if t.is_empty() => Ok(()),
            Some(t) if n != 9 && n != 19 => {
                self.run_trap_flow(&name, &t, io)?;
                Ok(())
            }
            _ if ignored_by_default(n) => Ok(()),
            _ => Err(Flow::Exit(128 + n as i32)),
        }
    }

    /// Signals sent to the top-level shell from its subshells, handled between commands.
    pub fn pending_signals(&mut self, io: &Io) -> R<()> {
        if self.process.subshell != 0 {
            return Ok(());
        }
        let sigs = std::mem::take(&mut self.caches.borrow_mut().pending_signals);
        for n in sigs {
            self.deliver_signal(n, io)?;
        }
        Ok(())
    }
}
