//! File checks every convention shares: is this a readable regular file, is it a script
//! (which shebang), a wasm module, a compiled program, empty or binary; the scripts of a hook
//! directory in byte order with their executable bits.
//!
//! Data enters as paths; it leaves as [`Inspected`] summaries or one-line messages for
//! [`super::Problem`]s. Nothing is executed here, and FIFOs and devices are never opened
//! (opening a FIFO blocks).

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Bytes of a hook file read to classify it and find CRLF line ends. A hook script is small;
/// the cap keeps a huge file from being read whole just to be inspected.
pub const DEFAULT_INSPECT_BYTES: u64 = 1024 * 1024;

/// What a file's content looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Empty,
    /// Text (no NUL byte in the inspected part).
    Text,
    /// An ELF executable.
    Elf,
    /// A wasm module (`\0asm`).
    Wasm,
    /// Contains NUL bytes and is neither ELF nor wasm.
    Binary,
}

/// A hook file, inspected.
#[derive(Debug, Clone)]
pub struct Inspected {
    pub content: Content,
    /// The first line without `#!`, when the file starts with `#!`.
    pub shebang: Option<String>,
    /// 1-based line of the first line ending in `\r\n`.
    pub crlf_line: Option<usize>,
    /// Whether any executable bit is set.
    pub executable: bool,
}

impl Inspected {
    /// Whether the shebang names bash or sh (`#!/bin/bash`, `#!/usr/bin/env bash`, `#!/bin/sh`).
    pub fn shell_shebang(&self) -> bool {
        self.shebang.as_deref().is_some_and(shebang_is_shell)
    }

    /// Whether the sandbox can run this: a shell hook, or a `#!` line that fails the same way
    /// in both runners (`#!/usr/bin/env bash -e`, see [`crate::shebang::Shebang::Broken`]).
    pub fn sandbox_runs(&self, rel: &Path) -> bool {
        self.is_shell(rel)
            || (self.content == Content::Text
                && self.shebang.as_deref().is_some_and(|s| {
                    matches!(
                        crate::shebang::classify_line(s),
                        crate::shebang::Shebang::Broken { .. }
                    )
                }))
    }

    /// Whether this runs as a shell hook: a shell shebang, or text without a shebang named
    /// `*.sh` (Flux-Orbit runs its `.sh` hooks with bash either way).
    pub fn is_shell(&self, rel: &Path) -> bool {
        if self.content != Content::Text {
            return false;
        }
        match &self.shebang {
            Some(s) => shebang_is_shell(s),
            None => rel.extension().is_some_and(|e| e == "sh"),
        }
    }
}

/// `#!` lines (without `#!`) that are shell hooks, by the one classifier the runners use
/// ([`crate::shebang`]): bash or sh, directly or through `env` (`env -S bash -e` too).
pub fn shebang_is_shell(line: &str) -> bool {
    crate::shebang::classify_line(line).is_shell()
}

/// A short, stable message for an I/O error (no OS error numbers).
pub fn io_message(e: &std::io::Error) -> String {
    if e.raw_os_error() == Some(libc::ELOOP) {
        return "symlink loop (too many levels of symbolic links)".into();
    }
    match e.kind() {
        std::io::ErrorKind::NotFound => "does not exist (or is a broken symlink)".into(),
        std::io::ErrorKind::PermissionDenied => "cannot be read: permission denied".into(),
        _ => format!("cannot be read: {e}"),
    }
}

/// Check that `path` is a regular file (following symlinks) and read its head.
pub fn inspect(path: &Path) -> Result<Inspected, String> {
    let meta = std::fs::metadata(path).map_err(|e| io_message(&e))?;
    if meta.is_dir() {
        return Err("is a directory, expected a file".into());
    }
    if !meta.is_file() {
        return Err("is not a regular file (a FIFO, socket or device); hooks must be files".into());
    }
    let executable = meta.permissions().mode() & 0o111 != 0;
    let file = std::fs::File::open(path).map_err(|e| io_message(&e))?;
    let mut head = Vec::new();
    file.take(DEFAULT_INSPECT_BYTES)
        .read_to_end(&mut head)
        .map_err(|e| io_message(&e))?;
    Ok(classify(&head, executable))
}

fn classify(head: &[u8], executable: bool) -> Inspected {
    let content = if head.is_empty() {
        Content::Empty
    } else if head.starts_with(b"\x7fELF") {
        Content::Elf
    } else if head.starts_with(b"\0asm") {
        Content::Wasm
    } else if head.contains(&0) {
        Content::Binary
    } else {
        Content::Text
    };
    let shebang = (content == Content::Text && head.starts_with(b"#!")).then(|| {
        let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
        String::from_utf8_lossy(&head[2..end])
            .trim_end_matches('\r')
            .trim()
            .to_string()
    });
    let crlf_line = if content == Content::Text {
        head.split(|&b| b == b'\n')
            .position(|l| l.ends_with(b"\r"))
            .map(|i| i + 1)
            // The last piece has no `\n` after it: a lone final `\r` is not CRLF.
            .filter(|&line| line <= head.iter().filter(|&&b| b == b'\n').count())
    } else {
        None
    };
    Inspected {
        content,
        shebang,
        crlf_line,
        executable,
    }
}

/// An entry of a hook directory.
#[derive(Debug)]
pub struct DirEntry {
    pub name: OsString,
    /// Relative to the project root.
    pub rel: PathBuf,
}

/// The entries of `dir` (absolute; `rel` is its path relative to the root) in byte order of
/// their names, as Site Factory runs them ("alphabetical" for ASCII names).
pub fn sorted_entries(dir: &Path, rel: &Path) -> Result<Vec<DirEntry>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| io_message(&e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| io_message(&e))?;
        let name = entry.file_name();
        out.push(DirEntry {
            rel: rel.join(&name),
            name,
        });
    }
    out.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    Ok(out)
}

/// Problems `bash -n` finds in a script file or a command line (`-c`), as (line, message).
/// Runs bash with an empty environment and `LC_ALL=C`; `-n` reads without executing. An
/// unavailable bash is one problem, not a panic.
pub fn bash_syntax(script: BashInput<'_>) -> Vec<(Option<usize>, String)> {
    let mut cmd = std::process::Command::new(BASH);
    cmd.env_clear()
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null());
    let prefix = match script {
        BashInput::File(path) => {
            cmd.arg("-n").arg(path);
            format!("{}: ", path.display())
        }
        BashInput::Command(line) => {
            cmd.arg("-n").arg("-c").arg(line);
            "bash: -c: ".to_string()
        }
    };
    let output = match cmd.output() {
        Ok(o) => o,
        Err(e) => return vec![(None, format!("cannot run `{BASH} -n` to check syntax: {e}"))],
    };
    if output.status.success() {
        return Vec::new();
    }
    parse_bash_errors(&String::from_utf8_lossy(&output.stderr), &prefix)
}

/// What [`bash_syntax`] checks.
#[derive(Debug, Clone, Copy)]
pub enum BashInput<'a> {
    File(&'a Path),
    Command(&'a str),
}

/// The bash used for syntax checks. An absolute path: the library does not read `PATH`.
pub const BASH: &str = "/bin/bash";

/// `FILE: line N: msg` lines into (N, msg), merging bash's two lines per error (the message
/// and the offending text) into one.
fn parse_bash_errors(stderr: &str, prefix: &str) -> Vec<(Option<usize>, String)> {
    let mut out: Vec<(Option<usize>, String)> = Vec::new();
    for raw in stderr.lines() {
        let rest = raw.strip_prefix(prefix).unwrap_or(raw);
        let (line, msg) = match rest
            .strip_prefix("line ")
            .and_then(|r| r.split_once(": "))
            .and_then(|(n, m)| n.parse::<usize>().ok().map(|n| (n, m)))
        {
            Some((n, m)) => (Some(n), m.to_string()),
            None => (None, rest.to_string()),
        };
        match out.last_mut() {
            Some((l, m)) if *l == line && line.is_some() => {
                m.push_str(": ");
                m.push_str(&msg);
            }
            _ => out.push((line, msg)),
        }
    }
    if out.is_empty() {
        out.push((None, "bash -n reported a syntax error".into()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_shebangs() {
        for s in [
            "/bin/bash",
            "/usr/bin/env bash",
            "/bin/sh",
            "/usr/bin/env -S bash -e",
            "/bin/bash foo",
        ] {
            assert!(shebang_is_shell(s), "{s}");
        }
        for s in [
            "/usr/bin/env python3",
            "/usr/bin/perl",
            "",
            "/usr/bin/env",
            "/usr/bin/env bash -e",
            "/usr/bin/env -i bash",
        ] {
            assert!(!shebang_is_shell(s), "{s}");
        }
    }

    #[test]
    fn classify_content() {
        assert_eq!(classify(b"", false).content, Content::Empty);
        assert_eq!(classify(b"\x7fELF\0\0", true).content, Content::Elf);
        assert_eq!(classify(b"\0asm\x01\0\0\0", false).content, Content::Wasm);
        assert_eq!(classify(b"ab\0cd", false).content, Content::Binary);
        let i = classify(b"#!/bin/bash\r\necho hi\r\n", true);
        assert_eq!(i.shebang.as_deref(), Some("/bin/bash"));
        assert_eq!(i.crlf_line, Some(1));
        let i = classify(b"#!/bin/bash\necho hi\n", true);
        assert_eq!(i.crlf_line, None);
        assert_eq!(classify(b"echo\nx\r", true).crlf_line, None);
    }

    #[test]
    fn bash_errors_merge_two_lines() {
        let err =
            "/p/x.sh: line 3: syntax error near unexpected token `fi'\n/p/x.sh: line 3: `fi'\n";
        let got = parse_bash_errors(err, "/p/x.sh: ");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, Some(3));
        assert!(got[0].1.contains("unexpected token"));
    }
}
