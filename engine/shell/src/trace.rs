//! The debugging traps (DEBUG, RETURN, ERR) and the call-frame bookkeeping bash keeps for
//! debuggers: which traps functions, subshells and substitutions inherit (`set -T`, `set -E`,
//! `declare -ft`), the `extdebug` rules (a failing DEBUG trap skips the command, status 2
//! returns from the function), `BASH_ARGV`/`BASH_ARGC`, and where each function was defined.

use crate::io::Io;
use crate::state::{Flow, Shell, R};
use brush_parser::ast;

const DEBUG: u8 = 1;
const RETURN: u8 = 2;
const ERR: u8 = 4;

fn bit(sig: &str) -> u8 {
    match sig {
        "DEBUG" => DEBUG,
        "RETURN" => RETURN,
        "ERR" => ERR,
        _ => 0,
    }
}

/// The line bash gives a simple command whose second word spans lines: its parser has read
/// that word (one token of lookahead) when it numbers the command, so a multi-line quoted
/// argument moves LINENO to the line it ends on.
pub fn simple_command_line(c: &ast::SimpleCommand) -> Option<usize> {
    if c.prefix.is_some() {
        return None;
    }
    match c.suffix.as_ref()?.0.first()? {
        ast::CommandPrefixOrSuffixItem::Word(w)
        | ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
            let start = w.loc.as_ref()?.start.line;
            let newlines = w.value.matches('\n').count() - w.value.matches("\\\n").count();
            (newlines > 0).then_some(start + newlines)
        }
        _ => None,
    }
}

/// The compound array operands of a declaration builtin (`declare -a a=(1 2)`): their
/// position in argv and the variable name.
pub fn array_operands(decl: &[(usize, &ast::Assignment, &ast::Word)]) -> Vec<(usize, String)> {
    decl.iter()
        .filter_map(|(i, a, _)| match (&a.name, &a.value) {
            (ast::AssignmentName::VariableName(n), ast::AssignmentValue::Array(_)) => {
                Some((*i, n.clone()))
            }
            _ => None,
        })
        .collect()
}

/// What a function call changed, to undo when it returns.
pub struct FuncTrace {
    hidden: Vec<(&'static str, String)>,
    line_offset: usize,
}

impl Shell {
    /// The command of trap `sig` if it is set and runs here.
    pub fn live_trap(&self, sig: &str) -> Option<String> {
        if self.trace.dormant & bit(sig) != 0 {
            return None;
        }
        self.traps.get(sig).cloned()
    }

    /// A subshell, command or process substitution starts: the traps it does not inherit
    /// stay listed but stop firing.
    pub fn trace_subshell(&mut self) {
        // A subshell is a process of its own in bash: it gets a BASHPID of its own.
        let n = {
            let mut c = self.caches.borrow_mut();
            c.subshells = c.subshells.wrapping_add(1);
            c.subshells
        };
        self.trace.bashpid = Some(self.process.pid.wrapping_add(n));
        if !self.functrace() {
            self.trace.dormant |= DEBUG | RETURN;
        }
        if !self.errtrace() {
            self.trace.dormant |= ERR;
        }
    }

    /// `trap` set or reset `sig` here.
    pub fn trace_trap_changed(&mut self, sig: &str) {
        self.trace.dormant &= !bit(sig);
    }

    /// `shopt -s/-u extdebug` (already recorded): it brings function and error tracing
    /// with it.
    pub fn extdebug_changed(&mut self, on: bool) {
        self.opts.other_shopts.insert("functrace", on);
        self.opts.other_shopts.insert("errtrace", on);
        // BASH_ARGV/BASH_ARGC start from the arguments the shell has now.
        if on && self.calls.argv_main.is_none() {
            self.calls.argv_main = Some(self.positional.clone());
        }
    }

    fn functrace(&self) -> bool {
        self.opts.other_shopts.get("functrace") == Some(&true)
    }

    fn errtrace(&self) -> bool {
        self.opts.other_shopts.get("errtrace") == Some(&true)
    }

    /// Runs a trap's command at the current line, keeping `$?`. A `return` in it acts on the
    /// running function, an `exit` (or `set -e`) on the shell; otherwise its status comes back.
    pub fn run_trap_flow(&mut self, sig: &str, t: &str, io: &Io) -> R<i32> {
        let (line, off, st, was) = (
            self.lines.lineno,
            self.lines.line_offset,
            self.status.last_status,
            self.trace.in_progress,
        );
        self.trace.in_progress |= bit(sig);
        self.trace.trap_depth += 1;
        self.calls.xdepth += 1;
        // DEBUG, RETURN and ERR traps count lines from the current one; signal traps from 1.
        self.lines.line_offset = if bit(sig) != 0 {
            line.saturating_sub(1)
        } else {
            0
        };
        let r = self.run_string_flow(t, io);
        self.calls.xdepth -= 1;
        // An `exit` leaves the trap marked running, as bash's longjmp does: the EXIT trap
        // then does not fire it again.
        if !matches!(r, Err(Flow::Exit(_))) {
            self.trace.in_progress = was;
            self.trace.trap_depth -= 1;
        }
        self.lines.lineno = line;
        self.lines.line_offset = off;
        let last = self.status.last_status;
        self.status.last_status = st;
        match r {
            Ok(s) => Ok(s),
            Err(Flow::Return(s)) if self.calls.func_depth > 0 || self.calls.sourcing => {
                Err(Flow::Return(s))
            }
            Err(Flow::Return(s)) | Err(Flow::Abort(s)) => Ok(s),
            Err(Flow::Exit(s)) => Err(Flow::Exit(s)),
            Err(_) => Ok(last),
        }
    }

    /// Runs the DEBUG trap before `cmd`. `Some(status)`: under extdebug the trap failed and
    /// the command is skipped (a status of 2 inside a function returns from it instead).
    pub fn debug_trap(&mut self, cmd: &str, io: &Io) -> R<Option<i32>> {
        if self.trace.in_progress & DEBUG != 0 {
            return Ok(None);
        }
        if self.trace.skip_debug_once {
            self.trace.skip_debug_once = false;
            return Ok(None);
        }
        let Some(t) = self.live_trap("DEBUG") else {
            return Ok(None);
        };
        self.note_command(|| cmd.to_string());
        let st = self.run_trap_flow("DEBUG", &t, io)?;
        if !self.extdebug() || st == 0 {
            return Ok(None);
        }
        if st == 2 && (self.calls.func_depth > 0 || self.calls.sourcing) {
            return Err(Flow::Return(2));
        }
        Ok(Some(st))
    }

    /// The DEBUG trap before a compound command shown as `text()`; true: skip the command.
    pub fn debug_trap_for(&mut self, text: impl FnOnce() -> String, io: &Io) -> R<bool> {
        if self.trace.in_progress & DEBUG != 0 || !self.traps.contains_key("DEBUG") {
            return Ok(false);
        }
        Ok(self.debug_trap(&text(), io)?.is_some())
    }

    /// BASH_COMMAND becomes `text`, unless a trap handler is running.
    pub fn note_command(&mut self, text: impl FnOnce() -> String) {
        if self.trace.trap_depth == 0 {
            self.status.bash_command = text();
        }
    }

    /// The DEBUG trap for one element of a pipeline, run by the parent before the element's
    /// subshell starts (as bash does); the subshell then does not run it again.
    pub fn pipeline_debug_trap(&mut self, cmd: &ast::Command, io: &Io) -> R<Option<i32>> {
        if let ast::Command::Simple(s) = cmd {
            if !self.traps.contains_key("DEBUG") {
                return Ok(None);
            }
            let loc = s.word_or_name.as_ref().and_then(|w| w.loc.as_ref());
            if let Some(l) = loc {
                self.lines.lineno = l.start.line + self.lines.line_offset;
            }
            let r = self.debug_trap(&s.to_string(), io)?;
            return Ok(r);
        }
        Ok(None)
    }

    /// Marks a pipeline element's subshell whose DEBUG trap its parent already ran.
    pub fn skip_next_debug(&mut self, cmd: &ast::Command) {
        self.trace.skip_debug_once = matches!(cmd, ast::Command::Simple(_));
    }

    /// The RETURN trap, when a function or sourced file finishes (still inside it).
    pub fn return_trap(&mut self, io: &Io) -> R<()> {
        if self.trace.in_progress & RETURN != 0 {
            return Ok(());
        }
        if let Some(t) = self.live_trap("RETURN") {
            match self.run_trap_flow("RETURN", &t, io) {
                Ok(_) | Err(Flow::Return(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The ERR trap after a failed command.
    pub fn err_trap(&mut self, io: &Io) -> R<()> {
        if self.trace.in_progress & ERR != 0 {
            return Ok(());
        }
        if let Some(t) = self.live_trap("ERR") {
            self.run_trap_flow("ERR", &t, io)?;
        }
        Ok(())
    }

    /// A function starts (its positional parameters already set): it does not see the traps
    /// it does not inherit, its lines count from where it was defined, and under extdebug
    /// its arguments go on BASH_ARGV.
    pub fn trace_func_enter(&mut self, name: &str) -> FuncTrace {
        let traced = self.functrace() || self.trace.traced_funcs.contains(name);
        let mut hidden = Vec::new();
        for (sig, hide) in [
            ("DEBUG", !traced),
            ("ERR", !self.errtrace()),
            // Functions called from the DEBUG trap do not run the RETURN trap.
            ("RETURN", !traced || self.trace.in_progress & DEBUG != 0),
        ] {
            if hide {
                if let Some(t) = self.traps.remove(sig) {
                    hidden.push((sig, t));
                }
            }
        }
        let line_offset = self.lines.line_offset;
        if let Some((_, off)) = self.trace.func_defs.get(name) {
            self.lines.line_offset = *off;
        }
        FuncTrace {
            hidden,
            line_offset,
        }
    }

    /// A function returned: traps it hid come back unless it set its own.
    pub fn trace_func_leave(&mut self, ft: FuncTrace) {
        for (sig, t) in ft.hidden {
            self.traps.entry(sig.to_string()).or_insert(t);
        }
        self.lines.line_offset = ft.line_offset;
    }

    /// `. file`: without functrace the file does not see the DEBUG trap.
    pub fn trace_source_enter(&mut self) -> FuncTrace {
        let mut hidden = Vec::new();
        if !self.functrace() {
            if let Some(t) = self.traps.remove("DEBUG") {
                hidden.push(("DEBUG", t));
            }
        }
        FuncTrace {
            hidden,
            line_offset: self.lines.line_offset,
        }
    }

    /// In POSIX mode a function needs a valid name that is not a special builtin's; a
    /// violation ends the shell.
    pub fn check_function_name(&mut self, name: &str) -> R<()> {
        if self.option_enabled("posix") != Some(true) {
            return Ok(());
        }
        const SPECIAL: &[&str] = &[
            "break", ":", ".", "continue", "eval", "exec", "exit", "export", "readonly", "return",
            "set", "shift", "times", "trap", "unset",
        ];
        let why = if !crate::state::valid_name(name) {
            "not a valid identifier"
        } else if SPECIAL.contains(&name) {
            "is a special builtin"
        } else {
            return Ok(());
        };
        self.error(&format!("`{name}': {why}"));
        Err(Flow::Exit(2))
    }

    /// Remembers where a function was defined (`declare -F` under extdebug, LINENO in it).
    pub fn trace_define(&mut self, f: &ast::FunctionDefinition) {
        let line = f.fname.loc.as_ref().map(|l| l.start.line).unwrap_or(0) + self.lines.line_offset;
        self.trace
            .func_defs
            .insert(f.fname.value.clone(), (line, self.lines.line_offset));
    }

    /// Writes one `set -x` line: PS4 expanded, its first character repeated once per level
    /// of nesting, to BASH_XTRACEFD when that names an open fd, else to stderr.
    pub fn xtrace_raw(&mut self, s: &str, io: &Io) {
        let ps4 = self.get("PS4").unwrap_or_else(|| "+ ".into());
        let ps4 = if ps4.contains(['$', '`']) {
            // Expanding PS4 must not trace itself.
            let was = std::mem::replace(&mut self.opts.xtrace, false);
            let (st, line) = (self.status.last_status, self.lines.lineno);
            let e = self.expand_string_dq(&ps4).unwrap_or(ps4);
            self.status.last_status = st;
            self.lines.lineno = line;
            self.opts.xtrace = was;
            e
        } else {
            ps4
        };
        let depth = (self.calls.xdepth as usize).min(20) + 1;
        let mut chars = ps4.chars();
        let first = chars.next().map(|c| c.to_string()).unwrap_or_default();
        let line = format!("{}{}{}\n", first.repeat(depth), chars.as_str(), s);
        let fd = self.trace.xtrace_pin.unwrap_or_else(|| self.xtrace_fd());
        match fd.and_then(|fd| io.get(fd)) {
            // A trace fd that fails writes loses the trace, as in bash.
            Some(st) => {
                let _ = st.write_all(line.as_bytes());
            }
            None => io.err(line.as_bytes()),
        }
    }

    pub fn xtrace_fd(&mut self) -> Option<usize> {
        self.get("BASH_XTRACEFD")
            .and_then(|v| v.trim().parse::<usize>().ok())
    }

    /// Assigning BASH_XTRACEFD: bash complains at once about a value that is no open fd.
    pub fn check_xtracefd(&self, val: &str) {
        if val.is_empty() {
            return;
        }
        let open = val.parse::<usize>().ok().is_some_and(|fd| {
            self.fds
                .fd_overlay
                .iter()
                .rev()
                .find(|(f, _)| *f == fd)
                .map(|(_, s)| s.is_some())
                .unwrap_or_else(|| self.fds.cur_io.get(fd).is_some())
        });
        if !open {
            self.error(&format!(
                "BASH_XTRACEFD: {val}: invalid value for trace file descriptor"
            ));
        }
    }

    /// Functions from the environment (`BASH_FUNC_name%%=() { ...; }`, as `export -f` in a
    /// parent bash writes them) become this shell's functions.
    pub fn import_functions(&mut self, env: &[(String, String)]) {
        for (k, v) in env {
            let Some(name) = k
                .strip_prefix("BASH_FUNC_")
                .and_then(|n| n.strip_suffix("%%"))
            else {
                continue;
            };
            if !v.starts_with("() {") || name.is_empty() || name.contains(char::is_whitespace) {
                continue;
            }
            let Ok(prog) = crate::syntax::parse(&format!("{name} {v}")) else {
                continue;
            };
            let def = prog
                .complete_commands
                .first()
                .and_then(|cc| cc.0.first())
                .and_then(|item| match &item.0.first.seq.first() {
                    Some(ast::Command::Function(f)) if item.0.additional.is_empty() => {
                        Some(f.clone())
                    }
                    _ => None,
                });
            if let Some(f) = def {
                self.functions
                    .funcs
                    .insert(name.to_string(), std::rc::Rc::new(f));
                self.functions.exported_funcs.insert(name.to_string());
            }
        }
    }

    /// Adds `export -f` functions to an environment for a child process.
    pub fn export_functions(&self, env: &mut Vec<(String, String)>) {
        let mut names: Vec<&String> = self.functions.exported_funcs.iter().collect();
        names.sort();
        for n in names {
            if let Some(f) = self.functions.funcs.get(n) {
                let text = f.to_string();
                if let Some(p) = text.find('{') {
                    env.push((format!("BASH_FUNC_{n}%%"), format!("() {}", &text[p..])));
                }
            }
        }
    }

    /// `set -x` for a declaration with compound array operands: bash shows each array
    /// assignment (`a=('1' '2')`) and then the command with just the names.
    pub fn trace_array_operands(
        &mut self,
        mut argv: Vec<String>,
        ops: &[(usize, String)],
        io: &Io,
    ) {
        for (i, name) in ops {
            let items = self.get_array(name).unwrap_or_default();
            let assoc = self.is_assoc(name);
            let contiguous = items
                .iter()
                .enumerate()
                .all(|(k, (key, _))| key.parse::<usize>().ok() == Some(k));
            let shown: Vec<String> = items
                .iter()
                .map(|(k, v)| {
                    let v = format!("'{}'", v.replace('\'', "'\\''"));
                    if contiguous && !assoc {
                        v
                    } else {
                        format!("['{}']={v}", k.replace('\'', "'\\''"))
                    }
                })
                .collect();
            self.xtrace_raw(&format!("{name}=({})", shown.join(" ")), io);
            if let Some(slot) = argv.get_mut(*i) {
                slot.clone_from(name);
            }
        }
        self.xtrace(&argv, &[], io);
    }
}
