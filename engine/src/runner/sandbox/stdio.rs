//! The guest's stdout and stderr as WASI output streams that feed the [`OutputCapper`], and
//! the host's stdin read exactly for `hookbox shell` ([`ExactStdin`]).
//!
//! In: `fd_write` on fd 1 and 2 (wasmtime-wasi calls the stream). Out: bytes pushed to the
//! hook's capper. Writes always succeed, also past the cap (the bytes are dropped there), so
//! a hook is never failed for its output volume, as the Contracts require.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdinStream, StdoutStream};
use wasmtime_wasi::p2::{InputStream, OutputStream, Pollable, StreamError, StreamResult};

use super::abi::Interrupt;
use crate::runner::output::OutputCapper;
use crate::runner::Stream;

/// Largest write the guest is offered at once (wasi `check-write`). 64 KiB.
const WRITE_BUDGET_BYTES: usize = 64 * 1024;

/// One of the guest's output streams.
#[derive(Clone)]
pub(crate) struct GuestOutput {
    capper: Arc<OutputCapper>,
    stream: Stream,
}

impl GuestOutput {
    pub(crate) fn new(capper: Arc<OutputCapper>, stream: Stream) -> Self {
        GuestOutput { capper, stream }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.capper.push(self.stream, &bytes);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_BUDGET_BYTES)
    }
}

impl AsyncWrite for GuestOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.capper.push(self.stream, buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The host process's stdin for a guest that reads it (`hookbox shell` with a script that is not
/// on stdin), read exactly as far as the guest asks and never ahead: the guest's `read` takes
/// one line byte by byte, as bash's does on a pipe, and a bridged command given the same stdin
/// (`"stdin": "inherit"`) then gets the rest (`read first; /usr/bin/cat`).
///
/// On a terminal, Ctrl-C ([`Interrupt`]) ends the guest read waiting for a line with an
/// error (the guest's `read` fails and its command line is abandoned, as bash's is); the
/// read of the terminal still under way is kept, and what it brings goes to the next guest
/// read (the prompt), not to the abandoned one.
#[derive(Clone, Default)]
pub(crate) struct ExactStdin {
    interrupt: Option<Arc<Interrupt>>,
    state: Arc<std::sync::Mutex<PendingStdin>>,
}

/// A read of fd 0 that an interrupted guest read left running, and bytes it brought beyond
/// what the guest then asked for.
#[derive(Default)]
struct PendingStdin {
    read: Option<tokio::task::JoinHandle<std::io::Result<Vec<u8>>>>,
    leftover: Vec<u8>,
}

impl ExactStdin {
    pub(crate) fn new(interrupt: Option<Arc<Interrupt>>) -> Self {
        ExactStdin {
            interrupt,
            state: Arc::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PendingStdin> {
        // Holds no invariant a panic could break half-way.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads up to `size` bytes of fd 0 on a blocking thread (an empty result is end of input).
fn read_fd0(size: usize) -> tokio::task::JoinHandle<std::io::Result<Vec<u8>>> {
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; size];
        loop {
            // SAFETY: buf is writable for `size` bytes; fd 0 is the process's stdin. Not
            // through std's Stdin, whose buffer would read ahead of the guest.
            let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), size) };
            if n >= 0 {
                buf.truncate(n as usize);
                return Ok(buf);
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    })
}

/// Largest read of the host's stdin for one guest read. 64 KiB.
const STDIN_READ_MAX_BYTES: usize = 64 * 1024;

impl IsTerminal for ExactStdin {
    fn is_terminal(&self) -> bool {
        std::io::IsTerminal::is_terminal(&std::io::stdin())
    }
}

impl StdinStream for ExactStdin {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncRead + Send + Sync> {
        // Only the preview 2 stream is used (preview 1 reads through it).
        Box::new(tokio::io::empty())
    }
    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for ExactStdin {
    async fn ready(&mut self) {}
}

#[wasmtime_wasi::async_trait]
impl InputStream for ExactStdin {
    fn read(&mut self, _size: usize) -> StreamResult<Bytes> {
        // Non-blocking reads see nothing ready; reading happens in `blocking_read`.
        Ok(Bytes::new())
    }

    async fn blocking_read(&mut self, size: usize) -> StreamResult<Bytes> {
        let size = size.min(STDIN_READ_MAX_BYTES);
        if size == 0 {
            return Ok(Bytes::new());
        }
        let mut read = {
            let mut state = self.state();
            if !state.leftover.is_empty() {
                let n = size.min(state.leftover.len());
                return Ok(Bytes::from(state.leftover.drain(..n).collect::<Vec<u8>>()));
            }
            // The run's deadline drops this future; the thread ends with its read.
            state.read.take().unwrap_or_else(|| read_fd0(size))
        };
        let done = match &self.interrupt {
            Some(interrupt) => tokio::select! {
                done = &mut read => done,
                () = interrupt.raised() => {
                    self.state().read = Some(read);
                    return Err(StreamError::LastOperationFailed(
                        std::io::Error::from(std::io::ErrorKind::Interrupted).into(),
                    ));
                }
            },
            None => read.await,
        };
        match done {
            Ok(Ok(buf)) if buf.is_empty() => Err(StreamError::Closed),
            Ok(Ok(mut buf)) => {
                // A read left by an interrupted guest read may hold more than this one asks.
                if buf.len() > size {
                    self.state().leftover = buf.split_off(size);
                }
                Ok(Bytes::from(buf))
            }
            Ok(Err(err)) => Err(StreamError::LastOperationFailed(err.into())),
            Err(err) => Err(StreamError::trap(&format!("reading stdin: {err}"))),
        }
    }
}
