//! The tenant's policy: what a hook is granted. Deny by default: nothing is granted that a
//! field does not grant.
//!
//! A tenant's hookbox.toml `[policy]` is read into this type, then narrowed by the operator's
//! platform policy (`crate::platform`): by the time a runner sees a `Policy`, every field is
//! the effective value (`run_as` is the operator's uid, `allow` the intersection, …).

use serde::{Deserialize, Serialize};

/// Default `PATH` hooks see and bridged command names are resolved in.
pub const DEFAULT_POLICY_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// How a hook may use the work directory.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DirAccess {
    /// Default: hooks migrate databases and write caches.
    #[default]
    ReadWrite,
    ReadOnly,
}

/// Network a bridged command may reach.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Network {
    /// Default: a new, empty network namespace.
    #[default]
    None,
    /// A new network namespace with only loopback up.
    Loopback,
    /// The host's network.
    Host,
}

/// What a tenant's hooks are granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Work directory access. Default read-write.
    pub work_dir: DirAccess,
    /// Host commands a sandboxed hook may start through the bridge, by name (resolved once in
    /// `path`) or absolute path. Default: none.
    pub allow: Vec<String>,
    /// The `PATH` of hooks and of command resolution. Default [`DEFAULT_POLICY_PATH`].
    pub path: String,
    /// Network for bridged commands. Default none.
    pub network: Network,
    /// User hooks run as when hookbox runs as root: a name, a uid, or `UID:GID` (the
    /// platform policy's per-tenant uid). Default `None`: `nobody`. A tenant's hookbox.toml
    /// may set it only in developer mode, and only to a user that owns nothing
    /// (`runner::user::tenant_may_choose`); under a platform policy it is refused.
    pub run_as: Option<String>,
    /// Run even where the kernel lacks a confinement (Landlock, namespaces), saying so.
    /// Default false: refuse.
    pub accept_weak_confinement: bool,
    /// Let the guest start any program it names, found the way a plain shell finds it: in the
    /// guest's own `PATH`, relative paths from the guest's working directory. Only for
    /// `hookbox shell --allow-all-commands`, a developer's shell; a tenant's `hookbox.toml`
    /// cannot set it. Default false. Confinement still applies to what starts.
    #[serde(skip)]
    pub allow_any: bool,
    /// Run bridged commands as hookbox's own user instead of `run_as`, even when that is root
    /// — then with every capability dropped (uid 0 that owns root's files in the granted
    /// directories and can do nothing else a user could not). Only for `hookbox shell`, which
    /// works on the developer's own files as the developer; a tenant's `hookbox.toml` cannot
    /// set it. Default false.
    #[serde(skip)]
    pub keep_user: bool,
    /// The developer's own `hookbox shell`: a denied command's message names the shell's
    /// `--allow` flag, and a name found nowhere in `path` is bash's "command not found"
    /// (127). A hook's policy answers "not allowed" either way, which tells a tenant
    /// nothing of what the host has. Not settable from a `hookbox.toml`. Default false.
    #[serde(skip)]
    pub shell_session: bool,
    /// More directories granted read-write to every hook and bridged command, like a
    /// deployment's `shared/`. Only the operator's platform policy sets them (`extra-dirs`);
    /// a tenant's hookbox.toml cannot. Default none.
    #[serde(skip)]
    pub extra_dirs: Vec<std::path::PathBuf>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            work_dir: DirAccess::ReadWrite,
            allow: Vec::new(),
            path: DEFAULT_POLICY_PATH.to_string(),
            network: Network::None,
            run_as: None,
            accept_weak_confinement: false,
            allow_any: false,
            keep_user: false,
            shell_session: false,
            extra_dirs: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented defaults (docs/platform.md and the field docs above).
    #[test]
    fn defaults_deny_by_default() {
        let p = Policy::default();
        assert_eq!(p.work_dir, DirAccess::ReadWrite);
        assert!(p.allow.is_empty());
        assert_eq!(p.path, DEFAULT_POLICY_PATH);
        assert_eq!(p.network, Network::None);
        assert_eq!(p.run_as, None);
        assert!(!p.accept_weak_confinement && !p.allow_any && !p.keep_user && !p.shell_session);
        assert!(p.extra_dirs.is_empty());
    }
}
