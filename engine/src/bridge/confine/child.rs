//! The confinement's code between `fork` and `exec` (see the parent module for the order).
//!
//! Only async-signal-safe system calls on data prepared before `fork` (no allocation, no
//! locks): the host is multi-threaded, and another thread may have held any lock at `fork`.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;

// Steps of the child's setup, reported on the pipe (`| WEAK` when skipped under
// `accept_weak_confinement`).
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
        _ => "an unknown step",
    }
}

/// `struct landlock_path_beneath_attr` of the kernel's UAPI (packed).
#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}
/// `LANDLOCK_RULE_PATH_BENEATH`.
const LANDLOCK_RULE_PATH_BENEATH: libc::c_int = 1;
/// `LANDLOCK_ACCESS_FS_WRITE_FILE | READ_FILE | READ_DIR` of the UAPI: the private `/proc`
/// (writing is for `/dev/stdout`-style paths through `/proc/self/fd`).
const PROC_ACCESS: u64 = (1 << 1) | (1 << 2) | (1 << 3);

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
    pub(super) userns: Option<UserNsMaps>,
    pub(super) ns_flags: libc::c_int,
    pub(super) loopback: bool,
    pub(super) rlimits: [(libc::__rlimit_resource_t, u64, u64); 6],
    /// (uid, gid) to switch to.
    pub(super) user: Option<(libc::uid_t, libc::gid_t)>,
    /// Drop every capability (root kept as root).
    pub(super) drop_caps: bool,
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

pub(super) fn child_setup(plan: &ChildPlan) -> io::Result<()> {
    // SAFETY (whole function): only async-signal-safe system calls on prepared data.
    unsafe {
        if libc::setsid() < 0 {
            return fail(plan, STEP_SETSID);
        }
        let mut namespaced = true;
        if let Some(maps) = &plan.userns {
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
        // A raw clone is fork without glibc's atfork handlers.
        let pid = libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_long, 0, 0, 0, 0);
        if pid < 0 {
            return fail(plan, STEP_FORK);
        }
        if pid > 0 {
            wait_and_exit(pid as libc::pid_t);
        }
        if plan.ruleset_fd >= 0 {
            // Without it, commands run with no /proc at all, which is stricter, not weaker.
            let _ = private_proc(plan.ruleset_fd);
        }
        if plan.loopback && !loopback_up() {
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
            // Only pipes: fchown of an inherited /dev/null would change the device node.
            for fd in 0..3 {
                let mut st: libc::stat = std::mem::zeroed();
                if libc::fstat(fd, &mut st) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFIFO {
                    libc::fchown(fd, uid, gid);
                }
            }
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0
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
        if plan.ruleset_fd >= 0
            && libc::syscall(libc::SYS_landlock_restrict_self, plan.ruleset_fd, 0) != 0
        {
            return fail(plan, STEP_LANDLOCK);
        }
        if pid_ns {
            // The command must not be the namespace's init: init ignores every signal it has
            // no handler for, so a script's `kill $$` would do nothing. This process stays
            // init, confined like the command, and exits with its status (which ends the
            // namespace and whatever the command left in it).
            let pid = libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_long, 0, 0, 0, 0);
            if pid < 0 {
                return fail(plan, STEP_FORK);
            }
            if pid > 0 {
                wait_and_exit(pid as libc::pid_t);
            }
        }
    }
    Ok(())
}

/// A waiting parent (the one left outside the PID namespace, and the namespace's init): closes
/// everything (the host's pipes, the spawn's error pipe, so the host sees the exec of the
/// command, not this process), waits for its child and exits with its status as a shell
/// reports it.
fn wait_and_exit(pid: libc::pid_t) -> ! {
    // SAFETY: close_range/close/waitpid/_exit are async-signal-safe.
    unsafe {
        if libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32) != 0 {
            for fd in 0..4096 {
                libc::close(fd);
            }
        }
        let mut status: libc::c_int = 0;
        loop {
            let r = libc::waitpid(pid, &mut status, 0);
            if r == pid {
                break;
            }
            if r < 0 && *libc::__errno_location() != libc::EINTR {
                libc::_exit(126);
            }
        }
        if libc::WIFEXITED(status) {
            libc::_exit(libc::WEXITSTATUS(status));
        }
        if libc::WIFSIGNALED(status) {
            libc::_exit(128 + libc::WTERMSIG(status));
        }
        libc::_exit(126)
    }
}

/// Mounts a `/proc` of the current PID namespace (mounts made private first, so nothing
/// propagates to the host) and lets the Landlock ruleset read it. Only the namespace's own
/// processes are visible in it.
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
                std::ptr::null(),
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
        let mut ok = libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) == 0;
        if ok {
            req.flags |= libc::IFF_UP as libc::c_short;
            ok = libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) == 0;
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
