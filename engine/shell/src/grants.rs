//! The directories the host granted the guest (its WASI preopens), read once at start-up.
//!
//! A path outside them does not exist for the guest: the host preopens the work directory at
//! its host path only (no `.` catch-all that would map `/tmp/x` onto `./tmp/x`), so opening it
//! fails with ENOENT as a missing path would. The ancestors of a grant (`/`, `/tmp` above
//! `/tmp/demo`) do exist on the host, though, and `mkdir -p "$PWD/releases/1"` walks through
//! them: [`is_ancestor`] lets such a walk treat them as the existing directories they are,
//! without giving the guest any access to them.

use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

/// The guest's preopened directories (absolute guest paths). Natively: none (the whole file
/// system is there, nothing to emulate).
pub fn roots() -> &'static [PathBuf] {
    static ROOTS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    ROOTS.get_or_init(preopens)
}

/// `path` (absolute) names a proper ancestor of a granted directory.
pub fn is_ancestor(path: &Path) -> bool {
    let path = normalize(path);
    roots()
        .iter()
        .any(|root| root != &path && root.starts_with(&path))
}

/// `.` and `..` removed lexically, as the host resolves an absolute path beneath `/`.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

#[cfg(target_os = "wasi")]
fn preopens() -> Vec<PathBuf> {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn fd_prestat_get(fd: i32, prestat: *mut u32) -> i32;
        fn fd_prestat_dir_name(fd: i32, path: *mut u8, len: i32) -> i32;
    }
    let mut out = Vec::new();
    // Preopens are numbered from 3 without gaps; the first fd that is not one ends them.
    // Bounded so a host handing out endless preopens cannot stall the start.
    for fd in 3..1024 {
        let mut prestat = [0u32; 2];
        // SAFETY: prestat is 8 writable, 4-aligned bytes (tag u8 + u32 name length).
        if unsafe { fd_prestat_get(fd, prestat.as_mut_ptr()) } != 0 {
            break;
        }
        if prestat[0] & 0xff != 0 {
            continue;
        }
        let Ok(len) = usize::try_from(prestat[1]) else {
            continue;
        };
        let mut name = vec![0u8; len];
        // SAFETY: name is writable for len bytes.
        if unsafe { fd_prestat_dir_name(fd, name.as_mut_ptr(), len as i32) } != 0 {
            continue;
        }
        if let Ok(name) = String::from_utf8(name) {
            let name = name.trim_end_matches('\0');
            if name.starts_with('/') {
                out.push(normalize(Path::new(name)));
            }
        }
    }
    out
}

#[cfg(not(target_os = "wasi"))]
fn preopens() -> Vec<PathBuf> {
    Vec::new()
}
