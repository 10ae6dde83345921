//! RFC 3339 UTC timestamps for hooks.log lines, without a date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// `2026-11-22T00:15:06.123Z` for `t`.
pub fn rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let millis = since.subsec_millis();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Compact UTC stamp for release ids: `20261122T001506.123Z` → `20261122-001506-123`.
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

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
