//! What the native runner executes for a [`HookProgram`]: the argument vector of the hook and,
//! for shell programs, of the `bash -n` check that runs first.
//!
//! In: the program, the hook's arguments and `PATH`. Out: a [`Launch`] (or the failure a shell
//! would report for a script whose interpreter does not exist). Nothing is executed here; the
//! script's first line is read to find its shebang.
//!
//! Rules:
//! - A script whose shebang names `bash` or `sh` (directly or through `env`, [`crate::shebang`]
//!   decides), a script without a shebang, and a script that cannot be read all run as
//!   `bash [SHEBANG-ARGS] PATH ARGS…`,
//!   so the result is what `bash PATH` gives (bash reports unreadable and binary files itself).
//!   `#!/bin/sh` runs under bash too, as in the sandbox. A trailing `\r` on the shebang line
//!   (a CRLF file) does not stop it being a shell script: bash then sees the `\r`s, as it would.
//! - Another shebang runs through its interpreter (`INTERP [ARG] PATH ARGS…`, the kernel's
//!   split), so the user's file needs no executable bit and is never chmod-ed.
//! - A command line runs as `bash -c LINE HOOK_NAME ARGS…` (`$0` is the hook's name).

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::plan::HookProgram;
use crate::runner::RunError;
use crate::shebang::Shebang;

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
    let options = match crate::shebang::read(file) {
        Shebang::Interpreter { path: interp, arg } => {
            let interp = PathBuf::from(interp);
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
            argv.extend(arg.map(OsString::from));
            argv.push(file.into());
            argv.extend(args);
            return Ok(Launch::Run { check: None, argv });
        }
        Shebang::Broken { code, message } => return Ok(Launch::Fail { code, message }),
        // The shebang's arguments go to bash as the kernel would pass them (`-e`; `foo`,
        // which bash then runs), so both runners see the same command line.
        Shebang::Shell { args } => args,
        Shebang::Absent => Vec::new(),
    };
    let bash: OsString = find_bash(path)?.into();
    let options: Vec<OsString> = options.into_iter().map(OsString::from).collect();
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

    fn run(text: &[u8]) -> Launch {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hook");
        std::fs::write(&file, text).unwrap();
        let launch = launch(
            &HookProgram::Script(file.clone()),
            &["a1".into()],
            "hook",
            "/usr/bin:/bin",
        )
        .unwrap();
        // Paths in the argv are the temp file's: compare them as a placeholder.
        match launch {
            Launch::Run { check, argv } => {
                let f = file.as_os_str();
                let swap = |v: Vec<OsString>| -> Vec<OsString> {
                    v.into_iter()
                        .map(|a| if a == f { "FILE".into() } else { a })
                        .collect()
                };
                Launch::Run {
                    check: check.map(swap),
                    argv: swap(argv),
                }
            }
            fail => fail,
        }
    }

    fn words(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn shell_shebangs_run_in_bash_with_the_kernels_arguments() {
        let bash = find_bash("/usr/bin:/bin").unwrap();
        let b = bash.to_str().unwrap();
        for (text, opts) in [
            (&b"#!/bin/bash\n"[..], &[][..]),
            (b"#!/bin/bash\r\n", &[]),
            (b"#!/bin/sh -e\n", &["-e"]),
            (b"#!/usr/bin/env bash\n", &[]),
            (b"#!/usr/bin/env -S bash -e\n", &["-e"]),
            (b"#!/bin/bash foo\n", &["foo"]),
            (b"echo no shebang\n", &[]),
        ] {
            let mut check = vec![b, "-n"];
            check.extend(opts);
            check.push("FILE");
            let mut argv = vec![b];
            argv.extend(opts);
            argv.extend(["FILE", "a1"]);
            assert_eq!(
                run(text),
                Launch::Run {
                    check: Some(words(&check)),
                    argv: words(&argv)
                },
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn other_interpreters_run_as_the_kernel_runs_them() {
        assert_eq!(
            run(b"#!/usr/bin/env python3 -u\n"),
            Launch::Run {
                check: None,
                argv: words(&["/usr/bin/env", "python3 -u", "FILE", "a1"])
            }
        );
        assert!(matches!(
            run(b"#!/usr/bin/env bash -e\n"),
            Launch::Fail { code: 127, .. }
        ));
        assert!(matches!(
            run(b"#!/nonexistent/python\n"),
            Launch::Fail { code: 126, .. }
        ));
    }
}
