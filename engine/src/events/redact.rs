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

    /// Where a piece of output may be cut without splitting a secret: the largest position
    /// `p <= at` such that no secret occurrence starts before `p` and ends after it, and no
    /// `scheme://user:password@` authority spans it. `bytes` may be the start of more to come
    /// (a line still arriving, or one cut by the output cap), so a secret's beginning at the
    /// very end of `bytes` counts as an occurrence too. `0` when everything before `at` is
    /// part of one (a secret longer than `at`): the caller then cuts where it must.
    ///
    /// Output is redacted piece by piece; a secret split between two pieces would reach the
    /// log as two harmless-looking halves. Cost: linear in the secrets' lengths per call.
    pub fn cut_point(&self, bytes: &[u8], at: usize) -> usize {
        let mut p = at.min(bytes.len());
        loop {
            let mut earliest = p;
            for secret in &self.secrets {
                if let Some(start) = straddling(bytes, secret.as_bytes(), p) {
                    earliest = earliest.min(start);
                }
            }
            if let Some(start) = straddling_url(bytes, p) {
                earliest = earliest.min(start);
            }
            if earliest == p || earliest == 0 {
                return earliest;
            }
            p = earliest;
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

/// The earliest start of an occurrence of `secret` in `bytes` that spans position `p` (starts
/// before it, ends after it), counting an occurrence cut off by the end of `bytes`. KMP over
/// the window around `p`, so linear even for secrets like `aaaaaa` in output like `aaaa…`.
fn straddling(bytes: &[u8], secret: &[u8], p: usize) -> Option<usize> {
    let len = secret.len();
    if len < 2 || p == 0 {
        return None;
    }
    let start = p.saturating_sub(len - 1);
    let end = p.saturating_add(len - 1).min(bytes.len());
    let window = &bytes[start..end];
    let mut fail = vec![0usize; len];
    let mut k = 0;
    for i in 1..len {
        while k > 0 && secret[i] != secret[k] {
            k = fail[k - 1];
        }
        if secret[i] == secret[k] {
            k += 1;
        }
        fail[i] = k;
    }
    let mut earliest: Option<usize> = None;
    let mut k = 0;
    for (i, &b) in window.iter().enumerate() {
        while k > 0 && b != secret[k] {
            k = fail[k - 1];
        }
        if b == secret[k] {
            k += 1;
        }
        if k == len {
            let found = start + i + 1 - len;
            if found < p && p < found + len {
                earliest = Some(earliest.map_or(found, |e| e.min(found)));
            }
            k = fail[k - 1];
        }
    }
    // The longest partial match at the end of `bytes` may continue in what comes next.
    if end == bytes.len() && k > 0 {
        let found = bytes.len() - k;
        if found < p {
            earliest = Some(earliest.map_or(found, |e| e.min(found)));
        }
    }
    earliest
}

/// Longest `scheme://authority` looked at behind a cut: 2 KiB. An authority longer than this
/// is not a URL anyone types.
const URL_LOOKBACK_BYTES: usize = 2048;

/// The start of a `scheme://user:password@` whose authority spans `p` (or runs into the end
/// of `bytes`, where it may go on), so the cut goes before the whole URL.
fn straddling_url(bytes: &[u8], p: usize) -> Option<usize> {
    let from = p.saturating_sub(URL_LOOKBACK_BYTES);
    let window = &bytes[from..p];
    let mut earliest = None;
    let mut i = 0;
    while let Some(rel) = find(&window[i..], b"://") {
        let authority_start = from + i + rel + 3;
        let stop = |c: u8| {
            c == b'/'
                || c == b'?'
                || c == b'#'
                || c.is_ascii_whitespace()
                || c == b'"'
                || c == b'\''
        };
        let limit = authority_start
            .saturating_add(URL_LOOKBACK_BYTES)
            .min(bytes.len());
        let authority_end = bytes[authority_start..limit]
            .iter()
            .position(|&c| stop(c))
            .map(|n| authority_start + n);
        let spans = match authority_end {
            Some(end) => end > p && bytes[authority_start..end].contains(&b'@'),
            // Runs to the end of what arrived: it may still turn into `user:pass@`.
            None if limit == bytes.len() => bytes[authority_start..limit].contains(&b':'),
            // No end within reach: not a URL.
            None => false,
        };
        if spans {
            // Back to the scheme's start, so the mask sees the whole URL.
            let scheme_end = from + i + rel;
            let scheme_start = bytes[..scheme_end]
                .iter()
                .rposition(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))
                .map_or(0, |n| n + 1);
            earliest = Some(scheme_start);
            break;
        }
        i += rel + 3;
    }
    earliest
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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
    fn cuts_never_split_a_secret() {
        let mut r = Redactor::empty();
        r.add_secret("hunter2-secret");
        let line = b"xxxxhunter2-secretyyyy";
        // Every cut inside the secret moves to its start; cuts outside stay.
        for at in 5..18 {
            assert_eq!(r.cut_point(line, at), 4, "at {at}");
        }
        assert_eq!(r.cut_point(line, 4), 4);
        assert_eq!(r.cut_point(line, 18), 18);
        assert_eq!(r.cut_point(line, 20), 20);
        // The start of a secret at the end of what arrived may go on in what comes next.
        assert_eq!(r.cut_point(b"xxxxhunter", 10), 4);
        assert_eq!(r.cut_point(b"xxxxhunted", 10), 10);
        // Overlapping candidates move the cut to the earliest.
        let mut r = Redactor::empty();
        r.add_secret("aaaaaa");
        assert_eq!(r.cut_point(b"baaaaaaaaab", 8), 1);
        // A secret longer than the cut: 0, the caller must cut anyway.
        assert_eq!(r.cut_point(b"aaaaaaa", 3), 0);
    }

    #[test]
    fn cuts_never_split_a_url_password() {
        let r = Redactor::empty();
        let line = b"connecting to postgresql://user:pa55word@db:5432/app now";
        let at = line.iter().position(|&c| c == b'5').unwrap();
        assert_eq!(r.cut_point(line, at), 14);
        assert_eq!(r.cut_point(line, line.len() - 2), line.len() - 2);
        // Still arriving: the authority may yet hold a password.
        assert_eq!(r.cut_point(b"see https://user:pa", 19), 4);
        assert_eq!(r.cut_point(b"see https://example", 19), 19);
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
