//! Word expansion: brace, tilde, parameter, command substitution, arithmetic, field splitting
//! with IFS, pathname expansion and quote removal. Words come in as the parser's raw text and
//! leave as fields (argv), a single string (assignments, case words) or a pattern.

use crate::io::Stream;
use crate::pattern;
use crate::quote::{quote, quote_q};
use crate::state::{Declared, Flow, Shell, R};
use brush_parser::word::{
    self, Parameter as P, ParameterExpr as PE, ParameterTestType, ParameterTransformOp as TO,
    SpecialParameter as SP, SubstringMatchKind, TildeExpr, WordPiece as WP, WordPieceWithSource,
};
use std::rc::Rc;

mod param;
mod transform;

/// A piece of expanded text on its way to becoming fields.
pub enum Part {
    /// Text; `quoted` is literal for globbing and never split; `split` is an unquoted
    /// expansion result subject to IFS.
    Text {
        s: String,
        quoted: bool,
        split: bool,
    },
    /// A field boundary (between the elements of `"$@"`); `join` joins the elements where
    /// no splitting happens (a space, or IFS's first character for `$*`). `unquoted`: between
    /// the elements of an unquoted `$@`/`$*`, which bash splits as if joined by IFS's first
    /// character (so with `IFS=x` an empty element is still a field).
    Break { join: String, unquoted: bool },
}

fn opts() -> brush_parser::ParserOptions {
    brush_parser::ParserOptions::default()
}

/// The value of a parameter before an operator applies.
enum PV {
    Unset,
    Str(String),
    /// Elements, and whether they join into one (`[*]`, `$*`).
    List(Vec<String>, bool),
}

impl Shell {
    pub fn parse_word(&mut self, w: &str) -> R<Rc<Vec<WordPieceWithSource>>> {
        if let Some(p) = self.caches.borrow().words.get(w) {
            return Ok(p.clone());
        }
        match word::parse(&bang_unbraced(w), &opts()) {
            Ok(p) => {
                let p = Rc::new(p);
                self.caches
                    .borrow_mut()
                    .words
                    .insert(w.to_string(), p.clone());
                Ok(p)
            }
            Err(_) => {
                self.error(&format!("{w}: bad substitution"));
                Err(Flow::Abort(1))
            }
        }
    }

    /// An error message on the current command's stderr.
    pub fn error(&self, msg: &str) {
        self.fds
            .cur_io
            .err(format!("{}{}\n", self.err_prefix(), msg).as_bytes());
    }

    /// Full expansion into fields.
    pub fn expand_fields(&mut self, w: &str) -> R<Vec<String>> {
        let mut out = Vec::new();
        if w.contains('{') && !self.opts_braceoff() {
            if let Ok(Some(b)) = word::parse_brace_expansions(w, &opts()) {
                let pads = seq_pads(w);
                let words = brace_words(&b, &mut pads.iter());
                if words.len() != 1 || words[0] != w {
                    for bw in words {
                        // An empty alternative (`{a,,b}`) leaves no word.
                        if bw.is_empty() {
                            continue;
                        }
                        self.expand_one(&bw, &mut out)?;
                    }
                    return Ok(out);
                }
            }
        }
        self.expand_one(w, &mut out)?;
        Ok(out)
    }

    /// Whether the locale variables select the C/POSIX locale, where bash
    /// counts a string's length in bytes rather than characters.
    fn byte_locale(&mut self) -> bool {
        let pick = ["LC_ALL", "LC_CTYPE", "LANG"]
            .into_iter()
            .filter_map(|n| self.get(n))
            .find(|v| !v.is_empty());
        match pick {
            None => true,
            Some(v) => v == "C" || v == "POSIX",
        }
    }

    fn opts_braceoff(&self) -> bool {
        self.opts.no_braceexpand
    }

    fn expand_one(&mut self, w: &str, out: &mut Vec<String>) -> R<()> {
        // Fast path: plain literal word.
        if !w.contains(['$', '`', '\'', '"', '\\', '~', '*', '?', '[', '(']) {
            out.push(w.to_string());
            return Ok(());
        }
        let pieces = self.parse_word(w)?;
        let mut parts = Vec::new();
        self.expand_pieces(&pieces, false, &mut parts)?;
        let fields = self.split_fields(parts);
        for (lit, pat, glob) in fields {
            let glob = glob || (self.opts.extglob && pattern::has_extglob(&pat));
            if glob && !self.opts.noglob {
                let ignore = self.get("GLOBIGNORE").filter(|g| !g.is_empty());
                let mut m = pattern::glob(
                    &pat,
                    &self.cwd,
                    pattern::GlobOpts {
                        globstar: self.opts.globstar,
                        extglob: self.opts.extglob,
                        dotglob: self.opts.dotglob || ignore.is_some(),
                        nocase: self.opts.nocaseglob,
                    },
                );
                if let Some(ig) = ignore {
                    let pats: Vec<String> = ig.split(':').map(|p| p.to_string()).collect();
                    m.retain(|f| !pats.iter().any(|p| self.pattern_match(f, p)));
                }
                if !m.is_empty() {
                    out.extend(m);
                    continue;
                }
                if self.opts.failglob {
                    self.error(&format!("no match: {lit}"));
                    return Err(Flow::Abort(1));
                }
                if self.opts.nullglob {
                    continue;
                }
            }
            out.push(lit);
        }
        Ok(())
    }

    /// Expansion without splitting or globbing (assignment values, case words, redirections).
    pub fn expand_string(&mut self, w: &str) -> R<String> {
        if !w.contains(['$', '`', '\'', '"', '\\', '~']) {
            return Ok(w.to_string());
        }
        let pieces = self.parse_word(w)?;
        let mut parts = Vec::new();
        self.expand_pieces(&pieces, false, &mut parts)?;
        Ok(join_parts(parts))
    }

    /// Expansion of a here-document body.
    pub fn expand_heredoc(&mut self, body: &str) -> R<String> {
        let pieces = match word::parse_heredoc(body, &opts()) {
            Ok(p) => p,
            Err(_) => return Ok(body.to_string()),
        };
        let mut parts = Vec::new();
        self.expand_pieces(&pieces, true, &mut parts)?;
        Ok(join_parts(parts))
    }

    /// Expansion into a pattern: quoted characters are escaped.
    pub fn expand_pattern(&mut self, w: &str) -> R<String> {
        let pieces = self.parse_word(w)?;
        let mut parts = Vec::new();
        self.expand_pieces(&pieces, false, &mut parts)?;
        let mut out = String::new();
        for p in parts {
            match p {
                Part::Text {
                    s, quoted: true, ..
                } => pattern::escape(&s, &mut out),
                Part::Text { s, .. } => out.push_str(&s),
                Part::Break { join, .. } => out.push_str(&join),
            }
        }
        Ok(out)
    }

    fn split_fields(&self, parts: Vec<Part>) -> Vec<(String, String, bool)> {
        let ifs = self.get_ifs();
        let mut fields = Vec::new();
        let mut lit = String::new();
        let mut pat = String::new();
        let mut glob = false;
        let mut started = false;
        let mut ended_by_ws = false;
        macro_rules! push {
            () => {{
                // A bracket expression may span parts (`x[\[_]`): the whole pattern decides.
                let g = glob || pattern::has_glob(&pat);
                fields.push((std::mem::take(&mut lit), std::mem::take(&mut pat), g));
                #[allow(unused_assignments)]
                {
                    glob = false;
                    started = false;
                }
            }};
        }
        for p in parts {
            match p {
                Part::Break { unquoted, .. } => {
                    if unquoted && ifs.chars().next().is_some_and(|c| !" \t\n".contains(c)) {
                        // A non-blank delimiter: it ends a field even an empty one.
                        if started || !ended_by_ws {
                            push!();
                        }
                    } else if started {
                        push!();
                    }
                    ended_by_ws = false;
                }
                Part::Text {
                    s, quoted: true, ..
                } => {
                    lit.push_str(&s);
                    pattern::escape(&s, &mut pat);
                    started = true;
                    ended_by_ws = false;
                }
                Part::Text {
                    s,
                    quoted: false,
                    split,
                } => {
                    if !split || ifs.is_empty() {
                        if !s.is_empty() {
                            if pattern::has_glob(&s) {
                                glob = true;
                            }
                            lit.push_str(&s);
                            pat.push_str(&s);
                            started = true;
                            ended_by_ws = false;
                        }
                        continue;
                    }
                    for c in s.chars() {
                        if ifs.contains(c) {
                            if c == ' ' || c == '\t' || c == '\n' {
                                if started {
                                    push!();
                                    ended_by_ws = true;
                                }
                            } else {
                                if started || !ended_by_ws {
                                    push!();
                                }
                                ended_by_ws = false;
                            }
                        } else {
                            lit.push(c);
                            if matches!(c, '*' | '?' | '[') {
                                glob = true;
                                pat.push(c);
                            } else if c == '\\' {
                                // A backslash an expansion produced quotes the next character
                                // in the pattern, as in bash 5.2 (it matches no backslash).
                                pat.push('\\');
                            } else {
                                pat.push(c);
                            }
                            started = true;
                            ended_by_ws = false;
                        }
                    }
                }
            }
        }
        if started {
            push!();
        }
        fields
    }

    pub fn get_ifs(&self) -> String {
        match self.lookup("IFS") {
            Some(v) => match &v.value {
                Some(crate::state::Value::Str(s)) => s.clone(),
                None => " \t\n".into(),
                _ => " \t\n".into(),
            },
            None => " \t\n".into(),
        }
    }

    fn ifs_first(&self) -> String {
        match self.lookup("IFS").and_then(|v| v.value.as_ref()) {
            Some(crate::state::Value::Str(s)) => {
                s.chars().next().map(|c| c.to_string()).unwrap_or_default()
            }
            _ => " ".into(),
        }
    }

    pub fn expand_pieces(
        &mut self,
        pieces: &[WordPieceWithSource],
        in_dq: bool,
        out: &mut Vec<Part>,
    ) -> R<()> {
        self.check_bad_substitution(pieces, in_dq)?;
        for p in pieces {
            self.expand_piece(&p.piece, in_dq, out)?;
        }
        Ok(())
    }

    /// The parser leaves a `${` it could not read as literal text: bash's "bad substitution".
    /// Inside double quotes bash shows the quoted text up to the bad brace.
    fn check_bad_substitution(&self, pieces: &[WordPieceWithSource], in_dq: bool) -> R<()> {
        // Without a `$` in any literal text there is no `${` to find (the common case).
        if !pieces
            .iter()
            .any(|p| matches!(&p.piece, WP::Text(t) if t.contains('$')))
        {
            return Ok(());
        }
        let mut run = String::new();
        for p in pieces.iter().map(|p| Some(&p.piece)).chain([None]) {
            if let Some(WP::Text(t)) = p {
                run.push_str(t);
                continue;
            }
            // A `${` left in literal text is what the parser could not take as an expansion.
            if let Some(start) = run.find("${") {
                let rest = &run[start..];
                let mut depth = 0usize;
                let mut end = rest.len();
                for (i, c) in rest.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                end = i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let shown = if in_dq {
                    &run[..start + end]
                } else {
                    &rest[..end]
                };
                self.error(&format!("{shown}: bad substitution"));
                // Under `set -e` the expansion error ends the shell.
                return Err(if self.opts.errexit {
                    Flow::Exit(1)
                } else {
                    Flow::Abort(1)
                });
            }
            run.clear();
        }
        Ok(())
    }

    fn text(out: &mut Vec<Part>, s: String, quoted: bool, split: bool) {
        out.push(Part::Text { s, quoted, split });
    }

    fn expand_piece(&mut self, piece: &WP, in_dq: bool, out: &mut Vec<Part>) -> R<()> {
        match piece {
            WP::Text(s) => {
                if in_dq {
                    Self::text(out, s.clone(), true, false)
                } else {
                    Self::text(out, s.clone(), false, false)
                }
            }
            // Inside double quotes (a `${v:+'x'}` operand), single quotes are
            // literal characters and what they enclose is still expanded.
            WP::SingleQuotedText(s) if in_dq => {
                let inner = self.expand_string_dq(s)?;
                Self::text(out, format!("'{inner}'"), true, false)
            }
            WP::SingleQuotedText(s) => Self::text(out, s.clone(), true, false),
            WP::AnsiCQuotedText(s) => Self::text(out, ansi_c(s), true, false),
            WP::EscapeSequence(s) => {
                let c = s.strip_prefix('\\').unwrap_or(s);
                if in_dq {
                    if matches!(c, "$" | "`" | "\"" | "\\") {
                        Self::text(out, c.to_string(), true, false)
                    } else if c == "\n" {
                    } else {
                        Self::text(out, s.clone(), true, false)
                    }
                } else if c == "\n" {
                } else {
                    Self::text(out, c.to_string(), true, false)
                }
            }
            WP::DoubleQuotedSequence(inner) | WP::GettextDoubleQuotedSequence(inner) => {
                let only_at = inner.len() == 1 && is_at_expansion(&inner[0].piece);
                if !only_at {
                    Self::text(out, String::new(), true, false);
                }
                self.check_bad_substitution(inner, true)?;
                for p in inner {
                    self.expand_piece(&p.piece, true, out)?;
                }
            }
            // A tilde inside double quotes (the word of `"${x:-~}"`) is literal.
            WP::TildeExpansion(t) if in_dq => {
                let s = match t {
                    TildeExpr::Home => "~".to_string(),
                    TildeExpr::UserHome(u) => format!("~{u}"),
                    TildeExpr::WorkingDir => "~+".to_string(),
                    TildeExpr::OldWorkingDir => "~-".to_string(),
                    TildeExpr::NthDirFromTopOfDirStack { n, plus_used } => {
                        format!("~{}{n}", if *plus_used { "+" } else { "" })
                    }
                    TildeExpr::NthDirFromBottomOfDirStack { n } => format!("~-{n}"),
                };
                Self::text(out, s, true, false)
            }
            WP::TildeExpansion(t) => {
                let literal = match t {
                    TildeExpr::Home => "~".to_string(),
                    TildeExpr::UserHome(u) => format!("~{u}"),
                    TildeExpr::WorkingDir => "~+".into(),
                    TildeExpr::OldWorkingDir => "~-".into(),
                    TildeExpr::NthDirFromTopOfDirStack { n, plus_used } => {
                        format!("~{}{n}", if *plus_used { "+" } else { "" })
                    }
                    TildeExpr::NthDirFromBottomOfDirStack { n } => format!("~-{n}"),
                };
                // Quoted (`"${v:-~}"`), a tilde is just text.
                if in_dq {
                    Self::text(out, literal, true, false);
                    return Ok(());
                }
                // The directory stack as `dirs` lists it: the current directory first.
                let mut stack = vec![self.cwd.display().to_string()];
                stack.extend(
                    self.builtins
                        .dirstack
                        .iter()
                        .rev()
                        .map(|d| d.display().to_string()),
                );
                let s = match t {
                    TildeExpr::NthDirFromTopOfDirStack { n, .. } => {
                        stack.get(*n).cloned().unwrap_or(literal)
                    }
                    TildeExpr::NthDirFromBottomOfDirStack { n } => stack
                        .len()
                        .checked_sub(n + 1)
                        .and_then(|i| stack.get(i).cloned())
                        .unwrap_or(literal),
                    TildeExpr::Home => self.get("HOME").unwrap_or_default(),
                    TildeExpr::UserHome(u) => home_of(u).unwrap_or_else(|| format!("~{u}")),
                    TildeExpr::WorkingDir => self.get("PWD").unwrap_or_default(),
                    TildeExpr::OldWorkingDir => self.get("OLDPWD").unwrap_or_else(|| "~-".into()),
                };
                Self::text(out, s, true, false)
            }
            WP::CommandSubstitution(cmd) | WP::BackquotedCommandSubstitution(cmd) => {
                let cmd = if matches!(piece, WP::BackquotedCommandSubstitution(_)) {
                    unescape_backquote(cmd, in_dq)
                } else {
                    cmd.clone()
                };
                let s = self.command_subst(&cmd)?;
                Self::text(out, s, in_dq, !in_dq)
            }
            WP::ArithmeticExpression(e) => {
                let s = self.expand_arith(&e.value)?;
                let v = self.arith_str(&s)?;
                Self::text(out, v.to_string(), in_dq, !in_dq)
            }
            WP::ParameterExpansion(pe) => self.expand_param(pe, in_dq, out)?,
        }
        Ok(())
    }

    /// Expands text as if inside double quotes (arithmetic, `[...]` indices).
    /// The key of `name[idx]` given as text to a builtin (`unset 'a[$k]'`, `printf -v`,
    /// `test -v`), expanded as bash does: an associative key as a word (quotes removed), an
    /// index as arithmetic.
    pub(crate) fn subscript_text_key(&mut self, name: &str, idx: &str) -> R<crate::state::ElemKey> {
        if self.is_assoc(name) {
            return Ok(crate::state::ElemKey::Str(self.expand_string(idx)?));
        }
        let e = self.expand_arith(idx)?;
        Ok(crate::state::ElemKey::Idx(self.arith_str(&e)?))
    }

    /// An arithmetic expression's text expanded as bash does: as in double quotes, with
    /// the double quotes written in it removed (`$(( "1" + 2 ))` is 3; single quotes stay
    /// and are an error).
    pub fn expand_arith(&mut self, s: &str) -> R<String> {
        self.expand_string_dq(&strip_arith_quotes(s))
    }

    pub fn expand_string_dq(&mut self, s: &str) -> R<String> {
        if !s.contains(['$', '`', '\\', '\'', '"']) {
            return Ok(s.to_string());
        }
        let pieces = match word::parse_heredoc(s, &opts()) {
            Ok(p) => p,
            Err(_) => return Ok(s.to_string()),
        };
        let mut parts = Vec::new();
        self.expand_pieces(&pieces, true, &mut parts)?;
        Ok(join_parts(parts))
    }

    pub fn command_subst(&mut self, cmd: &str) -> R<String> {
        let t = cmd.trim();
        // `$(<file)` reads the file.
        if t.starts_with('<')
            && !t.starts_with("<<")
            && !t[1..].contains(['\n', ';', '|', '&', '<', '>'])
        {
            let name = self.expand_string(t[1..].trim())?;
            self.status.cmdsub_ran = true;
            return match std::fs::read(self.cwd.join(&name)) {
                Ok(mut b) => {
                    self.status.last_status = 0;
                    if b.contains(&0) {
                        b.retain(|c| *c != 0);
                        self.error("warning: command substitution: ignored null byte in input");
                    }
                    let mut s = String::from_utf8_lossy(&b).into_owned();
                    while s.ends_with('\n') {
                        s.pop();
                    }
                    Ok(s)
                }
                Err(_) => {
                    self.error(&format!("{name}: No such file or directory"));
                    self.status.last_status = 1;
                    Ok(String::new())
                }
            };
        }
        let buf = Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut sub = self.clone();
        sub.process.subshell += 1;
        sub.trace_subshell();
        sub.calls.xdepth += 1;
        // Without inherit_errexit, command substitution does not inherit `set -e`.
        sub.opts.errexit = self.opts.errexit && self.opts.inherit_errexit;
        let mut io = self.fds.cur_io.clone();
        io.base = false;
        io.set(1, Some(Stream::Buf(buf.clone())));
        sub.lines.line_offset = self.lines.lineno.saturating_sub(1);
        let status = sub.run_string_in(cmd, &io, true);
        self.status.last_status = status;
        self.status.cmdsub_ran = true;
        let mut bytes = std::mem::take(&mut *buf.borrow_mut());
        if bytes.contains(&0) {
            bytes.retain(|b| *b != 0);
            self.error("warning: command substitution: ignored null byte in input");
        }
        let mut s = String::from_utf8_lossy(&bytes).into_owned();
        while s.ends_with('\n') {
            s.pop();
        }
        Ok(s)
    }

    fn param_value(&mut self, p: &P, indirect: bool) -> R<PV> {
        if indirect {
            if let P::Named(n) = p {
                if let Some(v) = self.lookup(n) {
                    if v.nameref {
                        if let Some(crate::state::Value::Str(t)) = &v.value {
                            // The name at the end of the chain of references.
                            let end = self.resolve(t).into_owned();
                            return Ok(PV::Str(if end.starts_with('\u{0}') {
                                t.clone()
                            } else {
                                end
                            }));
                        }
                    }
                }
            }
            let target = match self.param_value(p, false)? {
                PV::Str(s) => s,
                // `${!a[@]-word}` with `a` empty names nothing.
                PV::List(l, _) if l.is_empty() => return Ok(PV::Unset),
                PV::List(l, _) => l.join(" "),
                PV::Unset => {
                    return Ok(PV::Unset);
                }
            };
            let parsed = match word::parse_parameter(&target, &opts()) {
                Ok(pp) => pp,
                Err(_) => {
                    self.error(&format!("{target}: invalid indirect expansion"));
                    return Err(Flow::Abort(1));
                }
            };
            return self.param_value(&parsed, false);
        }
        Ok(match p {
            P::Positional(0) => PV::Str(self.arg0.clone()),
            P::Positional(n) => match self.positional.get(*n as usize - 1) {
                Some(s) => PV::Str(s.clone()),
                None => PV::Unset,
            },
            P::Special(sp) => match sp {
                SP::AllPositionalParameters { concatenate } => {
                    PV::List(self.positional.clone(), *concatenate)
                }
                SP::PositionalParameterCount => PV::Str(self.positional.len().to_string()),
                SP::LastExitStatus => PV::Str(self.status.last_status.to_string()),
                SP::CurrentOptionFlags => PV::Str(self.option_flags()),
                SP::ProcessId => PV::Str(self.process.pid.to_string()),
                SP::LastBackgroundProcessId => match self.jobs.last_pid {
                    Some(p) => PV::Str(p.to_string()),
                    None => PV::Unset,
                },
                SP::ShellName => PV::Str(self.arg0.clone()),
            },
            P::Named(n) => match self.get(n) {
                Some(s) => PV::Str(s),
                None => {
                    // An array without element 0 has no scalar value.
                    let arr = self.lookup(&self.resolve(n)).is_some_and(|v| {
                        matches!(
                            v.value,
                            Some(crate::state::Value::Arr(_) | crate::state::Value::Assoc(_))
                        )
                    });
                    if !self.is_set(n) || arr {
                        PV::Unset
                    } else {
                        PV::Str(String::new())
                    }
                }
            },
            P::NamedWithIndex { name, index } => {
                if self.is_assoc(name) {
                    let key = self.expand_string(index)?;
                    match self
                        .get_array(name)
                        .and_then(|a| a.into_iter().find(|(k, _)| *k == key).map(|(_, v)| v))
                    {
                        Some(v) => PV::Str(v),
                        None => PV::Unset,
                    }
                } else {
                    let e = self.expand_arith(index)?;
                    let i = self.arith_str(&e)?;
                    match self.index_get(name, i) {
                        Some(v) => PV::Str(v),
                        None => PV::Unset,
                    }
                }
            }
            P::NamedWithAllIndices { name, concatenate } => match self.get_array(name) {
                Some(a) => PV::List(a.into_iter().map(|(_, v)| v).collect(), *concatenate),
                None => PV::List(Vec::new(), *concatenate),
            },
        })
    }

    fn param_name(p: &P) -> String {
        match p {
            P::Positional(n) => n.to_string(),
            P::Special(SP::AllPositionalParameters { concatenate: false }) => "@".into(),
            P::Special(SP::AllPositionalParameters { concatenate: true }) => "*".into(),
            P::Special(_) => "?".into(),
            P::Named(n) => n.clone(),
            P::NamedWithIndex { name, index } => format!("{name}[{index}]"),
            P::NamedWithAllIndices { name, concatenate } => {
                format!("{name}[{}]", if *concatenate { "*" } else { "@" })
            }
        }
    }

    fn check_unset(&mut self, p: &P, v: &PV) -> R<()> {
        if matches!(p, P::Named(n) if self.names_element(n)) {
            return Ok(());
        }
        if self.opts.nounset && matches!(v, PV::Unset) {
            let name = match p {
                P::Positional(n) => format!("${n}"),
                P::Special(SP::LastBackgroundProcessId) => "$!".into(),
                _ => Self::param_name(p),
            };
            if name == "@" || name == "*" {
                return Ok(());
            }
            self.error(&format!("{name}: unbound variable"));
            return Err(Flow::Exit(self.messages.fatal_status));
        }
        Ok(())
    }

    /// Emits a value into parts, honouring quoting and `$@`-style lists.
    fn emit(&self, v: PV, in_dq: bool, out: &mut Vec<Part>) {
        match v {
            PV::Unset => {}
            PV::Str(s) => Self::text(out, s, in_dq, !in_dq),
            PV::List(l, concat) => {
                if concat && in_dq {
                    Self::text(out, l.join(&self.ifs_first()), true, false);
                } else {
                    let join = if concat {
                        self.ifs_first()
                    } else {
                        " ".to_string()
                    };
                    for (i, s) in l.into_iter().enumerate() {
                        if i > 0 {
                            out.push(Part::Break {
                                join: join.clone(),
                                unquoted: !in_dq,
                            });
                        }
                        Self::text(out, s, in_dq, !in_dq);
                    }
                }
            }
        }
    }

    fn expand_word_parts(&mut self, w: &Option<String>, in_dq: bool, out: &mut Vec<Part>) -> R<()> {
        if let Some(w) = w {
            let pieces = self.parse_word(w)?;
            let pieces = if in_dq {
                nested_dq_unescaped(&pieces).map_or(pieces, Rc::new)
            } else {
                pieces
            };
            // Inside double quotes `\}` in the operand is a plain `}`.
            let pieces = if in_dq
                && pieces
                    .iter()
                    .any(|p| matches!(&p.piece, WP::EscapeSequence(e) if e == "\\}"))
            {
                Rc::new(
                    pieces
                        .iter()
                        .map(|p| match &p.piece {
                            WP::EscapeSequence(e) if e == "\\}" => WordPieceWithSource {
                                piece: WP::Text("}".into()),
                                ..p.clone()
                            },
                            _ => p.clone(),
                        })
                        .collect(),
                )
            } else {
                pieces
            };
            let mut inner = Vec::new();
            self.expand_pieces(&pieces, in_dq, &mut inner)?;
            for p in inner {
                match p {
                    Part::Text { s, .. } if in_dq => Self::text(out, s, true, false),
                    // An unquoted operand's text is an expansion result: it is split too.
                    Part::Text {
                        s, quoted: false, ..
                    } => Self::text(out, s, false, true),
                    other => out.push(other),
                }
            }
        }
        Ok(())
    }

    fn word_str(&mut self, w: &Option<String>) -> R<String> {
        match w {
            Some(w) => self.expand_string(w),
            None => Ok(String::new()),
        }
    }

    fn pat_str(&mut self, w: &Option<String>) -> R<String> {
        match w {
            Some(w) => self.expand_pattern(w),
            None => Ok(String::new()),
        }
    }

    /// Whether `${x:-...}` and friends take the alternative. With the colon a
    /// list is null when its elements joined are: `[*]`/`$*` join with IFS's
    /// first character inside double quotes, otherwise (and `[@]`/`$@`) with a
    /// space.
    fn is_null(&mut self, v: &PV, test: &ParameterTestType, in_dq: bool) -> bool {
        match v {
            PV::Unset => true,
            PV::Str(s) => matches!(test, ParameterTestType::UnsetOrNull) && s.is_empty(),
            PV::List(l, star) => {
                if l.is_empty() {
                    return true;
                }
                if !matches!(test, ParameterTestType::UnsetOrNull) {
                    return false;
                }
                let sep = if *star && in_dq {
                    match self.get("IFS") {
                        Some(ifs) => ifs.chars().next().map(String::from).unwrap_or_default(),
                        None => " ".to_string(),
                    }
                } else {
                    " ".to_string()
                };
                l.iter().all(|e| e.is_empty()) && (l.len() == 1 || sep.is_empty())
            }
        }
    }

    fn map_pv(v: PV, mut f: impl FnMut(&str) -> String) -> PV {
        match v {
            PV::Unset => PV::Unset,
            PV::Str(s) => PV::Str(f(&s)),
            PV::List(l, c) => PV::List(l.iter().map(|s| f(s)).collect(), c),
        }
    }

    fn compile_pattern(&mut self, pat: &str, anchored: bool) -> Option<Rc<regex::Regex>> {
        // The same text compiles differently with and without extglob.
        let key = if self.opts.extglob {
            (pat.to_string(), anchored)
        } else {
            (format!("\u{0}{pat}"), anchored)
        };
        if let Some(r) = self.caches.borrow().patterns.get(&key) {
            return r.clone();
        }
        let body = pattern::to_regex(pat, self.opts.extglob);
        let src = if anchored {
            format!("^(?:{body})$")
        } else {
            body
        };
        let r = regex::RegexBuilder::new(&src)
            .case_insensitive(self.opts.nocasematch)
            .build()
            .ok()
            .map(Rc::new);
        self.caches.borrow_mut().patterns.insert(key, r.clone());
        r
    }

    /// Does `s` match the shell pattern `pat` entirely?
    pub fn pattern_match(&mut self, s: &str, pat: &str) -> bool {
        if !pattern::has_glob(pat) && !pat.contains(['(', '|']) {
            let lit = pattern::unescape(pat);
            return if self.opts.nocasematch {
                lit.eq_ignore_ascii_case(s)
            } else {
                lit == s
            };
        }
        if self.opts.extglob {
            if let Some((pre, alts, post)) = pattern::split_negation(pat) {
                return self.negation_match(s, &pre, &alts, &post);
            }
        }
        match self.compile_pattern(pat, true) {
            Some(r) => r.is_match(s),
            None => false,
        }
    }

    /// `pre!(alts)post`: some split of `s` has a head matching `pre`, a middle
    /// matching none of `alts`, and a tail matching `post`. A regex cannot
    /// say "does not match", so the splits are tried one by one.
    fn negation_match(&mut self, s: &str, pre: &str, alts: &str, post: &str) -> bool {
        let idx: Vec<usize> = s
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .collect();
        let inner = format!("@({alts})");
        for (a, &i) in idx.iter().enumerate() {
            if !self.pattern_match(&s[..i], pre) {
                continue;
            }
            for &j in &idx[a..] {
                if !self.pattern_match(&s[i..j], &inner) && self.pattern_match(&s[j..], post) {
                    return true;
                }
            }
        }
        false
    }

    fn remove_affix(&mut self, s: &str, pat: &str, prefix: bool, longest: bool) -> String {
        let Some(re) = self.compile_pattern(pat, true) else {
            return s.to_string();
        };
        let idx: Vec<usize> = s
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .collect();
        if prefix {
            let it: Box<dyn Iterator<Item = &usize>> = if longest {
                Box::new(idx.iter().rev())
            } else {
                Box::new(idx.iter())
            };
            for &i in it {
                if re.is_match(&s[..i]) {
                    return s[i..].to_string();
                }
            }
        } else {
            let it: Box<dyn Iterator<Item = &usize>> = if longest {
                Box::new(idx.iter())
            } else {
                Box::new(idx.iter().rev())
            };
            for &i in it {
                if re.is_match(&s[i..]) {
                    return s[..i].to_string();
                }
            }
        }
        s.to_string()
    }

    fn replace(&mut self, s: &str, pat: &str, rep: &str, kind: &SubstringMatchKind) -> String {
        let Some(re) = self.compile_pattern(pat, true) else {
            return s.to_string();
        };
        let idx: Vec<usize> = s
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .collect();
        match kind {
            SubstringMatchKind::Prefix => {
                for &i in idx.iter().rev() {
                    if re.is_match(&s[..i]) {
                        return format!("{}{}", fill_amp(rep, &s[..i]), &s[i..]);
                    }
                }
                s.to_string()
            }
            SubstringMatchKind::Suffix => {
                for &i in idx.iter() {
                    if re.is_match(&s[i..]) {
                        return format!("{}{}", &s[..i], fill_amp(rep, &s[i..]));
                    }
                }
                s.to_string()
            }
            // An empty pattern matches nowhere for `/` and `//` (bash leaves
            // the value alone), and looping on empty matches would never end.
            SubstringMatchKind::FirstOccurrence | SubstringMatchKind::Anywhere
                if pat.is_empty() =>
            {
                s.to_string()
            }
            SubstringMatchKind::FirstOccurrence | SubstringMatchKind::Anywhere => {
                let all = matches!(kind, SubstringMatchKind::Anywhere);
                let mut out = String::new();
                let mut a = 0;
                let mut replaced = false;
                while a < idx.len() {
                    let start = idx[a];
                    if replaced && !all {
                        out.push_str(&s[start..]);
                        return out;
                    }
                    let mut matched = None;
                    for b in (a..idx.len()).rev() {
                        if re.is_match(&s[start..idx[b]]) {
                            matched = Some(b);
                            break;
                        }
                    }
                    match matched {
                        Some(b) if b > a => {
                            out.push_str(&fill_amp(rep, &s[start..idx[b]]));
                            replaced = true;
                            a = b;
                        }
                        _ => {
                            if a + 1 < idx.len() {
                                out.push_str(&s[start..idx[a + 1]]);
                            }
                            a += 1;
                        }
                    }
                }
                out
            }
        }
    }

    /// `${v^^pat}` and friends: change the case of the (first) characters matching `pat`.
    fn case_map(&mut self, s: &str, upper: bool, all: bool, pat: Option<&str>) -> String {
        let mut out = String::with_capacity(s.len());
        for (i, c) in s.chars().enumerate() {
            let eligible = (all || i == 0)
                && pat.is_none_or(|p| {
                    let mut b = [0u8; 4];
                    self.pattern_match(c.encode_utf8(&mut b), p)
                });
            if eligible {
                if upper {
                    out.extend(c.to_uppercase());
                } else {
                    out.extend(c.to_lowercase());
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    pub fn attr_flags(&self, name: &str) -> String {
        let Some(v) = self.lookup(name) else {
            return String::new();
        };
        let mut f = String::new();
        match &v.value {
            Some(crate::state::Value::Arr(_)) => f.push('a'),
            Some(crate::state::Value::Assoc(_)) => f.push('A'),
            _ => {
                if v.kind == Declared::Indexed {
                    f.push('a')
                } else if v.kind == Declared::Assoc {
                    f.push('A')
                }
            }
        }
        // bash's order: a A i n r t x c l u.
        for (on, c) in [
            (v.integer, 'i'),
            (v.nameref, 'n'),
            (v.readonly, 'r'),
            (v.trace, 't'),
            (v.exported, 'x'),
            (v.capcase, 'c'),
            (v.lower, 'l'),
            (v.upper, 'u'),
        ] {
            if on {
                f.push(c);
            }
        }
        f
    }
}

fn slice_range(n: usize, off: i64, len: Option<i64>) -> Option<(usize, usize)> {
    let n = n as i64;
    let start = if off < 0 { n + off } else { off };
    if start < 0 || start > n {
        return None;
    }
    let end = match len {
        None => n,
        Some(l) if l < 0 => n + l,
        Some(l) => (start + l).min(n),
    };
    if end < start {
        return None;
    }
    Some((start as usize, end as usize))
}

fn is_at_expansion(p: &WP) -> bool {
    match p {
        WP::ParameterExpansion(PE::Parameter {
            parameter,
            indirect: false,
        }) => matches!(
            parameter,
            P::Special(SP::AllPositionalParameters { concatenate: false })
                | P::NamedWithAllIndices {
                    concatenate: false,
                    ..
                }
        ),
        WP::ParameterExpansion(PE::MemberKeys {
            concatenate: false, ..
        }) => true,
        WP::ParameterExpansion(
            PE::ReplaceSubstring { parameter, .. }
            | PE::RemoveLargestPrefixPattern { parameter, .. }
            | PE::RemoveSmallestPrefixPattern { parameter, .. }
            | PE::RemoveLargestSuffixPattern { parameter, .. }
            | PE::RemoveSmallestSuffixPattern { parameter, .. }
            | PE::Substring { parameter, .. },
        ) => matches!(
            parameter,
            P::Special(SP::AllPositionalParameters { concatenate: false })
                | P::NamedWithAllIndices {
                    concatenate: false,
                    ..
                }
        ),
        _ => false,
    }
}

pub fn join_parts(parts: Vec<Part>) -> String {
    let mut s = String::new();
    for p in parts {
        match p {
            Part::Text { s: t, .. } => s.push_str(&t),
            Part::Break { join, .. } => s.push_str(&join),
        }
    }
    s
}

/// In a double-quoted `${v:+word}`, a double-quoted string inside `word` loses the backslash
/// of every `\c` in its literal text (bash removes quotes once more there): `"${v:+"x\xy"}"`
/// is `xxy`. `None` when nothing changes.
fn nested_dq_unescaped(pieces: &[WordPieceWithSource]) -> Option<Vec<WordPieceWithSource>> {
    let affected = |p: &WordPieceWithSource| {
        matches!(&p.piece, WP::DoubleQuotedSequence(inner)
            if inner.iter().any(|q| matches!(&q.piece, WP::Text(t) if t.contains('\\'))))
    };
    if !pieces.iter().any(affected) {
        return None;
    }
    let unescape = |t: &str| {
        let mut o = String::with_capacity(t.len());
        let mut it = t.chars();
        while let Some(c) = it.next() {
            if c == '\\' {
                if let Some(n) = it.next() {
                    o.push(n);
                    continue;
                }
            }
            o.push(c);
        }
        o
    };
    Some(
        pieces
            .iter()
            .map(|p| match &p.piece {
                WP::DoubleQuotedSequence(inner) => WordPieceWithSource {
                    piece: WP::DoubleQuotedSequence(
                        inner
                            .iter()
                            .map(|q| match &q.piece {
                                WP::Text(t) => WordPieceWithSource {
                                    piece: WP::Text(unescape(t)),
                                    ..q.clone()
                                },
                                _ => q.clone(),
                            })
                            .collect(),
                    ),
                    ..p.clone()
                },
                _ => p.clone(),
            })
            .collect(),
    )
}

/// `${!}` written as `$!`: the parser reads `${!` as the start of an indirection.
fn bang_unbraced(w: &str) -> std::borrow::Cow<'_, str> {
    if !w.contains("${!}") {
        return std::borrow::Cow::Borrowed(w);
    }
    let (mut sq, mut dq, mut esc) = (false, false, false);
    let mut out = String::with_capacity(w.len());
    let mut i = 0;
    while i < w.len() {
        let rest = &w[i..];
        let Some(c) = rest.chars().next() else { break };
        if !sq && !esc && rest.starts_with("${!}") {
            out.push_str("$!");
            i += 4;
            continue;
        }
        match c {
            _ if esc => esc = false,
            '\\' if !sq => esc = true,
            '\'' if !dq => sq = !sq,
            '"' if !sq => dq = !dq,
            _ => {}
        }
        out.push(c);
        i += c.len_utf8();
    }
    std::borrow::Cow::Owned(out)
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

pub(crate) fn home_of(user: &str) -> Option<String> {
    let pw = std::fs::read_to_string("/etc/passwd").ok()?;
    for line in pw.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() > 5 && f[0] == user {
            return Some(f[5].to_string());
        }
    }
    None
}

/// The text of a `` `...` `` substitution: a backslash quotes `$`, `` ` `` and `\\`,
/// and inside double quotes also `"`.
fn unescape_backquote(s: &str, in_dq: bool) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(&n) = it.peek() {
                if matches!(n, '$' | '`' | '\\') || (in_dq && n == '"') {
                    out.push(n);
                    it.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

/// Decodes `$'...'` / `echo -e` escapes.
pub fn ansi_c(s: &str) -> String {
    // $'...' knows two escapes printf does not (`\x{HHH}` and `\c?`, and `\c\\`
    // takes an escaped backslash): they are rewritten to octal first.
    let mut pre = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            pre.push(c);
            continue;
        }
        match it.peek().copied() {
            Some('x') => {
                it.next();
                if it.peek() == Some(&'{') {
                    it.next();
                    let mut v: u32 = 0;
                    while let Some(d) = it.peek().and_then(|d| d.to_digit(16)) {
                        v = v.wrapping_mul(16).wrapping_add(d);
                        it.next();
                    }
                    if it.peek() == Some(&'}') {
                        it.next();
                    }
                    pre.push_str(&format!("\\{:03o}", v & 0xff));
                } else {
                    pre.push_str("\\x");
                }
            }
            Some('c') => {
                it.next();
                match it.next() {
                    None => pre.push_str("\\c"),
                    Some(k) => {
                        if k == '\\' && it.peek() == Some(&'\\') {
                            it.next();
                        }
                        let v = if k == '?' { 0x7f } else { (k as u32) & 0x1f };
                        pre.push_str(&format!("\\{v:03o}"));
                    }
                }
            }
            Some(n) => {
                it.next();
                pre.push('\\');
                pre.push(n);
            }
            None => pre.push('\\'),
        }
    }
    let mut out = decode_escapes(&pre, false).0;
    // The result is a C string in bash: a NUL ends it.
    if let Some(i) = out.find('\0') {
        out.truncate(i);
    }
    out
}

/// Decodes backslash escapes; with `echo_mode`, `\c` stops output (second value true) and
/// octal is `\0nnn`.
pub fn decode_escapes(s: &str, echo_mode: bool) -> (String, bool) {
    decode_escapes_with(s, echo_mode, true)
}

/// `echo -e` itself: as `decode_escapes` in echo mode, but octal needs the
/// leading 0 (`\1` stays as written, while printf's `%b` reads it as octal).
pub fn decode_echo_escapes(s: &str) -> (String, bool) {
    decode_escapes_with(s, true, false)
}

fn decode_escapes_with(s: &str, echo_mode: bool, bare_octal: bool) -> (String, bool) {
    let mut out: Vec<u8> = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        i += 1;
        let c = b[i];
        i += 1;
        match c {
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'e' | b'E' => out.push(27),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'\\' => out.push(b'\\'),
            b'\'' if !echo_mode => out.push(b'\''),
            b'"' if !echo_mode => out.push(b'"'),
            b'?' if !echo_mode => out.push(b'?'),
            b'c' if echo_mode => return (String::from_utf8_lossy(&out).into_owned(), true),
            b'c' if !echo_mode && i < b.len() => {
                out.push(b[i] & 0x1f);
                i += 1;
            }
            // echo -e knows octal only as \0nnn: `\1` stays as written.
            b'1'..=b'7' if !bare_octal => {
                out.push(b'\\');
                out.push(c);
            }
            b'0'..=b'7' => {
                // printf/$'..': \nnn (1-3 digits); echo -e: \0nnn (0-3 digits after the 0).
                let (mut v, max) = if echo_mode && c == b'0' {
                    (0u32, 3)
                } else {
                    ((c - b'0') as u32, 2)
                };
                let mut n = 0;
                while n < max && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + (b[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 2 && i < b.len() && b[i].is_ascii_hexdigit() {
                    v = v * 16 + (b[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    out.extend_from_slice(b"\\x");
                } else {
                    out.push(v as u8);
                }
            }
            b'u' | b'U' => {
                let max = if c == b'u' { 4 } else { 8 };
                let mut v: u32 = 0;
                let mut n = 0;
                while n < max && i < b.len() && b[i].is_ascii_hexdigit() {
                    v = v * 16 + (b[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    out.push(b'\\');
                    out.push(c);
                } else if let Some(ch) = char::from_u32(v) {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), false)
}

/// The words a brace expression produces.
/// Marks each unquoted `&` of a replacement's source (bash's
/// `patsub_replacement`) with a private-use character that survives expansion;
/// an escaped `\&` becomes a second marker that stands for a literal `&`.
fn mark_ampersands(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let (mut sq, mut dq) = (false, false);
    let mut it = src.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' if !sq => match it.next() {
                Some('&') if !dq => out.push(AMP_LIT),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            '\'' if !dq => {
                sq = !sq;
                out.push(c);
            }
            '"' if !sq => {
                dq = !dq;
                out.push(c);
            }
            '&' if !sq && !dq => out.push(AMP_MATCH),
            _ => out.push(c),
        }
    }
    out
}

const AMP_MATCH: char = '\u{E000}';
const AMP_LIT: char = '\u{E001}';

/// The replacement text for one match: markers from [`mark_ampersands`]
/// become the matched text or a literal `&`.
fn fill_amp(rep: &str, matched: &str) -> String {
    if !rep.contains([AMP_MATCH, AMP_LIT]) {
        return rep.to_string();
    }
    let mut out = String::new();
    for c in rep.chars() {
        match c {
            AMP_MATCH => out.push_str(matched),
            AMP_LIT => out.push('&'),
            _ => out.push(c),
        }
    }
    out
}

/// The zero-padding width of each `{N..M}` sequence in `w`, in textual order
/// (0 = no padding): the parsed brace expression keeps only the numbers, so
/// bash's rule (a leading zero on either end pads to the longer end) is read
/// from the source text.
fn seq_pads(w: &str) -> Vec<usize> {
    let Ok(re) = regex::Regex::new(r"\{(-?[0-9]+)\.\.(-?[0-9]+)(?:\.\.-?[0-9]+)?\}") else {
        return Vec::new();
    };
    re.captures_iter(w)
        .map(|c| {
            let (a, b) = (&c[1], &c[2]);
            let zero = |s: &str| {
                let d = s.trim_start_matches('-');
                d.len() > 1 && d.starts_with('0')
            };
            if zero(a) || zero(b) {
                a.len().max(b.len())
            } else {
                0
            }
        })
        .collect()
}

fn brace_words(
    items: &[word::BraceExpressionOrText],
    pads: &mut std::slice::Iter<'_, usize>,
) -> Vec<String> {
    let mut acc = vec![String::new()];
    for it in items {
        match it {
            word::BraceExpressionOrText::Text(t) => {
                for a in &mut acc {
                    a.push_str(t);
                }
            }
            word::BraceExpressionOrText::Expr(members) => {
                let mut alts = Vec::new();
                for m in members {
                    match m {
                        word::BraceExpressionMember::NumberSequence {
                            start,
                            end,
                            increment,
                        } => {
                            let inc = increment.unsigned_abs().max(1) as i64;
                            let pad = pads.next().copied().unwrap_or(0);
                            let mut v = *start;
                            let mut n = 0;
                            loop {
                                alts.push(if v < 0 {
                                    format!("-{:0w$}", v.unsigned_abs(), w = pad.saturating_sub(1))
                                } else {
                                    format!("{v:0pad$}")
                                });
                                n += 1;
                                if v == *end || n > 100_000 {
                                    break;
                                }
                                if start <= end {
                                    v += inc;
                                    if v > *end {
                                        break;
                                    }
                                } else {
                                    v -= inc;
                                    if v < *end {
                                        break;
                                    }
                                }
                            }
                        }
                        word::BraceExpressionMember::CharSequence {
                            start,
                            end,
                            increment,
                        } => {
                            let inc = increment.unsigned_abs().max(1) as u32;
                            let (s, e) = (*start as u32, *end as u32);
                            let mut v = s;
                            loop {
                                if let Some(c) = char::from_u32(v) {
                                    alts.push(c.to_string());
                                }
                                if v == e {
                                    break;
                                }
                                if s <= e {
                                    v += inc;
                                    if v > e {
                                        break;
                                    }
                                } else {
                                    if v < inc || v - inc < e {
                                        break;
                                    }
                                    v -= inc;
                                }
                            }
                        }
                        word::BraceExpressionMember::Child(c) => alts.extend(brace_words(c, pads)),
                    }
                }
                let mut next = Vec::new();
                for a in &acc {
                    for alt in &alts {
                        next.push(format!("{a}{alt}"));
                    }
                }
                acc = next;
            }
        }
    }
    acc
}

/// bash takes the first character after `/` or `//` as part of the pattern even
/// when it is a `/` (`${x////c}` replaces every `/` by `c`), while the parser
/// reads that slash as the separator and hands over an empty pattern: move the
/// text back into the pattern, up to the next unquoted `/`.
fn resplit_patsub(
    pattern: &str,
    replacement: &Option<String>,
    kind: &SubstringMatchKind,
) -> (String, Option<String>) {
    let movable = matches!(
        kind,
        SubstringMatchKind::Anywhere | SubstringMatchKind::FirstOccurrence
    );
    let Some(rep) = replacement
        .as_deref()
        .filter(|_| movable && pattern.is_empty())
    else {
        return (pattern.to_string(), replacement.clone());
    };
    let bytes = rep.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(b'"') if c == b'\\' => i += 1,
            Some(_) => {}
            None if c == b'\\' => i += 1,
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if c == b'/' => {
                let pat = format!("/{}", &rep[..i]);
                return (pat, Some(rep[i + 1..].to_string()));
            }
            None => {}
        }
        i += 1;
    }
    (format!("/{rep}"), None)
}

/// `s` without the double quotes that are not inside a substitution or escaped.
fn strip_arith_quotes(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('"') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
                continue;
            }
            '$' if matches!(chars.peek(), Some('(' | '{')) => {
                depth += 1;
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
                continue;
            }
            '(' | '{' if depth > 0 => depth += 1,
            ')' | '}' if depth > 0 => depth -= 1,
            '"' if depth == 0 => continue,
            _ => {}
        }
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}
