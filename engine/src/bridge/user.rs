//! The unprivileged user bridged commands run as when hookbox runs as root.
//!
//! Interim: resolves the policy's `run_as` (default `nobody`) with `getpwnam_r`; to be
//! replaced by `runner::user::resolve` so both runners agree on one user.

use std::ffi::CString;

use super::BridgeError;

/// Default user of hook processes when hookbox runs as root.
pub const DEFAULT_RUN_AS: &str = "nobody";

/// A resolved hook user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HookUser {
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
}

/// `None` when hookbox is not root (commands keep its uid); otherwise the user to switch to.
pub(crate) fn resolve(run_as: Option<&str>) -> Result<Option<HookUser>, BridgeError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = run_as.unwrap_or(DEFAULT_RUN_AS);
    let c_name = CString::new(name)
        .map_err(|_| BridgeError::SpawnFailed(format!("invalid user name {name:?}")))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: a zeroed passwd is a valid out-parameter; all pointers are live for the call.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let rc = unsafe {
        libc::getpwnam_r(
            c_name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        return Err(BridgeError::SpawnFailed(format!(
            "the hook user {name:?} does not exist (set run_as in [policy] of hookbox.toml)"
        )));
    }
    if pwd.pw_uid == 0 {
        return Err(BridgeError::SpawnFailed(format!(
            "the hook user {name:?} is root; hooks never run as root"
        )));
    }
    Ok(Some(HookUser {
        uid: pwd.pw_uid,
        gid: pwd.pw_gid,
    }))
}
