//! The user hook processes run as. Shared by the native runner and the bridge.
//!
//! In: the policy's `run_as` (a user name, a numeric uid, or `UID:GID` — the form the platform
//! policy's uid range produces) and whether hookbox runs as root.
//! Out: a [`HookUser`] to switch to in the child, or `None` when hookbox is not root (hooks
//! then run as hookbox's own user, which is not root either). Root is never a hook user.
//!
//! Pitfalls the caller (the lifecycle) must handle, from the Contracts:
//! - The folders a hook may write (release, shared, the run's temporary directory) must be
//!   made writable for this user; nothing here changes ownership.
//! - `/root` is mode 0700: a hook user cannot reach anything below it (a Python virtual
//!   environment for hooks must be made from `/usr/bin/python3`, outside `/root`).
//! - git refuses a repository owned by another user ("dubious ownership"): grant it with
//!   `safe.directory` in the hook's git configuration, or own the release by the hook's user.

use super::RunError;

/// The user hooks run as when hookbox runs as root and the policy names none.
pub const DEFAULT_HOOK_USER: &str = "nobody";

/// Lowest uid a tenant's `run-as` may name in developer mode (Debian's `UID_MIN`): below it
/// are the system accounts that own services' data (`postgres`, `www-data`, `daemon`, …).
pub const MIN_TENANT_UID: u32 = 1000;

/// A resolved, unprivileged user: never uid 0 and never gid 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookUser {
    pub uid: u32,
    pub gid: u32,
    pub name: String,
}

/// The user hooks run as. `None` when hookbox does not run as root (hooks then run as
/// hookbox's own user). When root: `run_as` (a name or numeric uid) or, by default,
/// [`DEFAULT_HOOK_USER`]; never root (uid 0 or gid 0 is refused with [`RunError`]).
pub fn resolve(run_as: Option<&str>) -> Result<Option<HookUser>, RunError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    resolve_as(euid, run_as)
}

/// [`resolve`] for a given effective uid of hookbox (separate so it can be tested).
pub fn resolve_as(euid: u32, run_as: Option<&str>) -> Result<Option<HookUser>, RunError> {
    if euid != 0 {
        return Ok(None);
    }
    let wanted = run_as.map(str::trim).unwrap_or(DEFAULT_HOOK_USER);
    if wanted.is_empty() {
        return Err(RunError::Other(
            "run_as is empty: name a user or a uid".into(),
        ));
    }
    if let Some((uid, gid)) = wanted.split_once(':') {
        // `UID:GID`: numbers only, need not exist (the platform's per-tenant uids).
        let (Ok(uid), Ok(gid)) = (uid.trim().parse::<u32>(), gid.trim().parse::<u32>()) else {
            return Err(RunError::Other(format!(
                "run_as `{wanted}`: the UID:GID form takes two numbers"
            )));
        };
        if uid == 0 || gid == 0 {
            return Err(RunError::Other(format!(
                "run_as `{wanted}` is root (uid {uid}, gid {gid}): hooks never run as root"
            )));
        }
        return Ok(Some(HookUser {
            uid,
            gid,
            name: uid.to_string(),
        }));
    }
    let user = match wanted.parse::<u32>() {
        // A numeric uid need not exist in /etc/passwd: a dedicated uid per run is allowed.
        // Its group is then the number itself.
        Ok(uid) => lookup_uid(uid)?.unwrap_or(HookUser {
            uid,
            gid: uid,
            name: uid.to_string(),
        }),
        Err(_) => lookup_name(wanted)?.ok_or_else(|| {
            RunError::Other(format!(
                "run_as user `{wanted}` does not exist on this host: create it or name another"
            ))
        })?,
    };
    if user.uid == 0 || user.gid == 0 {
        return Err(RunError::Other(format!(
            "run_as `{wanted}` is root (uid {}, gid {}): hooks never run as root",
            user.uid, user.gid
        )));
    }
    Ok(Some(user))
}

/// Whether a *tenant* (hookbox.toml `[policy] run-as`, developer mode) may pick `run_as`:
/// only users that own nothing. Accepted: [`DEFAULT_HOOK_USER`] (by name or uid), and a
/// numeric uid of at least [`MIN_TENANT_UID`] that no account of this host has (a dedicated,
/// unnamed uid). Refused: root, every account in the passwd database (system accounts own
/// services' data; login users own their homes), the `UID:GID` form (the group is the
/// operator's). `Err` says why, for the problem shown to the user. Independent of whether
/// hookbox runs as root, so `validate` gives the same answer everywhere.
pub fn tenant_may_choose(run_as: &str) -> Result<(), String> {
    let wanted = run_as.trim();
    let nobody = lookup_name(DEFAULT_HOOK_USER).ok().flatten();
    if wanted == DEFAULT_HOOK_USER {
        return Ok(());
    }
    if wanted.contains(':') {
        return Err(format!(
            "`{wanted}`: a project cannot choose the hook's group (the UID:GID form is the operator's)"
        ));
    }
    match wanted.parse::<u32>() {
        Ok(uid) if nobody.as_ref().is_some_and(|n| n.uid == uid) => Ok(()),
        Ok(0) => Err(format!("`{wanted}` is root: hooks never run as root")),
        Ok(uid) if uid < MIN_TENANT_UID => Err(format!(
            "uid {uid} is a system account's (below {MIN_TENANT_UID}), which may own a service's data"
        )),
        Ok(uid) => match lookup_uid(uid) {
            Ok(None) => Ok(()),
            Ok(Some(user)) => Err(format!(
                "uid {uid} is the account `{}` of this host, which owns its own files",
                user.name
            )),
            Err(e) => Err(format!("cannot look up uid {uid}: {e}")),
        },
        Err(_) => match lookup_name(wanted) {
            Ok(Some(user)) if user.uid == 0 => {
                Err(format!("`{wanted}` is root: hooks never run as root"))
            }
            Ok(Some(user)) => Err(format!(
                "`{wanted}` (uid {}) is an account of this host, which owns its own files",
                user.uid
            )),
            Ok(None) => Err(format!("user `{wanted}` does not exist on this host")),
            Err(e) => Err(format!("cannot look up `{wanted}`: {e}")),
        },
    }
}

fn lookup_name(name: &str) -> Result<Option<HookUser>, RunError> {
    if name.contains('\0') {
        return Err(RunError::Other(format!(
            "run_as `{name}` contains a NUL byte"
        )));
    }
    from_passwd(nix::unistd::User::from_name(name))
}

fn lookup_uid(uid: u32) -> Result<Option<HookUser>, RunError> {
    from_passwd(nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)))
}

/// A passwd lookup's answer (nix grows the reentrant call's buffer on `ERANGE`).
fn from_passwd(
    found: nix::Result<Option<nix::unistd::User>>,
) -> Result<Option<HookUser>, RunError> {
    let user = found.map_err(|errno| RunError::Io(std::io::Error::from(errno)))?;
    Ok(user.map(|u| HookUser {
        uid: u.uid.as_raw(),
        gid: u.gid.as_raw(),
        name: u.name,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_root_means_no_switch() {
        assert_eq!(resolve_as(1000, Some("nobody")).unwrap(), None);
        assert_eq!(resolve_as(1000, None).unwrap(), None);
    }

    #[test]
    fn root_defaults_to_nobody() {
        let user = resolve_as(0, None).unwrap().unwrap();
        assert_eq!(user.name, "nobody");
        assert_ne!(user.uid, 0);
        assert_ne!(user.gid, 0);
    }

    #[test]
    fn root_is_refused_by_name_and_by_number() {
        assert!(resolve_as(0, Some("root")).is_err());
        assert!(resolve_as(0, Some("0")).is_err());
    }

    #[test]
    fn unknown_name_is_an_error_naming_it() {
        let err = resolve_as(0, Some("no-such-user-hookbox")).unwrap_err();
        assert!(err.to_string().contains("no-such-user-hookbox"), "{err}");
    }

    #[test]
    fn numeric_uid_outside_passwd_is_allowed() {
        let user = resolve_as(0, Some("43210")).unwrap().unwrap();
        assert_eq!((user.uid, user.gid), (43210, 43210));
    }

    #[test]
    fn uid_gid_form_needs_no_account_and_refuses_root() {
        let user = resolve_as(0, Some("71000:72000")).unwrap().unwrap();
        assert_eq!((user.uid, user.gid), (71000, 72000));
        assert!(resolve_as(0, Some("71000:0")).is_err());
        assert!(resolve_as(0, Some("0:71000")).is_err());
        assert!(resolve_as(0, Some("71000:x")).is_err());
    }

    #[test]
    fn a_tenant_may_choose_only_users_that_own_nothing() {
        assert!(tenant_may_choose("nobody").is_ok());
        assert!(tenant_may_choose("43210").is_ok());
        for refused in [
            "root",
            "0",
            "1",
            "daemon",
            "100",
            "43210:43210",
            "no-such-user-x",
        ] {
            assert!(tenant_may_choose(refused).is_err(), "{refused}");
        }
        // A real account of this host, whatever its uid.
        let root = lookup_uid(0).unwrap().unwrap();
        assert!(tenant_may_choose(&root.name).is_err());
    }

    #[test]
    fn numeric_uid_in_passwd_takes_its_group() {
        let nobody = resolve_as(0, Some("nobody")).unwrap().unwrap();
        let by_uid = resolve_as(0, Some(&nobody.uid.to_string()))
            .unwrap()
            .unwrap();
        assert_eq!(by_uid, nobody);
    }
}
