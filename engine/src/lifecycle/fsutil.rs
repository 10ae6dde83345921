//! File-system helpers of the lifecycle: private temporary directories, handing folders to
//! the hook user, copying a project into a release without following symlinks.

use std::fs;
use std::io;
use std::os::unix::fs::{lchown, symlink, PermissionsExt};
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
        lchown(dir.path(), Some(ids.uid), Some(ids.gid))?;
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

/// Gives `path` and everything under it to `ids` (symlinks themselves, never their targets).
pub fn chown_tree(path: &Path, ids: HookIds) -> io::Result<()> {
    lchown(path, Some(ids.uid), Some(ids.gid))?;
    let meta = fs::symlink_metadata(path)?;
    if meta.is_dir() {
        for entry in fs::read_dir(path)? {
            chown_tree(&entry?.path(), ids)?;
        }
    }
    Ok(())
}

/// Copies the tree `from` into the new directory `to`: files with their permission bits,
/// symlinks as symlinks (never followed), directories recursively; `skip` names entries of
/// the top level left out (`.hookbox`). Sockets, fifos and devices are not copied.
pub fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> io::Result<()> {
    fs::create_dir(to)?;
    copy_dir_contents(from, to, skip)
}

fn copy_dir_contents(from: &Path, to: &Path, skip: &[&str]) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(from)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        let meta = fs::symlink_metadata(&src)?;
        let ft = meta.file_type();
        if ft.is_symlink() {
            symlink(fs::read_link(&src)?, &dst)?;
        } else if ft.is_dir() {
            fs::create_dir(&dst)?;
            copy_dir_contents(&src, &dst, &[])?;
            fs::set_permissions(&dst, fs::Permissions::from_mode(meta.permissions().mode()))?;
        } else if ft.is_file() {
            fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_keeps_symlinks_and_modes_and_skips() {
        let src = tempfile::tempdir().unwrap();
        let dst_root = tempfile::tempdir().unwrap();
        let s = src.path();
        fs::write(s.join("run.sh"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(s.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::create_dir(s.join(".hookbox")).unwrap();
        fs::create_dir_all(s.join(".git/refs")).unwrap();
        symlink("/etc/passwd", s.join("link")).unwrap();
        symlink("loop", s.join("loop")).unwrap();
        let d = dst_root.path().join("rel");
        copy_tree(s, &d, &[".hookbox"]).unwrap();
        assert!(!d.join(".hookbox").exists());
        assert!(d.join(".git/refs").is_dir());
        assert_eq!(
            fs::read_link(d.join("link")).unwrap(),
            Path::new("/etc/passwd")
        );
        assert_eq!(fs::read_link(d.join("loop")).unwrap(), Path::new("loop"));
        let mode = fs::metadata(d.join("run.sh")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
    }
}
