//! UTC timestamps: RFC 3339 for hooks.log lines and release records (humantime's), and the
//! compact form release ids are named by.

use std::time::SystemTime;

/// `2026-11-22T00:15:06.123Z` for `t` (milliseconds, UTC).
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// Compact UTC stamp for release ids: `2026-11-22T00:15:06.123Z` → `20261122-001506-123`.
pub fn compact(t: SystemTime) -> String {
    let s = rfc3339(t);
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    // digits = YYYYMMDDhhmmssSSS
    if digits.len() == 17 {
        format!("{}-{}-{}", &digits[..8], &digits[8..14], &digits[14..])
    } else {
        digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_306_506_123);
        assert_eq!(rfc3339(t), "2026-11-22T00:15:06.123Z");
        assert_eq!(compact(t), "20261122-001506-123");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }
}
