//! `eval` and `source`/`.`: text run in this shell. A file named without a slash is looked
//! for along PATH first (sourcepath) and, outside POSIX mode, in the current directory.

use crate::io::Io;
use crate::state::{Flow, Shell, R};
use std::path::PathBuf;

impl Shell {
    pub(crate) fn source_search(&mut self, file: &str) -> Option<PathBuf> {
        if self.other_shopt("sourcepath") {
            let path = self.get("PATH").unwrap_or_default();
            for dir in path.split(':') {
                let dir = if dir.is_empty() { "." } else { dir };
                let p = self.cwd.join(dir).join(file);
                if p.is_file() {
                    return Some(p);
                }
            }
        }
        let p = self.cwd.join(file);
        p.is_file().then_some(p)
    }

    fn other_shopt(&self, name: &str) -> bool {
        self.opts.other_shopts.get(name).copied().unwrap_or(true)
    }

    /// `eval ARG...`: the words joined by blanks, run as a script.
    pub(super) fn b_eval(&mut self, a: &[String], io: &Io) -> R<i32> {
        let mut args = &a[1..];
        if args.first().is_some_and(|x| x == "--") {
            args = &args[1..];
        } else if let Some(opt) = args.first().filter(|x| x.len() > 1 && x.starts_with('-')) {
            self.error_io(io, &format!("eval: {}: invalid option", &opt[..2]));
            self.error_io(io, "eval: usage: eval [arg ...]");
            return Ok(2);
        }
        let src = args.join(" ");
        // The eval'd text's first line is the line of the eval, one level deeper for -x.
        let off = std::mem::replace(
            &mut self.lines.line_offset,
            self.lines.lineno.saturating_sub(1),
        );
        self.calls.xdepth += 1;
        let r = self.run_text(&src, io, true);
        self.calls.xdepth -= 1;
        self.lines.line_offset = off;
        r
    }

    /// `source FILE [ARG...]`.
    pub(super) fn b_source(&mut self, a: &[String], io: &Io) -> R<i32> {
        let name = a[0].as_str();
        let dashes = a.get(1).is_some_and(|x| x == "--");
        let a = if dashes { &a[1..] } else { a };
        let Some(file) = a.get(1) else {
            self.error_io(io, &format!("{name}: filename argument required"));
            return Ok(2);
        };
        let path = if file.contains('/') {
            Some(self.cwd.join(file))
        } else {
            self.source_search(file)
        };
        // The shell's own fds, not the process's, back /dev/stdin and /dev/fd/N.
        let own_fd = match file.as_str() {
            "/dev/stdin" => Some(0),
            f => f
                .strip_prefix("/dev/fd/")
                .and_then(|n| n.parse::<usize>().ok()),
        };
        let text = match own_fd.and_then(|n| io.get(n)) {
            Some(stream) => Some(String::from_utf8_lossy(&stream.read_to_end()).into_owned()),
            None => path.and_then(|p| std::fs::read_to_string(p).ok()),
        };
        let Some(text) = text else {
            self.error_io(io, &format!("{file}: No such file or directory"));
            // A special builtin's failure ends a POSIX-mode shell.
            if self.set_option_value("posix").unwrap_or(false) {
                return Err(Flow::Exit(1));
            }
            return Ok(1);
        };
        let saved = if a.len() > 2 {
            Some(std::mem::replace(&mut self.positional, a[2..].to_vec()))
        } else {
            None
        };
        let was = self.calls.sourcing;
        self.calls.sourcing = true;
        self.calls.xdepth += 1;
        let (line, off) = (self.lines.lineno, self.lines.line_offset);
        if self.calls.argv_main.is_none() {
            self.calls.argv_main = Some(self.positional.clone());
        }
        self.calls.frames.push(crate::state::Frame {
            name: "source".into(),
            src: file.clone(),
            call_line: line,
            call_src: std::mem::replace(&mut self.calls.cur_source, file.clone()),
            argv: Some(vec![file.clone()]),
        });
        self.lines.line_offset = 0;
        let ft = self.trace_source_enter();
        let r = self.run_string_flow(&text, io);
        // RETURN fires when a sourced file finishes, still inside it.
        let r = match r {
            Ok(_) | Err(Flow::Return(_)) => match self.return_trap(io) {
                Ok(()) => r,
                Err(e) => Err(e),
            },
            _ => r,
        };
        self.trace_func_leave(ft);
        if let Some(fr) = self.calls.frames.pop() {
            self.calls.cur_source = fr.call_src;
        }
        self.lines.lineno = line;
        self.lines.line_offset = off;
        self.calls.xdepth -= 1;
        self.calls.sourcing = was;
        if let Some(s) = saved {
            self.positional = s;
        }
        match r {
            Ok(s) | Err(Flow::Return(s)) => Ok(s),
            Err(e) => Err(e),
        }
    }
}
