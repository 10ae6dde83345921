//! Functions whose body is a `[[ ... ]]` command (`is_set() [[ -n $1 ]]`). bash accepts any
//! compound command as a function body; brush-parser 0.4 rejects `[[` there. Before parsing,
//! such a one-line definition is rewritten to the equivalent brace group
//! (`is_set() { [[ -n $1 ]]; }`), on the same line so line numbers do not move.

/// The source with those definitions rewritten; `None` when there is none.
pub fn rewrite(src: &str) -> Option<String> {
    if !src.contains("[[") {
        return None;
    }
    let mut changed = false;
    let mut out = String::with_capacity(src.len() + 16);
    for line in src.split_inclusive('\n') {
        match rewrite_line(line) {
            Some(l) => {
                out.push_str(&l);
                changed = true;
            }
            None => out.push_str(line),
        }
    }
    changed.then_some(out)
}

fn rewrite_line(line: &str) -> Option<String> {
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    let (kw, rest) = match body.strip_prefix("function") {
        Some(r) if r.starts_with([' ', '\t']) => ("function ", r.trim_start()),
        _ => ("", body),
    };
    let name_len = rest
        .find(|c: char| !(c.is_alphanumeric() || "_-.:+@".contains(c)))
        .unwrap_or(rest.len());
    if name_len == 0 {
        return None;
    }
    let (name, after) = rest.split_at(name_len);
    let after = after.trim_start();
    let after = match after.strip_prefix("()") {
        Some(a) => a.trim_start(),
        None if !kw.is_empty() => after,
        None => return None,
    };
    let cond = after.strip_prefix("[[")?;
    if !cond.starts_with([' ', '\t']) {
        return None;
    }
    let end = closing_brackets(cond)?;
    let (inner, tail) = cond.split_at(end);
    let tail = &tail[2..];
    let (tail, newline) = match tail.strip_suffix('\n') {
        Some(t) => (t, "\n"),
        None => (tail, ""),
    };
    // Whatever follows (redirections, `;`, `&&`, `|`, a comment) follows the definition in
    // bash exactly as it follows the brace group: `f() [[ x ]] && echo y` defines f, then
    // prints y; `f() [[ x ]] | cat` defines it in the pipeline's subshell only.
    let parens = if kw.is_empty() || rest[name_len..].trim_start().starts_with("()") {
        "()"
    } else {
        ""
    };
    Some(format!(
        "{indent}{kw}{name}{parens} {{ [[{inner}]]; }}{tail}{newline}"
    ))
}

/// Where the `]]` closing a conditional starts, outside quotes.
fn closing_brackets(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let (mut sq, mut dq) = (false, false);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if !sq => i += 1,
            b'\'' if !dq => sq = !sq,
            b'"' if !sq => dq = !dq,
            b']' if !sq && !dq && b.get(i + 1) == Some(&b']') => {
                let before_ok = i == 0 || matches!(b[i - 1], b' ' | b'\t');
                if before_ok {
                    return Some(i);
                }
            }
            b'\n' => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn rewrites_one_line_conditional_bodies() {
        assert_eq!(
            rewrite("f() [[ -n $1 ]]\nf x\n").as_deref(),
            Some("f() { [[ -n $1 ]]; }\nf x\n")
        );
        assert_eq!(
            rewrite("  g () [[ \"$a\" == ']]' ]] 2>/dev/null").as_deref(),
            Some("  g() { [[ \"$a\" == ']]' ]]; } 2>/dev/null")
        );
        assert_eq!(rewrite("[[ -n x ]] && echo y"), None);
        assert_eq!(
            rewrite("f() [[ x ]] && echo y").as_deref(),
            Some("f() { [[ x ]]; } && echo y")
        );
        assert_eq!(
            rewrite("f() [[ -n $1 ]]; f x && echo yes").as_deref(),
            Some("f() { [[ -n $1 ]]; }; f x && echo yes")
        );
    }
}
