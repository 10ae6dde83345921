//! The Landlock ruleset of one confined process tree: what it may read, write and execute.
//!
//! In: a [`Spec`]. Out: a ruleset file descriptor for the child (which adds one more rule, the
//! private `/proc`, after mounting it). Read and execute: the system program trees, a few
//! `/etc` files the loader needs, the granted directories and the named programs. Write: the
//! work directory (unless read-only), the temporary directory and the extra directories.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, Scope, ABI,
};

use super::Spec;
use crate::bridge::policy::{DirAccess, Network};

/// The Landlock ABI whose file-system rights are required (V5: refer, truncate, ioctl on
/// devices). Newer rights are not requested, so behaviour does not change with the kernel.
const LANDLOCK_FS_ABI: ABI = ABI::V5;
/// The Landlock ABI of the TCP rights (V4), handled when the network level is `none`.
const LANDLOCK_NET_ABI: ABI = ABI::V4;
/// The Landlock ABI of scoping (V6): no signals to, and no abstract UNIX sockets of,
/// processes outside the confined tree's domain.
const LANDLOCK_SCOPE_ABI: ABI = ABI::V6;

/// Directory trees confined code may read and execute: the programs and their libraries.
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
/// Files of `/etc` added when the network level is `loopback` or `host`: name resolution and
/// TLS roots.
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
/// Devices confined code may read and write.
pub const DEVICE_PATHS: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// Why the ruleset could not be made.
pub(super) enum RuleError {
    /// The kernel lacks a right (weak confinement may go on without it).
    Kernel(String),
    /// A granted directory is missing or cannot be opened (never weakened).
    Grant { path: PathBuf, why: String },
}

/// The Landlock ruleset, as a file descriptor for the child.
pub(super) fn landlock_ruleset(
    spec: &Spec<'_>,
    level: CompatLevel,
) -> Result<Option<OwnedFd>, RuleError> {
    let kernel = |e: &dyn std::fmt::Display| RuleError::Kernel(e.to_string());
    let fs_all = AccessFs::from_all(LANDLOCK_FS_ABI);
    let read_exec = AccessFs::from_read(LANDLOCK_FS_ABI);
    let device: BitFlags<AccessFs> = AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::IoctlDev;
    let mut ruleset = Ruleset::default()
        .set_compatibility(level)
        .handle_access(fs_all)
        .map_err(|e| kernel(&e))?;
    if spec.network == Network::None {
        // Defence in depth beside the empty network namespace: no TCP bind or connect at all.
        ruleset = ruleset
            .handle_access(AccessNet::from_all(LANDLOCK_NET_ABI))
            .map_err(|e| kernel(&e))?;
    }
    let mut created = ruleset
        .scope(Scope::from_all(LANDLOCK_SCOPE_ABI))
        .map_err(|e| kernel(&e))?
        .create()
        .map_err(|e| kernel(&e))?;

    let work_access = match spec.work_access {
        DirAccess::ReadWrite => fs_all,
        DirAccess::ReadOnly => read_exec,
    };
    let mut granted: Vec<(PathBuf, BitFlags<AccessFs>)> = vec![
        (spec.work_dir.to_path_buf(), work_access),
        (spec.temp_dir.to_path_buf(), fs_all),
    ];
    granted.extend(spec.extra_dirs.iter().map(|d| (d.clone(), fs_all)));
    let mut system: Vec<&str> = SYSTEM_EXEC_PATHS.to_vec();
    system.extend_from_slice(SYSTEM_ETC_PATHS);
    if spec.network != Network::None {
        system.extend_from_slice(NETWORK_ETC_PATHS);
    }
    let mut optional: Vec<(PathBuf, BitFlags<AccessFs>)> = system
        .iter()
        .map(|p| (PathBuf::from(p), read_exec))
        .collect();
    optional.extend(spec.extra_read.iter().map(|p| (p.clone(), read_exec)));
    optional.extend(DEVICE_PATHS.iter().map(|p| (PathBuf::from(p), device)));

    let required = granted.len();
    for (i, (path, access)) in granted.into_iter().chain(optional).enumerate() {
        let Ok(meta) = std::fs::metadata(&path) else {
            // System paths differ between distributions; a granted directory must exist.
            if i < required {
                return Err(RuleError::Grant {
                    path,
                    why: "missing".into(),
                });
            }
            continue;
        };
        let access = if meta.is_dir() {
            access
        } else {
            access & AccessFs::from_file(LANDLOCK_FS_ABI)
        };
        let fd = match PathFd::new(&path) {
            Ok(fd) => fd,
            Err(e) if i < required => {
                return Err(RuleError::Grant {
                    path,
                    why: e.to_string(),
                })
            }
            Err(_) => continue,
        };
        created = created
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|e| kernel(&format!("{}: {e}", path.display())))?;
    }
    Ok(created.into())
}
