//! brush-parser's tokenizer re-reads the inside of `${...}` token by token and
//! joins the tokens with one space, so in `"${v:-a  b}"` the operand loses its
//! blank runs (and tabs become spaces). Inside double quotes those blanks are
//! part of the value; before parsing, such a run is written quoted
//! (`"${v:-a"  "b}"`), which bash reads the same way. The rewrite is
//! conservative: any source it cannot follow simply (here-documents,
//! backquotes, unbalanced parentheses) is left alone.

use std::borrow::Cow;

pub fn quote_blank_runs(src: &str) -> Cow<'_, str> {
    if !src.contains("${") || !(src.contains("  ") || src.contains('\t')) {
        return Cow::Borrowed(src);
    }
    if src.contains("<<") || src.contains('`') {
        return Cow::Borrowed(src);
    }
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len() + 8);
    let mut last = 0;
    let mut in_dq = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'\'' if !in_dq => {
                i = src[i + 1..].find('\'').map_or(b.len(), |p| i + 1 + p + 1);
            }
            b'#' if !in_dq && (i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n' | b';')) => {
                i = src[i..].find('\n').map_or(b.len(), |p| i + p);
            }
            b'"' => {
                in_dq = !in_dq;
                i += 1;
            }
            b'$' if in_dq && b.get(i + 1) == Some(&b'(') => match skip_parens(b, i + 1) {
                Some(j) => i = j,
                None => return Cow::Borrowed(src),
            },
            b'$' if in_dq && b.get(i + 1) == Some(&b'{') => {
                // A plain operand only: no quotes, expansions or nested braces.
                let Some(len) = src[i + 2..].find('}') else {
                    return Cow::Borrowed(src);
                };
                let end = i + 2 + len;
                let body = &src[i + 2..end];
                if body.contains(['\'', '"', '$', '\\', '{', '\n']) {
                    i = end + 1;
                    continue;
                }
                let bb = body.as_bytes();
                let mut j = 0;
                while j < bb.len() {
                    if bb[j] == b' ' || bb[j] == b'\t' {
                        let start = j;
                        while j < bb.len() && (bb[j] == b' ' || bb[j] == b'\t') {
                            j += 1;
                        }
                        if &body[start..j] != " " {
                            out.push_str(&src[last..i + 2 + start]);
                            out.push('"');
                            out.push_str(&body[start..j]);
                            out.push('"');
                            last = i + 2 + j;
                        }
                    } else {
                        j += 1;
                    }
                }
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    if last == 0 {
        return Cow::Borrowed(src);
    }
    out.push_str(&src[last.min(src.len())..]);
    Cow::Owned(out)
}

/// Past the `)` matching the `(` at `i` (a command substitution inside double
/// quotes, skipped whole), or `None` when it does not close.
fn skip_parens(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'\'' => {
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::quote_blank_runs;

    #[test]
    fn blank_runs_in_double_quoted_operands_are_quoted() {
        assert_eq!(
            quote_blank_runs("echo \"${u:-a  b}\""),
            "echo \"${u:-a\"  \"b}\""
        );
        assert_eq!(quote_blank_runs("echo ${u:-a  b}"), "echo ${u:-a  b}");
        assert_eq!(quote_blank_runs("echo \"${u:-a b}\""), "echo \"${u:-a b}\"");
        assert_eq!(
            quote_blank_runs("echo '\"${u:-a  b}'"),
            "echo '\"${u:-a  b}'"
        );
        assert_eq!(
            quote_blank_runs("echo \"$(x \"(\")${u:-a  b}\""),
            "echo \"$(x \"(\")${u:-a\"  \"b}\""
        );
        assert_eq!(
            quote_blank_runs("echo \"$(echo ${u:-a  b})\""),
            "echo \"$(echo ${u:-a  b})\""
        );
    }
}
