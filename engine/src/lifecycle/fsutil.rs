//! File-system helpers of the lifecycle: private temporary directories and what the hook
//! user can reach. Everything done inside the deploy state folder and releases is in
//! [`super::safefs`] (handles, no-follow).

use std::fs;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::HookIds;

/// A new directory under `root`, mode 0700, owned by the hook user when one is given; removed
/// when the returned value is dropped.
pub(super) fn private_temp_dir(
    root: &Path,
    prefix: &str,
    user: Option<HookIds>,
) -> io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(root)?;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700))?;
    if let Some(ids) = user {
        let fd = super::safefs::open_dir_path(dir.path())?;
        super::safefs::chown_fd(fd.as_fd(), ids)?;
    }
    Ok(dir)
}

/// Whether the user `ids` may create files in the directory `path` (by its mode bits).
pub(super) fn writable_by(path: &Path, ids: HookIds) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    let mode = meta.mode();
    if meta.uid() == ids.uid {
        mode & 0o300 == 0o300
    } else if meta.gid() == ids.gid {
        mode & 0o030 == 0o030
    } else {
        mode & 0o003 == 0o003
    }
}

/// The first directory on the way to `path` (itself included) that the user `ids` cannot
/// enter, with its mode; `None` when every one of them lets it through.
pub(super) fn unreachable_for(path: &Path, ids: HookIds) -> Option<(std::path::PathBuf, u32)> {
    use std::os::unix::fs::MetadataExt;
    for dir in path.ancestors().collect::<Vec<_>>().into_iter().rev() {
        let Ok(meta) = fs::metadata(dir) else {
            continue;
        };
        let mode = meta.mode();
        let ok = if meta.uid() == ids.uid {
            mode & 0o100 != 0
        } else if meta.gid() == ids.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !ok {
            return Some((dir.to_path_buf(), mode & 0o7777));
        }
    }
    None
}
