//! The confinement's code between `fork` and `exec` (see the parent module for the order).
//!
//! Only async-signal-safe system calls on data prepared before `fork` (no allocation, no
//! locks): the host is multi-threaded, and another thread may have held any lock at `fork`.
//!
//! ```text
//! hookbox ── waiter (session leader; lifeline) ── init (pid 1, confined) ── command
//! ```

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;

// Steps of the child's setup, reported on the pipe (`| WEAK` when skipped under
// `accept_weak`).
const STEP_SETSID: u8 = 1;
pub(super) const STEP_USERNS: u8 = 2;
pub(super) const STEP_NAMESPACES: u8 = 3;
const STEP_FORK: u8 = 4;
pub(super) const STEP_LOOPBACK: u8 = 5;
const STEP_RLIMIT: u8 = 6;
const STEP_USER: u8 = 7;
const STEP_NO_NEW_PRIVS: u8 = 8;
const STEP_PDEATHSIG: u8 = 9;
const STEP_LANDLOCK: u8 = 10;
const STEP_CAPS: u8 = 11;
const STEP_SECCOMP: u8 = 12;
const STEP_SIGNALS: u8 = 13;
pub(super) const WEAK: u8 = 0x80;

pub(super) fn step_name(step: u8) -> &'static str {
    match step & !WEAK {
        STEP_SETSID => "a new session (setsid)",
        STEP_USERNS => "a user namespace",
        STEP_NAMESPACES => "PID, mount and network namespaces",
        STEP_FORK => "the namespace's first process (fork)",
        STEP_LOOPBACK => "loopback in the new network namespace",
        STEP_RLIMIT => "resource limits (setrlimit)",
        STEP_USER => "switching to the hook user",
        STEP_NO_NEW_PRIVS => "no_new_privs",
        STEP_PDEATHSIG => "the parent-death signal",
        STEP_LANDLOCK => "Landlock (landlock_restrict_self)",
        STEP_CAPS => "dropping capabilities (capset)",
        STEP_SECCOMP => "the seccomp filter",
        STEP_SIGNALS => "signal dispositions (sigaction)",
        _ => "an unknown step",
    }
}

/// Signals the waiter and init ignore: everything catchable that a hook may send its own group
/// (`kill 0`) and the runner's SIGTERM at the deadline, so those reach the command while the
/// status still travels back. Synchronous fault signals, SIGCHLD and SIGCONT keep their action.
const HELPERS_IGNORE: [libc::c_int; 17] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGPIPE,
    libc::SIGALRM,
    libc::SIGTERM,
    libc::SIGTSTP,
    libc::SIGTTIN,
    libc::SIGTTOU,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGIO,
    libc::SIGPWR,
];

/// `struct landlock_path_beneath_attr` of the kernel's UAPI (packed).
#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}
/// `LANDLOCK_RULE_PATH_BENEATH`.
const LANDLOCK_RULE_PATH_BENEATH: libc::c_int = 1;
/// `LANDLOCK_ACCESS_FS_READ_FILE | READ_DIR` of the UAPI: the private `/proc` is readable,
/// never writable — no `/proc/sys`, no `/proc/sysrq-trigger`, even for root kept as root.
/// (`> /dev/stdout` still works: reopening a pipe through `/proc/self/fd` is not a file-system
/// access Landlock restricts.)
const PROC_ACCESS: u64 = (1 << 2) | (1 << 3);

/// `ifreq` as `SIOCGIFFLAGS`/`SIOCSIFFLAGS` use it (name, flags, the rest of the union).
#[repr(C)]
struct IfreqFlags {
    name: [u8; 16],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// Plain data (and owned C strings) the child's setup reads; no allocation after `fork`.
pub(super) struct ChildPlan {
    pub(super) report_fd: RawFd,
    pub(super) ruleset_fd: RawFd,
    /// Read end of the lifeline pipe, or -1.
    pub(super) lifeline_fd: RawFd,
    pub(super) userns: Option<UserNsMaps>,
    /// Namespaces to unshare; 0 for none (process group only).
    pub(super) ns_flags: libc::c_int,
    pub(super) loopback: bool,
    pub(super) rlimits: [(super::RlimitResource, u64, u64); 6],
    /// (uid, gid) to switch to.
    pub(super) user: Option<(libc::uid_t, libc::gid_t)>,
    /// Drop every capability (root kept as root).
    pub(super) drop_caps: bool,
    /// Install the seccomp filter of [`super::seccomp`].
    pub(super) deny_unix_sockets: bool,
    pub(super) weak: bool,
}

pub(super) struct UserNsMaps {
    pub(super) uid_map: CString,
    pub(super) gid_map: CString,
}

fn report(plan: &ChildPlan, step: u8) {
    // SAFETY: write(2) of one byte from a live buffer; a full or closed pipe is ignored.
    unsafe {
        libc::write(plan.report_fd, (&step as *const u8).cast(), 1);
    }
}

/// Reports `step` as failed and returns the errno as the spawn's error.
fn fail(plan: &ChildPlan, step: u8) -> io::Result<()> {
    let err = io::Error::last_os_error();
    report(plan, step);
    Err(err)
}

/// A step the weak policy may skip: reported as a warning when accepted, else a failure.
fn soft_fail(plan: &ChildPlan, step: u8) -> io::Result<()> {
    if plan.weak {
        report(plan, step | WEAK);
        Ok(())
    } else {
        fail(plan, step)
    }
}

fn write_file(path: &[u8], data: &[u8]) -> bool {
    // SAFETY: `path` is NUL-terminated; open/write/close are async-signal-safe.
    unsafe {
        let fd = libc::open(path.as_ptr().cast(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let ok = libc::write(fd, data.as_ptr().cast(), data.len()) == data.len() as isize;
        libc::close(fd);
        ok
    }
}

/// `fork` without glibc's atfork handlers.
unsafe fn raw_fork() -> libc::pid_t {
    // SAFETY: clone with only SIGCHLD is fork; the caller handles both sides.
    unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_long, 0, 0, 0, 0) as _ }
}

pub(super) fn child_setup(plan: &ChildPlan) -> io::Result<()> {
    // SAFETY (whole function): only async-signal-safe system calls on prepared data.
    unsafe {
        if libc::setsid() < 0 {
            return fail(plan, STEP_SETSID);
        }
        // The dispositions the command would have had, restored before its exec.
        let mut saved: [libc::sigaction; HELPERS_IGNORE.len()] = std::mem::zeroed();
        for (sig, old) in HELPERS_IGNORE.iter().zip(saved.iter_mut()) {
            let mut ignore: libc::sigaction = std::mem::zeroed();
            ignore.sa_sigaction = libc::SIG_IGN;
            if libc::sigaction(*sig, &ignore, old) != 0 {
                return fail(plan, STEP_SIGNALS);
            }
        }
        let mut namespaced = plan.ns_flags != 0;
        if let (true, Some(maps)) = (namespaced, &plan.userns) {
            if libc::unshare(libc::CLONE_NEWUSER) != 0
                || !write_file(b"/proc/self/setgroups\0", b"deny")
                || !write_file(b"/proc/self/uid_map\0", maps.uid_map.as_bytes())
                || !write_file(b"/proc/self/gid_map\0", maps.gid_map.as_bytes())
            {
                soft_fail(plan, STEP_USERNS)?;
                namespaced = false;
            }
        }
        let mut pid_ns = namespaced;
        if namespaced && libc::unshare(plan.ns_flags) != 0 {
            soft_fail(plan, STEP_NAMESPACES)?;
            pid_ns = false;
        }
        // init → waiter: the command's raw wait status.
        let mut status_pipe: [libc::c_int; 2] = [-1, -1];
        if pid_ns && libc::pipe2(status_pipe.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return fail(plan, STEP_FORK);
        }
        let pid = raw_fork();
        if pid < 0 {
            return fail(plan, STEP_FORK);
        }
        if pid > 0 {
            waiter(pid, status_pipe[0], plan.lifeline_fd, pid_ns);
        }
        if pid_ns {
            libc::close(status_pipe[0]);
        }
        // Without a namespace this process is the command itself (its parent the waiter).
        if pid_ns && plan.ns_flags & libc::CLONE_NEWNS != 0 && plan.ruleset_fd >= 0 {
            // Without it, commands run with no /proc at all, which is stricter, not weaker.
            let _ = private_proc(plan.ruleset_fd);
        }
        if plan.loopback && pid_ns && !loopback_up() {
            soft_fail(plan, STEP_LOOPBACK)?;
        }
        for (resource, soft, hard) in plan.rlimits {
            let limit = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            if libc::setrlimit(resource, &limit) != 0 {
                return fail(plan, STEP_RLIMIT);
            }
        }
        if let Some((uid, gid)) = plan.user {
            // The host's pipes belong to root: give the hook user the ones on 0-2, so that
            // reopening them (`> /dev/stdout`, through /proc/self/fd) works after the switch.
            // Only pipes: fchown of an inherited /dev/null or log file would change it.
            for fd in 0..3 {
                let mut st: libc::stat = std::mem::zeroed();
                if libc::fstat(fd, &mut st) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFIFO {
                    libc::fchown(fd, uid, gid);
                }
            }
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0
                || libc::getuid() != uid
                || libc::geteuid() != uid
            {
                return fail(plan, STEP_USER);
            }
        }
        if plan.drop_caps && !drop_all_capabilities() {
            return fail(plan, STEP_CAPS);
        }
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return fail(plan, STEP_NO_NEW_PRIVS);
        }
        // After the user switch: changing credentials clears the parent-death signal.
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
            return fail(plan, STEP_PDEATHSIG);
        }
        if plan.deny_unix_sockets {
            let prog = libc::sock_fprog {
                len: super::seccomp::NO_UNIX_SOCKETS.len() as libc::c_ushort,
                filter: super::seccomp::NO_UNIX_SOCKETS.as_ptr().cast_mut(),
            };
            if libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &prog as *const libc::sock_fprog,
                0,
                0,
            ) != 0
            {
                return fail(plan, STEP_SECCOMP);
            }
        }
        if plan.ruleset_fd >= 0
            && libc::syscall(libc::SYS_landlock_restrict_self, plan.ruleset_fd, 0) != 0
        {
            return fail(plan, STEP_LANDLOCK);
        }
        if pid_ns {
            // The command must not be the namespace's init: init ignores every signal it has
            // no handler for, so a script's `kill $$` would do nothing. This process stays
            // init, confined like the command, and reports its status.
            let pid = raw_fork();
            if pid < 0 {
                return fail(plan, STEP_FORK);
            }
            if pid > 0 {
                init_process(pid, status_pipe[1]);
            }
            libc::close(status_pipe[1]);
        }
        for (sig, old) in HELPERS_IGNORE.iter().zip(saved.iter()) {
            if libc::sigaction(*sig, old, std::ptr::null_mut()) != 0 {
                return fail(plan, STEP_SIGNALS);
            }
        }
    }
    Ok(())
}

/// The helpers hold nothing of the command's: stdio goes to /dev/null (so the output pipes
/// close when the command's side does) and every other descriptor but `keep` (moved to 3, 4…)
/// is closed — the spawn's error pipe included, so the spawn returns at the command's exec,
/// and the lifeline write ends of other commands forked at the same time.
unsafe fn detach_descriptors(keep: &mut [RawFd]) {
    // SAFETY: descriptor operations on this process only.
    unsafe {
        // First out of the way of the targets (above any low number), then into place.
        for fd in keep.iter_mut().filter(|fd| **fd >= 0) {
            *fd = libc::fcntl(*fd, libc::F_DUPFD, 64);
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
            if null > 2 {
                libc::close(null);
            }
        }
        let mut target = 3;
        for fd in keep.iter_mut().filter(|fd| **fd >= 0) {
            libc::dup2(*fd, target);
            *fd = target;
            target += 1;
        }
        if libc::syscall(libc::SYS_close_range, target as u32, u32::MAX, 0u32) != 0 {
            for fd in target..4096 {
                libc::close(fd);
            }
        }
    }
}

extern "C" fn on_sigchld(_: libc::c_int) {}

/// The waiter: waits for its child (init, or the command without a PID namespace), watching
/// the lifeline meanwhile; ends the way the command ended.
fn waiter(child: libc::pid_t, status_read: RawFd, lifeline: RawFd, pid_ns: bool) -> ! {
    // SAFETY: async-signal-safe calls only; never returns.
    unsafe {
        let mut keep = [status_read, lifeline];
        detach_descriptors(&mut keep);
        let [status_read, mut lifeline] = keep;
        // SIGCHLD interrupts the wait for the lifeline; blocked except inside ppoll, so it
        // cannot slip in between the check for the child and the wait.
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigchld as extern "C" fn(libc::c_int) as usize;
        libc::sigaction(libc::SIGCHLD, &action, std::ptr::null_mut());
        let mut chld: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut chld);
        libc::sigaddset(&mut chld, libc::SIGCHLD);
        libc::sigprocmask(libc::SIG_BLOCK, &chld, std::ptr::null_mut());
        let mut open: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut open);

        let mut status: libc::c_int = 0;
        loop {
            let r = libc::waitpid(child, &mut status, libc::WNOHANG);
            if r == child {
                break;
            }
            if r < 0 && *libc::__errno_location() != libc::EINTR {
                libc::_exit(125);
            }
            if lifeline < 0 {
                libc::sigsuspend(&open);
                continue;
            }
            let mut fds = [libc::pollfd {
                fd: lifeline,
                events: libc::POLLIN,
                revents: 0,
            }];
            if libc::ppoll(fds.as_mut_ptr(), 1, std::ptr::null(), &open) > 0 {
                let mut byte = 0u8;
                if libc::read(lifeline, (&mut byte as *mut u8).cast(), 1) <= 0 {
                    // hookbox is gone, or gave the command up: nothing may outlive it.
                    libc::close(lifeline);
                    lifeline = -1;
                    if pid_ns {
                        libc::kill(child, libc::SIGKILL);
                    } else {
                        libc::kill(0, libc::SIGKILL);
                    }
                }
            }
        }
        if !pid_ns {
            end_like(status);
        }
        let mut command_status: libc::c_int = 0;
        let want = std::mem::size_of::<libc::c_int>();
        let mut got = 0usize;
        while got < want {
            let n = libc::read(
                status_read,
                (&mut command_status as *mut libc::c_int)
                    .cast::<u8>()
                    .add(got)
                    .cast(),
                want - got,
            );
            if n > 0 {
                got += n as usize;
            } else if n == 0 || *libc::__errno_location() != libc::EINTR {
                break;
            }
        }
        // Without a status init itself was killed (SIGKILL): end like it.
        end_like(if got == want { command_status } else { status })
    }
}

/// PID 1 of the namespace: reaps orphans until the command ends, reports its status. Its exit
/// makes the kernel kill whatever else is left in the namespace.
fn init_process(command: libc::pid_t, status_write: RawFd) -> ! {
    // SAFETY: async-signal-safe calls only; never returns.
    unsafe {
        let mut keep = [status_write];
        detach_descriptors(&mut keep);
        let [status_write] = keep;
        loop {
            let mut status: libc::c_int = 0;
            let r = libc::waitpid(-1, &mut status, 0);
            if r == command {
                let bytes = (&status as *const libc::c_int).cast::<libc::c_void>();
                libc::write(status_write, bytes, std::mem::size_of::<libc::c_int>());
                libc::_exit(0);
            }
            if r < 0 && *libc::__errno_location() != libc::EINTR {
                libc::_exit(125);
            }
        }
    }
}

/// Ends this process the way a wait status says: same exit code, or same signal.
fn end_like(status: libc::c_int) -> ! {
    // SAFETY: async-signal-safe calls only; never returns.
    unsafe {
        if libc::WIFEXITED(status) {
            libc::_exit(libc::WEXITSTATUS(status));
        }
        if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            // The command already dumped core if it was going to; the waiter must not.
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            libc::signal(sig, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::kill(libc::getpid(), sig);
        }
        libc::_exit(125)
    }
}

/// Mounts a `/proc` of the current PID namespace (mounts made private first, so nothing
/// propagates to the host) and lets the Landlock ruleset read it. Only the namespace's own
/// processes are visible in it, and of those only the command's user's (`hidepid=2`): PID 1
/// is a fork of hookbox, and its command line (a worker's database URL, the operator's
/// `--env` values) is not the tenant's to read.
fn private_proc(ruleset_fd: RawFd) -> bool {
    // SAFETY: mount/open/syscall/close with NUL-terminated literals and a local struct.
    unsafe {
        if libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
            || libc::mount(
                c"proc".as_ptr(),
                c"/proc".as_ptr(),
                c"proc".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                c"hidepid=2".as_ptr().cast(),
            ) != 0
        {
            return false;
        }
        let fd = libc::open(
            c"/proc".as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return false;
        }
        let attr = PathBeneathAttr {
            allowed_access: PROC_ACCESS,
            parent_fd: fd,
        };
        let ok = libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset_fd,
            LANDLOCK_RULE_PATH_BENEATH,
            &attr as *const PathBeneathAttr,
            0,
        ) == 0;
        libc::close(fd);
        ok
    }
}

/// The interface-flag ioctls in the request type of this libc: glibc's `ioctl` takes an
/// unsigned long, musl's (the static release binary) an int.
#[allow(clippy::unnecessary_cast)]
const GET_FLAGS: libc::Ioctl = libc::SIOCGIFFLAGS as libc::Ioctl;
#[allow(clippy::unnecessary_cast)]
const SET_FLAGS: libc::Ioctl = libc::SIOCSIFFLAGS as libc::Ioctl;

/// Brings `lo` up in the current network namespace.
fn loopback_up() -> bool {
    // SAFETY: socket/ioctl/close on a local ifreq.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return false;
        }
        let mut req = IfreqFlags {
            name: [0; 16],
            flags: 0,
            _pad: [0; 22],
        };
        req.name[..2].copy_from_slice(b"lo");
        let mut ok = libc::ioctl(fd, GET_FLAGS, &mut req) == 0;
        if ok {
            req.flags |= libc::IFF_UP as libc::c_short;
            ok = libc::ioctl(fd, SET_FLAGS, &req) == 0;
        }
        libc::close(fd);
        ok
    }
}

/// `capset(2)`'s header and data (version 3: two 32-bit words per set).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// Empties the bounding set (so no exec gives a capability back), the ambient set and the
/// process's own sets. Async-signal-safe: prctl and capset only.
fn drop_all_capabilities() -> bool {
    // SAFETY: prctl/capset on live, correctly laid out buffers.
    unsafe {
        // Past the kernel's last capability prctl says EINVAL: nothing left to drop.
        for cap in 0..64 {
            if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 {
                break;
            }
        }
        if libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        ) != 0
        {
            return false;
        }
        let mut header = CapHeader {
            version: CAPABILITY_VERSION_3,
            pid: 0,
        };
        let data = [CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        }; 2];
        libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) == 0
    }
}
