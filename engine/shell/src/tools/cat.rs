//! `cat`: operands (files, `-` for stdin) in, their bytes out, optionally numbered or marked.
//!
//! Without formatting options the bytes are copied in blocks; with them, line by line. Line
//! numbers run on across operands, as GNU's do.

use std::io::{BufRead, BufReader, Read, Write};

use super::opts::{self, Spec};
use super::{errno_text, open_input, quotef, write_failed, ToolContext};

#[derive(Default)]
struct Format {
    number: bool,
    number_nonblank: bool,
    squeeze: bool,
    ends: bool,
    tabs: bool,
    nonprinting: bool,
}

impl Format {
    fn plain(&self) -> bool {
        !(self.number
            || self.number_nonblank
            || self.squeeze
            || self.ends
            || self.tabs
            || self.nonprinting)
    }
}

/// State carried from one operand to the next.
#[derive(Default)]
struct LineState {
    line_no: u64,
    blank_run: u32,
    at_line_start: bool,
}

pub(crate) fn cat(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "AbeEnstTuv",
        with_value: "",
        long: &[
            ("show-all", false, 'A'),
            ("number-nonblank", false, 'b'),
            ("show-ends", false, 'E'),
            ("number", false, 'n'),
            ("squeeze-blank", false, 's'),
            ("show-tabs", false, 'T'),
            ("show-nonprinting", false, 'v'),
        ],
        stop_at_operand: false,
    };
    let (options, mut files) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("cat", &e, ctx.stderr, 1),
    };
    let mut f = Format::default();
    for o in options {
        match o.key {
            'A' => {
                f.nonprinting = true;
                f.ends = true;
                f.tabs = true;
            }
            'b' => f.number_nonblank = true,
            'e' => {
                f.nonprinting = true;
                f.ends = true;
            }
            'E' => f.ends = true,
            'n' => f.number = true,
            's' => f.squeeze = true,
            't' => {
                f.nonprinting = true;
                f.tabs = true;
            }
            'T' => f.tabs = true,
            'v' => f.nonprinting = true,
            _ => {}
        }
    }
    if files.is_empty() {
        files.push("-".to_string());
    }
    let mut status = 0;
    let mut state = LineState {
        at_line_start: true,
        ..LineState::default()
    };
    for name in &files {
        let mut src = match open_input(ctx.cwd, name) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(ctx.stderr, "cat: {}: {}", quotef(name), errno_text(&e));
                status = 1;
                continue;
            }
        };
        let reader = src.reader(ctx.stdin);
        let result = if f.plain() {
            copy_plain(reader, ctx.stdout)
        } else {
            copy_formatted(reader, ctx.stdout, &f, &mut state)
        };
        match result {
            Ok(()) => {}
            Err(Failure::Read(e)) => {
                let _ = writeln!(ctx.stderr, "cat: {}: {}", quotef(name), errno_text(&e));
                status = 1;
            }
            Err(Failure::Write(e)) => return write_failed("cat", &e, ctx.stderr),
        }
    }
    if let Err(e) = ctx.stdout.flush() {
        return write_failed("cat", &e, ctx.stderr);
    }
    status
}

pub(crate) enum Failure {
    Read(std::io::Error),
    Write(std::io::Error),
}

/// Copies a reader to a writer in blocks, telling read errors from write errors.
pub(crate) fn copy_plain(reader: &mut dyn Read, out: &mut dyn Write) -> Result<(), Failure> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failure::Read(e)),
        };
        out.write_all(&buf[..n]).map_err(Failure::Write)?;
    }
}

fn copy_formatted(
    reader: &mut dyn Read,
    out: &mut dyn Write,
    f: &Format,
    st: &mut LineState,
) -> Result<(), Failure> {
    let mut r = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = r.read_until(b'\n', &mut line).map_err(Failure::Read)?;
        if n == 0 {
            return Ok(());
        }
        let has_nl = line.last() == Some(&b'\n');
        let body = if has_nl {
            &line[..line.len() - 1]
        } else {
            &line[..]
        };
        let mut o = Vec::with_capacity(line.len() + 16);
        if st.at_line_start {
            let blank = body.is_empty() && has_nl;
            if blank {
                st.blank_run += 1;
                if f.squeeze && st.blank_run > 1 {
                    continue;
                }
            } else {
                st.blank_run = 0;
            }
            let numbered = if f.number_nonblank { !blank } else { f.number };
            if numbered {
                st.line_no += 1;
                o.extend_from_slice(format!("{:>6}\t", st.line_no).as_bytes());
            }
        }
        for &b in body {
            push_byte(&mut o, b, f);
        }
        if has_nl {
            if f.ends {
                o.push(b'$');
            }
            o.push(b'\n');
        }
        st.at_line_start = has_nl;
        out.write_all(&o).map_err(Failure::Write)?;
    }
}

fn push_byte(o: &mut Vec<u8>, b: u8, f: &Format) {
    if b == b'\t' {
        if f.tabs {
            o.extend_from_slice(b"^I");
        } else {
            o.push(b);
        }
        return;
    }
    if !f.nonprinting {
        o.push(b);
        return;
    }
    let mut c = b;
    if c >= 128 {
        o.extend_from_slice(b"M-");
        c -= 128;
    }
    if c < 32 {
        o.push(b'^');
        o.push(c + 64);
    } else if c == 127 {
        o.extend_from_slice(b"^?");
    } else {
        o.push(c);
    }
}
