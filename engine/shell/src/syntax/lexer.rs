//! The tokenizer. It is driven by the grammar one token at a time, because what a piece of
//! text is depends on where the grammar stands: a `$( )` body is found by parsing it (so a
//! `case` pattern's `)` or a comment's quote does not end it), a here-document body is read
//! when its operator is, and `((` is arithmetic only where a command starts.
//!
//! A word token keeps its text as written (quotes, `$( )` bodies and all) minus line
//! continuations; the word parser reads it again when it is expanded.

use super::{ErrorKind, Parser, SyntaxError};
use brush_parser::SourcePosition;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Word(String),
    /// Digits written right before a redirection operator (`2>`), within `i32`.
    IoNumber(i32),
    Op(&'static str),
    Newline,
    Eof,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: SourcePosition,
    pub end: SourcePosition,
}

impl Token {
    pub fn is_op(&self, op: &str) -> bool {
        matches!(&self.tok, Tok::Op(o) if *o == op)
    }
    pub fn is_word(&self, w: &str) -> bool {
        matches!(&self.tok, Tok::Word(x) if x == w)
    }
    pub fn word(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }
    /// How bash names this token in "syntax error near unexpected token".
    pub fn shown(&self) -> String {
        match &self.tok {
            Tok::Word(w) => w.clone(),
            Tok::IoNumber(n) => n.to_string(),
            Tok::Op(o) => (*o).to_string(),
            Tok::Newline | Tok::Eof => "newline".to_string(),
        }
    }
}

/// Operators, longest first where one is a prefix of another.
const OPERATORS: &[&str] = &[
    ";;&", ";;", ";&", ";", "&&", "&>>", "&>", "&", "||", "|&", "|", "<<<", "<<-", "<<", "<&",
    "<>", "<(", "<", ">>", ">&", ">|", ">(", ">", "(", ")",
];

/// Where a here-document body read ahead ends: when the lexer reaches the newline at `at`,
/// it goes on from `resume` instead.
#[derive(Clone, Copy)]
pub(super) struct HereSkip {
    at: usize,
    resume: usize,
    resume_line: usize,
}

impl HereSkip {
    /// The text from `from` on moved by `by` bytes (an alias was written in before it).
    pub(super) fn shift(&mut self, from: usize, by: isize) {
        for at in [&mut self.at, &mut self.resume] {
            if *at >= from {
                *at = at.saturating_add_signed(by);
            }
        }
    }
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn ends_word(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')'
    )
}

impl Parser {
    pub(super) fn position(&self) -> SourcePosition {
        SourcePosition {
            index: self.pos,
            line: self.line,
            column: self.pos - self.line_start + 1,
        }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.src.as_bytes().get(at).copied()
    }

    /// Moves one byte on, counting lines.
    fn bump(&mut self) {
        if self.byte(self.pos) == Some(b'\n') {
            self.line += 1;
            self.line_start = self.pos + 1;
        }
        self.pos += 1;
    }

    fn bump_n(&mut self, n: usize) {
        for _ in 0..n {
            self.bump();
        }
    }

    fn starts(&self, s: &str) -> bool {
        self.src.as_bytes()[self.pos.min(self.src.len())..].starts_with(s.as_bytes())
    }

    pub(super) fn unterminated(&self, quote: &str, line: usize) -> SyntaxError {
        SyntaxError {
            line,
            message: format!("unexpected EOF while looking for matching `{quote}'"),
            kind: ErrorKind::Unterminated,
        }
    }

    /// Skips blanks, line continuations and a comment.
    fn skip_blanks(&mut self) {
        loop {
            match self.byte(self.pos) {
                Some(c) if is_blank(c) => self.bump(),
                Some(b'\\') if self.byte(self.pos + 1) == Some(b'\n') => self.bump_n(2),
                Some(b'#') => {
                    let from = self.pos;
                    while self.byte(self.pos).is_some_and(|c| c != b'\n') {
                        self.bump();
                    }
                    // A quote or parenthesis in it would mislead the word parser.
                    self.edit(from, self.pos, "");
                }
                _ => return,
            }
        }
    }

    /// The next token, without consuming it.
    pub(super) fn peek(&mut self) -> Result<&Token, SyntaxError> {
        if self.peeked.is_none() {
            let t = self.lex()?;
            self.peeked = Some(t);
        }
        // Just filled.
        self.peeked.as_ref().ok_or_else(|| self.internal())
    }

    pub(super) fn next(&mut self) -> Result<Token, SyntaxError> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lex(),
        }
    }

    /// Puts a peeked token back as text, to be read again in another way (`((`, a regex).
    pub(super) fn unpeek(&mut self) {
        if let Some(t) = self.peeked.take() {
            self.pos = t.start.index;
            self.line = t.start.line;
            self.line_start = t.start.index + 1 - t.start.column;
        }
    }

    fn lex(&mut self) -> Result<Token, SyntaxError> {
        self.skip_blanks();
        let start = self.position();
        let Some(c) = self.byte(self.pos) else {
            return Ok(Token {
                tok: Tok::Eof,
                start: start.clone(),
                end: start,
            });
        };
        if c == b'\n' {
            let at = self.pos;
            self.bump();
            if let Some(skip) = self.here_skip.filter(|s| s.at == at) {
                self.here_skip = None;
                self.pos = skip.resume;
                self.line = skip.resume_line;
                self.line_start = skip.resume;
            }
            return Ok(Token {
                tok: Tok::Newline,
                start,
                end: self.position(),
            });
        }
        if let Some(op) = OPERATORS.iter().find(|o| self.starts(o)) {
            self.bump_n(op.len());
            return Ok(Token {
                tok: Tok::Op(op),
                start,
                end: self.position(),
            });
        }
        if c.is_ascii_digit() {
            let mut j = self.pos;
            while self.byte(j).is_some_and(|c| c.is_ascii_digit()) {
                j += 1;
            }
            if matches!(self.byte(j), Some(b'<' | b'>')) {
                if let Ok(n) = self.src[self.pos..j].parse::<i32>() {
                    self.pos = j;
                    return Ok(Token {
                        tok: Tok::IoNumber(n),
                        start,
                        end: self.position(),
                    });
                }
            }
        }
        let text = self.scan_word()?;
        Ok(Token {
            tok: Tok::Word(text),
            start,
            end: self.position(),
        })
    }

    /// A word from here to the first unquoted blank or operator character.
    fn scan_word(&mut self) -> Result<String, SyntaxError> {
        let mut out = String::new();
        while let Some(c) = self.byte(self.pos) {
            if ends_word(c) {
                // An extended-glob group is part of the word: `@(a|b)`, `!(x)`.
                if c == b'(' && out.ends_with(['@', '!', '?', '*', '+']) {
                    self.scan_group(&mut out, b'(', b')')?;
                    continue;
                }
                break;
            }
            self.scan_piece(&mut out, false)?;
        }
        Ok(out)
    }

    /// One character or quoted/expanded unit of a word, appended to `out`. `in_dq`: inside
    /// double quotes, where only `\`, `$`, `` ` `` and `"` are special.
    fn scan_piece(&mut self, out: &mut String, in_dq: bool) -> Result<(), SyntaxError> {
        let Some(c) = self.byte(self.pos) else {
            return Ok(());
        };
        match c {
            b'\\' => match self.byte(self.pos + 1) {
                Some(b'\n') => self.bump_n(2),
                Some(_) => {
                    let n = self.char_len(self.pos + 1);
                    self.copy(out, 1 + n);
                }
                // A backslash ending the input quotes nothing: bash keeps it as a character.
                None => {
                    self.bump();
                    out.push_str("\\\\");
                }
            },
            b'\'' if !in_dq => {
                let line = self.line;
                let from = self.pos;
                self.bump();
                while self.byte(self.pos).is_some_and(|c| c != b'\'') {
                    self.bump();
                }
                if self.byte(self.pos).is_none() {
                    return Err(self.unterminated("'", line));
                }
                self.bump();
                out.push_str(&self.src[from..self.pos]);
            }
            b'"' => {
                let line = self.line;
                out.push('"');
                self.bump();
                loop {
                    match self.byte(self.pos) {
                        None => return Err(self.unterminated("\"", line)),
                        Some(b'"') => break,
                        Some(_) => self.scan_piece(out, true)?,
                    }
                }
                out.push('"');
                self.bump();
            }
            b'`' => self.scan_backquote(out)?,
            b'$' => self.scan_dollar(out, in_dq)?,
            _ => {
                let n = self.char_len(self.pos);
                self.copy(out, n);
            }
        }
        Ok(())
    }

    fn char_len(&self, at: usize) -> usize {
        self.src[at..].chars().next().map_or(1, char::len_utf8)
    }

    /// Appends the next `n` bytes as they are.
    fn copy(&mut self, out: &mut String, n: usize) {
        let end = (self.pos + n).min(self.src.len());
        out.push_str(&self.src[self.pos..end]);
        self.bump_n(end - self.pos);
    }

    fn scan_backquote(&mut self, out: &mut String) -> Result<(), SyntaxError> {
        let line = self.line;
        let from = self.pos;
        self.bump();
        loop {
            match self.byte(self.pos) {
                None => return Err(self.unterminated("`", line)),
                Some(b'\\') => self.bump_n(2.min(self.src.len() - self.pos)),
                Some(b'`') => break,
                Some(_) => self.bump(),
            }
        }
        self.bump();
        out.push_str(&self.src[from..self.pos]);
        Ok(())
    }

    fn scan_dollar(&mut self, out: &mut String, in_dq: bool) -> Result<(), SyntaxError> {
        match self.byte(self.pos + 1) {
            Some(b'\'') if !in_dq => {
                let line = self.line;
                let from = self.pos;
                self.bump_n(2);
                loop {
                    match self.byte(self.pos) {
                        None => return Err(self.unterminated("'", line)),
                        Some(b'\\') => self.bump_n(2.min(self.src.len() - self.pos)),
                        Some(b'\'') => break,
                        Some(_) => self.bump(),
                    }
                }
                self.bump();
                out.push_str(&self.src[from..self.pos]);
            }
            Some(b'(') if self.byte(self.pos + 2) == Some(b'(') => {
                if !self.scan_arithmetic(out)? {
                    self.scan_command_substitution(out)?;
                }
            }
            Some(b'(') => self.scan_command_substitution(out)?,
            Some(b'{') => {
                out.push('$');
                self.bump();
                self.scan_group(out, b'{', b'}')?;
            }
            Some(b'[') => {
                out.push('$');
                self.bump();
                self.scan_group(out, b'[', b']')?;
            }
            _ => {
                out.push('$');
                self.bump();
            }
        }
        Ok(())
    }

    /// `open ... close` with nesting, quotes and expansions inside (`${ }`, `$[ ]`, `@( )`).
    fn scan_group(&mut self, out: &mut String, open: u8, close: u8) -> Result<(), SyntaxError> {
        let line = self.line;
        let mut depth = 0usize;
        loop {
            match self.byte(self.pos) {
                None => {
                    let q = if close == b'}' { "}" } else { ")" };
                    return Err(self.unterminated(if close == b']' { "]" } else { q }, line));
                }
                Some(c) if c == open => {
                    depth += 1;
                    out.push(c as char);
                    self.bump();
                }
                Some(c) if c == close => {
                    out.push(c as char);
                    self.bump();
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Some(b'\n') if close == b')' => {
                    out.push('\n');
                    self.bump();
                }
                Some(_) => self.scan_piece(out, false)?,
            }
        }
    }

    /// Where the `))` closing arithmetic that starts at `from` (just past its `((`) is, or
    /// `None` when the first unnested `)` is not followed by another (then it is not
    /// arithmetic: `((cmd) )` is a subshell in a subshell). Quotes are skipped.
    fn double_paren_end(&self, from: usize) -> Result<Option<usize>, SyntaxError> {
        let mut j = from;
        let mut depth = 0usize;
        loop {
            match self.byte(j) {
                None => return Err(self.unterminated(")", self.line)),
                Some(b'(') => depth += 1,
                Some(b')') if depth > 0 => depth -= 1,
                Some(b')') => return Ok((self.byte(j + 1) == Some(b')')).then_some(j)),
                Some(b'\\') => j += 1,
                Some(q @ (b'\'' | b'"')) => {
                    j += 1;
                    while self.byte(j).is_some_and(|c| c != q) {
                        j += 1;
                    }
                }
                Some(_) => {}
            }
            j += 1;
        }
    }

    /// `$(( ... ))`. False (and nothing consumed) when the parentheses do not close as
    /// arithmetic, as in `$( (cmd) )` written without the blank: then it is a substitution.
    fn scan_arithmetic(&mut self, out: &mut String) -> Result<bool, SyntaxError> {
        let Some(j) = self.double_paren_end(self.pos + 3)? else {
            return Ok(false);
        };
        let end = j + 2;
        // Line continuations go, as everywhere outside single quotes.
        out.push_str(&self.src[self.pos..end.min(self.src.len())].replace("\\\n", ""));
        self.bump_n(end - self.pos);
        Ok(true)
    }

    /// `$( ... )`: its body is parsed (and checked) here, so it ends where bash's does.
    fn scan_command_substitution(&mut self, out: &mut String) -> Result<(), SyntaxError> {
        let from = self.pos;
        self.bump_n(2);
        self.comsub_depth += 1;
        let body = self.subshell_body();
        self.comsub_depth -= 1;
        body?;
        // The word parser reads this text again to find the body's end: it gets the text
        // with the edits the parse noted (comments out, `(` before case patterns).
        let mut at = from;
        for (a, b, with) in self.edits.iter().filter(|e| e.0 >= from && e.1 <= self.pos) {
            if *a < at {
                continue;
            }
            out.push_str(&self.src[at..*a]);
            out.push_str(with);
            at = *b;
        }
        out.push_str(&self.src[at..self.pos]);
        if self.comsub_depth == 0 {
            self.edits.clear();
        }
        Ok(())
    }

    /// Notes that the text `a..b` of a `$( )` body reads as `with` (see above).
    pub(super) fn edit(&mut self, a: usize, b: usize, with: &'static str) {
        if self.comsub_depth > 0 {
            self.edits.push((a, b, with));
        }
    }

    /// Parses a command list up to its closing `)` and consumes it (`$( )`, `<( )`).
    pub(super) fn subshell_body(&mut self) -> Result<brush_parser::ast::CompoundList, SyntaxError> {
        let saved = self.peeked.take();
        let list = self.compound_list(true);
        let list = match list {
            Ok(l) => l,
            Err(e) if e.kind == ErrorKind::UnexpectedEof => {
                return Err(self.unterminated(")", self.eof_line()))
            }
            Err(e) => return Err(e),
        };
        let close = self.next()?;
        if close.tok == Tok::Eof {
            return Err(self.unterminated(")", self.eof_line()));
        }
        if !close.is_op(")") {
            return Err(self.unexpected(&close));
        }
        self.peeked = saved;
        Ok(list)
    }

    /// The line bash reports an end of input on: it reads a last newline after the text.
    pub(super) fn eof_line(&self) -> usize {
        let newlines = self.src.matches('\n').count();
        newlines + 1 + usize::from(!self.src.ends_with('\n'))
    }

    /// Reads the body of a here-document whose operator was just read (the body starts on
    /// the line after the current one, or after the body before it on this line).
    pub(super) fn read_here_body(&mut self, delimiter: &str, strip_tabs: bool) -> (String, bool) {
        let (at, body_start, body_line) = match self.here_skip {
            Some(s) => (s.at, s.resume, s.resume_line),
            None => {
                let at = self.line_end(self.pos);
                (
                    at,
                    at + 1,
                    self.line
                        + self.src[self.pos..at.min(self.src.len())]
                            .matches('\n')
                            .count()
                        + 1,
                )
            }
        };
        let mut body = String::new();
        let mut p = body_start.min(self.src.len());
        let mut line = body_line;
        let mut closed = false;
        while p < self.src.len() {
            let e = self.src[p..].find('\n').map_or(self.src.len(), |k| p + k);
            let raw = &self.src[p..e];
            let text = if strip_tabs {
                raw.trim_start_matches('\t')
            } else {
                raw
            };
            let next = (e + 1).min(self.src.len());
            line += 1;
            if text == delimiter {
                p = next;
                closed = true;
                break;
            }
            body.push_str(text);
            body.push('\n');
            p = next;
        }
        self.here_skip = Some(HereSkip {
            at,
            resume: p,
            resume_line: line,
        });
        (body, closed)
    }

    /// Where the line holding `from` ends, for a here-document body: the next newline
    /// outside quotes.
    fn line_end(&self, from: usize) -> usize {
        let mut j = from;
        while let Some(c) = self.byte(j) {
            match c {
                b'\n' => return j,
                b'\\' => j += 1,
                q @ (b'\'' | b'"') => {
                    j += 1;
                    while self.byte(j).is_some_and(|c| c != q) {
                        if q == b'"' && self.byte(j) == Some(b'\\') {
                            j += 1;
                        }
                        j += 1;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        self.src.len()
    }

    /// An assignment word whose subscript has blanks (`a[i + 1]=x`), read again whole: the
    /// tokenizer cut it at the blank, bash reads it as one word where assignments go.
    pub(super) fn relex_assignment(&mut self, t: &Token) -> Result<Option<Token>, SyntaxError> {
        let Some(w) = t.word() else {
            return Ok(None);
        };
        let name = w
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        let starts_name = w.bytes().next().is_some_and(|c| !c.is_ascii_digit());
        if name == 0 || !starts_name || w.as_bytes().get(name) != Some(&b'[') || w.contains(']') {
            return Ok(None);
        }
        let Some(eq) = self.subscript_end(t.start.index + name) else {
            return Ok(None);
        };
        self.peeked = None;
        self.pos = t.start.index;
        self.line = t.start.line;
        self.line_start = t.start.index + 1 - t.start.column;
        let mut out = self.src[self.pos..eq].to_string();
        self.bump_n(eq - self.pos);
        out.push_str(&self.scan_word()?);
        Ok(Some(Token {
            tok: Tok::Word(out),
            start: t.start.clone(),
            end: self.position(),
        }))
    }

    /// From the `[` at `open`: just past the `=` of `]=` or `]+=` closing the subscript on
    /// this line, if that is what follows.
    fn subscript_end(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        let mut j = open;
        loop {
            match self.byte(j)? {
                b'[' => depth += 1,
                b']' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                b'\\' => j += 1,
                q @ (b'\'' | b'"') => {
                    j += 1;
                    while self.byte(j)? != q {
                        j += 1;
                    }
                }
                b'\n' | b';' | b'&' | b'|' | b'<' | b'>' => return None,
                _ => {}
            }
            j += 1;
        }
        match (self.byte(j + 1), self.byte(j + 2)) {
            (Some(b'='), _) => Some(j + 2),
            (Some(b'+'), Some(b'=')) => Some(j + 3),
            _ => None,
        }
    }

    /// Reads a `[[ ... =~ ]]` regex operand: up to a blank outside parentheses and quotes,
    /// with `|`, `(`, `)`, `<`, `>` as ordinary characters.
    pub(super) fn scan_regex(&mut self) -> Result<Option<Token>, SyntaxError> {
        self.unpeek();
        self.skip_blanks();
        let start = self.position();
        let mut out = String::new();
        let mut depth = 0usize;
        while let Some(c) = self.byte(self.pos) {
            match c {
                b'(' => {
                    depth += 1;
                    out.push('(');
                    self.bump();
                }
                b')' if depth > 0 => {
                    depth -= 1;
                    out.push(')');
                    self.bump();
                }
                b' ' | b'\t' if depth > 0 => {
                    out.push(c as char);
                    self.bump();
                }
                b'|' | b'<' | b'>' if depth > 0 || !out.is_empty() => {
                    out.push(c as char);
                    self.bump();
                }
                b'&' if depth > 0 => {
                    out.push('&');
                    self.bump();
                }
                c if ends_word(c) => break,
                _ => self.scan_piece(&mut out, false)?,
            }
        }
        if out.is_empty() {
            return Ok(None);
        }
        Ok(Some(Token {
            tok: Tok::Word(out),
            start,
            end: self.position(),
        }))
    }

    /// The raw text of `(( ... ))` starting at the current position, if the parentheses
    /// close as arithmetic; the position moves past it. `None` leaves it where it was.
    pub(super) fn scan_double_paren(&mut self) -> Result<Option<String>, SyntaxError> {
        self.unpeek();
        self.skip_blanks();
        if !self.starts("((") {
            return Ok(None);
        }
        let Some(j) = self.double_paren_end(self.pos + 2)? else {
            return Ok(None);
        };
        let text = self.src[self.pos + 2..j].replace("\\\n", "");
        self.bump_n(j + 2 - self.pos);
        Ok(Some(text))
    }
}
