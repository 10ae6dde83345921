//! brush-parser ends a `$( ... )` at the first unbalanced `)`, which is the
//! closing parenthesis of a `case` pattern written without its optional
//! opening one (`$(case $x in a) ...;; esac)`). bash accepts that form, so
//! before parsing, the optional `(` is written in front of such patterns.
//! Only text inside `$( )` is touched; quotes and comments are skipped.

use std::borrow::Cow;

#[derive(Clone, Copy, PartialEq)]
enum Case {
    /// After `case`: the subject word comes next.
    Subject,
    /// After the subject: `in` comes next.
    In,
    /// Where a pattern (or `esac`) may start.
    Pattern,
    /// Inside a pattern, up to its `)`.
    InPattern,
    /// In a clause's commands, up to `;;`, `;&`, `;;&` or `esac`.
    Body,
}

struct Frame {
    parens: u32,
    cases: Vec<Case>,
    /// Whether the next word is in command position (where `case`/`esac` count).
    cmd_start: bool,
}

pub fn add_case_parens(src: &str) -> Cow<'_, str> {
    if !src.contains("$(") || !src.contains("case") {
        return Cow::Borrowed(src);
    }
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len() + 8);
    let mut last = 0;
    let mut frames: Vec<Frame> = Vec::new();
    let mut i = 0;
    let mut changed = false;
    let mut pending: Vec<(String, bool)> = Vec::new();
    let mut outer_dq = false;
    while i < b.len() {
        let c = b[i];
        let Some(f) = frames.last_mut() else {
            // Outside any `$( )`: only quotes, quoted here-documents (whose
            // text is literal) and the way in matter.
            match c {
                b'"' => {
                    outer_dq = !outer_dq;
                    i += 1;
                }
                b'<' | b'\n' | b'\'' if outer_dq => i += 1,
                b'<' if b.get(i + 1) == Some(&b'<') && b.get(i + 2) != Some(&b'<') => {
                    i += 2;
                    if let Some(delim) = quoted_heredoc_delim(b, &mut i) {
                        pending.push(delim);
                    }
                }
                b'\n' if !pending.is_empty() => {
                    i += 1;
                    for (delim, strip_tabs) in std::mem::take(&mut pending) {
                        while i < b.len() {
                            let end = src[i..].find('\n').map_or(b.len(), |e| i + e);
                            let mut line = &src[i..end];
                            if strip_tabs {
                                line = line.trim_start_matches('\t');
                            }
                            i = (end + 1).min(b.len());
                            if line == delim {
                                break;
                            }
                        }
                    }
                }
                b'\\' => i += 2,
                b'\'' => i = skip_single(b, i),
                b'$' if b.get(i + 1) == Some(&b'(') && b.get(i + 2) != Some(&b'(') => {
                    frames.push(new_frame());
                    i += 2;
                }
                _ => i += 1,
            }
            continue;
        };
        match c {
            b'#' if i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n' | b';') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b' ' | b'\t' => i += 1,
            b'\n' => {
                f.cmd_start = true;
                i += 1;
            }
            b'(' => {
                if f.cases.last() == Some(&Case::Pattern) {
                    if let Some(s) = f.cases.last_mut() {
                        *s = Case::InPattern;
                    }
                }
                f.parens += 1;
                f.cmd_start = true;
                i += 1;
            }
            b')' => {
                if f.parens == 0 {
                    frames.pop();
                    i += 1;
                    continue;
                }
                f.parens -= 1;
                if f.cases.last() == Some(&Case::InPattern) {
                    if let Some(s) = f.cases.last_mut() {
                        *s = Case::Body;
                    }
                }
                f.cmd_start = true;
                i += 1;
            }
            b';' => {
                let ends_clause = b.get(i + 1).is_some_and(|n| matches!(n, b';' | b'&'));
                if ends_clause && f.cases.last() == Some(&Case::Body) {
                    if let Some(s) = f.cases.last_mut() {
                        *s = Case::Pattern;
                    }
                    i += 2;
                    if b.get(i) == Some(&b'&') {
                        i += 1;
                    }
                } else {
                    i += 1;
                }
                f.cmd_start = true;
            }
            b'&' | b'|' | b'{' | b'}' | b'<' | b'>' => {
                f.cmd_start = c != b'<' && c != b'>';
                i += 1;
            }
            _ => {
                // A word: quotes and escapes are part of it; a `$(` inside
                // ends the scan here and is entered on the next turn.
                let start = i;
                while i < b.len() {
                    match b[i] {
                        b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>' => {
                            break
                        }
                        b'\\' => i += 2,
                        b'\'' => i = skip_single(b, i),
                        b'"' => i = skip_double(b, i),
                        // `$(` or `$((`: entered on the next turn.
                        b'$' if b.get(i + 1) == Some(&b'(') => break,
                        _ => i += 1,
                    }
                }
                let i_end = i.min(b.len());
                if i_end == start {
                    // `$(` at the start of a word.
                    let is_sub = b.get(i + 2) != Some(&b'(');
                    let pattern_here = f.cases.last() == Some(&Case::Pattern);
                    if pattern_here {
                        out.push_str(&src[last..start]);
                        out.push('(');
                        last = start;
                        changed = true;
                        f.parens += 1;
                        if let Some(s) = f.cases.last_mut() {
                            *s = Case::InPattern;
                        }
                    } else if let Some(s) = f.cases.last_mut() {
                        match *s {
                            Case::Subject => *s = Case::In,
                            Case::In => *s = Case::Pattern,
                            _ => {}
                        }
                    }
                    f.cmd_start = false;
                    if is_sub {
                        frames.push(new_frame());
                        i += 2;
                    } else {
                        // `$((`: arithmetic, its parentheses balance.
                        i += 1;
                    }
                    continue;
                }
                i = i_end;
                let word = &src[start..i];
                let state = f.cases.last().copied();
                match state {
                    Some(Case::Subject) => {
                        if let Some(s) = f.cases.last_mut() {
                            *s = Case::In;
                        }
                    }
                    Some(Case::In) => {
                        if let Some(s) = f.cases.last_mut() {
                            *s = Case::Pattern;
                        }
                    }
                    Some(Case::Pattern) if word == "esac" => {
                        f.cases.pop();
                    }
                    Some(Case::Pattern) => {
                        out.push_str(&src[last..start]);
                        out.push('(');
                        last = start;
                        changed = true;
                        f.parens += 1;
                        if let Some(s) = f.cases.last_mut() {
                            *s = Case::InPattern;
                        }
                    }
                    Some(Case::Body) | None if f.cmd_start && word == "esac" => {
                        f.cases.pop();
                    }
                    _ if f.cmd_start && word == "case" => f.cases.push(Case::Subject),
                    _ => {}
                }
                f.cmd_start = matches!(
                    word,
                    "then" | "do" | "else" | "elif" | "if" | "while" | "until" | "!" | "in"
                ) && f.cases.last() != Some(&Case::Pattern);
            }
        }
    }
    if !changed {
        return Cow::Borrowed(src);
    }
    out.push_str(&src[last..]);
    Cow::Owned(out)
}

/// After `<<`: the delimiter of a here-document whose body is literal (the
/// delimiter is quoted), and whether leading tabs are stripped (`<<-`).
fn quoted_heredoc_delim(b: &[u8], i: &mut usize) -> Option<(String, bool)> {
    let strip = b.get(*i) == Some(&b'-');
    if strip {
        *i += 1;
    }
    while b.get(*i).is_some_and(|c| *c == b' ' || *c == b'\t') {
        *i += 1;
    }
    let mut delim = Vec::new();
    let mut quoted = false;
    while let Some(&c) = b.get(*i) {
        match c {
            b'\'' | b'"' => {
                quoted = true;
                *i += 1;
                while let Some(&d) = b.get(*i) {
                    *i += 1;
                    if d == c {
                        break;
                    }
                    delim.push(d);
                }
            }
            b'\\' => {
                quoted = true;
                if let Some(&d) = b.get(*i + 1) {
                    delim.push(d);
                }
                *i += 2;
            }
            b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')' => break,
            _ => {
                delim.push(c);
                *i += 1;
            }
        }
    }
    (quoted && !delim.is_empty()).then(|| (String::from_utf8_lossy(&delim).into_owned(), strip))
}

fn new_frame() -> Frame {
    Frame {
        parens: 0,
        cases: Vec::new(),
        cmd_start: true,
    }
}

fn skip_single(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() && b[j] != b'\'' {
        j += 1;
    }
    j + 1
}

/// Past a double-quoted string; a `$( )` inside it is left to the parser,
/// which reads those correctly.
fn skip_double(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() && b[j] != b'"' {
        if b[j] == b'\\' {
            j += 1;
        }
        j += 1;
    }
    j + 1
}

#[cfg(test)]
mod tests {
    use super::add_case_parens;

    #[test]
    fn inserts_parens_only_inside_command_substitutions() {
        assert_eq!(
            add_case_parens("x=$(case $a in a|b) echo 1;; *) echo 2;; esac)"),
            "x=$(case $a in (a|b) echo 1;; (*) echo 2;; esac)"
        );
        assert_eq!(
            add_case_parens("case $a in a) echo $(echo x);; esac"),
            "case $a in a) echo $(echo x);; esac"
        );
        assert_eq!(
            add_case_parens("y=$(case a in (a) echo;; esac)"),
            "y=$(case a in (a) echo;; esac)"
        );
        assert_eq!(
            add_case_parens("v=$(case \"$a\" in \"q\") echo;; $(echo b)) :;; esac)"),
            "v=$(case \"$a\" in (\"q\") echo;; ($(echo b)) :;; esac)"
        );
        let doc = "cat <<'E'\n$(case a in a) :;; esac)\nE\nx=$(case a in a) :;; esac)";
        assert_eq!(
            add_case_parens(doc),
            "cat <<'E'\n$(case a in a) :;; esac)\nE\nx=$(case a in (a) :;; esac)"
        );
        assert_eq!(
            add_case_parens("$(case x in\n  x) case y in y) echo n;; esac;;\nesac)"),
            "$(case x in\n  (x) case y in (y) echo n;; esac;;\nesac)"
        );
    }
}
