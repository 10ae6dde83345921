//! The compound commands: one function per kind, the loops sharing one step for what
//! `break` and `continue` do to them.

use crate::io::Io;
use crate::quote::xquote;
use crate::state::{Flow, Shell, Value, R};
use brush_parser::ast::{self, CompoundCommand as CC};

/// Whether a loop goes on after its body (or condition) ran.
enum Step {
    Next,
    Stop,
}

impl Shell {
    pub(super) fn run_compound(&mut self, cc: &CC, io: &Io) -> R<i32> {
        match cc {
            CC::BraceGroup(b) => self.run_list(&b.list, io),
            CC::Subshell(s) => self.run_subshell(s, io),
            CC::Arithmetic(a) => self.run_arithmetic(a, io),
            CC::ArithmeticForClause(f) => self.in_loop(|sh| sh.run_arithmetic_for(f, io)),
            CC::ForClause(f) => self.run_for(f, io),
            CC::WhileClause(w) => self.in_loop(|sh| sh.run_while(w, false, io)),
            CC::UntilClause(w) => self.in_loop(|sh| sh.run_while(w, true, io)),
            CC::IfClause(i) => self.run_if(i, io),
            CC::CaseClause(c) => self.run_case(c, io),
            CC::Coprocess(_) => {
                // No concurrent processes in the guest: stop rather than deadlock on its fds.
                self.error("coproc: not supported");
                Err(Flow::Exit(2))
            }
        }
    }

    fn in_loop(&mut self, body: impl FnOnce(&mut Self) -> R<i32>) -> R<i32> {
        self.calls.loop_depth += 1;
        let r = body(self);
        self.calls.loop_depth -= 1;
        r
    }

    /// Runs a loop's body: `break N` and `continue N` end here at N = 1 and pass on as
    /// N - 1 otherwise; a `break` leaves the loop with the status of the `break`.
    fn loop_step(&mut self, body: &ast::CompoundList, st: &mut i32, io: &Io) -> R<Step> {
        match self.run_list(body, io) {
            Ok(s) => {
                *st = s;
                Ok(Step::Next)
            }
            Err(Flow::Break(n)) if n > 1 => Err(Flow::Break(n - 1)),
            Err(Flow::Break(_)) => {
                *st = self.status.last_status;
                Ok(Step::Stop)
            }
            Err(Flow::Continue(n)) if n > 1 => Err(Flow::Continue(n - 1)),
            Err(Flow::Continue(_)) => Ok(Step::Next),
            Err(e) => Err(e),
        }
    }

    /// A condition list: `set -e` does not apply inside it.
    fn condition(&mut self, list: &ast::CompoundList, io: &Io) -> R<i32> {
        self.cond_depth += 1;
        let c = self.run_list(list, io);
        self.cond_depth -= 1;
        c
    }

    fn run_subshell(&mut self, s: &ast::SubshellCommand, io: &Io) -> R<i32> {
        self.set_line(&s.loc);
        if !self.traps.is_empty() {
            self.note_command(|| s.to_string());
        }
        let mut sub = self.clone();
        sub.process.subshell += 1;
        sub.trace_subshell();
        // The enclosing loops stay in the parent: `break`/`continue` inside `( )` do not
        // reach them.
        sub.calls.loop_depth = 0;
        let st = match sub.run_list(&s.list, io) {
            Ok(s) => s,
            Err(Flow::Exit(s)) | Err(Flow::Return(s)) | Err(Flow::Abort(s)) => s,
            Err(_) => sub.status.last_status,
        };
        sub.status.last_status = st;
        Ok(sub.run_exit_trap(io))
    }

    fn run_arithmetic(&mut self, a: &ast::ArithmeticCommand, io: &Io) -> R<i32> {
        self.set_line(&a.loc);
        if self.debug_trap_for(|| format!("(({}))", a.expr.value), io)? {
            return Ok(0);
        }
        let e = self.expand_arith(&a.expr.value)?;
        if self.opts.xtrace {
            self.xtrace_raw(&format!("(( {e} ))"), io);
        }
        match self.arith_cmd_str("((: ", &e) {
            Ok(v) => Ok((v == 0) as i32),
            Err(Flow::Abort(s)) => Ok(s),
            Err(e) => Err(e),
        }
    }

    /// One part of a `for (( ; ; ))` header: the DEBUG trap, expansion, `set -x`, then its
    /// value (an empty part is `empty`).
    fn for_part(&mut self, part: &ast::UnexpandedArithmeticExpr, empty: &str, io: &Io) -> R<i64> {
        self.debug_trap_for(|| format!("(({}))", part.value.trim_start()), io)?;
        let mut e = self.expand_arith(&part.value)?;
        if e.trim().is_empty() {
            e = empty.to_string();
        }
        if self.opts.xtrace {
            self.xtrace_raw(&format!("(( {} ))", e.trim()), io);
        }
        self.arith_cmd_str("((: ", &e)
    }

    fn run_arithmetic_for(&mut self, f: &ast::ArithmeticForClauseCommand, io: &Io) -> R<i32> {
        self.set_line(&f.loc);
        if let Some(i) = &f.initializer {
            self.for_part(i, "0", io)?;
        }
        let mut st = 0;
        loop {
            // The header's parts run on the header's line (LINENO), not the body's last.
            self.set_line(&f.loc);
            // An empty condition is true, as in C.
            if let Some(c) = &f.condition {
                if self.for_part(c, "1", io)? == 0 {
                    break;
                }
            }
            if let Step::Stop = self.loop_step(&f.body.list, &mut st, io)? {
                break;
            }
            if let Some(u) = &f.updater {
                self.set_line(&f.loc);
                self.for_part(u, "0", io)?;
            }
        }
        Ok(st)
    }

    fn run_for(&mut self, f: &ast::ForClauseCommand, io: &Io) -> R<i32> {
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
        let shown = self.opts.xtrace.then(|| {
            let ws: Vec<String> = match &f.values {
                Some(_) => values.iter().map(|v| xquote(v)).collect(),
                None => vec!["\"$@\"".to_string()],
            };
            format!("for {} in {}", f.variable_name, ws.join(" "))
        });
        let header = self.traps.contains_key("DEBUG").then(|| {
            let ws: Vec<&str> = match &f.values {
                Some(ws) => ws.iter().map(|w| w.value.as_str()).collect(),
                None => vec!["\"$@\""],
            };
            format!("for {} in {}", f.variable_name, ws.join(" "))
        });
        self.in_loop(|sh| {
            let mut st = 0;
            for v in values {
                if let Some(h) = &header {
                    if sh.debug_trap(h, io)?.is_some() {
                        continue;
                    }
                }
                if let Some(t) = &shown {
                    sh.xtrace_raw(t, io);
                }
                sh.set_loop_variable(&f.variable_name, v)?;
                if let Step::Stop = sh.loop_step(&f.body.list, &mut st, io)? {
                    break;
                }
            }
            Ok(st)
        })
    }

    /// A `for` loop's variable takes the next word; through a nameref, the referenced one.
    fn set_loop_variable(&mut self, name: &str, v: String) -> R<()> {
        let is_ref = self.has_namerefs && self.lookup(name).is_some_and(|x| x.nameref);
        if is_ref {
            if let Some(x) = self.lookup_mut(name) {
                x.value = Some(Value::Str(v));
            }
            return Ok(());
        }
        if let Err(e) = self.set_var(name, v) {
            self.error(&e.to_string());
            return Err(Flow::Abort(1));
        }
        Ok(())
    }

    fn run_while(&mut self, w: &ast::WhileOrUntilClauseCommand, until: bool, io: &Io) -> R<i32> {
        let mut st = 0;
        loop {
            let c = match self.condition(&w.0, io) {
                Ok(c) => c,
                Err(Flow::Break(n)) if n > 1 => return Err(Flow::Break(n - 1)),
                Err(Flow::Break(_)) => {
                    // The loop's status is that of the `break`.
                    st = self.status.last_status;
                    break;
                }
                Err(Flow::Continue(n)) if n > 1 => return Err(Flow::Continue(n - 1)),
                Err(Flow::Continue(_)) => {
                    // `continue` in the condition is a successful test, which ends an until
                    // loop (bash consumes the continue there).
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
            if let Step::Stop = self.loop_step(&w.1.list, &mut st, io)? {
                break;
            }
        }
        Ok(st)
    }

    fn run_if(&mut self, i: &ast::IfClauseCommand, io: &Io) -> R<i32> {
        if self.condition(&i.condition, io)? == 0 {
            return self.run_list(&i.then, io);
        }
        for e in i.elses.iter().flatten() {
            match &e.condition {
                Some(cond) => {
                    if self.condition(cond, io)? == 0 {
                        return self.run_list(&e.body, io);
                    }
                }
                None => return self.run_list(&e.body, io),
            }
        }
        Ok(0)
    }

    fn run_case(&mut self, c: &ast::CaseClauseCommand, io: &Io) -> R<i32> {
        self.set_line(&c.loc);
        if self.debug_trap_for(|| format!("case {} in ", c.value.value), io)? {
            return Ok(0);
        }
        let v = self.expand_string(&c.value.value)?;
        if self.opts.xtrace {
            self.xtrace_raw(&format!("case {} in", xquote(&v)), io);
        }
        let mut st = 0;
        let mut fall = false;
        for item in &c.cases {
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
            if !hit {
                continue;
            }
            if let Some(cmd) = &item.cmd {
                st = self.run_list(cmd, io)?;
            }
            match item.post_action {
                ast::CaseItemPostAction::ExitCase => return Ok(st),
                ast::CaseItemPostAction::UnconditionallyExecuteNextCaseItem => fall = true,
                ast::CaseItemPostAction::ContinueEvaluatingCases => fall = false,
            }
        }
        Ok(st)
    }
}
