//! `head` and `tail`: the first or last lines (or bytes) of each operand.
//!
//! `head -n N` reads only until it has N lines; `tail -n N` keeps a ring of the last N lines;
//! `-n -N` (head) and `-n +N` (tail) keep their GNU meanings. Headers `==> NAME <==` appear with
//! several operands or `-v`. `tail -f` is refused: a hook's output must end.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};

use super::opts::{self, Spec};
use super::{errno_text, open_input, quote, write_failed, ToolContext};

/// Parses a GNU size (`10`, `2k`, `1MB`, `3KiB`, `4b`); None when invalid.
pub(crate) fn parse_size(s: &str) -> Option<u64> {
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits_end == 0 {
        return None;
    }
    let n: u64 = s[..digits_end].parse().ok()?;
    let mult: u64 = match &s[digits_end..] {
        "" => 1,
        "b" => 512,
        "k" | "K" | "KiB" => 1 << 10,
        "kB" | "KB" => 1000,
        "M" | "MiB" => 1 << 20,
        "MB" => 1_000_000,
        "G" | "GiB" => 1 << 30,
        "GB" => 1_000_000_000,
        "T" | "TiB" => 1 << 40,
        "TB" => 1_000_000_000_000,
        _ => return None,
    };
    Some(n.saturating_mul(mult))
}

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Lines,
    Bytes,
}

/// A count as written: `N`, `-N` or `+N`.
#[derive(Clone, Copy)]
struct Count {
    unit: Unit,
    n: u64,
    /// `-N` for head (all but the last N), `+N` for tail (from the Nth on).
    from_other_end: bool,
}

fn parse_count(tool: &str, unit: Unit, raw: &str, sign_char: char) -> Result<Count, String> {
    let (other, digits) = match raw.strip_prefix(sign_char) {
        Some(rest) => (true, rest),
        None => {
            // The sign that means "the usual end" is accepted and ignored.
            let usual = if sign_char == '-' { '+' } else { '-' };
            (false, raw.strip_prefix(usual).unwrap_or(raw))
        }
    };
    let what = if unit == Unit::Lines {
        "lines"
    } else {
        "bytes"
    };
    match parse_size(digits) {
        Some(n) => Ok(Count {
            unit,
            n,
            from_other_end: other,
        }),
        None => Err(format!("{tool}: invalid number of {what}: {}", quote(raw))),
    }
}

struct Common {
    count: Count,
    headers: Option<bool>,
    delim: u8,
    files: Vec<String>,
}

/// Parses the shared command line of head and tail (`sign_char` is '-' for head, '+' for tail).
fn parse_common(
    tool: &str,
    args: &[String],
    ctx: &mut ToolContext<'_>,
    sign_char: char,
) -> Result<Common, i32> {
    let mut rest: Vec<String> = args.get(1..).unwrap_or(&[]).to_vec();
    let mut count = Count {
        unit: Unit::Lines,
        n: 10,
        from_other_end: false,
    };
    // Obsolete forms: `head -5`, `tail -5`, `tail +5`, with an optional c/l unit letter.
    if let Some(first) = rest.first() {
        let b = first.as_bytes();
        let obsolete_sign = b
            .first()
            .map(|&c| c == b'-' || (tool == "tail" && c == b'+'))
            .unwrap_or(false);
        if obsolete_sign && b.len() > 1 && b[1].is_ascii_digit() {
            let body = &first[1..];
            let end = body
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(body.len());
            let (num, suffix) = body.split_at(end);
            let unit = match suffix {
                "" | "l" => Some(Unit::Lines),
                "c" => Some(Unit::Bytes),
                _ => None,
            };
            if let (Some(unit), Ok(n)) = (unit, num.parse::<u64>()) {
                count = Count {
                    unit,
                    n,
                    from_other_end: b[0] == b'+',
                };
                rest.remove(0);
            }
        }
    }
    let spec = Spec {
        flags: "qvzf",
        with_value: "nc",
        long: &[
            ("lines", true, 'n'),
            ("bytes", true, 'c'),
            ("quiet", false, 'q'),
            ("silent", false, 'q'),
            ("verbose", false, 'v'),
            ("zero-terminated", false, 'z'),
            ("follow", false, 'f'),
        ],
        stop_at_operand: false,
    };
    let (options, files) = match opts::parse(&rest, &spec) {
        Ok(p) => p,
        Err(e) => return Err(opts::usage_error(tool, &e, ctx.stderr, 1)),
    };
    let mut headers = None;
    let mut delim = b'\n';
    for o in options {
        let v = o.value.unwrap_or_default();
        match o.key {
            'n' | 'c' => {
                let unit = if o.key == 'n' {
                    Unit::Lines
                } else {
                    Unit::Bytes
                };
                count = match parse_count(tool, unit, &v, sign_char) {
                    Ok(c) => c,
                    Err(msg) => {
                        let _ = writeln!(ctx.stderr, "{msg}");
                        return Err(1);
                    }
                };
            }
            'q' => headers = Some(false),
            'v' => headers = Some(true),
            'z' => delim = 0,
            'f' => {
                let _ = writeln!(
                    ctx.stderr,
                    "{tool}: following a file (-f) is not supported in hookbox's shell"
                );
                return Err(1);
            }
            _ => {}
        }
    }
    let files = if files.is_empty() {
        vec!["-".to_string()]
    } else {
        files
    };
    Ok(Common {
        count,
        headers,
        delim,
        files,
    })
}

enum Failure {
    Read(std::io::Error),
    Write(std::io::Error),
}

fn run(tool: &str, args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let sign = if tool == "head" { '-' } else { '+' };
    let c = match parse_common(tool, args, ctx, sign) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let show_headers = c.headers.unwrap_or(c.files.len() > 1);
    let mut status = 0;
    let mut first = true;
    for name in &c.files {
        let mut src = match open_input(ctx.cwd, name) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(
                    ctx.stderr,
                    "{tool}: cannot open {} for reading: {}",
                    quote(name),
                    errno_text(&e)
                );
                status = 1;
                continue;
            }
        };
        if show_headers {
            let shown = if name == "-" {
                "standard input"
            } else {
                name.as_str()
            };
            let sep = if first { "" } else { "\n" };
            if let Err(e) = writeln!(ctx.stdout, "{sep}==> {shown} <==") {
                return write_failed(tool, &e, ctx.stderr);
            }
        }
        first = false;
        let reader = src.reader(ctx.stdin);
        let result = if tool == "head" {
            head_one(reader, ctx.stdout, c.count, c.delim)
        } else {
            tail_one(reader, ctx.stdout, c.count, c.delim)
        };
        match result {
            Ok(()) => {}
            Err(Failure::Read(e)) => {
                let shown = if name == "-" {
                    "standard input"
                } else {
                    name.as_str()
                };
                let _ = writeln!(
                    ctx.stderr,
                    "{tool}: error reading {}: {}",
                    quote(shown),
                    errno_text(&e)
                );
                status = 1;
            }
            Err(Failure::Write(e)) => return write_failed(tool, &e, ctx.stderr),
        }
    }
    if let Err(e) = ctx.stdout.flush() {
        return write_failed(tool, &e, ctx.stderr);
    }
    status
}

pub(crate) fn head(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    run("head", args, ctx)
}

pub(crate) fn tail(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    run("tail", args, ctx)
}

fn read_err(e: std::io::Error) -> Failure {
    Failure::Read(e)
}

fn head_one(
    reader: &mut dyn Read,
    out: &mut dyn Write,
    count: Count,
    delim: u8,
) -> Result<(), Failure> {
    match (count.unit, count.from_other_end) {
        (Unit::Bytes, false) => {
            let mut limited = reader.take(count.n);
            super::cat::copy_plain(&mut limited, out).map_err(|f| match f {
                super::cat::Failure::Read(e) => Failure::Read(e),
                super::cat::Failure::Write(e) => Failure::Write(e),
            })
        }
        (Unit::Lines, false) => {
            let mut r = BufReader::new(reader);
            let mut line = Vec::new();
            for _ in 0..count.n {
                line.clear();
                if r.read_until(delim, &mut line).map_err(read_err)? == 0 {
                    break;
                }
                out.write_all(&line).map_err(Failure::Write)?;
            }
            Ok(())
        }
        (Unit::Bytes, true) => {
            // All but the last N bytes: hold N bytes back.
            let mut held: VecDeque<u8> = VecDeque::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = reader.read(&mut buf).map_err(read_err)?;
                if n == 0 {
                    return Ok(());
                }
                held.extend(&buf[..n]);
                let excess = held
                    .len()
                    .saturating_sub(usize::try_from(count.n).unwrap_or(usize::MAX));
                if excess > 0 {
                    let out_bytes: Vec<u8> = held.drain(..excess).collect();
                    out.write_all(&out_bytes).map_err(Failure::Write)?;
                }
            }
        }
        (Unit::Lines, true) => {
            let keep = usize::try_from(count.n).unwrap_or(usize::MAX);
            let mut held: VecDeque<Vec<u8>> = VecDeque::new();
            let mut r = BufReader::new(reader);
            loop {
                let mut line = Vec::new();
                if r.read_until(delim, &mut line).map_err(read_err)? == 0 {
                    return Ok(());
                }
                held.push_back(line);
                if held.len() > keep {
                    if let Some(l) = held.pop_front() {
                        out.write_all(&l).map_err(Failure::Write)?;
                    }
                }
            }
        }
    }
}

fn tail_one(
    reader: &mut dyn Read,
    out: &mut dyn Write,
    count: Count,
    delim: u8,
) -> Result<(), Failure> {
    match (count.unit, count.from_other_end) {
        (Unit::Bytes, true) => {
            // From byte N on (1-based): skip N-1 bytes.
            let skip = count.n.saturating_sub(1);
            let skipped =
                std::io::copy(&mut reader.take(skip), &mut std::io::sink()).map_err(read_err)?;
            if skipped < skip {
                return Ok(());
            }
            super::cat::copy_plain(reader, out).map_err(|f| match f {
                super::cat::Failure::Read(e) => Failure::Read(e),
                super::cat::Failure::Write(e) => Failure::Write(e),
            })
        }
        (Unit::Lines, true) => {
            let mut r = BufReader::new(reader);
            let mut line = Vec::new();
            let mut no = 1u64;
            loop {
                line.clear();
                if r.read_until(delim, &mut line).map_err(read_err)? == 0 {
                    return Ok(());
                }
                if no >= count.n {
                    out.write_all(&line).map_err(Failure::Write)?;
                }
                no = no.saturating_add(1);
            }
        }
        (Unit::Bytes, false) => {
            let keep = usize::try_from(count.n).unwrap_or(usize::MAX);
            let mut held: VecDeque<u8> = VecDeque::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = reader.read(&mut buf).map_err(read_err)?;
                if n == 0 {
                    break;
                }
                held.extend(&buf[..n]);
                let excess = held.len().saturating_sub(keep);
                held.drain(..excess);
            }
            let (a, b) = held.as_slices();
            out.write_all(a).map_err(Failure::Write)?;
            out.write_all(b).map_err(Failure::Write)
        }
        (Unit::Lines, false) => {
            let keep = usize::try_from(count.n).unwrap_or(usize::MAX);
            if keep == 0 {
                std::io::copy(reader, &mut std::io::sink()).map_err(read_err)?;
                return Ok(());
            }
            let mut held: VecDeque<Vec<u8>> = VecDeque::new();
            let mut r = BufReader::new(reader);
            loop {
                let mut line = Vec::new();
                if r.read_until(delim, &mut line).map_err(read_err)? == 0 {
                    break;
                }
                held.push_back(line);
                if held.len() > keep {
                    held.pop_front();
                }
            }
            for l in held {
                out.write_all(&l).map_err(Failure::Write)?;
            }
            Ok(())
        }
    }
}
