//! The native runner: each hook a host process inside the one confinement of tenant code
//! ([`crate::confine`]: PID, mount and network namespaces, a private `/proc`, Landlock,
//! seccomp, rlimits, `no_new_privs`, the hook's user), with exactly the hook's environment.
//!
//! In: an [`Invocation`] (program, arguments, environment, work directory, limits, policy), a
//! sink and a cancel signal. Out: a [`RunReport`]; the output goes to the sink line by line as
//! it comes, through [`OutputCapper`].
//!
//! Behaviour, in the order it happens:
//! 1. The hook user is resolved ([`user::resolve`]): hooks never run as root.
//! 2. What runs is decided by [`program`]: shell scripts and command lines run under bash after
//!    a `bash -n` check. A syntax error fails the hook before any line of it runs: the hook
//!    ends with `Exit::Code(2)` (bash's own status for a syntax error) and bash's message,
//!    which names the file and line (`x.sh: line 3: syntax error …`), arrives on stderr, as
//!    bash would print it. Other shebangs run through their interpreter.
//! 3. The hook starts with stdin `/dev/null`, the work directory as cwd, `env_clear` then the
//!    invocation's environment, confined: it may read the system program trees, the granted
//!    directories and its own script; write the work directory (unless the policy makes it
//!    read-only), its temporary directory and the shared directories; reach the network the
//!    policy's level grants (default none); see only its own processes. The `bash -n` check
//!    runs under the same confinement.
//! 4. At the deadline (or on cancel) the group gets SIGTERM, then SIGKILL after
//!    `limits.kill_grace`: the report says `TimedOut` (or `Cancelled`), whatever the status.
//! 5. When the hook's main process ends, everything it left behind is killed: the PID
//!    namespace goes down with its init, and the group gets SIGKILL. A hook that wants work
//!    to continue after it must hand it to a service manager, not a background job.
//!
//! 6. If hookbox itself dies (even by `SIGKILL`), the hook's waiter sees its lifeline close
//!    and kills the namespace: nothing of the hook outlives hookbox.
//!
//! Where the kernel refuses a part of the confinement (no user namespaces for unprivileged
//! users, a restrictive container, an old kernel without Landlock), the hook does not run
//! (`RunError::Confinement`, naming the part) unless the policy sets
//! `accept_weak_confinement`; then it runs with a warning on its stderr.
//! [`Containment::ProcessGroup`] leaves out the namespaces explicitly: then a child that calls
//! `setsid` escapes the group and may outlive the hook.

mod program;

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use self::program::Launch;
use super::output::OutputCapper;
use super::user::{self, HookUser};
use super::{Exit, Invocation, OutputSink, RunError, RunFuture, RunReport, Runner, Stream};
use crate::confine::{Lifeline, Prepared, Spec};
use crate::plan::HookProgram;

/// Bytes read from a hook's pipe at a time.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// How long output is still read after the hook's processes are gone: 2 s. Only a process
/// that escaped the group (without a PID namespace) can hold a pipe open longer; its output
/// is then abandoned rather than waited for.
pub const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// Bytes of `bash -n` output kept to report a syntax error: 64 KiB.
const CHECK_OUTPUT_CAP_BYTES: u64 = 64 * 1024;

/// How a hook's processes are kept from outliving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Containment {
    /// Default: PID, mount and network namespaces per hook (inside a user namespace when
    /// hookbox is not root), plus the process group; nothing outlives the hook, `setsid`
    /// included.
    #[default]
    PidNamespace,
    /// No namespaces, the process group alone (the rest of the confinement stays): background
    /// jobs are killed with the group, but a process that calls `setsid` leaves the group and
    /// can outlive the hook, and the hook sees the host's processes and network.
    ProcessGroup,
}

/// Runs hooks as host processes. One value can run many hooks at once.
#[derive(Debug, Default)]
pub struct NativeRunner {
    containment: Containment,
}

impl NativeRunner {
    /// A runner with the default [`Containment::PidNamespace`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A runner with the given containment.
    pub fn with_containment(containment: Containment) -> Self {
        NativeRunner { containment }
    }

    async fn run_hook(
        &self,
        inv: &Invocation,
        sink: Arc<dyn OutputSink>,
        mut cancel: watch::Receiver<bool>,
    ) -> Result<RunReport, RunError> {
        let started = Instant::now();
        let deadline =
            crate::limits::deadline_after(tokio::time::Instant::now(), inv.limits.timeout);
        let output = Arc::new(OutputCapper::new(sink, inv.limits.output_cap_bytes));
        let report = |exit: Exit, output: &OutputCapper| RunReport {
            exit,
            duration: started.elapsed(),
            instructions: None,
            output_truncated: output.truncated(),
        };

        let user = user::resolve(inv.policy.run_as.as_deref())?;
        if !inv.work_dir.is_dir() {
            return Err(RunError::Program {
                path: inv.work_dir.clone(),
                message: "the work directory does not exist or is not a directory".into(),
            });
        }
        let path = inv.env.get("PATH").unwrap_or(&inv.policy.path);
        // A relative script path means the same file for the shebang read here as for bash
        // in the work directory.
        let program = match &inv.program {
            HookProgram::Script(file) if file.is_relative() => {
                HookProgram::Script(inv.work_dir.join(file))
            }
            other => other.clone(),
        };
        let (check, argv) = match program::launch(&program, &inv.args, &inv.hook_name, path)? {
            Launch::Fail { code, message } => {
                output.push(Stream::Stderr, format!("{message}\n").as_bytes());
                output.finish();
                return Ok(report(Exit::Code(code), &output));
            }
            Launch::Run { check, argv } => (check, argv),
        };
        if *cancel.borrow_and_update() {
            return Ok(report(Exit::Cancelled, &output));
        }

        if let Some(check) = check {
            let lines = Arc::new(Collect::default());
            let check_output = Arc::new(OutputCapper::new(lines.clone(), CHECK_OUTPUT_CAP_BYTES));
            let spawn = Spawn {
                argv: &check,
                inv,
                user: user.as_ref(),
                namespaces: self.containment == Containment::PidNamespace,
                deadline,
            };
            let exit = self
                .supervise(spawn, &check_output, deadline, &mut cancel)
                .await?;
            match exit {
                Exit::Code(0) => {}
                Exit::Code(_) => {
                    for (stream, line) in lines.take() {
                        let mut line = line;
                        line.push(b'\n');
                        output.push(stream, &line);
                    }
                    output.finish();
                    tracing::debug!(hook = %inv.hook_name, ?exit, "bash -n refused the hook");
                    return Ok(report(exit, &output));
                }
                stopped => {
                    output.finish();
                    return Ok(report(stopped, &output));
                }
            }
        }

        let spawn = Spawn {
            argv: &argv,
            inv,
            user: user.as_ref(),
            namespaces: self.containment == Containment::PidNamespace,
            deadline,
        };
        let exit = self
            .supervise(spawn, &output, deadline, &mut cancel)
            .await?;
        Ok(report(exit, &output))
    }

    /// Starts one process and sees it to its end: streams its output into `output`, stops it
    /// at the deadline or on cancel, and kills whatever it left behind.
    async fn supervise(
        &self,
        spawn: Spawn<'_>,
        output: &Arc<OutputCapper>,
        deadline: tokio::time::Instant,
        cancel: &mut watch::Receiver<bool>,
    ) -> Result<Exit, RunError> {
        let (mut child, lifeline) = spawn.start(output)?;
        let group = Group::new(child.id());
        let pumps: Vec<_> = [
            child
                .stdout
                .take()
                .map(|pipe| (Stream::Stdout, Box::new(pipe) as Pipe)),
            child
                .stderr
                .take()
                .map(|pipe| (Stream::Stderr, Box::new(pipe) as Pipe)),
        ]
        .into_iter()
        .flatten()
        .map(|(stream, pipe)| tokio::spawn(pump(pipe, stream, output.clone())))
        .collect();

        let grace = spawn.inv.limits.kill_grace;
        let mut stopping: Option<Exit> = None;
        let mut kill_at = deadline;
        let mut killed = false;
        let mut cancel_open = true;
        let status = loop {
            tokio::select! {
                status = child.wait() => break status?,
                _ = tokio::time::sleep_until(deadline), if stopping.is_none() => {
                    stopping = Some(Exit::TimedOut);
                    group.signal(libc::SIGTERM);
                    kill_at = crate::limits::deadline_after(tokio::time::Instant::now(), grace);
                }
                changed = cancel.changed(), if stopping.is_none() && cancel_open => {
                    match changed {
                        Ok(()) if *cancel.borrow_and_update() => {
                            stopping = Some(Exit::Cancelled);
                            group.signal(libc::SIGTERM);
                            kill_at = crate::limits::deadline_after(tokio::time::Instant::now(), grace);
                        }
                        Ok(()) => {}
                        // The caller dropped its sender: it can no longer cancel.
                        Err(_) => cancel_open = false,
                    }
                }
                _ = tokio::time::sleep_until(kill_at), if stopping.is_some() && !killed => {
                    group.signal(libc::SIGKILL);
                    killed = true;
                }
            }
        };
        // Whatever the hook left running (background jobs) goes with it.
        group.signal(libc::SIGKILL);
        drop(lifeline);
        drain(pumps).await;
        output.finish();

        let exit = match stopping {
            Some(stopped) => stopped,
            None => match (status.code(), status.signal()) {
                (Some(code), _) => Exit::Code(code),
                (None, Some(signal)) => Exit::Signal(signal),
                (None, None) => Exit::Code(125),
            },
        };
        tracing::debug!(argv0 = ?spawn.argv.first(), ?exit, "native process ended");
        Ok(exit)
    }
}

impl Runner for NativeRunner {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
        output: Arc<dyn OutputSink>,
        cancel: watch::Receiver<bool>,
    ) -> RunFuture<'a> {
        Box::pin(self.run_hook(invocation, output, cancel))
    }
}

type Pipe = Box<dyn tokio::io::AsyncRead + Unpin + Send>;

/// One process to start.
struct Spawn<'a> {
    argv: &'a [OsString],
    inv: &'a Invocation,
    user: Option<&'a HookUser>,
    /// PID, mount and network namespaces ([`Containment::PidNamespace`]).
    namespaces: bool,
    deadline: tokio::time::Instant,
}

impl Spawn<'_> {
    /// Starts the process inside the confinement. Warnings (weak confinement accepted) go to
    /// the hook's stderr.
    fn start(
        &self,
        output: &OutputCapper,
    ) -> Result<(tokio::process::Child, Option<Lifeline>), RunError> {
        let (program, args) = match self.argv.split_first() {
            Some((program, args)) => (program.as_os_str(), args),
            None => (std::ffi::OsStr::new("/bin/false"), &[][..]),
        };
        let inv = self.inv;
        // The interpreter (outside the system trees, say /opt/python/bin/python3) and the
        // script itself (outside the work directory) are readable; nothing beside them.
        let mut extra_read = vec![PathBuf::from(program)];
        if let HookProgram::Script(file) = &inv.program {
            extra_read.push(inv.work_dir.join(file));
        }
        let remaining = self
            .deadline
            .saturating_duration_since(tokio::time::Instant::now());
        let spec = Spec {
            network: inv.policy.network,
            work_dir: &inv.work_dir,
            work_access: inv.policy.work_dir,
            temp_dir: &inv.temp_dir,
            extra_dirs: &inv.shared_dirs,
            extra_read: &extra_read,
            user: self.user.map(|u| (u.uid, u.gid)),
            memory_bytes: inv.limits.memory_bytes,
            file_size_bytes: inv.limits.file_size_bytes,
            cpu_seconds: Some(remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0)),
            accept_weak: inv.policy.accept_weak_confinement,
            namespaces: self.namespaces,
            lifeline: true,
        };
        let (mut prepared, mut warnings) =
            Prepared::new(&spec).map_err(|e| RunError::Confinement(e.reason()))?;

        let mut cmd = tokio::process::Command::new(program);
        // bash names itself by its argv[0] in messages (`bash: x.sh: No such file…`): the
        // same words as when a user runs `bash x.sh`.
        if std::path::Path::new(program).file_name() == Some(std::ffi::OsStr::new("bash")) {
            cmd.arg0("bash");
        }
        cmd.args(args)
            .env_clear()
            .envs(&inv.env)
            .current_dir(&inv.work_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        prepared.install(cmd.as_std_mut());
        let spawned = cmd.spawn();
        let finished = prepared.finish(spawned.as_ref().err());
        warnings.extend(finished.warnings);
        for warning in &warnings {
            tracing::warn!(hook = %inv.hook_name, "weak confinement: {warning}");
            output.push(
                Stream::Stderr,
                format!("hookbox: warning: {warning}\n").as_bytes(),
            );
        }
        match spawned {
            Ok(child) => Ok((child, finished.lifeline)),
            Err(err) => match finished.refused {
                Some(why) => Err(RunError::Confinement(why)),
                None => Err(err.into()),
            },
        }
    }
}

/// The hook's process group. Dropping it (the run future was dropped) kills the group.
struct Group {
    pgid: Option<libc::pid_t>,
}

impl Group {
    fn new(leader: Option<u32>) -> Self {
        Group {
            pgid: leader.and_then(|pid| libc::pid_t::try_from(pid).ok()),
        }
    }

    fn signal(&self, signal: libc::c_int) {
        if let Some(pgid) = self.pgid {
            // SAFETY: killpg has no memory preconditions. The group id cannot have been
            // reused: a pid stays allocated while it names a group with members.
            unsafe { libc::killpg(pgid, signal) };
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
    }
}

async fn pump(mut pipe: Pipe, stream: Stream, output: Arc<OutputCapper>) {
    let mut buf = vec![0u8; READ_CHUNK_BYTES];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) => break,
            // Past the cap the capper drops the bytes; reading goes on so the hook never blocks.
            Ok(n) => output.push(stream, &buf[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => {
                tracing::debug!(%err, ?stream, "reading hook output failed");
                break;
            }
        }
    }
}

async fn drain(pumps: Vec<tokio::task::JoinHandle<()>>) {
    let aborts: Vec<_> = pumps.iter().map(|p| p.abort_handle()).collect();
    let all = futures_join(pumps);
    if tokio::time::timeout(DRAIN_AFTER_EXIT, all).await.is_err() {
        tracing::warn!("a process outside the hook's group kept its output open; not waiting");
        for abort in aborts {
            abort.abort();
        }
    }
}

async fn futures_join(pumps: Vec<tokio::task::JoinHandle<()>>) {
    for pump in pumps {
        // A pump that panicked has nothing more to deliver.
        let _ = pump.await;
    }
}

/// A sink that keeps lines in memory (the `bash -n` check's message).
#[derive(Default)]
struct Collect {
    lines: Mutex<Vec<(Stream, Vec<u8>)>>,
}

impl Collect {
    fn take(&self) -> Vec<(Stream, Vec<u8>)> {
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl OutputSink for Collect {
    fn line(&self, stream: Stream, line: &[u8]) {
        self.lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((stream, line.to_vec()));
    }
    fn truncated(&self, _cap_bytes: u64) {}
}
