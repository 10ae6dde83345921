//! The one confinement of tenant code on the host: native hooks, bridged commands and the
//! `[deploy]` commands (install, build, health-check, and the background `start`) all start
//! through here, so what the kernel enforces on them is decided in one place.
//!
//! In: a [`Spec`] (granted directories, network level, user, limits, whether the process must
//! die with hookbox) and a `std`/`tokio` `Command` to start. Out: the command, started inside
//! the confinement, plus a [`Finished`] report (warnings, the step the kernel refused, and the
//! [`Lifeline`] that keeps it alive).
//!
//! Everything that allocates or can fail in interesting ways happens before `fork`, in
//! [`Prepared::new`]: the Landlock ruleset (a file descriptor), the rlimits, the user, the
//! user-namespace maps, the pipes. The code between `fork` and `exec` (`child.rs`) only makes
//! async-signal-safe system calls, in this order:
//!
//! 1. `setsid`: a new session and process group (the host kills the group; no controlling
//!    terminal to inject input into); the terminating signals a hook may send its own group
//!    are ignored by the two helper processes below;
//! 2. when hookbox is not root, a user namespace mapping only its own ids (the right to make
//!    the next namespaces);
//! 3. `unshare` of PID, mount and (unless the network level is `host`) network namespaces;
//! 4. `fork`: the parent (the *waiter*) stays in hookbox's namespaces, leads the process group,
//!    waits and ends exactly as the command ends (same status, same signal). It also holds the
//!    read end of the *lifeline*, a pipe whose only write end is in hookbox: when hookbox dies
//!    — even by `SIGKILL` — or drops the [`Lifeline`], the waiter sees end of file and kills
//!    the namespace. Its child is the namespace's first process (*init*);
//! 5. in init: a private `/proc` of the new PID namespace (readable, never writable: no
//!    `/proc/sys`, `/proc/sysrq-trigger`), `lo` up (network level `loopback`), rlimits,
//!    `setgroups([])` + `setgid` + `setuid` to the hook user (or, for root kept as root, every
//!    capability dropped), `PR_SET_NO_NEW_PRIVS`, `PR_SET_PDEATHSIG(SIGKILL)` (init dies with
//!    the waiter), the seccomp filter (no `AF_UNIX` sockets and no io_uring without a network
//!    grant) and `landlock_restrict_self`;
//! 6. one more `fork`: init stays behind, confined, reaping orphans, and passes the command's
//!    wait status to the waiter; the command runs as init's child, so signals reach it as on
//!    any host (`kill $$` works). When the command ends, init exits and the kernel kills
//!    everything left in the namespace — background jobs, `setsid`, double forks.
//!
//! Each step reports a failure (or, with `accept_weak`, a skipped step) as one byte on a
//! close-on-exec pipe, so the host can name what the kernel refused.

mod child;
mod rules;
mod seccomp;

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use landlock::CompatLevel;

use crate::bridge::policy::{DirAccess, Network};
use child::{
    child_setup, step_name, ChildPlan, UserNsMaps, STEP_LOOPBACK, STEP_NAMESPACES, STEP_USERNS,
    WEAK,
};

pub use rules::{DEVICE_PATHS, NETWORK_ETC_PATHS, SYSTEM_ETC_PATHS, SYSTEM_EXEC_PATHS};

/// Default `RLIMIT_NPROC` of confined code: 256 processes of the hook user. Bounds a fork
/// bomb (root ignores it: one more reason hooks never run as root). The count is per user on
/// the whole host, so tenants that must not share it need their own `run_as` user.
pub const DEFAULT_NPROC: u64 = 256;
/// Default `RLIMIT_CORE`: 0, no core dumps (they would land in the work directory and may
/// hold secrets).
pub const DEFAULT_CORE_BYTES: u64 = 0;
/// Default `RLIMIT_NOFILE`: 1024 open files per process. Bounds kernel memory per process.
pub const DEFAULT_NOFILE: u64 = 1024;
/// Seconds of CPU time granted beyond the hook's remaining wall time before `SIGKILL`
/// (`SIGXCPU` comes at the soft limit, the remaining wall time).
pub const DEFAULT_CPU_GRACE_SECS: u64 = 1;

/// Why confined code could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    /// The kernel lacks (or refused) a part of the confinement and weak confinement was not
    /// accepted.
    #[error("confinement unavailable: {what} (set accept_weak_confinement = true in [policy] to run without it)")]
    Unavailable { what: String },
    /// A granted directory is missing or cannot be opened.
    #[error("confinement: {path}: {why}")]
    Grant { path: PathBuf, why: String },
    /// A pipe for the child could not be made.
    #[error("confinement: {0}")]
    Io(#[from] io::Error),
}

impl ConfineError {
    /// The message without the leading "confinement unavailable: " (for callers whose own
    /// error already says it).
    pub fn reason(&self) -> String {
        let text = self.to_string();
        match text.strip_prefix("confinement unavailable: ") {
            Some(rest) => rest.to_string(),
            None => text,
        }
    }
}

/// What one process tree is confined to.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    /// `none` (a new, empty network namespace, no TCP, no `AF_UNIX` sockets), `loopback` (a new
    /// namespace with `lo` up, no `AF_UNIX` sockets) or `host`.
    pub network: Network,
    /// The work directory: read-write or read-only.
    pub work_dir: &'a Path,
    pub work_access: DirAccess,
    /// The run's private temporary directory (`HOME`, `TMPDIR`): read-write.
    pub temp_dir: &'a Path,
    /// More directories granted read-write (a deployment's `shared/`).
    pub extra_dirs: &'a [PathBuf],
    /// Files (or directories) readable and executable besides the system trees: the program
    /// the policy let start, a hook's script outside the work directory.
    pub extra_read: &'a [PathBuf],
    /// `(uid, gid)` to switch to (hookbox is root). `None`: keep hookbox's user — when that is
    /// root, every capability is dropped.
    pub user: Option<(u32, u32)>,
    /// `RLIMIT_DATA`.
    pub memory_bytes: u64,
    /// `RLIMIT_FSIZE`: the largest file it may write ([`Limits::file_size_bytes`], the same
    /// limit a sandboxed guest has).
    ///
    /// [`Limits::file_size_bytes`]: crate::limits::Limits::file_size_bytes
    pub file_size_bytes: u64,
    /// `RLIMIT_CPU` soft limit (the hook's remaining wall time); `None` for no CPU limit (the
    /// long-running `start` process).
    pub cpu_seconds: Option<u64>,
    /// Run even where the kernel lacks a part, with a warning (the policy's
    /// `accept_weak_confinement`). Default false: refuse.
    pub accept_weak: bool,
    /// Make the PID, mount and network namespaces. `false` only for the explicit
    /// process-group-only containment of the native runner.
    pub namespaces: bool,
    /// The process tree dies with hookbox (see [`Lifeline`]). `false` only for the `start`
    /// process, which serves until the next deploy or `hookbox stop`.
    pub lifeline: bool,
}

/// Keeps a confined process tree alive: the write end of the pipe its waiter watches. Dropping
/// it, or hookbox dying in any way, kills the whole tree.
#[derive(Debug)]
pub struct Lifeline {
    _write: OwnedFd,
}

/// What [`Prepared::finish`] learned from the child.
#[derive(Debug)]
pub struct Finished {
    /// Steps the kernel refused and `accept_weak` skipped.
    pub warnings: Vec<String>,
    /// When the spawn failed because the kernel refused a step of the confinement: which
    /// step, and the error ("the kernel refused a user namespace: Operation not permitted").
    /// `None` for any other spawn error (a missing program), or a successful spawn.
    pub refused: Option<String>,
    /// Hold it while the process should live (see [`Lifeline`]).
    pub lifeline: Option<Lifeline>,
}

/// Everything the child needs, prepared before `fork`.
pub struct Prepared {
    ruleset: Option<OwnedFd>,
    report_read: OwnedFd,
    report_write: Option<OwnedFd>,
    lifeline_read: Option<OwnedFd>,
    lifeline_write: Option<OwnedFd>,
    child: Option<ChildPlan>,
}

impl Prepared {
    /// Prepares the confinement of one process tree. Returns warnings for what is weaker than
    /// asked (only with `accept_weak`; without it, a missing feature is an error).
    pub fn new(spec: &Spec<'_>) -> Result<(Self, Vec<String>), ConfineError> {
        let weak = spec.accept_weak;
        let mut warnings = Vec::new();
        let ruleset = match rules::landlock_ruleset(spec, CompatLevel::HardRequirement) {
            Ok(fd) => fd,
            Err(rules::RuleError::Grant { path, why }) => {
                return Err(ConfineError::Grant { path, why })
            }
            Err(rules::RuleError::Kernel(e)) if weak => {
                warnings.push(format!(
                    "Landlock is not fully available ({e}); the file system is not confined as the policy asks"
                ));
                rules::landlock_ruleset(spec, CompatLevel::BestEffort).unwrap_or(None)
            }
            Err(rules::RuleError::Kernel(e)) => {
                return Err(ConfineError::Unavailable {
                    what: format!("Landlock: {e}"),
                })
            }
        };
        let (report_read, report_write) = pipe(libc::O_CLOEXEC | libc::O_NONBLOCK)?;
        let (lifeline_read, lifeline_write) = if spec.lifeline {
            let (r, w) = pipe(libc::O_CLOEXEC)?;
            (Some(r), Some(w))
        } else {
            (None, None)
        };
        // SAFETY: geteuid/getegid have no preconditions.
        let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let userns = (euid != 0 && spec.namespaces).then(|| UserNsMaps {
            // Map the caller to itself: the process keeps hookbox's uid, and gains in the new
            // namespace only the right to make the PID and network namespaces.
            uid_map: CString::new(format!("{euid} {euid} 1")).unwrap_or_default(),
            gid_map: CString::new(format!("{egid} {egid} 1")).unwrap_or_default(),
        });
        let mut ns_flags = 0;
        if spec.namespaces {
            ns_flags = libc::CLONE_NEWPID | libc::CLONE_NEWNS;
            if spec.network != Network::Host {
                ns_flags |= libc::CLONE_NEWNET;
            }
        }
        let (cpu_soft, cpu_hard) = match spec.cpu_seconds {
            Some(secs) => (secs.max(1), secs.max(1) + DEFAULT_CPU_GRACE_SECS),
            None => (libc::RLIM_INFINITY, libc::RLIM_INFINITY),
        };
        // The count is per real uid. Without a user switch the process shares hookbox's uid,
        // whose own processes (a developer's whole session, root's daemons) must not use up
        // its budget.
        let nproc = match spec.user {
            Some(_) => DEFAULT_NPROC,
            None => DEFAULT_NPROC.saturating_add(processes_of(euid)),
        };
        let plan = ChildPlan {
            report_fd: report_write.as_raw_fd(),
            ruleset_fd: ruleset.as_ref().map_or(-1, |fd| fd.as_raw_fd()),
            lifeline_fd: lifeline_read.as_ref().map_or(-1, |fd| fd.as_raw_fd()),
            userns,
            ns_flags,
            loopback: spec.namespaces && spec.network == Network::Loopback,
            rlimits: [
                clamped(libc::RLIMIT_CPU, cpu_soft, cpu_hard),
                clamped(libc::RLIMIT_DATA, spec.memory_bytes, spec.memory_bytes),
                clamped(libc::RLIMIT_NPROC, nproc, nproc),
                clamped(
                    libc::RLIMIT_FSIZE,
                    spec.file_size_bytes,
                    spec.file_size_bytes,
                ),
                clamped(libc::RLIMIT_CORE, DEFAULT_CORE_BYTES, DEFAULT_CORE_BYTES),
                clamped(libc::RLIMIT_NOFILE, DEFAULT_NOFILE, DEFAULT_NOFILE),
            ],
            user: spec.user,
            // Root without a user switch (`hookbox shell`'s `keep_user`): no capability
            // survives.
            drop_caps: euid == 0 && spec.user.is_none(),
            deny_unix_sockets: spec.network != Network::Host,
            weak,
        };
        Ok((
            Prepared {
                ruleset,
                report_read,
                report_write: Some(report_write),
                lifeline_read,
                lifeline_write,
                child: Some(plan),
            },
            warnings,
        ))
    }

    /// Installs the child's setup on `cmd` (for a tokio command: `cmd.as_std_mut()`). Call
    /// once, then spawn, then [`Prepared::finish`]. The command must not ask for its own
    /// process group or session: the setup makes a new session.
    pub fn install(&mut self, cmd: &mut std::process::Command) {
        use std::os::unix::process::CommandExt;
        let Some(plan) = self.child.take() else {
            return;
        };
        // SAFETY: the closure only makes async-signal-safe system calls on data prepared
        // before fork (see `child_setup`).
        unsafe {
            cmd.pre_exec(move || child_setup(&plan));
        }
    }

    /// After the spawn: closes the host's copies of the child's pipe ends and reads what the
    /// child reported. `spawn_error` is the spawn's error, if it failed.
    pub fn finish(mut self, spawn_error: Option<&io::Error>) -> Finished {
        drop(self.report_write.take());
        drop(self.ruleset.take());
        drop(self.lifeline_read.take());
        let mut bytes = [0u8; 64];
        // SAFETY: reading into a live buffer from an owned, non-blocking fd.
        let n = unsafe {
            libc::read(
                self.report_read.as_raw_fd(),
                bytes.as_mut_ptr().cast(),
                bytes.len(),
            )
        };
        let reported = &bytes[..usize::try_from(n).unwrap_or(0)];
        let warnings = reported
            .iter()
            .filter(|b| *b & WEAK != 0)
            .map(|b| {
                format!(
                    "the kernel refused {}; running without it (accept_weak_confinement)",
                    step_name(*b)
                )
            })
            .collect();
        let refused = spawn_error.and_then(|err| {
            let step = reported.iter().find(|b| *b & WEAK == 0)?;
            Some(format!(
                "the kernel refused {}: {err}{}",
                step_name(*step),
                if matches!(*step, STEP_USERNS | STEP_NAMESPACES | STEP_LOOPBACK) {
                    " (set accept_weak_confinement = true in [policy] to run without it)"
                } else {
                    ""
                }
            ))
        });
        let lifeline = match spawn_error {
            None => self.lifeline_write.take().map(|w| Lifeline { _write: w }),
            Some(_) => None,
        };
        Finished {
            warnings,
            refused,
            lifeline,
        }
    }
}

/// How many processes `uid` owns now (from `/proc`).
fn processes_of(uid: libc::uid_t) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| e.metadata().is_ok_and(|m| m.uid() == uid))
        .count() as u64
}

/// The type of `setrlimit`'s resource argument: glibc names its own enum type, musl (the
/// static release binary) takes a plain `int`.
#[cfg(target_env = "gnu")]
pub(super) type RlimitResource = libc::__rlimit_resource_t;
#[cfg(not(target_env = "gnu"))]
pub(super) type RlimitResource = libc::c_int;

/// A limit no higher than hookbox's own hard limit: raising one needs `CAP_SYS_RESOURCE`,
/// which containers often drop, and a lower limit is the stricter one anyway.
fn clamped(resource: RlimitResource, soft: u64, hard: u64) -> (RlimitResource, u64, u64) {
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: getrlimit writes into a live struct.
    if unsafe { libc::getrlimit(resource, &mut current) } != 0 {
        current.rlim_max = libc::RLIM_INFINITY;
    }
    let hard = hard.min(current.rlim_max);
    (resource, soft.min(hard), hard)
}

fn pipe(flags: libc::c_int) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two fds into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), flags) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}
