//! The raw `hookbox` imports, and safe wrappers returning [`HookError`]s. On targets other
//! than wasm32 every call reports [`ErrorKind::NotInSandbox`].

use crate::error::{ErrorKind, HookError};

#[cfg(target_arch = "wasm32")]
mod raw {
    #[link(wasm_import_module = "hookbox")]
    extern "C" {
        pub fn abi_version() -> i32;
        pub fn context(buf: *mut u8, cap: i32) -> i32;
        pub fn log(level: i32, ptr: *const u8, len: i32) -> i32;
        pub fn last_error(buf: *mut u8, cap: i32) -> i32;
        pub fn exec_spawn(req: *const u8, len: i32) -> i32;
        pub fn exec_write(handle: i32, ptr: *const u8, len: i32) -> i32;
        pub fn exec_close_stdin(handle: i32) -> i32;
        pub fn exec_read(handle: i32, fd: i32, buf: *mut u8, cap: i32) -> i32;
        pub fn exec_wait(handle: i32) -> i32;
        pub fn exec_kill(handle: i32) -> i32;
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn outside() -> HookError {
    HookError::with_kind(
        ErrorKind::NotInSandbox,
        "not running inside hookbox's sandbox (the `hookbox` imports exist only there)",
    )
}

/// Turns a bridge return value into `Ok(value)` or the error with the host's message.
#[cfg(target_arch = "wasm32")]
fn check(ret: i32) -> Result<i32, HookError> {
    if ret >= 0 {
        Ok(ret)
    } else {
        let message = read_reply(last_error)
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .unwrap_or_else(|_| format!("bridge error {ret}"));
        Err(HookError::from_bridge(ret, message))
    }
}

/// A "write into (buf, cap), return the full length" call.
pub(crate) type ReplyFn = fn(*mut u8, i32) -> i32;

/// Calls a reply function with a growing buffer until the reply fits.
pub(crate) fn read_reply(call: ReplyFn) -> Result<Vec<u8>, HookError> {
    let mut buf = vec![0u8; 1024];
    for _ in 0..4 {
        let cap = i32::try_from(buf.len()).unwrap_or(i32::MAX);
        let n = call(buf.as_mut_ptr(), cap);
        if n < 0 {
            return Err(HookError::with_kind(
                ErrorKind::Protocol,
                format!("bridge error {n} while reading a reply"),
            ));
        }
        let n = n as usize;
        if n <= buf.len() {
            buf.truncate(n);
            return Ok(buf);
        }
        buf.resize(n, 0);
    }
    Err(HookError::with_kind(
        ErrorKind::Protocol,
        "the reply kept growing",
    ))
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::*;

    pub fn abi_version() -> Result<i32, HookError> {
        Ok(unsafe { raw::abi_version() })
    }
    pub fn context(buf: *mut u8, cap: i32) -> i32 {
        // SAFETY: the host writes at most `cap` bytes at `buf`, a live buffer of that size.
        unsafe { raw::context(buf, cap) }
    }
    pub fn last_error(buf: *mut u8, cap: i32) -> i32 {
        // SAFETY: as for `context`.
        unsafe { raw::last_error(buf, cap) }
    }
    pub fn log(level: i32, msg: &[u8]) -> bool {
        let len = i32::try_from(msg.len()).unwrap_or(i32::MAX);
        // SAFETY: the host only reads `len` bytes of `msg`.
        unsafe { raw::log(level, msg.as_ptr(), len) >= 0 }
    }
    pub fn spawn(request: &[u8]) -> Result<i32, HookError> {
        let len = i32::try_from(request.len()).unwrap_or(i32::MAX);
        // SAFETY: the host only reads `len` bytes of `request`.
        check(unsafe { raw::exec_spawn(request.as_ptr(), len) })
    }
    pub fn write(handle: i32, data: &[u8]) -> Result<usize, HookError> {
        let len = i32::try_from(data.len()).unwrap_or(i32::MAX);
        // SAFETY: the host only reads `len` bytes of `data`.
        check(unsafe { raw::exec_write(handle, data.as_ptr(), len) }).map(|n| n as usize)
    }
    pub fn close_stdin(handle: i32) -> Result<(), HookError> {
        check(unsafe { raw::exec_close_stdin(handle) }).map(|_| ())
    }
    pub fn read(handle: i32, fd: i32, buf: &mut [u8]) -> Result<usize, HookError> {
        let cap = i32::try_from(buf.len()).unwrap_or(i32::MAX);
        // SAFETY: the host writes at most `cap` bytes into `buf`.
        check(unsafe { raw::exec_read(handle, fd, buf.as_mut_ptr(), cap) }).map(|n| n as usize)
    }
    pub fn wait(handle: i32) -> Result<i32, HookError> {
        check(unsafe { raw::exec_wait(handle) })
    }
    pub fn kill(handle: i32) -> Result<(), HookError> {
        check(unsafe { raw::exec_kill(handle) }).map(|_| ())
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;

    pub fn abi_version() -> Result<i32, HookError> {
        Err(outside())
    }
    pub fn context(_buf: *mut u8, _cap: i32) -> i32 {
        -4
    }
    pub fn log(_level: i32, _msg: &[u8]) -> bool {
        false
    }
    pub fn spawn(_request: &[u8]) -> Result<i32, HookError> {
        Err(outside())
    }
    pub fn write(_handle: i32, _data: &[u8]) -> Result<usize, HookError> {
        Err(outside())
    }
    pub fn close_stdin(_handle: i32) -> Result<(), HookError> {
        Err(outside())
    }
    pub fn read(_handle: i32, _fd: i32, _buf: &mut [u8]) -> Result<usize, HookError> {
        Err(outside())
    }
    pub fn wait(_handle: i32) -> Result<i32, HookError> {
        Err(outside())
    }
    pub fn kill(_handle: i32) -> Result<(), HookError> {
        Err(outside())
    }
}

pub(crate) use imp::*;
