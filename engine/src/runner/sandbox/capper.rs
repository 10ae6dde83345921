//! Output cap and line splitting for a sandboxed hook's stdout and stderr (and its bridged
//! commands' inherited streams and log lines).
//!
//! In: byte chunks as the guest writes them. Out: whole lines to the [`OutputSink`], until
//! `cap` bytes have passed; then one `truncated` call and nothing more. Temporary: the native
//! runner's shared `runner::output::OutputCapper` replaces it when the branches merge (same
//! method names).

use std::sync::{Arc, Mutex};

use crate::runner::{OutputSink, Stream};

/// A line longer than this is delivered in pieces of this size, so a guest that never writes
/// a newline cannot grow the buffer without bound. 64 KiB.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

#[derive(Default)]
struct State {
    passed: u64,
    truncated: bool,
    partial: [Vec<u8>; 2],
}

/// Splits output into lines and enforces the per-hook output cap.
pub struct OutputCapper {
    sink: Arc<dyn OutputSink>,
    cap: u64,
    state: Mutex<State>,
}

fn index(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

fn stream_of(index: usize) -> Stream {
    if index == 0 {
        Stream::Stdout
    } else {
        Stream::Stderr
    }
}

impl OutputCapper {
    /// A capper delivering to `sink`, keeping at most `cap` bytes.
    pub fn new(sink: Arc<dyn OutputSink>, cap: u64) -> Self {
        OutputCapper {
            sink,
            cap,
            state: Mutex::new(State::default()),
        }
    }

    /// Output from one stream, as it comes.
    pub fn push(&self, stream: Stream, bytes: &[u8]) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if state.truncated {
            return;
        }
        let room = self.cap.saturating_sub(state.passed);
        let take = usize::try_from(room).unwrap_or(usize::MAX).min(bytes.len());
        state.passed += take as u64;
        if self.sink.raw(stream, &bytes[..take]) {
            if take < bytes.len() {
                state.truncated = true;
                self.sink.truncated(self.cap);
            }
            return;
        }
        let i = index(stream);
        let mut rest = &bytes[..take];
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let (line, tail) = rest.split_at(nl);
            if state.partial[i].is_empty() {
                self.sink.line(stream, line);
            } else {
                state.partial[i].extend_from_slice(line);
                let whole = std::mem::take(&mut state.partial[i]);
                self.sink.line(stream, &whole);
            }
            rest = &tail[1..];
        }
        state.partial[i].extend_from_slice(rest);
        while state.partial[i].len() >= MAX_LINE_BYTES {
            let piece: Vec<u8> = state.partial[i].drain(..MAX_LINE_BYTES).collect();
            self.sink.line(stream, &piece);
        }
        if take < bytes.len() {
            state.truncated = true;
            Self::flush(&self.sink, &mut state);
            self.sink.truncated(self.cap);
        }
    }

    /// Delivers unterminated last lines. Call once when the hook has ended.
    pub fn finish(&self) {
        if let Ok(mut state) = self.state.lock() {
            Self::flush(&self.sink, &mut state);
        }
    }

    /// Whether output passed the cap.
    pub fn truncated(&self) -> bool {
        self.state.lock().map(|s| s.truncated).unwrap_or(false)
    }

    fn flush(sink: &Arc<dyn OutputSink>, state: &mut State) {
        for i in 0..2 {
            if !state.partial[i].is_empty() {
                let line = std::mem::take(&mut state.partial[i]);
                sink.line(stream_of(i), &line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Mutex<Vec<(Stream, Vec<u8>)>>, Mutex<Option<u64>>);
    impl OutputSink for Collect {
        fn line(&self, stream: Stream, line: &[u8]) {
            self.0.lock().unwrap().push((stream, line.to_vec()));
        }
        fn truncated(&self, cap: u64) {
            *self.1.lock().unwrap() = Some(cap);
        }
    }

    #[test]
    fn lines_split_across_chunks_and_cut_at_cap() {
        let sink = Arc::new(Collect::default());
        let capper = OutputCapper::new(sink.clone(), 10);
        capper.push(Stream::Stdout, b"ab");
        capper.push(Stream::Stdout, b"c\nde");
        capper.push(Stream::Stderr, b"x\n");
        capper.push(Stream::Stdout, b"fghijk\n");
        capper.push(Stream::Stdout, b"more\n");
        capper.finish();
        let lines = sink.0.lock().unwrap().clone();
        assert_eq!(
            lines,
            vec![
                (Stream::Stdout, b"abc".to_vec()),
                (Stream::Stderr, b"x".to_vec()),
                (Stream::Stdout, b"defg".to_vec()),
            ]
        );
        assert_eq!(*sink.1.lock().unwrap(), Some(10));
        assert!(capper.truncated());
    }
}
