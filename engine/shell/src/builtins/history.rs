//! The history list of a non-interactive bash (`set -o history`): each command line of the
//! script is recorded as it is run, `history` shows and edits the list and its file
//! (`HISTFILE`), `fc` lists entries or re-runs one with `old=new` replacements, and `$HISTCMD`
//! is the current entry's number. Editing with `fc` (no `-s`) runs an editor on a temp file.

use crate::io::Io;
use crate::state::history::Entry;
use crate::state::{Flow, Shell, R};
use brush_parser::ast;
use brush_parser::ast::SourceLocation;
use std::rc::Rc;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// What bash puts between two lines of one multi-line command (cmdhist): a newline inside a
/// quoted string, a space after a word that cannot take `;` (like `do`), `; ` otherwise.
fn delimiter(prev: &str) -> &'static str {
    let mut quote: Option<char> = None;
    let mut esc = false;
    for c in prev.chars() {
        if esc {
            esc = false;
            continue;
        }
        match (quote, c) {
            (Some('\''), '\'') => quote = None,
            (Some('\''), _) => {}
            (_, '\\') => esc = true,
            (Some('"'), '"') => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            _ => {}
        }
    }
    if quote.is_some() {
        return "\n";
    }
    let t = prev.trim_end();
    let last = t
        .rsplit(|c: char| c.is_whitespace() || c == ';')
        .next()
        .unwrap_or("");
    if t.is_empty()
        || t.ends_with([';', '|', '&', '(', '{'])
        || matches!(
            last,
            "do" | "then" | "else" | "in" | "elif" | "if" | "while" | "until"
        )
    {
        " "
    } else {
        "; "
    }
}

impl Shell {
    fn history_on(&self) -> bool {
        self.builtins.history.on
    }

    /// `set -o history` / `set +o history`.
    pub(crate) fn set_history_option(&mut self, on: bool) {
        self.builtins.history.on = on;
        if !on {
            return;
        }
        // bash gives the history variables their defaults when the list is turned on (the
        // file name only at start-up).
        if self.lookup("HISTSIZE").is_none() {
            let _ = self.set_var("HISTSIZE", "500".into());
        }
        if !self.builtins.history.started {
            if self.lookup("HISTFILESIZE").is_none() {
                let _ = self.set_var("HISTFILESIZE", "500".into());
            }
            if self.lookup("HISTFILE").is_none() {
                if let Some(home) = self.get("HOME") {
                    let _ = self.set_var("HISTFILE", format!("{home}/.bash_history"));
                }
            }
        }
    }

    fn hist_add(&mut self, line: String) {
        self.builtins
            .history
            .entries
            .push(Entry { line, time: now() });
        self.builtins.history.unsaved += 1;
        self.builtins.history.last_added = true;
        self.hist_stifle();
    }

    /// The number of the first entry.
    fn hist_base(&self) -> usize {
        self.builtins.history.base.max(1)
    }

    /// Keeps at most HISTSIZE entries (an empty or negative HISTSIZE keeps all).
    fn hist_stifle(&mut self) {
        let Some(max) = self
            .get("HISTSIZE")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|n| *n >= 0)
        else {
            return;
        };
        let len = self.builtins.history.entries.len();
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        if len > max {
            let drop = len - max;
            self.builtins.history.entries.drain(..drop);
            self.builtins.history.base = self.hist_base() + drop;
        }
    }

    /// Adds a command line unless HISTCONTROL or HISTIGNORE keep it out (bash's
    /// maybe_add_history).
    fn hist_maybe_add(&mut self, line: String) {
        let control = self.get("HISTCONTROL").unwrap_or_default();
        let has = |w: &str| {
            control
                .split(':')
                .any(|c| c == w || c == "ignoreboth" && w != "erasedups")
        };
        if has("ignorespace") && line.starts_with(' ') {
            return;
        }
        let prev = self.builtins.history.entries.last().map(|e| e.line.clone());
        if has("ignoredups") && prev.as_deref() == Some(line.as_str()) {
            return;
        }
        if let Some(ig) = self.get("HISTIGNORE").filter(|s| !s.is_empty()) {
            for pat in split_colons(&ig) {
                // `&` stands for the previous history line.
                let pat = match &prev {
                    Some(p) if pat.contains('&') => {
                        let mut q = String::new();
                        crate::pattern::escape(p, &mut q);
                        pat.replace('&', &q)
                    }
                    _ => pat,
                };
                if !pat.is_empty() && self.pattern_match(&line, &pat) {
                    return;
                }
            }
        }
        if has("erasedups") {
            self.builtins.history.entries.retain(|e| e.line != line);
        }
        self.hist_add(line);
    }

    /// Records the script lines of a top-level command about to run (comment lines before
    /// it are entries of their own, as bash reads them).
    fn hist_note(&mut self, cc: &ast::CompoundList) {
        self.builtins.history.last_added = false;
        if !self.history_on() {
            return;
        }
        let Some(lines) = self.builtins.history.script.clone() else {
            return;
        };
        let Some(loc) = cc.location() else { return };
        let (start, end) = (loc.start.line, loc.end.line.max(loc.start.line));
        if start < self.builtins.history.next_line.max(1) {
            return;
        }
        for n in self.builtins.history.next_line.max(1)..start {
            if let Some(l) = lines.get(n - 1) {
                if l.trim_start().starts_with('#') {
                    self.hist_maybe_add(l.clone());
                }
            }
        }
        let mut text = String::new();
        for n in start..=end {
            let Some(l) = lines.get(n - 1) else { break };
            if n > start {
                text.push_str(delimiter(&text));
            }
            text.push_str(l);
        }
        self.builtins.history.next_line = end + 1;
        if !text.trim().is_empty() {
            self.hist_maybe_add(text);
        }
    }

    /// Runs the top-level commands of a script, recording each into the history list.
    pub(crate) fn run_script_program(
        &mut self,
        prog: &ast::Program,
        src: &str,
        source: crate::state::Source,
        io: &Io,
    ) -> R<i32> {
        // bash adds the lines it reads from a script or stdin, not a -c string.
        self.builtins.history.script = (source != crate::state::Source::DashC)
            .then(|| Rc::new(src.lines().map(String::from).collect()));
        self.builtins.history.next_line = 1;
        self.builtins.history.started = true;
        let mut st = self.status.last_status;
        // `set -v`: each line is echoed to stderr as it is read, that is, once, when the
        // command it ends (or the comments before it) is about to run, and at the end.
        let mut echoed = 0usize;
        let lines: Vec<&str> = src.lines().collect();
        for (k, cc) in prog.complete_commands.iter().enumerate() {
            self.hist_note(cc);
            let end = cc
                .location()
                .map_or(echoed, |loc| loc.end.line.max(loc.start.line));
            // The parser's end can stop short of a closing `fi`/`done`/`}` or a here-document
            // body: the command's lines go on up to a blank or comment line (or the next one).
            let next = prog
                .complete_commands
                .get(k + 1)
                .and_then(|c| c.location())
                .map_or(lines.len() + 1, |loc| loc.start.line);
            let mut end = end;
            while end + 1 < next
                && lines
                    .get(end)
                    .is_some_and(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            {
                end += 1;
            }
            self.verbose_echo(&lines, &mut echoed, end, io);
            self.run_complete_command(cc, &mut st, io)?;
        }
        self.verbose_echo(&lines, &mut echoed, lines.len(), io);
        Ok(st)
    }

    /// With `set -v` on, writes the script's lines after `echoed` up to line `upto` (1-based)
    /// to stderr; either way they count as read.
    fn verbose_echo(&self, lines: &[&str], echoed: &mut usize, upto: usize, io: &Io) {
        let upto = upto.min(lines.len());
        if upto <= *echoed {
            return;
        }
        if self.opts.verbose {
            let mut text = String::new();
            for l in &lines[*echoed..upto] {
                text.push_str(l);
                text.push('\n');
            }
            crate::io::flush_stdout();
            io.err(text.as_bytes());
        }
        *echoed = upto;
    }

    /// Runs `f` as bash runs `eval` and `source` strings (history recording off).
    pub(crate) fn without_history(&mut self, f: impl FnOnce(&mut Shell) -> R<i32>) -> R<i32> {
        self.builtins.history.nohist = true;
        let r = f(self);
        self.builtins.history.nohist = false;
        r
    }

    /// `$HISTCMD`: the number of the current entry.
    pub(crate) fn histcmd(&self) -> String {
        (self.hist_base() + self.builtins.history.entries.len() - 1).to_string()
    }

    fn histfile(&mut self, arg: Option<&String>) -> Option<String> {
        match arg {
            Some(f) => Some(f.clone()),
            None => self.get("HISTFILE").filter(|f| !f.is_empty()),
        }
    }

    fn hist_lines_text(entries: &[Entry], stamps: bool) -> String {
        let mut s = String::new();
        for e in entries {
            if stamps {
                s.push_str(&format!("#{}\n", e.time));
            }
            s.push_str(&e.line);
            s.push('\n');
        }
        s
    }

    fn hist_write(&mut self, file: &str, from: usize, append: bool, io: &Io) -> i32 {
        let stamps = self.get("HISTTIMEFORMAT").is_some();
        let text = Self::hist_lines_text(
            self.builtins.history.entries.get(from..).unwrap_or(&[]),
            stamps,
        );
        let path = self.cwd.join(file);
        let r = if append {
            use std::io::Write;
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .and_then(|mut f| f.write_all(text.as_bytes()))
        } else {
            std::fs::write(&path, text)
        };
        match r {
            Ok(()) => 0,
            Err(e) => {
                let why = crate::builtins::history::io_reason(&e);
                self.error_io(io, &format!("history: {file}: cannot create: {why}"));
                1
            }
        }
    }

    /// Appends what this session added to HISTFILE, as bash does when it exits.
    pub(crate) fn hist_save_at_exit(&mut self) {
        if !self.history_on() || self.builtins.history.unsaved == 0 || self.process.subshell > 0 {
            return;
        }
        let Some(file) = self.histfile(None) else {
            return;
        };
        let n = self.builtins.history.entries.len();
        let from = n.saturating_sub(self.builtins.history.unsaved);
        let stamps = self.get("HISTTIMEFORMAT").is_some();
        let text = Self::hist_lines_text(&self.builtins.history.entries[from..], stamps);
        use std::io::Write;
        let path = self.cwd.join(file);
        let ok = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .is_ok();
        self.builtins.history.unsaved = 0;
        // The file keeps its last HISTFILESIZE lines (timestamps go with their lines).
        let keep = self
            .get("HISTFILESIZE")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|n| *n >= 0);
        if let (true, Some(keep)) = (ok, keep) {
            let Ok(all) = std::fs::read_to_string(&path) else {
                return;
            };
            let lines: Vec<&str> = all.lines().collect();
            let mut count = 0;
            let mut start = lines.len();
            while start > 0 && count < keep {
                start -= 1;
                if !(stamps && lines[start].starts_with('#')) {
                    count += 1;
                }
            }
            if start > 0 && stamps && lines[start - 1].starts_with('#') {
                start -= 1;
            }
            if start > 0 {
                let mut t = lines[start..].join("\n");
                t.push('\n');
                let _ = std::fs::write(&path, t);
            }
        }
    }

    fn hist_read(&mut self, file: &str, only_new: bool) -> Result<(), std::io::Error> {
        let bytes = std::fs::read(self.cwd.join(file))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        let skip = if only_new {
            self.builtins.history.file_lines_read.min(lines.len())
        } else {
            0
        };
        let mut time = now();
        for l in &lines[skip..] {
            if let Some(ts) = l.strip_prefix('#').and_then(|t| t.parse::<i64>().ok()) {
                time = ts;
                continue;
            }
            self.builtins.history.entries.push(Entry {
                line: l.to_string(),
                time,
            });
        }
        self.builtins.history.file_lines_read = lines.len();
        self.hist_stifle();
        Ok(())
    }

    fn hist_list(&mut self, from: usize, io: &Io) {
        let fmt = self.get("HISTTIMEFORMAT");
        let base = self.hist_base();
        let mut s = String::new();
        for (i, e) in self.builtins.history.entries.iter().enumerate().skip(from) {
            let stamp = match &fmt {
                Some(f) => {
                    crate::tools::date::format(&crate::tools::date::Tm::from_epoch(e.time, 0), f)
                }
                None => String::new(),
            };
            s.push_str(&format!("{:>5}  {stamp}{}\n", i + base, e.line));
        }
        io.out(s.as_bytes());
    }

    /// Resolves a `history -d` position (negative: from the end) to an index.
    fn hist_pos(&self, s: &str) -> Option<usize> {
        let n: i64 = s.parse().ok()?;
        let len = self.builtins.history.entries.len() as i64;
        let idx = if n < 0 {
            len + n
        } else {
            n - self.hist_base() as i64
        };
        (n != 0 && idx >= 0 && idx < len).then_some(idx as usize)
    }

    pub(crate) fn b_history(&mut self, a: &[String], io: &Io) -> R<i32> {
        let mut i = 1;
        let mut flags = String::new();
        let mut del: Option<String> = None;
        while let Some(w) = a.get(i) {
            if w == "--" {
                i += 1;
                break;
            }
            if !w.starts_with('-') || w.len() < 2 || w[1..].parse::<i64>().is_ok() {
                break;
            }
            let chars: Vec<char> = w[1..].chars().collect();
            for (k, c) in chars.iter().enumerate() {
                match c {
                    'c' | 'a' | 'n' | 'r' | 'w' | 'p' | 's' => flags.push(*c),
                    'd' => {
                        let rest: String = chars[k + 1..].iter().collect();
                        if !rest.is_empty() {
                            del = Some(rest);
                        } else {
                            i += 1;
                            match a.get(i) {
                                Some(v) => del = Some(v.clone()),
                                None => {
                                    self.error_io(io, "history: -d: option requires an argument");
                                    io.err(HISTORY_USAGE.as_bytes());
                                    return Ok(2);
                                }
                            }
                        }
                        break;
                    }
                    c => {
                        self.error_io(io, &format!("history: -{c}: invalid option"));
                        io.err(HISTORY_USAGE.as_bytes());
                        return Ok(2);
                    }
                }
            }
            i += 1;
        }
        let rest = &a[i.min(a.len())..];
        let file_ops = flags.chars().filter(|c| "anrw".contains(*c)).count();
        if file_ops > 1 {
            self.error_io(io, "history: cannot use more than one of -anrw");
            return Ok(1);
        }
        if flags.contains('c') {
            self.builtins.history.entries.clear();
            self.builtins.history.base = 1;
            self.builtins.history.unsaved = 0;
            self.builtins.history.last_added = false;
            if flags.len() == 1 && del.is_none() {
                return Ok(0);
            }
        }
        if let Some(d) = del {
            let range = d
                .split_once('-')
                .filter(|(s, _)| !s.is_empty())
                .map(|(s, e)| (s.to_string(), e.to_string()));
            let (lo, hi) = match range {
                Some((s, e)) => match (self.hist_pos(&s), self.hist_pos(&e)) {
                    (Some(s), Some(e)) if s <= e => (s, e),
                    (Some(_), Some(_)) => return Ok(1),
                    _ => {
                        self.error_io(io, &format!("history: {d}: history position out of range"));
                        return Ok(1);
                    }
                },
                None => match self.hist_pos(&d) {
                    Some(p) => (p, p),
                    None => {
                        self.error_io(io, &format!("history: {d}: history position out of range"));
                        return Ok(1);
                    }
                },
            };
            self.builtins.history.entries.drain(lo..=hi);
            return Ok(0);
        }
        if flags.contains('s') {
            if self.builtins.history.last_added {
                self.builtins.history.entries.pop();
                self.builtins.history.last_added = false;
            }
            if !rest.is_empty() {
                self.hist_add(rest.join(" "));
            }
            return Ok(0);
        }
        if flags.contains('p') {
            if self.builtins.history.last_added {
                self.builtins.history.entries.pop();
                self.builtins.history.last_added = false;
            }
            let mut s = String::new();
            for w in rest {
                s.push_str(w);
                s.push('\n');
            }
            io.out(s.as_bytes());
            return Ok(0);
        }
        if file_ops == 1 {
            let Some(file) = self.histfile(rest.first()) else {
                return Ok(0);
            };
            if flags.contains('w') {
                let st = self.hist_write(&file, 0, false, io);
                if st == 0 {
                    self.builtins.history.unsaved = 0;
                }
                return Ok(st);
            }
            if flags.contains('a') {
                let from = self
                    .builtins
                    .history
                    .entries
                    .len()
                    .saturating_sub(self.builtins.history.unsaved);
                let st = self.hist_write(&file, from, true, io);
                if st == 0 {
                    self.builtins.history.unsaved = 0;
                }
                return Ok(st);
            }
            let only_new = flags.contains('n');
            if let Err(e) = self.hist_read(&file, only_new) {
                let why = io_reason(&e);
                self.error_io(io, &format!("history: {file}: {why}"));
                return Ok(1);
            }
            return Ok(0);
        }
        if flags.contains('c') {
            return Ok(0);
        }
        let from = match rest.first() {
            Some(n) => match n.parse::<i64>() {
                Ok(k) if k >= 0 => self
                    .builtins
                    .history
                    .entries
                    .len()
                    .saturating_sub(k as usize),
                _ => {
                    self.error_io(io, &format!("history: {n}: numeric argument required"));
                    return Ok(1);
                }
            },
            None => 0,
        };
        if rest.len() > 1 {
            // bash abandons the whole command line here.
            self.error_io(io, "history: too many arguments");
            return Err(Flow::Abort(1));
        }
        self.hist_list(from, io);
        Ok(0)
    }

    /// fc's view of a history position: a number (negative or 0: relative to the end) or
    /// the prefix of a command line. `last` is the index of the last entry fc considers.
    /// `past_end` is what a number after the last entry means (bash lists from the start
    /// when the first one is past the end).
    fn fc_pos(&self, spec: &str, last: i64, past_end: i64) -> i64 {
        let digits = spec.strip_prefix('-').unwrap_or(spec);
        if digits.starts_with(|c: char| c.is_ascii_digit()) {
            let n: i64 = digits
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>()
                .parse()
                .unwrap_or(i64::MAX / 4);
            let n = if spec.starts_with('-') { -n } else { n };
            return if n < 0 {
                (n + last + 1).max(0)
            } else if n == 0 {
                last
            } else {
                let idx = n - self.hist_base() as i64;
                if idx > last {
                    past_end
                } else {
                    idx.max(0)
                }
            };
        }
        for j in (0..=last).rev() {
            if let Some(e) = self.builtins.history.entries.get(j as usize) {
                if e.line.starts_with(spec) {
                    return j;
                }
            }
        }
        -1
    }

    pub(crate) fn b_fc(&mut self, a: &[String], io: &Io) -> R<i32> {
        let (mut numbering, mut reverse, mut listing, mut execute) = (true, false, false, false);
        let mut ename: Option<String> = None;
        let mut i = 1;
        while let Some(w) = a.get(i) {
            if w == "--" {
                i += 1;
                break;
            }
            // A negative number is a history position, not an option.
            if !w.starts_with('-') || w.len() < 2 || w[1..].parse::<i64>().is_ok() {
                break;
            }
            let chars: Vec<char> = w[1..].chars().collect();
            let mut k = 0;
            while k < chars.len() {
                match chars[k] {
                    'n' => numbering = false,
                    'l' => listing = true,
                    'r' => reverse = true,
                    's' => execute = true,
                    'e' => {
                        let rest: String = chars[k + 1..].iter().collect();
                        if rest.is_empty() {
                            i += 1;
                            match a.get(i) {
                                Some(v) => ename = Some(v.clone()),
                                None => {
                                    self.error_io(io, "fc: -e: option requires an argument");
                                    io.err(FC_USAGE.as_bytes());
                                    return Ok(2);
                                }
                            }
                        } else {
                            ename = Some(rest);
                        }
                        k = chars.len();
                        continue;
                    }
                    c => {
                        self.error_io(io, &format!("fc: -{c}: invalid option"));
                        io.err(FC_USAGE.as_bytes());
                        return Ok(2);
                    }
                }
                k += 1;
            }
            i += 1;
        }
        let mut rest: Vec<String> = a[i.min(a.len())..].to_vec();
        if ename.as_deref() == Some("-") {
            execute = true;
        }
        let added = (self.builtins.history.last_added && !self.builtins.history.nohist) as i64;
        if execute {
            let mut subs = Vec::new();
            while let Some(w) = rest.first() {
                let Some((p, r)) = w.split_once('=') else {
                    break;
                };
                subs.push((p.to_string(), r.to_string()));
                rest.remove(0);
            }
            let last = self.builtins.history.entries.len() as i64 - 1 - added;
            let pos = match rest.first() {
                Some(s) => self.fc_pos(s, last, last),
                None => last,
            };
            let Some(entry) = usize::try_from(pos)
                .ok()
                .and_then(|p| self.builtins.history.entries.get(p))
            else {
                self.error_io(io, "fc: no command found");
                return Ok(1);
            };
            let mut cmd = entry.line.clone();
            for (p, r) in &subs {
                if !p.is_empty() {
                    cmd = cmd.replace(p.as_str(), r);
                }
            }
            io.err(format!("{cmd}\n").as_bytes());
            // The re-run command replaces `fc -s` in the list.
            if self.builtins.history.last_added {
                self.builtins.history.entries.pop();
            }
            if self.history_on() {
                self.hist_maybe_add(cmd.clone());
            }
            return self.run_string_flow(&cmd, io);
        }
        if !listing && self.builtins.history.last_added {
            self.builtins.history.entries.pop();
            self.builtins.history.last_added = false;
        }
        let n = self.builtins.history.entries.len() as i64;
        if n == 0 {
            return Ok(0);
        }
        let last = n - 1 - if listing { added } else { 0 };
        let (mut beg, mut end) = match (rest.first(), rest.get(1)) {
            (Some(b), e) => {
                let b = self.fc_pos(b, last, if listing { 0 } else { last });
                let e = match e {
                    Some(e) => self.fc_pos(e, last, last),
                    None if listing => last,
                    None => b,
                };
                (b, e)
            }
            (None, _) if listing => (last - 15, last),
            (None, _) => (last, last),
        };
        if rest.is_empty() && listing {
            beg = beg.max(0);
        }
        if beg < 0 || end < 0 || last < 0 {
            self.error_io(
                io,
                if rest.first().is_some_and(|s| {
                    !s.trim_start_matches('-')
                        .starts_with(|c: char| c.is_ascii_digit())
                }) {
                    "fc: no command found"
                } else {
                    "fc: history specification out of range"
                },
            );
            return Ok(1);
        }
        if end < beg {
            std::mem::swap(&mut beg, &mut end);
            reverse = !reverse;
        }
        let idx: Vec<usize> = if reverse {
            (beg..=end).rev().map(|x| x as usize).collect()
        } else {
            (beg..=end).map(|x| x as usize).collect()
        };
        let mut text = String::new();
        for k in idx {
            let Some(e) = self.builtins.history.entries.get(k) else {
                continue;
            };
            if listing {
                if numbering {
                    text.push_str(&format!("{}", k + self.hist_base()));
                }
                text.push_str(&format!("\t {}\n", e.line));
            } else {
                text.push_str(&e.line);
                text.push('\n');
            }
        }
        if listing {
            io.out(text.as_bytes());
            return Ok(0);
        }
        self.fc_edit(&text, ename, io)
    }

    /// `fc` without `-l`/`-s`: the editor runs on a temp file, then its lines run (echoed).
    fn fc_edit(&mut self, text: &str, ename: Option<String>, io: &Io) -> R<i32> {
        let dir = self
            .get("TMPDIR")
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "/tmp".into());
        let path = self
            .cwd
            .join(dir)
            .join(format!("bash-fc.{}.{}", self.process.pid, now()));
        if let Err(e) = std::fs::write(&path, text) {
            let why = io_reason(&e);
            self.error_io(
                io,
                &format!("fc: {}: cannot open temp file: {why}", path.display()),
            );
            return Ok(1);
        }
        let file = crate::quote::quote(&path.display().to_string());
        let cmd = match ename {
            Some(e) => format!("{e} {file}"),
            None => format!("${{FCEDIT:-${{EDITOR:-vi}}}} {file}"),
        };
        let st = self.run_string(&cmd, io);
        let edited = std::fs::read_to_string(&path).unwrap_or_default();
        let _ = std::fs::remove_file(&path);
        if st != 0 {
            return Ok(1);
        }
        let mut last = 0;
        for line in edited.lines() {
            io.err(format!("{line}\n").as_bytes());
            if self.history_on() {
                self.hist_add(line.to_string());
            }
            last = self.run_string_flow(line, io)?;
        }
        Ok(last)
    }
}

const HISTORY_USAGE: &str =
    "history: usage: history [-c] [-d offset] [n] or history -anrw [filename] or history -ps arg [arg...]\n";
const FC_USAGE: &str =
    "fc: usage: fc [-e ename] [-lnr] [first] [last] or fc -s [pat=rep] [command]\n";

/// HISTIGNORE's patterns: colon-separated, `\\:` a literal colon.
fn split_colons(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                if let Some(n) = it.next() {
                    if n != ':' {
                        cur.push('\\');
                    }
                    cur.push(n);
                }
            }
            ':' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// An I/O error as bash words it (strerror text without Rust's "(os error N)").
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_commands_join_as_bash_cmdhist() {
        assert_eq!(delimiter("for i in 1 2; do"), " ");
        assert_eq!(delimiter("  echo $i"), "; ");
        assert_eq!(delimiter("echo \"a"), "\n");
        assert_eq!(delimiter("a |"), " ");
    }

    #[test]
    fn histignore_patterns_split_at_unescaped_colons() {
        assert_eq!(split_colons("a*:b\\:c:"), vec!["a*", "b:c", ""]);
    }
}
