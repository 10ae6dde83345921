//! `select NAME [in WORDS]; do ...; done`. brush-parser 0.4 does not parse `select`, so before
//! parsing such a loop is rewritten as
//! `{ __hookbox_select --start; while __hookbox_select NAME WORDS; do ...; done; }`, and that
//! internal builtin does what one turn of bash's select does: show the menu (on the first turn
//! and after an empty answer) and the PS3 prompt on stderr, read a line into REPLY, set NAME
//! to the chosen word (empty if none), and fail at end of input. (bash expands WORDS once;
//! here they are expanded on every turn.)

use crate::io::Io;
use crate::state::Shell;
use brush_parser::Token;

/// The internal builtin the rewrite calls.
pub const BUILTIN: &str = "__hookbox_select";

/// `src` with its select loops rewritten (see the module doc), if it has any.
pub fn rewrite(src: &str) -> Option<String> {
    if !src.contains("select") {
        return None;
    }
    let toks = brush_parser::tokenize_str(src).ok()?;
    // (char start, char end, replacement)
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let text = |a: usize, b: usize| chars.get(a..b).map(|c| c.iter().collect::<String>());
    let mut i = 0;
    while i < toks.len() {
        let is_select = matches!(&toks[i], Token::Word(w, _) if w == "select")
            && crate::rewrite::condnl::command_position(&toks, i);
        if !is_select {
            i += 1;
            continue;
        }
        let (Some(Token::Word(_, kw)), Some(Token::Word(name, _))) = (toks.get(i), toks.get(i + 1))
        else {
            i += 1;
            continue;
        };
        let start = kw.start.index;
        let mut j = i + 2;
        let words = if matches!(toks.get(j), Some(Token::Word(w, _)) if w == "in") {
            j += 1;
            let first = j;
            while matches!(toks.get(j), Some(Token::Word(..))) {
                j += 1;
            }
            match (toks.get(first), j.checked_sub(1).and_then(|l| toks.get(l))) {
                (Some(a), Some(b)) if j > first => {
                    text(a.location().start.index, b.location().end.index).unwrap_or_default()
                }
                _ => String::new(),
            }
        } else {
            "\"$@\"".to_string()
        };
        let end = j
            .checked_sub(1)
            .and_then(|l| toks.get(l))
            .map_or(start, |t| t.location().end.index);
        // The `done` that closes this loop, then the end of its redirections.
        let mut depth = 0i32;
        let mut k = j;
        let mut close = None;
        while let Some(t) = toks.get(k) {
            if let Token::Word(w, _) = t {
                if crate::rewrite::condnl::command_position(&toks, k) {
                    match w.as_str() {
                        "do" => depth += 1,
                        "done" => {
                            depth -= 1;
                            if depth == 0 {
                                close = Some(k);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            k += 1;
        }
        let Some(mut k) = close else {
            i += 1;
            continue;
        };
        while let Some(Token::Operator(o, _)) = toks.get(k + 1) {
            if !matches!(
                o.as_str(),
                "<" | ">" | ">>" | "<<<" | "<&" | ">&" | "<>" | ">|" | "&>" | "&>>"
            ) {
                break;
            }
            k += 2;
        }
        let Some(after) = toks.get(k).map(|t| t.location().end.index) else {
            i += 1;
            continue;
        };
        edits.push((
            start,
            end,
            format!("{{ {BUILTIN} --start; while {BUILTIN} {name} {words}"),
        ));
        edits.push((after, after, "; }".to_string()));
        i = j;
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(src.len() + 32);
    let mut at = 0;
    for (s, e, r) in edits {
        out.push_str(&text(at, s)?);
        out.push_str(&r);
        at = e;
    }
    out.push_str(&text(at, chars.len())?);
    Some(out)
}

impl Shell {
    /// One turn of a select loop: `__hookbox_select NAME WORD...`.
    pub fn select_turn(&mut self, a: &[String], io: &Io) -> i32 {
        let Some(name) = a.get(1) else {
            return 2;
        };
        if name == "--start" {
            self.select_menu_shown = false;
            return 0;
        }
        let words = a.get(2..).unwrap_or_default();
        if words.is_empty() {
            return 1;
        }
        let input = io.stdin();
        let mut show_menu = !self.select_menu_shown;
        loop {
            if show_menu {
                let menu: String = words
                    .iter()
                    .enumerate()
                    .map(|(k, w)| format!("{}) {w}\n", k + 1))
                    .collect();
                io.err(menu.as_bytes());
                self.select_menu_shown = true;
            }
            let ps3 = self.get("PS3").unwrap_or_else(|| "#? ".into());
            io.err(ps3.as_bytes());
            let mut line = Vec::new();
            let mut got = false;
            while let Some(b) = input.read_byte() {
                got = true;
                if b == b'\n' {
                    break;
                }
                line.push(b);
            }
            if !got {
                // End of input ends the loop.
                io.err(b"\n");
                self.select_menu_shown = false;
                return 1;
            }
            let reply = String::from_utf8_lossy(&line).into_owned();
            if reply.trim().is_empty() {
                show_menu = true;
                continue;
            }
            let chosen = reply
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|n| words.get(n))
                .cloned()
                .unwrap_or_default();
            let _ = self.set_var("REPLY", reply);
            if let Err(e) = self.set_var(name, chosen) {
                self.error_io(io, &e.to_string());
                return 1;
            }
            return 0;
        }
    }
}
