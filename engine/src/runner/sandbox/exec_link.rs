//! The `exec_*` functions of the `hookbox` import module, on the bridge's host side
//! ([`ExecHost`]): each request is checked against the tenant's policy and run confined.
//!
//! In: the guest's `(ptr, len)` requests and buffers. Out: handles, bytes, statuses, or a
//! negative ABI code with the message kept for `last_error`. The calls are async: a call
//! blocked on a command (its output, its exit) is dropped with the run's future at the
//! deadline, and `shutdown` at the end of the run kills whatever is still running.

use std::sync::Arc;

use wasmtime::{Caller, Linker};

use super::abi::{read_guest, reply, write_guest, ERR_BAD_REQUEST, MODULE};
use super::store::HostState;
use crate::bridge::exec::{ExecConfig, ExecHost};
use crate::runner::output::OutputCapper;
use crate::runner::{Invocation, Stream};

/// Per-run exec state: the bridge's process table for this hook.
pub(crate) struct ExecState(ExecHost);

impl ExecState {
    pub(crate) fn new(
        invocation: &Invocation,
        deadline: tokio::time::Instant,
        output: &Arc<OutputCapper>,
    ) -> Self {
        let capper = Arc::clone(output);
        let mut host = ExecHost::new(ExecConfig {
            policy: invocation.policy.clone(),
            work_dir: invocation.work_dir.clone(),
            temp_dir: invocation.temp_dir.clone(),
            deadline,
            limits: invocation.limits.clone(),
            stdout: Arc::new(move |stream: Stream, bytes: &[u8]| capper.push(stream, bytes)),
        });
        for dir in &invocation.shared_dirs {
            host.grant_dir(dir.clone());
        }
        ExecState(host)
    }

    /// Bridged commands asking for the hook's stdin get the host process's own (`hookbox
    /// shell`, whose guest reads that stdin exactly; see `stdio::ExactStdin`).
    pub(crate) fn inherit_stdin(&mut self) {
        self.0.inherit_stdin();
    }

    /// Kills whatever the hook started and is still running.
    pub(crate) async fn shutdown(&mut self) {
        self.0.shutdown().await;
    }
}

fn handle(caller: &mut Caller<'_, HostState>, h: i32) -> Result<u32, i32> {
    u32::try_from(h).map_err(|_| caller.data_mut().bridge.fail(ERR_BAD_REQUEST, "bad handle"))
}

fn to_i32<T: TryInto<i32>>(caller: &mut Caller<'_, HostState>, v: T) -> i32 {
    v.try_into().unwrap_or_else(|_| {
        caller
            .data_mut()
            .bridge
            .fail(ERR_BAD_REQUEST, "value too large")
    })
}

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        MODULE,
        "exec_which",
        |mut caller: Caller<'_, HostState>, ptr: i32, len: i32, buf: i32, cap: i32| -> i32 {
            let request = match read_guest(&mut caller, ptr, len) {
                Ok(r) => r,
                Err(code) => return code,
            };
            match caller.data_mut().bridge.exec.0.which(&request) {
                Ok(path) => reply(&mut caller, path.to_string_lossy().as_bytes(), buf, cap),
                Err(e) => {
                    let code = e.code();
                    caller.data_mut().bridge.fail(code, e.to_string())
                }
            }
        },
    )?;
    linker.func_wrap(
        MODULE,
        "path_mode",
        |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| -> i32 {
            let path = match read_guest(&mut caller, ptr, len) {
                Ok(p) => p,
                Err(code) => return code,
            };
            let path = String::from_utf8_lossy(&path).into_owned();
            match caller.data().bridge.exec.0.path_mode(&path) {
                Ok(mode) => to_i32(&mut caller, mode),
                Err(e) => {
                    let code = e.code();
                    caller.data_mut().bridge.fail(code, e.to_string())
                }
            }
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "exec_spawn",
        |mut caller: Caller<'_, HostState>, (ptr, len): (i32, i32)| {
            Box::new(async move {
                let request = match read_guest(&mut caller, ptr, len) {
                    Ok(r) => r,
                    Err(code) => return Ok(code),
                };
                let result = caller.data_mut().bridge.exec.0.spawn(&request).await;
                Ok(match result {
                    Ok(h) => to_i32(&mut caller, h),
                    Err(e) => {
                        let code = e.code();
                        caller.data_mut().bridge.fail(code, e.to_string())
                    }
                })
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "exec_write",
        |mut caller: Caller<'_, HostState>, (h, ptr, len): (i32, i32, i32)| {
            Box::new(async move {
                let h = match handle(&mut caller, h) {
                    Ok(h) => h,
                    Err(code) => return Ok(code),
                };
                let data = match read_guest(&mut caller, ptr, len) {
                    Ok(d) => d,
                    Err(code) => return Ok(code),
                };
                let result = caller.data_mut().bridge.exec.0.write(h, &data).await;
                Ok(match result {
                    Ok(n) => to_i32(&mut caller, n),
                    Err(e) => {
                        let code = e.code();
                        caller.data_mut().bridge.fail(code, e.to_string())
                    }
                })
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "exec_close_stdin",
        |mut caller: Caller<'_, HostState>, (h,): (i32,)| {
            Box::new(async move {
                let h = match handle(&mut caller, h) {
                    Ok(h) => h,
                    Err(code) => return Ok(code),
                };
                let result = caller.data_mut().bridge.exec.0.close_stdin(h).await;
                Ok(match result {
                    Ok(()) => 0,
                    Err(e) => {
                        let code = e.code();
                        caller.data_mut().bridge.fail(code, e.to_string())
                    }
                })
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "exec_read",
        |mut caller: Caller<'_, HostState>, (h, fd, buf, cap): (i32, i32, i32, i32)| {
            Box::new(async move {
                let h = match handle(&mut caller, h) {
                    Ok(h) => h,
                    Err(code) => return Ok(code),
                };
                let (Ok(fd), Ok(max)) = (u32::try_from(fd), usize::try_from(cap)) else {
                    return Ok(caller
                        .data_mut()
                        .bridge
                        .fail(ERR_BAD_REQUEST, "bad fd or buffer"));
                };
                let result = caller.data_mut().bridge.exec.0.read(h, fd, max).await;
                Ok(match result {
                    Ok(bytes) => {
                        match write_guest(&mut caller, buf, &bytes[..bytes.len().min(max)]) {
                            Ok(()) => to_i32(&mut caller, bytes.len().min(max)),
                            Err(code) => code,
                        }
                    }
                    Err(e) => {
                        let code = e.code();
                        caller.data_mut().bridge.fail(code, e.to_string())
                    }
                })
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "exec_wait",
        |mut caller: Caller<'_, HostState>, (h,): (i32,)| {
            Box::new(async move {
                let h = match handle(&mut caller, h) {
                    Ok(h) => h,
                    Err(code) => return Ok(code),
                };
                let interrupt = caller.data().bridge.interrupt.clone();
                let bridge = &mut caller.data_mut().bridge;
                let result = match interrupt {
                    None => bridge.exec.0.wait(h).await,
                    Some(interrupt) => {
                        // Ctrl-C reaches the command as it would under bash: it ends.
                        tokio::select! {
                            result = bridge.exec.0.wait(h) => result,
                            () = interrupt.raised() => {
                                bridge.exec.0.kill_all();
                                bridge.exec.0.wait(h).await
                            }
                        }
                    }
                };
                Ok(match result {
                    Ok(status) => status,
                    Err(e) => {
                        let code = e.code();
                        caller.data_mut().bridge.fail(code, e.to_string())
                    }
                })
            })
        },
    )?;
    linker.func_wrap(
        MODULE,
        "exec_stdin_end",
        |mut caller: Caller<'_, HostState>, h: i32, out: i32| -> i32 {
            let h = match handle(&mut caller, h) {
                Ok(h) => h,
                Err(code) => return code,
            };
            match caller.data_mut().bridge.exec.0.stdin_end(h) {
                Ok(end) => match write_guest(&mut caller, out, &end.to_le_bytes()) {
                    Ok(()) => 0,
                    Err(code) => code,
                },
                Err(e) => {
                    let code = e.code();
                    caller.data_mut().bridge.fail(code, e.to_string())
                }
            }
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "exec_kill",
        |mut caller: Caller<'_, HostState>, (h,): (i32,)| {
            Box::new(async move {
                let h = match handle(&mut caller, h) {
                    Ok(h) => h,
                    Err(code) => return Ok(code),
                };
                let result = caller.data_mut().bridge.exec.0.kill(h).await;
                Ok(match result {
                    Ok(()) => 0,
                    Err(e) => {
                        let code = e.code();
                        caller.data_mut().bridge.fail(code, e.to_string())
                    }
                })
            })
        },
    )?;
    Ok(())
}
