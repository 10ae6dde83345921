//! The guest's stdout and stderr as WASI output streams that feed the [`OutputCapper`].
//!
//! In: `fd_write` on fd 1 and 2 (wasmtime-wasi calls the stream). Out: bytes pushed to the
//! hook's capper. Writes always succeed, also past the cap (the bytes are dropped there), so
//! a hook is never failed for its output volume, as the Contracts require.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

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
