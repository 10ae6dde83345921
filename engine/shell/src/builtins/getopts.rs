//! `getopts`: one option per call, keeping its place inside a group like `-abc` between
//! calls; assigning OPTIND (0 or 1 to restart) moves it.

use crate::io::Io;
use crate::state::Shell;

impl Shell {
    /// The end of the options: `name` is `?`, OPTARG unset, OPTIND at the first operand.
    fn getopts_end(&mut self, var: &str, optind: usize) -> i32 {
        self.getopts.getopts_sub = 0;
        self.getopts.getopts_last_ind = optind;
        let _ = self.unset("OPTARG");
        let _ = self.set_var("OPTIND", optind.to_string());
        let _ = self.set_var(var, "?".into());
        1
    }

    pub(super) fn b_getopts(&mut self, a: &[String], io: &Io) -> i32 {
        if a.len() < 3 {
            self.error_io(io, "getopts: usage: getopts optstring name [arg ...]");
            return 2;
        }
        let spec = a[1].clone();
        let var = a[2].clone();
        if !crate::state::valid_name(&var) {
            self.error_io(io, &format!("getopts: `{var}': not a valid identifier"));
            return 1;
        }
        let args: Vec<String> = if a.len() > 3 {
            a[3..].to_vec()
        } else {
            self.positional.clone()
        };
        let silent = spec.starts_with(':');
        let report = !silent && self.get("OPTERR").as_deref() != Some("0");
        let raw: i64 = self
            .get("OPTIND")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1);
        // OPTIND changed behind getopts' back (or set to 0/1): start a fresh word.
        if raw != self.getopts.getopts_last_ind as i64 || raw < 1 {
            self.getopts.getopts_sub = 0;
        }
        let mut optind = raw.max(1) as usize;
        let Some(cur) = args.get(optind - 1).cloned() else {
            return self.getopts_end(&var, args.len() + 1);
        };
        if self.getopts.getopts_sub == 0 {
            if cur == "--" {
                return self.getopts_end(&var, optind + 1);
            }
            if !cur.starts_with('-') || cur == "-" {
                return self.getopts_end(&var, optind);
            }
            self.getopts.getopts_sub = 1;
        }
        let chars: Vec<char> = cur.chars().collect();
        let Some(&c) = chars.get(self.getopts.getopts_sub) else {
            // The word changed under us; go on with the next one.
            return self.getopts_end(&var, optind + 1);
        };
        self.getopts.getopts_sub += 1;
        let at_end = self.getopts.getopts_sub >= chars.len();
        let pos = spec.find(c).filter(|_| c != ':');
        let needs_arg = pos.is_some_and(|p| spec[p + c.len_utf8()..].starts_with(':'));
        let _ = self.unset("OPTARG");
        let mut ret_c = c.to_string();
        if pos.is_none() {
            if silent {
                let _ = self.set_var("OPTARG", c.to_string());
            } else if report {
                io.err(format!("{}: illegal option -- {c}\n", self.arg0).as_bytes());
            }
            ret_c = "?".into();
        } else if needs_arg {
            if !at_end {
                let rest: String = chars[self.getopts.getopts_sub..].iter().collect();
                let _ = self.set_var("OPTARG", rest);
                self.getopts.getopts_sub = chars.len();
            } else if let Some(v) = args.get(optind) {
                let _ = self.set_var("OPTARG", v.clone());
                optind += 1;
            } else if silent {
                let _ = self.set_var("OPTARG", c.to_string());
                ret_c = ":".into();
            } else {
                if report {
                    io.err(
                        format!("{}: option requires an argument -- {c}\n", self.arg0).as_bytes(),
                    );
                }
                ret_c = "?".into();
            }
        }
        if self.getopts.getopts_sub >= chars.len() {
            self.getopts.getopts_sub = 0;
            optind += 1;
        }
        self.getopts.getopts_last_ind = optind;
        let _ = self.set_var("OPTIND", optind.to_string());
        let _ = self.set_var(&var, ret_c);
        0
    }
}
