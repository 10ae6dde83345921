//! What the native runner executes for a [`HookProgram`]: the argument vector of the hook and,
//! for shell programs, of the `bash -n` check that runs first.
//!
//! In: the program, the hook's arguments and `PATH`. Out: a [`Launch`] (or the failure a shell
//! would report for a script whose interpreter does not exist). Nothing is executed here; the
//! script's first line is read to find its shebang.
//!
//! Rules:
//! - A script whose shebang names `bash` or `sh` (directly or through `env`), a script without
//!   a shebang, and a script that cannot be read all run as `bash [SHEBANG-OPTIONS] PATH ARGS…`,
//!   so the result is what `bash PATH` gives (bash reports unreadable and binary files itself).
//!   `#!/bin/sh` runs under bash too, as in the sandbox. A trailing `\r` on the shebang line
//!   (a CRLF file) does not stop it being a shell script: bash then sees the `\r`s, as it would.
//! - Another shebang runs through its interpreter (`INTERP [ARG] PATH ARGS…`, the kernel's
//!   split), so the user's file needs no executable bit and is never chmod-ed.
//! - A command line runs as `bash -c LINE HOOK_NAME ARGS…` (`$0` is the hook's name).

use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::plan::HookProgram;
use crate::runner::RunError;

/// Bytes of a script read to find its shebang: the kernel's own limit (`BINPRM_BUF_SIZE`).
const SHEBANG_MAX_BYTES: usize = 256;

/// Where bash is looked for when the hook's `PATH` has none.
const FALLBACK_BASH: [&str; 2] = ["/usr/bin/bash", "/bin/bash"];

/// How to start a hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Launch {
    /// Run `argv` (its first element an absolute path) after `check` (a `bash -n` command) has
    /// exited 0, when there is one.
    Run {
        check: Option<Vec<OsString>>,
        argv: Vec<OsString>,
    },
    /// The hook fails without starting, as a shell would report it (exit status, message).
    Fail { code: i32, message: String },
}

/// Builds the launch of `program` with `args`, looking bash up in `path`.
pub(super) fn launch(
    program: &HookProgram,
    args: &[String],
    hook_name: &str,
    path: &str,
) -> Result<Launch, RunError> {
    match program {
        HookProgram::Wasm(file) => Err(RunError::Unsupported {
            what: file.display().to_string(),
            why: "a .wasm hook runs in the sandbox runner, not the native one".into(),
        }),
        HookProgram::Command(line) => {
            let bash = find_bash(path)?;
            let check = vec![bash.clone().into(), "-n".into(), "-c".into(), line.into()];
            let mut argv: Vec<OsString> = vec![bash.into(), "-c".into(), line.into()];
            argv.push(hook_name.into());
            argv.extend(args.iter().map(OsString::from));
            Ok(Launch::Run {
                check: Some(check),
                argv,
            })
        }
        HookProgram::Script(file) => script(file, args, path),
    }
}

fn script(file: &Path, args: &[String], path: &str) -> Result<Launch, RunError> {
    let args = args.iter().map(OsString::from);
    match shebang(file) {
        Some(Shebang { interpreter, arg }) if !is_shell(&interpreter, arg.as_deref()) => {
            let interp = PathBuf::from(std::ffi::OsStr::from_bytes(&interpreter));
            if let Err(why) = check_interpreter(&interp) {
                return Ok(Launch::Fail {
                    code: 126,
                    message: format!(
                        "{}: {}: bad interpreter: {why}",
                        file.display(),
                        interp.display()
                    ),
                });
            }
            let mut argv: Vec<OsString> = vec![interp.into()];
            argv.extend(arg.map(|a| OsString::from(std::ffi::OsStr::from_bytes(&a))));
            argv.push(file.into());
            argv.extend(args);
            Ok(Launch::Run { check: None, argv })
        }
        found => {
            let bash: OsString = find_bash(path)?.into();
            // Options on a bash shebang (`#!/bin/bash -e`) are kept, as exec would keep them.
            let options: Vec<OsString> = found
                .and_then(|s| s.arg)
                .map(|a| trim_cr(&a).to_vec())
                .filter(|a| a.starts_with(b"-"))
                .map(|a| OsString::from(std::ffi::OsStr::from_bytes(&a)))
                .into_iter()
                .collect();
            let mut check = vec![bash.clone(), "-n".into()];
            check.extend(options.iter().cloned());
            check.push(file.into());
            let mut argv = vec![bash];
            argv.extend(options);
            argv.push(file.into());
            argv.extend(args);
            Ok(Launch::Run {
                check: Some(check),
                argv,
            })
        }
    }
}

/// A shebang line split the way Linux splits it: the interpreter, then at most one argument
/// (the rest of the line, spaces included).
#[derive(Debug, PartialEq, Eq)]
struct Shebang {
    interpreter: Vec<u8>,
    arg: Option<Vec<u8>>,
}

fn shebang(file: &Path) -> Option<Shebang> {
    let mut head = Vec::with_capacity(SHEBANG_MAX_BYTES);
    File::open(file)
        .ok()?
        .take(SHEBANG_MAX_BYTES as u64)
        .read_to_end(&mut head)
        .ok()?;
    parse_shebang(&head)
}

fn parse_shebang(head: &[u8]) -> Option<Shebang> {
    let rest = head.strip_prefix(b"#!")?;
    let line = rest.split(|&b| b == b'\n').next().unwrap_or(rest);
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = line.iter().position(|b| !blank(b))?;
    let line = &line[start..];
    let end = line.iter().position(blank).unwrap_or(line.len());
    let interpreter = line[..end].to_vec();
    let arg = &line[end..];
    let arg_start = arg.iter().position(|b| !blank(b));
    let arg = arg_start.map(|s| {
        let a = &arg[s..];
        let trimmed_end = a.iter().rposition(|b| !blank(b)).map_or(0, |e| e + 1);
        a[..trimmed_end].to_vec()
    });
    Some(Shebang { interpreter, arg })
}

fn trim_cr(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

fn base_name(path: &[u8]) -> &[u8] {
    path.rsplit(|&b| b == b'/').next().unwrap_or(path)
}

/// Whether a shebang names bash or sh, directly (`#!/bin/bash`, `#!/bin/sh -e`) or through
/// env (`#!/usr/bin/env bash`).
fn is_shell(interpreter: &[u8], arg: Option<&[u8]>) -> bool {
    let name = base_name(trim_cr(interpreter));
    let shell = |n: &[u8]| n == b"bash" || n == b"sh";
    if shell(name) {
        // `#!/bin/bash foo` would make bash run `foo`: only options keep it a shell script.
        return arg.is_none_or(|a| trim_cr(a).starts_with(b"-"));
    }
    name == b"env" && arg.is_some_and(|a| shell(trim_cr(a)))
}

fn check_interpreter(interp: &Path) -> Result<(), String> {
    if !interp.is_absolute() {
        return Err("not an absolute path".into());
    }
    let meta = std::fs::metadata(interp).map_err(|e| e.to_string())?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err("Permission denied".into());
    }
    Ok(())
}

/// bash from the hook's `PATH`, else the usual places.
fn find_bash(path: &str) -> Result<PathBuf, RunError> {
    path.split(':')
        .filter(|dir| dir.starts_with('/'))
        .map(|dir| Path::new(dir).join("bash"))
        .chain(FALLBACK_BASH.iter().map(PathBuf::from))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or_else(|| {
            RunError::Other(format!(
                "bash is needed to run shell hooks and was found neither in PATH ({path}) nor \
                 in {FALLBACK_BASH:?}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sb(line: &[u8]) -> Option<Shebang> {
        parse_shebang(line)
    }

    #[test]
    fn shebang_split_like_the_kernel() {
        let s = sb(b"#! /usr/bin/env  python3 -u \nprint(1)").unwrap();
        assert_eq!(s.interpreter, b"/usr/bin/env");
        assert_eq!(s.arg.as_deref(), Some(&b"python3 -u"[..]));
        assert_eq!(sb(b"#!/bin/bash").unwrap().arg, None);
        assert_eq!(sb(b"echo hi\n"), None);
        assert_eq!(sb(b"#!\n"), None);
    }

    #[test]
    fn shell_shebangs_are_recognised() {
        let shell = |line: &[u8]| {
            let s = sb(line).unwrap();
            is_shell(&s.interpreter, s.arg.as_deref())
        };
        assert!(shell(b"#!/bin/bash\n"));
        assert!(shell(b"#!/bin/bash\r\n"));
        assert!(shell(b"#!/bin/sh -e\n"));
        assert!(shell(b"#!/usr/bin/env bash\n"));
        assert!(shell(b"#!/usr/bin/env bash\r\n"));
        assert!(!shell(b"#!/usr/bin/env python3\n"));
        assert!(!shell(b"#!/usr/bin/python3\n"));
        assert!(!shell(b"#!/bin/bash other-script\n"));
    }
}
