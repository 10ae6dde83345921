//! The deploy state folder `DIR/.hookbox/`: releases, the `current` symlink, `shared/`,
//! `logs/`, and the lock that keeps two deploys of one DIR apart.
//!
//! ```text
//! DIR/.hookbox/
//!   lock                 flock(2) held by the running deploy or rollback
//!   releases/<id>/       a copy of DIR without .hookbox/ (ids sort by time)
//!   current -> releases/<id>   switched atomically (temporary symlink + rename)
//!   shared/              persistent across releases
//!   logs/hooks.log       the hook log (root-owned when hookbox runs as root)
//!   app.json             the running "start" process (pid, release, command)
//! ```

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::symlink;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::deploy::DeployError;

/// Default number of releases kept (`--keep`).
pub const DEFAULT_KEEP_RELEASES: usize = 5;

/// Paths of a deploy state folder.
#[derive(Debug, Clone)]
pub struct Layout {
    pub dir: PathBuf,
    pub state: PathBuf,
    pub releases: PathBuf,
    pub current: PathBuf,
    pub shared: PathBuf,
    pub logs: PathBuf,
    pub lock: PathBuf,
    pub app: PathBuf,
}

impl Layout {
    /// The layout of project `dir` (nothing is created).
    pub fn of(dir: &Path) -> Self {
        let state = dir.join(".hookbox");
        Layout {
            dir: dir.to_path_buf(),
            releases: state.join("releases"),
            current: state.join("current"),
            shared: state.join("shared"),
            logs: state.join("logs"),
            lock: state.join("lock"),
            app: state.join("app.json"),
            state,
        }
    }

    /// Default hooks.log of deploys of this project.
    pub fn default_log(dir: &Path) -> PathBuf {
        Layout::of(dir).logs.join("hooks.log")
    }

    /// Creates the folders that must exist.
    pub fn create(&self) -> Result<(), DeployError> {
        for d in [&self.state, &self.releases, &self.shared, &self.logs] {
            fs::create_dir_all(d).map_err(|e| DeployError::io("create", d, e))?;
        }
        Ok(())
    }

    /// The directory of release `id`.
    pub fn release(&self, id: &str) -> PathBuf {
        self.releases.join(id)
    }

    /// The release `current` points at, if any.
    pub fn current_id(&self) -> Option<String> {
        let target = fs::read_link(&self.current).ok()?;
        let id = target.file_name()?.to_string_lossy().into_owned();
        self.release(&id).is_dir().then_some(id)
    }

    /// Release ids, oldest first.
    pub fn list(&self) -> Result<Vec<String>, DeployError> {
        let mut ids = Vec::new();
        let entries = match fs::read_dir(&self.releases) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(ids),
            Err(e) => return Err(DeployError::io("read", &self.releases, e)),
        };
        for entry in entries.flatten() {
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                ids.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        ids.sort();
        Ok(ids)
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

    /// Points `current` at release `id` atomically: a temporary symlink renamed over it.
    pub fn switch(&self, id: &str) -> Result<(), DeployError> {
        let tmp = self
            .state
            .join(format!(".current.tmp-{}", std::process::id()));
        let _ = fs::remove_file(&tmp);
        let target = Path::new("releases").join(id);
        symlink(&target, &tmp).map_err(|e| DeployError::io("create symlink", &tmp, e))?;
        fs::rename(&tmp, &self.current).map_err(|e| DeployError::io("switch", &self.current, e))
    }

    /// Removes the oldest releases beyond `keep`, never `current`. Returns the ids removed.
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
                let p = self.release(id);
                fs::remove_dir_all(&p).map_err(|e| DeployError::io("remove", &p, e))?;
                removed.push(id.clone());
            }
        }
        Ok(removed)
    }
}

/// The lock of a deploy state folder, held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Takes the lock, or fails at once when another deploy or rollback holds it (a second
    /// deploy must not wait behind a hung one without the user knowing).
    pub fn acquire(layout: &Layout) -> Result<Lock, DeployError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&layout.lock)
            .map_err(|e| DeployError::io("open", &layout.lock, e))?;
        // SAFETY: flock on a file descriptor we own; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(DeployError::Busy {
                    lock: layout.lock.clone(),
                });
            }
            return Err(DeployError::io("lock", &layout.lock, err));
        }
        Ok(Lock { _file: file })
    }
}
