//! The deploy state folder: owned by hookbox, outside everything a tenant can write.
//!
//! ```text
//! STATE/                      mode 0711, hookbox's user; never group- or other-writable
//!   lock                      flock(2) held by the running deploy, rollback or stop (0600)
//!   releases/                 0711
//!     <id>/                   0700, the hook user: a copy of DIR without `.hookbox/` and
//!                             the paths `.hookboxignore` names (ids sort by time)
//!   current -> releases/<id>  switched atomically (a new symlink renamed over it)
//!   shared/                   0700, the hook user: persistent across releases
//!   logs/                     0700: hooks.log (deploy's default), app.log
//!   records/                  0700: <id>.json, what the deploy of <id> recorded (start
//!                             command, its environment, user, policy, status)
//!   app.json                  0600: the running "start" process (pid, start time, uid)
//! ```
//!
//! STATE is chosen by the caller (the CLI: `--state-dir`, else `/var/lib/hookbox/deploys/
//! <name>` as root, `$XDG_STATE_HOME/hookbox/deploys/<name>` otherwise, <name> from
//! [`state_name`]). [`StateDir`] holds a handle of it; every operation inside goes through
//! [`super::safefs`] (relative to handles, no-follow), and a folder it did not make itself or
//! that others could write is refused. Nothing in a project's own `.hookbox/` is ever read.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rustix::fs::OFlags;
use serde::{Deserialize, Serialize};

use super::deploy::DeployError;
use super::{safefs, HookIds};

/// Default number of releases kept (`--keep`).
pub const DEFAULT_KEEP_RELEASES: usize = 5;

/// Longest project-name part of a state folder's name (the rest is a hash): 40 bytes.
pub const MAX_STATE_NAME_BYTES: usize = 40;

/// The name of the state folder of the project at `canonical` (its canonical path): the last
/// component, made of `[A-Za-z0-9._-]`, then `-` and 12 hex digits of the path's sha256, so
/// names are readable and two projects never share one.
pub fn state_name(canonical: &Path) -> String {
    use sha2::{Digest, Sha256};
    let last = canonical
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut readable: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    readable.truncate(MAX_STATE_NAME_BYTES);
    let readable = readable.trim_start_matches('.');
    let readable = if readable.is_empty() {
        "root"
    } else {
        readable
    };
    let digest = Sha256::digest(canonical.as_os_str().as_bytes());
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{readable}-{hex}")
}

/// What the deploy of one release recorded, in `records/<id>.json` (root-owned, 0600): all a
/// rollback or a restart of that release uses, never a file of the release (which the hook
/// user owns and a hook can rewrite).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRecord {
    pub id: String,
    /// The project directory deployed.
    pub project: PathBuf,
    /// When the deploy started (RFC 3339, UTC).
    pub deployed_at: String,
    /// The deploy's status (`deploying` until it ends).
    pub status: String,
    /// The work directory of hooks and of `start` (the release, or its PROJECT_PATH folder).
    pub work_dir: PathBuf,
    /// `[deploy] start`, if any.
    pub start: Option<String>,
    /// The environment `start` got (without `HOME`/`TMPDIR`, which are per run). Holds the
    /// application's secrets: the record is readable by hookbox's user only.
    pub start_env: std::collections::BTreeMap<String, String>,
    /// The user hooks and `start` ran as (`None`: hookbox's own user).
    pub user: Option<HookIds>,
    /// The project's policy at deploy time.
    pub policy: crate::bridge::policy::Policy,
}

/// Why a state folder is refused.
fn unsafe_dir(path: &Path, why: String) -> DeployError {
    DeployError::UnsafeState {
        path: path.to_path_buf(),
        why,
    }
}

fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Refuses a folder hookbox keeps state in unless hookbox's user owns it and nobody else can
/// write it.
fn check_owned(fd: BorrowedFd<'_>, path: &Path) -> Result<(), DeployError> {
    let (uid, _, mode) =
        safefs::owner_and_mode(fd).map_err(|e| DeployError::io("inspect", path, e))?;
    let me = euid();
    if uid != me {
        return Err(unsafe_dir(
            path,
            format!("it is owned by uid {uid}, not by hookbox's uid {me}"),
        ));
    }
    if mode & 0o022 != 0 {
        return Err(unsafe_dir(
            path,
            format!("group or others may write it (mode {mode:o})"),
        ));
    }
    Ok(())
}

/// An open deploy state folder (see the module doc).
#[derive(Debug)]
pub struct StateDir {
    path: PathBuf,
    fd: OwnedFd,
    releases: OwnedFd,
    logs: OwnedFd,
    records: OwnedFd,
}

impl StateDir {
    /// Opens the state folder at the absolute `path`, creating it (and missing parents, mode
    /// 0755) when needed, with its `releases/`, `logs/`, `records/` and `shared/`. `shared/` is
    /// given to `hook_user` (through its handle; its contents too when it had another owner).
    pub fn create(path: &Path, hook_user: Option<HookIds>) -> Result<StateDir, DeployError> {
        let fd = open_or_make(path)?;
        let sub = |name: &str, mode: u32| -> Result<OwnedFd, DeployError> {
            let p = path.join(name);
            let (d, _) = safefs::ensure_dir_at(fd.as_fd(), name, mode)
                .map_err(|e| DeployError::io("create", &p, e))?;
            check_owned(d.as_fd(), &p)?;
            Ok(d)
        };
        let releases = sub("releases", 0o711)?;
        let logs = sub("logs", 0o700)?;
        let records = sub("records", 0o700)?;
        let shared_path = path.join("shared");
        let (shared, created) = safefs::ensure_dir_at(fd.as_fd(), "shared", 0o700)
            .map_err(|e| DeployError::io("create", &shared_path, e))?;
        let (owner, _, _) = safefs::owner_and_mode(shared.as_fd())
            .map_err(|e| DeployError::io("inspect", &shared_path, e))?;
        let want = hook_user.map(|i| i.uid).unwrap_or_else(euid);
        if owner != want {
            let ids = hook_user.unwrap_or(HookIds {
                uid: euid(),
                gid: rustix::process::getegid().as_raw(),
            });
            let r = if created {
                safefs::chown_fd(shared.as_fd(), ids)
            } else {
                // The hook user changed: the data moves to the new one, walked by handles.
                safefs::chown_tree(shared.as_fd(), ids)
            };
            r.map_err(|e| DeployError::io("hand over", &shared_path, e))?;
        }
        Ok(StateDir {
            path: path.to_path_buf(),
            fd,
            releases,
            logs,
            records,
        })
    }

    /// Opens an existing state folder (for rollback, status, logs, stop); `None` when there
    /// is none at `path` (the project was never deployed there).
    pub fn open(path: &Path) -> Result<Option<StateDir>, DeployError> {
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DeployError::io("inspect", path, e)),
            Ok(_) => {}
        }
        let fd = open_last_nofollow(path)?;
        check_owned(fd.as_fd(), path)?;
        let sub = |name: &str| -> Result<OwnedFd, DeployError> {
            let p = path.join(name);
            let d = safefs::open_dir_at(fd.as_fd(), name)
                .map_err(|e| DeployError::io("open", &p, e))?;
            check_owned(d.as_fd(), &p)?;
            Ok(d)
        };
        let releases = sub("releases")?;
        let logs = sub("logs")?;
        let records = sub("records")?;
        Ok(Some(StateDir {
            path: path.to_path_buf(),
            fd,
            releases,
            logs,
            records,
        }))
    }

    /// The state folder's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The directory of release `id`.
    pub fn release(&self, id: &str) -> PathBuf {
        self.path.join("releases").join(id)
    }

    /// `releases/`.
    pub fn releases_path(&self) -> PathBuf {
        self.path.join("releases")
    }

    /// `shared/`.
    pub fn shared(&self) -> PathBuf {
        self.path.join("shared")
    }

    /// The path of log `name` (`hooks.log`, `app.log`).
    pub fn log_path(&self, name: &str) -> PathBuf {
        self.path.join("logs").join(name)
    }

    /// Opens log `name` for appending (created 0600), no-follow.
    pub fn open_log(&self, name: &str) -> Result<File, DeployError> {
        safefs::append_file_at(self.logs.as_fd(), name, 0o600)
            .map_err(|e| DeployError::io("open", &self.log_path(name), e))
    }

    /// Opens log `name` for reading, no-follow; `None` when it does not exist yet.
    pub fn read_log(&self, name: &str) -> Result<Option<File>, DeployError> {
        match safefs::open_file_at(self.logs.as_fd(), name, OFlags::RDONLY, 0) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DeployError::io("open", &self.log_path(name), e)),
        }
    }

    /// Takes the lock, or fails at once when another deploy, rollback or stop holds it (a
    /// second deploy must not wait behind a hung one without the user knowing).
    pub fn lock(&self) -> Result<Lock, DeployError> {
        let path = self.path.join("lock");
        let file = safefs::open_file_at(self.fd(), "lock", OFlags::RDWR | OFlags::CREATE, 0o600)
            .map_err(|e| DeployError::io("open", &path, e))?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Lock { _file: file }),
            Err(rustix::io::Errno::WOULDBLOCK) => Err(DeployError::Busy { lock: path }),
            Err(e) => Err(DeployError::io("lock", &path, e.into())),
        }
    }

    /// Release ids, oldest first.
    pub fn list(&self) -> Result<Vec<String>, DeployError> {
        let names = safefs::list_dir(self.releases.as_fd())
            .map_err(|e| DeployError::io("read", &self.releases_path(), e))?;
        Ok(names
            .into_iter()
            .filter_map(|n| n.into_string().ok())
            .filter(|n| !n.starts_with('.') && safefs::is_dir_at(self.releases.as_fd(), n))
            .collect())
    }

    /// A new, unused release id (UTC time of the deploy, so ids sort by time).
    pub fn new_id(&self) -> Result<String, DeployError> {
        let base = crate::events::time::compact(SystemTime::now());
        let existing = self.list()?;
        let mut id = base.clone();
        let mut n = 1;
        while existing.contains(&id) {
            n += 1;
            id = format!("{base}-{n:03}");
        }
        Ok(id)
    }

    /// The release `current` points at, if it exists.
    pub fn current_id(&self) -> Option<String> {
        let target = safefs::read_link_at(self.fd(), "current").ok()??;
        let mut parts = target.components();
        let first = parts.next()?;
        let id = parts.next()?.as_os_str().to_str()?.to_string();
        if first.as_os_str() != OsStr::new("releases") || parts.next().is_some() {
            return None;
        }
        (safefs::component(&id).is_ok() && safefs::is_dir_at(self.releases.as_fd(), &id))
            .then_some(id)
    }

    /// Points `current` at release `id` atomically.
    pub fn switch(&self, id: &str) -> Result<(), DeployError> {
        let target = Path::new("releases").join(
            safefs::component(id)
                .map_err(|e| DeployError::io("switch", &self.path.join("current"), e))?,
        );
        safefs::replace_symlink_at(self.fd(), "current", &target)
            .map_err(|e| DeployError::io("switch", &self.path.join("current"), e))
    }

    /// Copies the project at `src` into the new release `id`, given to `owner`: made
    /// root-only (0700, hookbox's user) while it is filled, so no one else can enter it
    /// before it is complete, then handed over. `skip` leaves paths out (see
    /// [`super::copyfilter`]). On error nothing of the release is left.
    pub fn create_release(
        &self,
        id: &str,
        src: &Path,
        skip: safefs::SkipFn<'_>,
        owner: Option<HookIds>,
    ) -> Result<PathBuf, DeployError> {
        let dir = self.release(id);
        let made = self.fill_release(id, src, skip, owner);
        match made {
            Ok(()) => Ok(dir),
            Err(e) => {
                let _ = safefs::remove_tree_at(self.releases.as_fd(), id);
                Err(DeployError::io("copy the project into", &dir, e))
            }
        }
    }

    fn fill_release(
        &self,
        id: &str,
        src: &Path,
        skip: safefs::SkipFn<'_>,
        owner: Option<HookIds>,
    ) -> io::Result<()> {
        let src_fd = safefs::open_dir_path(src)?;
        let id = safefs::component(id)?;
        rustix::fs::mkdirat(
            self.releases.as_fd(),
            id,
            rustix::fs::Mode::from_raw_mode(0o700),
        )?;
        let dst = safefs::open_dir_at(self.releases.as_fd(), id)?;
        safefs::copy_tree(src_fd.as_fd(), dst.as_fd(), skip, owner)?;
        if let Some(ids) = owner {
            safefs::chown_fd(dst.as_fd(), ids)?;
        }
        safefs::chmod_fd(dst.as_fd(), 0o700)
    }

    /// Removes release `id` and its record (walking handles: the hook user owns what is in
    /// it and may be changing it).
    pub fn remove_release(&self, id: &str) -> Result<(), DeployError> {
        let dir = self.release(id);
        safefs::remove_tree_at(self.releases.as_fd(), id)
            .map_err(|e| DeployError::io("remove", &dir, e))?;
        let record = format!("{id}.json");
        safefs::remove_file_at(self.records.as_fd(), &record)
            .map_err(|e| DeployError::io("remove", &self.path.join("records").join(&record), e))
    }

    /// Removes the oldest releases beyond `keep` (at least 1), never `current`. Returns the
    /// ids removed.
    pub fn prune(&self, keep: usize) -> Result<Vec<String>, DeployError> {
        let ids = self.list()?;
        let current = self.current_id();
        let keep = keep.max(1);
        let mut removed = Vec::new();
        if ids.len() > keep {
            for id in &ids[..ids.len() - keep] {
                if Some(id) == current.as_ref() {
                    continue;
                }
                self.remove_release(id)?;
                removed.push(id.clone());
            }
        }
        Ok(removed)
    }

    /// Writes the record of a release.
    pub fn write_record(&self, record: &ReleaseRecord) -> Result<(), DeployError> {
        let name = format!("{}.json", record.id);
        let path = self.path.join("records").join(&name);
        let text = serde_json::to_vec_pretty(record)
            .map_err(|e| DeployError::io("write", &path, io::Error::other(e)))?;
        safefs::write_file_atomic(self.records.as_fd(), &name, &text, 0o600)
            .map_err(|e| DeployError::io("write", &path, e))
    }

    /// The record of release `id`, `None` when there is none.
    pub fn record(&self, id: &str) -> Result<Option<ReleaseRecord>, DeployError> {
        let name = format!("{id}.json");
        let path = self.path.join("records").join(&name);
        let Some(data) = safefs::read_file_at(self.records.as_fd(), &name)
            .map_err(|e| DeployError::io("read", &path, e))?
        else {
            return Ok(None);
        };
        serde_json::from_slice(&data)
            .map(Some)
            .map_err(|e| DeployError::io("read", &path, io::Error::other(e)))
    }
}

/// Opens the last component of `path` without following it (its parents are the operator's).
fn open_last_nofollow(path: &Path) -> Result<OwnedFd, DeployError> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name().and_then(OsStr::to_str))
    else {
        return Err(unsafe_dir(path, "it is not a folder below /".into()));
    };
    let p = safefs::open_dir_path(parent).map_err(|e| DeployError::io("open", parent, e))?;
    safefs::open_dir_at(p.as_fd(), name).map_err(|e| DeployError::io("open", path, e))
}

/// Opens the state folder, making it and its missing parents (each checked as it is made).
fn open_or_make(path: &Path) -> Result<OwnedFd, DeployError> {
    if !path.is_absolute() {
        return Err(unsafe_dir(
            path,
            "it is not an absolute path (give --state-dir as /…)".into(),
        ));
    }
    let mut missing: Vec<&str> = Vec::new();
    let mut existing = path;
    loop {
        match std::fs::symlink_metadata(existing) {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let name = existing
                    .file_name()
                    .and_then(OsStr::to_str)
                    .ok_or_else(|| unsafe_dir(path, "its name is not UTF-8".into()))?;
                missing.push(name);
                existing = existing
                    .parent()
                    .ok_or_else(|| unsafe_dir(path, "no parent exists".into()))?;
            }
            Err(e) => return Err(DeployError::io("inspect", existing, e)),
        }
    }
    if missing.is_empty() {
        let fd = open_last_nofollow(path)?;
        check_owned(fd.as_fd(), path)?;
        return Ok(fd);
    }
    let mut fd =
        safefs::open_dir_path(existing).map_err(|e| DeployError::io("open", existing, e))?;
    let mut at = existing.to_path_buf();
    while let Some(name) = missing.pop() {
        at.push(name);
        // Parents stay enterable (the hook user walks through them to its release); the
        // state folder itself lists its entries to hookbox only.
        let mode = if missing.is_empty() { 0o711 } else { 0o755 };
        let (sub, _) = safefs::ensure_dir_at(fd.as_fd(), name, mode)
            .map_err(|e| DeployError::io("create", &at, e))?;
        check_owned(sub.as_fd(), &at)?;
        fd = sub;
    }
    Ok(fd)
}

/// The lock of a deploy state folder, held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn state_names_are_readable_and_unique() {
        let a = state_name(Path::new("/srv/apps/shop"));
        let b = state_name(Path::new("/home/x/shop"));
        assert!(a.starts_with("shop-") && b.starts_with("shop-"), "{a} {b}");
        assert_ne!(a, b);
        assert_eq!(a.len(), "shop-".len() + 12);
        assert!(state_name(Path::new("/")).starts_with("root-"));
        assert!(state_name(Path::new("/srv/../x y")).starts_with("x_y-"));
        assert!(!state_name(Path::new("/srv/..hidden")).starts_with('.'));
    }

    #[test]
    fn a_state_folder_others_can_write_is_refused() {
        let base = tempfile::tempdir().unwrap();
        let open = base.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = StateDir::create(&open, None).unwrap_err().to_string();
        assert!(err.contains("group or others may write it"), "{err}");
        let link = base.path().join("link");
        std::os::unix::fs::symlink(base.path(), &link).unwrap();
        assert!(
            StateDir::create(&link, None).is_err(),
            "a symlink is refused"
        );
        let made = base.path().join("a/b/state");
        let s = StateDir::create(&made, None).unwrap();
        assert!(s.list().unwrap().is_empty());
        assert_eq!(s.current_id(), None);
        let mode = std::fs::metadata(&made).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o711);
        assert!(StateDir::open(&made).unwrap().is_some());
        assert!(StateDir::open(&base.path().join("none")).unwrap().is_none());
    }
}
