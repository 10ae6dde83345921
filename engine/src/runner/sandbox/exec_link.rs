//! The `exec_*` functions of the `hookbox` import module.
//!
//! Placeholder until the bridge's host side (`crate::bridge::exec::ExecHost`) is merged:
//! every `exec_*` call fails with `SPAWN_FAILED` and says why, so a guest that uses the
//! bridge gets a clear error instead of an unknown-import failure. Nothing runs on the host.

use wasmtime::{Caller, Linker};

use super::abi::{ERR_SPAWN_FAILED, MODULE};
use super::store::HostState;

/// Per-run exec state (none without the bridge).
pub(crate) struct ExecState;

impl ExecState {
    /// Kills whatever the hook started and is still running.
    pub(crate) async fn shutdown(&mut self) {}
}

const UNAVAILABLE: &str = "running host commands through the bridge is not available in this build";

fn unavailable(caller: &mut Caller<'_, HostState>) -> i32 {
    caller.data_mut().bridge.fail(ERR_SPAWN_FAILED, UNAVAILABLE)
}

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        MODULE,
        "exec_spawn",
        |mut c: Caller<'_, HostState>, _: i32, _: i32| unavailable(&mut c),
    )?;
    linker.func_wrap(
        MODULE,
        "exec_write",
        |mut c: Caller<'_, HostState>, _: i32, _: i32, _: i32| unavailable(&mut c),
    )?;
    linker.func_wrap(
        MODULE,
        "exec_close_stdin",
        |mut c: Caller<'_, HostState>, _: i32| unavailable(&mut c),
    )?;
    linker.func_wrap(
        MODULE,
        "exec_read",
        |mut c: Caller<'_, HostState>, _: i32, _: i32, _: i32, _: i32| unavailable(&mut c),
    )?;
    linker.func_wrap(
        MODULE,
        "exec_wait",
        |mut c: Caller<'_, HostState>, _: i32| unavailable(&mut c),
    )?;
    linker.func_wrap(
        MODULE,
        "exec_kill",
        |mut c: Caller<'_, HostState>, _: i32| unavailable(&mut c),
    )?;
    Ok(())
}
