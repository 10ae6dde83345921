//! Symlink-safe file operations for the deploy state folder and its releases.
//!
//! hookbox runs as root on platforms, and the trees it copies, hands over and removes hold
//! entries that a tenant (the project's files, a hook, a running application) can create or
//! swap while hookbox works on them. So nothing here takes a path below a directory handle:
//! every entry is opened relative to a handle of its parent, with `O_NOFOLLOW`; ownership is
//! changed on an open handle (`fchown`) or with `AT_SYMLINK_NOFOLLOW`; trees are copied,
//! chowned and removed by walking handles. A symlink where a directory or file is expected
//! is refused (`ELOOP`), never followed; in a copy, a symlink is copied as a symlink.
//!
//! In: directory handles ([`OwnedFd`]) and single path components. Out: handles, files and
//! `io::Error`s; callers attach the path for their messages.

use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, AtFlags, FileType, Gid, Mode, OFlags, Uid};

use super::HookIds;

/// Deepest directory nesting copied, chowned or removed: 256 levels. A deeper tree is an
/// error, not a partial copy; the limit keeps the walk (two open handles per level) far from
/// the process's descriptor limit.
pub const MAX_TREE_DEPTH: usize = 256;

/// Largest state file read (`app.json`, a release record): 1 MiB. Bigger is an error.
pub const MAX_STATE_FILE_BYTES: u64 = 1024 * 1024;

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// `name` as one path component: not empty, no `/`, not `.` or `..`.
pub fn component(name: &str) -> io::Result<&str> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(invalid(format!("{name:?} is not a plain file name")));
    }
    Ok(name)
}

/// Opens the directory `path` (an operator-given absolute path; symlinks in it are resolved
/// like any path the operator names, the last component included).
pub fn open_dir_path(path: &Path) -> io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    Ok(rfs::openat(rfs::CWD, path, flags, Mode::empty())?)
}

/// Opens the directory `name` of `dir`, refusing a symlink.
pub fn open_dir_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<OwnedFd> {
    Ok(rfs::openat(
        dir,
        component(name)?,
        DIR_FLAGS,
        Mode::empty(),
    )?)
}

/// Opens the directory `name` of `dir`, creating it with `mode` when missing. Returns the
/// handle and whether it was created. A symlink in its place is refused.
pub fn ensure_dir_at(dir: BorrowedFd<'_>, name: &str, mode: u32) -> io::Result<(OwnedFd, bool)> {
    let name = component(name)?;
    let created = match rfs::mkdirat(dir, name, Mode::from_raw_mode(0o700)) {
        Ok(()) => true,
        Err(rustix::io::Errno::EXIST) => false,
        Err(e) => return Err(e.into()),
    };
    let fd = rfs::openat(dir, name, DIR_FLAGS, Mode::empty())?;
    if created {
        // The umask must not decide the mode of state folders.
        rfs::fchmod(&fd, Mode::from_raw_mode(mode))?;
    }
    Ok((fd, created))
}

/// Owner, group and mode bits of an open handle.
pub fn owner_and_mode(fd: BorrowedFd<'_>) -> io::Result<(u32, u32, u32)> {
    let st = rfs::fstat(fd)?;
    Ok((st.st_uid, st.st_gid, st.st_mode & 0o7777))
}

/// Changes the owner of an open handle.
pub fn chown_fd(fd: BorrowedFd<'_>, ids: HookIds) -> io::Result<()> {
    Ok(rfs::fchown(
        fd,
        Some(Uid::from_raw(ids.uid)),
        Some(Gid::from_raw(ids.gid)),
    )?)
}

/// Sets the mode bits of an open handle.
pub fn chmod_fd(fd: BorrowedFd<'_>, mode: u32) -> io::Result<()> {
    Ok(rfs::fchmod(fd, Mode::from_raw_mode(mode))?)
}

/// Whether `name` exists in `dir` (as anything, a symlink included; never followed).
pub fn exists_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<bool> {
    match rfs::statat(dir, component(name)?, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(_) => Ok(true),
        Err(rustix::io::Errno::NOENT) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether `name` in `dir` is a directory (not a symlink to one).
pub fn is_dir_at(dir: BorrowedFd<'_>, name: &str) -> bool {
    component(name).is_ok_and(|n| {
        rfs::statat(dir, n, AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Directory)
    })
}

/// Opens the regular file `name` of `dir` with `flags` (plus `O_NOFOLLOW`, `O_CLOEXEC`),
/// creating it with `mode` when `flags` has `O_CREAT`. A symlink or a non-regular file in
/// its place is refused.
pub fn open_file_at(dir: BorrowedFd<'_>, name: &str, flags: OFlags, mode: u32) -> io::Result<File> {
    // O_NONBLOCK: a fifo planted in the file's place must not hang the open.
    let fd = rfs::openat(
        dir,
        component(name)?,
        flags | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::from_raw_mode(mode),
    )?;
    let st = rfs::fstat(&fd)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(invalid(format!("{name} is not a regular file")));
    }
    let flags_now = rustix::fs::fcntl_getfl(&fd)?;
    rustix::fs::fcntl_setfl(&fd, flags_now - OFlags::NONBLOCK)?;
    Ok(File::from(fd))
}

/// Opens `name` of `dir` for appending (created with `mode` when missing), no-follow.
pub fn append_file_at(dir: BorrowedFd<'_>, name: &str, mode: u32) -> io::Result<File> {
    open_file_at(
        dir,
        name,
        OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE,
        mode,
    )
}

/// Reads the regular file `name` of `dir` (at most [`MAX_STATE_FILE_BYTES`]); `None` when it
/// does not exist.
pub fn read_file_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<Option<Vec<u8>>> {
    let mut file = match open_file_at(dir, name, OFlags::RDONLY, 0) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut data = Vec::new();
    (&mut file)
        .take(MAX_STATE_FILE_BYTES + 1)
        .read_to_end(&mut data)?;
    if data.len() as u64 > MAX_STATE_FILE_BYTES {
        return Err(invalid(format!(
            "{name} is larger than {MAX_STATE_FILE_BYTES} bytes"
        )));
    }
    Ok(Some(data))
}

/// Replaces `name` of `dir` with `data` atomically (a new file renamed over it), mode `mode`.
pub fn write_file_atomic(
    dir: BorrowedFd<'_>,
    name: &str,
    data: &[u8],
    mode: u32,
) -> io::Result<()> {
    let name = component(name)?;
    let tmp = format!(".{name}.tmp-{}", std::process::id());
    let _ = rfs::unlinkat(dir, tmp.as_str(), AtFlags::empty());
    let mut file = open_file_at(
        dir,
        &tmp,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL,
        mode,
    )?;
    let written = file.write_all(data).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = rfs::unlinkat(dir, tmp.as_str(), AtFlags::empty());
        return Err(e);
    }
    Ok(rfs::renameat(dir, tmp.as_str(), dir, name)?)
}

/// Removes the file or symlink `name` of `dir` (never what a symlink points at); a missing
/// entry is not an error.
pub fn remove_file_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    match rfs::unlinkat(dir, component(name)?, AtFlags::empty()) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The target of the symlink `name` of `dir`, `None` when there is no entry.
pub fn read_link_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<Option<PathBuf>> {
    match rfs::readlinkat(dir, component(name)?, Vec::new()) {
        Ok(target) => Ok(Some(PathBuf::from(OsStr::from_bytes(target.as_bytes())))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Points the symlink `name` of `dir` at `target`, atomically replacing what was there (a new
/// symlink renamed over it: readers see the old target or the new one, never neither).
pub fn replace_symlink_at(dir: BorrowedFd<'_>, name: &str, target: &Path) -> io::Result<()> {
    let name = component(name)?;
    let tmp = format!(".{name}.tmp-{}", std::process::id());
    let _ = rfs::unlinkat(dir, tmp.as_str(), AtFlags::empty());
    rfs::symlinkat(target, dir, tmp.as_str())?;
    Ok(rfs::renameat(dir, tmp.as_str(), dir, name)?)
}

/// Names in the directory `dir`, sorted by bytes (`.` and `..` left out).
pub fn list_dir(dir: BorrowedFd<'_>) -> io::Result<Vec<CString>> {
    let mut names = Vec::new();
    for entry in rfs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == c"." || name == c".." {
            continue;
        }
        names.push(name.to_owned());
    }
    names.sort();
    Ok(names)
}

fn deeper(depth: usize) -> io::Result<usize> {
    if depth >= MAX_TREE_DEPTH {
        return Err(io::Error::other(format!(
            "the tree is nested deeper than {MAX_TREE_DEPTH} directories"
        )));
    }
    Ok(depth + 1)
}

/// What [`copy_tree`] leaves out: `skip(relative path, is_dir)` true means not copied (and,
/// for a directory, nothing under it).
pub type SkipFn<'a> = &'a dyn Fn(&Path, bool) -> bool;

/// Copies the contents of directory `src` into the empty directory `dst`: regular files with
/// their permission bits (set-uid and set-gid dropped), directories recursively, symlinks as
/// symlinks (never followed); sockets, fifos and devices are not copied. Every entry made is
/// given to `owner` through its handle (symlinks with `AT_SYMLINK_NOFOLLOW`). An entry that
/// changes kind while it is copied (a directory swapped for a symlink) fails the copy.
pub fn copy_tree(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    skip: SkipFn<'_>,
    owner: Option<HookIds>,
) -> io::Result<()> {
    copy_dir(src, dst, Path::new(""), 0, skip, owner)
}

fn copy_dir(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    rel: &Path,
    depth: usize,
    skip: SkipFn<'_>,
    owner: Option<HookIds>,
) -> io::Result<()> {
    let depth = deeper(depth)?;
    for name in list_dir(src)? {
        let rel_child = rel.join(OsStr::from_bytes(name.as_bytes()));
        let st = rfs::statat(src, name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW)?;
        let kind = FileType::from_raw_mode(st.st_mode);
        if skip(&rel_child, kind == FileType::Directory) {
            continue;
        }
        match kind {
            FileType::Directory => {
                let s = rfs::openat(src, name.as_c_str(), DIR_FLAGS, Mode::empty())?;
                rfs::mkdirat(dst, name.as_c_str(), Mode::from_raw_mode(0o700))?;
                let d = rfs::openat(dst, name.as_c_str(), DIR_FLAGS, Mode::empty())?;
                copy_dir(s.as_fd(), d.as_fd(), &rel_child, depth, skip, owner)?;
                if let Some(ids) = owner {
                    chown_fd(d.as_fd(), ids)?;
                }
                rfs::fchmod(&d, Mode::from_raw_mode(st.st_mode & 0o1777))?;
            }
            FileType::RegularFile => copy_file(src, dst, name.as_c_str(), owner)?,
            FileType::Symlink => {
                let target = rfs::readlinkat(src, name.as_c_str(), Vec::new())?;
                rfs::symlinkat(target.as_c_str(), dst, name.as_c_str())?;
                if let Some(ids) = owner {
                    rfs::chownat(
                        dst,
                        name.as_c_str(),
                        Some(Uid::from_raw(ids.uid)),
                        Some(Gid::from_raw(ids.gid)),
                        AtFlags::SYMLINK_NOFOLLOW,
                    )?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn copy_file(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    name: &CStr,
    owner: Option<HookIds>,
) -> io::Result<()> {
    let s = rfs::openat(
        src,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
    )?;
    let st = rfs::fstat(&s)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        // Swapped for something else since it was listed: not ours to copy.
        return Ok(());
    }
    let d = rfs::openat(
        dst,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    let mut from = File::from(s);
    let mut to = File::from(d);
    io::copy(&mut from, &mut to)?;
    if let Some(ids) = owner {
        chown_fd(to.as_fd(), ids)?;
    }
    // After the chown, which clears set-id bits anyway; they are never copied.
    rfs::fchmod(&to, Mode::from_raw_mode(st.st_mode & 0o777))?;
    Ok(())
}

/// Gives the directory `dir` and everything under it to `ids`: directories through their
/// handles, other entries with `AT_SYMLINK_NOFOLLOW`; a symlink is changed itself, never its
/// target, and never descended into — also when it replaces a directory mid-walk.
pub fn chown_tree(dir: BorrowedFd<'_>, ids: HookIds) -> io::Result<()> {
    chown_fd(dir, ids)?;
    chown_contents(dir, ids, 0)
}

fn chown_contents(dir: BorrowedFd<'_>, ids: HookIds, depth: usize) -> io::Result<()> {
    let depth = deeper(depth)?;
    for name in list_dir(dir)? {
        match rfs::openat(dir, name.as_c_str(), DIR_FLAGS, Mode::empty()) {
            Ok(sub) => {
                chown_fd(sub.as_fd(), ids)?;
                chown_contents(sub.as_fd(), ids, depth)?;
            }
            // Not a directory (or a symlink to one): change the entry itself.
            Err(rustix::io::Errno::NOTDIR) | Err(rustix::io::Errno::LOOP) => {
                match rfs::chownat(
                    dir,
                    name.as_c_str(),
                    Some(Uid::from_raw(ids.uid)),
                    Some(Gid::from_raw(ids.gid)),
                    AtFlags::SYMLINK_NOFOLLOW,
                ) {
                    Ok(()) | Err(rustix::io::Errno::NOENT) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Err(rustix::io::Errno::NOENT) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Removes `name` of `dir` and, when it is a directory, everything under it, walking handles
/// (a symlink is removed itself, never followed). A missing entry is not an error.
pub fn remove_tree_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    remove_entry(dir, CString::new(component(name)?)?.as_c_str(), 0)
}

fn remove_entry(dir: BorrowedFd<'_>, name: &CStr, depth: usize) -> io::Result<()> {
    match rfs::openat(dir, name, DIR_FLAGS, Mode::empty()) {
        Ok(sub) => {
            let depth = deeper(depth)?;
            for child in list_dir(sub.as_fd())? {
                remove_entry(sub.as_fd(), child.as_c_str(), depth)?;
            }
            match rfs::unlinkat(dir, name, AtFlags::REMOVEDIR) {
                Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
        Err(rustix::io::Errno::NOTDIR) | Err(rustix::io::Errno::LOOP) => {
            match rfs::unlinkat(dir, name, AtFlags::empty()) {
                Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
        Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    #[test]
    fn copy_keeps_symlinks_and_modes_and_skips() {
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        let s = src.path();
        fs::write(s.join("run.sh"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(s.join("run.sh"), fs::Permissions::from_mode(0o4755)).unwrap();
        fs::create_dir(s.join(".hookbox")).unwrap();
        fs::write(s.join(".hookbox/app.json"), "{}").unwrap();
        fs::create_dir_all(s.join(".git/refs")).unwrap();
        symlink("/etc", s.join("link")).unwrap();
        symlink("loop", s.join("loop")).unwrap();
        let skip = |p: &Path, _: bool| p == Path::new(".hookbox");
        let sfd = open_dir_path(s).unwrap();
        let dfd = open_dir_path(dst.path()).unwrap();
        copy_tree(sfd.as_fd(), dfd.as_fd(), &skip, None).unwrap();
        let d = dst.path();
        assert!(!d.join(".hookbox").exists());
        assert!(d.join(".git/refs").is_dir());
        assert_eq!(fs::read_link(d.join("link")).unwrap(), Path::new("/etc"));
        assert_eq!(fs::read_link(d.join("loop")).unwrap(), Path::new("loop"));
        let mode = fs::metadata(d.join("run.sh")).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o755, "set-uid is never copied");
    }

    /// The walk must never descend through a symlink: a tree holding `sub -> OUTSIDE` leaves
    /// OUTSIDE's owner as it was (chown) and in place (remove).
    #[test]
    fn chown_and_remove_do_not_follow_a_symlinked_directory() {
        if !rustix::process::geteuid().is_root() {
            return;
        }
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("victim"), "x").unwrap();
        let tree = tempfile::tempdir().unwrap();
        fs::create_dir(tree.path().join("real")).unwrap();
        fs::write(tree.path().join("real/f"), "y").unwrap();
        symlink(outside.path(), tree.path().join("sub")).unwrap();
        symlink(
            outside.path().join("victim"),
            tree.path().join("real/file-link"),
        )
        .unwrap();
        let ids = HookIds {
            uid: 65534,
            gid: 65534,
        };
        let fd = open_dir_path(tree.path()).unwrap();
        chown_tree(fd.as_fd(), ids).unwrap();
        assert_eq!(
            fs::metadata(tree.path().join("real/f")).unwrap().uid(),
            65534
        );
        assert_eq!(
            fs::symlink_metadata(tree.path().join("sub")).unwrap().uid(),
            65534
        );
        assert_eq!(fs::metadata(outside.path()).unwrap().uid(), 0);
        assert_eq!(
            fs::metadata(outside.path().join("victim")).unwrap().uid(),
            0
        );
        let parent = open_dir_path(tree.path().parent().unwrap()).unwrap();
        let name = tree.path().file_name().unwrap().to_str().unwrap();
        remove_tree_at(parent.as_fd(), name).unwrap();
        assert!(!tree.path().exists());
        assert!(outside.path().join("victim").exists());
    }

    #[test]
    fn symlinks_in_place_of_state_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("f"), "keep").unwrap();
        symlink(outside.path().join("f"), dir.path().join("app.json")).unwrap();
        symlink(outside.path(), dir.path().join("logs")).unwrap();
        let fd = open_dir_path(dir.path()).unwrap();
        assert!(read_file_at(fd.as_fd(), "app.json").is_err());
        assert!(append_file_at(fd.as_fd(), "app.json", 0o600).is_err());
        assert!(ensure_dir_at(fd.as_fd(), "logs", 0o700).is_err());
        write_file_atomic(fd.as_fd(), "app.json", b"{}", 0o600).unwrap();
        assert_eq!(
            fs::read_to_string(outside.path().join("f")).unwrap(),
            "keep"
        );
        assert!(component("..").is_err() && component("a/b").is_err());
    }
}
