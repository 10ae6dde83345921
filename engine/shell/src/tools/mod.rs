//! In-guest versions of the small tools hooks call constantly (`cat`, `head`, `date`, ...), so
//! that a hook running in the sandbox never needs to cross the bridge to the host for them.
//!
//! The shell's evaluator looks a command name up with [`find`] after functions and builtins and
//! before treating it as an external command; [`runs_in_guest`] tells it when the arguments ask
//! for something only the host's tool does (`ls -l`, `tail -f`, `--help`). A tool gets its argv (`args[0]` is its name) and a
//! [`ToolContext`]: the shell's own current directory (WASI has no `chdir`, so every relative
//! path is resolved against `ctx.cwd`), the exported variables, and the three streams. It writes
//! its output to those streams and returns its exit status; it never panics and never touches the
//! process environment or the process's own current directory.
//!
//! Behaviour follows GNU coreutils for the options hooks use, down to the wording of diagnostics
//! (`cat: nofile: No such file or directory`) and exit statuses; the unit tests in `tests.rs`
//! run each case through the real GNU tool as the oracle. Input is streamed: `head` stops reading
//! once it has its lines, `cat` copies in blocks.
//!
//! A write that fails with a broken pipe (the reader of a pipeline went away) ends the tool with
//! status 141, silently, as SIGPIPE ends a GNU tool under bash.
//!
//! `env` here only prints the environment (with `-u`, `-i`, `-0` and `NAME=VALUE` operands).
//! `env [NAME=VALUE...] COMMAND [ARGS]` — running a command with a modified environment — is the
//! evaluator's job: it must handle that form before calling this tool. Given a command operand
//! anyway, this `env` reports it cannot run it and exits 126 (not 127, so it is not mistaken for
//! "not found").
//!
//! `date` has no time-zone database in the guest: it formats in UTC whatever `TZ` says (an unset
//! `TZ` in the guest means UTC, so the default case matches the host under `TZ=UTC`).

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

mod cat;
pub(crate) mod date;
pub(crate) use date::now_epoch;
mod env;
mod fsops;
mod headtail;
mod opts;
mod paths;
mod seq;
mod text;
mod wc;

#[cfg(test)]
mod tests;

/// What a tool sees of the shell that runs it.
pub struct ToolContext<'a> {
    /// The shell's current directory; relative paths are resolved against it.
    pub cwd: &'a std::path::Path,
    /// Exported variables, in order.
    pub env: &'a [(String, String)],
    /// Standard input.
    pub stdin: &'a mut dyn std::io::Read,
    /// The size of standard input when it is a regular file (GNU `wc` sizes
    /// its columns from it).
    pub stdin_len: Option<u64>,
    /// Standard output.
    pub stdout: &'a mut dyn std::io::Write,
    /// Standard error.
    pub stderr: &'a mut dyn std::io::Write,
}

/// A tool: args[0] is the tool's name; returns the exit status.
pub type Tool = fn(args: &[String], ctx: &mut ToolContext<'_>) -> i32;

/// The in-guest tool of that name, if there is one.
pub fn find(name: &str) -> Option<Tool> {
    let tool: Tool = match name {
        "cat" => cat::cat,
        "head" => headtail::head,
        "tail" => headtail::tail,
        "wc" => wc::wc,
        "date" => date::date,
        "basename" => paths::basename,
        "dirname" => paths::dirname,
        "realpath" => paths::realpath,
        "mkdir" => fsops::mkdir,
        "rm" => fsops::rm,
        "rmdir" => fsops::rmdir,
        "touch" => fsops::touch,
        "cp" => fsops::cp,
        "mv" => fsops::mv,
        "mktemp" => fsops::mktemp,
        "ls" => fsops::ls,
        "env" => env::env,
        "printenv" => env::printenv,
        "seq" => seq::seq,
        "tr" => text::tr,
        "sort" => text::sort,
        "uniq" => text::uniq,
        "cut" => text::cut,
        "tee" => text::tee,
        "true" => |_, _| 0,
        "false" => |_, _| 1,
        _ => return None,
    };
    Some(tool)
}

/// Whether the in-guest tool can do what `args` asks. It cannot print GNU's `--help` or
/// `--version` texts, `ls`'s long formats (owners, modes, times), or follow a file
/// (`tail -f`); for those the in-guest tool prints a diagnostic and fails, so an evaluator that
/// would rather run the host's tool (through the bridge and the tenant's policy) can ask first.
pub fn runs_in_guest(args: &[String]) -> bool {
    let Some(name) = args.first() else {
        return false;
    };
    if find(name).is_none() {
        return false;
    }
    let options = args[1..].iter().take_while(|a| *a != "--");
    for a in options {
        if a == "--help" || a == "--version" {
            return false;
        }
        let short = a.len() > 1 && a.starts_with('-') && !a.starts_with("--");
        match name.as_str() {
            "ls" if a.starts_with("--") => {
                let known = ["--all", "--almost-all", "--directory", "--reverse"];
                if !known.contains(&a.as_str()) {
                    return false;
                }
            }
            "ls" if short && a.chars().skip(1).any(|c| !"1aAdpFr".contains(c)) => return false,
            "tail" if a == "--follow" || a.starts_with("--follow=") => return false,
            "tail"
                if short
                    && a.chars()
                        .skip(1)
                        .take_while(|c| c.is_ascii_alphabetic())
                        .any(|c| c == 'f' || c == 'F') =>
            {
                return false;
            }
            _ => {}
        }
    }
    true
}

/// Names of every in-guest tool, for `type` and `command -v` style lookups.
pub const NAMES: &[&str] = &[
    "basename", "cat", "cp", "cut", "date", "dirname", "env", "false", "head", "ls", "mkdir",
    "mktemp", "mv", "printenv", "realpath", "rm", "rmdir", "seq", "sort", "tail", "tee", "touch",
    "tr", "true", "uniq", "wc",
];

/// `path` made absolute against the shell's directory.
pub(crate) fn resolve(cwd: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// The C library's wording of an I/O error, as GNU tools print it.
pub(crate) fn errno_text(err: &io::Error) -> String {
    use io::ErrorKind as K;
    let text = match err.kind() {
        K::NotFound => "No such file or directory",
        K::PermissionDenied => "Permission denied",
        K::AlreadyExists => "File exists",
        K::IsADirectory => "Is a directory",
        K::NotADirectory => "Not a directory",
        K::DirectoryNotEmpty => "Directory not empty",
        K::InvalidInput => "Invalid argument",
        K::BrokenPipe => "Broken pipe",
        K::ReadOnlyFilesystem => "Read-only file system",
        K::StorageFull => "No space left on device",
        K::CrossesDevices => "Invalid cross-device link",
        K::InvalidFilename => "File name too long",
        K::TooManyLinks => "Too many links",
        _ => {
            // Fall back on the OS text without Rust's " (os error N)" suffix.
            let s = err.to_string();
            return match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            };
        }
    };
    text.to_string()
}

/// Where a tool reads one operand from.
pub(crate) enum Source {
    Stdin,
    File(std::fs::File),
    /// `/dev/null`: the guest has no `/dev`, and reading it is reading nothing.
    Empty(io::Empty),
}

/// Opens an input operand (`-` is standard input). Directories are refused with EISDIR, as a
/// read on them would be.
pub(crate) fn open_input(cwd: &Path, name: &str) -> io::Result<Source> {
    match name {
        "-" | "/dev/stdin" => return Ok(Source::Stdin),
        "/dev/null" => return Ok(Source::Empty(io::empty())),
        _ => {}
    }
    let path = resolve(cwd, name);
    let file = std::fs::File::open(&path)?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(io::Error::from(io::ErrorKind::IsADirectory));
    }
    Ok(Source::File(file))
}

impl Source {
    /// The reader behind this source.
    pub(crate) fn reader<'s>(&'s mut self, stdin: &'s mut dyn Read) -> &'s mut dyn Read {
        match self {
            Source::Stdin => stdin,
            Source::File(f) => f,
            Source::Empty(e) => e,
        }
    }
}

/// How a tool ends after a failed write: SIGPIPE's status for a broken pipe, else a diagnostic.
pub(crate) fn write_failed(tool: &str, err: &io::Error, stderr: &mut dyn Write) -> i32 {
    if err.kind() == io::ErrorKind::BrokenPipe {
        return 141;
    }
    let _ = writeln!(stderr, "{tool}: write error: {}", errno_text(err));
    1
}

/// GNU's always-quoted file name in diagnostics (`'name'`, shell-escape style).
pub(crate) fn quote(name: &str) -> String {
    format!("'{}'", name.replace('\'', "'\\''"))
}

/// GNU's file name in diagnostics that quote only when needed (`cat: nofile: ...`).
pub(crate) fn quotef(name: &str) -> String {
    let safe = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "%+,-./:=@_^".contains(c));
    if safe {
        name.to_string()
    } else {
        quote(name)
    }
}

/// Looks a variable up in the exported environment.
pub(crate) fn getenv<'e>(env: &'e [(String, String)], name: &str) -> Option<&'e str> {
    env.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `strftime` for `printf %(fmt)T`, in UTC like `date`.
pub(crate) fn strftime(epoch: i64, fmt: &str) -> String {
    date::format(&date::Tm::from_epoch(epoch, 0), fmt)
}
