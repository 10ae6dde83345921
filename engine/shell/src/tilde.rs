//! Tilde expansion inside assignment words: bash expands a `~` prefix at the
//! start of the value and after every unquoted `:` (`PATH=~/bin:~/lib`), and,
//! outside POSIX mode, also in command arguments shaped like assignments
//! (`export P=~/x`, `make DESTDIR=~/out`). The parser only marks a tilde at the
//! very start of a word, so these are rewritten to quoted text beforehand.

use crate::state::Shell;
use std::borrow::Cow;

impl Shell {
    /// The value text of an assignment with its tilde prefixes replaced.
    pub(crate) fn tilde_value<'a>(&mut self, value: &'a str) -> Cow<'a, str> {
        if !value.contains('~') {
            return Cow::Borrowed(value);
        }
        self.rewrite_tildes(value, 0)
    }

    /// A command word shaped like `name=value` (or `name[i]+=value`) with the
    /// tildes of its value expanded; other words come back unchanged.
    pub(crate) fn tilde_assignment_word<'a>(&mut self, word: &'a str) -> Cow<'a, str> {
        if !word.contains('~') {
            return Cow::Borrowed(word);
        }
        match assignment_value_start(word) {
            Some(start) => self.rewrite_tildes(word, start),
            None => Cow::Borrowed(word),
        }
    }

    fn rewrite_tildes<'a>(&mut self, word: &'a str, start: usize) -> Cow<'a, str> {
        let b = word.as_bytes();
        let mut out = String::new();
        let mut copied = 0;
        let mut i = start;
        let mut depth = 0usize;
        let mut at_segment = true;
        while i < b.len() {
            let c = b[i];
            if at_segment && depth == 0 && c == b'~' {
                let end = word[i + 1..]
                    .find(['/', ':'])
                    .map_or(b.len(), |p| i + 1 + p);
                let name = &word[i + 1..end];
                if let Some(home) = self.tilde_home(name) {
                    out.push_str(&word[copied..i]);
                    out.push('\'');
                    out.push_str(&home.replace('\'', "'\\''"));
                    out.push('\'');
                    copied = end;
                }
                i = end;
                at_segment = false;
                continue;
            }
            at_segment = false;
            match c {
                b'\\' => i += 1,
                b'\'' if depth == 0 => {
                    i = word[i + 1..].find('\'').map_or(b.len(), |p| i + 1 + p);
                }
                b'"' => {
                    let mut j = i + 1;
                    while j < b.len() && b[j] != b'"' {
                        if b[j] == b'\\' {
                            j += 1;
                        }
                        j += 1;
                    }
                    i = j;
                }
                b'`' => {
                    i = word[i + 1..].find('`').map_or(b.len(), |p| i + 1 + p);
                }
                b'$' if matches!(b.get(i + 1), Some(b'(' | b'{')) => {
                    depth += 1;
                    i += 1;
                }
                b'(' | b'{' if depth > 0 => depth += 1,
                b')' | b'}' if depth > 0 => depth -= 1,
                b':' if depth == 0 => at_segment = true,
                _ => {}
            }
            i += 1;
        }
        if copied == 0 {
            return Cow::Borrowed(word);
        }
        out.push_str(&word[copied.min(word.len())..]);
        Cow::Owned(out)
    }

    /// What `~name` stands for, if bash would expand it.
    fn tilde_home(&mut self, name: &str) -> Option<String> {
        match name {
            "" => self.get("HOME").or_else(|| {
                std::env::var("USER")
                    .ok()
                    .and_then(|u| crate::expand::home_of(&u))
            }),
            "+" => self.get("PWD"),
            "-" => self.get("OLDPWD"),
            _ if name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')) =>
            {
                crate::expand::home_of(name)
            }
            _ => None,
        }
    }
}

/// Where the value starts in a word of the form `name=`, `name+=` or
/// `name[subscript]=`.
fn assignment_value_start(word: &str) -> Option<usize> {
    let b = word.as_bytes();
    if !b
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return None;
    }
    let mut i = 1;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        i += 1;
    }
    if b.get(i) == Some(&b'[') {
        let close = word[i..].find(']')?;
        i += close + 1;
    }
    if b.get(i) == Some(&b'+') {
        i += 1;
    }
    (b.get(i) == Some(&b'=')).then_some(i + 1)
}
