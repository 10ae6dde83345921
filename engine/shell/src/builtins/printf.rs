//! `printf`: bash's format language (reused until the arguments run out, `%b`, `%q`,
//! `%(fmt)T`, `*` widths) and `-v var`.

use crate::io::Io;
use crate::state::Shell;

impl Shell {
    pub(super) fn b_printf(&mut self, a: &[String], io: &Io) -> i32 {
        let usage = "printf: usage: printf [-v var] format [arguments]";
        let mut i = 1;
        let mut var = None;
        // Options: -v var (or -vvar), then `--`; any other leading `-x` is an error.
        while let Some(o) = a.get(i) {
            if o == "--" {
                i += 1;
                break;
            }
            if o.len() < 2 || !o.starts_with('-') {
                break;
            }
            match o.strip_prefix("-v") {
                Some("") => match a.get(i + 1) {
                    Some(v) => {
                        var = Some(v.clone());
                        i += 2;
                    }
                    None => {
                        self.error_io(io, "printf: -v: option requires an argument");
                        self.error_io(io, usage);
                        return 2;
                    }
                },
                Some(v) => {
                    var = Some(v.to_string());
                    i += 1;
                }
                None => {
                    let c: String = o.chars().take(2).collect();
                    self.error_io(io, &format!("printf: {c}: invalid option"));
                    io.err(format!("{usage}\n").as_bytes());
                    return 2;
                }
            }
        }
        let Some(fmt) = a.get(i) else {
            self.error_io(io, usage);
            return 2;
        };
        let args = &a[i + 1..];
        let (out, st) = printf_format(fmt, args, |m| self.error_io(io, &format!("printf: {m}")));
        match var {
            Some(v) => {
                if let Some((n, idx)) = v.split_once('[') {
                    let idx = idx.trim_end_matches(']');
                    let Ok(key) = self.subscript_text_key(n, idx) else {
                        return 1;
                    };
                    let _ = self.set_elem(n, key, out);
                } else if let Err(e) = self.set_var(&v, out) {
                    self.error_io(io, &e.to_string());
                    return 1;
                }
            }
            None => {
                io.out(out.as_bytes());
            }
        }
        st
    }
}

/// bash's printf: the format is reused until the arguments are consumed.
pub fn printf_format(fmt: &str, args: &[String], mut err: impl FnMut(&str)) -> (String, i32) {
    let mut out = String::new();
    let mut st = 0;
    let mut ai = 0;
    let f: Vec<char> = fmt.chars().collect();
    loop {
        let start_ai = ai;
        let mut i = 0;
        while i < f.len() {
            let c = f[i];
            if c == '\\' {
                let mut j = i + 1;
                // Take the escape sequence text.
                if j < f.len() {
                    let e = f[j];
                    j += 1;
                    if e.is_digit(8) || e == 'x' || e == 'u' || e == 'U' {
                        let max = match e {
                            'x' => 2,
                            'u' => 4,
                            'U' => 8,
                            _ => 2,
                        };
                        let mut k = 0;
                        while k < max
                            && j < f.len()
                            && (if e.is_digit(8) {
                                f[j].is_digit(8)
                            } else {
                                f[j].is_ascii_hexdigit()
                            })
                        {
                            j += 1;
                            k += 1;
                        }
                    }
                }
                let seq: String = f[i..j].iter().collect();
                if seq == "\\c" {
                    return (out, st);
                }
                out.push_str(&crate::expand::decode_escapes(&seq, false).0);
                i = j;
                continue;
            }
            if c != '%' {
                out.push(c);
                i += 1;
                continue;
            }
            i += 1;
            if i < f.len() && f[i] == '%' {
                out.push('%');
                i += 1;
                continue;
            }
            let mut flags = String::new();
            while i < f.len() && "-+ #0".contains(f[i]) {
                flags.push(f[i]);
                i += 1;
            }
            let mut width = String::new();
            if i < f.len() && f[i] == '*' {
                width = args.get(ai).cloned().unwrap_or_default();
                ai += 1;
                i += 1;
            } else {
                while i < f.len() && f[i].is_ascii_digit() {
                    width.push(f[i]);
                    i += 1;
                }
            }
            let mut prec: Option<String> = None;
            if i < f.len() && f[i] == '.' {
                i += 1;
                let mut p = String::new();
                if i < f.len() && f[i] == '*' {
                    p = args.get(ai).cloned().unwrap_or_default();
                    ai += 1;
                    i += 1;
                } else {
                    while i < f.len() && f[i].is_ascii_digit() {
                        p.push(f[i]);
                        i += 1;
                    }
                }
                prec = Some(p);
            }
            while i < f.len() && "hlLjzt".contains(f[i]) {
                i += 1;
            }
            // %(datefmt)T: a time, given in seconds since the epoch (-1: now).
            if f.get(i) == Some(&'(') {
                if let Some(close) = f[i..].iter().position(|c| *c == ')') {
                    if f.get(i + close + 1) == Some(&'T') {
                        let tfmt: String = f[i + 1..i + close].iter().collect();
                        i += close + 2;
                        let a = args.get(ai).cloned().unwrap_or_default();
                        ai += 1;
                        let t = a.trim();
                        let secs = match t.parse::<i64>() {
                            Ok(-1) | Ok(-2) => crate::tools::now_epoch(),
                            Ok(v) => v,
                            Err(_) if t.is_empty() => crate::tools::now_epoch(),
                            Err(_) => {
                                err(&format!("{a}: invalid number"));
                                st = 1;
                                0
                            }
                        };
                        let mut s = crate::tools::strftime(secs, &tfmt);
                        if let Some(p) = prec.as_ref().and_then(|p| p.parse::<usize>().ok()) {
                            s = s.chars().take(p).collect();
                        }
                        let w: usize = width.trim_start_matches('-').parse().unwrap_or(0);
                        let n = s.chars().count();
                        if n < w {
                            if flags.contains('-') || width.starts_with('-') {
                                s = format!("{s}{}", " ".repeat(w - n));
                            } else {
                                s = format!("{}{s}", " ".repeat(w - n));
                            }
                        }
                        out.push_str(&s);
                        continue;
                    }
                }
            }
            let Some(&conv) = f.get(i) else {
                err("`%': missing format character");
                return (out, 1);
            };
            i += 1;
            let arg = args.get(ai).cloned();
            if !matches!(conv, '%') {
                ai += 1;
            }
            let left = flags.contains('-');
            let zero = flags.contains('0') && !left;
            let w: usize = width.trim_start_matches('-').parse().unwrap_or(0);
            let left = left || width.starts_with('-');
            let pad = |s: String, numeric: bool| -> String {
                let n = s.chars().count();
                if n >= w {
                    return s;
                }
                if left {
                    format!("{s}{}", " ".repeat(w - n))
                } else if zero && numeric {
                    let (sign, digits) = if s.starts_with('-') || s.starts_with('+') {
                        s.split_at(1)
                    } else {
                        ("", s.as_str())
                    };
                    format!("{sign}{}{digits}", "0".repeat(w - n))
                } else {
                    format!("{}{s}", " ".repeat(w - n))
                }
            };
            match conv {
                's' | 'b' | 'q' => {
                    let mut s = arg.unwrap_or_default();
                    if conv == 'b' {
                        let (d, stop) = crate::expand::decode_escapes(&s, true);
                        s = d;
                        if stop {
                            out.push_str(&pad(s, false));
                            return (out, st);
                        }
                    }
                    if conv == 'q' {
                        s = printf_q(&s);
                    }
                    if let Some(p) = &prec {
                        let p: usize = p.parse().unwrap_or(0);
                        s = s.chars().take(p).collect();
                    }
                    out.push_str(&pad(s, false));
                }
                'c' => {
                    let s: String = arg.unwrap_or_default().chars().take(1).collect();
                    out.push_str(&pad(s, false));
                }
                'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
                    let a = arg.unwrap_or_default();
                    let (v, read) = parse_num(&a, conv != 'd' && conv != 'i');
                    match read {
                        Read::Whole => {}
                        Read::Prefix => {
                            err(&format!("{a}: invalid number"));
                            st = 1;
                        }
                        Read::Clamped => {
                            err(&format!("warning: {a}: Numerical result out of range"))
                        }
                    }
                    let mut s = match conv {
                        'd' | 'i' => v.to_string(),
                        'u' => (v as u64).to_string(),
                        'x' => format!("{:x}", v),
                        'X' => format!("{:X}", v),
                        _ => format!("{:o}", v),
                    };
                    if let Some(p) = &prec {
                        let p: usize = p.parse().unwrap_or(0);
                        // C prints no digits for a zero value at precision 0.
                        if p == 0 && v == 0 {
                            s.clear();
                        }
                        let neg = s.starts_with('-');
                        let digits = s.trim_start_matches('-').to_string();
                        if digits.len() < p {
                            s = format!(
                                "{}{}{}",
                                if neg { "-" } else { "" },
                                "0".repeat(p - digits.len()),
                                digits
                            );
                        }
                    }
                    if flags.contains('+') && v >= 0 && matches!(conv, 'd' | 'i') {
                        s = format!("+{s}");
                    } else if flags.contains(' ') && v >= 0 && matches!(conv, 'd' | 'i') {
                        s = format!(" {s}");
                    }
                    if flags.contains('#') && v != 0 {
                        match conv {
                            'x' => s = format!("0x{s}"),
                            'X' => s = format!("0X{s}"),
                            'o' => s = format!("0{s}"),
                            _ => {}
                        }
                    }
                    out.push_str(&pad(s, prec.is_none()));
                }
                'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                    let a = arg.unwrap_or_default();
                    let v: f64 = a
                        .trim()
                        .parse()
                        .unwrap_or_else(|_| parse_num(&a, false).0 as f64);
                    let p: usize = prec.as_ref().and_then(|p| p.parse().ok()).unwrap_or(6);
                    let mut s = match conv {
                        'f' | 'F' => format!("{:.*}", p, v),
                        'e' | 'E' => {
                            let s = format!("{:.*e}", p, v);
                            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                            let ev: i32 = e.parse().unwrap_or(0);
                            let r =
                                format!("{m}e{}{:02}", if ev < 0 { '-' } else { '+' }, ev.abs());
                            if conv == 'E' {
                                r.to_uppercase()
                            } else {
                                r
                            }
                        }
                        _ => {
                            let p = if p == 0 { 1 } else { p };
                            let exp = if v == 0.0 {
                                0
                            } else {
                                v.abs().log10().floor() as i32
                            };
                            if exp < -4 || exp >= p as i32 {
                                let s = format!("{:.*e}", p - 1, v);
                                let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                                let m = if m.contains('.') {
                                    m.trim_end_matches('0').trim_end_matches('.')
                                } else {
                                    m
                                };
                                let ev: i32 = e.parse().unwrap_or(0);
                                let r = format!(
                                    "{m}e{}{:02}",
                                    if ev < 0 { '-' } else { '+' },
                                    ev.abs()
                                );
                                if conv == 'G' {
                                    r.to_uppercase()
                                } else {
                                    r
                                }
                            } else {
                                let s = format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, v);
                                if s.contains('.') {
                                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                                } else {
                                    s
                                }
                            }
                        }
                    };
                    if flags.contains('+') && v >= 0.0 {
                        s = format!("+{s}");
                    }
                    out.push_str(&pad(s, true));
                }
                other => {
                    err(&format!("%{other}: invalid format character"));
                    return (out, 1);
                }
            }
        }
        if ai >= args.len() || ai == start_ai {
            break;
        }
    }
    (out, st)
}

/// How much of an integer argument was a number.
#[derive(PartialEq)]
enum Read {
    Whole,
    /// Text after the digits (or no digits): "invalid number".
    Prefix,
    /// Past the range: the value is the nearest end (a warning, not an error).
    Clamped,
}

/// An integer argument as bash's printf reads it (strtoimax/strtoumax): leading blanks, a
/// sign, a `0x` or `0` base prefix, or `'c` for a character's code. The digits read count
/// even when text follows (the bool is then false: "invalid number", status 1); past the
/// range the value clamps, and a negative one wraps for the unsigned conversions. The value
/// is the conversion's bits: for `unsigned`, a `u64` held in an `i64`.
fn parse_num(a: &str, unsigned: bool) -> (i64, Read) {
    let t = a.trim_start_matches([' ', '\t', '\n']);
    if a.is_empty() {
        return (0, Read::Whole);
    }
    if let Some(c) = t.strip_prefix('\'').or_else(|| t.strip_prefix('"')) {
        return (c.chars().next().map_or(0, |c| c as i64), Read::Whole);
    }
    let (neg, d) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (radix, digits) = if let Some(h) = d.strip_prefix("0x").or_else(|| d.strip_prefix("0X")) {
        (16, h)
    } else if d.len() > 1 && d.starts_with('0') {
        (8, &d[1..])
    } else {
        (10, d)
    };
    let n = digits.chars().take_while(|c| c.is_digit(radix)).count();
    let mut m: u128 = 0;
    for c in digits[..n].chars() {
        m = (m * u128::from(radix) + u128::from(c.to_digit(radix).unwrap_or(0)))
            .min(u128::from(u64::MAX) + 1);
    }
    let whole = n > 0 && n == digits.len() || (n == 0 && radix == 8);
    let mut clamped = false;
    let v = if unsigned {
        let u = if m > u128::from(u64::MAX) {
            clamped = true;
            u64::MAX
        } else if neg {
            (m as u64).wrapping_neg()
        } else {
            m as u64
        };
        u as i64
    } else if neg {
        if m > i64::MAX as u128 + 1 {
            clamped = true;
            i64::MIN
        } else {
            (m as i128).wrapping_neg() as i64
        }
    } else {
        clamped = m > i64::MAX as u128;
        m.min(i64::MAX as u128) as i64
    };
    let read = match (whole, clamped) {
        (false, _) => Read::Prefix,
        (true, true) => Read::Clamped,
        (true, false) => Read::Whole,
    };
    (v, read)
}

fn printf_q(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || "_-./=:,+@%^".contains(c) {
            out.push(c);
        } else if c == '\n' {
            return format!(
                "$'{}'",
                s.replace('\\', "\\\\")
                    .replace('\'', "\\'")
                    .replace('\n', "\\n")
                    .replace('\t', "\\t")
            );
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}
