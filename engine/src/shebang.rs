//! The one shebang classifier: what a script's `#!` line makes of it, for discover (is this a
//! shell hook?), the native runner (what to execute) and the sandbox runner (the bundled shell,
//! or refuse).
//!
//! In: the first bytes of a file ([`SHEBANG_MAX_BYTES`], the kernel's own limit) or the text
//! of a `#!` line. Out: a [`Shebang`]. Nothing here opens a file except [`read`].
//!
//! The line is split the way Linux splits it: blanks after `#!` are skipped, the interpreter
//! runs to the next blank, and the rest of the line (trimmed) is *one* argument. `env -S`
//! splits that argument into words, as GNU env does. On top of the kernel's rules, two
//! choices the runners share:
//!
//! - bash or sh (by base name, directly or as `env`'s program) makes a [`Shebang::Shell`]:
//!   both runners run their bash (host bash, or the bundled shell) with the arguments the
//!   kernel would have given it, so `#!/bin/bash -e` is `bash -e FILE` and `#!/bin/bash foo`
//!   is `bash foo FILE` (bash then runs `foo`), whichever runner runs it.
//! - A trailing `\r` (a CRLF file) is ignored for the decision, so a CRLF bash script is
//!   still a shell script; bash then sees the `\r`s in its lines and `validate` says so. A
//!   UTF-8 byte-order mark before `#!` means no shebang, as for the kernel.

use std::io::Read;
use std::path::Path;

/// Bytes of a file read to find its shebang: the kernel's own limit (`BINPRM_BUF_SIZE`).
pub const SHEBANG_MAX_BYTES: usize = 256;

/// What a script's first line says about how it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shebang {
    /// No `#!` line (also: `#!` with nothing after it, or a byte-order mark before it).
    Absent,
    /// bash or sh, directly or through `env`: the script runs in bash with `args` before its
    /// path, as the kernel (and `env -S`) would pass them (`#!/bin/bash -e` → `["-e"]`).
    Shell { args: Vec<String> },
    /// Another interpreter: its path and at most one argument, as the kernel splits them.
    Interpreter { path: String, arg: Option<String> },
    /// A line that cannot start the script on any system: `#!/usr/bin/env bash -e` (env
    /// looks for a program named `bash -e`). Both runners fail it without starting anything,
    /// with `code` and `message` as the system would report them.
    Broken { code: i32, message: String },
}

impl Shebang {
    /// Whether the script runs in bash.
    pub fn is_shell(&self) -> bool {
        matches!(self, Shebang::Shell { .. })
    }

    /// How the interpreter line reads in messages: `/usr/bin/python3 -u`.
    pub fn describe(&self) -> String {
        match self {
            Shebang::Absent => "no shebang".into(),
            Shebang::Shell { args } if args.is_empty() => "bash".into(),
            Shebang::Shell { args } => format!("bash {}", args.join(" ")),
            Shebang::Interpreter { path, arg: None } => path.clone(),
            Shebang::Interpreter {
                path,
                arg: Some(arg),
            } => format!("{path} {arg}"),
            Shebang::Broken { message, .. } => message.clone(),
        }
    }
}

/// Reads the head of `path` and classifies it. A file that cannot be read is
/// [`Shebang::Absent`]: the runner that opens it next reports why.
pub fn read(path: &Path) -> Shebang {
    use std::os::unix::fs::OpenOptionsExt;
    let mut head = Vec::with_capacity(SHEBANG_MAX_BYTES);
    // Never blocking: an earlier hook of the tenant's can swap this one for a FIFO, and
    // hookbox (maybe root) must not wait on it forever; only a regular file has a `#!` line
    // (anything else fails at its exec, as the kernel would fail it).
    let read = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .and_then(|f| {
            if f.metadata()?.is_file() {
                f.take(SHEBANG_MAX_BYTES as u64).read_to_end(&mut head)
            } else {
                Ok(0)
            }
        });
    match read {
        Ok(_) => classify(&head),
        Err(_) => Shebang::Absent,
    }
}

/// Classifies the first bytes of a file.
pub fn classify(head: &[u8]) -> Shebang {
    let Some(rest) = head.strip_prefix(b"#!") else {
        return Shebang::Absent;
    };
    let line = rest.split(|&b| b == b'\n').next().unwrap_or(rest);
    classify_line(&String::from_utf8_lossy(line))
}

/// Classifies the text of a `#!` line without its `#!` (`/usr/bin/env bash`).
pub fn classify_line(line: &str) -> Shebang {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let blank = |c: char| c == ' ' || c == '\t';
    let line = line.trim_matches(blank);
    if line.is_empty() {
        return Shebang::Absent;
    }
    let (interpreter, arg) = match line.split_once(blank) {
        Some((i, a)) => (i, Some(a.trim_matches(blank)).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    let name = base_name(interpreter);
    if is_shell_name(name) {
        return Shebang::Shell {
            args: arg.map(str::to_string).into_iter().collect(),
        };
    }
    if name == "env" {
        if let Some(found) = through_env(interpreter, arg) {
            return found;
        }
    }
    Shebang::Interpreter {
        path: interpreter.to_string(),
        arg: arg.map(str::to_string),
    }
}

/// `#!/usr/bin/env ARG`: a shell when env would start bash or sh; `None` when env would start
/// something else (or do something else), which runs as the interpreter it is.
fn through_env(env: &str, arg: Option<&str>) -> Option<Shebang> {
    let arg = arg?;
    let split = arg
        .strip_prefix("--split-string=")
        .or_else(|| arg.strip_prefix("-S"));
    match split {
        Some(rest) => {
            let words = split_string(rest);
            let (program, args) = words.split_first()?;
            is_shell_name(base_name(program)).then(|| Shebang::Shell {
                args: args.to_vec(),
            })
        }
        None if arg.starts_with('-') => None,
        None => {
            if is_shell_name(base_name(arg)) {
                return Some(Shebang::Shell { args: Vec::new() });
            }
            // Without -S, env takes the whole rest of the line as one program name.
            let first = arg.split([' ', '\t']).next().unwrap_or(arg);
            (arg != first && is_shell_name(base_name(first))).then(|| Shebang::Broken {
                code: 127,
                message: format!(
                    "{env}: '{arg}': No such file or directory (without -S, env takes the \
                     whole rest of the #! line as one program name; write `#!/usr/bin/env -S \
                     {arg}`)"
                ),
            })
        }
    }
}

fn is_shell_name(name: &str) -> bool {
    name == "bash" || name == "sh"
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// GNU env's `-S` splitting: words separated by blanks, `'…'` taken literally, `"…"` with
/// `\"` and `\\`, backslash escapes outside quotes (`\_` is a blank inside a word), a `#` at
/// the start of a word ends the line. `${VAR}` is kept as written: the runners do not
/// expand the host's variables into a command line.
fn split_string(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(e @ ('"' | '\\' | '$')) => word.push(e),
                            Some(e) => {
                                word.push('\\');
                                word.push(e);
                            }
                            None => word.push('\\'),
                        },
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                if chars.peek() == Some(&'c') {
                    break;
                }
                in_word = true;
                match chars.next() {
                    Some('_') => word.push(' '),
                    Some('t') => word.push('\t'),
                    Some('n') => word.push('\n'),
                    Some(e) => word.push(e),
                    None => {}
                }
            }
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(args: &[&str]) -> Shebang {
        Shebang::Shell {
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn interp(path: &str, arg: Option<&str>) -> Shebang {
        Shebang::Interpreter {
            path: path.into(),
            arg: arg.map(str::to_string),
        }
    }

    /// The cases the three callers used to disagree on, and the ordinary ones.
    #[test]
    fn classifies_every_kind_of_first_line() {
        let cases: Vec<(&[u8], Shebang)> = vec![
            (b"#!/bin/bash\necho", shell(&[])),
            (b"#!/bin/bash -e\necho", shell(&["-e"])),
            // The kernel passes the rest of the line as one argument: bash gets "-e -x".
            (b"#!/bin/bash -e -x\n", shell(&["-e -x"])),
            // bash then runs the file `foo`, in both runners alike.
            (b"#!/bin/bash foo\n", shell(&["foo"])),
            (b"#!/usr/bin/env bash\n", shell(&[])),
            (b"#!/usr/bin/env -S bash -e\n", shell(&["-e"])),
            (b"#!/usr/bin/env -S bash\n", shell(&[])),
            (b"#!/usr/bin/env -Sbash -e -u\n", shell(&["-e", "-u"])),
            (b"#!/usr/bin/env --split-string=bash -e\n", shell(&["-e"])),
            (b"#!/usr/bin/env -S bash '-e' # comment\n", shell(&["-e"])),
            (b"#!/bin/sh\n", shell(&[])),
            (b"#!/bin/sh -eu\n", shell(&["-eu"])),
            (b"#!/usr/local/bin/bash\n", shell(&[])),
            (b"#!/usr/bin/env sh\n", shell(&[])),
            (
                b"#!/usr/bin/env python3\n",
                interp("/usr/bin/env", Some("python3")),
            ),
            (
                b"#! /usr/bin/env  python3 -u \nprint(1)",
                interp("/usr/bin/env", Some("python3 -u")),
            ),
            (b"#!/usr/bin/python3\n", interp("/usr/bin/python3", None)),
            (
                b"#!/usr/bin/env -S python3 -u\n",
                interp("/usr/bin/env", Some("-S python3 -u")),
            ),
            (b"#!/usr/bin/env\n", interp("/usr/bin/env", None)),
            (b"#!/bin/dash\n", interp("/bin/dash", None)),
            // CRLF: still bash; the `\r` is not an option.
            (b"#!/bin/bash\r\necho\r\n", shell(&[])),
            (b"#!/bin/bash -e\r\n", shell(&["-e"])),
            (b"#!/usr/bin/env bash\r\n", shell(&[])),
            (b"#!/usr/bin/env -S bash -e\r\n", shell(&["-e"])),
            // Spaces and tabs after `#!` are skipped, as the kernel skips them.
            (b"#!   /bin/bash\n", shell(&[])),
            (b"#!\t/usr/bin/env bash \n", shell(&[])),
            (b"echo no shebang\n", Shebang::Absent),
            (b"", Shebang::Absent),
            (b"#!\n", Shebang::Absent),
            (b"#!   \r\n", Shebang::Absent),
            (b"\xef\xbb\xbf#!/bin/bash\n", Shebang::Absent),
            (b" #!/bin/bash\n", Shebang::Absent),
        ];
        for (head, want) in cases {
            assert_eq!(classify(head), want, "{:?}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn env_without_split_string_is_broken_like_env_itself() {
        for line in ["/usr/bin/env bash -e", "/usr/bin/env sh -eu"] {
            match classify_line(line) {
                Shebang::Broken { code, message } => {
                    assert_eq!(code, 127, "{line}");
                    assert!(message.contains("-S"), "{message}");
                }
                other => panic!("{line}: {other:?}"),
            }
        }
    }

    #[test]
    fn split_string_follows_gnu_env() {
        assert_eq!(split_string(" bash  -e "), ["bash", "-e"]);
        assert_eq!(
            split_string("a\\_b 'c d' \"e\\\"f\""),
            ["a b", "c d", "e\"f"]
        );
        assert_eq!(split_string("bash #-e"), ["bash"]);
        assert_eq!(split_string("bash a#b"), ["bash", "a#b"]);
        assert_eq!(split_string("bash \\c -e"), ["bash"]);
        assert!(split_string("").is_empty());
    }

    #[test]
    fn describe_names_the_interpreter() {
        assert_eq!(
            classify_line("/usr/bin/python3 -u").describe(),
            "/usr/bin/python3 -u"
        );
        assert_eq!(classify_line("/bin/bash -e").describe(), "bash -e");
    }
}
