//! Events: everything a run reports, written to `hooks.log`, the terminal, or JSON lines.
//!
//! The lifecycle and the deploy flow call [`Events::emit`] with an [`Event`]; hook output
//! arrives through the [`OutputSink`] made by [`Events::hook_sink`]. Every event is redacted
//! ([`redact::Redactor`]) before it is written anywhere, then:
//! - appended to `hooks.log` (when a log file is configured) with an RFC 3339 UTC timestamp;
//! - printed on the terminal as text, or as one JSON object per line (`--json`).
//!
//! Where events go is open: every redacted event is also handed to each [`EventSink`] added
//! with [`Events::add_sink`] (the fleet worker's database sink is one; a platform can route
//! events anywhere else). The built-in hooks.log writer is the [`FileSink`].
//!
//! Forgery: hookbox's own lines never start with `[`; every line of hook output does
//! (`[pre-deploy.sh] stdout: …`), and control characters in hook output are escaped, so a
//! hook printing `Hook completed successfully` (or `\r`, or an escape sequence) cannot pass
//! for hookbox in the log or on the terminal.

pub mod redact;
pub mod time;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::Serialize;

use crate::plan::RunnerKind;
use crate::runner::{OutputSink, Stream};
use redact::Redactor;

/// The state of a deploy step in a [`Event::Step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    Started,
    Ok,
    Failed,
    Skipped,
}

/// Something a run reports. Serialised with `"event": "<kebab-case name>"`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// `Running hook: NAME`
    HookStarted {
        hook: String,
        stage: String,
        runner: RunnerKind,
    },
    /// One line of a hook's output: `[NAME] stdout: LINE`.
    Output {
        hook: String,
        stream: Stream,
        line: String,
    },
    /// The output cap was reached; the rest of the output is dropped.
    OutputTruncated { hook: String, cap_bytes: u64 },
    /// `Hook completed successfully`
    HookSucceeded {
        hook: String,
        stage: String,
        duration_ms: u64,
    },
    /// `Hook failed with exit code N`
    HookFailed {
        hook: String,
        stage: String,
        exit_code: i32,
        duration_ms: u64,
    },
    /// `Hook timed out after N s`
    HookTimedOut {
        hook: String,
        stage: String,
        timeout_secs: u64,
        duration_ms: u64,
    },
    /// The hook did not end with an exit status: a signal, fuel, memory, cancellation, or the
    /// runner could not run it. `Hook failed: REASON`
    HookStopped {
        hook: String,
        stage: String,
        reason: String,
        duration_ms: u64,
    },
    /// Sandbox: `instructions used: N`
    Instructions { hook: String, count: u64 },
    /// `WARNING: MESSAGE` — a non-fatal failure.
    Warning { message: String },
    /// `SKIP_HOOKS` is set: hooks that were not run.
    HooksSkipped { reason: String, hooks: Vec<String> },
    /// A deploy step (`install`, `build`, `start`, `health-check`, `switch`, …).
    Step {
        step: String,
        state: StepState,
        duration_ms: Option<u64>,
        detail: Option<String>,
    },
    /// Terminal only (never logged): a long hook or step is still running; `detail` says
    /// what it waits for when there is more to say than that.
    Progress {
        hook: String,
        elapsed_secs: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// An informational line (`current → releases/ID`).
    Info { message: String },
    /// The final status of a stage run or a deployment.
    Status { status: String, message: String },
}

impl Event {
    /// What `--quiet` still shows: what went wrong, warnings, and how the run ended.
    pub fn is_notable(&self) -> bool {
        match self {
            Event::HookFailed { .. }
            | Event::HookTimedOut { .. }
            | Event::HookStopped { .. }
            | Event::OutputTruncated { .. }
            | Event::Warning { .. }
            | Event::Status { .. } => true,
            Event::Step { state, .. } => *state == StepState::Failed,
            _ => false,
        }
    }
}

fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

impl Event {
    /// The text of the event in hooks.log and on the terminal (without timestamp).
    pub fn text(&self) -> String {
        match self {
            Event::HookStarted { hook, .. } => format!("Running hook: {hook}"),
            Event::Output { hook, stream, line } => {
                let s = match stream {
                    Stream::Stdout => "stdout",
                    Stream::Stderr => "stderr",
                };
                format!("[{hook}] {s}: {line}")
            }
            Event::OutputTruncated { hook, cap_bytes } => {
                format!("Output of {hook} cut at {cap_bytes} bytes; the rest is dropped")
            }
            Event::HookSucceeded { .. } => "Hook completed successfully".to_string(),
            Event::HookFailed { exit_code, .. } => {
                format!("Hook failed with exit code {exit_code}")
            }
            Event::HookTimedOut { timeout_secs, .. } => {
                format!("Hook timed out after {timeout_secs} s")
            }
            Event::HookStopped { reason, .. } => format!("Hook failed: {reason}"),
            Event::Instructions { count, .. } => format!("instructions used: {count}"),
            Event::Warning { message } => format!("WARNING: {message}"),
            Event::HooksSkipped { reason, hooks } => {
                format!(
                    "Skipping {} hook(s) ({reason}): {}",
                    hooks.len(),
                    hooks.join(", ")
                )
            }
            Event::Step {
                step,
                state,
                duration_ms,
                detail,
            } => {
                let d = duration_ms.map(secs);
                match (state, d, detail) {
                    (StepState::Started, _, Some(detail)) => format!("==> {step}: {detail}"),
                    (StepState::Started, _, None) => format!("==> {step}"),
                    (StepState::Ok, Some(d), Some(detail)) => {
                        format!("==> {step}: ok ({d}): {detail}")
                    }
                    (StepState::Ok, Some(d), None) => format!("==> {step}: ok ({d})"),
                    (StepState::Ok, None, _) => format!("==> {step}: ok"),
                    (StepState::Failed, d, detail) => format!(
                        "==> {step}: FAILED{}{}",
                        d.map(|d| format!(" ({d})")).unwrap_or_default(),
                        detail
                            .as_ref()
                            .map(|x| format!(": {x}"))
                            .unwrap_or_default()
                    ),
                    (StepState::Skipped, _, detail) => format!(
                        "==> {step}: skipped{}",
                        detail
                            .as_ref()
                            .map(|x| format!(" ({x})"))
                            .unwrap_or_default()
                    ),
                }
            }
            Event::Progress {
                hook,
                elapsed_secs,
                detail: None,
            } => format!("... {hook} still running ({elapsed_secs} s)"),
            Event::Progress {
                hook,
                elapsed_secs,
                detail: Some(detail),
            } => format!("... {hook}: {detail} ({elapsed_secs} s)"),
            Event::Info { message } => message.clone(),
            Event::Status { message, .. } => message.clone(),
        }
    }

    /// Whether the event goes to hooks.log (progress ticks are for the terminal only).
    fn logged(&self) -> bool {
        !matches!(self, Event::Progress { .. })
    }

    /// The event with every free-text field redacted and control characters escaped.
    fn cleaned(&self, r: &Redactor) -> Event {
        let c = |s: &String| escape_controls(&r.redact(s));
        let mut e = self.clone();
        match &mut e {
            Event::HookStarted { hook, stage, .. }
            | Event::HookSucceeded { hook, stage, .. }
            | Event::HookFailed { hook, stage, .. }
            | Event::HookTimedOut { hook, stage, .. } => {
                *hook = c(hook);
                *stage = c(stage);
            }
            Event::HookStopped {
                hook,
                stage,
                reason,
                ..
            } => {
                *hook = c(hook);
                *stage = c(stage);
                *reason = c(reason);
            }
            Event::Output { hook, line, .. } => {
                *hook = c(hook);
                *line = c(line);
            }
            Event::OutputTruncated { hook, .. }
            | Event::Instructions { hook, .. }
            | Event::Progress { hook, .. } => *hook = c(hook),
            Event::Warning { message } | Event::Info { message } => *message = c(message),
            Event::HooksSkipped { reason, hooks } => {
                *reason = c(reason);
                for h in hooks.iter_mut() {
                    *h = c(h);
                }
            }
            Event::Step { step, detail, .. } => {
                *step = c(step);
                if let Some(d) = detail {
                    *d = c(d);
                }
            }
            Event::Status { status, message } => {
                *status = c(status);
                *message = c(message);
            }
        }
        e
    }
}

/// Escapes control characters (except tab) so a line cannot move the cursor, overwrite what
/// hookbox printed, or start a new line.
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(|c| c.is_control() && c != '\t') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '\t' => out.push('\t'),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\u{1b}' => out.push_str("\\e"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// How events appear on the terminal (stdout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminal {
    /// Text lines.
    Human,
    /// One JSON object per line (`--json`).
    Json,
    /// Text lines of failures, warnings and the final status only (`--quiet`); the log still
    /// gets every event.
    Brief,
    /// Nothing (library use, tests).
    Quiet,
}

/// Why the event log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("cannot open the hook log {path}: {source} (choose another place with --log-file)")]
    OpenLog {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Receives every event of a run, already redacted and with control characters escaped, with
/// its RFC 3339 UTC timestamp. Called in emit order, on the emitting thread: an implementation
/// must not block (buffer, and write elsewhere).
pub trait EventSink: Send + Sync {
    fn event(&self, ts: &str, event: &Event);
}

/// The hooks.log writer: one `TIMESTAMP TEXT` line per logged event (progress ticks are not
/// logged). A failing write is reported once (tracing) and does not stop the run.
pub struct FileSink {
    file: Mutex<File>,
    failed: AtomicBool,
}

impl FileSink {
    /// Appends to `path` (created with its parent folders, mode 0600 when new).
    pub fn open(path: &Path) -> Result<Self, EventsError> {
        let file = open_log(path).map_err(|source| EventsError::OpenLog {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(FileSink {
            file: Mutex::new(file),
            failed: AtomicBool::new(false),
        })
    }
}

impl EventSink for FileSink {
    fn event(&self, ts: &str, event: &Event) {
        if !event.logged() {
            return;
        }
        let Ok(mut file) = self.file.lock() else {
            return;
        };
        if let Err(e) = file.write_all(format!("{ts} {}\n", event.text()).as_bytes()) {
            if !self.failed.swap(true, Ordering::Relaxed) {
                tracing::warn!("writing the hook log failed: {e}");
            }
        }
    }
}

struct Inner {
    sinks: Vec<Arc<dyn EventSink>>,
    out: Option<Box<dyn Write + Send>>,
    redactor: Redactor,
}

/// The event stream of one run: redacts, timestamps, logs, prints. Shared by reference
/// (`Arc`) between the lifecycle and the output sinks of running hooks.
pub struct Events {
    terminal: Terminal,
    log_path: Option<PathBuf>,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("terminal", &self.terminal)
            .field("log_path", &self.log_path)
            .finish()
    }
}

impl Events {
    /// Events appended to `log_file` (created with its parent folders, mode 0600 when new)
    /// and shown on stdout as `terminal` says.
    pub fn new(
        log_file: Option<&Path>,
        terminal: Terminal,
        redactor: Redactor,
    ) -> Result<Self, EventsError> {
        let out: Option<Box<dyn Write + Send>> = match terminal {
            Terminal::Quiet => None,
            _ => Some(Box::new(std::io::stdout())),
        };
        Self::with_output(log_file, terminal, redactor, out)
    }

    /// Like [`Events::new`] with the terminal output going to `out` instead of stdout.
    pub fn with_output(
        log_file: Option<&Path>,
        terminal: Terminal,
        redactor: Redactor,
        out: Option<Box<dyn Write + Send>>,
    ) -> Result<Self, EventsError> {
        let mut sinks: Vec<Arc<dyn EventSink>> = Vec::new();
        if let Some(path) = log_file {
            sinks.push(Arc::new(FileSink::open(path)?));
        }
        Ok(Events {
            terminal,
            log_path: log_file.map(Path::to_path_buf),
            inner: Mutex::new(Inner {
                sinks,
                out,
                redactor,
            }),
        })
    }

    /// Events appended to `log`, a hooks.log the caller opened itself (the deploy state
    /// folder opens its log no-follow, through a directory handle); `log_path` is for
    /// messages only.
    pub fn with_log_file(
        log: File,
        log_path: &Path,
        terminal: Terminal,
        redactor: Redactor,
    ) -> Self {
        let out: Option<Box<dyn Write + Send>> = match terminal {
            Terminal::Quiet => None,
            _ => Some(Box::new(std::io::stdout())),
        };
        let sink: Arc<dyn EventSink> = Arc::new(FileSink {
            file: Mutex::new(log),
            failed: AtomicBool::new(false),
        });
        Events {
            terminal,
            log_path: Some(log_path.to_path_buf()),
            inner: Mutex::new(Inner {
                sinks: vec![sink],
                out,
                redactor,
            }),
        }
    }

    /// Hands every event from now on to `sink` too.
    pub fn add_sink(&self, sink: Arc<dyn EventSink>) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.sinks.push(sink);
        }
    }

    /// The hooks.log path, if any.
    pub fn log_path(&self) -> Option<&Path> {
        self.log_path.as_deref()
    }

    /// Adds secrets to mask from now on (the hook environment, once known).
    pub fn add_secrets(&self, more: &Redactor) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.redactor.extend(more);
        }
    }

    /// Redacts text with the current secrets (for messages printed outside the stream).
    pub fn redact(&self, text: &str) -> String {
        match self.inner.lock() {
            Ok(inner) => inner.redactor.redact(text),
            Err(_) => Redactor::empty().redact(text),
        }
    }

    /// Where output may be cut without splitting a secret ([`Redactor::cut_point`]).
    pub fn cut_point(&self, bytes: &[u8], at: usize) -> usize {
        match self.inner.lock() {
            Ok(inner) => inner.redactor.cut_point(bytes, at),
            Err(_) => Redactor::empty().cut_point(bytes, at),
        }
    }

    /// Redacts, logs and prints one event.
    pub fn emit(&self, event: &Event) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let event = event.cleaned(&inner.redactor);
        let ts = time::rfc3339(SystemTime::now());
        let text = event.text();
        for sink in &inner.sinks {
            sink.event(&ts, &event);
        }
        let terminal = self.terminal;
        if let Some(out) = inner.out.as_mut() {
            let line = match terminal {
                Terminal::Human => Some(text),
                Terminal::Brief => event.is_notable().then_some(text),
                Terminal::Json => json_line(&event, &ts),
                Terminal::Quiet => None,
            };
            if let Some(line) = line {
                // A closed stdout (piped into `head`) must not stop the run.
                let _ = out.write_all(format!("{line}\n").as_bytes());
                let _ = out.flush();
            }
        }
    }

    /// An [`OutputSink`] for one hook: each line becomes an [`Event::Output`].
    pub fn hook_sink(self: &Arc<Self>, hook: &str) -> Arc<HookSink> {
        Arc::new(HookSink {
            events: Arc::clone(self),
            hook: hook.to_string(),
            truncated: AtomicBool::new(false),
        })
    }
}

/// Version of the JSON event stream's shape (docs/json.md); raised when a field changes
/// meaning or goes away, not when one is added.
pub const JSON_VERSION: u64 = 1;

fn json_line(event: &Event, ts: &str) -> Option<String> {
    let mut value = serde_json::to_value(event).ok()?;
    if let Some(map) = value.as_object_mut() {
        map.insert("v".to_string(), serde_json::Value::from(JSON_VERSION));
        map.insert("ts".to_string(), serde_json::Value::String(ts.to_string()));
    }
    serde_json::to_string(&value).ok()
}

fn open_log(path: &Path) -> std::io::Result<File> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// The [`OutputSink`] of one hook run.
pub struct HookSink {
    events: Arc<Events>,
    hook: String,
    truncated: AtomicBool,
}

impl HookSink {
    /// Whether the output cap was reported.
    pub fn was_truncated(&self) -> bool {
        self.truncated.load(Ordering::Relaxed)
    }
}

impl OutputSink for HookSink {
    fn line(&self, stream: Stream, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        self.events.emit(&Event::Output {
            hook: self.hook.clone(),
            stream,
            line: text.to_string(),
        });
    }

    fn cut_point(&self, bytes: &[u8], at: usize) -> usize {
        self.events.cut_point(bytes, at)
    }

    fn truncated(&self, cap_bytes: u64) {
        if !self.truncated.swap(true, Ordering::Relaxed) {
            self.events.emit(&Event::OutputTruncated {
                hook: self.hook.clone(),
                cap_bytes,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(b);
            }
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn forged_line_is_prefixed_and_escaped() {
        let buf = Buf::default();
        let events = Arc::new(
            Events::with_output(
                None,
                Terminal::Human,
                Redactor::empty(),
                Some(Box::new(buf.clone())),
            )
            .unwrap(),
        );
        let sink = events.hook_sink("pre-deploy.sh");
        sink.line(Stream::Stdout, b"Hook completed successfully");
        sink.line(Stream::Stderr, b"x\rHook completed successfully\x1b[2K");
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            out,
            "[pre-deploy.sh] stdout: Hook completed successfully\n\
             [pre-deploy.sh] stderr: x\\rHook completed successfully\\e[2K\n"
        );
    }

    #[test]
    fn json_events_are_redacted() {
        let buf = Buf::default();
        let mut r = Redactor::empty();
        r.add_secret("supersecret");
        let events =
            Events::with_output(None, Terminal::Json, r, Some(Box::new(buf.clone()))).unwrap();
        events.emit(&Event::Warning {
            message: "token supersecret at postgresql://u:pw@h".into(),
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["event"], "warning");
        assert_eq!(v["message"], "token *** at postgresql://u:***@h");
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
    }
}
