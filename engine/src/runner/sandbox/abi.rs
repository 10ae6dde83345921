//! The `hookbox` import module (bridge ABI v1, engine/src/bridge/ABI.md): hook context, log
//! lines, the last error's message, and the `exec_*` functions (in `exec_link`).
//!
//! In: calls from the guest with `(ptr, len)` byte strings in its linear memory. Out: bytes
//! written back into guest memory, log lines into the hook's output (through the capper, so
//! they count against the output cap), and negative error codes with a message kept for
//! `last_error`.

use std::sync::Arc;

use wasmtime::{Caller, Extern, Linker};

use super::store::HostState;
use crate::runner::output::OutputCapper;
use crate::runner::{Invocation, Stream};

/// The ABI version `abi_version` returns.
pub const ABI_VERSION: i32 = 1;
/// Error code: malformed request, bad handle or fd, a buffer outside guest memory.
pub const ERR_BAD_REQUEST: i32 = -3;
/// Longest log line kept; the rest is cut. 64 KiB.
pub const MAX_LOG_LINE_BYTES: usize = 64 * 1024;

/// Import module name.
pub const MODULE: &str = "hookbox";

/// The `hookbox` state of one run.
pub(crate) struct GuestBridge {
    context_json: Vec<u8>,
    last_error: String,
    output: Arc<OutputCapper>,
    pub(crate) exec: super::exec_link::ExecState,
    /// Ctrl-C of an interactive `hookbox shell` (none for hooks).
    pub(crate) interrupt: Option<Arc<Interrupt>>,
}

/// Ctrl-C typed at an interactive `hookbox shell`: the host raises it; the guest sees it
/// (`interrupted`) at its next command or loop turn, in subshells too, and abandons the
/// line it runs; a bridged command it waits for is killed at once. It stays raised until the
/// guest's prompt clears it.
#[derive(Debug, Default)]
pub struct Interrupt {
    raised: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

impl Interrupt {
    /// Ctrl-C was typed.
    pub fn raise(&self) {
        self.raised.store(true, std::sync::atomic::Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether it is raised; `clear` lowers it.
    pub(crate) fn check(&self, clear: bool) -> bool {
        if clear {
            self.raised.swap(false, std::sync::atomic::Ordering::SeqCst)
        } else {
            self.raised.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    /// Resolves at the next [`Self::raise`] (or at once if one is pending).
    pub(crate) async fn raised(&self) {
        let notified = self.notify.notified();
        if self.raised.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        notified.await;
    }
}

impl GuestBridge {
    pub(crate) fn new(
        invocation: &Invocation,
        output: Arc<OutputCapper>,
        exec: super::exec_link::ExecState,
    ) -> Self {
        let context = serde_json::json!({
            "abi": ABI_VERSION,
            "stage": invocation.stage,
            "hook": invocation.hook_name,
            "args": invocation.args,
            "work_dir": invocation.work_dir.to_string_lossy(),
        });
        GuestBridge {
            context_json: context.to_string().into_bytes(),
            last_error: String::new(),
            output,
            exec,
            interrupt: None,
        }
    }

    /// Records `message` for `last_error` and returns `code`.
    pub(crate) fn fail(&mut self, code: i32, message: impl Into<String>) -> i32 {
        self.last_error = message.into();
        code
    }
}

/// The guest's exported memory, or the error code to return.
fn memory(caller: &mut Caller<'_, HostState>) -> Result<wasmtime::Memory, i32> {
    match caller.get_export("memory").and_then(Extern::into_memory) {
        Some(mem) => Ok(mem),
        None => Err(caller
            .data_mut()
            .bridge
            .fail(ERR_BAD_REQUEST, "the module exports no memory")),
    }
}

/// Copies `len` bytes at `ptr` out of guest memory.
pub(crate) fn read_guest(
    caller: &mut Caller<'_, HostState>,
    ptr: i32,
    len: i32,
) -> Result<Vec<u8>, i32> {
    let mem = memory(caller)?;
    let range = guest_range(ptr, len);
    match range.and_then(|r| mem.data(&*caller).get(r)) {
        Some(bytes) => Ok(bytes.to_vec()),
        None => Err(caller
            .data_mut()
            .bridge
            .fail(ERR_BAD_REQUEST, "buffer outside the guest's memory")),
    }
}

/// Writes `bytes` at `ptr` in guest memory.
pub(crate) fn write_guest(
    caller: &mut Caller<'_, HostState>,
    ptr: i32,
    bytes: &[u8],
) -> Result<(), i32> {
    let mem = memory(caller)?;
    let Ok(len) = i32::try_from(bytes.len()) else {
        return Err(caller
            .data_mut()
            .bridge
            .fail(ERR_BAD_REQUEST, "reply too large"));
    };
    let range = guest_range(ptr, len);
    match range.and_then(|r| mem.data_mut(&mut *caller).get_mut(r)) {
        Some(dest) => {
            dest.copy_from_slice(bytes);
            Ok(())
        }
        None => Err(caller
            .data_mut()
            .bridge
            .fail(ERR_BAD_REQUEST, "buffer outside the guest's memory")),
    }
}

fn guest_range(ptr: i32, len: i32) -> Option<std::ops::Range<usize>> {
    let start = usize::try_from(ptr as u32).ok()?;
    let len = usize::try_from(len).ok()?;
    Some(start..start.checked_add(len)?)
}

/// The "write into (buf, cap), return the full length" convention of `context` and
/// `last_error`.
pub(crate) fn reply(caller: &mut Caller<'_, HostState>, bytes: &[u8], buf: i32, cap: i32) -> i32 {
    let Ok(full) = i32::try_from(bytes.len()) else {
        return caller
            .data_mut()
            .bridge
            .fail(ERR_BAD_REQUEST, "reply too large");
    };
    if full > cap {
        return full;
    }
    match write_guest(caller, buf, bytes) {
        Ok(()) => full,
        Err(code) => code,
    }
}

fn level_name(level: i32) -> &'static str {
    match level {
        i32::MIN..=0 => "trace",
        1 => "debug",
        2 => "info",
        3 => "warn",
        _ => "error",
    }
}

/// Replaces WASI's `proc_exit`, which refuses statuses of 126 and above, with one that
/// passes every status through: a hook exits 127 for a missing command like a shell does.
pub(crate) fn shadow_proc_exit(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "proc_exit",
        |_caller: Caller<'_, HostState>, status: i32| -> wasmtime::Result<()> {
            Err(wasmtime_wasi::I32Exit(status).into())
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Defines `abi_version`, `interrupted`, `context`, `log`, `last_error` and the `exec_*`
/// functions.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "abi_version", || ABI_VERSION)?;
    linker.func_wrap(
        MODULE,
        "interrupted",
        |caller: Caller<'_, HostState>, clear: i32| {
            caller
                .data()
                .bridge
                .interrupt
                .as_ref()
                .is_some_and(|i| i.check(clear != 0)) as i32
        },
    )?;
    linker.func_wrap(
        MODULE,
        "context",
        |mut caller: Caller<'_, HostState>, buf: i32, cap: i32| {
            let json = std::mem::take(&mut caller.data_mut().bridge.context_json);
            let n = reply(&mut caller, &json, buf, cap);
            caller.data_mut().bridge.context_json = json;
            n
        },
    )?;
    linker.func_wrap(
        MODULE,
        "last_error",
        |mut caller: Caller<'_, HostState>, buf: i32, cap: i32| {
            let message = std::mem::take(&mut caller.data_mut().bridge.last_error);
            let n = reply(&mut caller, message.as_bytes(), buf, cap);
            caller.data_mut().bridge.last_error = message;
            n
        },
    )?;
    linker.func_wrap(
        MODULE,
        "log",
        |mut caller: Caller<'_, HostState>, level: i32, ptr: i32, len: i32| {
            let len = len.min(MAX_LOG_LINE_BYTES as i32);
            let message = match read_guest(&mut caller, ptr, len) {
                Ok(bytes) => bytes,
                Err(code) => return code,
            };
            let mut line = format!("[{}] ", level_name(level)).into_bytes();
            line.extend(message.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
            line.push(b'\n');
            caller.data().bridge.output.push(Stream::Stderr, &line);
            0
        },
    )?;
    super::exec_link::add_to_linker(linker)
}
