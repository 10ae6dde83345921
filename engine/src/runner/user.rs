//! The user hook processes run as. Shared by the native runner and the bridge.
//!
//! In: the policy's `run_as` (a user name or a numeric uid) and whether hookbox runs as root.
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

use std::ffi::{CStr, CString};

use super::RunError;

/// The user hooks run as when hookbox runs as root and the policy names none.
pub const DEFAULT_HOOK_USER: &str = "nobody";

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

fn lookup_name(name: &str) -> Result<Option<HookUser>, RunError> {
    let cname = CString::new(name)
        .map_err(|_| RunError::Other(format!("run_as `{name}` contains a NUL byte")))?;
    // SAFETY: getpwnam_r writes only into `pwd` and `buf`, whose sizes we pass.
    lookup(|pwd, buf, len, result| unsafe {
        libc::getpwnam_r(cname.as_ptr(), pwd, buf, len, result)
    })
}

fn lookup_uid(uid: u32) -> Result<Option<HookUser>, RunError> {
    // SAFETY: getpwuid_r writes only into `pwd` and `buf`, whose sizes we pass.
    lookup(|pwd, buf, len, result| unsafe { libc::getpwuid_r(uid, pwd, buf, len, result) })
}

/// Calls a reentrant passwd lookup, growing its buffer while it reports `ERANGE`.
fn lookup(
    call: impl Fn(
        *mut libc::passwd,
        *mut libc::c_char,
        libc::size_t,
        *mut *mut libc::passwd,
    ) -> libc::c_int,
) -> Result<Option<HookUser>, RunError> {
    let mut len = 1024usize;
    loop {
        let mut buf = vec![0 as libc::c_char; len];
        // SAFETY: an all-zero passwd is a valid value of this plain C struct.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = call(&mut pwd, buf.as_mut_ptr(), len, &mut result);
        if rc == libc::ERANGE && len < 1 << 20 {
            len *= 4;
            continue;
        }
        if rc != 0 {
            return Err(RunError::Io(std::io::Error::from_raw_os_error(rc)));
        }
        if result.is_null() {
            return Ok(None);
        }
        let name = if pwd.pw_name.is_null() {
            String::new()
        } else {
            // SAFETY: on success pw_name points to a NUL-terminated string inside `buf`.
            unsafe { CStr::from_ptr(pwd.pw_name) }
                .to_string_lossy()
                .into_owned()
        };
        return Ok(Some(HookUser {
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            name,
        }));
    }
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
    fn numeric_uid_in_passwd_takes_its_group() {
        let nobody = resolve_as(0, Some("nobody")).unwrap().unwrap();
        let by_uid = resolve_as(0, Some(&nobody.uid.to_string()))
            .unwrap()
            .unwrap();
        assert_eq!(by_uid, nobody);
    }
}
