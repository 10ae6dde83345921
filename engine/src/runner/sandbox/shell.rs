//! Shell hooks in the sandbox: `.sh` scripts, bash/sh shebangs, Procfile command lines and
//! compiled hooks (`hookbox compile`), all run by the bundled shell module
//! ([`crate::shell_module::SHELL_WASM`]) with the grants and limits of any `.wasm` hook.
//!
//! In: an [`Invocation`] whose program is a script or a command line, or a `.wasm` file that
//! may carry a script in its [`SCRIPT_SECTION`] custom section. Out: the same [`RunReport`] as
//! a `.wasm` hook. As a hook, the whole script is checked first (`-n`, like the native
//! runner's `bash -n`): a syntax error anywhere fails it with file and line before any line
//! runs. `hookbox shell` uses [`SandboxRunner::run_shell_session`], which skips that check
//! (a shell runs the lines before a late syntax error) and may give the guest a stdin.
//!
//! The shell module is compiled once per runner (kept ready in the runner's table) and
//! through the on-disk cache, so a process or a test suite compiles the multi-MB module once.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::store::GuestStdin;
use super::{SandboxRunner, Source};
use crate::plan::HookProgram;
use crate::runner::{Exit, Invocation, OutputSink, RunError, RunReport};
use crate::shell_module::SHELL_WASM;

/// Name of the custom section that holds a compiled hook's script (UTF-8 text).
pub const SCRIPT_SECTION: &str = "hookbox.script";
/// Longest shebang line read to decide how a script runs. 256 bytes (Linux reads 256).
const SHEBANG_MAX_BYTES: usize = 256;
/// `argv[0]` of the guest shell, as bash's own messages name it.
const SHELL_ARGV0: &str = "bash";

/// How the guest shell gets its script.
#[derive(Debug, Clone)]
pub enum ShellInput {
    /// `-c CMD [NAME [ARGS]]`: `args[0]` is `$0`.
    Command { line: String, args: Vec<String> },
    /// `FILE [ARGS]`: the file must be inside a granted directory, at its host path.
    File { path: PathBuf, args: Vec<String> },
    /// The script on stdin (these bytes); `args` are `$1..`.
    Stdin { script: Vec<u8>, args: Vec<String> },
    /// sh's own command line, given to the guest as is (`hookbox shell`); `stdin`, when set,
    /// is what the guest reads on fd 0 (the script, when the arguments name none).
    Argv {
        args: Vec<String>,
        stdin: Option<Vec<u8>>,
    },
}

/// Appends `script` to a module as a [`SCRIPT_SECTION`] custom section (id 0, LEB128 size,
/// name, payload): the result is the same module carrying its script.
pub fn embed_script(module: &[u8], script: &str) -> Vec<u8> {
    let mut payload = Vec::with_capacity(script.len() + SCRIPT_SECTION.len() + 5);
    leb128(&mut payload, SCRIPT_SECTION.len() as u64);
    payload.extend_from_slice(SCRIPT_SECTION.as_bytes());
    payload.extend_from_slice(script.as_bytes());
    let mut out = Vec::with_capacity(module.len() + payload.len() + 6);
    out.extend_from_slice(module);
    out.push(0);
    leb128(&mut out, payload.len() as u64);
    out.extend_from_slice(&payload);
    out
}

fn leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads a LEB128 u32 from `reader`; `None` on a malformed or truncated number.
fn read_leb128(reader: &mut impl Read) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..35).step_by(7) {
        let mut byte = [0u8];
        reader.read_exact(&mut byte).ok()?;
        value |= u64::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The script embedded in a module file, if it has a [`SCRIPT_SECTION`]. Reads only section
/// headers (seeking past payloads), so checking a multi-MB module is cheap. A malformed
/// module gives `Ok(None)`: compiling it reports what is wrong.
pub fn embedded_script(path: &Path) -> std::io::Result<Option<String>> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut header = [0u8; 8];
    if file.read_exact(&mut header).is_err() || &header[..4] != b"\0asm" {
        return Ok(None);
    }
    let mut pos = 8u64;
    while pos < len {
        let mut id = [0u8];
        if file.read_exact(&mut id).is_err() {
            return Ok(None);
        }
        let Some(size) = read_leb128(&mut file) else {
            return Ok(None);
        };
        let start = file.stream_position()?;
        if start.saturating_add(size) > len {
            return Ok(None);
        }
        if id[0] == 0 {
            let Some(name_len) = read_leb128(&mut file) else {
                return Ok(None);
            };
            let name_start = file.stream_position()?;
            if name_len == SCRIPT_SECTION.len() as u64 && name_start + name_len <= start + size {
                let mut name = vec![0u8; SCRIPT_SECTION.len()];
                file.read_exact(&mut name)?;
                if name == SCRIPT_SECTION.as_bytes() {
                    let rest = (start + size).saturating_sub(name_start + name_len);
                    let mut script = Vec::with_capacity(usize::try_from(rest).unwrap_or(0));
                    (&mut file).take(rest).read_to_end(&mut script)?;
                    return Ok(Some(String::from_utf8_lossy(&script).into_owned()));
                }
            }
        }
        pos = start + size;
        file.seek(SeekFrom::Start(pos))?;
    }
    Ok(None)
}

/// A script's shebang decides who runs it: `None` for bash, sh or no shebang (the bundled
/// shell), with the options of a `#!/bin/bash -e` line; `Some(interpreter)` for anything else.
fn shebang(path: &Path) -> (Option<String>, Vec<String>) {
    let mut head = Vec::with_capacity(SHEBANG_MAX_BYTES);
    let read = std::fs::File::open(path)
        .and_then(|f| f.take(SHEBANG_MAX_BYTES as u64).read_to_end(&mut head));
    if read.is_err() {
        return (None, Vec::new());
    }
    let Some(rest) = head.strip_prefix(b"#!") else {
        return (None, Vec::new());
    };
    let line = rest.split(|&b| b == b'\n').next().unwrap_or(rest);
    let line = String::from_utf8_lossy(line);
    let line = line.trim();
    let (interpreter, arg) = match line.split_once([' ', '\t']) {
        Some((i, a)) => (i, Some(a.trim())),
        None => (line, None),
    };
    let base = interpreter.rsplit('/').next().unwrap_or(interpreter);
    let (shell, arg) = if base == "env" {
        let mut words = arg.unwrap_or("").split_whitespace();
        let program = words.next().unwrap_or("");
        let rest: Vec<&str> = words.collect();
        (
            program.to_string(),
            (!rest.is_empty()).then(|| rest.join(" ")),
        )
    } else {
        (base.to_string(), arg.map(str::to_string))
    };
    if shell == "bash" || shell == "sh" {
        let options = arg
            .filter(|a| a.starts_with('-'))
            .map(|a| vec![a])
            .unwrap_or_default();
        (None, options)
    } else {
        (Some(interpreter.to_string()), Vec::new())
    }
}

/// The guest shell's whole `argv`.
fn guest_argv(args: Vec<String>) -> Vec<String> {
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.push(SHELL_ARGV0.to_string());
    argv.extend(args);
    argv
}

impl ShellInput {
    /// The guest's arguments after `argv[0]`, with `-n` for the check.
    fn guest_args(&self, options: &[String], check: bool) -> Vec<String> {
        let mut out: Vec<String> = options.to_vec();
        if check {
            out.push("-n".into());
        }
        match self {
            ShellInput::Command { line, args } => {
                out.push("-c".into());
                out.push(line.clone());
                if !check {
                    out.extend(args.iter().cloned());
                }
            }
            ShellInput::File { path, args } => {
                out.push(path.to_string_lossy().into_owned());
                if !check {
                    out.extend(args.iter().cloned());
                }
            }
            ShellInput::Stdin { args, .. } => {
                out.push("-s".into());
                out.extend(args.iter().cloned());
            }
            ShellInput::Argv { args, .. } => out.extend(args.iter().cloned()),
        }
        out
    }
}

impl SandboxRunner {
    /// `hookbox shell`: runs `input` in the bundled shell with the invocation's grants and
    /// limits, as a shell (no whole-script check first). `stdin_inherit` gives the guest the
    /// host's stdin (for `read`) when the script does not come from stdin.
    pub async fn run_shell_session(
        &self,
        invocation: &Invocation,
        input: ShellInput,
        stdin_inherit: bool,
        output: Arc<dyn OutputSink>,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> Result<RunReport, RunError> {
        let stdin = match &input {
            ShellInput::Stdin { script, .. }
            | ShellInput::Argv {
                stdin: Some(script),
                ..
            } => GuestStdin::Bytes(script.clone().into()),
            _ if stdin_inherit => GuestStdin::Inherit,
            _ => GuestStdin::Empty,
        };
        let argv = guest_argv(input.guest_args(&[], false));
        self.run_module(invocation, Source::Shell, argv, stdin, output, cancel)
            .await
    }

    /// Checks a shell script as hooks are checked (the bundled shell's `-n`, the whole file),
    /// without running any of it. The script's folder is granted read-only, `temp_dir` is
    /// the run's private temporary directory. `Ok(None)`: no syntax error; `Ok(Some(text))`:
    /// the shell's message, with file and line.
    pub async fn check_script(
        &self,
        path: &Path,
        temp_dir: &Path,
    ) -> Result<Option<String>, RunError> {
        let folder = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let invocation = Invocation {
            hook_name: path.to_string_lossy().into_owned(),
            stage: "check".into(),
            program: HookProgram::Script(path.to_path_buf()),
            args: Vec::new(),
            env: Default::default(),
            work_dir: folder,
            temp_dir: temp_dir.to_path_buf(),
            shared_dirs: Vec::new(),
            limits: crate::limits::Limits::default(),
            policy: crate::bridge::policy::Policy {
                work_dir: crate::bridge::policy::DirAccess::ReadOnly,
                ..Default::default()
            },
        };
        let (_, options) = shebang(path);
        let input = ShellInput::File {
            path: path.to_path_buf(),
            args: Vec::new(),
        };
        let argv = guest_argv(input.guest_args(&options, true));
        let collect = Arc::new(Collect::default());
        let (_keep, cancel) = tokio::sync::watch::channel(false);
        let report = self
            .run_module(
                &invocation,
                Source::Shell,
                argv,
                GuestStdin::Empty,
                collect.clone(),
                cancel,
            )
            .await?;
        if report.exit == Exit::Code(0) {
            return Ok(None);
        }
        let text = collect
            .0
            .lock()
            .map(|lines| lines.join("\n"))
            .unwrap_or_default();
        Ok(Some(if text.is_empty() {
            format!("{}: the check ended with {:?}", path.display(), report.exit)
        } else {
            text
        }))
    }

    /// A shell hook (script or command line): checked whole, then run.
    pub(super) async fn run_shell_hook(
        &self,
        invocation: &Invocation,
        output: Arc<dyn OutputSink>,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> Result<RunReport, RunError> {
        let (input, options) = match &invocation.program {
            HookProgram::Command(line) => {
                let mut args = vec![invocation.hook_name.clone()];
                args.extend(invocation.args.iter().cloned());
                (
                    ShellInput::Command {
                        line: line.clone(),
                        args,
                    },
                    Vec::new(),
                )
            }
            HookProgram::Script(path) => {
                let (other, options) = shebang(path);
                if let Some(interpreter) = other {
                    return Err(RunError::Unsupported {
                        what: format!("the script {}", path.display()),
                        why: format!(
                            "its interpreter `{interpreter}` is not a shell; the sandbox runs \
                             shell scripts and .wasm modules (use the native runner)"
                        ),
                    });
                }
                let granted = path.starts_with(&invocation.work_dir)
                    || path.starts_with(&invocation.temp_dir);
                let input = if granted {
                    ShellInput::File {
                        path: path.clone(),
                        args: invocation.args.clone(),
                    }
                } else {
                    // Outside the granted directories the guest cannot open it: the host
                    // reads it and hands over the text.
                    let text = tokio::fs::read(path).await.map_err(|e| RunError::Program {
                        path: path.clone(),
                        message: format!("cannot read the script: {e}"),
                    })?;
                    let mut args = vec![path.to_string_lossy().into_owned()];
                    args.extend(invocation.args.iter().cloned());
                    ShellInput::Command {
                        line: String::from_utf8_lossy(&text).into_owned(),
                        args,
                    }
                };
                (input, options)
            }
            HookProgram::Wasm(path) => {
                return self
                    .run_wasm_or_compiled(invocation, path, output, cancel)
                    .await
            }
        };
        self.check_then_run(invocation, &input, &options, output, cancel)
            .await
    }

    /// `-n` over the whole script, then the script itself; the check's instructions count.
    async fn check_then_run(
        &self,
        invocation: &Invocation,
        input: &ShellInput,
        options: &[String],
        output: Arc<dyn OutputSink>,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> Result<RunReport, RunError> {
        let check = self
            .run_module(
                invocation,
                Source::Shell,
                guest_argv(input.guest_args(options, true)),
                GuestStdin::Empty,
                Arc::clone(&output),
                cancel.clone(),
            )
            .await?;
        if check.exit != Exit::Code(0) {
            tracing::debug!(hook = %invocation.hook_name, exit = ?check.exit, "the shell's -n check refused the hook");
            return Ok(check);
        }
        let mut report = self
            .run_module(
                invocation,
                Source::Shell,
                guest_argv(input.guest_args(options, false)),
                GuestStdin::Empty,
                output,
                cancel,
            )
            .await?;
        report.duration += check.duration;
        report.instructions = match (report.instructions, check.instructions) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            (a, b) => a.or(b),
        };
        Ok(report)
    }

    /// A `.wasm` hook; one made by `hookbox compile` runs its embedded script in its own
    /// shell code, as `-c SCRIPT HOOK ARGS` (the script was checked when it was compiled).
    pub(super) async fn run_wasm_or_compiled(
        &self,
        invocation: &Invocation,
        path: &Path,
        output: Arc<dyn OutputSink>,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> Result<RunReport, RunError> {
        let script = {
            let path = path.to_path_buf();
            tokio::task::spawn_blocking(move || embedded_script(&path))
                .await
                .map_err(|e| RunError::Other(e.to_string()))?
        };
        let script = match script {
            Ok(script) => script,
            Err(e) => {
                return Err(RunError::Program {
                    path: path.to_path_buf(),
                    message: format!("cannot read the module: {e}"),
                })
            }
        };
        let Some(script) = script else {
            let mut argv = vec![invocation.hook_name.clone()];
            argv.extend(invocation.args.iter().cloned());
            return self
                .run_module(
                    invocation,
                    Source::File(path),
                    argv,
                    GuestStdin::Empty,
                    output,
                    cancel,
                )
                .await;
        };
        // Made from this build's shell (the usual case): its code is the shell's, already
        // compiled; anything else is compiled as the module it is.
        let same_shell = tokio::fs::read(path)
            .await
            .is_ok_and(|bytes| bytes.len() > SHELL_WASM.len() && bytes.starts_with(SHELL_WASM));
        let source = if same_shell {
            Source::Shell
        } else {
            Source::File(path)
        };
        let mut args = vec![invocation.hook_name.clone()];
        args.extend(invocation.args.iter().cloned());
        let input = ShellInput::Command { line: script, args };
        let argv = guest_argv(input.guest_args(&[], false));
        self.run_module(invocation, source, argv, GuestStdin::Empty, output, cancel)
            .await
    }
}

/// Collects the check's output lines.
#[derive(Default)]
struct Collect(std::sync::Mutex<Vec<String>>);

impl OutputSink for Collect {
    fn line(&self, _stream: crate::runner::Stream, line: &[u8]) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push(String::from_utf8_lossy(line).into_owned());
        }
    }
    fn truncated(&self, _cap_bytes: u64) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_script_round_trips_through_a_custom_section() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.wasm");
        std::fs::write(&plain, SHELL_WASM).unwrap();
        assert_eq!(embedded_script(&plain).unwrap(), None);
        let script = "echo 'hi'\n".repeat(100);
        let compiled = dir.path().join("hook.wasm");
        std::fs::write(&compiled, embed_script(SHELL_WASM, &script)).unwrap();
        assert_eq!(
            embedded_script(&compiled).unwrap().as_deref(),
            Some(script.as_str())
        );
        let junk = dir.path().join("junk.wasm");
        std::fs::write(&junk, b"\0asm\x01\0\0\0\0\xff\xff").unwrap();
        assert_eq!(embedded_script(&junk).unwrap(), None);
    }

    #[test]
    fn shebangs_pick_the_shell_or_another_interpreter() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, Option<&str>, &[&str]); 5] = [
            ("#!/bin/bash -e\necho\n", None, &["-e"]),
            ("#!/usr/bin/env bash\n", None, &[]),
            ("#!/bin/sh\n", None, &[]),
            ("echo no shebang\n", None, &[]),
            ("#!/usr/bin/python3\n", Some("/usr/bin/python3"), &[]),
        ];
        for (text, other, options) in cases {
            let p = dir.path().join("s");
            std::fs::write(&p, text).unwrap();
            let (o, opts) = shebang(&p);
            assert_eq!(o.as_deref(), other, "{text}");
            assert_eq!(opts, options, "{text}");
        }
    }
}
