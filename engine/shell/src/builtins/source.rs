//! Where `source`/`.` finds a file named without a slash: bash looks along
//! PATH first (sourcepath) and, outside POSIX mode, falls back to the current
//! directory.

use crate::state::Shell;
use std::path::PathBuf;

impl Shell {
    pub(crate) fn source_search(&mut self, file: &str) -> Option<PathBuf> {
        if self.other_shopt("sourcepath") {
            let path = self.get("PATH").unwrap_or_default();
            for dir in path.split(':') {
                let dir = if dir.is_empty() { "." } else { dir };
                let p = self.cwd.join(dir).join(file);
                if p.is_file() {
                    return Some(p);
                }
            }
        }
        let p = self.cwd.join(file);
        p.is_file().then_some(p)
    }

    fn other_shopt(&self, name: &str) -> bool {
        self.opts.other_shopts.get(name).copied().unwrap_or(true)
    }
}
