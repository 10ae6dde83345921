//! `date`: the current time (or `-d`'s, or a file's with `-r`) formatted like GNU date, in UTC.
//!
//! Input is the clock (`SystemTime`), a `-d` string (`@EPOCH`, `now`, `today`, ISO 8601 dates
//! and times) or a file's mtime; output is one line on stdout. All the `strftime` conversions of
//! the C locale are implemented here, with GNU's flags (`-`, `_`, `0`, `^`, `#`) and widths, so
//! no time crate is needed in the guest. There is no time-zone database in the guest, so every
//! time is shown in UTC. Setting the clock is refused.

use std::time::{SystemTime, UNIX_EPOCH};

use super::opts::{self, Spec};
use super::{errno_text, quote, quotef, resolve, write_failed, ToolContext};

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tm {
    year: i64,
    /// 1..=12
    month: u32,
    /// 1..=31
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    nanos: u32,
    /// 0 = Sunday
    wday: u32,
    /// 0-based day of the year
    yday: u32,
    epoch: i64,
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

impl Tm {
    pub(crate) fn from_epoch(secs: i64, nanos: u32) -> Tm {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        let yday = (days - days_from_civil(year, 1, 1)) as u32;
        Tm {
            year,
            month,
            day,
            hour: rem / 3600,
            min: rem / 60 % 60,
            sec: rem % 60,
            nanos,
            wday: (days + 4).rem_euclid(7) as u32,
            yday,
            epoch: secs,
        }
    }

    /// ISO 8601 week-based year and week number.
    fn iso_week(&self) -> (i64, u32) {
        let wday_mon = (self.wday + 6) % 7; // Monday = 0
        let yday = i64::from(self.yday);
        let week = (yday - i64::from(wday_mon) + 10) / 7;
        if week < 1 {
            let py = self.year - 1;
            let pdays = if is_leap(py) { 366 } else { 365 };
            let pyday = yday + pdays;
            ((py), ((pyday - i64::from(wday_mon) + 10) / 7) as u32)
        } else {
            let days_in_year = if is_leap(self.year) { 366 } else { 365 };
            if week == 53 && (days_in_year - yday) <= 3 - i64::from(wday_mon) {
                (self.year + 1, 1)
            } else {
                (self.year, week as u32)
            }
        }
    }
}

/// Formats `tm` with a strftime format in the C locale, GNU flavour.
pub(crate) fn format(tm: &Tm, fmt: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        let start = i - 1;
        let mut flag: Option<char> = None;
        let mut upper = false;
        let mut swap = false;
        while i < chars.len() && "-_0^#".contains(chars[i]) {
            match chars[i] {
                '^' => upper = true,
                '#' => swap = true,
                f => flag = Some(f),
            }
            i += 1;
        }
        let mut width: Option<usize> = None;
        while i < chars.len() && chars[i].is_ascii_digit() {
            let d = chars[i] as usize - '0' as usize;
            width = Some(
                width
                    .unwrap_or(0)
                    .saturating_mul(10)
                    .saturating_add(d)
                    .min(1024),
            );
            i += 1;
        }
        let mut colons = 0;
        while i < chars.len() && chars[i] == ':' {
            colons += 1;
            i += 1;
        }
        if i < chars.len() && (chars[i] == 'E' || chars[i] == 'O') {
            i += 1;
        }
        let Some(&conv) = chars.get(i) else {
            out.extend(&chars[start..]);
            break;
        };
        i += 1;
        // (text, is numeric, default width, default pad)
        let num = |v: i64, w: usize, pad: char| -> (String, bool, usize, char) {
            (v.to_string(), true, w, pad)
        };
        let text = |s: &str| -> (String, bool, usize, char) { (s.to_string(), false, 0, ' ') };
        let hour12 = if tm.hour.is_multiple_of(12) {
            12
        } else {
            tm.hour % 12
        };
        let piece = match conv {
            'a' => text(&DAYS[tm.wday as usize][..3]),
            'A' => text(DAYS[tm.wday as usize]),
            'b' | 'h' => text(&MONTHS[tm.month as usize - 1][..3]),
            'B' => text(MONTHS[tm.month as usize - 1]),
            'c' => text(&format(tm, "%a %b %e %H:%M:%S %Y")),
            'C' => num(tm.year.div_euclid(100), 2, '0'),
            'd' => num(tm.day.into(), 2, '0'),
            'D' | 'x' => text(&format(tm, "%m/%d/%y")),
            'e' => num(tm.day.into(), 2, ' '),
            'F' => text(&format(tm, "%Y-%m-%d")),
            'g' => num(tm.iso_week().0.rem_euclid(100), 2, '0'),
            'G' => num(tm.iso_week().0, 0, '0'),
            'H' => num(tm.hour.into(), 2, '0'),
            'I' => num(hour12.into(), 2, '0'),
            'j' => num(i64::from(tm.yday) + 1, 3, '0'),
            'k' => num(tm.hour.into(), 2, ' '),
            'l' => num(hour12.into(), 2, ' '),
            'm' => num(tm.month.into(), 2, '0'),
            'M' => num(tm.min.into(), 2, '0'),
            'n' => text("\n"),
            'N' => {
                let digits = format!("{:09}", tm.nanos);
                let w = width.unwrap_or(9).clamp(1, 9);
                width = None;
                text(&digits[..w])
            }
            'p' => {
                let s = if tm.hour < 12 { "AM" } else { "PM" };
                if swap {
                    swap = false;
                    text(&s.to_lowercase())
                } else {
                    text(s)
                }
            }
            'P' => text(if tm.hour < 12 { "am" } else { "pm" }),
            'q' => num(i64::from((tm.month - 1) / 3 + 1), 1, '0'),
            'r' => text(&format(tm, "%I:%M:%S %p")),
            'R' => text(&format(tm, "%H:%M")),
            's' => num(tm.epoch, 0, '0'),
            'S' => num(tm.sec.into(), 2, '0'),
            't' => text("\t"),
            'T' | 'X' => text(&format(tm, "%H:%M:%S")),
            'u' => num(if tm.wday == 0 { 7 } else { tm.wday.into() }, 1, '0'),
            'U' => num(i64::from((tm.yday + 7 - tm.wday) / 7), 2, '0'),
            'V' => num(tm.iso_week().1.into(), 2, '0'),
            'w' => num(tm.wday.into(), 1, '0'),
            'W' => num(i64::from((tm.yday + 7 - (tm.wday + 6) % 7) / 7), 2, '0'),
            'y' => num(tm.year.rem_euclid(100), 2, '0'),
            'Y' => num(tm.year, 0, '0'),
            'z' => text(match colons {
                0 => "+0000",
                1 => "+00:00",
                2 => "+00:00:00",
                _ => "+00",
            }),
            'Z' => {
                if swap {
                    swap = false;
                    text("utc")
                } else {
                    text("UTC")
                }
            }
            '%' => text("%"),
            _ => {
                out.extend(&chars[start..i]);
                continue;
            }
        };
        let (mut s, numeric, default_w, default_pad) = piece;
        if upper || swap {
            s = s.to_uppercase();
        }
        let pad = match flag {
            Some('-') => None,
            Some('_') => Some(' '),
            Some('0') => Some('0'),
            _ => Some(default_pad),
        };
        let w = width.unwrap_or(if numeric { default_w } else { 0 });
        if let Some(p) = pad {
            let len = s.chars().count();
            if len < w {
                let fill: String = std::iter::repeat_n(p, w - len).collect();
                if p == '0' && s.starts_with('-') {
                    s = format!("-{fill}{}", &s[1..]);
                } else {
                    s = format!("{fill}{s}");
                }
            }
        } else if numeric && default_pad == ' ' {
            s = s.trim_start().to_string();
        }
        out.push_str(&s);
    }
    out
}

/// Parses the `-d` strings hooks use: `@EPOCH`, an absolute date (ISO 8601, `today`, ...)
/// optionally followed by relative items (`2 hours ago`, `+1 day`, `next week`), or relative
/// items alone (from now). None when not understood.
fn parse_date(s: &str, now: (i64, u32)) -> Option<(i64, u32)> {
    let t = s.trim();
    if let Some(v) = parse_absolute(t, now) {
        return Some(v);
    }
    let tokens: Vec<String> = t
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    for split in (0..=tokens.len().min(3)).rev() {
        let base = if split == 0 {
            Some(now)
        } else {
            parse_absolute(&tokens[..split].join(" "), now)
        };
        if let Some(b) = base {
            if let Some(r) = apply_relative(b, &tokens[split..]) {
                return Some(r);
            }
        }
    }
    None
}

/// Applies GNU relative items (`N unit`, `ago`, `next`/`last`, `yesterday`...) to `base`.
fn apply_relative(base: (i64, u32), tokens: &[String]) -> Option<(i64, u32)> {
    if tokens.is_empty() {
        return None;
    }
    // (amount, unit) with unit: 's' seconds, 'M' months, 'Y' years.
    let mut items: Vec<(i64, i64, char)> = Vec::new();
    let mut pending: Option<i64> = None;
    for tok in tokens {
        let tok = tok.as_str();
        if let Ok(n) = tok.trim_start_matches('+').parse::<i64>() {
            if pending.is_some() {
                return None;
            }
            pending = Some(n);
            continue;
        }
        let word_amount = match tok {
            "next" => Some(1),
            "last" => Some(-1),
            "this" => Some(0),
            _ => None,
        };
        if let Some(n) = word_amount {
            pending = Some(n);
            continue;
        }
        let day_shift = match tok {
            "yesterday" => Some(-1),
            "tomorrow" => Some(1),
            "today" | "now" => Some(0),
            _ => None,
        };
        if let Some(d) = day_shift {
            items.push((d, 86_400, 's'));
            continue;
        }
        if tok == "ago" {
            // GNU's `ago` negates the one item before it: "2 hours 30 minutes ago" is +2h -30m.
            match items.last_mut() {
                Some(item) if pending.is_none() => item.0 = -item.0,
                _ => return None,
            }
            continue;
        }
        let (mult, kind) = match tok.strip_suffix('s').filter(|u| u.len() > 2).unwrap_or(tok) {
            "sec" | "second" => (1, 's'),
            "min" | "minute" => (60, 's'),
            "hour" => (3600, 's'),
            "day" => (86_400, 's'),
            "week" => (7 * 86_400, 's'),
            "fortnight" => (14 * 86_400, 's'),
            "month" => (1, 'M'),
            "year" => (1, 'Y'),
            _ => return None,
        };
        items.push((pending.take().unwrap_or(1), mult, kind));
    }
    if pending.is_some() {
        return None;
    }
    let (mut secs, nanos) = base;
    let mut months: i64 = 0;
    for (n, mult, kind) in items {
        match kind {
            's' => secs = secs.checked_add(n.checked_mul(mult)?)?,
            'M' => months = months.checked_add(n)?,
            _ => months = months.checked_add(n.checked_mul(12)?)?,
        }
    }
    if months != 0 {
        // Calendar months: keep the day of month and time; an overflowing day rolls into the
        // next month, as GNU's mktime normalisation does.
        let tm = Tm::from_epoch(secs, nanos);
        let total = tm.year.checked_mul(12)? + i64::from(tm.month) - 1 + months;
        let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
        let tod = secs.rem_euclid(86_400);
        secs = days_from_civil(y, m, 1) + i64::from(tm.day) - 1;
        secs = secs.checked_mul(86_400)?.checked_add(tod)?;
    }
    Some((secs, nanos))
}

/// An absolute time: `@EPOCH`, `now`, `today`, `yesterday`, `tomorrow`, `midnight` or an ISO
/// 8601 date with optional time.
fn parse_absolute(s: &str, now: (i64, u32)) -> Option<(i64, u32)> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    if lower.is_empty() || lower == "now" {
        return Some(now);
    }
    if let Some(rest) = t.strip_prefix('@') {
        let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
        let secs: i64 = int.trim().parse().ok()?;
        let mut nanos = 0u32;
        if !frac.is_empty() {
            if !frac.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let padded: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
            nanos = padded.parse().ok()?;
        }
        return Some((secs, nanos));
    }
    let day = now.0.div_euclid(86_400) * 86_400;
    match lower.as_str() {
        "today" => return Some(now),
        "yesterday" => return Some((now.0 - 86_400, now.1)),
        "tomorrow" => return Some((now.0 + 86_400, now.1)),
        "midnight" => return Some((day, 0)),
        _ => {}
    }
    // YYYY-MM-DD[( |T)HH:MM[:SS]][Z| UTC| +00:00]
    let t = t
        .strip_suffix(" UTC")
        .or_else(|| t.strip_suffix('Z'))
        .or_else(|| t.strip_suffix("+00:00"))
        .unwrap_or(t);
    let (date_part, time_part) = match t.find(['T', ' ']) {
        Some(i) => (&t[..i], Some(t[i + 1..].trim())),
        None => (t, None),
    };
    let mut dp = date_part.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    if dp.next().is_some() || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    let mut nanos = 0;
    if let Some(tp) = time_part {
        let (hms, frac) = tp.split_once('.').unwrap_or((tp, ""));
        let mut it = hms.split(':');
        let h: i64 = it.next()?.parse().ok()?;
        let mi: i64 = it.next()?.parse().ok()?;
        let se: i64 = match it.next() {
            Some(x) => x.parse().ok()?,
            None => 0,
        };
        if it.next().is_some() || h > 23 || mi > 59 || se > 60 {
            return None;
        }
        if !frac.is_empty() {
            let padded: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
            nanos = padded.parse().ok()?;
        }
        secs += h * 3600 + mi * 60 + se;
    }
    Some((secs, nanos))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

pub(crate) fn date(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    // -I and --iso-8601 take an optional attached value, which the shared parser does not do.
    let mut iso: Option<String> = None;
    let mut rest = Vec::new();
    for a in args.get(1..).unwrap_or(&[]) {
        if let Some(v) = a.strip_prefix("-I") {
            iso = Some(if v.is_empty() {
                "date".into()
            } else {
                v.into()
            });
        } else if a == "--iso-8601" {
            iso = Some("date".into());
        } else if let Some(v) = a.strip_prefix("--iso-8601=") {
            iso = Some(v.into());
        } else {
            rest.push(a.clone());
        }
    }
    let spec = Spec {
        flags: "uR",
        with_value: "dr",
        long: &[
            ("utc", false, 'u'),
            ("universal", false, 'u'),
            ("date", true, 'd'),
            ("reference", true, 'r'),
            ("rfc-email", false, 'R'),
            ("rfc-3339", true, '3'),
        ],
        stop_at_operand: false,
    };
    let (options, operands) = match opts::parse(&rest, &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("date", &e, ctx.stderr, 1),
    };
    let now = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(_) => (0, 0),
    };
    let mut when = now;
    let mut fmt = "%a %b %e %H:%M:%S %Z %Y".to_string();
    if let Some(v) = &iso {
        let f = match iso_format(v) {
            Some(f) => f,
            None => {
                let _ = writeln!(
                    ctx.stderr,
                    "date: invalid argument {} for '--iso-8601'",
                    quote(v)
                );
                return 1;
            }
        };
        fmt = f.to_string();
    }
    for o in options {
        let v = o.value.unwrap_or_default();
        match o.key {
            'd' => match parse_date(&v, now) {
                Some(t) => when = t,
                None => {
                    let _ = writeln!(ctx.stderr, "date: invalid date {}", quote(&v));
                    return 1;
                }
            },
            'r' => match std::fs::metadata(resolve(ctx.cwd, &v)).and_then(|m| m.modified()) {
                Ok(t) => {
                    when = match t.duration_since(UNIX_EPOCH) {
                        Ok(d) => (
                            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                            d.subsec_nanos(),
                        ),
                        Err(e) => {
                            let d = e.duration();
                            (-i64::try_from(d.as_secs()).unwrap_or(i64::MAX), 0)
                        }
                    }
                }
                Err(e) => {
                    let _ = writeln!(ctx.stderr, "date: {}: {}", quotef(&v), errno_text(&e));
                    return 1;
                }
            },
            'R' => fmt = "%a, %d %b %Y %H:%M:%S %z".into(),
            '3' => {
                fmt = match v.as_str() {
                    "date" => "%Y-%m-%d".into(),
                    "seconds" => "%Y-%m-%d %H:%M:%S%:z".into(),
                    "ns" => "%Y-%m-%d %H:%M:%S.%N%:z".into(),
                    _ => {
                        let _ = writeln!(
                            ctx.stderr,
                            "date: invalid argument {} for '--rfc-3339'",
                            quote(&v)
                        );
                        return 1;
                    }
                }
            }
            _ => {}
        }
    }
    let mut operands = operands.into_iter();
    if let Some(op) = operands.next() {
        match op.strip_prefix('+') {
            Some(f) => fmt = f.to_string(),
            None => {
                let _ = writeln!(ctx.stderr, "date: invalid date {}", quote(&op));
                return 1;
            }
        }
    }
    if let Some(extra) = operands.next() {
        let msg = format!("extra operand {}", quote(&extra));
        return opts::usage_error("date", &msg, ctx.stderr, 1);
    }
    let tm = Tm::from_epoch(when.0, when.1);
    let line = format(&tm, &fmt);
    if let Err(e) = writeln!(ctx.stdout, "{line}") {
        return write_failed("date", &e, ctx.stderr);
    }
    0
}

fn iso_format(v: &str) -> Option<&'static str> {
    let forms = [
        ("date", "%Y-%m-%d"),
        ("hours", "%Y-%m-%dT%H%:z"),
        ("minutes", "%Y-%m-%dT%H:%M%:z"),
        ("seconds", "%Y-%m-%dT%H:%M:%S%:z"),
        ("ns", "%Y-%m-%dT%H:%M:%S,%N%:z"),
    ];
    forms
        .iter()
        .find(|(name, _)| name.starts_with(v) && !v.is_empty())
        .map(|(_, f)| *f)
}

/// The clock's seconds since the epoch.
pub(crate) fn now_epoch() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// A `-d` string as epoch seconds (for `touch -d`).
pub(crate) fn parse_epoch(s: &str) -> Option<i64> {
    parse_date(s, (now_epoch(), 0)).map(|(secs, _)| secs)
}
