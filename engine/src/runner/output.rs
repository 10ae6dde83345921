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
            self.flush_finished(&mut state);
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
                        let at = self.cut(pending, LINE_CHUNK_BYTES);
                        let rest = pending.split_off(at);
                        let chunk = std::mem::replace(pending, rest);
                        self.sink.line(stream, &chunk);
                    }
                    bytes = &[];
                }
            }
        }
    }

    /// Where to cut a piece of at most `max` bytes off the front of `bytes`: where the sink
    /// says (before a secret that would straddle the cut), or at `max` when the sink finds no
    /// place (a secret longer than a whole piece is cut like any text).
    fn cut(&self, bytes: &[u8], max: usize) -> usize {
        match self.sink.cut_point(bytes, max) {
            0 => max,
            at => at.min(max),
        }
    }

    /// Delivers one line, in pieces of at most [`LINE_CHUNK_BYTES`], cut where no secret is
    /// split.
    fn deliver_chunks(&self, stream: Stream, mut line: &[u8]) {
        if line.len() <= LINE_CHUNK_BYTES {
            self.sink.line(stream, line);
            return;
        }
        while line.len() > LINE_CHUNK_BYTES {
            let at = self.cut(line, LINE_CHUNK_BYTES);
            self.sink.line(stream, &line[..at]);
            line = &line[at..];
        }
        if !line.is_empty() {
            self.sink.line(stream, line);
        }
    }

    /// Delivers the partial lines the output cap cut off: their ends are dropped, so a
    /// secret's beginning at the end is dropped with them rather than logged half.
    fn flush_partials(&self, state: &mut State) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let pending = std::mem::take(state.pending(stream));
            if !pending.is_empty() {
                let at = self.sink.cut_point(&pending, pending.len());
                if at > 0 {
                    self.sink.line(stream, &pending[..at]);
                }
            }
        }
    }

    /// Delivers the partial lines at the end of the output as they are: that is where the
    /// hook's output ended.
    fn flush_finished(&self, state: &mut State) {
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

    /// A sink that refuses cuts inside `SECRET`, as the redacting sink does.
    struct Guarded(Collect);
    const SECRET: &[u8] = b"s3cr3t-t0ken-value";

    impl OutputSink for Guarded {
        fn line(&self, stream: Stream, line: &[u8]) {
            self.0.line(stream, line)
        }
        fn truncated(&self, cap_bytes: u64) {
            self.0.truncated(cap_bytes)
        }
        fn cut_point(&self, bytes: &[u8], at: usize) -> usize {
            let mut r = crate::events::redact::Redactor::empty();
            r.add_secret(std::str::from_utf8(SECRET).unwrap());
            r.cut_point(bytes, at)
        }
    }

    fn guarded(cap: u64) -> (Arc<Guarded>, OutputCapper) {
        let sink = Arc::new(Guarded(Collect::default()));
        (sink.clone(), OutputCapper::new(sink, cap))
    }

    #[test]
    fn a_secret_across_the_line_split_stays_in_one_piece() {
        let mut line = vec![b'x'; LINE_CHUNK_BYTES - 5];
        line.extend_from_slice(SECRET);
        line.extend_from_slice(b"tail");
        // Whole, in one push, and byte by byte around the split: the same pieces.
        for pushes in [
            vec![line.clone()],
            line.chunks(7).map(<[u8]>::to_vec).collect(),
        ] {
            let (sink, out) = guarded(u64::MAX);
            for p in &pushes {
                out.push(Stream::Stdout, p);
            }
            out.push(Stream::Stdout, b"\n");
            let lines = sink.0.lines.lock().unwrap().clone();
            assert!(lines.iter().all(|(_, l)| l.len() <= LINE_CHUNK_BYTES));
            assert!(
                lines
                    .iter()
                    .any(|(_, l)| l.windows(SECRET.len()).any(|w| w == SECRET)),
                "the secret was cut in two"
            );
            assert_eq!(lines.concat_bytes(), line);
        }
    }

    #[test]
    fn the_cap_drops_a_secrets_beginning_rather_than_logging_it() {
        let (sink, out) = guarded(20);
        out.push(Stream::Stdout, b"ab\ncd s3cr3t-");
        // stderr floods past the cap: stdout's partial line is cut there.
        out.push(Stream::Stderr, &[b'e'; 100]);
        let texts = texts(&sink.0);
        assert_eq!(texts[0], "ab");
        assert!(texts.iter().all(|t| !t.contains("s3cr3t")), "{texts:?}");
        assert!(texts.contains(&"cd ".to_string()), "{texts:?}");
    }

    trait ConcatBytes {
        fn concat_bytes(&self) -> Vec<u8>;
    }
    impl ConcatBytes for Vec<(Stream, Vec<u8>)> {
        fn concat_bytes(&self) -> Vec<u8> {
            self.iter().flat_map(|(_, l)| l.iter().copied()).collect()
        }
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
