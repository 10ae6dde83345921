//! Redirections: opening files and here-documents into the fd table.

use crate::io::{Io, Stream};
use crate::state::{Flow, Shell, R};
use brush_parser::ast::{self};
use std::cell::RefCell;
use std::rc::Rc;

impl Shell {
    /// Applies redirections; `None` when one failed (message printed).
    pub fn apply_redirs(&mut self, redirs: &[ast::IoRedirect], io: &Io) -> R<Option<Io>> {
        let mut io = io.clone();
        io.base = false;
        for r in redirs {
            if !self.apply_redir(r, &mut io)? {
                return Ok(None);
            }
        }
        Ok(Some(io))
    }

    fn open_file(&self, name: &str, kind: &ast::IoFileRedirectKind) -> Result<Stream, String> {
        use ast::IoFileRedirectKind as K;
        if name == "/dev/null" {
            return Ok(Stream::Null);
        }
        if name == "/dev/stdout" {
            return Ok(Stream::Inherit(1));
        }
        if name == "/dev/stderr" {
            return Ok(Stream::Inherit(2));
        }
        if name == "/dev/stdin" {
            return Ok(Stream::Inherit(0));
        }
        let path = self.cwd.join(name);
        let mut o = std::fs::OpenOptions::new();
        match kind {
            K::Read => {
                o.read(true);
            }
            K::Write | K::Clobber => {
                if matches!(kind, K::Write) && self.opts.noclobber && path.is_file() {
                    return Err(format!("{name}: cannot overwrite existing file"));
                }
                o.write(true).create(true).truncate(true);
            }
            K::Append => {
                o.append(true).create(true);
            }
            K::ReadAndWrite => {
                o.read(true).write(true).create(true);
            }
            _ => {}
        }
        match o.open(&path) {
            Ok(f) => Ok(Stream::File(
                Rc::new(RefCell::new(f)),
                Some(Rc::from(path.as_path())),
            )),
            Err(e) => {
                let m = match e.kind() {
                    std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
                    std::io::ErrorKind::PermissionDenied => "Permission denied".to_string(),
                    _ if path.is_dir() => "Is a directory".to_string(),
                    _ => e.to_string(),
                };
                Err(format!("{name}: {m}"))
            }
        }
    }

    fn apply_redir(&mut self, r: &ast::IoRedirect, io: &mut Io) -> R<bool> {
        use ast::{IoFileRedirectKind as K, IoFileRedirectTarget as T, IoRedirect as IR};
        match r {
            IR::File(fd, kind, target) => {
                let default_fd = match kind {
                    K::Read | K::ReadAndWrite | K::DuplicateInput => 0,
                    _ => 1,
                };
                let fd = fd.map(|f| f as usize).unwrap_or(default_fd);
                if fd >= crate::io::MAX_FDS {
                    // Past the open-files limit (`ulimit -n`), as dup2 refuses it for bash.
                    self.error(&format!("{fd}: Bad file descriptor"));
                    return Ok(false);
                }
                match target {
                    T::Filename(w) => {
                        let name = self.expand_redir_target(&w.value)?;
                        let Some(name) = name else { return Ok(false) };
                        match self.open_file(&name, kind) {
                            Ok(s) => io.set(fd, Some(s)),
                            Err(m) => {
                                self.error(&m);
                                return Ok(false);
                            }
                        }
                    }
                    T::Fd(src) => {
                        let s = io.get(*src as usize).cloned();
                        if s.is_none() {
                            self.error(&format!("{src}: Bad file descriptor"));
                            return Ok(false);
                        }
                        io.set(fd, s);
                    }
                    T::Duplicate(w) => {
                        let t = self.expand_string(&w.value)?;
                        if t == "-" {
                            io.set(fd, None);
                        } else if let Some(num) =
                            t.strip_suffix('-').and_then(|n| n.parse::<usize>().ok())
                        {
                            let s = io.get(num).cloned();
                            io.set(fd, s);
                            io.set(num, None);
                        } else if let Ok(num) = t.parse::<usize>() {
                            let s = io.get(num).cloned();
                            if s.is_none() {
                                self.error(&format!("{num}: Bad file descriptor"));
                                return Ok(false);
                            }
                            io.set(fd, s);
                        } else if matches!(kind, K::DuplicateOutput) && fd == 1 {
                            // `>&file` is `&>file`.
                            match self.open_file(&t, &K::Write) {
                                Ok(s) => {
                                    io.set(1, Some(s.clone()));
                                    io.set(2, Some(s));
                                }
                                Err(m) => {
                                    self.error(&m);
                                    return Ok(false);
                                }
                            }
                        } else {
                            self.error(&format!("{t}: ambiguous redirect"));
                            return Ok(false);
                        }
                    }
                    T::ProcessSubstitution(ast::ProcessSubstitutionKind::Read, sub) => {
                        let data = self.capture_list(&sub.list, io);
                        io.set(fd, Some(Stream::input(data)));
                    }
                    T::ProcessSubstitution(ast::ProcessSubstitutionKind::Write, _) => {
                        self.error("output process substitution: not supported");
                        return Ok(false);
                    }
                }
            }
            IR::HereDocument(fd, h) => {
                let fd = fd.map(|f| f as usize).unwrap_or(0);
                let body = if h.requires_expansion {
                    match self.expand_heredoc(&h.doc.value) {
                        Ok(b) => b,
                        // An expansion error in a here-document fails the redirection (the
                        // command does not run) but does not end the shell.
                        Err(Flow::Exit(_)) | Err(Flow::Abort(_)) => return Ok(false),
                        Err(e) => return Err(e),
                    }
                } else {
                    h.doc.value.clone()
                };
                io.set(fd, Some(Stream::input(body.into_bytes())));
            }
            IR::HereString(fd, w) => {
                let fd = fd.map(|f| f as usize).unwrap_or(0);
                let mut s = self.expand_string(&w.value)?;
                s.push('\n');
                io.set(fd, Some(Stream::input(s.into_bytes())));
            }
            IR::OutputAndError(w, append) => {
                let Some(name) = self.expand_redir_target(&w.value)? else {
                    return Ok(false);
                };
                let kind = if *append { K::Append } else { K::Write };
                match self.open_file(&name, &kind) {
                    Ok(s) => {
                        io.set(1, Some(s.clone()));
                        io.set(2, Some(s));
                    }
                    Err(m) => {
                        self.error(&m);
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }

    fn expand_redir_target(&mut self, w: &str) -> R<Option<String>> {
        let f = self.expand_fields(w)?;
        if f.len() != 1 {
            self.error(&format!("{w}: ambiguous redirect"));
            return Ok(None);
        }
        Ok(f.into_iter().next())
    }
}
