//! Every way the shell quotes a value for output: `set -x` words, `declare -p` values and
//! keys, `${v@Q}`, `alias` and `$'...'` for control characters.

use crate::state::Value;

pub(crate) fn has_ctl(s: &str) -> bool {
    s.chars().any(|c| (c as u32) < 0x20 || c as u32 == 0x7f)
}

/// `$'...'` quoting with bash's escapes.
pub(crate) fn ansi_quote(s: &str) -> String {
    let mut o = String::from("$'");
    for c in s.chars() {
        match c {
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            '\x07' => o.push_str("\\a"),
            '\x08' => o.push_str("\\b"),
            '\x0b' => o.push_str("\\v"),
            '\x0c' => o.push_str("\\f"),
            '\x1b' => o.push_str("\\E"),
            '\'' => o.push_str("\\'"),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                o.push_str(&format!("\\{:03o}", c as u32))
            }
            c => o.push(c),
        }
    }
    o.push('\'');
    o
}

pub(crate) fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `'...'` quoting as bash's `${v@Q}` and `printf %q`-ish output use.
/// `${v@Q}`: `$'...'` when there are control characters, and bash's
/// special case of a lone single quote.
pub(crate) fn quote_q(s: &str) -> String {
    if has_ctl(s) {
        ansi_quote(s)
    } else if s == "'" {
        "\\'".to_string()
    } else {
        quote(s)
    }
}

pub(crate) fn dq_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "\\$")
        .replace('`', "\\`")
}

pub(crate) fn dq_value(s: &str) -> String {
    if has_ctl(s) {
        ansi_quote(s)
    } else {
        format!("\"{}\"", dq_escape(s))
    }
}

pub(crate) fn sq_if_needed(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:,+@%=".contains(c))
    {
        s.to_string()
    } else if has_ctl(s) {
        ansi_quote(s)
    } else if s == "'" {
        "\\'".to_string()
    } else {
        quote(s)
    }
}

/// A value as `declare -p` shows it after the `=`.
pub(crate) fn value_text(val: &Value) -> String {
    match val {
        Value::Str(s) => dq_value(s),
        Value::Arr(a) => {
            let items: Vec<String> = a
                .iter()
                .map(|(k, v)| format!("[{k}]={}", dq_value(v)))
                .collect();
            format!("({})", items.join(" "))
        }
        Value::Assoc(a) => {
            let items: Vec<String> = crate::state::assoc_order(a)
                .into_iter()
                .map(|(k, v)| format!("[{}]={} ", assoc_key_text(k), dq_value(v)))
                .collect();
            format!("({})", items.concat())
        }
    }
}

/// An associative array key as bash prints it: quoted when it holds shell syntax.
pub(crate) fn assoc_key_text(k: &str) -> String {
    let metas = k.chars().enumerate().any(|(i, c)| {
        " \t\n'\"\\|&;()<>!{}*[?]^$`".contains(c) || (i == 0 && (c == '#' || c == '~'))
    }) || k.contains("=~")
        || k.contains(":~")
        || k == "@"
        || k == "*";
    if has_ctl(k) {
        ansi_quote(k)
    } else if metas {
        format!("\"{}\"", dq_escape(k))
    } else {
        k.to_string()
    }
}

/// Quoting as `set -x` shows words.
pub(crate) fn xquote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%^".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Quotes an alias value the way `alias` prints it.
pub(crate) fn single_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}
