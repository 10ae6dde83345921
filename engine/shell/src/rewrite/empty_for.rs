//! brush-parser reads `for x in ; do` (an empty word list, which runs the body
//! no times) the same as `for x; do` (which walks the positional parameters).
//! Before parsing, such an empty list gets a word that expands to nothing.

use std::borrow::Cow;

/// Expands to no word at all, whatever the positional parameters and `set -u`.
const NOTHING: &str = " ${@:1:0}";

pub fn fill_empty_for_lists(src: &str) -> Cow<'_, str> {
    if !src.contains("for") || !has_empty_in(src) {
        return Cow::Borrowed(src);
    }
    let Ok(tokens) = brush_parser::tokenize_str(src) else {
        return Cow::Borrowed(src);
    };
    let mut inserts: Vec<usize> = Vec::new();
    for w in tokens.windows(4) {
        let (brush_parser::Token::Word(f, _), brush_parser::Token::Word(_, _)) = (&w[0], &w[1])
        else {
            continue;
        };
        let brush_parser::Token::Word(kw, span) = &w[2] else {
            continue;
        };
        let ends_list =
            matches!(&w[3], brush_parser::Token::Operator(op, _) if op == ";" || op == "\n");
        if f == "for" && kw == "in" && ends_list {
            inserts.push(span.end.index);
        }
    }
    if inserts.is_empty() {
        return Cow::Borrowed(src);
    }
    // Token positions count characters, not bytes.
    let mut out = String::with_capacity(src.len() + inserts.len() * NOTHING.len());
    let mut next = inserts.iter().peekable();
    for (ci, ch) in src.chars().enumerate() {
        while next.peek().is_some_and(|&&p| p == ci) {
            out.push_str(NOTHING);
            next.next();
        }
        out.push(ch);
    }
    if next.peek().is_some() {
        out.push_str(NOTHING);
    }
    Cow::Owned(out)
}

/// Whether some word `in` is followed (after blanks) by `;` or a newline.
fn has_empty_in(src: &str) -> bool {
    let b = src.as_bytes();
    let mut from = 0;
    while let Some(p) = src[from..].find("in") {
        let at = from + p;
        from = at + 2;
        if at == 0 || !matches!(b[at - 1], b' ' | b'\t') {
            continue;
        }
        let mut j = at + 2;
        while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
            j += 1;
        }
        if j < b.len() && (b[j] == b';' || b[j] == b'\n') {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::fill_empty_for_lists;

    #[test]
    fn only_empty_lists_are_filled() {
        assert_eq!(
            fill_empty_for_lists("for i in ; do echo $i; done"),
            "for i in ${@:1:0} ; do echo $i; done"
        );
        assert_eq!(
            fill_empty_for_lists("for i in\ndo :; done"),
            "for i in ${@:1:0}\ndo :; done"
        );
        assert_eq!(
            fill_empty_for_lists("for i in a; do :; done"),
            "for i in a; do :; done"
        );
        assert_eq!(
            fill_empty_for_lists("for i; do :; done"),
            "for i; do :; done"
        );
        assert_eq!(
            fill_empty_for_lists("echo 'for i in ;'"),
            "echo 'for i in ;'"
        );
    }
}
