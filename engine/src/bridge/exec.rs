//! The host side of the bridge's exec calls: one [`ExecHost`] per hook run.
//!
//! Data enters as `exec_spawn` request JSON and stdin bytes from the guest; it leaves as the
//! command's output — to [`ExecConfig::stdout`] for `inherit` streams, or buffered for the
//! guest's `exec_read` for `pipe` streams — and its status. Each spawned command gets a
//! supervisor task that owns the process, kills it at the hook's deadline or on request, and
//! publishes its status. Both output pipes are drained continuously into bounded buffers, so
//! reading one never deadlocks on the other. No call blocks past the deadline.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::{timeout_at, Instant};

use super::allow::{check_cwd, granted_mode, Resolver};
use super::confine::ConfineSpec;
use super::policy::Policy;
use super::request::{ExecRequest, InputMode, OutputMode};
pub use super::BridgeError;
use crate::limits::Limits;
use crate::runner::user::{self, HookUser};
use crate::runner::Stream;

/// Default most commands of one hook alive at once (spawned and not yet waited for). Bounds
/// the host's file descriptors and tasks per hook; the rlimits bound the processes.
pub const DEFAULT_MAX_COMMANDS: usize = 64;
/// Default time `wait` gives an exited command's `inherit` output to arrive before returning.
/// The PID namespace closes every writer when the command ends, so this only matters when
/// confinement is weakened.
pub const DEFAULT_DRAIN_GRACE: Duration = Duration::from_secs(2);
/// Default time `shutdown` waits for killed commands to be reaped.
pub const DEFAULT_REAP_GRACE: Duration = Duration::from_secs(5);
/// Most bytes of a `stream` output the host holds for the guest: past it the host stops
/// reading, so the command waits for the guest like a writer on a full pipe (a streamed
/// pipeline stage never loses data to a slow reader).
const STREAM_WINDOW: usize = 1 << 20;
/// Size of one read from a command's output pipe.
const CHUNK: usize = 64 * 1024;

/// Where `inherit` output goes: the hook's own output, in chunks as they come.
pub type OutputFn = Arc<dyn Fn(Stream, &[u8]) + Send + Sync>;

/// What an [`ExecHost`] grants, for one hook run.
#[derive(Clone)]
pub struct ExecConfig {
    pub policy: Policy,
    /// The hook's work directory (granted per `policy.work_dir`).
    pub work_dir: PathBuf,
    /// The run's private temporary directory (granted read-write).
    pub temp_dir: PathBuf,
    /// The hook's deadline: commands are killed at it and no call blocks past it.
    pub deadline: Instant,
    /// `memory_bytes` becomes `RLIMIT_DATA`; `output_cap_bytes` bounds each pipe's buffer.
    pub limits: Limits,
    /// Where `inherit` streams go (the hook's own output), in chunks as they come.
    pub stdout: OutputFn,
}

/// Runs the bridged commands of one hook run. Dropping it kills whatever still runs.
pub struct ExecHost {
    cfg: ExecConfig,
    resolver: Resolver,
    user: Option<Option<HookUser>>,
    /// Directories granted read-write besides the work and temporary directories.
    extra_dirs: Vec<PathBuf>,
    procs: HashMap<u32, Proc>,
    next_handle: u32,
    /// `InputMode::Inherit` gives commands the host process's stdin (see `inherit_stdin`).
    stdin_inherit: bool,
    /// The last waited command's stdin end (`exec_stdin_end`): its handle and the count or
    /// offset. Only the last: the guest asks right after `wait`, so nothing accumulates.
    last_stdin_end: Option<(u32, u64)>,
}

/// A command's buffered output pipe.
struct PipeBuf {
    state: Mutex<PipeState>,
    /// Data or the end arrived.
    notify: Notify,
    /// The reader took data (a blocking pipe may read more from the command).
    space: Notify,
}

#[derive(Default)]
struct PipeState {
    data: VecDeque<u8>,
    eof: bool,
    dropped: u64,
}

struct Proc {
    stdin: Option<ChildStdin>,
    /// The queue of an `InputMode::Feed` stdin (closing it ends the command's input).
    feed: Option<Arc<FeedQueue>>,
    /// How the command's stdin ends are measured at `wait`.
    stdin_end: StdinEnd,
    stdout: Option<Arc<PipeBuf>>,
    stderr: Option<Arc<PipeBuf>>,
    /// Tasks copying `inherit` streams to the hook's output.
    forwarders: Vec<JoinHandle<()>>,
    /// Tasks draining `pipe` streams into their buffers.
    drains: Vec<JoinHandle<()>>,
    status: watch::Receiver<Option<i32>>,
    kill: Arc<Notify>,
    supervisor: JoinHandle<()>,
}

/// The bytes of a `Feed` stdin not yet written into the command's pipe.
#[derive(Default)]
struct FeedQueue {
    state: Mutex<FeedState>,
    /// Data was queued or the queue was closed.
    notify: Notify,
}

#[derive(Default)]
struct FeedState {
    pending: VecDeque<u8>,
    closed: bool,
}

/// What `wait` measures of a command's stdin for `exec_stdin_end`.
enum StdinEnd {
    None,
    /// A `Feed` stdin: the task writing the queue, and the host's own copy of the pipe's read
    /// end, through which the bytes written but never read are counted.
    Feed {
        queue: Arc<FeedQueue>,
        writer: JoinHandle<()>,
        peek: std::io::PipeReader,
    },
    /// A `File` stdin: the host's descriptor, sharing its offset with the command's.
    File(std::fs::File),
}

impl StdinEnd {
    /// After the command ended: the unread count (`Feed`) or the offset (`File`).
    fn measure(self) -> Option<u64> {
        match self {
            StdinEnd::None => None,
            StdinEnd::Feed {
                queue,
                writer,
                peek,
            } => {
                // Stopped between writes (it moves bytes out of the queue only once written),
                // so queue + pipe is exactly what the command did not read.
                writer.abort();
                let pending = queue
                    .state
                    .lock()
                    .map(|s| s.pending.len())
                    .unwrap_or_else(|e| e.into_inner().pending.len());
                let mut in_pipe: libc::c_int = 0;
                // SAFETY: FIONREAD writes one c_int; the fd is our open pipe end.
                let rc = unsafe {
                    libc::ioctl(
                        std::os::fd::AsRawFd::as_raw_fd(&peek),
                        libc::FIONREAD,
                        &mut in_pipe,
                    )
                };
                let in_pipe = if rc == 0 { in_pipe.max(0) as u64 } else { 0 };
                Some(pending as u64 + in_pipe)
            }
            StdinEnd::File(mut file) => {
                use std::io::Seek;
                file.stream_position().ok()
            }
        }
    }
}

impl ExecHost {
    pub fn new(cfg: ExecConfig) -> Self {
        ExecHost {
            resolver: Resolver::new(cfg.work_dir.clone()),
            cfg,
            user: None,
            extra_dirs: Vec::new(),
            procs: HashMap::new(),
            next_handle: 0,
            stdin_inherit: false,
            last_stdin_end: None,
        }
    }

    /// Lets `InputMode::Inherit` give commands the host process's own stdin: for `hookbox
    /// shell`, whose guest reads that stdin too (exactly, so a command gets what the shell
    /// has not read). A hook's stdin stays `/dev/null`.
    pub fn inherit_stdin(&mut self) {
        self.stdin_inherit = true;
    }

    /// After `wait` of `h`: for a `Feed` stdin, how many fed bytes the command did not read;
    /// for a `File` stdin, the file's offset when it ended (ABI.md's `exec_stdin_end`).
    pub fn stdin_end(&mut self, h: u32) -> Result<u64, BridgeError> {
        match self.last_stdin_end.take() {
            Some((last, end)) if last == h => Ok(end),
            other => {
                self.last_stdin_end = other;
                Err(BridgeError::BadRequest(format!(
                    "handle {h}: no stdin end (ask right after exec_wait, for a feed or file stdin)"
                )))
            }
        }
    }

    /// Opens a `File` stdin: a regular file inside the grants (checked before opening and, on
    /// the descriptor itself, after: a symlink swapped in meanwhile cannot lead outside).
    fn open_stdin_file(
        &self,
        path: &std::path::Path,
        offset: u64,
    ) -> Result<std::fs::File, BridgeError> {
        use std::io::Seek;
        use std::os::unix::fs::OpenOptionsExt;
        let refused = |why: &str| {
            BridgeError::NotPermitted(format!(
                "{}: cannot be a command's stdin: {why}",
                path.display()
            ))
        };
        let granted = self.granted_dirs();
        granted_mode(path, &granted)?;
        let real = path.canonicalize().map_err(|e| refused(&e.to_string()))?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&real)
            .map_err(|e| refused(&e.to_string()))?;
        let opened = std::fs::read_link(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&file)
        ))
        .map_err(|e| refused(&e.to_string()))?;
        let inside = granted
            .iter()
            .any(|dir| dir.canonicalize().is_ok_and(|g| opened.starts_with(g)));
        let regular = file.metadata().is_ok_and(|m| m.is_file());
        if !inside || !regular {
            return Err(refused("not a regular file inside the granted directories"));
        }
        // SAFETY: fcntl on our own open descriptor; clears O_NONBLOCK (only used to open).
        unsafe {
            let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
            let flags = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
        file.seek(std::io::SeekFrom::Start(offset))
            .map_err(|e| refused(&e.to_string()))?;
        Ok(file)
    }

    /// Grants bridged commands read-write access to one more directory (a deployment's
    /// `shared/` folder, where the database lives), like the temporary directory: as a place
    /// to write and as a working directory. Applies to commands spawned afterwards.
    pub fn grant_dir(&mut self, dir: PathBuf) {
        self.extra_dirs.push(dir);
    }

    /// The `st_mode` of a file inside the granted directories (see ABI.md's `path_mode`).
    pub fn path_mode(&self, path: &str) -> Result<u32, BridgeError> {
        granted_mode(std::path::Path::new(path), &self.granted_dirs())
    }

    /// The work and temporary directories and those granted with [`ExecHost::grant_dir`].
    fn granted_dirs(&self) -> Vec<&std::path::Path> {
        let mut granted = vec![self.cfg.work_dir.as_path(), self.cfg.temp_dir.as_path()];
        granted.extend(self.extra_dirs.iter().map(PathBuf::as_path));
        granted
    }

    /// The program a request names and the directory it starts in, as the policy decides
    /// them (the cwd inside the grants, the program by the allow list or, with `allow_any`,
    /// the guest's own `PATH`).
    fn program_and_cwd(&mut self, req: &ExecRequest) -> Result<(PathBuf, PathBuf), BridgeError> {
        let argv0 = req.argv.first().map(String::as_str).unwrap_or_default();
        let cwd = req.cwd.as_deref().unwrap_or(&self.cfg.work_dir);
        let cwd = check_cwd(cwd, &self.granted_dirs())?;
        let guest_path = req
            .env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_str());
        let program = self
            .resolver
            .resolve_request(&self.cfg.policy, argv0, guest_path, &cwd)?;
        Ok((program, cwd))
    }

    /// The program an `exec_spawn` of this request would start, without starting it (the
    /// shell's `command -v`, `type`, `hash`): the same policy decision, so a hook's
    /// `command -v sqlite3 || exit 1` sees what it may run.
    pub fn which(&mut self, request_json: &[u8]) -> Result<PathBuf, BridgeError> {
        let req = ExecRequest::parse(request_json)?;
        Ok(self.program_and_cwd(&req)?.0)
    }

    /// Checks a request against the policy and starts it confined; returns its handle.
    pub async fn spawn(&mut self, request_json: &[u8]) -> Result<u32, BridgeError> {
        if Instant::now() >= self.cfg.deadline {
            self.kill_all();
            return Err(BridgeError::Deadline);
        }
        let req = ExecRequest::parse(request_json)?;
        let argv0 = req.argv.first().cloned().unwrap_or_default();
        let (program, cwd) = self.program_and_cwd(&req)?;
        if self.procs.len() >= DEFAULT_MAX_COMMANDS {
            return Err(BridgeError::SpawnFailed(format!(
                "more than {DEFAULT_MAX_COMMANDS} bridged commands running at once"
            )));
        }
        let user = match &self.user {
            _ if self.cfg.policy.keep_user => None,
            Some(user) => user.clone(),
            None => {
                let user = user::resolve(self.cfg.policy.run_as.as_deref())
                    .map_err(|e| BridgeError::SpawnFailed(format!("the hook's user: {e}")))?;
                self.user = Some(user.clone());
                user
            }
        };

        let remaining = self.cfg.deadline.saturating_duration_since(Instant::now());
        let spec = ConfineSpec {
            policy: &self.cfg.policy,
            work_dir: &self.cfg.work_dir,
            temp_dir: &self.cfg.temp_dir,
            extra_dirs: &self.extra_dirs,
            program: &program,
            user,
            memory_bytes: self.cfg.limits.memory_bytes,
            file_size_bytes: self.cfg.limits.file_size_bytes,
            cpu_seconds: remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0),
        };
        let (mut prepared, mut warnings) = spec.prepare()?;

        // The earlier command's output this one reads, taken before anything starts: a bad
        // handle refuses the request.
        let feed_from = match req.stdin_from {
            Some(src) => Some(self.proc(src)?.stdout.take().ok_or_else(|| {
                BridgeError::BadRequest(format!("handle {src}: stdout is not a pipe to read"))
            })?),
            None => None,
        };
        let spawn_err =
            |e: std::io::Error| BridgeError::SpawnFailed(format!("{argv0}: stdin: {e}"));
        // A feed stdin is our own pipe, so that its read end stays open here too: what the
        // command never read is still in it when it ends (counted for `exec_stdin_end`).
        let mut feed_pipe = None;
        let mut stdin_file = None;
        let stdin_stdio = match (req.stdin, &feed_from) {
            (_, Some(_)) | (InputMode::Pipe, None) => Stdio::piped(),
            (InputMode::Feed, None) => {
                let (reader, writer) = std::io::pipe().map_err(spawn_err)?;
                let child_end = reader.try_clone().map_err(spawn_err)?;
                feed_pipe = Some((reader, writer));
                Stdio::from(child_end)
            }
            (InputMode::File, None) => {
                let path = req.stdin_path.as_deref().ok_or_else(|| {
                    BridgeError::BadRequest("exec request: stdin \"file\" needs stdin_path".into())
                })?;
                let file = self.open_stdin_file(path, req.stdin_offset)?;
                let child_end = file.try_clone().map_err(spawn_err)?;
                stdin_file = Some(file);
                Stdio::from(child_end)
            }
            (InputMode::Inherit, None) if self.stdin_inherit => Stdio::inherit(),
            (InputMode::Inherit | InputMode::Null, None) => Stdio::null(),
        };
        let mut cmd = tokio::process::Command::new(&program);
        cmd.arg0(&argv0)
            .args(req.argv.iter().skip(1))
            .env_clear()
            .envs(command_env(&req.env, &self.cfg.work_dir))
            .current_dir(&cwd)
            .stdin(stdin_stdio)
            .stdout(output_stdio(req.stdout))
            .stderr(output_stdio(req.stderr))
            .kill_on_drop(true);
        prepared.install(cmd.as_std_mut());
        let spawned = cmd.spawn();
        let finished = prepared.finish(spawned.as_ref().err());
        let failure = finished
            .refused
            .map(|why| format!("confinement unavailable: {why}"));
        warnings.extend(finished.warnings);
        for warning in &warnings {
            tracing::warn!(command = %argv0, "bridge: weak confinement: {warning}");
            let line = format!("hookbox: warning: {argv0}: {warning}\n");
            (self.cfg.stdout)(Stream::Stderr, line.as_bytes());
        }
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                let message = failure.unwrap_or_else(|| e.to_string());
                tracing::warn!(command = %argv0, "bridge: spawn failed: {message}");
                return Err(BridgeError::SpawnFailed(format!("{argv0}: {message}")));
            }
        };
        tracing::debug!(command = %argv0, program = %program.display(), "bridge: spawned");

        let cap = usize::try_from(self.cfg.limits.output_cap_bytes).unwrap_or(usize::MAX);
        let mut forwarders = Vec::new();
        let mut drains = Vec::new();
        let mut stdout_buf = None;
        let mut stderr_buf = None;
        if let Some(out) = child.stdout.take() {
            self.route(
                out,
                Stream::Stdout,
                req.stdout,
                cap,
                &mut forwarders,
                &mut drains,
                &mut stdout_buf,
            );
        }
        if let Some(err) = child.stderr.take() {
            self.route(
                err,
                Stream::Stderr,
                req.stderr,
                cap,
                &mut forwarders,
                &mut drains,
                &mut stderr_buf,
            );
        }
        let mut stdin = child.stdin.take();
        if let (Some(pipe), Some(writer)) = (feed_from, stdin.take_if(|_| req.stdin_from.is_some()))
        {
            drains.push(tokio::spawn(feed(pipe, writer)));
        }
        let mut queue = None;
        let mut stdin_end = match stdin_file {
            Some(file) => StdinEnd::File(file),
            None => StdinEnd::None,
        };
        if let Some((peek, writer)) = feed_pipe {
            let writer = std::process::ChildStdin::from(std::os::fd::OwnedFd::from(writer));
            let writer = ChildStdin::from_std(writer).map_err(spawn_err)?;
            let q = Arc::new(FeedQueue::default());
            let task = tokio::spawn(feed_queue(Arc::clone(&q), writer));
            stdin_end = StdinEnd::Feed {
                queue: Arc::clone(&q),
                writer: task,
                peek,
            };
            queue = Some(q);
        }
        let (status_tx, status) = watch::channel(None);
        let kill = Arc::new(Notify::new());
        let supervisor = tokio::spawn(supervise(
            child,
            finished.lifeline,
            self.cfg.deadline,
            Arc::clone(&kill),
            status_tx,
        ));

        let handle = self.next_handle;
        self.next_handle = self.next_handle.wrapping_add(1) & 0x7fff_ffff;
        self.procs.insert(
            handle,
            Proc {
                stdin,
                feed: queue,
                stdin_end,
                stdout: stdout_buf,
                stderr: stderr_buf,
                forwarders,
                drains,
                status,
                kill,
                supervisor,
            },
        );
        Ok(handle)
    }

    #[allow(clippy::too_many_arguments)]
    fn route<R: AsyncRead + Unpin + Send + 'static>(
        &self,
        reader: R,
        stream: Stream,
        mode: OutputMode,
        cap: usize,
        forwarders: &mut Vec<JoinHandle<()>>,
        drains: &mut Vec<JoinHandle<()>>,
        buf: &mut Option<Arc<PipeBuf>>,
    ) {
        match mode {
            OutputMode::Inherit => {
                let sink = Arc::clone(&self.cfg.stdout);
                forwarders.push(tokio::spawn(forward(reader, stream, sink)));
            }
            OutputMode::Pipe | OutputMode::Stream => {
                let window = (mode == OutputMode::Stream).then_some(STREAM_WINDOW);
                let pipe = Arc::new(PipeBuf {
                    state: Mutex::new(PipeState::default()),
                    notify: Notify::new(),
                    space: Notify::new(),
                });
                drains.push(tokio::spawn(drain(reader, Arc::clone(&pipe), cap, window)));
                *buf = Some(pipe);
            }
            OutputMode::Null => {}
        }
    }

    /// Writes to the command's stdin; returns the bytes accepted.
    pub async fn write(&mut self, h: u32, data: &[u8]) -> Result<usize, BridgeError> {
        let deadline = self.cfg.deadline;
        let proc = self.proc(h)?;
        if let Some(queue) = &proc.feed {
            if data.is_empty() {
                return Ok(0);
            }
            queue
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pending
                .extend(data);
            queue.notify.notify_one();
            return Ok(data.len());
        }
        let stdin = proc.stdin.as_mut().ok_or_else(|| {
            BridgeError::BadRequest(format!("handle {h}: stdin is not a pipe or is closed"))
        })?;
        if data.is_empty() {
            return Ok(0);
        }
        match timeout_at(deadline, stdin.write(data)).await {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(e)) => Err(BridgeError::BadRequest(format!(
                "handle {h}: writing to the command's stdin: {e}"
            ))),
            Err(_) => {
                self.kill_all();
                Err(BridgeError::Deadline)
            }
        }
    }

    /// Closes the command's stdin (end of file for it).
    pub async fn close_stdin(&mut self, h: u32) -> Result<(), BridgeError> {
        let proc = self.proc(h)?;
        if let Some(queue) = proc.feed.take() {
            // The queue's task writes what is left, then closes the pipe.
            queue.close();
            return Ok(());
        }
        match proc.stdin.take() {
            Some(mut stdin) => {
                // Flushing a pipe is a no-op; shutdown only drops it. Errors mean the reader
                // is gone, which is what closing wants anyway.
                let _ = stdin.shutdown().await;
                Ok(())
            }
            None => Err(BridgeError::BadRequest(format!(
                "handle {h}: stdin is not a pipe or is already closed"
            ))),
        }
    }

    /// Reads up to `max` bytes of the command's stdout (`fd` 1) or stderr (`fd` 2); empty at
    /// the end of the stream.
    pub async fn read(&mut self, h: u32, fd: u32, max: usize) -> Result<Vec<u8>, BridgeError> {
        let deadline = self.cfg.deadline;
        let proc = self.proc(h)?;
        let pipe = match fd {
            1 => proc.stdout.clone(),
            2 => proc.stderr.clone(),
            _ => return Err(BridgeError::BadRequest(format!("handle {h}: bad fd {fd}"))),
        }
        .ok_or_else(|| BridgeError::BadRequest(format!("handle {h}: fd {fd} is not a pipe")))?;
        if max == 0 {
            return Ok(Vec::new());
        }
        loop {
            {
                let mut state = pipe.state.lock().unwrap_or_else(|e| e.into_inner());
                if !state.data.is_empty() {
                    let n = max.min(state.data.len());
                    let taken = state.data.drain(..n).collect();
                    pipe.space.notify_one();
                    return Ok(taken);
                }
                if state.eof {
                    return Ok(Vec::new());
                }
            }
            if timeout_at(deadline, pipe.notify.notified()).await.is_err() {
                self.kill_all();
                return Err(BridgeError::Deadline);
            }
        }
    }

    /// Waits for the command to end; returns its status as a shell sees it (exit code, or
    /// 128+signal) and frees the handle.
    pub async fn wait(&mut self, h: u32) -> Result<i32, BridgeError> {
        let deadline = self.cfg.deadline;
        let proc = self.proc(h)?;
        drop(proc.stdin.take());
        if let Some(queue) = proc.feed.take() {
            queue.close();
        }
        let mut status = proc.status.clone();
        let code = match timeout_at(deadline, status.wait_for(Option::is_some)).await {
            Ok(Ok(code)) => (*code).unwrap_or(126),
            // The supervisor ended without a status: it could not wait for the process.
            Ok(Err(_)) => 126,
            Err(_) => {
                self.kill_all();
                return Err(BridgeError::Deadline);
            }
        };
        if Instant::now() >= deadline {
            // The supervisor's kill at the deadline can publish 137 just before our own
            // timer fires: that status is the deadline's doing, not the command's.
            self.kill_all();
            return Err(BridgeError::Deadline);
        }
        if let Some(proc) = self.procs.remove(&h) {
            self.last_stdin_end = proc.stdin_end.measure().map(|end| (h, end));
            // Deliver the command's inherited output before its status, as a shell would.
            let grace = (Instant::now() + DEFAULT_DRAIN_GRACE).min(deadline);
            for task in proc.forwarders {
                let abort = task.abort_handle();
                if timeout_at(grace, task).await.is_err() {
                    abort.abort();
                }
            }
            for task in proc.drains {
                task.abort();
            }
        }
        Ok(code)
    }

    /// Kills the command's process group and PID namespace. The handle stays until `wait`.
    pub async fn kill(&mut self, h: u32) -> Result<(), BridgeError> {
        let proc = self.proc(h)?;
        proc.kill.notify_one();
        Ok(())
    }

    /// At the hook's end: kills every command still running and waits (briefly) until each
    /// is reaped.
    pub async fn shutdown(&mut self) {
        self.kill_all();
        let grace = Instant::now() + DEFAULT_REAP_GRACE;
        for (_, proc) in self.procs.drain() {
            let abort = proc.supervisor.abort_handle();
            if timeout_at(grace, proc.supervisor).await.is_err() {
                // Dropping the child (kill_on_drop) still sends SIGKILL.
                abort.abort();
            }
            for task in proc.forwarders.into_iter().chain(proc.drains) {
                task.abort();
            }
        }
    }

    fn proc(&mut self, h: u32) -> Result<&mut Proc, BridgeError> {
        self.procs
            .get_mut(&h)
            .ok_or_else(|| BridgeError::BadRequest(format!("no command with handle {h}")))
    }

    pub(crate) fn kill_all(&self) {
        for proc in self.procs.values() {
            proc.kill.notify_one();
        }
    }
}

// The sandbox keeps an `ExecHost` in its store, which moves between threads.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ExecHost>();
};

impl Drop for ExecHost {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// The command's environment: the request's, scrubbed, plus the hook's git grant: the work
/// directory is a `safe.directory` (it may belong to another user than the hook's).
fn command_env(
    request_env: &[(String, String)],
    work_dir: &std::path::Path,
) -> Vec<(String, String)> {
    let mut env = super::env::scrub(request_env);
    env.push(("GIT_CONFIG_COUNT".into(), "1".into()));
    env.push(("GIT_CONFIG_KEY_0".into(), "safe.directory".into()));
    env.push((
        "GIT_CONFIG_VALUE_0".into(),
        work_dir.to_string_lossy().into_owned(),
    ));
    env
}

fn output_stdio(mode: OutputMode) -> Stdio {
    match mode {
        OutputMode::Inherit | OutputMode::Pipe | OutputMode::Stream => Stdio::piped(),
        OutputMode::Null => Stdio::null(),
    }
}

/// Owns the process: publishes its status, or kills it (group and PID namespace) at the
/// deadline or on request.
async fn supervise(
    mut child: Child,
    // Dropped when the command is reaped or this task is aborted: the command's waiter then
    // kills whatever is left of it. hookbox dying has the same effect.
    _lifeline: Option<crate::confine::Lifeline>,
    deadline: Instant,
    kill: Arc<Notify>,
    status: watch::Sender<Option<i32>>,
) {
    let exited = tokio::select! {
        exited = child.wait() => Some(exited),
        () = tokio::time::sleep_until(deadline) => None,
        () = kill.notified() => None,
    };
    let exited = match exited {
        Some(exited) => exited,
        None => {
            if let Some(pid) = child.id() {
                // The waiting parent leads the process group (setsid); it is not reaped yet,
                // so the group id cannot have been reused. Killing it also kills the PID
                // namespace's init (parent-death signal), and with it the whole namespace.
                // SAFETY: kill(2) has no memory preconditions.
                unsafe {
                    libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
                }
            }
            let _ = child.start_kill();
            child.wait().await
        }
    };
    let code = match exited {
        Ok(st) => {
            use std::os::unix::process::ExitStatusExt;
            st.code()
                .or_else(|| st.signal().map(|s| 128 + s))
                .unwrap_or(126)
        }
        Err(e) => {
            tracing::warn!("bridge: waiting for a command: {e}");
            126
        }
    };
    let _ = status.send(Some(code));
}

/// Copies an `inherit` stream to the hook's output as it comes.
async fn forward<R: AsyncRead + Unpin>(mut reader: R, stream: Stream, sink: OutputFn) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => sink(stream, &buf[..n]),
        }
    }
}

/// Drains a `pipe` stream into its buffer; past `cap` buffered bytes, data is dropped.
/// Copies an earlier command's piped output into a command's stdin until either side ends;
/// then closes that stdin (EOF), as a pipe between two processes would.
async fn feed(pipe: Arc<PipeBuf>, mut stdin: ChildStdin) {
    loop {
        let chunk: Vec<u8> = {
            let mut state = pipe.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.data.is_empty() {
                if state.eof {
                    return;
                }
                Vec::new()
            } else {
                let n = CHUNK.min(state.data.len());
                let taken = state.data.drain(..n).collect();
                pipe.space.notify_one();
                taken
            }
        };
        if chunk.is_empty() {
            pipe.notify.notified().await;
            continue;
        }
        if stdin.write_all(&chunk).await.is_err() {
            return;
        }
    }
}

impl FeedQueue {
    fn close(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        self.notify.notify_one();
    }
}

/// Writes a `Feed` stdin's queue into the command as it reads, then closes its stdin. Bytes
/// leave the queue only once written, so when `wait` stops this task, queue and pipe hold
/// exactly what the command did not read.
async fn feed_queue(queue: Arc<FeedQueue>, mut stdin: ChildStdin) {
    loop {
        let chunk: Vec<u8> = {
            let state = queue.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.pending.is_empty() && state.closed {
                return;
            }
            state.pending.iter().take(CHUNK).copied().collect()
        };
        if chunk.is_empty() {
            queue.notify.notified().await;
            continue;
        }
        match stdin.write(&chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                queue
                    .state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .pending
                    .drain(..n);
            }
        }
    }
}

async fn drain<R: AsyncRead + Unpin>(
    mut reader: R,
    pipe: Arc<PipeBuf>,
    cap: usize,
    window: Option<usize>,
) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        if let Some(window) = window {
            // Wait (as a full pipe makes its writer wait) until the reader made room.
            loop {
                let full = {
                    let state = pipe.state.lock().unwrap_or_else(|e| e.into_inner());
                    state.data.len() >= window
                };
                if !full {
                    break;
                }
                pipe.space.notified().await;
            }
        }
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => 0,
            Ok(n) => n,
        };
        {
            let mut state = pipe.state.lock().unwrap_or_else(|e| e.into_inner());
            if n == 0 {
                state.eof = true;
            } else {
                let keep = n.min(cap.saturating_sub(state.data.len()));
                state.data.extend(&buf[..keep]);
                if keep < n {
                    if state.dropped == 0 {
                        tracing::warn!("bridge: a piped command output passed the cap; dropping");
                    }
                    state.dropped += (n - keep) as u64;
                }
            }
        }
        pipe.notify.notify_one();
        if n == 0 {
            return;
        }
    }
}
