//! A bound on how deeply a script nests, checked on its text before the parser (which
//! recurses per level) sees it: bash has no such limit, but a guest's stack is fixed, and a
//! script nesting past [`MAX_PARSE_NESTING`] levels must be refused with a syntax error rather
//! than overflow it (a trap ends the whole hook). The count is lexical and generous: `(`, `{`
//! and the compound keywords open, their closers close, quotes and comments are skipped; real
//! scripts stay far below the bound.

use super::MAX_PARSE_NESTING;

/// The line where the nesting first passes [`MAX_PARSE_NESTING`], if it does.
pub fn too_deep(src: &str) -> Option<usize> {
    // Each level takes at least one character.
    if src.len() <= MAX_PARSE_NESTING {
        return None;
    }
    let b = src.as_bytes();
    let (mut depth, mut line, mut i) = (0usize, 1usize, 0usize);
    let (mut single, mut double) = (false, false);
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
        }
        if single {
            single = c != b'\'';
            i += 1;
            continue;
        }
        match c {
            b'\\' => i += 1,
            b'"' => double = !double,
            b'\'' if !double => single = true,
            b'#' if !double && (i == 0 || b[i - 1].is_ascii_whitespace()) => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'(' | b'{' => depth += 1,
            b')' | b'}' => depth = depth.saturating_sub(1),
            c if !double && c.is_ascii_alphabetic() && (i == 0 || !is_word(b[i - 1])) => {
                let end = i + b[i..].iter().take_while(|c| is_word(**c)).count();
                match &src[i..end] {
                    "if" | "while" | "until" | "for" | "case" | "select" => depth += 1,
                    "fi" | "done" | "esac" => depth = depth.saturating_sub(1),
                    _ => {}
                }
                i = end;
                continue;
            }
            _ => {}
        }
        if depth > MAX_PARSE_NESTING {
            return Some(line);
        }
        i += 1;
    }
    None
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nesting_past_the_bound_is_refused() {
        let ok = format!("{}:{}", "{ ".repeat(500), "; }".repeat(500));
        assert_eq!(too_deep(&ok), None);
        let deep = format!("{}:{}", "{ ".repeat(4000), "; }".repeat(4000));
        assert_eq!(too_deep(&deep), Some(1));
        let sequential = "{ :; }\n".repeat(5000);
        assert_eq!(too_deep(&sequential), None);
        let quoted = format!("echo '{}'", "(".repeat(5000));
        assert_eq!(too_deep(&quoted), None);
    }
}
