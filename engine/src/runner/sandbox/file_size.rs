//! The guest's file-size limit ([`crate::limits::Limits::file_size_bytes`]), the sandbox's
//! counterpart of the `RLIMIT_FSIZE` bridged commands run under: no write the guest makes
//! through WASI may make a regular file larger than the limit.
//!
//! In: the guest's `fd_write`, `fd_pwrite` and `fd_filestat_set_size` calls. Out: the same
//! calls passed on to wasmtime-wasi's own implementation, or `EFBIG` (errno 22 in WASI
//! numbering, "File too large") without touching the file when the call would end past the
//! limit, with one line on the hook's stderr saying so. Writes to stdout, stderr and
//! anything that is not a regular file pass through unchecked (the output cap bounds those).
//!
//! `RLIMIT_FSIZE` itself cannot be used: the guest runs inside hookbox's own process, whose
//! own files (logs, the module cache) must not be limited, and the kernel would kill the
//! whole process with `SIGXFSZ`. The check runs before the write, from the descriptor's
//! size and position, through wasmtime-wasi's preview 1 functions (pinned to wasmtime-wasi
//! 48 with the rest of the crate); a whole write that would cross the limit is refused, so
//! the file stays at most the limit.

use wasmtime::{AsContextMut, Caller, Extern, Linker};
use wasmtime_wasi::p1::types;
use wasmtime_wasi::p1::wasi_snapshot_preview1::{self as p1, WasiSnapshotPreview1};
use wiggle::GuestMemory;

use super::store::HostState;
use crate::runner::output::OutputCapper;
use crate::runner::Stream;

const WASI: &str = "wasi_snapshot_preview1";
/// Bytes of one `ciovec` in guest memory: a 32-bit pointer and a 32-bit length.
const CIOVEC_BYTES: usize = 8;

/// Per-run state of the limit.
pub(crate) struct FileSizeLimit {
    /// The limit in bytes.
    pub(crate) bytes: u64,
    /// Where the one notice goes.
    output: std::sync::Arc<OutputCapper>,
    reported: bool,
}

impl FileSizeLimit {
    pub(crate) fn new(bytes: u64, output: std::sync::Arc<OutputCapper>) -> Self {
        FileSizeLimit {
            bytes,
            output,
            reported: false,
        }
    }

    /// `EFBIG` for the guest, and the first time a line on its stderr.
    fn refuse(&mut self, wanted: u64) -> i32 {
        if !self.reported {
            self.reported = true;
            let line = format!(
                "hookbox: file size limit reached: a write would make a file {wanted} bytes, \
                 the limit is {} bytes (EFBIG)\n",
                self.bytes
            );
            self.output.push(Stream::Stderr, line.as_bytes());
        }
        types::Errno::Fbig as i32
    }
}

/// Replaces the three preview 1 functions that can grow a file. Call after wasmtime-wasi's
/// own functions are in `linker`.
pub(crate) fn shadow_file_writes(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap_async(
        WASI,
        "fd_write",
        |caller: Caller<'_, HostState>, (fd, iovs, iovs_len, nwritten): (i32, i32, i32, i32)| {
            Box::new(checked_write(caller, fd, iovs, iovs_len, None, nwritten))
        },
    )?;
    linker.func_wrap_async(
        WASI,
        "fd_pwrite",
        |caller: Caller<'_, HostState>,
         (fd, iovs, iovs_len, offset, nwritten): (i32, i32, i32, i64, i32)| {
            Box::new(checked_write(
                caller,
                fd,
                iovs,
                iovs_len,
                Some(offset),
                nwritten,
            ))
        },
    )?;
    linker.func_wrap_async(
        WASI,
        "fd_filestat_set_size",
        |mut caller: Caller<'_, HostState>, (fd, size): (i32, i64)| {
            Box::new(async move {
                // A size is an unsigned 64-bit number passed as i64.
                let wanted = size as u64;
                if wanted > caller.data().file_limit.bytes {
                    return Ok(caller.data_mut().file_limit.refuse(wanted));
                }
                let (mut mem, state) = guest_memory(&mut caller)?;
                p1::fd_filestat_set_size(&mut state.wasi, &mut mem, fd, size).await
            })
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The guest's memory and the store state, set up as wasmtime-wasi's own glue sets them up
/// (the host-call fuel bounds how much guest memory one call may copy).
fn guest_memory<'a>(
    caller: &'a mut Caller<'_, HostState>,
) -> wasmtime::Result<(GuestMemory<'a>, &'a mut HostState)> {
    let fuel = caller.as_context_mut().hostcall_fuel();
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => {
            let (data, state) = memory.data_and_store_mut(caller);
            state.wasi.set_hostcall_fuel(fuel);
            Ok((GuestMemory::Unshared(data), state))
        }
        // Shared memories need the threads proposal, which this engine does not enable.
        _ => wasmtime::bail!("the module exports no (unshared) memory named `memory`"),
    }
}

async fn checked_write(
    mut caller: Caller<'_, HostState>,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    offset: Option<i64>,
    nwritten: i32,
) -> wasmtime::Result<i32> {
    let limit = caller.data().file_limit.bytes;
    let (mut mem, state) = guest_memory(&mut caller)?;
    if let Some(end) = write_end(&mut state.wasi, &mut mem, fd, iovs, iovs_len, offset).await {
        if end > limit {
            return Ok(state.file_limit.refuse(end));
        }
    }
    match offset {
        None => p1::fd_write(&mut state.wasi, &mut mem, fd, iovs, iovs_len, nwritten).await,
        Some(offset) => {
            p1::fd_pwrite(
                &mut state.wasi,
                &mut mem,
                fd,
                iovs,
                iovs_len,
                offset,
                nwritten,
            )
            .await
        }
    }
}

/// Where a write would end in its file: `None` when it is not a write to a regular file
/// (or the call is malformed: wasmtime-wasi then reports the error itself).
async fn write_end(
    wasi: &mut wasmtime_wasi::p1::WasiP1Ctx,
    mem: &mut GuestMemory<'_>,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    offset: Option<i64>,
) -> Option<u64> {
    let len = first_buffer_len(mem, iovs, iovs_len)?;
    if len == 0 {
        return None;
    }
    let fd = types::Fd::from(u32::try_from(fd).ok()?);
    let stat = wasi.fd_filestat_get(mem, fd).await.ok()?;
    if stat.filetype != types::Filetype::RegularFile {
        return None;
    }
    let flags = wasi.fd_fdstat_get(mem, fd).await.ok()?.fs_flags;
    // Linux semantics, which wasmtime-wasi follows: an append-mode write goes to the end
    // whatever the offset says.
    let start = if flags.contains(types::Fdflags::APPEND) {
        stat.size
    } else {
        match offset {
            Some(offset) => offset as u64,
            None => wasi.fd_tell(mem, fd).ok()?,
        }
    };
    Some(start.saturating_add(len))
}

/// Length of the first non-empty buffer of a `ciovec` array: wasmtime-wasi writes exactly
/// that one buffer per call.
fn first_buffer_len(mem: &GuestMemory<'_>, iovs: i32, iovs_len: i32) -> Option<u64> {
    let GuestMemory::Unshared(data) = mem else {
        return None;
    };
    let start = usize::try_from(iovs).ok()?;
    let count = usize::try_from(iovs_len).ok()?;
    let end = start.checked_add(count.checked_mul(CIOVEC_BYTES)?)?;
    let array = data.get(start..end)?;
    array.chunks_exact(CIOVEC_BYTES).find_map(|iov| {
        let len = u32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]);
        (len != 0).then_some(u64::from(len))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_non_empty_buffer_is_what_a_write_writes() {
        let mut data = vec![0u8; 64];
        // Three ciovecs at 8: (ptr 0, len 0), (ptr 0, len 5), (ptr 0, len 9).
        data[8 + 12..8 + 16].copy_from_slice(&5u32.to_le_bytes());
        data[8 + 20..8 + 24].copy_from_slice(&9u32.to_le_bytes());
        let mem = GuestMemory::Unshared(&mut data);
        assert_eq!(first_buffer_len(&mem, 8, 3), Some(5));
        assert_eq!(first_buffer_len(&mem, 8, 1), None);
        // An array past the end of memory is left to wasmtime-wasi to refuse.
        assert_eq!(first_buffer_len(&mem, 60, 3), None);
        assert_eq!(first_buffer_len(&mem, -1, 3), None);
    }
}
