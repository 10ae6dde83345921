//! The allow list and the granted directories: which program a request may start (resolved
//! once per hook run in the policy `PATH`) and where it may start.
//!
//! The allow list only decides what may start; the confinement (`confine`) decides what it can
//! do once started.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::policy::Policy;
use super::BridgeError;

/// Resolves and checks `argv[0]`, caching each answer for the hook run, so a command means
/// one program for the whole run even if the `PATH` directories change meanwhile.
#[derive(Debug, Default)]
pub(crate) struct Resolver {
    cache: HashMap<String, Result<PathBuf, Miss>>,
    /// What relative entries of the policy `PATH` (`.venv/bin`) are relative to: the hook's
    /// work directory. `None`: such entries are skipped.
    work_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy)]
enum Miss {
    Denied,
    NotFound,
}

impl Resolver {
    /// A resolver for hooks run in `work_dir`.
    pub fn new(work_dir: PathBuf) -> Self {
        Resolver {
            cache: HashMap::new(),
            work_dir: Some(work_dir),
        }
    }

    /// The program a request runs: by the allow list (see [`Resolver::resolve`]), or, under
    /// `allow_any`, the way a plain shell finds it in the guest's `PATH` (`guest_path`, the
    /// policy's when the guest has none) and `cwd`. That answer is not cached: the guest may
    /// change its `PATH` between commands, as a shell's user does.
    pub fn resolve_request(
        &mut self,
        policy: &Policy,
        argv0: &str,
        guest_path: Option<&str>,
        cwd: &Path,
    ) -> Result<PathBuf, BridgeError> {
        if !policy.allow_any {
            return self.resolve(policy, argv0);
        }
        let command = || argv0.to_string();
        if argv0.contains('/') {
            let path = cwd.join(argv0);
            return match std::fs::metadata(&path) {
                Err(_) => Err(BridgeError::NoSuchFile { command: command() }),
                Ok(m) if m.is_dir() => Err(BridgeError::CannotExecute {
                    command: command(),
                    reason: "Is a directory".into(),
                }),
                Ok(m) if m.permissions().mode() & 0o111 == 0 => Err(BridgeError::CannotExecute {
                    command: command(),
                    reason: "Permission denied".into(),
                }),
                Ok(_) => Ok(path),
            };
        }
        let search = guest_path.unwrap_or(&policy.path);
        let dirs = search.split(':').map(|dir| {
            // An empty entry is the current directory, as in every shell.
            if dir.is_empty() {
                cwd.to_path_buf()
            } else {
                cwd.join(dir)
            }
        });
        let mut not_executable = None;
        for dir in dirs {
            let candidate = dir.join(argv0);
            if is_executable_file(&candidate) {
                return Ok(candidate);
            }
            if not_executable.is_none() && candidate.is_file() {
                not_executable = Some(candidate);
            }
        }
        match not_executable {
            // bash, too, names the command and refuses it when only a non-executable file
            // of that name is on the PATH.
            Some(_) => Err(BridgeError::CannotExecute {
                command: command(),
                reason: "Permission denied".into(),
            }),
            None => Err(BridgeError::NotFound { command: command() }),
        }
    }

    /// The absolute path `argv0` runs, or why it may not run.
    pub fn resolve(&mut self, policy: &Policy, argv0: &str) -> Result<PathBuf, BridgeError> {
        let answer = match self.cache.get(argv0) {
            Some(answer) => answer.clone(),
            None => {
                let answer = decide(policy, argv0, self.work_dir.as_deref());
                self.cache.insert(argv0.to_string(), answer.clone());
                answer
            }
        };
        answer.map_err(|miss| match miss {
            Miss::Denied => BridgeError::Denied {
                command: argv0.to_string(),
                shell: policy.shell_session,
            },
            Miss::NotFound => BridgeError::NotFound {
                command: argv0.to_string(),
            },
        })
    }
}

fn decide(policy: &Policy, argv0: &str, work_dir: Option<&Path>) -> Result<PathBuf, Miss> {
    if !argv0.contains('/') {
        // A name: allowed by name, or because it resolves to an allowed absolute path.
        let found = find_in_path(&policy.path, argv0, work_dir);
        let by_name = policy.allow.iter().any(|a| a == argv0);
        let by_path = found
            .as_ref()
            .is_some_and(|p| policy.allow.iter().any(|a| Path::new(a) == p));
        if !by_name && !by_path {
            // A developer's shell says what bash would of a name that is nowhere.
            if policy.shell_session && found.is_none() {
                return Err(Miss::NotFound);
            }
            return Err(Miss::Denied);
        }
        return found.ok_or(Miss::NotFound);
    }
    // A path: only absolute, and only one the policy names (directly, or as what an allowed
    // name resolves to). A relative path would let the guest choose the program.
    let path = Path::new(argv0);
    if !path.is_absolute() {
        return Err(Miss::Denied);
    }
    let allowed = policy.allow.iter().any(|a| {
        if a.contains('/') {
            Path::new(a) == path
        } else {
            find_in_path(&policy.path, a, work_dir).is_some_and(|p| p == path)
        }
    });
    if !allowed {
        return Err(Miss::Denied);
    }
    if is_executable_file(path) {
        Ok(path.to_path_buf())
    } else {
        Err(Miss::NotFound)
    }
}

/// The first executable regular file named `name` in the directories of `path`: absolute
/// ones as they are, relative ones (`.venv/bin`) inside `work_dir` — the tenant's policy
/// names its own tools there, as a hook's own `PATH` would.
fn find_in_path(path: &str, name: &str, work_dir: Option<&Path>) -> Option<PathBuf> {
    path.split(':')
        .filter(|dir| !dir.is_empty())
        .filter_map(|dir| {
            let dir = Path::new(dir);
            if dir.is_absolute() {
                Some(dir.to_path_buf())
            } else {
                work_dir.map(|w| w.join(dir))
            }
        })
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable_file(candidate))
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The `st_mode` of `path` (symlinks followed) when it lies inside a granted directory. Only
/// granted files are described: the guest learns nothing of the host's other files.
pub(crate) fn granted_mode(path: &Path, granted: &[&Path]) -> Result<u32, BridgeError> {
    use std::os::unix::fs::MetadataExt;
    let outside = || BridgeError::NotPermitted(format!("{}: not granted", path.display()));
    if !path.is_absolute() {
        return Err(outside());
    }
    let real = path.canonicalize().map_err(|_| {
        // Missing, or reached through a directory we may not describe either way.
        BridgeError::NotFound {
            command: path.display().to_string(),
        }
    })?;
    let inside = granted.iter().any(|dir| {
        dir.canonicalize()
            .is_ok_and(|granted| real.starts_with(granted))
    });
    if !inside {
        return Err(outside());
    }
    std::fs::metadata(&real)
        .map(|m| m.mode())
        .map_err(|_| BridgeError::NotFound {
            command: path.display().to_string(),
        })
}

/// The canonical `cwd` when it lies inside one of the granted directories.
pub(crate) fn check_cwd(cwd: &Path, granted: &[&Path]) -> Result<PathBuf, BridgeError> {
    let outside = || {
        BridgeError::NotPermitted(format!(
            "{}: the working directory of a bridged command must be inside the work or temporary directory",
            cwd.display()
        ))
    };
    let real = cwd.canonicalize().map_err(|_| outside())?;
    let inside = granted.iter().any(|dir| {
        dir.canonicalize()
            .is_ok_and(|granted| real.starts_with(granted))
    });
    if inside && real.is_dir() {
        Ok(real)
    } else {
        Err(outside())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &[&str]) -> Policy {
        Policy {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            path: "/usr/bin:/bin".into(),
            ..Policy::default()
        }
    }

    #[test]
    fn names_resolve_in_the_policy_path() {
        let mut r = Resolver::default();
        let p = policy(&["sh"]);
        assert!(r.resolve(&p, "sh").is_ok_and(|p| p.is_absolute()));
        assert!(matches!(
            r.resolve(&p, "cat"),
            Err(BridgeError::Denied { .. })
        ));
        assert!(matches!(
            r.resolve(&p, "./sh"),
            Err(BridgeError::Denied { .. })
        ));
        assert!(matches!(
            r.resolve(&p, "/usr/bin/cat"),
            Err(BridgeError::Denied { .. })
        ));
        let p = policy(&["no-such-command-hookbox"]);
        assert!(matches!(
            r.resolve(&p, "no-such-command-hookbox"),
            Err(BridgeError::NotFound { .. })
        ));
    }

    #[test]
    fn allow_any_resolves_like_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let tool = bin.join("tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(bin.join("plain"), "x").unwrap();
        let p = Policy {
            allow_any: true,
            ..policy(&[])
        };
        let mut r = Resolver::default();
        let cwd = dir.path();
        assert_eq!(
            r.resolve_request(&p, "tool", Some("bin:/usr/bin"), cwd)
                .unwrap(),
            tool
        );
        assert!(r.resolve_request(&p, "./bin/tool", None, cwd).is_ok());
        assert!(matches!(
            r.resolve_request(&p, "tool", None, cwd),
            Err(BridgeError::NotFound { .. })
        ));
        assert!(matches!(
            r.resolve_request(&p, "./bin", None, cwd),
            Err(BridgeError::CannotExecute { .. })
        ));
        assert!(matches!(
            r.resolve_request(&p, "plain", Some("bin"), cwd),
            Err(BridgeError::CannotExecute { .. })
        ));
        assert!(matches!(
            r.resolve_request(&p, "./nothing", None, cwd),
            Err(BridgeError::NoSuchFile { .. })
        ));
        // Without allow_any the guest's PATH and relative paths mean nothing.
        let strict = policy(&["tool"]);
        assert!(r
            .resolve_request(&strict, "./bin/tool", Some("bin"), cwd)
            .is_err());
    }

    #[test]
    fn relative_policy_path_entries_are_inside_the_work_dir() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join(".venv/bin");
        std::fs::create_dir_all(&bin).unwrap();
        let tool = bin.join("python");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        let p = Policy {
            path: ".venv/bin:/usr/bin".into(),
            ..policy(&["python"])
        };
        let mut r = Resolver::new(dir.path().to_path_buf());
        assert_eq!(r.resolve(&p, "python").unwrap(), tool);
        // Without a work directory, the relative entry means nothing.
        let mut r = Resolver::default();
        assert!(r.resolve(&p, "python").map_or(true, |found| found != tool));
    }

    #[test]
    fn denied_message_names_the_policy_key() {
        let e = BridgeError::Denied {
            command: "curl".into(),
            shell: false,
        };
        assert_eq!(
            e.to_string(),
            "hookbox: curl: not allowed by the policy (add \"curl\" to [policy] allow in hookbox.toml)"
        );
        assert_eq!(e.code(), -1);
        let e = BridgeError::Denied {
            command: "curl".into(),
            shell: true,
        };
        assert_eq!(
            e.to_string(),
            "hookbox: curl: not allowed in this shell (start it with --allow curl, or --allow-all-commands)"
        );
    }

    #[test]
    fn modes_only_of_granted_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("run.sh");
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o750)).unwrap();
        assert_eq!(granted_mode(&f, &[dir.path()]).unwrap() & 0o7777, 0o750);
        assert!(matches!(
            granted_mode(Path::new("/etc/passwd"), &[dir.path()]),
            Err(BridgeError::NotPermitted(_))
        ));
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("out")).unwrap();
        assert!(matches!(
            granted_mode(&dir.path().join("out"), &[dir.path()]),
            Err(BridgeError::NotPermitted(_))
        ));
        assert!(matches!(
            granted_mode(&dir.path().join("none"), &[dir.path()]),
            Err(BridgeError::NotFound { .. })
        ));
    }

    #[test]
    fn cwd_must_be_inside_a_granted_dir() {
        let dir = std::env::temp_dir();
        assert!(check_cwd(Path::new("/"), &[&dir]).is_err());
        assert!(check_cwd(&dir, &[&dir]).is_ok());
        assert!(check_cwd(&dir.join(".."), &[&dir]).is_err());
    }
}
