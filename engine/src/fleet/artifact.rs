//! A project directory as a content-addressed artifact: a deterministic tar, named by its
//! sha256, stored once in `hookbox_artifacts` however many deployments use it.
//!
//! [`pack`] walks the directory in byte order without following symlinks (a symlink is stored
//! as a symlink), leaves out the top-level `.hookbox/` (hookbox's own state), and writes
//! headers without owners or times, so the same tree gives the same hash on every machine.
//! [`unpack`] extracts into a new, empty directory; the tar reader refuses absolute paths,
//! `..`, and entries that would land outside the directory through an earlier symlink.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::FleetError;

/// Largest artifact accepted: 256 MiB. A project past it is refused at submit, before
/// anything is uploaded (PostgreSQL's `bytea` stops at 1 GiB, and every worker holds one in
/// memory while unpacking).
pub const DEFAULT_MAX_ARTIFACT_BYTES: u64 = 256 * 1024 * 1024;

/// Top-level entries never packed.
const SKIP: &[&str] = &[".hookbox"];

/// A packed project.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Lower-case hex sha256 of `bytes`.
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// Packs `dir` (see the module doc). Fails past `max_bytes`.
pub fn pack(dir: &Path, max_bytes: u64) -> Result<Artifact, FleetError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FleetError::Artifact { path, source }
    };
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    builder.mode(tar::HeaderMode::Deterministic);
    add_dir(&mut builder, dir, Path::new(""), true, max_bytes).map_err(err(dir))?;
    let bytes = builder.into_inner().map_err(err(dir))?;
    if bytes.len() as u64 > max_bytes {
        return Err(FleetError::Artifact {
            path: dir.to_path_buf(),
            source: io::Error::other(format!(
                "the project is larger than {max_bytes} bytes packed; leave build output out of it"
            )),
        });
    }
    let sha256 = hex(&Sha256::digest(&bytes));
    Ok(Artifact { sha256, bytes })
}

fn add_dir(
    builder: &mut tar::Builder<Vec<u8>>,
    abs: &Path,
    rel: &Path,
    top: bool,
    max_bytes: u64,
) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(abs)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if top && SKIP.iter().any(|s| name == *s) {
            continue;
        }
        let path = entry.path();
        let rel = rel.join(&name);
        let ft = fs::symlink_metadata(&path)?.file_type();
        if ft.is_dir() {
            builder.append_path_with_name(&path, &rel)?;
            add_dir(builder, &path, &rel, false, max_bytes)?;
        } else if ft.is_file() || ft.is_symlink() {
            builder.append_path_with_name(&path, &rel)?;
        }
        // Sockets, fifos and devices are not part of a project.
        if builder.get_ref().len() as u64 > max_bytes {
            return Err(io::Error::other(format!(
                "the project is larger than {max_bytes} bytes packed; leave build output out of it"
            )));
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The sha256 of `bytes`, as [`Artifact::sha256`] names it.
pub fn sha256_of(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Extracts `bytes` into `dst`, which must not exist yet (created mode 0755).
pub fn unpack(bytes: &[u8], dst: &Path) -> io::Result<()> {
    fs::create_dir(dst)?;
    fs::set_permissions(dst, fs::Permissions::from_mode(0o755))?;
    let mut archive = tar::Archive::new(bytes);
    archive.set_overwrite(false);
    archive.set_preserve_permissions(false);
    archive.set_preserve_ownerships(false);
    archive.unpack(dst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn same_tree_same_hash_and_round_trip() {
        let a = tempfile::tempdir().unwrap();
        fs::write(a.path().join("pre-deploy.sh"), "#!/bin/sh\necho hi\n").unwrap();
        fs::set_permissions(
            a.path().join("pre-deploy.sh"),
            fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        fs::create_dir(a.path().join(".hookbox")).unwrap();
        fs::write(a.path().join(".hookbox/state"), "x").unwrap();
        fs::create_dir(a.path().join("sub")).unwrap();
        fs::write(a.path().join("sub/f"), "f").unwrap();
        symlink("/etc/passwd", a.path().join("link")).unwrap();
        let one = pack(a.path(), DEFAULT_MAX_ARTIFACT_BYTES).unwrap();
        let two = pack(a.path(), DEFAULT_MAX_ARTIFACT_BYTES).unwrap();
        assert_eq!(one.sha256, two.sha256);
        let out = tempfile::tempdir().unwrap();
        let dst = out.path().join("x");
        unpack(&one.bytes, &dst).unwrap();
        assert!(!dst.join(".hookbox").exists());
        assert_eq!(fs::read_to_string(dst.join("sub/f")).unwrap(), "f");
        let mode = fs::metadata(dst.join("pre-deploy.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
        assert_eq!(
            fs::read_link(dst.join("link")).unwrap(),
            Path::new("/etc/passwd")
        );
        fs::write(a.path().join("sub/f"), "g").unwrap();
        assert_ne!(
            pack(a.path(), DEFAULT_MAX_ARTIFACT_BYTES).unwrap().sha256,
            one.sha256
        );
    }

    #[test]
    fn entry_through_a_symlink_is_refused() {
        let victim = tempfile::tempdir().unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "esc", victim.path()).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o644);
        b.append_data(&mut h, "esc/owned", &b"bad"[..]).unwrap();
        let bytes = b.into_inner().unwrap();
        let out = tempfile::tempdir().unwrap();
        assert!(unpack(&bytes, &out.path().join("x")).is_err());
        assert!(!victim.path().join("owned").exists());
    }

    #[test]
    fn too_large_is_refused() {
        let a = tempfile::tempdir().unwrap();
        fs::write(a.path().join("big"), vec![b'x'; 64 * 1024]).unwrap();
        assert!(pack(a.path(), 1024).is_err());
    }
}
