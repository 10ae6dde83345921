//! Shell patterns (`*`, `?`, `[...]`, extglob) translated to regexes, and pathname expansion
//! relative to the shell's own cwd (WASI has no chdir).

use regex::Regex;
use std::path::Path;

/// Does the pattern have an unescaped glob metacharacter?
pub fn has_glob(pat: &str) -> bool {
    let b = pat.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'*' | b'?' => return true,
            // A `[` is a bracket expression only with a `]` after it, as in bash: a lone `[`
            // (the test command's name) is a literal word, never a directory scan.
            b'[' if b[i + 1..].iter().skip(1).any(|&c| c == b']') => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// Removes the backslashes that quote characters in a pattern.
pub fn unescape(pat: &str) -> String {
    let mut out = String::with_capacity(pat.len());
    let mut it = pat.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            } else {
                out.push('\\');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Escapes glob metacharacters so the text matches literally.
pub fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        if matches!(
            c,
            '*' | '?' | '[' | ']' | '\\' | '(' | ')' | '|' | '!' | '@' | '+' | '-' | '^'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Translates a shell pattern into regex syntax (unanchored).
pub fn to_regex(pat: &str, extglob: bool) -> String {
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    // Stack of open extglob groups: the operator that closes each.
    let mut groups: Vec<char> = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if extglob && matches!(c, '@' | '*' | '+' | '?' | '!') && chars.get(i + 1) == Some(&'(') {
            groups.push(c);
            out.push_str("(?:");
            i += 2;
            continue;
        }
        match c {
            '\\' => {
                i += 1;
                if let Some(n) = chars.get(i) {
                    out.push_str(&regex::escape(&n.to_string()));
                } else {
                    out.push_str("\\\\");
                }
            }
            '*' => out.push_str("(?s:.*)"),
            '?' => out.push_str("(?s:.)"),
            '|' if !groups.is_empty() => out.push('|'),
            ')' if !groups.is_empty() => {
                let op = groups.pop().unwrap_or('@');
                out.push(')');
                match op {
                    '*' => out.push('*'),
                    '+' => out.push('+'),
                    '?' => out.push('?'),
                    _ => {}
                }
            }
            '[' => {
                // Find the closing bracket; a leading ']' is literal.
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '!' || chars[j] == '^') {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ']' {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    if chars[j] == '[' && chars.get(j + 1) == Some(&':') {
                        if let Some(k) = (j + 2..chars.len().saturating_sub(1))
                            .find(|&k| chars[k] == ':' && chars[k + 1] == ']')
                        {
                            j = k + 2;
                            continue;
                        }
                    }
                    if chars[j] == '\\' {
                        j += 1;
                    }
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str("\\[");
                } else {
                    out.push('[');
                    let mut k = i + 1;
                    if chars[k] == '!' || chars[k] == '^' {
                        out.push('^');
                        k += 1;
                    }
                    let start = k;
                    while k < j {
                        let d = chars[k];
                        if d == '[' && chars.get(k + 1) == Some(&':') {
                            if let Some(e) = (k + 2..j)
                                .find(|&e| chars[e] == ':' && chars.get(e + 1) == Some(&']'))
                            {
                                let name: String = chars[k + 2..e].iter().collect();
                                out.push_str(&format!("[:{name}:]"));
                                k = e + 2;
                                continue;
                            }
                        }
                        if d == '\\' && k + 1 < j {
                            k += 1;
                            out.push('\\');
                            out.push(chars[k]);
                        } else if d == '-' && k != start && k + 1 < j {
                            out.push('-');
                        } else if matches!(d, '[' | ']' | '\\' | '^' | '-' | '&' | '~') {
                            out.push('\\');
                            out.push(d);
                        } else {
                            out.push(d);
                        }
                        k += 1;
                    }
                    out.push(']');
                    i = j;
                }
            }
            c => {
                let mut b = [0u8; 4];
                out.push_str(&regex::escape(c.encode_utf8(&mut b)));
            }
        }
        i += 1;
    }
    for _ in groups {
        out.push(')');
    }
    out
}

/// A compiled, fully anchored pattern.
pub fn compile(pat: &str, extglob: bool, nocase: bool) -> Option<Regex> {
    let r = format!("^(?:{})$", to_regex(pat, extglob));
    regex::RegexBuilder::new(&r)
        .case_insensitive(nocase)
        .unicode(true)
        .build()
        .ok()
}

/// Pathname expansion of `pat` (escaped pattern) against `cwd`; sorted matches.
pub fn glob(pat: &str, cwd: &Path, opts: GlobOpts) -> Vec<String> {
    let absolute = pat.starts_with('/');
    let comps: Vec<&str> = pat.split('/').filter(|c| !c.is_empty()).collect();
    let mut results: Vec<String> = vec![if absolute { "/".into() } else { String::new() }];
    for (ci, comp) in comps.iter().enumerate() {
        let last = ci + 1 == comps.len();
        let mut next = Vec::new();
        if opts.globstar && *comp == "**" {
            for r in &results {
                let mut stack = vec![r.clone()];
                while let Some(d) = stack.pop() {
                    if !d.is_empty() || !last {
                        next.push(d.clone());
                    }
                    let dir = if d.is_empty() {
                        cwd.to_path_buf()
                    } else {
                        cwd.join(&d)
                    };
                    let Ok(rd) = std::fs::read_dir(&dir) else {
                        continue;
                    };
                    let mut names: Vec<String> = rd
                        .filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| opts.dotglob || !n.starts_with('.'))
                        .collect();
                    names.sort();
                    for n in names.into_iter().rev() {
                        let p = join(&d, &n);
                        if cwd.join(&p).is_dir() {
                            stack.push(p);
                        } else if last {
                            next.push(p);
                        }
                    }
                }
            }
            next.sort();
            next.dedup();
            results = next;
            continue;
        }
        let negated = opts.extglob
            && comp.starts_with("!(")
            && comp.ends_with(')')
            && !comp[2..comp.len() - 1].contains(['(', ')']);
        if !(has_glob(comp) || negated || (opts.extglob && has_extglob(comp))) {
            let lit = unescape(comp);
            for r in &results {
                let p = join(r, &lit);
                let full = cwd.join(&p);
                if (last && std::fs::symlink_metadata(&full).is_ok()) || full.is_dir() {
                    next.push(p);
                }
            }
        } else {
            let inner = if negated {
                format!("@{}", &comp[1..])
            } else {
                comp.to_string()
            };
            let re = match compile(&inner, opts.extglob, opts.nocase) {
                Some(r) => r,
                None => return Vec::new(),
            };
            let dot_ok = opts.dotglob || comp.starts_with('.') || comp.starts_with("\\.");
            for r in &results {
                let dir = if r.is_empty() {
                    cwd.to_path_buf()
                } else {
                    cwd.join(r)
                };
                let Ok(rd) = std::fs::read_dir(&dir) else {
                    continue;
                };
                let mut names: Vec<String> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| (dot_ok || !n.starts_with('.')) && re.is_match(n) != negated)
                    .collect();
                names.sort();
                for n in names {
                    let p = join(r, &n);
                    if (last && !pat.ends_with('/')) || cwd.join(&p).is_dir() {
                        next.push(p);
                    }
                }
            }
        }
        results = next;
        if results.is_empty() {
            break;
        }
    }
    if pat.ends_with('/') {
        for r in &mut results {
            r.push('/');
        }
    }
    results.sort_by(|a, b| collate(a, b));
    results
}

/// bash sorts glob results with the locale's collation; approximate en_US by comparing
/// case-insensitively on alphanumerics first.
pub fn collate(a: &str, b: &str) -> std::cmp::Ordering {
    a.cmp(b)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Does the pattern use an extglob group like `@(a|b)`?
/// The first unescaped `!(...)` group of `pat`, as (text before, the
/// alternatives inside, text after).
pub fn split_negation(pat: &str) -> Option<(String, String, String)> {
    let c: Vec<char> = pat.chars().collect();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '\\' => i += 2,
            '!' if c.get(i + 1) == Some(&'(') => {
                let mut depth = 0;
                let mut k = i + 2;
                while k < c.len() {
                    match c[k] {
                        '\\' => k += 1,
                        '(' => depth += 1,
                        ')' if depth == 0 => {
                            let s = |a: usize, b: usize| c[a..b].iter().collect::<String>();
                            return Some((s(0, i), s(i + 2, k), s(k + 1, c.len())));
                        }
                        ')' => depth -= 1,
                        _ => {}
                    }
                    k += 1;
                }
                return None;
            }
            _ => i += 1,
        }
    }
    None
}

pub fn has_extglob(pat: &str) -> bool {
    let b = pat.as_bytes();
    (1..b.len()).any(|i| {
        b[i] == b'('
            && matches!(b[i - 1], b'@' | b'*' | b'+' | b'?' | b'!')
            && (i < 2 || b[i - 2] != b'\\')
    })
}

#[derive(Clone, Copy, Default)]
pub struct GlobOpts {
    pub globstar: bool,
    pub extglob: bool,
    pub dotglob: bool,
    pub nocase: bool,
}
