//! `test`/`[` and `[[ ]]`: the parser gives the expression tree, this evaluates it against the
//! shell's cwd.

use crate::state::{Flow, Shell, R};
use brush_parser::ast::{
    BinaryPredicate as BP, ExtendedTestExpr as X, TestExpr as T, UnaryPredicate as UP,
};
use std::rc::Rc;

impl Shell {
    pub fn ext_test(&mut self, e: &X) -> R<i32> {
        Ok(if self.ext_eval(e)? { 0 } else { 1 })
    }

    fn ext_eval(&mut self, e: &X) -> R<bool> {
        Ok(match e {
            X::And(a, b) => self.ext_eval(a)? && self.ext_eval(b)?,
            X::Or(a, b) => self.ext_eval(a)? || self.ext_eval(b)?,
            X::Not(a) => !self.ext_eval(a)?,
            X::Parenthesized(a) => self.ext_eval(a)?,
            X::UnaryTest(op, w) => {
                let s = self.expand_string(&w.value)?;
                if self.opts.xtrace {
                    let io = self.fds.cur_io.clone();
                    self.xtrace_raw(&format!("[[ {op} {s} ]]"), &io);
                }
                self.unary(op, &s)
            }
            X::BinaryTest(op, l, r) => {
                let ls = self.expand_string(&l.value)?;
                if self.opts.xtrace {
                    let rs = self.expand_string(&r.value)?;
                    let io = self.fds.cur_io.clone();
                    self.xtrace_raw(&format!("[[ {ls} {op} {rs} ]]"), &io);
                }
                match op {
                    BP::StringExactlyMatchesPattern | BP::StringDoesNotExactlyMatchPattern => {
                        let pat = self.expand_pattern(&r.value)?;
                        // bash matches `[[ == ]]` patterns with extglob on, whatever the option.
                        let saved = std::mem::replace(&mut self.opts.extglob, true);
                        let m = self.pattern_match(&ls, &pat);
                        self.opts.extglob = saved;
                        if matches!(op, BP::StringExactlyMatchesPattern) {
                            m
                        } else {
                            !m
                        }
                    }
                    BP::StringMatchesRegex => {
                        let re = self.expand_regex(&r.value)?;
                        return self.regex_match(&ls, &re);
                    }
                    _ => {
                        let rs = self.expand_string(&r.value)?;
                        match op {
                            BP::ArithmeticEqualTo
                            | BP::ArithmeticNotEqualTo
                            | BP::ArithmeticLessThan
                            | BP::ArithmeticLessThanOrEqualTo
                            | BP::ArithmeticGreaterThan
                            | BP::ArithmeticGreaterThanOrEqualTo => {
                                let a = self.arith_str(&ls)?;
                                let b = self.arith_str(&rs)?;
                                arith_cmp(op, a, b)
                            }
                            _ => self.binary(op, &ls, &rs),
                        }
                    }
                }
            }
        })
    }

    /// The right side of `=~`: quoted parts match literally.
    fn expand_regex(&mut self, w: &str) -> R<String> {
        let pieces = self.parse_word(w)?;
        let mut parts = Vec::new();
        self.expand_pieces(&pieces, false, &mut parts)?;
        let mut out = String::new();
        for p in parts {
            if let crate::expand::Part::Text { s, quoted, .. } = p {
                if quoted {
                    out.push_str(&regex::escape(&s));
                } else {
                    out.push_str(&s);
                }
            }
        }
        Ok(out)
    }

    fn regex_match(&mut self, s: &str, re: &str) -> R<bool> {
        let key = format!("{}{re}", if self.opts.nocasematch { "i:" } else { "c:" });
        let cached = self.caches.borrow().regexes.get(&key).cloned();
        let r = match cached {
            Some(r) => r,
            None => {
                let r = regex::RegexBuilder::new(&posix_to_rust_regex(re))
                    .case_insensitive(self.opts.nocasematch)
                    .build()
                    .ok()
                    .map(Rc::new);
                self.caches
                    .borrow_mut()
                    .regexes
                    .insert(re.to_string(), r.clone());
                r
            }
        };
        let Some(r) = r else {
            return Err(Flow::Abort(2));
        };
        let mut m = std::collections::BTreeMap::new();
        let found = match r.captures(s) {
            Some(c) => {
                for (i, g) in c.iter().enumerate() {
                    m.insert(
                        i as i64,
                        g.map(|g| g.as_str().to_string()).unwrap_or_default(),
                    );
                }
                true
            }
            None => false,
        };
        let _ = self.set_value("BASH_REMATCH", crate::state::Value::Arr(m));
        Ok(found)
    }

    pub fn unary(&mut self, op: &UP, s: &str) -> bool {
        use fsx::*;
        let path = || self.cwd.join(s);
        let mode = |m: &std::fs::Metadata| mode_at(&path(), m);
        let meta = || {
            if s.is_empty() {
                None
            } else {
                std::fs::metadata(path()).ok()
            }
        };
        match op {
            UP::StringHasZeroLength => s.is_empty(),
            UP::StringHasNonZeroLength => !s.is_empty(),
            UP::FileExists => meta().is_some(),
            UP::FileExistsAndIsDir => meta().is_some_and(|m| m.is_dir()),
            UP::FileExistsAndIsRegularFile => meta().is_some_and(|m| m.is_file()),
            UP::FileExistsAndIsSymlink => {
                !s.is_empty()
                    && std::fs::symlink_metadata(path()).is_ok_and(|m| m.file_type().is_symlink())
            }
            UP::FileExistsAndIsNotZeroLength => meta().is_some_and(|m| m.len() > 0),
            UP::FileExistsAndIsReadable => meta().is_some_and(|m| mode(&m) & 0o444 != 0),
            UP::FileExistsAndIsWritable => {
                meta().is_some_and(|m| mode(&m) & 0o222 != 0 || !m.permissions().readonly())
            }
            UP::FileExistsAndIsExecutable => meta().is_some_and(|m| mode(&m) & 0o111 != 0),
            UP::FileExistsAndIsBlockSpecialFile => meta().is_some_and(|m| is_block(&m)),
            UP::FileExistsAndIsCharSpecialFile => meta().is_some_and(|m| is_char(&m)),
            UP::FileExistsAndIsFifo => meta().is_some_and(|m| is_fifo(&m)),
            UP::FileExistsAndIsSocket => meta().is_some_and(|m| is_socket(&m)),
            UP::FileExistsAndIsSetuid => meta().is_some_and(|m| mode(&m) & 0o4000 != 0),
            UP::FileExistsAndIsSetgid => meta().is_some_and(|m| mode(&m) & 0o2000 != 0),
            UP::FileExistsAndHasStickyBit => meta().is_some_and(|m| mode(&m) & 0o1000 != 0),
            UP::FileExistsAndOwnedByEffectiveUserId | UP::FileExistsAndOwnedByEffectiveGroupId => {
                meta().is_some()
            }
            UP::FileExistsAndModifiedSinceLastRead => meta().is_some(),
            UP::FdIsOpenTerminal => false,
            UP::ShellOptionEnabled => self.option_enabled(s).unwrap_or(false),
            UP::ShellVariableIsSetAndAssigned => {
                if let Some((n, rest)) = s.split_once('[') {
                    let idx = rest.trim_end_matches(']');
                    if idx == "@" || idx == "*" {
                        self.get_array(n).is_some_and(|a| !a.is_empty())
                    } else {
                        match self.subscript_text_key(n, idx) {
                            Ok(crate::state::ElemKey::Str(key)) => self
                                .get_array(n)
                                .is_some_and(|a| a.iter().any(|(k, _)| *k == key)),
                            Ok(crate::state::ElemKey::Idx(i)) => self.index_get(n, i).is_some(),
                            Err(_) => false,
                        }
                    }
                } else {
                    self.is_set(s)
                }
            }
            UP::ShellVariableIsSetAndNameRef => self
                .lookup(s)
                .is_some_and(|v| v.nameref && v.value.is_some()),
        }
    }

    pub fn binary(&mut self, op: &BP, a: &str, b: &str) -> bool {
        match op {
            BP::StringExactlyMatchesString | BP::StringExactlyMatchesPattern => a == b,
            BP::StringDoesNotExactlyMatchString | BP::StringDoesNotExactlyMatchPattern => a != b,
            BP::StringContainsSubstring => a.contains(b),
            BP::LeftSortsBeforeRight => a < b,
            BP::LeftSortsAfterRight => a > b,
            BP::StringMatchesRegex => regex::Regex::new(b).is_ok_and(|r| r.is_match(a)),
            BP::FilesReferToSameDeviceAndInodeNumbers => {
                match (
                    std::fs::metadata(self.cwd.join(a)),
                    std::fs::metadata(self.cwd.join(b)),
                ) {
                    (Ok(x), Ok(y)) => fsx::same_file(&x, &y),
                    _ => false,
                }
            }
            BP::LeftFileIsNewerOrExistsWhenRightDoesNot
            | BP::LeftFileIsOlderOrDoesNotExistWhenRightDoes => {
                let ma = std::fs::metadata(self.cwd.join(a))
                    .and_then(|m| m.modified())
                    .ok();
                let mb = std::fs::metadata(self.cwd.join(b))
                    .and_then(|m| m.modified())
                    .ok();
                if matches!(op, BP::LeftFileIsNewerOrExistsWhenRightDoesNot) {
                    match (ma, mb) {
                        (Some(x), Some(y)) => x > y,
                        (Some(_), None) => true,
                        _ => false,
                    }
                } else {
                    match (ma, mb) {
                        (Some(x), Some(y)) => x < y,
                        (None, Some(_)) => true,
                        _ => false,
                    }
                }
            }
            _ => {
                let (x, y) = (a.trim().parse::<i64>(), b.trim().parse::<i64>());
                match (x, y) {
                    (Ok(x), Ok(y)) => arith_cmp(op, x, y),
                    _ => false,
                }
            }
        }
    }

    /// The `test` / `[` builtin.
    pub fn test_builtin(&mut self, args: &[String], io: &crate::io::Io) -> i32 {
        let name = args[0].as_str();
        let mut a: Vec<String> = args[1..].to_vec();
        if name == "[" {
            if a.last().map(|s| s.as_str()) != Some("]") {
                self.error_io(io, "[: missing `]'");
                return 2;
            }
            a.pop();
        }
        // Integer operands must be integers.
        if a.len() == 3
            && a[1].starts_with('-')
            && matches!(a[1].as_str(), "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge")
        {
            for v in [&a[0], &a[2]] {
                // Blanks may surround the number, but a trailing newline is not a blank.
                if v.trim_start()
                    .trim_end_matches([' ', '\t'])
                    .parse::<i64>()
                    .is_err()
                {
                    self.error_io(io, &format!("{name}: {v}: integer expression expected"));
                    return 2;
                }
            }
        }
        match brush_parser::test_command::parse(&a) {
            Ok(e) => {
                if self.test_eval(&e) {
                    0
                } else {
                    1
                }
            }
            Err(_) => {
                let msg = if a.len() == 2 {
                    format!("{name}: {}: unary operator expected", a[0])
                } else if a.len() == 3 {
                    format!("{name}: {}: binary operator expected", a[1])
                } else {
                    format!("{name}: too many arguments")
                };
                self.error_io(io, &msg);
                2
            }
        }
    }

    fn test_eval(&mut self, e: &T) -> bool {
        match e {
            T::False => false,
            T::Literal(s) => !s.is_empty(),
            T::And(a, b) => self.test_eval(a) && self.test_eval(b),
            T::Or(a, b) => self.test_eval(a) || self.test_eval(b),
            T::Not(a) => !self.test_eval(a),
            T::Parenthesized(a) => self.test_eval(a),
            T::UnaryTest(op, s) => self.unary(op, s),
            T::BinaryTest(op, a, b) => match op {
                BP::StringExactlyMatchesPattern | BP::StringExactlyMatchesString => a == b,
                BP::StringDoesNotExactlyMatchPattern | BP::StringDoesNotExactlyMatchString => {
                    a != b
                }
                _ => self.binary(op, a, b),
            },
        }
    }

    pub fn option_enabled(&self, name: &str) -> Option<bool> {
        self.set_option_value(name)
    }
}

fn arith_cmp(op: &BP, a: i64, b: i64) -> bool {
    match op {
        BP::ArithmeticEqualTo => a == b,
        BP::ArithmeticNotEqualTo => a != b,
        BP::ArithmeticLessThan => a < b,
        BP::ArithmeticLessThanOrEqualTo => a <= b,
        BP::ArithmeticGreaterThan => a > b,
        BP::ArithmeticGreaterThanOrEqualTo => a >= b,
        _ => false,
    }
}

/// POSIX ERE bracket classes and anchors map mostly one to one; keep the text.
fn posix_to_rust_regex(re: &str) -> String {
    let c: Vec<char> = re.chars().collect();
    let mut out = String::from("(?s)");
    let mut i = 0;
    while i < c.len() {
        if c[i] == '\\' && i + 1 < c.len() {
            out.push(c[i]);
            out.push(c[i + 1]);
            i += 2;
            continue;
        }
        if c[i] == '[' {
            // A bracket expression: POSIX allows `[` and a leading `]` literally inside.
            out.push('[');
            i += 1;
            if i < c.len() && c[i] == '^' {
                out.push('^');
                i += 1;
            }
            if i < c.len() && c[i] == ']' {
                out.push_str("\\]");
                i += 1;
            }
            while i < c.len() && c[i] != ']' {
                if c[i] == '[' && i + 1 < c.len() && matches!(c[i + 1], ':' | '.' | '=') {
                    let close = c[i + 1];
                    let mut j = i + 2;
                    while j + 1 < c.len() && !(c[j] == close && c[j + 1] == ']') {
                        j += 1;
                    }
                    let s: String = c[i..(j + 2).min(c.len())].iter().collect();
                    out.push_str(&s);
                    i = j + 2;
                    continue;
                }
                match c[i] {
                    '[' | '&' | '~' | '\\' => {
                        out.push('\\');
                        out.push(c[i]);
                    }
                    ch => out.push(ch),
                }
                i += 1;
            }
            if i < c.len() {
                out.push(']');
                i += 1;
            }
            continue;
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

/// Whether `path` is a file with an execute bit (`test -x` on a regular file).
pub(crate) fn is_executable(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && fsx::mode_at(path, &m) & 0o111 != 0)
}

/// File metadata the test operators need, per target (WASI has no mode bits).
mod fsx {
    use std::fs::Metadata;
    #[cfg(unix)]
    mod imp {
        use std::fs::Metadata;
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        pub fn mode_at(_: &std::path::Path, m: &Metadata) -> u32 {
            m.mode()
        }
        pub fn is_block(m: &Metadata) -> bool {
            m.file_type().is_block_device()
        }
        pub fn is_char(m: &Metadata) -> bool {
            m.file_type().is_char_device()
        }
        pub fn is_fifo(m: &Metadata) -> bool {
            m.file_type().is_fifo()
        }
        pub fn is_socket(m: &Metadata) -> bool {
            m.file_type().is_socket()
        }
        pub fn same_file(a: &Metadata, b: &Metadata) -> bool {
            a.dev() == b.dev() && a.ino() == b.ino()
        }
    }
    #[cfg(not(unix))]
    mod imp {
        use std::fs::Metadata;
        /// The host's mode bits through the bridge, else a guess from what WASI tells.
        pub fn mode_at(path: &std::path::Path, m: &Metadata) -> u32 {
            #[cfg(target_os = "wasi")]
            if let Some(mode) = crate::host::file_mode(path) {
                return mode;
            }
            let _ = path;
            let base = if m.is_dir() { 0o755 } else { 0o644 };
            if m.permissions().readonly() {
                base & !0o222
            } else {
                base
            }
        }
        pub fn is_block(_: &Metadata) -> bool {
            false
        }
        pub fn is_char(m: &Metadata) -> bool {
            !m.is_file() && !m.is_dir() && !m.file_type().is_symlink()
        }
        pub fn is_fifo(_: &Metadata) -> bool {
            false
        }
        pub fn is_socket(_: &Metadata) -> bool {
            false
        }
        pub fn same_file(a: &Metadata, b: &Metadata) -> bool {
            a.len() == b.len() && a.modified().ok() == b.modified().ok()
        }
    }
    pub use imp::*;
    #[allow(dead_code)]
    fn _t(_: &Metadata) {}
}
