//! The hook uid registry: which uid of the operator's range ([`HookUids`]) each tenant (or
//! each running run) has.
//!
//! Data enters as the range and a tenant name; it leaves as a [`UidLease`] whose
//! [`UidLease::run_as`] is the `UID:GID` the runners switch to. Per tenant, the registry
//! directory holds one file, `tenants`, of `NAME UID` lines, appended under an exclusive
//! `flock` so two hookbox processes never give one uid to two tenants; an assignment is never
//! changed or reused. Per run, a uid is held by an `flock` on `run-UID.lock` for as long as
//! the lease lives (the kernel drops it when the process dies).
//!
//! The directory is the operator's: created mode 0700, refused when it is a symlink, not owned
//! by hookbox's user, or writable by anyone else; files are opened without following symlinks.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

use super::{HookUids, PlatformError, UidPer};

/// Name of the per-tenant assignment file inside the registry directory.
const TENANTS_FILE: &str = "tenants";

/// A hook uid, held for the run.
#[derive(Debug)]
pub struct UidLease {
    pub uid: u32,
    pub gid: u32,
    /// Per run: the locked file that keeps the uid ours until dropped.
    _lock: Option<File>,
}

impl UidLease {
    /// The `run_as` value for [`crate::bridge::policy::Policy`] (`UID:GID`).
    pub fn run_as(&self) -> String {
        format!("{}:{}", self.uid, self.gid)
    }
}

fn err(path: &Path, message: impl Into<String>) -> PlatformError {
    PlatformError::Registry {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Makes (or checks) the registry directory: a real directory owned by us, mode 0700-ish.
fn registry_dir(dir: &Path) -> Result<(), PlatformError> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(dir)
                .map_err(|e| err(dir, format!("cannot be created: {e}")))?;
        }
        Err(e) => return Err(err(dir, format!("cannot be read: {e}"))),
        Ok(_) => {}
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|e| err(dir, e.to_string()))?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(err(dir, "is not a directory (a symlink is refused)"));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != euid {
        return Err(err(
            dir,
            format!(
                "is owned by uid {}, not by hookbox's user ({euid})",
                meta.uid()
            ),
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(err(
            dir,
            format!(
                "is writable by others (mode {:o}): chmod 700 it",
                meta.mode() & 0o7777
            ),
        ));
    }
    Ok(())
}

fn open_no_follow(path: &Path, create: bool) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(create)
        .create(create)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

fn parse_tenants(text: &str) -> Vec<(String, u32)> {
    text.lines()
        .filter_map(|l| {
            let (name, uid) = l.split_once(' ')?;
            Some((name.to_string(), uid.trim().parse().ok()?))
        })
        .collect()
}

fn gid_of(range: &HookUids, uid: u32) -> u32 {
    range.gid.unwrap_or(uid)
}

/// The tenant's uid (recorded, or recorded now), or a free one for this run.
pub(super) fn assign(
    range: &HookUids,
    tenant: &str,
    file: Option<&Path>,
) -> Result<UidLease, PlatformError> {
    registry_dir(&range.registry)?;
    let end = u64::from(range.first) + u64::from(range.count);
    let full = || PlatformError::RangeFull {
        first: range.first,
        count: range.count,
        file: file.map(Path::to_path_buf),
    };
    match range.per {
        UidPer::Tenant => {
            let path = range.registry.join(TENANTS_FILE);
            let mut f = open_no_follow(&path, true)
                .map_err(|e| err(&path, format!("cannot be opened: {e}")))?;
            flock(&f, FlockOperation::LockExclusive)
                .map_err(|e| err(&path, format!("cannot be locked: {e}")))?;
            let mut text = String::new();
            f.read_to_string(&mut text)
                .map_err(|e| err(&path, format!("cannot be read: {e}")))?;
            let known = parse_tenants(&text);
            if let Some((_, uid)) = known.iter().find(|(n, _)| n == tenant) {
                return Ok(UidLease {
                    uid: *uid,
                    gid: gid_of(range, *uid),
                    _lock: None,
                });
            }
            let taken: std::collections::BTreeSet<u32> = known.iter().map(|(_, u)| *u).collect();
            let uid = (u64::from(range.first)..end)
                .map(|u| u as u32)
                .find(|u| !taken.contains(u))
                .ok_or_else(full)?;
            f.seek(SeekFrom::End(0))
                .and_then(|_| {
                    let sep = if text.is_empty() || text.ends_with('\n') {
                        ""
                    } else {
                        "\n"
                    };
                    f.write_all(format!("{sep}{tenant} {uid}\n").as_bytes())
                })
                .and_then(|()| f.sync_all())
                .map_err(|e| err(&path, format!("cannot be written: {e}")))?;
            Ok(UidLease {
                uid,
                gid: gid_of(range, uid),
                _lock: None,
            })
        }
        UidPer::Run => {
            for uid in (u64::from(range.first)..end).map(|u| u as u32) {
                let path = range.registry.join(format!("run-{uid}.lock"));
                let f = open_no_follow(&path, true)
                    .map_err(|e| err(&path, format!("cannot be opened: {e}")))?;
                if flock(&f, FlockOperation::NonBlockingLockExclusive).is_ok() {
                    return Ok(UidLease {
                        uid,
                        gid: gid_of(range, uid),
                        _lock: Some(f),
                    });
                }
            }
            Err(full())
        }
    }
}

/// The tenant's recorded uid, without creating or locking anything.
pub(super) fn recorded(range: &HookUids, tenant: &str) -> Option<u32> {
    if range.per != UidPer::Tenant {
        return None;
    }
    let path: PathBuf = range.registry.join(TENANTS_FILE);
    let mut text = String::new();
    open_no_follow(&path, false)
        .ok()?
        .read_to_string(&mut text)
        .ok()?;
    parse_tenants(&text)
        .into_iter()
        .find(|(n, _)| n == tenant)
        .map(|(_, u)| u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(dir: &Path, per: UidPer, count: u32) -> HookUids {
        HookUids {
            first: 300_000,
            count,
            gid: None,
            per,
            registry: dir.join("reg"),
        }
    }

    #[test]
    fn tenants_keep_their_own_uid_and_the_range_can_fill() {
        let tmp = tempfile::tempdir().unwrap();
        let r = range(tmp.path(), UidPer::Tenant, 2);
        let a = assign(&r, "a", None).unwrap().uid;
        let b = assign(&r, "b", None).unwrap().uid;
        assert_ne!(a, b);
        assert_eq!(assign(&r, "a", None).unwrap().uid, a);
        assert_eq!(recorded(&r, "b"), Some(b));
        assert!(matches!(
            assign(&r, "c", None),
            Err(PlatformError::RangeFull { .. })
        ));
    }

    #[test]
    fn a_run_uid_is_held_while_the_lease_lives() {
        let tmp = tempfile::tempdir().unwrap();
        let r = range(tmp.path(), UidPer::Run, 2);
        let one = assign(&r, "a", None).unwrap();
        let two = assign(&r, "a", None).unwrap();
        assert_ne!(one.uid, two.uid);
        assert!(assign(&r, "a", None).is_err());
        drop(one);
        assert!(assign(&r, "a", None).is_ok());
    }

    #[test]
    fn a_symlinked_registry_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(tmp.path(), tmp.path().join("reg")).unwrap();
        let r = range(tmp.path(), UidPer::Tenant, 2);
        assert!(matches!(
            assign(&r, "a", None),
            Err(PlatformError::Registry { .. })
        ));
    }
}
