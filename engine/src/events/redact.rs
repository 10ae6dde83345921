//! Secret redaction: every line hookbox prints or logs (hook output, its own messages, JSON)
//! passes through a [`Redactor`] first.
//!
//! A [`Redactor`] is built once per run from the hook environment: the values of variables
//! whose names mark them secret, and the passwords inside URL-valued variables, are collected
//! when they are at least [`MIN_SECRET_LEN`] characters long (shorter values would turn
//! ordinary words into `***`). Independently of the environment, any `scheme://user:PASS@`
//! in a line has `PASS` replaced, whatever its length.
//!
//! Known limit (documented for users): a hook that prints part of a secret
//! (`${DATABASE_URL:0:20}`) or an encoded form of it is not caught.

use std::collections::BTreeMap;

/// Shortest value treated as a secret when matched by value: 6 characters.
pub const MIN_SECRET_LEN: usize = 6;

/// What a redacted value is replaced with.
pub const MASK: &str = "***";

/// Replaces secrets in text. Cheap to clone; immutable once built.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Secret values, longest first so a secret containing another is masked whole.
    secrets: Vec<String>,
}

/// Whether a variable's name marks its value as secret (`*_TOKEN`, `*_SECRET`, `*PASSWORD*`,
/// `*_KEY`, and close spellings). Case-insensitive. Errs on the side of redacting.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n.contains("PASSWORD")
        || n.contains("PASSWD")
        || n.contains("SECRET")
        || n.contains("TOKEN")
        || n.ends_with("_KEY")
        || n == "KEY"
        || n.ends_with("_PASS")
        || n.ends_with("_PWD")
        || n.contains("CREDENTIAL")
}

impl Redactor {
    /// A redactor that only masks URL passwords (no environment known).
    pub fn empty() -> Self {
        Redactor::default()
    }

    /// Collects the secrets of an environment.
    pub fn from_env(env: &BTreeMap<String, String>) -> Self {
        let mut r = Redactor::default();
        for (name, value) in env {
            if is_secret_name(name) {
                r.add_secret(value);
            }
            for password in url_passwords(value) {
                r.add_secret(&password);
            }
        }
        r
    }

    /// Adds a value to mask (ignored when shorter than [`MIN_SECRET_LEN`]).
    pub fn add_secret(&mut self, value: &str) {
        if value.chars().count() < MIN_SECRET_LEN || self.secrets.iter().any(|s| s == value) {
            return;
        }
        self.secrets.push(value.to_string());
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// Merges another redactor's secrets into this one.
    pub fn extend(&mut self, other: &Redactor) {
        for s in &other.secrets {
            self.add_secret(s);
        }
    }

    /// The text with every known secret and every URL password masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = mask_url_passwords(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }
}

/// Passwords of the `scheme://user:password@host` URLs inside a value.
fn url_passwords(value: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (start, end) in url_password_spans(value) {
        found.push(value[start..end].to_string());
    }
    found
}

/// Byte spans of the password parts of `scheme://user:password@` in `text`.
fn url_password_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut search_from = 0;
    while let Some(rel) = text[search_from..].find("://") {
        let authority_start = search_from + rel + 3;
        // The authority ends at the first '/', whitespace, quote or end of text; the userinfo
        // is what precedes its last '@'.
        let mut end = authority_start;
        while end < bytes.len() {
            let c = bytes[end];
            if c == b'/'
                || c == b'?'
                || c == b'#'
                || c.is_ascii_whitespace()
                || c == b'"'
                || c == b'\''
            {
                break;
            }
            end += 1;
        }
        let authority = &text[authority_start..end];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            if let Some(colon) = userinfo.find(':') {
                let p_start = authority_start + colon + 1;
                let p_end = authority_start + at;
                if p_end > p_start {
                    spans.push((p_start, p_end));
                }
            }
        }
        search_from = end.max(authority_start);
    }
    spans
}

fn mask_url_passwords(text: &str) -> String {
    let spans = url_password_spans(text);
    if spans.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in spans {
        out.push_str(&text[last..start]);
        out.push_str(MASK);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn url_password_masked_whatever_its_length() {
        let r = Redactor::empty();
        assert_eq!(
            r.redact("DATABASE_URL=postgresql://user:pass@host:5432/dbname"),
            "DATABASE_URL=postgresql://user:***@host:5432/dbname"
        );
        assert_eq!(r.redact("redis://host:6379"), "redis://host:6379");
        assert_eq!(
            r.redact("see https://example.com/a:b@c"),
            "see https://example.com/a:b@c"
        );
    }

    #[test]
    fn secret_named_values_masked_anywhere() {
        let r = Redactor::from_env(&env(&[
            ("API_TOKEN", "sk-1234567890abcdef"),
            ("SHORT_TOKEN", "abc"),
            ("NODE_ENV", "production"),
            ("DATABASE_URL", "mysql://u:hunter22@db/x"),
        ]));
        assert_eq!(r.redact("Bearer sk-1234567890abcdef!"), "Bearer ***!");
        assert_eq!(r.redact("abc stays"), "abc stays");
        assert_eq!(r.redact("production"), "production");
        assert_eq!(r.redact("pw is hunter22"), "pw is ***");
    }

    #[test]
    fn secret_names() {
        for n in [
            "API_TOKEN",
            "AWS_SECRET",
            "DB_PASSWORD",
            "MYPASSWORDX",
            "API_KEY",
            "api_key",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in ["NODE_ENV", "KEYBOARD", "PATH", "HOME"] {
            assert!(!is_secret_name(n), "{n}");
        }
    }
}
