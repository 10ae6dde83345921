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

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::abi::Interrupt;
use super::load;
use super::store::GuestStdin;
use super::{SandboxRunner, Source};
use crate::limits::deadline_after;
use crate::plan::HookProgram;
use crate::runner::output::OutputCapper;
use crate::runner::{Exit, Invocation, OutputSink, RunError, RunReport, Stream};
use crate::shebang::Shebang;
use crate::shell_module::SHELL_WASM;

/// Name of the custom section that holds a compiled hook's script (UTF-8 text).
pub const SCRIPT_SECTION: &str = "hookbox.script";
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

/// The script embedded in a module file, if it has a [`SCRIPT_SECTION`]. The file is read as
/// a hook's module is (no symlink, a regular file, at most the default module size) and its
/// section headers are walked in memory. A malformed module gives `Ok(None)`: compiling it
/// reports what is wrong.
pub fn embedded_script(path: &Path) -> std::io::Result<Option<String>> {
    let file = load::read_file(path, &[], crate::limits::DEFAULT_MODULE_BYTES_MAX)
        .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
    Ok(load::inspect(&file.bytes)
        .ok()
        .and_then(|shape| shape.script))
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
        // `-n` first: a shebang argument that is not an option (`#!/bin/bash foo`) is the
        // file bash runs, and everything after it would be that file's arguments.
        let mut out: Vec<String> = Vec::with_capacity(options.len() + 4);
        if check {
            out.push("-n".into());
        }
        out.extend(options.iter().cloned());
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
    /// host's stdin (for `read`) when the script does not come from stdin; `interrupt`, with
    /// it, is the terminal's Ctrl-C for an interactive shell.
    pub async fn run_shell_session(
        &self,
        invocation: &Invocation,
        input: ShellInput,
        stdin_inherit: bool,
        interrupt: Option<Arc<Interrupt>>,
        output: Arc<dyn OutputSink>,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> Result<RunReport, RunError> {
        let stdin = match &input {
            ShellInput::Stdin { script, .. }
            | ShellInput::Argv {
                stdin: Some(script),
                ..
            } => GuestStdin::Bytes(script.clone().into()),
            _ if stdin_inherit => GuestStdin::Inherit(interrupt),
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
        let options = match crate::shebang::read(path) {
            Shebang::Shell { args } => args,
            _ => Vec::new(),
        };
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
                let options = match crate::shebang::read(path) {
                    Shebang::Shell { args } => args,
                    Shebang::Absent => Vec::new(),
                    interpreter @ Shebang::Interpreter { .. } => {
                        return Err(RunError::Unsupported {
                            what: format!("the script {}", path.display()),
                            why: format!(
                                "its interpreter `{}` is not a shell; the sandbox runs shell \
                                 scripts and .wasm modules (use the native runner)",
                                interpreter.describe()
                            ),
                        });
                    }
                    // Fails as the native runner fails it: nothing starts.
                    Shebang::Broken { code, message } => {
                        let capper = OutputCapper::new(output, invocation.limits.output_cap_bytes);
                        capper.push(Stream::Stderr, format!("{message}\n").as_bytes());
                        capper.finish();
                        return Ok(RunReport {
                            exit: Exit::Code(code),
                            duration: std::time::Duration::ZERO,
                            instructions: None,
                            output_truncated: capper.truncated(),
                        });
                    }
                };
                let granted = path.starts_with(&invocation.work_dir)
                    || path.starts_with(&invocation.temp_dir);
                let input = if granted {
                    ShellInput::File {
                        path: path.clone(),
                        args: invocation.args.clone(),
                    }
                } else {
                    // Outside the granted directories the guest cannot open it: the host
                    // reads it (as a module is read: no symlink, a regular file, bounded) and
                    // hands over the text.
                    let max = invocation.limits.module_bytes_max;
                    let owned = path.clone();
                    let text = tokio::task::spawn_blocking(move || {
                        load::read_file(&owned, &[], max).map(|f| f.bytes)
                    })
                    .await
                    .map_err(|e| RunError::Other(e.to_string()))?
                    .map_err(|message| RunError::Program {
                        path: path.clone(),
                        message,
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
    /// Reading the file, checking it and compiling it count against the hook's deadline.
    pub(super) async fn run_wasm_or_compiled(
        &self,
        invocation: &Invocation,
        path: &Path,
        output: Arc<dyn OutputSink>,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> Result<RunReport, RunError> {
        let started = tokio::time::Instant::now();
        let deadline = deadline_after(started, invocation.limits.timeout);
        let owned = path.to_path_buf();
        let mut roots = vec![invocation.work_dir.clone(), invocation.temp_dir.clone()];
        roots.extend(invocation.shared_dirs.iter().cloned());
        let max = invocation.limits.module_bytes_max;
        let read = tokio::task::spawn_blocking(move || {
            let roots: Vec<&Path> = roots.iter().map(PathBuf::as_path).collect();
            let file = load::read_file(&owned, &roots, max)?;
            let shape = load::inspect(&file.bytes)?;
            Ok::<_, String>((file, shape))
        });
        let (file, shape) = match tokio::time::timeout_at(deadline, read).await {
            Ok(Ok(Ok(read))) => read,
            Ok(Ok(Err(message))) => {
                return Err(RunError::Program {
                    path: path.to_path_buf(),
                    message,
                })
            }
            Ok(Err(e)) => return Err(RunError::Other(format!("reading the module: {e}"))),
            Err(_) => {
                return Ok(RunReport {
                    exit: Exit::TimedOut,
                    duration: started.elapsed(),
                    instructions: None,
                    output_truncated: false,
                })
            }
        };
        let mut args = vec![invocation.hook_name.clone()];
        args.extend(invocation.args.iter().cloned());
        let Some(script) = shape.script else {
            return self
                .run_module_until(
                    started,
                    invocation,
                    Source::File(&file),
                    args,
                    GuestStdin::Empty,
                    output,
                    cancel,
                )
                .await;
        };
        // Made from this build's shell (the usual case): its code is the shell's, already
        // compiled; anything else is compiled as the module it is.
        let same_shell = file.bytes.len() > SHELL_WASM.len() && file.bytes.starts_with(SHELL_WASM);
        let source = if same_shell {
            Source::Shell
        } else {
            Source::File(&file)
        };
        let input = ShellInput::Command { line: script, args };
        let argv = guest_argv(input.guest_args(&[], false));
        self.run_module_until(
            started,
            invocation,
            source,
            argv,
            GuestStdin::Empty,
            output,
            cancel,
        )
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
}
