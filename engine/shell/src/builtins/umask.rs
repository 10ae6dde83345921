//! `umask`. A guest creates files through the host (WASI has no mode bits to pass), so the
//! mask cannot change the modes of files the shell makes; each shell keeps its own mask so
//! that setting, showing (`-S`, `-p`) and subshells behave as bash's, starting from 0022.

use crate::io::Io;
use crate::state::Shell;

const USAGE: &[u8] = b"umask: usage: umask [-p] [-S] [mode]\n";

/// `u=rwx,g=rx,o=rx` for mask 0022: the permissions the mask lets through.
fn symbolic(mask: u32) -> String {
    let allowed = !mask & 0o777;
    let who = |shift: u32, name: char| {
        let bits = (allowed >> shift) & 7;
        let mut s = format!("{name}=");
        for (bit, c) in [(4, 'r'), (2, 'w'), (1, 'x')] {
            if bits & bit != 0 {
                s.push(c);
            }
        }
        s
    };
    format!("{},{},{}", who(6, 'u'), who(3, 'g'), who(0, 'o'))
}

/// Applies a chmod-style symbolic mode (`u=rwx,g-w,a+x`) to the permissions `mask` allows,
/// returning the new mask, or the character bash names in its error.
fn apply_symbolic(mask: u32, mode: &str) -> Result<u32, char> {
    let mut allowed = !mask & 0o777;
    for clause in mode.split(',') {
        let mut chars = clause.chars().peekable();
        let mut who = 0;
        while let Some(&c) = chars.peek() {
            who |= match c {
                'u' => 0o700,
                'g' => 0o070,
                'o' => 0o007,
                'a' => 0o777,
                _ => break,
            };
            chars.next();
        }
        if who == 0 {
            who = 0o777;
        }
        let op = match chars.next() {
            Some(op @ ('=' | '+' | '-')) => op,
            Some(c) => return Err(c),
            None => return Err(' '),
        };
        let mut perm = 0;
        for c in chars {
            perm |= match c {
                'r' => 0o444,
                'w' => 0o222,
                'x' => 0o111,
                _ => return Err(c),
            };
        }
        let perm = perm & who;
        allowed = match op {
            '=' => (allowed & !who) | perm,
            '+' => allowed | perm,
            _ => allowed & !perm,
        };
    }
    Ok(!allowed & 0o777)
}

impl Shell {
    pub(super) fn b_umask(&mut self, a: &[String], io: &Io) -> i32 {
        let (mut show_symbolic, mut reusable) = (false, false);
        let mut rest = &a[1..];
        while let Some(arg) = rest.first() {
            if arg == "--" {
                rest = &rest[1..];
                break;
            }
            let Some(flags) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
                break;
            };
            for c in flags.chars() {
                match c {
                    'S' => show_symbolic = true,
                    'p' => reusable = true,
                    _ => {
                        self.error_io(io, &format!("umask: -{c}: invalid option"));
                        io.err(USAGE);
                        return 2;
                    }
                }
            }
            rest = &rest[1..];
        }
        if let Some(mode) = rest.first() {
            let new = if mode.starts_with(|c: char| c.is_ascii_digit()) {
                match u32::from_str_radix(mode, 8) {
                    Ok(m) if m <= 0o777 => m,
                    _ => {
                        self.error_io(io, &format!("umask: {mode}: octal number out of range"));
                        return 1;
                    }
                }
            } else {
                match apply_symbolic(self.process.umask, mode) {
                    Ok(m) => m,
                    Err(c) => {
                        self.error_io(
                            io,
                            &format!("umask: `{c}': invalid symbolic mode character"),
                        );
                        return 1;
                    }
                }
            };
            self.process.umask = new;
            // bash shows the new mask after setting it only in the symbolic form.
            if !show_symbolic {
                return 0;
            }
        }
        let shown = if show_symbolic {
            symbolic(self.process.umask)
        } else {
            format!("{:04o}", self.process.umask)
        };
        let line = match (reusable, show_symbolic) {
            (true, true) => format!("umask -S {shown}\n"),
            (true, false) => format!("umask {shown}\n"),
            _ => format!("{shown}\n"),
        };
        io.out(line.as_bytes());
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbolic_modes_compose_as_in_bash() {
        assert_eq!(symbolic(0o022), "u=rwx,g=rx,o=rx");
        assert_eq!(symbolic(0o777), "u=,g=,o=");
        assert_eq!(apply_symbolic(0o022, "u=rwx,g=,o="), Ok(0o077));
        assert_eq!(apply_symbolic(0o022, "g+w"), Ok(0o002));
        assert_eq!(apply_symbolic(0o022, "o=rwx,u-w"), Ok(0o220));
        assert_eq!(apply_symbolic(0o022, "ug=r"), Ok(0o332));
        assert_eq!(apply_symbolic(0o022, "="), Ok(0o777));
        assert_eq!(apply_symbolic(0o022, "u=rw+x"), Err('+'));
        assert_eq!(apply_symbolic(0o022, "u+s"), Err('s'));
    }
}
