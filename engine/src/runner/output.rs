//! Output of one hook: raw bytes from its stdout and stderr in, whole lines out to the
//! [`OutputSink`] as they come, under the output cap.
//!
//! Both runners feed an [`OutputCapper`] (the native runner from its pipes, the sandbox runner
//! from its WASI pipes and bridged commands); it is shared per hook and thread-safe. Memory
//! stays bounded whatever the hook prints: a line longer than [`LINE_CHUNK_BYTES`] without a
//! newline is delivered in chunks of that size, and past the cap (counted over both streams
//! together, newlines included) bytes are dropped on arrival. The cap is announced once with
//! [`OutputSink::truncated`]; the hook is not failed for it, and the runner keeps draining the
//! hook's output so the hook never blocks on a full pipe.

use std::sync::{Arc, Mutex, MutexGuard};

use super::{OutputSink, Stream};

/// Longest piece of a line held before it is delivered without its end: 64 KiB. A hook
/// printing megabytes without a newline is delivered in pieces of this size, so the memory
/// held per stream never exceeds it.
pub const LINE_CHUNK_BYTES: usize = 64 * 1024;

/// Splits a hook's output into lines, counts it against the cap and delivers it to a sink.
pub struct OutputCapper {
    sink: Arc<dyn OutputSink>,
    cap_bytes: u64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Bytes accepted so far (both streams, newlines included).
    used: u64,
    /// The cap was reached: everything from now on is dropped.
    truncated: bool,
    /// The end of the output was signalled: partial lines were delivered.
    finished: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl State {
    fn pending(&mut self, stream: Stream) -> &mut Vec<u8> {
        match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        }
    }
}

impl OutputCapper {
    /// A capper delivering to `sink`, keeping at most `cap_bytes` bytes of output.
    pub fn new(sink: Arc<dyn OutputSink>, cap_bytes: u64) -> Self {
        OutputCapper {
            sink,
            cap_bytes,
            state: Mutex::new(State::default()),
        }
    }

    /// Bytes from `stream`, as they come. Whole lines are delivered at once; a partial line is
    /// kept until its newline (or until it reaches [`LINE_CHUNK_BYTES`]).
    pub fn push(&self, stream: Stream, bytes: &[u8]) {
        let mut state = self.lock();
        if state.truncated || state.finished || bytes.is_empty() {
            return;
        }
        let room = self.cap_bytes.saturating_sub(state.used);
        let take = usize::try_from(room).map_or(bytes.len(), |room| room.min(bytes.len()));
        let (kept, dropped) = bytes.split_at(take);
        state.used += kept.len() as u64;
        // A terminal sink (`hookbox shell`) takes the bytes as written, partial lines kept.
        if kept.is_empty() || !self.sink.raw(stream, kept) {
            self.split_lines(&mut state, stream, kept);
        }
        if !dropped.is_empty() {
            // Deliver what was accepted of the cut lines, then the single marker.
            self.flush_partials(&mut state);
            state.truncated = true;
            self.sink.truncated(self.cap_bytes);
        }
    }

    /// The output ended (both streams closed): deliver partial lines. Later pushes are dropped.
    pub fn finish(&self) {
        let mut state = self.lock();
        if !state.finished {
            self.flush_partials(&mut state);
            state.finished = true;
        }
    }

    /// Whether output passed the cap and was cut.
    pub fn truncated(&self) -> bool {
        self.lock().truncated
    }

    /// Bytes accepted so far, over both streams.
    pub fn bytes_kept(&self) -> u64 {
        self.lock().used
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking sink must not make every later push panic too: the state stays valid.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn split_lines(&self, state: &mut State, stream: Stream, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let pending = state.pending(stream);
            match bytes.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    let line = &bytes[..end];
                    if pending.is_empty() {
                        self.deliver_chunks(stream, line);
                    } else {
                        pending.extend_from_slice(line);
                        let whole = std::mem::take(pending);
                        self.deliver_chunks(stream, &whole);
                    }
                    bytes = &bytes[end + 1..];
                }
                None => {
                    pending.extend_from_slice(bytes);
                    while pending.len() >= LINE_CHUNK_BYTES {
                        let rest = pending.split_off(LINE_CHUNK_BYTES);
                        let chunk = std::mem::replace(pending, rest);
                        self.sink.line(stream, &chunk);
                    }
                    bytes = &[];
                }
            }
        }
    }

    /// Delivers one line, in pieces of at most [`LINE_CHUNK_BYTES`].
    fn deliver_chunks(&self, stream: Stream, line: &[u8]) {
        if line.is_empty() {
            self.sink.line(stream, line);
            return;
        }
        for chunk in line.chunks(LINE_CHUNK_BYTES) {
            self.sink.line(stream, chunk);
        }
    }

    fn flush_partials(&self, state: &mut State) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let pending = std::mem::take(state.pending(stream));
            if !pending.is_empty() {
                self.sink.line(stream, &pending);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        lines: Mutex<Vec<(Stream, Vec<u8>)>>,
        truncated: Mutex<Vec<u64>>,
    }

    impl OutputSink for Collect {
        fn line(&self, stream: Stream, line: &[u8]) {
            self.lines.lock().unwrap().push((stream, line.to_vec()));
        }
        fn truncated(&self, cap_bytes: u64) {
            self.truncated.lock().unwrap().push(cap_bytes);
        }
    }

    fn capper(cap: u64) -> (Arc<Collect>, OutputCapper) {
        let sink = Arc::new(Collect::default());
        (sink.clone(), OutputCapper::new(sink, cap))
    }

    fn texts(sink: &Collect) -> Vec<String> {
        let lines = sink.lines.lock().unwrap();
        lines
            .iter()
            .map(|(_, l)| String::from_utf8_lossy(l).into_owned())
            .collect()
    }

    #[test]
    fn lines_split_across_pushes_are_joined() {
        let (sink, out) = capper(1000);
        out.push(Stream::Stdout, b"hel");
        out.push(Stream::Stdout, b"lo\nwor");
        assert_eq!(texts(&sink), ["hello"]);
        out.push(Stream::Stdout, b"ld\n\nend");
        out.finish();
        assert_eq!(texts(&sink), ["hello", "world", "", "end"]);
        assert!(!out.truncated());
    }

    #[test]
    fn streams_keep_their_own_partial_lines() {
        let (sink, out) = capper(1000);
        out.push(Stream::Stdout, b"out-");
        out.push(Stream::Stderr, b"err\n");
        out.push(Stream::Stdout, b"line\n");
        let lines = sink.lines.lock().unwrap().clone();
        assert_eq!(
            lines,
            [
                (Stream::Stderr, b"err".to_vec()),
                (Stream::Stdout, b"out-line".to_vec())
            ]
        );
    }

    #[test]
    fn long_line_is_delivered_in_bounded_chunks() {
        let (sink, out) = capper(u64::MAX);
        let big = vec![b'x'; LINE_CHUNK_BYTES * 2 + 10];
        out.push(Stream::Stdout, &big);
        assert_eq!(
            sink.lines.lock().unwrap().len(),
            2,
            "two full chunks before the end"
        );
        out.finish();
        let lines = sink.lines.lock().unwrap();
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|(_, l)| l.len() <= LINE_CHUNK_BYTES));
        assert_eq!(lines.iter().map(|(_, l)| l.len()).sum::<usize>(), big.len());
    }

    #[test]
    fn cap_counts_both_streams_and_marks_once() {
        let (sink, out) = capper(10);
        out.push(Stream::Stdout, b"abcd\n"); // 5
        out.push(Stream::Stderr, b"efgh\n"); // 10
        out.push(Stream::Stdout, b"dropped\n");
        out.push(Stream::Stdout, b"dropped too\n");
        out.finish();
        assert_eq!(texts(&sink), ["abcd", "efgh"]);
        assert_eq!(*sink.truncated.lock().unwrap(), [10]);
        assert!(out.truncated());
        assert_eq!(out.bytes_kept(), 10);
    }

    #[test]
    fn line_cut_by_the_cap_keeps_its_accepted_part() {
        let (sink, out) = capper(6);
        out.push(Stream::Stdout, b"ab\ncdefgh\n");
        assert_eq!(texts(&sink), ["ab", "cde"]);
        assert_eq!(sink.truncated.lock().unwrap().len(), 1);
    }

    #[test]
    fn output_exactly_at_the_cap_is_not_truncated() {
        let (sink, out) = capper(3);
        out.push(Stream::Stdout, b"ab\n");
        out.finish();
        assert_eq!(texts(&sink), ["ab"]);
        assert!(!out.truncated());
    }
}
