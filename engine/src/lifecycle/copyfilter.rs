//! What a release leaves out of the project: `.hookbox/` (at any depth: a project's own
//! `.hookbox/` is never copied and never read as state) and the paths the project's
//! `.hookboxignore` names, in `.gitignore` syntax (the `ignore` crate's matcher). `.git/` is
//! copied: hooks use it. `.gitignore` is not consulted: a build output it hides may be what
//! the deploy needs.
//!
//! In: the project directory. Out: a [`CopyFilter`] whose [`CopyFilter::skips`] answers for
//! paths relative to it, the form [`super::safefs::copy_tree`] asks in.

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// The file of patterns, at the project's root.
pub const IGNORE_FILE: &str = ".hookboxignore";

/// A name never copied, wherever it appears.
pub const STATE_DIR_NAME: &str = ".hookbox";

/// A bad `.hookboxignore` (unreadable, or a pattern that does not parse).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}; fix the pattern or remove the line (the syntax is .gitignore's)")]
pub struct IgnoreError {
    pub path: PathBuf,
    pub message: String,
}

/// Decides which project paths a release leaves out.
#[derive(Debug)]
pub struct CopyFilter {
    patterns: Gitignore,
}

impl CopyFilter {
    /// The filter of the project at `root` (reads `root/.hookboxignore` when it exists; a
    /// symlink or anything but a regular file there is refused rather than followed).
    pub fn for_project(root: &Path) -> Result<CopyFilter, IgnoreError> {
        let file = root.join(IGNORE_FILE);
        let mut builder = GitignoreBuilder::new(root);
        // Read through a no-follow handle: a symlink swapped in must not make hookbox (root)
        // read another file and echo its lines in an error.
        let text = super::safefs::open_dir_path(root)
            .and_then(|fd| super::safefs::read_file_at(std::os::fd::AsFd::as_fd(&fd), IGNORE_FILE))
            .map_err(|e| IgnoreError {
                path: file.clone(),
                message: format!("cannot read it ({e}); it must be a regular file"),
            })?;
        if let Some(text) = text {
            let text = String::from_utf8_lossy(&text);
            for (n, line) in text.lines().enumerate() {
                if let Err(e) = builder.add_line(Some(file.clone()), line) {
                    return Err(IgnoreError {
                        path: file.clone(),
                        message: format!("line {}: {e}", n + 1),
                    });
                }
            }
        }
        let patterns = builder.build().map_err(|e| IgnoreError {
            path: file,
            message: e.to_string(),
        })?;
        Ok(CopyFilter { patterns })
    }

    /// Whether `rel` (relative to the project) is left out of a release.
    pub fn skips(&self, rel: &Path, is_dir: bool) -> bool {
        if rel.file_name().is_some_and(|n| n == STATE_DIR_NAME) {
            return true;
        }
        self.patterns.matched(rel, is_dir).is_ignore()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hookboxignore_and_dot_hookbox_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(IGNORE_FILE),
            "# comment\nnode_modules/\n*.log\n/secret.env\n!keep.log\n",
        )
        .unwrap();
        let f = CopyFilter::for_project(dir.path()).unwrap();
        assert!(f.skips(Path::new(".hookbox"), true));
        assert!(f.skips(Path::new("sub/.hookbox"), true));
        assert!(f.skips(Path::new("node_modules"), true));
        assert!(
            !f.skips(Path::new("node_modules"), false),
            "dir-only pattern"
        );
        assert!(f.skips(Path::new("a/b/x.log"), false));
        assert!(!f.skips(Path::new("keep.log"), false));
        assert!(f.skips(Path::new("secret.env"), false));
        assert!(!f.skips(Path::new("sub/secret.env"), false), "anchored");
        assert!(!f.skips(Path::new(".git"), true));
        assert!(!f.skips(Path::new(IGNORE_FILE), false));
    }

    #[test]
    fn without_a_file_only_dot_hookbox_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let f = CopyFilter::for_project(dir.path()).unwrap();
        assert!(f.skips(Path::new(".hookbox"), true));
        assert!(!f.skips(Path::new("a.log"), false));
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join(IGNORE_FILE)).unwrap();
        assert!(CopyFilter::for_project(dir.path()).is_err());
    }
}
