//! Newlines inside `[[ ... ]]`. bash's conditional-command parser skips newlines at the start
//! of every term and after every complete term (so `[[ (\na = a\n) ]]` is valid), but not
//! after a bare word, where a newline is an error (`[[ a\n]]`). brush-parser 0.4 accepts
//! newlines only right after `[[`, before `]]` and around `&&`/`||`, and has no option for
//! more. So before parsing, the newlines bash would skip are turned into line continuations
//! (` \` + newline, which keeps line numbers), and the newlines bash rejects are found here to
//! report them in bash's words.

use brush_parser::Token;

/// What a scan of one `[[ ... ]]` found.
enum Scan {
    /// Parsed like bash: these token indexes are newlines bash skips.
    Ok(Vec<usize>),
    /// bash fails on a newline here: the line of the `[[`, the line of the error and its
    /// messages.
    NewlineError(usize, usize, Vec<String>),
    /// Something this scan does not model (regexes, odd tokens): left to brush-parser.
    Unknown,
}

struct Cond<'a> {
    toks: &'a [Token],
    pos: usize,
    skipped: Vec<usize>,
    errors: Vec<String>,
    err_line: usize,
}

const UNOPS: &[&str] = &[
    "-a", "-b", "-c", "-d", "-e", "-f", "-g", "-h", "-k", "-n", "-o", "-p", "-r", "-s", "-t", "-u",
    "-v", "-w", "-x", "-z", "-G", "-L", "-N", "-O", "-R", "-S",
];
const BINOPS: &[&str] = &[
    "=", "==", "!=", "-nt", "-ot", "-ef", "-eq", "-ne", "-lt", "-le", "-gt", "-ge",
];

/// Why a term could not be parsed.
enum Fail {
    /// bash's error at a newline token (messages are in `Cond::errors`).
    Newline,
    /// Not modelled here.
    Unknown,
}

impl Cond<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }
    fn is_op(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Token::Operator(o, _)) if o == s)
    }
    fn is_nl(&self) -> bool {
        self.is_op("\n")
    }
    fn line(&self) -> usize {
        self.peek().map(|t| t.location().start.line).unwrap_or(0)
    }
    fn skip_newlines(&mut self) {
        while self.is_nl() {
            self.skipped.push(self.pos);
            self.pos += 1;
        }
    }
    fn newline_error(&mut self, msg: &str) -> Fail {
        if self.errors.is_empty() {
            self.err_line = self.line();
        }
        self.errors.push(msg.to_string());
        Fail::Newline
    }

    fn expr(&mut self) -> Result<(), Fail> {
        self.term()?;
        while self.is_op("&&") || self.is_op("||") {
            self.pos += 1;
            self.term()?;
        }
        Ok(())
    }

    fn term(&mut self) -> Result<(), Fail> {
        self.skip_newlines();
        match self.peek() {
            Some(Token::Operator(o, _)) if o == "(" => {
                self.pos += 1;
                let inner = self.expr();
                if !self.is_op(")") {
                    if let Err(Fail::Newline) = inner {
                        self.errors.push("expected `)'".to_string());
                        return Err(Fail::Newline);
                    }
                    return Err(Fail::Unknown);
                }
                inner?;
                self.pos += 1;
                self.skip_newlines();
                Ok(())
            }
            Some(Token::Word(w, _)) if w == "!" => {
                self.pos += 1;
                self.term()
            }
            Some(Token::Word(w, _)) if w == "]]" => Err(Fail::Unknown),
            Some(Token::Word(w, _)) if UNOPS.contains(&w.as_str()) => {
                self.pos += 1;
                match self.peek() {
                    Some(Token::Word(..)) => {
                        self.pos += 1;
                        self.skip_newlines();
                        Ok(())
                    }
                    Some(Token::Operator(o, _)) if o == "\n" => Err(self.newline_error(
                        "unexpected argument `newline' to conditional unary operator",
                    )),
                    _ => Err(Fail::Unknown),
                }
            }
            Some(Token::Word(..)) => {
                self.pos += 1;
                match self.peek() {
                    Some(Token::Word(w, _)) if w == "=~" => return Err(Fail::Unknown),
                    Some(Token::Word(w, _)) if BINOPS.contains(&w.as_str()) => {}
                    Some(Token::Operator(o, _)) if o == "<" || o == ">" => {}
                    Some(Token::Word(w, _)) if w == "]]" => return Ok(()),
                    Some(Token::Operator(o, _)) if o == "&&" || o == "||" || o == ")" => {
                        return Ok(())
                    }
                    Some(Token::Operator(o, _)) if o == "\n" => {
                        return Err(self.newline_error(
                            "unexpected token `newline', conditional binary operator expected",
                        ))
                    }
                    _ => return Err(Fail::Unknown),
                }
                self.pos += 1;
                match self.peek() {
                    Some(Token::Word(..)) => {
                        self.pos += 1;
                        self.skip_newlines();
                        Ok(())
                    }
                    Some(Token::Operator(o, _)) if o == "\n" => Err(self.newline_error(
                        "unexpected argument `newline' to conditional binary operator",
                    )),
                    _ => Err(Fail::Unknown),
                }
            }
            _ => Err(Fail::Unknown),
        }
    }
}

/// Scans the `[[` at token `start`.
fn scan(toks: &[Token], start: usize) -> (Scan, usize) {
    let mut c = Cond {
        toks,
        pos: start + 1,
        skipped: Vec::new(),
        errors: Vec::new(),
        err_line: 0,
    };
    let r = c.expr();
    let end = c.pos;
    match r {
        Ok(()) if matches!(c.peek(), Some(Token::Word(w, _)) if w == "]]") => {
            (Scan::Ok(c.skipped), end + 1)
        }
        Err(Fail::Newline) => {
            let first = toks
                .get(start)
                .map(|t| t.location().start.line)
                .unwrap_or(1);
            (Scan::NewlineError(first, c.err_line, c.errors), end)
        }
        _ => (Scan::Unknown, end.max(start + 1)),
    }
}

/// Whether the token before `i` puts a word at it in command position (where `[[` is a
/// keyword).
pub(crate) fn command_position(toks: &[Token], i: usize) -> bool {
    let Some(prev) = i.checked_sub(1).and_then(|p| toks.get(p)) else {
        return true;
    };
    match prev {
        Token::Operator(o, _) => matches!(
            o.as_str(),
            "\n" | ";" | "&" | "&&" | "||" | "|" | "|&" | "(" | ";;" | ";&" | ";;&"
        ),
        Token::Word(w, _) => matches!(
            w.as_str(),
            "then" | "do" | "else" | "elif" | "if" | "while" | "until" | "!" | "{" | "time"
        ),
    }
}

/// Every `[[` of `src` with its scan result.
fn scans(src: &str) -> Vec<Scan> {
    let mut out = Vec::new();
    // Only a newline between a `[[` and the next `]]` needs the token scan.
    let spans_lines = src.match_indices("[[").any(|(i, _)| {
        let rest = src.get(i..).unwrap_or_default();
        let end = rest.find("]]").unwrap_or(rest.len());
        rest.get(..end).is_some_and(|r| r.contains('\n'))
    });
    if !spans_lines {
        return out;
    }
    let Ok(toks) = brush_parser::tokenize_str(src) else {
        return out;
    };
    let mut i = 0;
    while i < toks.len() {
        if matches!(&toks[i], Token::Word(w, _) if w == "[[") && command_position(&toks, i) {
            let (s, next) = scan(&toks, i);
            let stop = matches!(s, Scan::NewlineError(..));
            if let Scan::Ok(ref v) = s {
                // Keep the token indexes resolvable by the caller.
                let v: Vec<usize> = v
                    .iter()
                    .filter_map(|&k| toks.get(k).map(|t| t.location().start.index))
                    .collect();
                out.push(Scan::Ok(v));
            } else {
                out.push(s);
            }
            if stop {
                break;
            }
            i = next.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// `src` with the newlines bash skips inside `[[ ]]` made line continuations.
pub fn join_newlines(src: &str) -> std::borrow::Cow<'_, str> {
    let mut at: Vec<usize> = scans(src)
        .into_iter()
        .filter_map(|s| match s {
            Scan::Ok(v) => Some(v),
            _ => None,
        })
        .flatten()
        .collect();
    if at.is_empty() {
        return std::borrow::Cow::Borrowed(src);
    }
    at.sort_unstable();
    let mut out = String::with_capacity(src.len() + 2 * at.len());
    let mut next = at.iter().peekable();
    for (ci, ch) in src.chars().enumerate() {
        if ch == '\n' && next.peek().is_some_and(|&&k| k == ci) {
            out.push_str(" \\\n");
        } else {
            out.push(ch);
        }
        while next.peek().is_some_and(|&&k| k <= ci) {
            next.next();
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The first newline bash rejects inside a `[[ ]]`: the line of its `[[`, its own line and
/// bash's messages.
pub fn first_error(src: &str) -> Option<(usize, usize, Vec<String>)> {
    scans(src).into_iter().find_map(|s| match s {
        Scan::NewlineError(f, l, m) => Some((f, l, m)),
        _ => None,
    })
}

impl crate::state::Shell {
    /// A script with a `[[ ]]` bash cannot parse: the complete commands before it run, then
    /// bash reports the error and stops with the status it had (not 2: the conditional
    /// parser reports its own error and the script just ends).
    pub fn run_to_cond_error(
        &mut self,
        src: &str,
        (first, line, msgs): (usize, usize, Vec<String>),
        source: crate::exec::Source,
        io: &crate::io::Io,
    ) -> i32 {
        let lines: Vec<&str> = src.lines().collect();
        let mut k = first.saturating_sub(1).min(lines.len());
        while k > 0 {
            let prefix = lines.get(..k).unwrap_or_default().join("\n");
            if let Ok(p) = crate::exec::parse(&prefix) {
                match self.run_program(&p, io) {
                    Ok(s) => self.last_status = s,
                    Err(crate::state::Flow::Exit(s)) | Err(crate::state::Flow::Return(s)) => {
                        self.last_status = s;
                        return self.run_exit_trap(io);
                    }
                    Err(_) => {}
                }
                break;
            }
            k -= 1;
        }
        for m in &msgs {
            self.print_syntax_error(source, line, m);
        }
        self.run_exit_trap(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skippable_newlines_become_continuations() {
        assert_eq!(join_newlines("[[ (\na = a ) ]]"), "[[ ( \\\na = a ) ]]");
        assert_eq!(join_newlines("[[ !\na = b ]]"), "[[ ! \\\na = b ]]");
        assert_eq!(join_newlines("echo [[ (\n"), "echo [[ (\n");
        assert!(first_error("[[ a = a\n]]").is_none());
    }

    #[test]
    fn newline_after_bare_word_is_an_error() {
        let (_, l, m) = first_error("[[ ( a\n) ]]").unwrap_or_default();
        assert_eq!(l, 1);
        assert_eq!(m.len(), 2);
        assert!(first_error("[[ a\n]]").is_some());
    }
}
