//! Text filters: `tr`, `sort`, `uniq`, `cut`, `tee`. Bytes in on stdin (or files), bytes out.
//!
//! `tr`, `cut`, `uniq` and `tee` stream line by line or block by block; `sort` must see all its
//! input before writing. Comparison is by bytes, as in the C locale.

use std::cmp::Ordering;
use std::io::{BufRead, BufReader, Write};

use super::opts::{self, Spec};
use super::{errno_text, open_input, quote, quotef, resolve, write_failed, ToolContext};

// ---------------------------------------------------------------- tr

/// Expands a tr SET (escapes, ranges, `[:class:]`, `[c*n]`) into bytes.
fn expand_set(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let unescape = |i: &mut usize| -> u8 {
        let c = b[*i];
        if c == b'\\' && *i + 1 < b.len() {
            *i += 1;
            let e = b[*i];
            match e {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                b'a' => 7,
                b'b' => 8,
                b'f' => 12,
                b'v' => 11,
                b'\\' => b'\\',
                b'0'..=b'7' => {
                    let mut v: u32 = u32::from(e - b'0');
                    let mut n = 1;
                    while n < 3 && *i + 1 < b.len() && (b'0'..=b'7').contains(&b[*i + 1]) {
                        *i += 1;
                        v = v * 8 + u32::from(b[*i] - b'0');
                        n += 1;
                    }
                    (v & 0xFF) as u8
                }
                other => other,
            }
        } else {
            c
        }
    };
    while i < b.len() {
        if b[i] == b'[' && b.get(i + 1) == Some(&b':') {
            if let Some(end) = s[i + 2..].find(":]") {
                let class = &s[i + 2..i + 2 + end];
                let members: Vec<u8> = (0u8..=255)
                    .filter(|&c| match class {
                        "alpha" => c.is_ascii_alphabetic(),
                        "digit" => c.is_ascii_digit(),
                        "alnum" => c.is_ascii_alphanumeric(),
                        "upper" => c.is_ascii_uppercase(),
                        "lower" => c.is_ascii_lowercase(),
                        "space" => matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 11 | 12),
                        "blank" => c == b' ' || c == b'\t',
                        "punct" => c.is_ascii_punctuation(),
                        "print" => (32..127).contains(&c),
                        "graph" => (33..127).contains(&c),
                        "cntrl" => c < 32 || c == 127,
                        "xdigit" => c.is_ascii_hexdigit(),
                        _ => false,
                    })
                    .collect();
                if members.is_empty() {
                    return Err(format!("invalid character class {}", quote(class)));
                }
                out.extend(members);
                i += end + 4;
                continue;
            }
        }
        if b[i] == b'[' && i + 3 < b.len() && b[i + 2] == b'*' {
            if let Some(close) = s[i + 3..].find(']') {
                let c = b[i + 1];
                let count_s = &s[i + 3..i + 3 + close];
                let n: usize = if count_s.is_empty() {
                    0
                } else {
                    count_s.parse().unwrap_or(0)
                };
                // `[c*]` (n = 0) fills to the length of SET1; marked by a huge repeat trimmed later.
                let n = if n == 0 { usize::MAX } else { n };
                if n == usize::MAX {
                    out.push(c);
                    out.extend(std::iter::repeat_n(c, 4096));
                } else {
                    out.extend(std::iter::repeat_n(c, n.min(1 << 20)));
                }
                i += 4 + close;
                continue;
            }
        }
        let lo = unescape(&mut i);
        i += 1;
        if i + 1 < b.len() && b[i] == b'-' {
            let mut j = i + 1;
            let hi = unescape(&mut j);
            if hi < lo {
                return Err(format!(
                    "range-endpoints of '{}-{}' are in reverse collating sequence order",
                    lo as char, hi as char
                ));
            }
            out.extend(lo..=hi);
            i = j + 1;
            continue;
        }
        out.push(lo);
    }
    Ok(out)
}

pub(crate) fn tr(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "cCdst",
        with_value: "",
        long: &[
            ("complement", false, 'c'),
            ("delete", false, 'd'),
            ("squeeze-repeats", false, 's'),
            ("truncate-set1", false, 't'),
        ],
        stop_at_operand: false,
    };
    let (options, ops) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("tr", &e, ctx.stderr, 1),
    };
    let complement = options.iter().any(|o| o.key == 'c' || o.key == 'C');
    let delete = options.iter().any(|o| o.key == 'd');
    let squeeze = options.iter().any(|o| o.key == 's');
    let truncate = options.iter().any(|o| o.key == 't');
    let needed = if delete && squeeze {
        2
    } else if delete || (squeeze && ops.len() < 2) {
        1
    } else {
        2
    };
    if ops.len() < needed {
        let msg = if ops.is_empty() {
            "missing operand".to_string()
        } else if delete || squeeze {
            format!("missing operand after {}", quote(&ops[0]))
        } else {
            format!(
                "missing operand after {}\nTwo strings must be given when translating.",
                quote(&ops[0])
            )
        };
        return opts::usage_error("tr", &msg, ctx.stderr, 1);
    }
    if ops.len() > needed {
        let mut msg = format!("extra operand {}", quote(&ops[needed]));
        if delete && !squeeze {
            msg.push_str("\nOnly one string may be given when deleting without squeezing repeats.");
        }
        return opts::usage_error("tr", &msg, ctx.stderr, 1);
    }
    let sets: Result<Vec<Vec<u8>>, String> = ops.iter().map(|s| expand_set(s)).collect();
    let sets = match sets {
        Ok(s) => s,
        Err(m) => {
            let _ = writeln!(ctx.stderr, "tr: {m}");
            return 1;
        }
    };
    let mut set1 = sets[0].clone();
    if complement {
        let mut member = [false; 256];
        for &c in &set1 {
            member[c as usize] = true;
        }
        set1 = (0u8..=255).filter(|c| !member[*c as usize]).collect();
    }
    let mut in1 = [false; 256];
    for &c in &set1 {
        in1[c as usize] = true;
    }
    let mut map: [u8; 256] = [0; 256];
    for (i, m) in map.iter_mut().enumerate() {
        *m = i as u8;
    }
    let translating = !delete && sets.len() == 2;
    let mut squeeze_set = [false; 256];
    if translating {
        let mut set2 = sets[1].clone();
        if set2.is_empty() {
            let _ = writeln!(
                ctx.stderr,
                "tr: when not truncating set1, string2 must be non-empty"
            );
            return 1;
        }
        if truncate {
            set1.truncate(set2.len());
        }
        while set2.len() < set1.len() {
            let last = set2[set2.len() - 1];
            set2.push(last);
        }
        for (i, &c) in set1.iter().enumerate() {
            map[c as usize] = set2[i];
        }
        for &c in &set2 {
            squeeze_set[c as usize] = true;
        }
    } else if squeeze {
        let s = if delete { &sets[1] } else { &set1 };
        for &c in s {
            squeeze_set[c as usize] = true;
        }
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut last: Option<u8> = None;
    loop {
        let n = match ctx.stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = writeln!(ctx.stderr, "tr: read error: {}", errno_text(&e));
                return 1;
            }
        };
        let mut out = Vec::with_capacity(n);
        for &c in &buf[..n] {
            if delete && in1[c as usize] {
                continue;
            }
            let o = if translating { map[c as usize] } else { c };
            if squeeze && squeeze_set[o as usize] && last == Some(o) {
                continue;
            }
            last = Some(o);
            out.push(o);
        }
        if let Err(e) = ctx.stdout.write_all(&out) {
            return write_failed("tr", &e, ctx.stderr);
        }
    }
    0
}

// ---------------------------------------------------------------- shared line reading

/// Reads every line of the operands (stdin when none); reports unreadable ones.
fn read_lines(
    tool: &str,
    files: &[String],
    delim: u8,
    ctx: &mut ToolContext<'_>,
    status: &mut i32,
) -> Vec<Vec<u8>> {
    let names: Vec<String> = if files.is_empty() {
        vec!["-".into()]
    } else {
        files.to_vec()
    };
    let mut lines = Vec::new();
    for name in &names {
        let mut src = match open_input(ctx.cwd, name) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(
                    ctx.stderr,
                    "{tool}: cannot read: {}: {}",
                    quotef(name),
                    errno_text(&e)
                );
                *status = 2;
                continue;
            }
        };
        let mut r = BufReader::new(src.reader(ctx.stdin));
        loop {
            let mut l = Vec::new();
            match r.read_until(delim, &mut l) {
                Ok(0) => break,
                Ok(_) => {
                    if l.last() == Some(&delim) {
                        l.pop();
                    }
                    lines.push(l);
                }
                Err(e) => {
                    let _ = writeln!(ctx.stderr, "{tool}: {}: {}", quotef(name), errno_text(&e));
                    *status = 2;
                    break;
                }
            }
        }
    }
    lines
}

// ---------------------------------------------------------------- sort

#[derive(Clone)]
struct Key {
    start_field: usize,
    start_char: usize,
    end_field: Option<usize>,
    end_char: usize,
    numeric: bool,
    reverse: bool,
    fold: bool,
    blanks: bool,
}

fn parse_key(spec: &str, global: &Key) -> Option<Key> {
    let mut k = global.clone();
    let (start, end) = match spec.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (spec, None),
    };
    let split_pos = |p: &str| -> Option<(usize, usize, String)> {
        let digits_end = p
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(p.len());
        let (pos, flags) = p.split_at(digits_end);
        let (f, c) = pos.split_once('.').unwrap_or((pos, "0"));
        Some((
            f.parse().ok()?,
            if c.is_empty() { 0 } else { c.parse().ok()? },
            flags.to_string(),
        ))
    };
    let (sf, sc, flags1) = split_pos(start)?;
    if sf == 0 {
        return None;
    }
    k.start_field = sf;
    k.start_char = sc;
    let mut all_flags = flags1;
    if let Some(e) = end {
        let (ef, ec, flags2) = split_pos(e)?;
        k.end_field = Some(ef);
        k.end_char = ec;
        all_flags.push_str(&flags2);
    }
    if !all_flags.is_empty() {
        k.numeric = false;
        k.reverse = false;
        k.fold = false;
        k.blanks = false;
        for f in all_flags.chars() {
            match f {
                'n' | 'g' | 'h' => k.numeric = true,
                'r' => k.reverse = true,
                'f' => k.fold = true,
                'b' => k.blanks = true,
                _ => return None,
            }
        }
    }
    Some(k)
}

/// Byte ranges of the fields of `line`: with a separator, split on it; otherwise fields start
/// at a blank run (the blanks belong to the field that follows, as in GNU sort).
fn field_spans(line: &[u8], sep: Option<u8>) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    match sep {
        Some(s) => {
            let mut start = 0;
            for (i, &c) in line.iter().enumerate() {
                if c == s {
                    spans.push((start, i));
                    start = i + 1;
                }
            }
            spans.push((start, line.len()));
        }
        None => {
            let mut i = 0;
            while i < line.len() {
                let start = i;
                while i < line.len() && (line[i] == b' ' || line[i] == b'\t') {
                    i += 1;
                }
                while i < line.len() && line[i] != b' ' && line[i] != b'\t' {
                    i += 1;
                }
                spans.push((start, i));
            }
        }
    }
    spans
}

fn key_slice<'l>(line: &'l [u8], k: &Key, sep: Option<u8>) -> &'l [u8] {
    let spans = field_spans(line, sep);
    let skip_blanks = |pos: usize| -> usize {
        let mut p = pos;
        while p < line.len() && (line[p] == b' ' || line[p] == b'\t') {
            p += 1;
        }
        p
    };
    let start = match spans.get(k.start_field - 1) {
        Some(&(s, e)) => {
            let s = if k.blanks { skip_blanks(s) } else { s };
            (s + k.start_char.saturating_sub(1)).min(e.max(s))
        }
        None => return &[],
    };
    let end = match k.end_field {
        None => line.len(),
        Some(ef) => match spans.get(ef.saturating_sub(1)) {
            Some(&(s, e)) => {
                if k.end_char == 0 {
                    e
                } else {
                    let s = if k.blanks { skip_blanks(s) } else { s };
                    (s + k.end_char).min(e)
                }
            }
            None => line.len(),
        },
    };
    if start >= end {
        &[]
    } else {
        &line[start..end]
    }
}

fn numeric_value(s: &[u8]) -> f64 {
    let t = String::from_utf8_lossy(s);
    let t = t.trim_start();
    let mut end = 0;
    let b = t.as_bytes();
    if end < b.len() && (b[end] == b'-' || b[end] == b'+') {
        end += 1;
    }
    while end < b.len() && (b[end].is_ascii_digit() || b[end] == b'.') {
        end += 1;
    }
    t[..end].parse().unwrap_or(0.0)
}

fn compare_key(a: &[u8], b: &[u8], k: &Key) -> Ordering {
    let o = if k.numeric {
        numeric_value(a)
            .partial_cmp(&numeric_value(b))
            .unwrap_or(Ordering::Equal)
    } else {
        // Compared in place: sorting calls this n log n times.
        let skip = |s: &'_ [u8]| -> usize {
            if k.blanks {
                s.iter().take_while(|c| **c == b' ' || **c == b'\t').count()
            } else {
                0
            }
        };
        let (a, b) = (&a[skip(a)..], &b[skip(b)..]);
        if k.fold {
            a.iter()
                .map(u8::to_ascii_uppercase)
                .cmp(b.iter().map(u8::to_ascii_uppercase))
        } else {
            a.cmp(b)
        }
    };
    if k.reverse {
        o.reverse()
    } else {
        o
    }
}

pub(crate) fn sort(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "nrufbsgchzV",
        with_value: "ktoS",
        long: &[
            ("numeric-sort", false, 'n'),
            ("reverse", false, 'r'),
            ("unique", false, 'u'),
            ("ignore-case", false, 'f'),
            ("key", true, 'k'),
            ("field-separator", true, 't'),
            ("output", true, 'o'),
            ("stable", false, 's'),
            ("zero-terminated", false, 'z'),
            ("version-sort", false, 'V'),
        ],
        stop_at_operand: false,
    };
    let (options, files) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("sort", &e, ctx.stderr, 2),
    };
    let mut global = Key {
        start_field: 1,
        start_char: 0,
        end_field: None,
        end_char: 0,
        numeric: false,
        reverse: false,
        fold: false,
        blanks: false,
    };
    let mut unique = false;
    let mut stable = false;
    let mut sep = None;
    let mut output = None;
    let mut delim = b'\n';
    let mut key_specs = Vec::new();
    for o in &options {
        match o.key {
            'n' | 'g' | 'h' | 'V' => global.numeric = o.key != 'V',
            'r' => global.reverse = true,
            'u' => unique = true,
            'f' => global.fold = true,
            'b' => global.blanks = true,
            's' => stable = true,
            'z' => delim = 0,
            'k' => key_specs.push(o.value.clone().unwrap_or_default()),
            't' => {
                let v = o.value.clone().unwrap_or_default();
                if v.len() != 1 {
                    let _ = writeln!(ctx.stderr, "sort: multi-character tab {}", quote(&v));
                    return 2;
                }
                sep = v.bytes().next();
            }
            'o' => output = o.value.clone(),
            _ => {}
        }
    }
    let mut keys = Vec::new();
    for ks in &key_specs {
        match parse_key(ks, &global) {
            Some(k) => keys.push(k),
            None => {
                let _ = writeln!(
                    ctx.stderr,
                    "sort: invalid number at field start: invalid count at start of {}",
                    quote(ks)
                );
                return 2;
            }
        }
    }
    let mut status = 0;
    let mut lines = read_lines("sort", &files, delim, ctx, &mut status);
    if status != 0 {
        return status;
    }
    let cmp = |a: &Vec<u8>, b: &Vec<u8>| -> Ordering {
        if keys.is_empty() {
            let o = compare_key(a, b, &global);
            if o != Ordering::Equal || stable || unique {
                return o;
            }
        } else {
            for k in &keys {
                let o = compare_key(key_slice(a, k, sep), key_slice(b, k, sep), k);
                if o != Ordering::Equal {
                    return o;
                }
            }
            if stable || unique {
                return Ordering::Equal;
            }
        }
        let o = a.cmp(b);
        if global.reverse {
            o.reverse()
        } else {
            o
        }
    };
    lines.sort_by(cmp);
    if unique {
        lines.dedup_by(|b, a| cmp(a, b) == Ordering::Equal);
    }
    let mut out = Vec::new();
    for l in &lines {
        out.extend_from_slice(l);
        out.push(delim);
    }
    if let Some(o) = output {
        return match std::fs::write(resolve(ctx.cwd, &o), &out) {
            Ok(()) => 0,
            Err(e) => {
                let _ = writeln!(ctx.stderr, "sort: open failed: {}: {}", o, errno_text(&e));
                2
            }
        };
    }
    match ctx.stdout.write_all(&out) {
        Ok(()) => 0,
        Err(e) => write_failed("sort", &e, ctx.stderr),
    }
}

// ---------------------------------------------------------------- uniq

pub(crate) fn uniq(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "cdui",
        with_value: "fs",
        long: &[
            ("count", false, 'c'),
            ("repeated", false, 'd'),
            ("unique", false, 'u'),
            ("ignore-case", false, 'i'),
            ("skip-fields", true, 'f'),
            ("skip-chars", true, 's'),
        ],
        stop_at_operand: false,
    };
    let (options, files) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("uniq", &e, ctx.stderr, 1),
    };
    let count = options.iter().any(|o| o.key == 'c');
    let only_dup = options.iter().any(|o| o.key == 'd');
    let only_uniq = options.iter().any(|o| o.key == 'u');
    let fold = options.iter().any(|o| o.key == 'i');
    let mut skip_fields = 0usize;
    let mut skip_chars = 0usize;
    for o in &options {
        let v = o.value.as_deref().unwrap_or("");
        match o.key {
            'f' | 's' => match v.parse::<usize>() {
                Ok(n) if o.key == 'f' => skip_fields = n,
                Ok(n) => skip_chars = n,
                Err(_) => {
                    let what = if o.key == 'f' { "fields" } else { "bytes" };
                    let _ = writeln!(ctx.stderr, "uniq: {}: invalid number of {what} to skip", v);
                    return 1;
                }
            },
            _ => {}
        }
    }
    if files.len() > 2 {
        let msg = format!("extra operand {}", quote(&files[2]));
        return opts::usage_error("uniq", &msg, ctx.stderr, 1);
    }
    let input = files.first().cloned().unwrap_or_else(|| "-".into());
    let mut src = match open_input(ctx.cwd, &input) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(ctx.stderr, "uniq: {}: {}", quotef(&input), errno_text(&e));
            return 1;
        }
    };
    let mut out_file;
    let out: &mut dyn Write = match files.get(1) {
        Some(o) if o != "-" => match std::fs::File::create(resolve(ctx.cwd, o)) {
            Ok(f) => {
                out_file = f;
                &mut out_file
            }
            Err(e) => {
                let _ = writeln!(ctx.stderr, "uniq: {}: {}", quotef(o), errno_text(&e));
                return 1;
            }
        },
        _ => ctx.stdout,
    };
    // The part of a line that is compared, without copying it (once per line).
    let key = |l: &[u8]| -> std::ops::Range<usize> {
        let mut p = 0;
        for _ in 0..skip_fields {
            while p < l.len() && (l[p] == b' ' || l[p] == b'\t') {
                p += 1;
            }
            while p < l.len() && l[p] != b' ' && l[p] != b'\t' && l[p] != b'\n' {
                p += 1;
            }
        }
        p = (p + skip_chars).min(l.len());
        let end = if l.last() == Some(&b'\n') {
            l.len() - 1
        } else {
            l.len()
        };
        p.min(end)..end
    };
    let same = |a: &[u8], b: &[u8]| -> bool {
        let (a, b) = (&a[key(a)], &b[key(b)]);
        if fold {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    let mut r = BufReader::new(src.reader(ctx.stdin));
    let mut prev: Option<Vec<u8>> = None;
    let mut n = 0u64;
    let flush = |line: &[u8], n: u64, out: &mut dyn Write| -> std::io::Result<()> {
        if (only_dup && n < 2) || (only_uniq && n > 1) {
            return Ok(());
        }
        if count {
            write!(out, "{n:>7} ")?;
        }
        out.write_all(line)?;
        if line.last() != Some(&b'\n') {
            out.write_all(b"\n")?;
        }
        Ok(())
    };
    loop {
        let mut l = Vec::new();
        match r.read_until(b'\n', &mut l) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                let _ = writeln!(ctx.stderr, "uniq: {}: {}", quotef(&input), errno_text(&e));
                return 1;
            }
        }
        match &prev {
            Some(p) if same(p, &l) => n += 1,
            _ => {
                if let Some(p) = prev.take() {
                    if let Err(e) = flush(&p, n, out) {
                        return write_failed("uniq", &e, ctx.stderr);
                    }
                }
                prev = Some(l);
                n = 1;
            }
        }
    }
    if let Some(p) = prev {
        if let Err(e) = flush(&p, n, out) {
            return write_failed("uniq", &e, ctx.stderr);
        }
    }
    0
}

// ---------------------------------------------------------------- cut

/// A list like `1,3-5,7-`: sorted, merged 1-based inclusive ranges.
fn parse_list(s: &str) -> Option<Vec<(usize, usize)>> {
    let mut v = Vec::new();
    for part in s.split([',', ' ']) {
        if part.is_empty() {
            return None;
        }
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (
                if a.is_empty() { 1 } else { a.parse().ok()? },
                if b.is_empty() {
                    usize::MAX
                } else {
                    b.parse().ok()?
                },
            ),
            None => {
                let n: usize = part.parse().ok()?;
                (n, n)
            }
        };
        if a == 0 || b < a {
            return None;
        }
        v.push((a, b));
    }
    v.sort();
    Some(v)
}

fn in_list(list: &[(usize, usize)], n: usize, complement: bool) -> bool {
    list.iter().any(|&(a, b)| a <= n && n <= b) != complement
}

pub(crate) fn cut(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "snz",
        with_value: "bcfd",
        long: &[
            ("bytes", true, 'b'),
            ("characters", true, 'c'),
            ("fields", true, 'f'),
            ("delimiter", true, 'd'),
            ("only-delimited", false, 's'),
            ("complement", false, 'C'),
            ("output-delimiter", true, 'O'),
            ("zero-terminated", false, 'z'),
        ],
        stop_at_operand: false,
    };
    let (options, files) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("cut", &e, ctx.stderr, 1),
    };
    let mut mode: Option<(char, String)> = None;
    let mut delim = b'\t';
    let mut delim_given = false;
    let mut only_delimited = false;
    let mut complement = false;
    let mut out_delim: Option<String> = None;
    let mut line_end = b'\n';
    for o in &options {
        let v = o.value.clone().unwrap_or_default();
        match o.key {
            'b' | 'c' | 'f' => {
                if mode.is_some() {
                    return opts::usage_error(
                        "cut",
                        "only one list may be specified",
                        ctx.stderr,
                        1,
                    );
                }
                mode = Some((o.key, v));
            }
            'd' => {
                if v.len() > 1 {
                    return opts::usage_error(
                        "cut",
                        "the delimiter must be a single character",
                        ctx.stderr,
                        1,
                    );
                }
                delim = v.bytes().next().unwrap_or(0);
                delim_given = true;
            }
            's' => only_delimited = true,
            'C' => complement = true,
            'O' => out_delim = Some(v),
            'z' => line_end = 0,
            _ => {}
        }
    }
    let Some((kind, list_s)) = mode else {
        return opts::usage_error(
            "cut",
            "you must specify a list of bytes, characters, or fields",
            ctx.stderr,
            1,
        );
    };
    if kind != 'f' && (delim_given || only_delimited) {
        let msg = if delim_given {
            "an input delimiter may be specified only when operating on fields"
        } else {
            "suppressing non-delimited lines makes sense\n\tonly when operating on fields"
        };
        return opts::usage_error("cut", msg, ctx.stderr, 1);
    }
    let Some(list) = parse_list(&list_s) else {
        let zero = list_s.split(',').any(|p| p == "0" || p.starts_with("0-"));
        let msg = if zero && kind == 'f' {
            "fields are numbered from 1".to_string()
        } else if zero {
            "byte/character positions are numbered from 1".to_string()
        } else if kind == 'f' {
            format!("invalid field value {}", quote(&list_s))
        } else {
            format!("invalid byte/character position {}", quote(&list_s))
        };
        return opts::usage_error("cut", &msg, ctx.stderr, 1);
    };
    let names: Vec<String> = if files.is_empty() {
        vec!["-".into()]
    } else {
        files
    };
    let mut status = 0;
    for name in &names {
        let mut src = match open_input(ctx.cwd, name) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(ctx.stderr, "cut: {}: {}", quotef(name), errno_text(&e));
                status = 1;
                continue;
            }
        };
        let mut r = BufReader::new(src.reader(ctx.stdin));
        loop {
            let mut l = Vec::new();
            match r.read_until(line_end, &mut l) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    let _ = writeln!(ctx.stderr, "cut: {}: {}", quotef(name), errno_text(&e));
                    status = 1;
                    break;
                }
            }
            if l.last() == Some(&line_end) {
                l.pop();
            }
            let mut o = Vec::new();
            if kind == 'f' {
                if !l.contains(&delim) {
                    if only_delimited {
                        continue;
                    }
                    o.extend_from_slice(&l);
                } else {
                    let od = out_delim
                        .clone()
                        .map(String::into_bytes)
                        .unwrap_or_else(|| vec![delim]);
                    let mut first = true;
                    for (i, f) in l.split(|c| *c == delim).enumerate() {
                        if in_list(&list, i + 1, complement) {
                            if !first {
                                o.extend_from_slice(&od);
                            }
                            o.extend_from_slice(f);
                            first = false;
                        }
                    }
                }
            } else {
                let mut prev_selected = false;
                for (i, &c) in l.iter().enumerate() {
                    let sel = in_list(&list, i + 1, complement);
                    if sel {
                        if let (Some(od), false, true) = (&out_delim, prev_selected, !o.is_empty())
                        {
                            o.extend_from_slice(od.as_bytes());
                        }
                        o.push(c);
                    }
                    prev_selected = sel;
                }
            }
            o.push(line_end);
            if let Err(e) = ctx.stdout.write_all(&o) {
                return write_failed("cut", &e, ctx.stderr);
            }
        }
    }
    status
}

// ---------------------------------------------------------------- tee

pub(crate) fn tee(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "aip",
        with_value: "",
        long: &[("append", false, 'a'), ("ignore-interrupts", false, 'i')],
        stop_at_operand: false,
    };
    let (options, files) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("tee", &e, ctx.stderr, 1),
    };
    let append = options.iter().any(|o| o.key == 'a');
    let mut status = 0;
    let mut outs: Vec<(String, std::fs::File)> = Vec::new();
    for f in &files {
        let mut oo = std::fs::OpenOptions::new();
        oo.write(true).create(true);
        if append {
            oo.append(true);
        } else {
            oo.truncate(true);
        }
        match oo.open(resolve(ctx.cwd, f)) {
            Ok(file) => outs.push((f.clone(), file)),
            Err(e) => {
                let _ = writeln!(ctx.stderr, "tee: {}: {}", quotef(f), errno_text(&e));
                status = 1;
            }
        }
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut stdout_ok = true;
    loop {
        let n = match ctx.stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = writeln!(ctx.stderr, "tee: read error: {}", errno_text(&e));
                return 1;
            }
        };
        if stdout_ok {
            if let Err(e) = ctx.stdout.write_all(&buf[..n]) {
                return write_failed("tee", &e, ctx.stderr);
            }
            stdout_ok = true;
        }
        let mut i = 0;
        while i < outs.len() {
            if let Err(e) = outs[i].1.write_all(&buf[..n]) {
                let _ = writeln!(
                    ctx.stderr,
                    "tee: {}: {}",
                    quotef(&outs[i].0),
                    errno_text(&e)
                );
                status = 1;
                outs.remove(i);
            } else {
                i += 1;
            }
        }
    }
    status
}
