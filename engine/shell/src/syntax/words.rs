//! What the grammar reads inside a word's text: an assignment's name, a here-document's
//! delimiter, an array element's key, the three parts of `for (( ; ; ))`.

use brush_parser::ast::AssignmentName;

/// `NAME=`, `NAME+=`, `NAME[INDEX]=` or `NAME[INDEX]+=` at the start of `text`: the name,
/// whether it appends, and where the value starts.
pub(super) fn assignment_head(text: &str) -> Option<(AssignmentName, bool, usize)> {
    let b = text.as_bytes();
    let first = *b.first()?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return None;
    }
    let mut i = 1;
    while b
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        i += 1;
    }
    let name = &text[..i];
    let mut index = None;
    if b.get(i) == Some(&b'[') {
        let close = index_end(b, i)?;
        index = Some(&text[i + 1..close]);
        i = close + 1;
    }
    let append = b.get(i) == Some(&b'+');
    if append {
        i += 1;
    }
    if b.get(i) != Some(&b'=') {
        return None;
    }
    let name = match index {
        Some(ix) => AssignmentName::ArrayElementName(name.to_string(), ix.to_string()),
        None => AssignmentName::VariableName(name.to_string()),
    };
    Some((name, append, i + 1))
}

/// The `]` closing the `[` at `open`, past nested brackets and quotes.
fn index_end(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while let Some(&c) = b.get(i) {
        match c {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'\\' => i += 1,
            q @ (b'\'' | b'"') => {
                i += 1;
                while b.get(i).is_some_and(|&c| c != q) {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A here-document's delimiter with its quoting removed, and whether any part was quoted
/// (then the body is not expanded).
pub(super) fn heredoc_delimiter(raw: &str) -> (String, bool) {
    let mut out = String::new();
    let mut quoted = false;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                quoted = true;
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '\'' => {
                quoted = true;
                for n in chars.by_ref() {
                    if n == '\'' {
                        break;
                    }
                    out.push(n);
                }
            }
            '"' => {
                quoted = true;
                while let Some(n) = chars.next() {
                    match n {
                        '"' => break,
                        '\\' if chars
                            .peek()
                            .is_some_and(|p| matches!(p, '"' | '\\' | '$' | '`')) =>
                        {
                            if let Some(p) = chars.next() {
                                out.push(p);
                            }
                        }
                        _ => out.push(n),
                    }
                }
            }
            '$' if chars.peek().is_some_and(|p| *p == '\'' || *p == '"') => {}
            _ => out.push(c),
        }
    }
    (out, quoted)
}

/// `[KEY]=VALUE` in an array literal, else a plain value.
pub(super) fn array_element(e: &str) -> (Option<&str>, &str) {
    if e.starts_with('[') {
        if let Some(close) = index_end(e.as_bytes(), 0) {
            if let Some(value) = e[close + 1..].strip_prefix('=') {
                return (Some(&e[1..close]), value);
            }
        }
    }
    (None, e)
}

/// The initializer, condition and updater of `for (( ... ))`, split at the two `;` outside
/// parentheses and quotes.
pub(super) fn arith_for_parts(header: &str) -> Option<[String; 3]> {
    let b = header.as_bytes();
    let mut cuts = Vec::new();
    let (mut depth, mut i) = (0usize, 0usize);
    while let Some(&c) = b.get(i) {
        match c {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b';' if depth == 0 => cuts.push(i),
            q @ (b'\'' | b'"') => {
                i += 1;
                while b.get(i).is_some_and(|&c| c != q) {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let [a, z] = cuts[..] else {
        return None;
    };
    Some([
        header[..a].to_string(),
        header[a + 1..z].to_string(),
        header[z + 1..].to_string(),
    ])
}
