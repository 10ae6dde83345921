//! Simple commands: assignments, expansion of the words, `set -x`, process substitution.

use super::temp_scope;
use crate::io::{Io, Stream};
use crate::quote::xquote;
use crate::state::{Flow, Shell, R};
use brush_parser::ast::{self};
use std::cell::RefCell;
use std::rc::Rc;

impl Shell {
    pub fn xtrace(&mut self, argv: &[String], assigns: &[String], io: &Io) {
        let mut parts: Vec<String> = assigns.to_vec();
        parts.extend(argv.iter().map(|a| xquote(a)));
        self.xtrace_raw(&parts.join(" "), io);
    }

    pub(super) fn run_simple(&mut self, c: &ast::SimpleCommand, io: &Io) -> R<i32> {
        self.status.cmdsub_ran = false;
        let mut assigns: Vec<&ast::Assignment> = Vec::new();
        let mut words: Vec<&ast::Word> = Vec::new();
        let mut redirs: Vec<&ast::IoRedirect> = Vec::new();
        let mut decl_assigns: Vec<(usize, &ast::Assignment, &ast::Word)> = Vec::new();
        if let Some(p) = &c.prefix {
            for item in &p.0 {
                match item {
                    ast::CommandPrefixOrSuffixItem::IoRedirect(r) => redirs.push(r),
                    ast::CommandPrefixOrSuffixItem::AssignmentWord(a, _) => assigns.push(a),
                    ast::CommandPrefixOrSuffixItem::Word(w) => words.push(w),
                    ast::CommandPrefixOrSuffixItem::ProcessSubstitution(..) => {}
                }
            }
        }
        if let Some(w) = &c.word_or_name {
            words.push(w);
            if let Some(loc) = &w.loc {
                self.lines.lineno = loc.start.line + self.lines.line_offset;
            }
            if let Some(l) = crate::trace::simple_command_line(c) {
                self.lines.lineno = l + self.lines.line_offset;
            }
        } else if let Some(a) = assigns.first() {
            self.lines.lineno = a.loc.start.line + self.lines.line_offset;
        }
        // BASH_COMMAND and the DEBUG trap see the command before its words are expanded.
        if !self.traps.is_empty() {
            let text = c.to_string();
            self.note_command(|| text.clone());
            if self.debug_trap(&text, io)?.is_some() {
                return Ok(0);
            }
        }
        let mut psubs: Vec<(std::path::PathBuf, Option<&ast::SubshellCommand>)> = Vec::new();
        let mut suffix_items: Vec<&ast::CommandPrefixOrSuffixItem> = Vec::new();
        if let Some(s) = &c.suffix {
            for item in &s.0 {
                match item {
                    ast::CommandPrefixOrSuffixItem::IoRedirect(r) => redirs.push(r),
                    other => suffix_items.push(other),
                }
            }
        }
        // Expand the command words.
        let mut argv: Vec<String> = Vec::with_capacity(words.len() + suffix_items.len());
        for w in &words {
            let text = self.tilde_assignment_word(&w.value).into_owned();
            argv.extend(self.expand_fields(&text)?);
        }
        let is_decl = argv.first().is_some_and(|n| {
            matches!(
                n.as_str(),
                "declare" | "typeset" | "local" | "export" | "readonly"
            ) && !self.functions.funcs.contains_key(n)
                && !self.builtins.disabled_builtins.contains(n)
        });
        for item in suffix_items {
            match item {
                ast::CommandPrefixOrSuffixItem::Word(w) => {
                    let text = self.tilde_assignment_word(&w.value).into_owned();
                    argv.extend(self.expand_fields(&text)?)
                }
                ast::CommandPrefixOrSuffixItem::AssignmentWord(a, w) => {
                    let text = self.tilde_assignment_word(&w.value).into_owned();
                    if is_decl {
                        decl_assigns.push((argv.len(), a, w));
                        let shown = match &a.value {
                            ast::AssignmentValue::Scalar(_) => self.expand_string(&text)?,
                            ast::AssignmentValue::Array(_) => w.value.clone(),
                        };
                        argv.push(shown);
                    } else {
                        argv.extend(self.expand_fields(&text)?);
                    }
                }
                ast::CommandPrefixOrSuffixItem::ProcessSubstitution(kind, sub) => {
                    let path = self.psub_path();
                    if matches!(kind, ast::ProcessSubstitutionKind::Read) {
                        let data = self.capture_list(&sub.list, io);
                        let _ = std::fs::write(&path, data);
                        psubs.push((path.clone(), None));
                    } else {
                        let _ = std::fs::write(&path, b"");
                        psubs.push((path.clone(), Some(sub)));
                    }
                    argv.push(path.to_string_lossy().into_owned());
                }
                _ => {}
            }
        }

        let new_last = argv.last().cloned().unwrap_or_default();
        if argv.is_empty() && assigns.is_empty() && self.status.cmdsub_ran {
            return Ok(self.status.last_status);
        }
        if argv.is_empty() {
            return self.assignments_only(assigns, redirs, new_last, io);
        }

        // Prefix assignments apply to this command only.
        let temp = self.prefix_bindings(&assigns, io)?;
        // A declaration's compound array operands are traced once assigned (see below).
        let array_operands: Vec<(usize, String)> = if self.opts.xtrace {
            crate::trace::array_operands(&decl_assigns)
        } else {
            Vec::new()
        };
        if self.opts.xtrace && array_operands.is_empty() {
            self.xtrace(&argv, &[], io);
            // export and readonly (also behind `command`/`builtin`) echo their assignments.
            let k = argv
                .iter()
                .position(|w| w != "command" && w != "builtin")
                .unwrap_or(0);
            if matches!(argv[k].as_str(), "export" | "readonly") {
                for a in &argv[k + 1..] {
                    if let Some((n, v)) = a.split_once('=') {
                        if crate::state::valid_name(n.trim_end_matches('+')) {
                            self.xtrace_raw(&format!("{n}={}", xquote(v)), io);
                        }
                    }
                }
            }
        }

        let io2;
        let owned_redirs: Vec<ast::IoRedirect> = redirs.into_iter().cloned().collect();
        let io = if owned_redirs.is_empty() {
            io
        } else {
            match self.apply_redirs(&owned_redirs, io)? {
                Some(n) => {
                    io2 = n;
                    &io2
                }
                None => return Ok(1),
            }
        };

        self.set_err(io);
        if argv.len() == 1 && argv[0] == "exec" && !owned_redirs.is_empty() {
            for r in &owned_redirs {
                use ast::IoRedirect as IR;
                let fds: Vec<usize> = match r {
                    IR::File(fd, kind, target) => {
                        let d = match kind {
                            ast::IoFileRedirectKind::Read
                            | ast::IoFileRedirectKind::ReadAndWrite
                            | ast::IoFileRedirectKind::DuplicateInput => 0,
                            _ => 1,
                        };
                        let mut v = vec![fd.map(|f| f as usize).unwrap_or(d)];
                        if let ast::IoFileRedirectTarget::Duplicate(w) = target {
                            if let Some(n) = w.value.strip_suffix('-').and_then(|n| n.parse().ok())
                            {
                                v.push(n);
                            }
                        }
                        v
                    }
                    IR::HereDocument(fd, _) | IR::HereString(fd, _) => {
                        vec![fd.map(|f| f as usize).unwrap_or(0)]
                    }
                    IR::OutputAndError(..) => vec![1, 2],
                };
                for fd in fds {
                    let s = io.get(fd).cloned();
                    self.fds.fd_overlay.retain(|(f, _)| *f != fd);
                    self.fds.fd_overlay.push((fd, s));
                }
            }
            self.set_last_arg(new_last);
            // bash reads a script given on stdin from fd 0 as it goes: once `exec` points
            // fd 0 elsewhere, there is no more script to run.
            if self.opts.invocation_flag == Some('s')
                && self.process.subshell == 0
                && self.fds.fd_overlay.iter().any(|(f, _)| *f == 0)
            {
                return Err(Flow::Exit(0));
            }
            return Ok(0);
        }
        // Declaration builtins get their assignment words structurally.
        let r = if !decl_assigns.is_empty() {
            let shown = (!array_operands.is_empty()).then(|| argv.clone());
            let r = self.run_declaration(argv, decl_assigns, io);
            if let Some(argv) = shown {
                self.trace_array_operands(argv, &array_operands, io);
            }
            r
        } else {
            self.dispatch(argv, temp, io)
        };
        self.set_last_arg(new_last);
        for (path, writer) in psubs {
            if let Some(sub) = writer {
                let data = std::fs::read(&path).unwrap_or_default();
                let mut sio = io.clone();
                sio.set(0, Some(Stream::input(data)));
                let _ = self.capture_into(&sub.list, &sio);
            }
            let _ = std::fs::remove_file(&path);
        }
        r
    }

    /// A command of assignments only: they stay; redirections still happen. The status is
    /// the last command substitution's, else 0.
    fn assignments_only(
        &mut self,
        assigns: Vec<&ast::Assignment>,
        redirs: Vec<&ast::IoRedirect>,
        new_last: String,
        io: &Io,
    ) -> R<i32> {
        // Assignments only; redirections still happen. Status: the last command
        // substitution's, else 0.
        let mut traced = Vec::new();
        // The trace goes where BASH_XTRACEFD pointed before these assignments.
        let fd = self.xtrace_fd();
        for a in assigns {
            let t = self.assign(a, false)?;
            if self.opts.xtrace {
                traced.push(t);
            }
        }
        if self.opts.xtrace && !traced.is_empty() {
            self.trace.xtrace_pin = Some(fd);
            for t in &traced {
                self.xtrace_raw(t, io);
            }
            self.trace.xtrace_pin = None;
        }
        let st = if self.status.cmdsub_ran {
            self.status.last_status
        } else {
            0
        };
        self.set_last_arg(new_last);
        if !redirs.is_empty() {
            let owned: Vec<ast::IoRedirect> = redirs.into_iter().cloned().collect();
            if self.apply_redirs(&owned, io)?.is_none() {
                return Ok(1);
            }
        }
        Ok(st)
    }

    /// The prefix assignments of a command with a command word, as the environment it runs
    /// with (each sees those before it), traced under `set -x`.
    fn prefix_bindings(
        &mut self,
        assigns: &[&ast::Assignment],
        io: &Io,
    ) -> R<Vec<(String, String)>> {
        let mut temp: Vec<(String, String)> = Vec::new();
        let mut traced = Vec::new();
        for a in assigns {
            let name = match &a.name {
                ast::AssignmentName::VariableName(n) => n.clone(),
                ast::AssignmentName::ArrayElementName(n, idx) => {
                    // An element cannot go into a command's environment.
                    self.error_io(io, &format!("`{n}[{idx}]': not a valid identifier"));
                    continue;
                }
            };
            // Each binding sees the ones before it (`A=1 B=$A cmd`): they sit
            // in a scope of their own while the later ones expand.
            if !temp.is_empty() {
                self.scopes.push(temp_scope(&temp));
            }
            let v = match &a.value {
                ast::AssignmentValue::Scalar(w) => {
                    let text = self.tilde_value(&w.value).into_owned();
                    self.expand_string(&text)
                }
                ast::AssignmentValue::Array(_) => Ok(String::new()),
            };
            let v = v.map(|v| {
                if a.append {
                    format!("{}{}", self.get(&name).unwrap_or_default(), v)
                } else {
                    v
                }
            });
            if !temp.is_empty() {
                self.scopes.pop();
            }
            let v = v?;
            if self.opts.xtrace {
                traced.push(format!("{name}={}", xquote(&v)));
            }
            temp.push((self.resolve(&name).into_owned(), v));
        }
        if self.opts.xtrace {
            for t in &traced {
                self.xtrace_raw(t, io);
            }
        }
        Ok(temp)
    }

    fn psub_path(&mut self) -> std::path::PathBuf {
        self.fds.psub_counter += 1;
        let tmp = self
            .get("TMPDIR")
            .or_else(|| self.process.temp_dir.clone())
            .unwrap_or_else(|| "/tmp".into());
        self.cwd.join(tmp).join(format!(
            "hookbox-psub-{}-{}",
            self.process.pid, self.fds.psub_counter
        ))
    }

    /// Runs a list in a subshell with the given fds.
    fn capture_into(&mut self, list: &ast::CompoundList, io: &Io) -> i32 {
        let mut sub = self.clone();
        sub.process.subshell += 1;
        sub.trace_subshell();
        // A process substitution starts without the signal and EXIT traps.
        sub.traps
            .retain(|k, _| matches!(k.as_str(), "DEBUG" | "RETURN" | "ERR"));
        let st = match sub.run_list(list, io) {
            Ok(s) => s,
            Err(Flow::Exit(s)) | Err(Flow::Return(s)) | Err(Flow::Abort(s)) => s,
            Err(_) => sub.status.last_status,
        };
        sub.status.last_status = st;
        sub.run_exit_trap(io)
    }

    /// The stdout of a list run in a subshell (process substitution).
    pub(super) fn capture_list(&mut self, list: &ast::CompoundList, io: &Io) -> Vec<u8> {
        let buf = Rc::new(RefCell::new(Vec::new()));
        let mut sio = io.clone();
        sio.set(1, Some(Stream::Buf(buf.clone())));
        self.capture_into(list, &sio);
        let v = std::mem::take(&mut *buf.borrow_mut());
        v
    }
}
