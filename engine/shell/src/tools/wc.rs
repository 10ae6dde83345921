//! `wc`: counts of lines, words, characters and bytes of each operand, read in blocks.
//!
//! The column width follows GNU: one count of one input is printed bare; otherwise the width is
//! that of the largest total the regular files' sizes allow, at least 7 when an input is not a
//! regular file (a pipe).

use std::io::Write;

use super::opts::{self, Spec};
use super::{errno_text, open_input, quotef, write_failed, Source, ToolContext};

#[derive(Default, Clone, Copy)]
struct Counts {
    lines: u64,
    words: u64,
    chars: u64,
    bytes: u64,
    max_line: u64,
}

#[derive(Default)]
struct Counter {
    /// Count UTF-8 sequences as one character (a UTF-8 locale); else every byte is one.
    utf8: bool,
    c: Counts,
    in_word: bool,
    line_len: u64,
    /// Bytes of a UTF-8 sequence still expected.
    pending: u8,
}

impl Counter {
    fn feed(&mut self, buf: &[u8]) {
        for &b in buf {
            self.c.bytes += 1;
            if !self.utf8 {
                self.pending = 0;
            } else if self.pending > 0 && (b & 0xC0) == 0x80 {
                self.pending -= 1;
                continue;
            }
            self.pending = match b {
                0xC0..=0xDF if self.utf8 => 1,
                0xE0..=0xEF if self.utf8 => 2,
                0xF0..=0xF7 if self.utf8 => 3,
                _ => 0,
            };
            self.c.chars += 1;
            match b {
                b'\n' => {
                    self.c.lines += 1;
                    self.c.max_line = self.c.max_line.max(self.line_len);
                    self.line_len = 0;
                }
                b'\t' => self.line_len = (self.line_len / 8 + 1) * 8,
                b'\r' | 0x0C => self.line_len = 0,
                _ if (0x20..0x7F).contains(&b) || (self.utf8 && b >= 0xC0) => self.line_len += 1,
                _ => {}
            }
            let space = matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r');
            if space {
                self.in_word = false;
            } else if ((0x21..0x7F).contains(&b) || (self.utf8 && b >= 0xC0)) && !self.in_word {
                self.c.words += 1;
                self.in_word = true;
            }
        }
    }

    fn finish(mut self) -> Counts {
        self.c.max_line = self.c.max_line.max(self.line_len);
        self.c
    }
}

pub(crate) fn wc(args: &[String], ctx: &mut ToolContext<'_>) -> i32 {
    let spec = Spec {
        flags: "lwcmL",
        with_value: "",
        long: &[
            ("lines", false, 'l'),
            ("words", false, 'w'),
            ("chars", false, 'm'),
            ("bytes", false, 'c'),
            ("max-line-length", false, 'L'),
        ],
        stop_at_operand: false,
    };
    let (options, files) = match opts::parse(args.get(1..).unwrap_or(&[]), &spec) {
        Ok(p) => p,
        Err(e) => return opts::usage_error("wc", &e, ctx.stderr, 1),
    };
    let mut show = [false; 5]; // lines, words, chars, bytes, max
    for o in &options {
        match o.key {
            'l' => show[0] = true,
            'w' => show[1] = true,
            'm' => show[2] = true,
            'c' => show[3] = true,
            'L' => show[4] = true,
            _ => {}
        }
    }
    if !show.iter().any(|&s| s) {
        show = [true, true, false, true, false];
    }
    let utf8 = utf8_locale(ctx.env);
    let names: Vec<String> = if files.is_empty() {
        vec![String::new()]
    } else {
        files.clone()
    };
    // Open everything first: the width depends on every input.
    let mut inputs: Vec<Option<Source>> = Vec::new();
    let mut regular_total: u64 = 0;
    let mut min_width = 1;
    let mut first_failed = false;
    let mut status = 0;
    let mut errors: Vec<Option<String>> = Vec::new();
    let mut dirs: Vec<usize> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let op = if name.is_empty() { "-" } else { name.as_str() };
        match open_input(ctx.cwd, op) {
            Ok(src) => {
                match &src {
                    Source::File(f) => match f.metadata() {
                        Ok(m) if m.is_file() => {
                            regular_total = regular_total.saturating_add(m.len())
                        }
                        _ => min_width = 7,
                    },
                    Source::Stdin => match ctx.stdin_len {
                        Some(n) => regular_total = regular_total.saturating_add(n),
                        None => min_width = 7,
                    },
                    // A character device, as GNU sees /dev/null.
                    Source::Empty(_) => min_width = 7,
                }
                inputs.push(Some(src));
                errors.push(None);
            }
            Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {
                // GNU opens a directory, fails to read it, and still prints its zero counts.
                min_width = 7;
                inputs.push(None);
                errors.push(Some(format!("wc: {}: {}", quotef(op), errno_text(&e))));
                dirs.push(i);
            }
            Err(e) => {
                if i == 0 {
                    first_failed = true;
                }
                inputs.push(None);
                errors.push(Some(format!("wc: {}: {}", quotef(op), errno_text(&e))));
            }
        }
    }
    let single = show.iter().filter(|&&s| s).count() == 1 && names.len() == 1;
    let width = if single || first_failed {
        1
    } else {
        let mut w = 1;
        let mut t = regular_total;
        while t >= 10 {
            w += 1;
            t /= 10;
        }
        w.max(min_width)
    };
    let mut total = Counts::default();
    for (i, name) in names.iter().enumerate() {
        let Some(mut src) = inputs[i].take() else {
            if let Some(msg) = &errors[i] {
                let _ = writeln!(ctx.stderr, "{msg}");
            }
            status = 1;
            if dirs.contains(&i) {
                if let Err(e) = print_counts(ctx.stdout, &Counts::default(), &show, width, name) {
                    return write_failed("wc", &e, ctx.stderr);
                }
            }
            continue;
        };
        let mut counter = Counter {
            utf8,
            ..Counter::default()
        };
        let mut buf = vec![0u8; 64 * 1024];
        let reader = src.reader(ctx.stdin);
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => counter.feed(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let op = if name.is_empty() {
                        "standard input"
                    } else {
                        name.as_str()
                    };
                    let _ = writeln!(ctx.stderr, "wc: {}: {}", quotef(op), errno_text(&e));
                    status = 1;
                    break;
                }
            }
        }
        let c = counter.finish();
        total.lines += c.lines;
        total.words += c.words;
        total.chars += c.chars;
        total.bytes += c.bytes;
        total.max_line = total.max_line.max(c.max_line);
        if let Err(e) = print_counts(ctx.stdout, &c, &show, width, name) {
            return write_failed("wc", &e, ctx.stderr);
        }
    }
    if names.len() > 1 {
        if let Err(e) = print_counts(ctx.stdout, &total, &show, width, "total") {
            return write_failed("wc", &e, ctx.stderr);
        }
    }
    status
}

fn print_counts(
    out: &mut dyn Write,
    c: &Counts,
    show: &[bool; 5],
    width: usize,
    name: &str,
) -> std::io::Result<()> {
    let values = [c.lines, c.words, c.chars, c.bytes, c.max_line];
    let mut line = String::new();
    for (v, s) in values.iter().zip(show) {
        if *s {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&format!("{v:>width$}"));
        }
    }
    if !name.is_empty() {
        line.push(' ');
        line.push_str(name);
    }
    line.push('\n');
    out.write_all(line.as_bytes())
}

/// Whether the exported locale variables name a UTF-8 locale, as `setlocale` would decide.
fn utf8_locale(env: &[(String, String)]) -> bool {
    let value = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| super::getenv(env, k).filter(|v| !v.is_empty()));
    match value {
        Some(v) => {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        }
        None => false,
    }
}
