//! Confinement of a bridged command: what the kernel enforces on it, whatever it runs.
//!
//! Everything that allocates or can fail in interesting ways happens before `fork`, in
//! [`Prepared::new`]: the Landlock ruleset (a file descriptor), the user, the rlimits, the
//! user-namespace maps. The code that runs in the child between `fork` and `exec`
//! ([`Prepared::install`]) only makes async-signal-safe system calls, in this order:
//!
//! 1. `setsid`: a new session and process group, so the host can kill the group;
//! 2. when hookbox is not root, a user namespace (to get the right to make the next ones);
//! 3. `unshare` of a PID namespace and a mount namespace (always) and a network namespace
//!    (unless the policy grants the host's network);
//! 4. `fork` (a raw `clone`, no atfork handlers): the parent stays outside the PID namespace,
//!    waits for its child and exits with its status; the child is the namespace's first
//!    process ("init"). When it ends, or is killed, the kernel kills everything else in the
//!    namespace — `setsid`, double forks and daemons included;
//! 5. in the child: a private `/proc` of the PID namespace (in the new mount namespace,
//!    readable through one more Landlock rule), `lo` up (network level `loopback`), rlimits, `setgroups([])` + `setgid` +
//!    `setuid` to the hook user (or, for root kept as root by `keep_user`, every capability
//!    dropped: bounding set, ambient, effective, permitted, inheritable), `PR_SET_NO_NEW_PRIVS`, `PR_SET_PDEATHSIG(SIGKILL)` (so killing
//!    the waiting parent kills the namespace), and `landlock_restrict_self`;
//! 6. one more `fork`: init stays behind, confined, waiting, and exits with the command's
//!    status; the command runs as init's child, so signals reach it as on any host (init
//!    ignores the signals it has no handler for: `kill $$` would do nothing).
//!
//! Each step reports a failure (or, with `accept_weak_confinement`, a skipped step) as one byte
//! on a close-on-exec pipe, so the host can name what the kernel refused.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, Scope, ABI,
};

use super::policy::{DirAccess, Network, Policy};
use super::BridgeError;
use crate::runner::user::HookUser;

mod child;

use child::{
    child_setup, step_name, ChildPlan, UserNsMaps, STEP_LOOPBACK, STEP_NAMESPACES, STEP_USERNS,
    WEAK,
};

/// Default `RLIMIT_NPROC` of a bridged command: 256 processes of the hook user. Bounds a fork
/// bomb (root ignores it: one more reason hooks never run as root). The count is per user on
/// the whole host, so tenants that must not share it need their own `run_as` user.
pub const DEFAULT_NPROC: u64 = 256;
/// Default `RLIMIT_FSIZE`: 1 GiB, the largest file a bridged command may write. Bounds a disk
/// flood inside the granted directories.
pub const DEFAULT_FSIZE_BYTES: u64 = 1024 * 1024 * 1024;
/// Default `RLIMIT_CORE`: 0, no core dumps (they would land in the work directory and may
/// hold secrets).
pub const DEFAULT_CORE_BYTES: u64 = 0;
/// Default `RLIMIT_NOFILE`: 1024 open files per process. Bounds kernel memory per process.
pub const DEFAULT_NOFILE: u64 = 1024;
/// Seconds of CPU time granted beyond the hook's remaining wall time before `SIGKILL`
/// (`SIGXCPU` comes at the soft limit, the remaining wall time).
pub const DEFAULT_CPU_GRACE_SECS: u64 = 1;

/// The Landlock ABI whose file-system rights are required (V5: refer, truncate, ioctl on
/// devices). Newer rights are not requested, so behaviour does not change with the kernel.
const LANDLOCK_FS_ABI: ABI = ABI::V5;
/// The Landlock ABI of the TCP rights (V4), handled when the network level is `none`.
const LANDLOCK_NET_ABI: ABI = ABI::V4;
/// The Landlock ABI of scoping (V6): no signals to, and no abstract UNIX sockets of,
/// processes outside the command's domain.
const LANDLOCK_SCOPE_ABI: ABI = ABI::V6;

/// Directory trees a bridged command may read and execute: the programs and their libraries.
/// `/usr/local` is under `/usr`; `/bin`, `/lib`… are usually links into `/usr`.
pub const SYSTEM_EXEC_PATHS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt",
];
/// The few files of `/etc` every program may read: the loader's cache and configuration,
/// `alternatives` (Debian's program links), the time zone. `/etc/passwd`, `/etc/shadow`, the
/// host's configuration and credentials stay unreadable.
pub const SYSTEM_ETC_PATHS: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/timezone",
];
/// Files of `/etc` added when the policy grants a network (`loopback` or `host`): name
/// resolution and TLS roots.
pub const NETWORK_ETC_PATHS: &[&str] = &[
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
];
/// Devices a bridged command may read and write.
pub const DEVICE_PATHS: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// What one command is confined to.
#[derive(Debug, Clone)]
pub(crate) struct ConfineSpec<'a> {
    pub policy: &'a Policy,
    pub work_dir: &'a Path,
    pub temp_dir: &'a Path,
    /// More directories granted read-write (`ExecHost::grant_dir`).
    pub extra_dirs: &'a [PathBuf],
    /// The program the policy let start: readable and executable even outside the system
    /// directories (an allow-list entry like `/opt/tools/bin/migrate`), nothing beside it.
    pub program: &'a Path,
    pub user: Option<HookUser>,
    /// `RLIMIT_DATA`.
    pub memory_bytes: u64,
    /// `RLIMIT_CPU` soft limit: the hook's remaining wall time, rounded up.
    pub cpu_seconds: u64,
}

/// Everything the child needs, prepared before `fork`.
pub(crate) struct Prepared {
    ruleset: Option<OwnedFd>,
    report_read: OwnedFd,
    report_write: Option<OwnedFd>,
    child: Option<ChildPlan>,
}

impl Prepared {
    /// Prepares the confinement of one command. Returns warnings for what is weaker than asked
    /// (only with `accept_weak_confinement`; without it, a missing feature is an error).
    pub fn new(spec: &ConfineSpec<'_>) -> Result<(Self, Vec<String>), BridgeError> {
        let weak = spec.policy.accept_weak_confinement;
        let mut warnings = Vec::new();
        let ruleset = match landlock_ruleset(spec, CompatLevel::HardRequirement) {
            Ok(fd) => fd,
            Err(e) if weak => {
                warnings.push(format!("Landlock is not fully available ({e}); the file system is not confined as the policy asks"));
                landlock_ruleset(spec, CompatLevel::BestEffort).unwrap_or(None)
            }
            Err(e) => {
                return Err(BridgeError::SpawnFailed(format!(
                    "confinement unavailable: Landlock: {e} (set accept_weak_confinement = true in [policy] to run without it)"
                )))
            }
        };
        let (report_read, report_write) =
            pipe().map_err(|e| BridgeError::SpawnFailed(format!("confinement: pipe: {e}")))?;
        // SAFETY: geteuid/getegid have no preconditions.
        let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let userns = (euid != 0).then(|| UserNsMaps {
            // Map the caller to itself: the command keeps hookbox's uid, and gains in the new
            // namespace only the right to make the PID and network namespaces.
            uid_map: CString::new(format!("{euid} {euid} 1")).unwrap_or_default(),
            gid_map: CString::new(format!("{egid} {egid} 1")).unwrap_or_default(),
        });
        let mut ns_flags = libc::CLONE_NEWPID | libc::CLONE_NEWNS;
        if spec.policy.network != Network::Host {
            ns_flags |= libc::CLONE_NEWNET;
        }
        let cpu = spec.cpu_seconds.max(1);
        // The count is per real uid. Without a user switch (hookbox not root) the command
        // shares hookbox's uid, whose own processes (a developer's whole session) must not
        // use up the command's budget.
        let nproc = match spec.user {
            Some(_) => DEFAULT_NPROC,
            None => DEFAULT_NPROC.saturating_add(processes_of(euid)),
        };
        let plan = ChildPlan {
            report_fd: report_write.as_raw_fd(),
            ruleset_fd: ruleset.as_ref().map_or(-1, |fd| fd.as_raw_fd()),
            userns,
            ns_flags,
            loopback: spec.policy.network == Network::Loopback,
            rlimits: [
                clamped(libc::RLIMIT_CPU, cpu, cpu + DEFAULT_CPU_GRACE_SECS),
                clamped(libc::RLIMIT_DATA, spec.memory_bytes, spec.memory_bytes),
                clamped(libc::RLIMIT_NPROC, nproc, nproc),
                clamped(libc::RLIMIT_FSIZE, DEFAULT_FSIZE_BYTES, DEFAULT_FSIZE_BYTES),
                clamped(libc::RLIMIT_CORE, DEFAULT_CORE_BYTES, DEFAULT_CORE_BYTES),
                clamped(libc::RLIMIT_NOFILE, DEFAULT_NOFILE, DEFAULT_NOFILE),
            ],
            user: spec.user.as_ref().map(|u| (u.uid, u.gid)),
            // Root without a user switch (`keep_user`): no capability survives.
            drop_caps: euid == 0 && spec.user.is_none(),
            weak,
        };
        Ok((
            Prepared {
                ruleset,
                report_read,
                report_write: Some(report_write),
                child: Some(plan),
            },
            warnings,
        ))
    }

    /// Installs the child's setup on `cmd`. Call once, then spawn, then [`Prepared::finish`].
    pub fn install(&mut self, cmd: &mut tokio::process::Command) {
        let Some(plan) = self.child.take() else {
            return;
        };
        // SAFETY: the closure only makes async-signal-safe system calls on data prepared
        // before fork (see `child_setup`).
        unsafe {
            cmd.pre_exec(move || child_setup(&plan));
        }
    }

    /// After the spawn: closes the host's copy of the report pipe and reads what the child
    /// reported. Returns the warnings (skipped steps) and, when `spawn_error` is given, the
    /// message naming the step that failed.
    pub fn finish(mut self, spawn_error: Option<&io::Error>) -> (Vec<String>, Option<String>) {
        drop(self.report_write.take());
        drop(self.ruleset.take());
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
        let failure = spawn_error.map(|err| match reported.iter().find(|b| *b & WEAK == 0) {
            Some(step) => format!(
                "confinement unavailable: the kernel refused {}: {err}{}",
                step_name(*step),
                if matches!(*step, STEP_USERNS | STEP_NAMESPACES | STEP_LOOPBACK) {
                    " (set accept_weak_confinement = true in [policy] to run without it)"
                } else {
                    ""
                }
            ),
            None => format!("{err}"),
        });
        (warnings, failure)
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

/// A limit no higher than hookbox's own hard limit: raising one needs `CAP_SYS_RESOURCE`,
/// which containers often drop, and a lower limit is the stricter one anyway.
fn clamped(
    resource: libc::__rlimit_resource_t,
    soft: u64,
    hard: u64,
) -> (libc::__rlimit_resource_t, u64, u64) {
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

/// The Landlock ruleset of one command, as a file descriptor for the child.
fn landlock_ruleset(spec: &ConfineSpec<'_>, level: CompatLevel) -> Result<Option<OwnedFd>, String> {
    let fs_all = AccessFs::from_all(LANDLOCK_FS_ABI);
    let read_exec = AccessFs::from_read(LANDLOCK_FS_ABI);
    let device: BitFlags<AccessFs> = AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::IoctlDev;
    let mut ruleset = Ruleset::default()
        .set_compatibility(level)
        .handle_access(fs_all)
        .map_err(|e| e.to_string())?;
    if spec.policy.network == Network::None {
        // Defence in depth beside the empty network namespace: no TCP bind or connect at all.
        ruleset = ruleset
            .handle_access(AccessNet::from_all(LANDLOCK_NET_ABI))
            .map_err(|e| e.to_string())?;
    }
    let mut created = ruleset
        .scope(Scope::from_all(LANDLOCK_SCOPE_ABI))
        .map_err(|e| e.to_string())?
        .create()
        .map_err(|e| e.to_string())?;

    let work_access = match spec.policy.work_dir {
        DirAccess::ReadWrite => fs_all,
        DirAccess::ReadOnly => read_exec,
    };
    let mut rules: Vec<(PathBuf, BitFlags<AccessFs>)> = vec![
        (spec.work_dir.to_path_buf(), work_access),
        (spec.temp_dir.to_path_buf(), fs_all),
    ];
    rules.extend(spec.extra_dirs.iter().map(|d| (d.clone(), fs_all)));
    let mut system: Vec<&str> = SYSTEM_EXEC_PATHS.to_vec();
    system.extend_from_slice(SYSTEM_ETC_PATHS);
    if spec.policy.network != Network::None {
        system.extend_from_slice(NETWORK_ETC_PATHS);
    }
    rules.extend(system.iter().map(|p| (PathBuf::from(p), read_exec)));
    rules.push((spec.program.to_path_buf(), read_exec));
    rules.extend(DEVICE_PATHS.iter().map(|p| (PathBuf::from(p), device)));

    for (path, access) in rules {
        let Ok(meta) = std::fs::metadata(&path) else {
            // System paths differ between distributions; a granted directory must exist.
            if path == spec.work_dir || path == spec.temp_dir || spec.extra_dirs.contains(&path) {
                return Err(format!("{}: missing", path.display()));
            }
            continue;
        };
        let access = if meta.is_dir() {
            access
        } else {
            access & AccessFs::from_file(LANDLOCK_FS_ABI)
        };
        let fd = PathFd::new(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        created = created
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(created.into())
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two fds into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe {
        (
            std::os::fd::FromRawFd::from_raw_fd(fds[0]),
            std::os::fd::FromRawFd::from_raw_fd(fds[1]),
        )
    })
}
