//! Comments inside `$( ... )`. brush-parser 0.4's tokenizer reads a `$(...)` body as text up
//! to the matching `)`, so a quote or parenthesis inside a comment there (`$( # it's\n...)`)
//! makes it fail or misread it, where bash skips the comment. Such comments are blanked out
//! before parsing (same length, so positions and lines are unchanged); here-document bodies
//! are left as they are.

/// `src` with the comments inside command substitutions replaced by blanks, if it has any.
pub fn blank(src: &str) -> Option<String> {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    // Open substitutions: the parentheses open inside each, and whether it began in "...".
    let mut stack: Vec<(u32, bool)> = Vec::new();
    let (mut sq, mut dq, mut changed) = (false, false, false);
    // Delimiters of here-documents whose bodies start at the next newline (and `<<-`).
    let mut pending: Vec<(String, bool)> = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'\n' && !sq && !pending.is_empty() {
            i = skip_heredocs(src, i + 1, &std::mem::take(&mut pending));
            continue;
        }
        if sq {
            sq = c != b'\'';
            i += 1;
            continue;
        }
        match c {
            b'\\' => {
                i += 2;
                continue;
            }
            b'\'' if !dq => sq = true,
            b'<' if !dq && b.get(i + 1) == Some(&b'<') && b.get(i + 2) != Some(&b'<') => {
                let strip = b.get(i + 2) == Some(&b'-');
                let mut j = i + 2 + usize::from(strip);
                while matches!(b.get(j), Some(b' ' | b'\t')) {
                    j += 1;
                }
                let start = j;
                while b.get(j).is_some_and(|d| !b" \t\n;&|<>()".contains(d)) {
                    j += 1;
                }
                let word: String = src
                    .get(start..j)
                    .unwrap_or_default()
                    .chars()
                    .filter(|ch| !matches!(ch, '\'' | '"' | '\\'))
                    .collect();
                if !word.is_empty() {
                    pending.push((word, strip));
                }
                i = j;
                continue;
            }
            b'"' => dq = !dq,
            b'$' if b.get(i + 1) == Some(&b'(') && b.get(i + 2) != Some(&b'(') => {
                stack.push((0, dq));
                dq = false;
                i += 2;
                continue;
            }
            b'(' if !dq => {
                if let Some(top) = stack.last_mut() {
                    top.0 += 1;
                }
            }
            b')' if !dq => match stack.last_mut() {
                Some(top) if top.0 > 0 => top.0 -= 1,
                Some(_) => dq = stack.pop().is_some_and(|(_, d)| d),
                None => {}
            },
            b'#' if !dq
                && !stack.is_empty()
                && i > 0
                && matches!(b.get(i - 1), Some(b' ' | b'\t' | b'\n' | b'(' | b';')) =>
            {
                while let Some(&d) = b.get(i) {
                    if d == b'\n' {
                        break;
                    }
                    if let Some(o) = out.get_mut(i) {
                        *o = b' ';
                    }
                    i += 1;
                }
                changed = true;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if !changed {
        return None;
    }
    String::from_utf8(out).ok()
}

/// The index just past the bodies of the here-documents `docs`, whose first body line
/// starts at `i`.
fn skip_heredocs(src: &str, mut i: usize, docs: &[(String, bool)]) -> usize {
    for (word, strip) in docs {
        while i < src.len() {
            let end = src
                .get(i..)
                .and_then(|r| r.find('\n'))
                .map_or(src.len(), |e| i + e);
            let line = src.get(i..end).unwrap_or_default();
            let line = if *strip {
                line.trim_start_matches('\t')
            } else {
                line
            };
            i = end + 1;
            if line == word {
                break;
            }
        }
    }
    i
}

#[cfg(test)]
mod tests {
    #[test]
    fn comments_in_substitutions_are_blanked() {
        assert_eq!(
            super::blank("echo \"$( # it's\necho hi)\"").as_deref(),
            Some("echo \"$(       \necho hi)\"")
        );
        assert_eq!(super::blank("echo $# # top-level"), None);
        assert_eq!(super::blank("x=$(echo ${#a} '#')"), None);
        assert_eq!(super::blank("x=$(cat <<'E'\n # kept\nE\n)"), None);
    }
}
