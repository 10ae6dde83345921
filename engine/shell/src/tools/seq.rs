//! `seq`: numbers from FIRST by INCREMENT to LAST, one per line (or joined by `-s`).
//!
//! Numbers are exact decimals (a scaled integer), so `seq 0 0.1 1` ends at 1.0 as GNU's does;
//! the printed precision is the larger of FIRST's and INCREMENT's, as in GNU. `-w` pads with
//! zeros, `-f` takes one printf floating-point conversion (`%f`, `%g`, `%e`, with flags, width
//! and precision).

use super::opts::{self, Spec};
use super::{quote, write_failed, ToolContext};

/// A decimal number: `mant / 10^scale`.
#[derive(Clone, Copy, Debug)]
struct Dec {
    mant: i128,
    scale: u32,
}

impl Dec {
    fn parse(s: &str) -> Option<Dec> {
        let t = s.trim_start();
        if t.is_empty() {
            return None;
        }
        if t.contains(['e', 'E']) {
            // Exponent notation: only integral values are kept exact.
            let v: f64 = t.parse().ok()?;
            if v.fract() == 0.0 && v.abs() < 1e30 {
                return Some(Dec {
                    mant: v as i128,
                    scale: 0,
                });
            }
            return None;
        }
        let (neg, body) = match t.as_bytes()[0] {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let digits = format!("{int}{frac}");
        let mant: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        let scale = u32::try_from(frac.len()).ok()?;
        if scale > 30 {
            return None;
        }
        Some(Dec {
            mant: if neg { -mant } else { mant },
            scale,
        })
    }

    fn rescale(self, scale: u32) -> i128 {
        self.mant
            .saturating_mul(10i128.saturating_pow(scale.saturating_sub(self.scale)))
    }

    fn to_f64(m: i128, scale: u32) -> f64 {
        m as f64 / 10f64.powi(scale as i32)
    }
}

/// `m / 10^from` printed with `to` decimals (`to <= from`, rounding half away from zero).
fn fixed(m: i128, from: u32, to: u32) -> String {
    let drop = from.saturating_sub(to);
    let div = 10i128.saturating_pow(drop);
    let mut v = m.abs();
    if drop > 0 {
        v = (v + div / 2) / div;
    }
    let neg = m < 0 && v != 0;
    let p = 10i128.saturating_pow(to);
    let s = if to == 0 {
        format!("{}", v)
    } else {
        format!("{}.{:0width$}", v / p, v % p, width = to as usize)
    };
    if neg {
        format!("-{s}")
    } else {
        s
    }
}

/// One printf floating-point conversion of `v`.
fn printf_float(spec: &FloatSpec, v: f64) -> String {
    let prec = spec.precision.unwrap_or(6);
    let body = match spec.conv {
        'f' | 'F' => format!("{:.*}", prec, v.abs()),
        'e' | 'E' => c_exp(v.abs(), prec),
        _ => {
            // %g: C's rules, trailing zeros removed unless '#'.
            let p = if prec == 0 { 1 } else { prec };
            let exp = if v == 0.0 {
                0
            } else {
                v.abs().log10().floor() as i32
            };
            let s = if exp < -4 || exp >= p as i32 {
                let e = c_exp(v.abs(), p - 1);
                match e.split_once('e') {
                    Some((m, x)) if !spec.alt => format!("{}e{x}", trim_zeros(m)),
                    _ => e,
                }
            } else {
                let decimals = (p as i32 - 1 - exp).max(0) as usize;
                let f = format!("{:.*}", decimals, v.abs());
                if spec.alt {
                    f
                } else {
                    trim_zeros(&f)
                }
            };
            s
        }
    };
    let body = if spec.conv.is_ascii_uppercase() {
        body.to_uppercase()
    } else {
        body
    };
    let sign = if v.is_sign_negative() && v != 0.0 {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let len = sign.len() + body.len();
    if len >= spec.width {
        return format!("{sign}{body}");
    }
    let fill = spec.width - len;
    if spec.left {
        format!("{sign}{body}{}", " ".repeat(fill))
    } else if spec.zero {
        format!("{sign}{}{body}", "0".repeat(fill))
    } else {
        format!("{}{sign}{body}", " ".repeat(fill))
    }
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

fn c_exp(v: f64, prec: usize) -> String {
    let s = format!("{:.*e}", prec, v);
    match s.split_once('e') {
        Some((m, e)) => {
            let n: i32 = e.parse().unwrap_or(0);
            let sign = if n < 0 { '-' } else { '+' };
            format!("{m}e{sign}{:02}", n.abs())
        }
        None => s,
    }
}

struct FloatSpec {
    prefix: String,
    suffix: String,
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    alt: bool,
    width: usize,
    precision: Option<usize>,
    conv: char,
}

fn parse_format(f: &str) -> Result<FloatSpec, String> {
    let chars: Vec<char> = f.chars().collect();
    let mut prefix = String::new();
    let mut i = 0;
    let mut spec = None;
    while i < chars.len() {
        if chars[i] == '%' {
            if chars.get(i + 1) == Some(&'%') {
                prefix.push('%');
                i += 2;
                continue;
            }
            let mut s = FloatSpec {
                prefix: std::mem::take(&mut prefix),
                suffix: String::new(),
                left: false,
                zero: false,
                plus: false,
                space: false,
                alt: false,
                width: 0,
                precision: None,
                conv: 'g',
            };
            i += 1;
            while i < chars.len() && "-0+ #'".contains(chars[i]) {
                match chars[i] {
                    '-' => s.left = true,
                    '0' => s.zero = true,
                    '+' => s.plus = true,
                    ' ' => s.space = true,
                    '#' => s.alt = true,
                    _ => {}
                }
                i += 1;
            }
            while i < chars.len() && chars[i].is_ascii_digit() {
                s.width = s
                    .width
                    .saturating_mul(10)
                    .saturating_add(chars[i] as usize - '0' as usize)
                    .min(4096);
                i += 1;
            }
            if chars.get(i) == Some(&'.') {
                i += 1;
                let mut p = 0usize;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    p = p
                        .saturating_mul(10)
                        .saturating_add(chars[i] as usize - '0' as usize)
                        .min(4096);
                    i += 1;
                }
                s.precision = Some(p);
            }
            match chars.get(i) {
                Some(&c) if "fFgGeEaA".contains(c) => s.conv = c,
                _ => {
                    return Err(format!(
                        "format {} has unknown %{} directive",
                        quote(f),
                        chars.get(i).map(|c| c.to_string()).unwrap_or_default()
                    ))
                }
            }
            i += 1;
            // The rest is the suffix; a second directive is an error.
            let mut suffix = String::new();
            while i < chars.len() {
                if chars[i] == '%' {
                    if chars.get(i + 1) == Some(&'%') {
                        suffix.push('%');
                        i += 2;
                        continue;
                    }
                    return Err(format!("format {} has too many % directives", quote(f)));
                }
                suffix.push(chars[i]);
                i += 1;
            }
            s.suffix = suffix;
            spec = Some(s);
            break;
        }
        prefix.push(chars[i]);
        i += 1;
    }
    spec.ok_or_else(|| format!("format {} has no % directive", quote(f)))
}

pub(crate) fn seq(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    // Negative numbers are operands, not options.
    let mut rest: Vec<String> = Vec::new();
    let mut operands_only = false;
    let mut pre_ops = Vec::new();
    for a in args.get(1..).unwrap_or(&[]) {
        let b = a.as_bytes();
        let numeric_neg = b.len() > 1 && b[0] == b'-' && (b[1].is_ascii_digit() || b[1] == b'.');
        if operands_only || numeric_neg {
            pre_ops.push(a.clone());
            operands_only = true;
        } else {
            rest.push(a.clone());
        }
    }
    let spec = Spec {
        flags: "w",
        with_value: "fs",
        long: &[
            ("format", true, 'f'),
            ("separator", true, 's'),
            ("equal-width", false, 'w'),
        ],
        stop_at_operand: false,
    };
    let (options, mut ops) = match opts::parse(&rest, &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("seq", &e, ctx.stderr, 1),
    };
    ops.extend(pre_ops);
    let mut sep = "\n".to_string();
    let mut width_eq = false;
    let mut format: Option<String> = None;
    for o in options {
        match o.key {
            's' => sep = o.value.unwrap_or_default(),
            'w' => width_eq = true,
            'f' => format = o.value,
            _ => {}
        }
    }
    if ops.is_empty() {
        return opts::usage_error("seq", "missing operand", ctx.stderr, 1);
    }
    if ops.len() > 3 {
        let msg = format!("extra operand {}", quote(&ops[3]));
        return opts::usage_error("seq", &msg, ctx.stderr, 1);
    }
    let mut nums = Vec::new();
    for op in &ops {
        match Dec::parse(op) {
            Some(d) => nums.push(d),
            None => {
                let msg = format!("invalid floating point argument: {}", quote(op));
                return opts::usage_error("seq", &msg, ctx.stderr, 1);
            }
        }
    }
    let one = Dec { mant: 1, scale: 0 };
    let (first, step, last) = match nums.len() {
        1 => (one, one, nums[0]),
        2 => (nums[0], one, nums[1]),
        _ => (nums[0], nums[1], nums[2]),
    };
    if step.mant == 0 {
        let msg = format!("invalid Zero increment value: {}", quote(&ops[1]));
        return opts::usage_error("seq", &msg, ctx.stderr, 1);
    }
    let fspec = match &format {
        Some(f) if width_eq => {
            let _ = f;
            let msg = "format string may not be specified when printing equal width strings";
            return opts::usage_error("seq", msg, ctx.stderr, 1);
        }
        Some(f) => match parse_format(f) {
            Ok(s) => Some(s),
            Err(msg) => {
                let _ = writeln!(ctx.stderr, "seq: {msg}");
                return 1;
            }
        },
        None => None,
    };
    let scale = first.scale.max(step.scale).max(last.scale);
    let out_prec = first.scale.max(step.scale);
    let (f, s, l) = (
        first.rescale(scale),
        step.rescale(scale),
        last.rescale(scale),
    );
    let width = if width_eq {
        fixed(f, scale, out_prec)
            .len()
            .max(fixed(l, scale, out_prec).len())
    } else {
        0
    };
    let mut out: Vec<u8> = Vec::new();
    let mut i: i128 = 0;
    loop {
        let v = f.saturating_add(i.saturating_mul(s));
        if (s > 0 && v > l) || (s < 0 && v < l) {
            break;
        }
        if i > 0 {
            out.extend_from_slice(sep.as_bytes());
        }
        let text = match &fspec {
            Some(fs) => format!(
                "{}{}{}",
                fs.prefix,
                printf_float(fs, Dec::to_f64(v, scale)),
                fs.suffix
            ),
            None => {
                let t = fixed(v, scale, out_prec);
                if t.len() < width {
                    let (sign, digits) = if let Some(d) = t.strip_prefix('-') {
                        ("-", d)
                    } else {
                        ("", t.as_str())
                    };
                    format!("{sign}{}{digits}", "0".repeat(width - t.len()))
                } else {
                    t
                }
            }
        };
        out.extend_from_slice(text.as_bytes());
        if out.len() >= 64 * 1024 {
            if let Err(e) = ctx.stdout.write_all(&out) {
                return write_failed("seq", &e, ctx.stderr);
            }
            out.clear();
        }
        i += 1;
    }
    if i > 0 {
        out.push(b'\n');
    }
    if let Err(e) = ctx.stdout.write_all(&out).and_then(|()| ctx.stdout.flush()) {
        return write_failed("seq", &e, ctx.stderr);
    }
    0
}
