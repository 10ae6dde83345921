//! Aliases: the `alias`/`unalias` builtins and alias expansion. bash expands aliases while it
//! reads a line, so an alias defined on one line applies from the next line on. Scripts that
//! may use aliases (they mention `expand_aliases`, or it is on) therefore run one complete
//! command at a time: when a command changes the aliases, the rest of the script is parsed
//! again from the next line, with the aliases substituted into its text first.

use crate::eval::Source;
use crate::io::Io;
use crate::state::{Flow, Shell};
use brush_parser::ast::SourceLocation;
use brush_parser::Token;
use std::borrow::Cow;

/// Reserved words after which a command word follows.
const LEADING_KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "time",
];
const REDIRECTS: &[&str] = &[
    "<", ">", ">>", "<<", "<<-", "<<<", "<&", ">&", "<>", ">|", "&>", "&>>",
];

fn valid_alias_name(w: &str) -> bool {
    !w.is_empty()
        && !w.contains(|c: char| {
            matches!(c, '/' | '$' | '`' | '=' | '\'' | '"' | '\\') || c.is_whitespace()
        })
}

/// Quotes an alias value the way `alias` prints it.
fn single_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

impl Shell {
    fn aliases_live(&self) -> bool {
        self.opts.expand_aliases && !self.aliases.is_empty()
    }

    /// The text an alias stands for, with an alias at its own start expanded too (each name
    /// once), and whether the word after it is to be checked as well (trailing blank).
    fn alias_text(&self, name: &str, seen: &mut Vec<String>) -> Option<(String, bool)> {
        let v = self.aliases.get(name)?;
        seen.push(name.to_string());
        let trailing = v.ends_with([' ', '\t']);
        let lead = v.len() - v.trim_start().len();
        let first_end = v[lead..]
            .find(|c: char| c.is_whitespace() || ";|&<>()".contains(c))
            .map(|e| e + lead)
            .unwrap_or(v.len());
        let first = &v[lead..first_end];
        if !first.is_empty() && !seen.iter().any(|s| s == first) {
            if let Some((inner, inner_trailing)) = self.alias_text(first, seen) {
                let rest = &v[first_end..];
                let trailing = if rest.trim().is_empty() {
                    inner_trailing || trailing
                } else {
                    trailing
                };
                return Some((format!("{}{inner}{rest}", &v[..lead]), trailing));
            }
        }
        Some((v.clone(), trailing))
    }

    /// `src` with the aliases in command position replaced by their text.
    pub fn expand_alias_text<'a>(&self, src: &'a str) -> Cow<'a, str> {
        if !self.aliases_live() {
            return Cow::Borrowed(src);
        }
        let Ok(toks) = brush_parser::tokenize_str(src) else {
            return Cow::Borrowed(src);
        };
        // (char start, char end, replacement)
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        let mut cmd_pos = true;
        let mut check_next = false;
        let mut skip_word = false;
        for t in &toks {
            match t {
                Token::Operator(o, _) => {
                    if REDIRECTS.contains(&o.as_str()) {
                        skip_word = true;
                    } else {
                        cmd_pos = true;
                        check_next = false;
                    }
                }
                Token::Word(w, loc) => {
                    if skip_word {
                        skip_word = false;
                        continue;
                    }
                    let at_cmd = cmd_pos || check_next;
                    check_next = false;
                    if !at_cmd {
                        continue;
                    }
                    if LEADING_KEYWORDS.contains(&w.as_str()) && cmd_pos {
                        continue;
                    }
                    if cmd_pos && w.contains('=') && !w.starts_with('=') {
                        // An assignment: the command word may still follow.
                        continue;
                    }
                    cmd_pos = false;
                    if !valid_alias_name(w) {
                        continue;
                    }
                    let mut seen = Vec::new();
                    if let Some((text, trailing)) = self.alias_text(w, &mut seen) {
                        edits.push((loc.start.index, loc.end.index, text));
                        check_next = trailing;
                    }
                }
            }
        }
        if edits.is_empty() {
            return Cow::Borrowed(src);
        }
        let chars: Vec<char> = src.chars().collect();
        let mut out = String::with_capacity(src.len());
        let mut at = 0;
        for (s, e, text) in edits {
            if s < at || e > chars.len() {
                continue;
            }
            out.extend(chars.get(at..s).unwrap_or_default());
            out.push_str(&text);
            at = e;
        }
        out.extend(chars.get(at..).unwrap_or_default());
        Cow::Owned(out)
    }

    /// Whether a script must run a command at a time for its aliases to take effect.
    pub fn script_may_alias(&self, src: &str) -> bool {
        self.opts.expand_aliases || src.contains("expand_aliases")
    }

    /// Runs a script a complete command at a time, re-reading the rest after any command
    /// that changed the aliases (see the module doc).
    pub fn run_script_with_aliases(&mut self, src: &str, source: Source, io: &Io) -> i32 {
        let lines: Vec<&str> = src.split_inclusive('\n').collect();
        let base_offset = self.line_offset;
        let mut from = 1usize;
        let status = 'outer: loop {
            let Some(rest) = lines.get(from - 1..) else {
                break self.last_status;
            };
            let raw = rest.concat();
            let text = self.expand_alias_text(&raw).into_owned();
            self.line_offset = base_offset + from - 1;
            let parsed = crate::syntax::parse_prefix(&text);
            let err = parsed.error.map(|e| {
                // The lines read before the failing command.
                let read = parsed
                    .program
                    .complete_commands
                    .last()
                    .and_then(|c| c.location())
                    .map_or(0, |l| l.end.line);
                (e.line + from - 1, e.message, read)
            });
            let prog = Some(parsed.program);
            let mut st = self.last_status;
            if let Some(prog) = prog {
                for (i, cc) in prog.complete_commands.iter().enumerate() {
                    let before = (self.opts.expand_aliases, self.aliases.clone());
                    match self.run_list(cc, io) {
                        Ok(s) => st = s,
                        Err(Flow::Abort(s)) => {
                            st = s;
                            self.last_status = s;
                        }
                        Err(Flow::Exit(s)) | Err(Flow::Return(s)) => break 'outer s,
                        Err(_) => {}
                    }
                    if self.one_command_done() {
                        break 'outer st;
                    }
                    if before != (self.opts.expand_aliases, self.aliases.clone()) {
                        // bash has read this command to its end: the rest is read again from
                        // the line the next command starts on.
                        let next = prog
                            .complete_commands
                            .iter()
                            .skip(i + 1)
                            .find_map(|c| c.location())
                            .map(|l| l.start.line);
                        match (next, &err) {
                            (Some(l), _) => from += l - 1,
                            // The rest did not parse before; it may now.
                            (None, Some((_, _, read))) => from += read,
                            (None, None) => break 'outer st,
                        }
                        continue 'outer;
                    }
                }
            }
            if let Some((line, msg, _)) = err {
                self.print_syntax_error(source, line, &msg);
                break 2;
            }
            break st;
        };
        self.line_offset = base_offset;
        self.last_status = status;
        self.run_exit_trap(io)
    }

    pub(super) fn b_alias(&mut self, a: &[String], io: &Io) -> i32 {
        let mut args = a.get(1..).unwrap_or_default();
        if args.first().is_some_and(|s| s == "-p") {
            args = args.get(1..).unwrap_or_default();
            if args.is_empty() {
                self.print_aliases(io);
                return 0;
            }
        }
        if args.is_empty() {
            self.print_aliases(io);
            return 0;
        }
        let mut st = 0;
        for x in args {
            if let Some((k, v)) = x.split_once('=') {
                if !valid_alias_name(k) {
                    self.error_io(io, &format!("alias: `{k}': invalid alias name"));
                    st = 1;
                    continue;
                }
                self.aliases.insert(k.into(), v.into());
            } else if let Some(v) = self.aliases.get(x) {
                io.out(format!("alias {x}={}\n", single_quote(v)).as_bytes());
            } else {
                self.error_io(io, &format!("alias: {x}: not found"));
                st = 1;
            }
        }
        st
    }

    fn print_aliases(&self, io: &Io) {
        let mut all: Vec<(&String, &String)> = self.aliases.iter().collect();
        all.sort();
        for (k, v) in all {
            io.out(format!("alias {k}={}\n", single_quote(v)).as_bytes());
        }
    }

    pub(super) fn b_unalias(&mut self, a: &[String], io: &Io) -> i32 {
        let mut st = 0;
        for x in a.get(1..).unwrap_or_default() {
            if x == "-a" {
                self.aliases = crate::state::Map::default();
                continue;
            }
            if self.aliases.remove(x).is_none() {
                self.error_io(io, &format!("unalias: {x}: not found"));
                st = 1;
            }
        }
        st
    }
}
