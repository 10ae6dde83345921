//! An I/O number past `i32::MAX` (`: 2147483648>x`): bash does not read it as a descriptor
//! but as a word of the command, so `>x` still redirects stdout (x is created, status 0).
//! brush-parser 0.4 panics converting it (peg.rs, an `unwrap`), which aborts the guest: a
//! blank goes between the digits and the operator, which is the reading bash gives it. Quotes
//! and escapes are skipped; the text keeps its lines.

/// The script with a blank after each overlong I/O number, or `None` when it has none.
pub(crate) fn split_overlong(src: &str) -> Option<String> {
    let b = src.as_bytes();
    // Cheap test first: ten digits in a row followed by a redirection operator.
    let mut run = 0usize;
    let mut any = false;
    for &c in b {
        if c.is_ascii_digit() {
            run += 1;
        } else {
            if run >= 10 && (c == b'<' || c == b'>') {
                any = true;
                break;
            }
            run = 0;
        }
    }
    if !any {
        return None;
    }
    let mut out = String::with_capacity(src.len() + 4);
    let mut i = 0;
    let mut changed = false;
    let (mut single, mut double) = (false, false);
    while i < b.len() {
        let c = b[i];
        if single {
            single = c != b'\'';
        } else if c == b'\\' {
            // The escaped character is copied with it.
            let next = src[i + 1..].chars().next().map_or(0, char::len_utf8);
            out.push_str(&src[i..i + 1 + next]);
            i += 1 + next;
            continue;
        } else if double {
            double = c != b'"';
        } else if c == b'\'' {
            single = true;
        } else if c == b'"' {
            double = true;
        } else if c.is_ascii_digit() && (i == 0 || word_break(b[i - 1])) {
            let end = i + b[i..].iter().take_while(|d| d.is_ascii_digit()).count();
            let next = b.get(end).copied();
            let overlong = src[i..end].parse::<i32>().is_err();
            if overlong && matches!(next, Some(b'<' | b'>')) {
                out.push_str(&src[i..end]);
                out.push(' ');
                changed = true;
                i = end;
                continue;
            }
            out.push_str(&src[i..end]);
            i = end;
            continue;
        }
        let len = src[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&src[i..i + len]);
        i += len;
    }
    changed.then_some(out)
}

/// A character that ends the word before an I/O number.
fn word_break(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')')
}

#[cfg(test)]
mod tests {
    use super::split_overlong;

    #[test]
    fn only_overlong_io_numbers_outside_quotes_are_split() {
        assert_eq!(
            split_overlong(": 2147483648>x").as_deref(),
            Some(": 2147483648 >x")
        );
        assert_eq!(
            split_overlong(": 99999999999<&0").as_deref(),
            Some(": 99999999999 <&0")
        );
        assert_eq!(split_overlong(": 2147483647>x"), None);
        assert_eq!(split_overlong("echo '99999999999>x'"), None);
        assert_eq!(split_overlong("echo \"99999999999>x\""), None);
        assert_eq!(split_overlong("echo a99999999999>x"), None);
    }
}
