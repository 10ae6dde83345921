//! `command`: a name run past any function, `-v`/`-V` to say what it is; the PATH lookups.

use crate::io::Io;
use crate::state::{Shell, Value, R};

impl Shell {
    pub(super) fn b_command(&mut self, a: &[String], io: &Io) -> R<i32> {
        let mut i = 1;
        let mut verbose = 0;
        while i < a.len() && a[i].starts_with('-') && a[i].len() > 1 {
            match a[i].as_str() {
                "-v" => verbose = 1,
                "-V" => verbose = 2,
                "-p" => {}
                "--" => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        if i >= a.len() {
            return Ok(0);
        }
        if verbose > 0 {
            // bash's status: 0 when any name was found.
            let mut found = false;
            for n in &a[i..] {
                if verbose == 1 {
                    if let Some(w) = self.which(n) {
                        io.out(format!("{w}\n").as_bytes());
                        found = true;
                    }
                } else {
                    found |= self.b_type(&["command".into(), "--".into(), n.clone()], io) == 0;
                }
            }
            return Ok(i32::from(!found));
        }
        let argv = a[i..].to_vec();
        if self.builtin_enabled(&argv[0]) {
            return self.builtin(argv, io);
        }
        self.run_external(argv, Vec::new(), io)
    }

    fn which(&self, n: &str) -> Option<String> {
        if self.functions.funcs.contains_key(n)
            || self.builtin_enabled(n)
            || super::KEYWORDS.contains(&n)
        {
            return Some(n.to_string());
        }
        if let Some(a) = self.builtins.aliases.get(n) {
            return Some(format!("alias {n}='{a}'"));
        }
        // A file in PATH is what bash names; the bundled tool stands in where there is none.
        self.path_lookup(n)
            .or_else(|| crate::tools::find(n).map(|_| n.to_string()))
    }

    pub(crate) fn path_lookup(&self, n: &str) -> Option<String> {
        if n.contains('/') {
            return if self.cwd.join(n).is_file() {
                Some(n.to_string())
            } else {
                None
            };
        }
        let path = self.lookup("PATH").and_then(|v| match &v.value {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        })?;
        for d in path.split(':') {
            let p = std::path::Path::new(if d.is_empty() { "." } else { d }).join(n);
            if self.cwd.join(&p).is_file() {
                return Some(p.display().to_string());
            }
        }
        // The guest sees only its grants; the host says what the bridge would run.
        #[cfg(target_os = "wasi")]
        if let Some(found) = crate::host::which(n, &path, &self.cwd) {
            return Some(found);
        }
        None
    }
}
