//! What happens in a hook's child process between `fork` and `exec`: the PID namespace that
//! makes sure nothing of the hook outlives it, and the switch to the hook's user.
//!
//! In: a [`ChildSetup`] prepared in the parent (every byte it needs is allocated there, since
//! the forked child of a multi-threaded process may only make async-signal-safe calls).
//! Out: the process tree below, then `exec` of the hook in the last process.
//!
//! With a PID namespace the child spawned by tokio (the *waiter*, in hookbox's namespace and
//! the leader of the hook's process group) unshares a PID namespace and forks its *init*
//! (PID 1 there), which forks the *hook* process (PID 2) that execs the program:
//!
//! ```text
//! hookbox ── waiter (pgid leader) ── init (pid 1 of the new namespace) ── hook (bash …)
//! ```
//!
//! - The init reaps orphans while the hook runs and exits as soon as the hook process ends;
//!   the kernel then kills everything left in the namespace, background jobs and `setsid`
//!   escapees included. It dies with the waiter (`PR_SET_PDEATHSIG`), so killing the waiter
//!   (tokio's `kill_on_drop`) also tears the namespace down.
//! - The waiter and the init ignore the terminating signals a hook may send its own group
//!   (`kill 0`) and the runner's SIGTERM at the deadline, so SIGTERM reaches the hook and its
//!   children while the status still travels back. SIGKILL takes all three down.
//! - The init passes the hook's raw wait status to the waiter through a pipe; the waiter ends
//!   the same way (same exit code, or the same signal, without a core dump), so tokio sees the
//!   hook's own status.
//! - Without root, the namespace is made inside a new user namespace mapping only hookbox's
//!   own uid and gid (files of other users then show as `nobody`, and set-uid programs such
//!   as `sudo` cannot gain privileges).
//! - With a hook user (hookbox is root), only the hook process switches: `setgroups(0)`, then
//!   the gid, then the uid, then `PR_SET_NO_NEW_PRIVS` so no set-uid program regains root.
//!
//! Inside the namespace `$$` is 2. Where the kernel allows a mount namespace too (always for
//! root), the hook gets a /proc of its own PID namespace, so `/proc/$$` is the hook and `ps`
//! lists only the hook's processes (no other tenant's command lines); otherwise the host's
//! /proc stays, and `/proc/$$` names a host process.

use std::io;

/// Signals the waiter and the init ignore; everything catchable that a hook may send its
/// group. Synchronous fault signals, SIGCHLD (needed to wait) and SIGCONT keep their action.
const WAITER_IGNORES: [libc::c_int; 17] = [
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

/// Everything the child needs, computed before `fork`.
#[derive(Debug, Clone)]
pub(super) struct ChildSetup {
    namespace: Namespace,
    /// `(uid, gid)` of the hook process, when hookbox is root.
    user: Option<(libc::uid_t, libc::gid_t)>,
}

#[derive(Debug, Clone)]
enum Namespace {
    /// Only the process group (fallback, or the `bash -n` check that runs nothing).
    None,
    /// A PID namespace (hookbox is root).
    Pid,
    /// A user namespace mapping our own ids, and a PID namespace in it (hookbox is not root).
    UserAndPid { uid_map: Vec<u8>, gid_map: Vec<u8> },
}

impl ChildSetup {
    /// A setup running the hook as `user` (when set), in a new PID namespace if `pid_namespace`.
    pub(super) fn new(pid_namespace: bool, user: Option<(u32, u32)>) -> Self {
        let namespace = if !pid_namespace {
            Namespace::None
        } else if user.is_some() || is_root() {
            Namespace::Pid
        } else {
            // SAFETY: getuid/getgid have no preconditions and cannot fail.
            let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
            Namespace::UserAndPid {
                uid_map: format!("{uid} {uid} 1\n").into_bytes(),
                gid_map: format!("{gid} {gid} 1\n").into_bytes(),
            }
        };
        ChildSetup { namespace, user }
    }

    /// Whether this setup makes a PID namespace.
    pub(super) fn pid_namespace(&self) -> bool {
        !matches!(self.namespace, Namespace::None)
    }

    /// Runs in the forked child, before `exec`. Returns in the process that is to exec the
    /// hook; the waiter and the init never return.
    ///
    /// # Safety
    /// Only to be called between `fork` and `exec` (from `pre_exec`): it forks, exits and
    /// changes process-wide state. It allocates nothing and makes only async-signal-safe calls.
    pub(super) unsafe fn apply(&self) -> io::Result<()> {
        if self.pid_namespace() {
            // SAFETY: forwarded contract: we are in the child between fork and exec.
            unsafe { self.enter_pid_namespace()? };
        }
        if let Some((uid, gid)) = self.user {
            // SAFETY: plain syscalls on this process; failure is checked and reported.
            unsafe {
                check(libc::setgroups(0, std::ptr::null()))?;
                check(libc::setgid(gid))?;
                check(libc::setuid(uid))?;
                if libc::getuid() != uid || libc::geteuid() != uid {
                    return Err(io::Error::from_raw_os_error(libc::EPERM));
                }
                check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
            }
        }
        Ok(())
    }

    unsafe fn enter_pid_namespace(&self) -> io::Result<()> {
        // SAFETY (whole block): async-signal-safe syscalls only, on memory we own; see apply.
        unsafe {
            // The dispositions the hook process would have had, restored before exec.
            let mut saved: [libc::sigaction; WAITER_IGNORES.len()] = std::mem::zeroed();
            for (sig, old) in WAITER_IGNORES.iter().zip(saved.iter_mut()) {
                let mut ignore: libc::sigaction = std::mem::zeroed();
                ignore.sa_sigaction = libc::SIG_IGN;
                check(libc::sigaction(*sig, &ignore, old))?;
            }

            match &self.namespace {
                Namespace::None => {}
                Namespace::Pid => {
                    check(libc::unshare(libc::CLONE_NEWPID))?;
                }
                Namespace::UserAndPid { uid_map, gid_map } => {
                    check(libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWPID))?;
                    write_file(c"/proc/self/setgroups", b"deny")?;
                    write_file(c"/proc/self/uid_map", uid_map)?;
                    write_file(c"/proc/self/gid_map", gid_map)?;
                }
            }

            // A mount namespace of its own lets the hook get a /proc of its PID namespace:
            // `$$` and `/proc/$$` agree, and `ps` shows no other tenant's command lines.
            // Best effort: without it the hook sees the host's /proc.
            let own_mounts = libc::unshare(libc::CLONE_NEWNS) == 0;

            let mut status_pipe = [0 as libc::c_int; 2];
            check(libc::pipe2(status_pipe.as_mut_ptr(), libc::O_CLOEXEC))?;
            let [status_read, status_write] = status_pipe;

            let init = check(libc::fork())?;
            if init > 0 {
                waiter(init, status_read);
            }
            libc::close(status_read);
            // The init dies with the waiter, taking the namespace with it.
            check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0))?;

            let hook = check(libc::fork())?;
            if hook > 0 {
                init_process(hook, status_write);
            }
            libc::close(status_write);
            if own_mounts {
                mount_own_proc();
            }
            for (sig, old) in WAITER_IGNORES.iter().zip(saved.iter()) {
                check(libc::sigaction(*sig, old, std::ptr::null_mut()))?;
            }
            Ok(())
        }
    }
}

/// Mounts a /proc of the hook's PID namespace over the host's, in the hook's own mount
/// namespace (mounts made there do not propagate back). Failures leave the host's /proc.
unsafe fn mount_own_proc() {
    // SAFETY: mount(2) with NUL-terminated literals; affects only this mount namespace.
    unsafe {
        let private = libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        );
        if private == 0 {
            libc::mount(
                c"proc".as_ptr(),
                c"/proc".as_ptr(),
                c"proc".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                std::ptr::null(),
            );
        }
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn check<T: Default + PartialOrd>(rc: T) -> io::Result<T> {
    if rc < T::default() {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

unsafe fn write_file(path: &std::ffi::CStr, bytes: &[u8]) -> io::Result<()> {
    // SAFETY: open/write/close on a NUL-terminated path and a live buffer.
    unsafe {
        let fd = check(libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC))?;
        let written = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        let err = io::Error::last_os_error();
        libc::close(fd);
        if written != bytes.len() as isize {
            return Err(err);
        }
        Ok(())
    }
}

/// The waiter and the init hold nothing of the hook's: stdio goes to /dev/null (so the
/// output pipes close when the hook's side does) and every other descriptor but `keep`
/// (moved to 3) is closed, the spawn error pipe included, so spawn returns at the hook's exec.
unsafe fn detach_descriptors(keep: libc::c_int) {
    // SAFETY: descriptor operations on this process only.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
            if null > 2 {
                libc::close(null);
            }
        }
        if keep != 3 {
            libc::dup2(keep, 3);
        }
        if libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32) != 0 {
            for fd in 4..4096 {
                libc::close(fd);
            }
        }
    }
}

/// The waiter: waits for the init, then ends with the hook's status.
unsafe fn waiter(init: libc::pid_t, status_read: libc::c_int) -> ! {
    // SAFETY: async-signal-safe calls only; never returns.
    unsafe {
        detach_descriptors(status_read);
        let mut init_status: libc::c_int = 0;
        loop {
            let r = libc::waitpid(init, &mut init_status, 0);
            if r == init {
                break;
            }
            if r < 0 && *libc::__errno_location() != libc::EINTR {
                libc::_exit(125);
            }
        }
        let mut hook_status: libc::c_int = 0;
        let want = std::mem::size_of::<libc::c_int>();
        let mut got = 0usize;
        while got < want {
            let n = libc::read(
                3,
                (&mut hook_status as *mut libc::c_int)
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
        // Without a status the init itself was killed (SIGKILL): end like it.
        end_like(if got == want {
            hook_status
        } else {
            init_status
        })
    }
}

/// PID 1 of the namespace: reaps orphans until the hook process ends, reports its status.
/// Its exit makes the kernel kill whatever else is left in the namespace.
unsafe fn init_process(hook: libc::pid_t, status_write: libc::c_int) -> ! {
    // SAFETY: async-signal-safe calls only; never returns.
    unsafe {
        detach_descriptors(status_write);
        loop {
            let mut status: libc::c_int = 0;
            let r = libc::waitpid(-1, &mut status, 0);
            if r == hook {
                let bytes = (&status as *const libc::c_int).cast::<libc::c_void>();
                libc::write(3, bytes, std::mem::size_of::<libc::c_int>());
                libc::_exit(0);
            }
            if r < 0 && *libc::__errno_location() != libc::EINTR {
                libc::_exit(125);
            }
        }
    }
}

/// Ends this process the way a wait status says: same exit code, or same signal.
unsafe fn end_like(status: libc::c_int) -> ! {
    // SAFETY: async-signal-safe calls only; never returns.
    unsafe {
        if libc::WIFEXITED(status) {
            libc::_exit(libc::WEXITSTATUS(status));
        }
        if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            // The hook already dumped core if it was going to; the waiter must not.
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
