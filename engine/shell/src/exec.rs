//! The evaluator: walks the parser's AST. Programs enter as text (`run_script`), commands read
//! and write through the fd table (`Io`), and status leaves as an `i32` or a `Flow`.

use crate::io::{Io, Stream};
use crate::state::{ElemKey, Flow, Shell, Value, Var, R};
use brush_parser::ast::{self, Command, CompoundCommand as CC};
use std::cell::RefCell;
use std::rc::Rc;

/// How a script came in, for error messages.
#[derive(Clone, Copy, PartialEq)]
pub enum Source {
    DashC,
    Stdin,
    File,
}

impl Shell {
    /// Runs a whole script as bash does: lines before a late syntax error still run.
    pub fn run_script(&mut self, src: &str, source: Source, io: &Io) -> i32 {
        self.last_arg.clone_from(&self.arg0);
        if self.script_may_alias(src) {
            return self.run_script_with_aliases(src, source, io);
        }
        let parsed = crate::syntax::parse_prefix(src);
        for w in &parsed.warnings {
            self.lineno = w.line;
            self.error(&format!("warning: {}", w.message));
        }
        let status = match self.run_script_program(&parsed.program, src, source, io) {
            Ok(s) => s,
            Err(Flow::Exit(s)) | Err(Flow::Return(s)) if parsed.error.is_some() => {
                self.last_status = s;
                let st = self.run_exit_trap(io);
                self.hist_save_at_exit();
                return st;
            }
            Err(Flow::Exit(s)) => s,
            Err(Flow::Return(s)) | Err(Flow::Abort(s)) => s,
            Err(_) => self.last_status,
        };
        let status = match parsed.error {
            None => status,
            Some(e) => {
                self.print_syntax_error(source, e.line, &e.message);
                match e.kind {
                    // The conditional parser reports its own error; the script just ends.
                    crate::syntax::ErrorKind::Conditional => self.last_status,
                    _ => 2,
                }
            }
        };
        self.last_status = status;
        let st = self.run_exit_trap(io);
        self.hist_save_at_exit();
        st
    }

    pub fn print_syntax_error(&self, source: Source, line: usize, msg: &str) {
        let prefix = match source {
            Source::DashC => format!("{}: -c: line {line}: ", self.err_name),
            Source::Stdin => format!("{}: line {line}: ", self.err_name),
            Source::File => format!("{}: line {line}: ", self.err_name),
        };
        crate::io::flush_stdout();
        for m in msg.split('\x00') {
            eprintln!("{prefix}{}", m.trim_end_matches('\n'));
        }
    }

    pub fn run_exit_trap(&mut self, io: &Io) -> i32 {
        if self.exit_trap_level != self.subshell {
            return self.last_status;
        }
        if let Some(t) = self.traps.remove("EXIT") {
            let saved = self.last_status;
            let st = self.run_string(&t, io);
            let _ = st;
            match self.pending_exit.take() {
                Some(s) => return s,
                None => return saved,
            }
        }
        self.last_status
    }

    /// Runs a string (eval, traps, command substitution) in this shell; Flow passes through.
    pub fn run_string_flow(&mut self, src: &str, io: &Io) -> R<i32> {
        self.run_text(src, io, false)
    }

    /// Runs `src` a complete command at a time, as bash does: the commands before a syntax
    /// error run, then the error is reported (in `eval`'s words when `eval`) with status 2.
    pub(crate) fn run_text(&mut self, src: &str, io: &Io, eval: bool) -> R<i32> {
        // eval, source, traps and $( ) nest through here: bounded before the stack is.
        if self.xdepth > crate::state::MAX_EVAL_DEPTH {
            self.error(&format!(
                "maximum eval nesting level exceeded ({})",
                crate::state::MAX_EVAL_DEPTH
            ));
            return Err(Flow::Abort(1));
        }
        let src = &*self.expand_alias_text(src);
        let parsed = crate::syntax::parse_prefix(src);
        let st = self.run_program(&parsed.program, io)?;
        let Some(e) = parsed.error else {
            return Ok(st);
        };
        if eval {
            let prefix = format!(
                "{}: eval: line {}: ",
                self.err_name,
                e.line + self.line_offset
            );
            for m in e.message.split('\x00') {
                io.err(format!("{prefix}{}\n", m.trim_end_matches('\n')).as_bytes());
            }
        } else {
            self.error(&e.message.replace('\x00', &self.err_prefix()));
        }
        Ok(2)
    }

    pub fn run_string(&mut self, src: &str, io: &Io) -> i32 {
        match self.run_string_flow(src, io) {
            Ok(s) => s,
            Err(Flow::Exit(s)) => {
                self.pending_exit = Some(s);
                s
            }
            Err(Flow::Abort(s)) | Err(Flow::Return(s)) => s,
            Err(_) => self.last_status,
        }
    }

    /// Runs a string as a subshell (already a clone); returns its exit status.
    pub fn run_string_in(&mut self, src: &str, io: &Io, _subshell: bool) -> i32 {
        let st = match self.run_string_flow(src, io) {
            Ok(s) => s,
            Err(Flow::Exit(s)) | Err(Flow::Abort(s)) | Err(Flow::Return(s)) => s,
            Err(_) => self.last_status,
        };
        self.last_status = st;
        self.run_exit_trap(io)
    }

    pub fn run_program(&mut self, prog: &ast::Program, io: &Io) -> R<i32> {
        let mut st = self.last_status;
        for cc in &prog.complete_commands {
            match self.run_list(cc, io) {
                Ok(s) => st = s,
                Err(Flow::Abort(s)) => {
                    st = s;
                    self.last_status = s;
                }
                Err(e) => return Err(e),
            }
            if self.one_command_done() {
                return Err(Flow::Exit(st));
            }
        }
        Ok(st)
    }

    pub fn run_list(&mut self, list: &ast::CompoundList, io: &Io) -> R<i32> {
        let mut st = 0;
        for item in &list.0 {
            self.interrupts.check()?;
            // `set -n`: commands are read, not run.
            if self.opts.noexec {
                break;
            }
            if matches!(item.1, ast::SeparatorOperator::Async) {
                st = self.run_background(&item.0, io);
                self.last_status = st;
                continue;
            }
            st = self.run_andor(&item.0, io)?;
        }
        Ok(st)
    }

    pub(crate) fn run_andor(&mut self, l: &ast::AndOrList, io: &Io) -> R<i32> {
        let n = l.additional.len();
        if n == 0 {
            return self.run_pipeline_checked(&l.first, io);
        }
        self.cond_depth += 1;
        let r = self.run_pipeline(&l.first, io);
        self.cond_depth -= 1;
        let mut st = r?;
        self.last_status = st;
        for (i, next) in l.additional.iter().enumerate() {
            let (run, p) = match next {
                ast::AndOr::And(p) => (st == 0, p),
                ast::AndOr::Or(p) => (st != 0, p),
            };
            if !run {
                continue;
            }
            if i + 1 == n {
                st = self.run_pipeline_checked(p, io)?;
            } else {
                self.cond_depth += 1;
                let r = self.run_pipeline(p, io);
                self.cond_depth -= 1;
                st = r?;
            }
            self.last_status = st;
        }
        Ok(st)
    }

    /// A pipeline whose failure triggers `set -e` and the ERR trap.
    fn run_pipeline_checked(&mut self, p: &ast::Pipeline, io: &Io) -> R<i32> {
        let st = self.run_pipeline(p, io)?;
        self.last_status = st;
        if self.subshell == 0 && !self.caches.borrow().pending_signals.is_empty() {
            self.pending_signals(io)?;
        }
        if st != 0 && !p.bang && self.cond_depth == 0 {
            let simple_like = p.seq.len() > 1
                || matches!(
                    p.seq.first(),
                    Some(Command::Simple(_))
                        | Some(Command::Compound(CC::Subshell(_), _))
                        | Some(Command::ExtendedTest(..))
                        | Some(Command::Compound(CC::Arithmetic(_), _))
                );
            if simple_like {
                self.err_trap(io)?;
                self.last_status = st;
                if self.opts.errexit {
                    return Err(Flow::Exit(st));
                }
            }
        }
        Ok(st)
    }

    fn run_pipeline(&mut self, p: &ast::Pipeline, io: &Io) -> R<i32> {
        let st = if p.seq.len() == 1 {
            if p.bang {
                self.cond_depth += 1;
            }
            let r = self.run_command(&p.seq[0], io);
            if p.bang {
                self.cond_depth -= 1;
            }
            let st = r?;
            self.pipestatus = vec![st];
            st
        } else {
            let mut input: Option<Stream> = None;
            let mut statuses = Vec::new();
            let mut streamed: Vec<(usize, Rc<dyn crate::host::Running>)> = Vec::new();
            let n = p.seq.len();
            for (i, cmd) in p.seq.iter().enumerate() {
                let mut sio = io.clone();
                sio.base = false;
                if let Some(inp) = input.take() {
                    sio.set(0, Some(inp));
                }
                let buf = if i + 1 < n {
                    let b = Rc::new(RefCell::new(Vec::new()));
                    sio.set(1, Some(Stream::Buf(b.clone())));
                    Some(b)
                } else {
                    None
                };
                // A stage that is one simple command may stream, if it is external.
                let slot = match (&buf, cmd) {
                    (Some(b), Command::Simple(_)) => Some(crate::state::StageSlot {
                        buf: b.clone(),
                        running: Rc::default(),
                        func_depth: self.func_depth,
                    }),
                    _ => None,
                };
                let last_in_shell = i + 1 == n && self.opts.lastpipe;
                let st = if last_in_shell {
                    self.run_command(cmd, &sio)?
                } else if let Some(skipped) = self.pipeline_debug_trap(cmd, io)? {
                    skipped
                } else {
                    let mut sub = self.clone();
                    sub.stage = slot.clone();
                    sub.subshell += 1;
                    sub.trace_subshell();
                    sub.skip_next_debug(cmd);
                    let st = match sub.run_command(cmd, &sio) {
                        Ok(s) => s,
                        Err(Flow::Exit(s)) | Err(Flow::Return(s)) | Err(Flow::Abort(s)) => s,
                        Err(_) => sub.last_status,
                    };
                    sub.last_status = st;
                    sub.run_exit_trap(&sio)
                };
                statuses.push(st);
                let running = slot.and_then(|s| s.running.borrow_mut().take());
                if let Some(b) = buf {
                    let data = std::mem::take(&mut *b.borrow_mut());
                    input = Some(match running {
                        Some(r) if data.is_empty() => {
                            streamed.push((i, r.clone()));
                            Stream::Running(r)
                        }
                        // Output written after the streamed command (a trap): keep the
                        // order by reading the command to its end first.
                        Some(r) => {
                            let mut all = Stream::Running(r.clone()).read_to_end();
                            all.extend(data);
                            if let Some(s) = statuses.last_mut() {
                                *s = r.finish();
                            }
                            Stream::input(all)
                        }
                        None => Stream::input(data),
                    });
                }
            }
            // The streamed stages end once the last stage is done with their output, the
            // last first: each one's end is what ends the writer before it (SIGPIPE).
            drop(input);
            for (i, r) in streamed.into_iter().rev() {
                if let Some(s) = statuses.get_mut(i) {
                    *s = r.finish();
                }
            }
            let st = if self.opts.pipefail {
                statuses
                    .iter()
                    .rev()
                    .find(|s| **s != 0)
                    .copied()
                    .unwrap_or(0)
            } else {
                statuses.last().copied().unwrap_or(0)
            };
            self.pipestatus = statuses;
            st
        };
        let st = if p.bang { (st == 0) as i32 } else { st };
        self.last_status = st;
        Ok(st)
    }

    pub fn run_command(&mut self, c: &Command, io: &Io) -> R<i32> {
        // `set -n`: commands are read but not run (a script cannot turn it off again).
        if self.opts.noexec {
            return Ok(self.last_status);
        }
        let merged;
        let io = if io.base && !self.fd_overlay.is_empty() {
            let mut m = io.clone();
            for (fd, s) in &self.fd_overlay {
                m.set(*fd, s.clone());
            }
            m.base = false;
            merged = m;
            &merged
        } else {
            io
        };
        // Most commands run with the table already current: no clone of it to switch, and
        // it is put back only if the command changed it.
        let saved = if self.cur_io.same_streams(io) {
            None
        } else {
            Some(self.set_err(io))
        };
        let r = self.run_command_inner(c, io);
        match saved {
            Some(saved) => self.cur_io = saved,
            None if !self.cur_io.same_streams(io) => self.cur_io = io.clone(),
            None => {}
        }
        r
    }

    /// Points the shell's own messages at this command's fd 2; returns the previous target.
    pub fn set_err(&mut self, io: &Io) -> Io {
        std::mem::replace(&mut self.cur_io, io.clone())
    }

    fn run_command_inner(&mut self, c: &Command, io: &Io) -> R<i32> {
        match c {
            Command::Simple(s) => self.run_simple(s, io),
            Command::Compound(cc, redirs) => {
                let io2;
                if redirs.is_some() {
                    if let Some(loc) = ast::SourceLocation::location(cc) {
                        self.set_line(&loc);
                    }
                }
                let io = match redirs {
                    Some(r) => match self.apply_redirs(&r.0, io)? {
                        Some(n) => {
                            io2 = n;
                            &io2
                        }
                        None => return self.compound_redir_failed(io),
                    },
                    None => io,
                };
                self.set_err(io);
                let st = self.run_compound(cc, io)?;
                self.last_status = st;
                Ok(st)
            }
            Command::Function(f) => {
                self.check_function_name(&f.fname.value)?;
                if self.readonly_funcs.contains(&f.fname.value) {
                    self.error(&format!("{}: readonly function", f.fname.value));
                    return Ok(1);
                }
                self.trace_define(f);
                self.func_src
                    .insert(f.fname.value.clone(), self.cur_source.clone());
                self.funcs.insert(f.fname.value.clone(), Rc::new(f.clone()));
                Ok(0)
            }
            Command::ExtendedTest(t, redirs) => {
                let io2;
                let io = match redirs {
                    Some(r) => match self.apply_redirs(&r.0, io)? {
                        Some(n) => {
                            io2 = n;
                            &io2
                        }
                        None => return Ok(1),
                    },
                    None => io,
                };
                self.set_err(io);
                self.set_line(&t.loc);
                if self.debug_trap_for(|| format!("[[ {} ]]", t.expr), io)? {
                    return Ok(0);
                }
                let r = self.ext_test(&t.expr)?;
                Ok(r)
            }
        }
    }

    /// A compound command whose redirection failed did not run; since bash
    /// 5.2 that failure counts for `set -e` and the ERR trap like a simple
    /// command's (a compound's own status otherwise never does).
    fn compound_redir_failed(&mut self, io: &Io) -> R<i32> {
        self.last_status = 1;
        if self.cond_depth == 0 {
            self.err_trap(io)?;
            self.last_status = 1;
            if self.opts.errexit {
                return Err(Flow::Exit(1));
            }
        }
        Ok(1)
    }

    fn set_line(&mut self, loc: &brush_parser::SourceSpan) {
        self.lineno = loc.start.line + self.line_offset;
    }

    fn run_compound(&mut self, cc: &CC, io: &Io) -> R<i32> {
        match cc {
            CC::BraceGroup(b) => self.run_list(&b.list, io),
            CC::Subshell(s) => {
                self.set_line(&s.loc);
                if !self.traps.is_empty() {
                    self.note_command(|| s.to_string());
                }
                let mut sub = self.clone();
                sub.subshell += 1;
                sub.trace_subshell();
                // The enclosing loops stay in the parent: `break`/`continue`
                // inside `( )` do not reach them.
                sub.loop_depth = 0;
                let st = match sub.run_list(&s.list, io) {
                    Ok(s) => s,
                    Err(Flow::Exit(s)) | Err(Flow::Return(s)) | Err(Flow::Abort(s)) => s,
                    Err(_) => sub.last_status,
                };
                sub.last_status = st;
                Ok(sub.run_exit_trap(io))
            }
            CC::Arithmetic(a) => {
                self.set_line(&a.loc);
                if self.debug_trap_for(|| format!("(({}))", a.expr.value), io)? {
                    return Ok(0);
                }
                let e = self.expand_string_dq(&a.expr.value)?;
                if self.opts.xtrace {
                    self.xtrace_raw(&format!("(( {e} ))"), io);
                }
                match self.arith_cmd_str("((: ", &e) {
                    Ok(v) => Ok((v == 0) as i32),
                    Err(Flow::Abort(s)) => Ok(s),
                    Err(e) => Err(e),
                }
            }
            CC::ArithmeticForClause(f) => {
                self.set_line(&f.loc);
                if let Some(i) = &f.initializer {
                    self.debug_trap_for(|| format!("(({}))", i.value.trim_start()), io)?;
                    let e = self.expand_string_dq(&i.value)?;
                    if self.opts.xtrace {
                        self.xtrace_raw(&format!("(( {} ))", e.trim()), io);
                    }
                    self.arith_cmd_str("((: ", &e)?;
                }
                let mut st = 0;
                self.loop_depth += 1;
                let r = (|| -> R<i32> {
                    loop {
                        if let Some(c) = &f.condition {
                            self.debug_trap_for(|| format!("(({}))", c.value.trim_start()), io)?;
                            let mut e = self.expand_string_dq(&c.value)?;
                            if e.trim().is_empty() {
                                // An empty condition is true, as in C.
                                e = "1".to_string();
                            }
                            if self.opts.xtrace {
                                self.xtrace_raw(&format!("(( {} ))", e.trim()), io);
                            }
                            if self.arith_cmd_str("((: ", &e)? == 0 {
                                break;
                            }
                        }
                        match self.run_list(&f.body.list, io) {
                            Ok(s) => st = s,
                            Err(Flow::Break(n)) => {
                                if n > 1 {
                                    return Err(Flow::Break(n - 1));
                                }
                                // The loop's status is that of the `break`.
                                st = self.last_status;
                                break;
                            }
                            Err(Flow::Continue(n)) => {
                                if n > 1 {
                                    return Err(Flow::Continue(n - 1));
                                }
                            }
                            Err(e) => return Err(e),
                        }
                        if let Some(u) = &f.updater {
                            self.debug_trap_for(|| format!("(({}))", u.value.trim_start()), io)?;
                            let e = self.expand_string_dq(&u.value)?;
                            if self.opts.xtrace {
                                self.xtrace_raw(&format!("(( {} ))", e.trim()), io);
                            }
                            self.arith_cmd_str("((: ", &e)?;
                        }
                    }
                    Ok(st)
                })();
                self.loop_depth -= 1;
                r
            }
            CC::ForClause(f) => {
                self.set_line(&f.loc);
                if !crate::state::valid_name(&f.variable_name) {
                    self.error_io(
                        io,
                        &format!("`{}': not a valid identifier", f.variable_name),
                    );
                    return Ok(1);
                }
                let values = match &f.values {
                    Some(ws) => {
                        let mut v = Vec::new();
                        for w in ws {
                            v.extend(self.expand_fields(&w.value)?);
                        }
                        v
                    }
                    None => self.positional.clone(),
                };
                let mut st = 0;
                self.loop_depth += 1;
                let shown = if self.opts.xtrace {
                    let ws: Vec<String> = match &f.values {
                        Some(_) => values.iter().map(|v| xquote(v)).collect(),
                        None => vec!["\"$@\"".to_string()],
                    };
                    Some(format!("for {} in {}", f.variable_name, ws.join(" ")))
                } else {
                    None
                };
                let header = if self.traps.contains_key("DEBUG") {
                    let ws: Vec<&str> = match &f.values {
                        Some(ws) => ws.iter().map(|w| w.value.as_str()).collect(),
                        None => vec!["\"$@\""],
                    };
                    format!("for {} in {}", f.variable_name, ws.join(" "))
                } else {
                    String::new()
                };
                let r = (|| -> R<i32> {
                    for v in values {
                        if !header.is_empty() && self.debug_trap(&header, io)?.is_some() {
                            continue;
                        }
                        if let Some(t) = &shown {
                            self.xtrace_raw(t, io);
                        }
                        let is_ref = self.has_namerefs
                            && self.lookup(&f.variable_name).is_some_and(|x| x.nameref);
                        if is_ref {
                            if let Some(x) = self.lookup_mut(&f.variable_name) {
                                x.value = Some(Value::Str(v));
                            }
                            match self.run_list(&f.body.list, io) {
                                Ok(s) => st = s,
                                Err(Flow::Break(n)) => {
                                    if n > 1 {
                                        return Err(Flow::Break(n - 1));
                                    }
                                    // The loop's status is that of the `break`.
                                    st = self.last_status;
                                    break;
                                }
                                Err(Flow::Continue(n)) => {
                                    if n > 1 {
                                        return Err(Flow::Continue(n - 1));
                                    }
                                }
                                Err(e) => return Err(e),
                            }
                            continue;
                        }
                        if let Err(e) = self.set_var(&f.variable_name, v) {
                            self.error(&e.to_string());
                            return Err(Flow::Abort(1));
                        }
                        match self.run_list(&f.body.list, io) {
                            Ok(s) => st = s,
                            Err(Flow::Break(n)) => {
                                if n > 1 {
                                    return Err(Flow::Break(n - 1));
                                }
                                // The loop's status is that of the `break`.
                                st = self.last_status;
                                break;
                            }
                            Err(Flow::Continue(n)) => {
                                if n > 1 {
                                    return Err(Flow::Continue(n - 1));
                                }
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    Ok(st)
                })();
                self.loop_depth -= 1;
                r
            }
            CC::WhileClause(w) | CC::UntilClause(w) => {
                let until = matches!(cc, CC::UntilClause(_));
                let mut st = 0;
                self.loop_depth += 1;
                let r = (|| -> R<i32> {
                    loop {
                        self.cond_depth += 1;
                        let c = self.run_list(&w.0, io);
                        self.cond_depth -= 1;
                        let c = match c {
                            Ok(c) => c,
                            Err(Flow::Break(n)) => {
                                if n > 1 {
                                    return Err(Flow::Break(n - 1));
                                }
                                // The loop's status is that of the `break`.
                                st = self.last_status;
                                break;
                            }
                            Err(Flow::Continue(n)) => {
                                if n > 1 {
                                    return Err(Flow::Continue(n - 1));
                                }
                                // `continue` in the condition is a successful test, which
                                // ends an until loop (bash consumes the continue there).
                                if until {
                                    break;
                                }
                                continue;
                            }
                            Err(e) => return Err(e),
                        };
                        if (c == 0) == until {
                            break;
                        }
                        match self.run_list(&w.1.list, io) {
                            Ok(s) => st = s,
                            Err(Flow::Break(n)) => {
                                if n > 1 {
                                    return Err(Flow::Break(n - 1));
                                }
                                // The loop's status is that of the `break`.
                                st = self.last_status;
                                break;
                            }
                            Err(Flow::Continue(n)) => {
                                if n > 1 {
                                    return Err(Flow::Continue(n - 1));
                                }
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    Ok(st)
                })();
                self.loop_depth -= 1;
                r
            }
            CC::IfClause(i) => {
                self.cond_depth += 1;
                let c = self.run_list(&i.condition, io);
                self.cond_depth -= 1;
                if c? == 0 {
                    return self.run_list(&i.then, io);
                }
                if let Some(elses) = &i.elses {
                    for e in elses {
                        match &e.condition {
                            Some(cond) => {
                                self.cond_depth += 1;
                                let c = self.run_list(cond, io);
                                self.cond_depth -= 1;
                                if c? == 0 {
                                    return self.run_list(&e.body, io);
                                }
                            }
                            None => return self.run_list(&e.body, io),
                        }
                    }
                }
                Ok(0)
            }
            CC::CaseClause(c) => {
                self.set_line(&c.loc);
                if self.debug_trap_for(|| format!("case {} in ", c.value.value), io)? {
                    return Ok(0);
                }
                let v = self.expand_string(&c.value.value)?;
                if self.opts.xtrace {
                    self.xtrace_raw(&format!("case {} in", xquote(&v)), io);
                }
                let mut i = 0;
                let mut st = 0;
                let mut fall = false;
                while i < c.cases.len() {
                    let item = &c.cases[i];
                    let mut hit = fall;
                    if !hit {
                        for p in &item.patterns {
                            let pat = self.expand_pattern(&p.value)?;
                            if self.pattern_match(&v, &pat) {
                                hit = true;
                                break;
                            }
                        }
                    }
                    if hit {
                        if let Some(cmd) = &item.cmd {
                            st = self.run_list(cmd, io)?;
                        }
                        match item.post_action {
                            ast::CaseItemPostAction::ExitCase => return Ok(st),
                            ast::CaseItemPostAction::UnconditionallyExecuteNextCaseItem => {
                                fall = true
                            }
                            ast::CaseItemPostAction::ContinueEvaluatingCases => fall = false,
                        }
                    }
                    i += 1;
                }
                Ok(st)
            }
            CC::Coprocess(_) => {
                // No concurrent processes in the guest: stop rather than deadlock on its fds.
                self.error("coproc: not supported");
                Err(Flow::Exit(2))
            }
        }
    }

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

    pub fn xtrace(&mut self, argv: &[String], assigns: &[String], io: &Io) {
        let mut parts: Vec<String> = assigns.to_vec();
        parts.extend(argv.iter().map(|a| xquote(a)));
        self.xtrace_raw(&parts.join(" "), io);
    }

    fn run_simple(&mut self, c: &ast::SimpleCommand, io: &Io) -> R<i32> {
        self.cmdsub_ran = false;
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
                self.lineno = loc.start.line + self.line_offset;
            }
            if let Some(l) = crate::trace::simple_command_line(c) {
                self.lineno = l + self.line_offset;
            }
        } else if let Some(a) = assigns.first() {
            self.lineno = a.loc.start.line + self.line_offset;
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
            ) && !self.funcs.contains_key(n)
                && !self.disabled_builtins.contains(n)
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
        if argv.is_empty() && assigns.is_empty() && self.cmdsub_ran {
            return Ok(self.last_status);
        }
        if argv.is_empty() {
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
            let st = if self.cmdsub_ran { self.last_status } else { 0 };
            self.set_last_arg(new_last);
            if !redirs.is_empty() {
                let owned: Vec<ast::IoRedirect> = redirs.into_iter().cloned().collect();
                if self.apply_redirs(&owned, io)?.is_none() {
                    return Ok(1);
                }
            }
            return Ok(st);
        }

        // Prefix assignments apply to this command only.
        let mut temp: Vec<(String, String)> = Vec::new();
        let mut traced = Vec::new();
        for a in &assigns {
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
                    self.fd_overlay.retain(|(f, _)| *f != fd);
                    self.fd_overlay.push((fd, s));
                }
            }
            self.set_last_arg(new_last);
            // bash reads a script given on stdin from fd 0 as it goes: once `exec` points
            // fd 0 elsewhere, there is no more script to run.
            if self.opts.invocation_flag == Some('s')
                && self.subshell == 0
                && self.fd_overlay.iter().any(|(f, _)| *f == 0)
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

    fn psub_path(&mut self) -> std::path::PathBuf {
        self.psub_counter += 1;
        let tmp = self
            .get("TMPDIR")
            .or_else(|| self.temp_dir.clone())
            .unwrap_or_else(|| "/tmp".into());
        self.cwd
            .join(tmp)
            .join(format!("hookbox-psub-{}-{}", self.pid, self.psub_counter))
    }

    /// Runs a list in a subshell with the given fds.
    fn capture_into(&mut self, list: &ast::CompoundList, io: &Io) -> i32 {
        let mut sub = self.clone();
        sub.subshell += 1;
        sub.trace_subshell();
        // A process substitution starts without the signal and EXIT traps.
        sub.traps
            .retain(|k, _| matches!(k.as_str(), "DEBUG" | "RETURN" | "ERR"));
        let st = match sub.run_list(list, io) {
            Ok(s) => s,
            Err(Flow::Exit(s)) | Err(Flow::Return(s)) | Err(Flow::Abort(s)) => s,
            Err(_) => sub.last_status,
        };
        sub.last_status = st;
        sub.run_exit_trap(io)
    }

    /// The stdout of a list run in a subshell (process substitution).
    fn capture_list(&mut self, list: &ast::CompoundList, io: &Io) -> Vec<u8> {
        let buf = Rc::new(RefCell::new(Vec::new()));
        let mut sio = io.clone();
        sio.set(1, Some(Stream::Buf(buf.clone())));
        self.capture_into(list, &sio);
        let v = std::mem::take(&mut *buf.borrow_mut());
        v
    }

    /// Performs an assignment in the current shell; returns the xtrace text (empty when
    /// `set -x` is off: it is not built then).
    pub fn assign(&mut self, a: &ast::Assignment, local: bool) -> R<String> {
        let _ = local;
        match (&a.name, &a.value) {
            (ast::AssignmentName::VariableName(n), ast::AssignmentValue::Scalar(w)) => {
                let text = self.tilde_value(&w.value).into_owned();
                let v = self.expand_string(&text)?;
                // `set -x` shows the expanded right-hand side, with `+=` kept.
                let t = if self.opts.xtrace {
                    format!("{n}{}={}", if a.append { "+" } else { "" }, xquote(&v))
                } else {
                    String::new()
                };
                // The integer attribute that counts is the nameref target's.
                let target = if self.has_namerefs {
                    let r = self.resolve(n).into_owned();
                    if r.contains(['[', '\u{0}']) {
                        n.to_string()
                    } else {
                        r
                    }
                } else {
                    n.to_string()
                };
                let integer = self.is_integer(&target) || self.is_integer(n);
                let v = if integer {
                    let base = if a.append {
                        self.get(n).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0)
                    } else {
                        0
                    };
                    (base + self.arith_str(&v)?).to_string()
                } else if a.append {
                    format!("{}{}", self.get(n).unwrap_or_default(), v)
                } else {
                    v
                };
                if let Err(e) = self.set_var(n, v) {
                    self.error(&e.to_string());
                    return Err(self.assignment_failed());
                }
                Ok(t)
            }
            (ast::AssignmentName::ArrayElementName(n, idx), ast::AssignmentValue::Scalar(w)) => {
                if idx.trim().is_empty() {
                    self.error(&format!("{n}[{idx}]: bad array subscript"));
                    return Err(Flow::Abort(1));
                }
                let text = self.tilde_value(&w.value).into_owned();
                let v = self.expand_string(&text)?;
                let key = if self.is_assoc(n) {
                    ElemKey::Str(self.expand_string(idx)?)
                } else {
                    let e = self.expand_string_dq(idx)?;
                    ElemKey::Idx(self.arith_str(&e)?)
                };
                let t = if self.opts.xtrace {
                    format!(
                        "{n}[{idx}]{}={}",
                        if a.append { "+" } else { "" },
                        xquote(&v)
                    )
                } else {
                    String::new()
                };
                let v = if a.append {
                    let cur = match &key {
                        ElemKey::Str(k) => self
                            .get_array(n)
                            .and_then(|a| a.into_iter().find(|(kk, _)| kk == k).map(|(_, v)| v)),
                        ElemKey::Idx(i) => self.index_get(n, *i),
                    };
                    self.append_value(n, cur, v)?
                } else {
                    self.int_value(n, v)?
                };
                if let Err(e) = self.set_elem(n, key, v) {
                    self.error(&e.to_string());
                    return Err(self.assignment_failed());
                }
                Ok(t)
            }
            (ast::AssignmentName::VariableName(n), ast::AssignmentValue::Array(items)) => {
                self.assign_array(n, items, a.append)?;
                // bash traces a compound assignment as written.
                Ok(a.to_string())
            }
            (ast::AssignmentName::ArrayElementName(n, _), ast::AssignmentValue::Array(_)) => {
                self.error(&format!("{n}: cannot assign list to array member"));
                Err(Flow::Abort(1))
            }
        }
    }

    /// A failed assignment (a readonly variable) abandons the rest of the
    /// line; under `set -e` it ends the shell, even inside a condition.
    fn assignment_failed(&self) -> Flow {
        if self.opts.errexit {
            Flow::Exit(1)
        } else {
            Flow::Abort(1)
        }
    }

    pub fn assign_array(
        &mut self,
        n0: &str,
        items: &[(Option<ast::Word>, ast::Word)],
        append: bool,
    ) -> R<()> {
        let resolved = self.resolve(n0);
        let n: &str = &resolved;
        if n.contains('[') {
            self.error(&format!("`{n}': not a valid identifier"));
            return Err(Flow::Abort(1));
        }
        let assoc = self.is_assoc(n);
        if assoc {
            let mut m = match (append, self.lookup(n).and_then(|v| v.value.clone())) {
                (true, Some(Value::Assoc(m))) => m,
                _ => Default::default(),
            };
            let mut pending_key: Option<String> = None;
            for (k, v) in items {
                match k {
                    Some(k) => {
                        let key = self.expand_string(&k.value)?;
                        let val = self.expand_string(&v.value)?;
                        let val = self.int_value(n, val)?;
                        m.insert(key, val);
                    }
                    None => {
                        let val = self.expand_string(&v.value)?;
                        match pending_key.take() {
                            Some(key) => {
                                let val = self.int_value(n, val)?;
                                m.insert(key, val);
                            }
                            None => pending_key = Some(val),
                        }
                    }
                }
            }
            if let Some(k) = pending_key {
                m.insert(k, String::new());
            }
            if let Err(e) = self.set_value(n, Value::Assoc(m)) {
                self.error(&e.to_string());
                return Err(Flow::Abort(1));
            }
            return Ok(());
        }
        let mut a = match (append, self.lookup(n).and_then(|v| v.value.clone())) {
            (true, Some(Value::Arr(m))) => m,
            (true, Some(Value::Str(s))) => {
                let mut m = std::collections::BTreeMap::new();
                m.insert(0, s);
                m
            }
            _ => Default::default(),
        };
        let mut next = a.keys().next_back().map(|k| k + 1).unwrap_or(0);
        for (k, v) in items {
            match k {
                Some(k) => {
                    let e = self.expand_string_dq(&k.value)?;
                    let i = self.arith_str(&e)?;
                    let val = self.expand_string(&v.value)?;
                    let val = self.int_value(n, val)?;
                    a.insert(i, val);
                    next = i + 1;
                }
                None => {
                    for val in self.expand_fields(&v.value)? {
                        let val = self.int_value(n, val)?;
                        a.insert(next, val);
                        next += 1;
                    }
                }
            }
        }
        if let Err(e) = self.set_value(n, Value::Arr(a)) {
            self.error(&e.to_string());
            return Err(Flow::Abort(1));
        }
        Ok(())
    }

    /// Runs a command by name: function, builtin, tool, external.
    pub fn dispatch(&mut self, argv: Vec<String>, temp: Vec<(String, String)>, io: &Io) -> R<i32> {
        let name = argv[0].as_str();
        if let Some(f) = self.funcs.get(name).cloned() {
            if temp.is_empty() {
                return self.call_function(&f, argv, io);
            }
            let mut scope = crate::state::Map::default();
            for (k, v) in temp {
                scope.insert(
                    k,
                    Var {
                        value: Some(Value::Str(v)),
                        exported: true,
                        ..Var::default()
                    },
                );
            }
            self.scopes.push(scope);
            let r = self.call_function(&f, argv, io);
            self.scopes.pop();
            return r;
        }
        if self.builtin_enabled(name) {
            if temp.is_empty() {
                return self.builtin(argv, io);
            }
            let special = crate::builtins::is_special(name);
            if special {
                for (k, v) in temp {
                    if let Err(e) = self.set_var(&k, v) {
                        self.error(&e.to_string());
                    }
                }
                return self.builtin(argv, io);
            }
            let mut scope = crate::state::Map::default();
            for (k, v) in temp {
                scope.insert(
                    k,
                    Var {
                        value: Some(Value::Str(v)),
                        exported: true,
                        ..Var::default()
                    },
                );
            }
            self.scopes.push(scope);
            let r = self.builtin(argv, io);
            self.scopes.pop();
            return r;
        }
        self.run_external(argv, temp, io)
    }

    /// A tool or an external command (never a function or builtin).
    pub fn run_external(
        &mut self,
        argv: Vec<String>,
        temp: Vec<(String, String)>,
        io: &Io,
    ) -> R<i32> {
        let mut env = self.env();
        // `env [-i] [-u NAME] [NAME=VALUE]... CMD ARGS`: the command runs here, not in the tool.
        if argv[0] == "env" {
            let mut i = 1;
            let mut clear = false;
            let mut unset = Vec::new();
            let mut sets = Vec::new();
            while i < argv.len() {
                let a = &argv[i];
                if a == "-i" || a == "-" {
                    clear = true;
                } else if a == "-v" {
                    // Verbose: only traces what env does.
                } else if a == "-u" && i + 1 < argv.len() {
                    i += 1;
                    unset.push(argv[i].clone());
                } else if a == "--" {
                    i += 1;
                    break;
                } else if let Some((k, v)) = a.split_once('=').filter(|(k, _)| !k.is_empty()) {
                    sets.push((k.to_string(), v.to_string()));
                } else {
                    break;
                }
                i += 1;
            }
            if i < argv.len() {
                let mut temp2: Vec<(String, String)> = if clear { Vec::new() } else { temp };
                if clear {
                    env.clear();
                }
                env.retain(|(k, _)| !unset.contains(k));
                temp2.retain(|(k, _)| !unset.contains(k));
                temp2.extend(sets);
                return self.run_with_env(argv[i..].to_vec(), env, temp2, io);
            }
        }
        self.run_with_env(argv, env, temp, io)
    }

    fn run_with_env(
        &mut self,
        argv: Vec<String>,
        mut env: Vec<(String, String)>,
        temp: Vec<(String, String)>,
        io: &Io,
    ) -> R<i32> {
        for (k, v) in temp {
            if let Some(e) = env.iter_mut().find(|(ek, _)| *ek == k) {
                e.1 = v;
            } else {
                env.push((k, v));
            }
        }
        self.remember_command(&argv[0]);
        // In the sandbox /tmp is not writable; commands get the run's private temporary
        // directory where the script has not chosen one.
        if let Some(dir) = &self.temp_dir {
            if !env.iter().any(|(k, _)| k == "TMPDIR") {
                env.push(("TMPDIR".into(), dir.clone()));
            }
        }
        if let Some(args) = crate::invoke::shell_command(&argv, &self.cwd) {
            crate::io::flush_stdout();
            let start = crate::invoke::Start {
                host: self.host.clone(),
                cwd: self.cwd.clone(),
                env: &env,
                temp_dir: self.temp_dir.clone(),
            };
            return Ok(crate::invoke::run(&args, start, io));
        }
        // bash gives a program `_` set to the path it runs.
        let path = if self.exec_running {
            None
        } else if argv[0].contains('/') {
            Some(argv[0].clone())
        } else {
            self.path_lookup(&argv[0])
        };
        if let Some(p) = path {
            env.retain(|(k, _)| k != "_");
            env.push(("_".into(), p));
        }
        if let Some(tool) = crate::tools::find(&argv[0]) {
            let stdin = io.stdin();
            let stdin_len = match &stdin {
                crate::io::Stream::File(f, _) => f
                    .try_borrow()
                    .ok()
                    .and_then(|f| f.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len()),
                _ => None,
            };
            let mut r = crate::io::StreamReader(stdin);
            let mut w = crate::io::StreamWriter(io.get(1).cloned());
            let mut e = crate::io::StreamWriter(io.get(2).cloned());
            let mut ctx = crate::tools::ToolContext {
                cwd: &self.cwd,
                env: &env,
                stdin: &mut r,
                stdin_len,
                stdout: &mut w,
                stderr: &mut e,
            };
            return Ok(tool(&argv, &mut ctx));
        }
        let path_var = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_str());
        let script = crate::invoke::headerless_script(
            &argv,
            &self.cwd,
            path_var.unwrap_or("/usr/local/bin:/usr/bin:/bin"),
        );
        if let Some(args) = script {
            crate::io::flush_stdout();
            let start = crate::invoke::Start {
                host: self.host.clone(),
                cwd: self.cwd.clone(),
                env: &env,
                temp_dir: self.temp_dir.clone(),
            };
            return Ok(crate::invoke::run(&args, start, io));
        }
        let req = crate::host::ExecRequest {
            argv: &argv,
            env: &env,
            cwd: &self.cwd,
        };
        let host = self.host.clone();
        // The command that is a whole pipeline stage, writing to the stage's buffer: start it
        // and let the next stage read its output as it comes (the pipeline collects its
        // status). Its stderr must not need the guest meanwhile.
        if let Some(slot) = self.stage.take() {
            let to_stage = matches!(io.get(1), Some(Stream::Buf(b))
                if Rc::ptr_eq(b, &slot.buf) && b.borrow().is_empty());
            let stderr_free = matches!(
                io.get(2),
                Some(Stream::Inherit(2)) | Some(Stream::Null) | None
            );
            // Its stdin must not need the guest either (feeding a buffer while nobody reads
            // the output could stall both sides).
            let stdin_free = matches!(
                io.get(0),
                Some(Stream::Inherit(0)) | Some(Stream::Null) | Some(Stream::Running(_)) | None
            );
            if to_stage && stderr_free && stdin_free && slot.func_depth == self.func_depth {
                match host.spawn_stage(&req, io) {
                    Ok(r) => {
                        *slot.running.borrow_mut() = Some(r);
                        return Ok(0);
                    }
                    Err(crate::host::HostError::NotFound) => {}
                    Err(crate::host::HostError::Message(m, s)) => {
                        self.error_io(io, &m);
                        return Ok(s);
                    }
                }
            }
        }
        match host.run(&req, io) {
            Ok(s) => Ok(s),
            Err(crate::host::HostError::NotFound) => {
                // With no PATH to search, bash tries the name as a file.
                let no_path = self.get("PATH").is_none_or(|p| p.is_empty());
                let why = if no_path {
                    "No such file or directory"
                } else {
                    "command not found"
                };
                self.error_io(io, &format!("{}: {why}", argv[0]));
                Ok(127)
            }
            Err(crate::host::HostError::Message(m, s)) => {
                self.error_io(io, &m);
                Ok(s)
            }
        }
    }

    pub fn error_io(&self, io: &Io, msg: &str) {
        io.err(format!("{}{}\n", self.err_prefix(), msg).as_bytes());
    }

    pub fn call_function(
        &mut self,
        f: &Rc<ast::FunctionDefinition>,
        argv: Vec<String>,
        io: &Io,
    ) -> R<i32> {
        // bash's FUNCNEST when set to a positive number; otherwise the shell's own limit,
        // reached before the guest's stacks are (bash without FUNCNEST recurses until it
        // crashes).
        let limit = self
            .lookup("FUNCNEST")
            .and_then(|v| match &v.value {
                Some(crate::state::Value::Str(s)) => s.trim().parse::<u32>().ok(),
                _ => None,
            })
            .filter(|n| *n > 0)
            .map_or(crate::state::MAX_FUNC_DEPTH, |n| {
                n.min(crate::state::MAX_FUNC_DEPTH)
            });
        if self.func_depth >= limit {
            self.error_io(
                io,
                &format!(
                    "{}: maximum function nesting level exceeded ({limit})",
                    argv[0]
                ),
            );
            return Err(Flow::Abort(1));
        }
        let mut it = argv.into_iter();
        let name = it.next().unwrap_or_default();
        let saved = std::mem::replace(&mut self.positional, it.collect());
        self.scopes.push(crate::state::Map::default());
        self.func_depth += 1;
        // A function body does not see its caller's loops (bash 5.2).
        let saved_loops = std::mem::replace(&mut self.loop_depth, 0);
        let src = self
            .func_src
            .get(&name)
            .cloned()
            .unwrap_or_else(|| "main".into());
        let argv = self.extdebug().then(|| self.positional.clone());
        self.frames.push(crate::state::Frame {
            name: name.clone(),
            src: src.clone(),
            call_line: self.lineno,
            call_src: std::mem::replace(&mut self.cur_source, src),
            argv,
        });
        let ft = self.trace_func_enter(&name);
        self.funcnames.push(name);
        let saved_line = self.lineno;
        let body = &f.body;
        let r = (|| -> R<i32> {
            // A traced function runs the DEBUG trap once more on entry, inside it.
            let cmd = self.bash_command.clone();
            if let Some(st) = self.debug_trap(&cmd, io)? {
                return Ok(st);
            }
            let io2;
            let io = match &body.1 {
                Some(r) => match self.apply_redirs(&r.0, io)? {
                    Some(n) => {
                        io2 = n;
                        &io2
                    }
                    None => return Ok(1),
                },
                None => io,
            };
            self.run_compound(&body.0, io)
        })();
        let r = match r {
            Ok(_) | Err(Flow::Return(_)) => match self.return_trap(io) {
                Ok(()) => r,
                Err(e) => Err(e),
            },
            _ => r,
        };
        self.trace_func_leave(ft);
        self.funcnames.pop();
        if let Some(fr) = self.frames.pop() {
            self.cur_source = fr.call_src;
        }
        self.lineno = saved_line;
        self.restore_local_options();
        self.loop_depth = saved_loops;
        self.func_depth -= 1;
        let scope = self.scopes.pop();
        self.restore_local_opts(scope);
        self.positional = saved;
        match r {
            Ok(s) => Ok(s),
            Err(Flow::Return(s)) => Ok(s),
            Err(e) => Err(e),
        }
    }
}

/// Quoting as `set -x` shows words.
pub fn xquote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%^".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A scope holding prefix assignments as exported variables.
fn temp_scope(temp: &[(String, String)]) -> crate::state::Map<String, Var> {
    temp.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                Var {
                    value: Some(Value::Str(v.clone())),
                    exported: true,
                    ..Var::default()
                },
            )
        })
        .collect()
}
