//! External commands. The evaluator hands a command line, its environment, cwd and fd table to a
//! `Host`; on WASI the host is the `hookbox` bridge import module (engine/src/bridge/ABI.md), on
//! native targets it is `std::process` (development and the differential test harness only).

use crate::io::Io;
use std::path::Path;
use std::rc::Rc;

/// One external command to run.
pub struct ExecRequest<'a> {
    pub argv: &'a [String],
    pub env: &'a [(String, String)],
    pub cwd: &'a Path,
}

/// Why a command did not run.
#[derive(Debug)]
pub enum HostError {
    /// Not found in PATH: `NAME: command not found`, 127.
    NotFound,
    /// A message to print as is, and the status.
    Message(String, i32),
}

pub trait Host {
    /// Runs the command to its end with the given fds; returns its status.
    fn run(&self, req: &ExecRequest<'_>, io: &Io) -> Result<i32, HostError>;

    /// Starts the command with its stdout as a pipe and returns at once, for a pipeline
    /// stage whose output the next stage reads as it comes (`yes | head -1` ends).
    fn spawn_stage(&self, req: &ExecRequest<'_>, io: &Io) -> Result<Rc<dyn Running>, HostError>;
}

/// A command started by [`Host::spawn_stage`], still running.
pub trait Running {
    /// Reads its stdout; 0 at the end.
    fn read(&self, buf: &mut [u8]) -> std::io::Result<usize>;
    /// Ends the reading side and waits for the command: one still writing gets SIGPIPE, as
    /// in a pipeline of processes. Returns its status (141 for SIGPIPE).
    fn finish(&self) -> i32;
    /// For the host: what it is, to hand the stdout on to the next command directly.
    fn as_any(&self) -> &dyn std::any::Any;
}

#[cfg(not(target_os = "wasi"))]
pub use native::NativeHost as DefaultHost;
#[cfg(target_os = "wasi")]
pub use wasi::BridgeHost as DefaultHost;
#[cfg(target_os = "wasi")]
pub use wasi::{file_mode, interrupted, which};

/// Whether Ctrl-C was typed since the prompt cleared it (`clear`: and clear it now). The
/// native build has no such channel.
#[cfg(not(target_os = "wasi"))]
pub fn interrupted(_clear: bool) -> bool {
    false
}

#[cfg(not(target_os = "wasi"))]
mod native {
    use super::*;
    use crate::io::{flush_stdout, Stream};
    use std::cell::RefCell;
    use std::io::{Read, Write};
    use std::os::fd::AsFd;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::{Command, Stdio};

    pub struct NativeHost;

    fn find_in_path(
        name: &str,
        env: &[(String, String)],
        cwd: &Path,
    ) -> Option<std::path::PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let path = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_str())
            .unwrap_or("/usr/local/bin:/usr/bin:/bin");
        for dir in path.split(':') {
            let d = if dir.is_empty() {
                cwd.to_path_buf()
            } else {
                cwd.join(dir)
            };
            let p = d.join(name);
            if let Ok(m) = std::fs::metadata(&p) {
                if m.is_file() && m.permissions().mode() & 0o111 != 0 {
                    return Some(p);
                }
            }
        }
        None
    }

    fn out_stdio(s: Option<&Stream>) -> std::io::Result<(Stdio, bool)> {
        Ok(match s {
            Some(Stream::Inherit(1)) => (
                Stdio::from(std::io::stdout().as_fd().try_clone_to_owned()?),
                false,
            ),
            Some(Stream::Inherit(2)) => (
                Stdio::from(std::io::stderr().as_fd().try_clone_to_owned()?),
                false,
            ),
            Some(Stream::File(f, _)) => (Stdio::from(f.borrow().try_clone()?), false),
            Some(Stream::Buf(_)) => (Stdio::piped(), true),
            _ => (Stdio::null(), false),
        })
    }

    /// A started command: the process, and the thread feeding it an in-memory stdin.
    struct Started {
        child: std::process::Child,
        feeder: Option<std::thread::JoinHandle<()>>,
        opipe: bool,
        epipe: bool,
    }

    /// A pipeline stage running natively.
    pub struct NativeRunning {
        child: RefCell<Option<std::process::Child>>,
        stdout: RefCell<Option<std::process::ChildStdout>>,
        feeder: RefCell<Option<std::thread::JoinHandle<()>>>,
    }

    impl Running for NativeRunning {
        fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.stdout.borrow_mut().as_mut() {
                Some(out) => out.read(buf),
                None => Ok(0),
            }
        }
        fn finish(&self) -> i32 {
            drop(self.stdout.borrow_mut().take());
            if let Some(t) = self.feeder.borrow_mut().take() {
                let _ = t.join();
            }
            match self.child.borrow_mut().take().map(|mut c| c.wait()) {
                Some(Ok(st)) => st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0)),
                _ => 0,
            }
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    impl NativeHost {
        fn start(&self, req: &ExecRequest<'_>, io: &Io, stage: bool) -> Result<Started, HostError> {
            let name = &req.argv[0];
            let path = if name.contains('/') {
                req.cwd.join(name)
            } else {
                match find_in_path(name, req.env, req.cwd) {
                    Some(p) => p,
                    None => return Err(HostError::NotFound),
                }
            };
            flush_stdout();
            let mut cmd = Command::new(&path);
            cmd.arg0(name)
                .args(&req.argv[1..])
                .env_clear()
                .envs(req.env.iter().map(|(k, v)| (k, v)))
                .current_dir(req.cwd);
            let io_err = |e: std::io::Error| HostError::Message(format!("{name}: {e}"), 126);
            let stdin = io.get(0);
            let mut feed: Option<Vec<u8>> = None;
            match stdin {
                Some(Stream::Inherit(0)) => {
                    cmd.stdin(Stdio::inherit());
                }
                Some(Stream::File(f, _)) => {
                    cmd.stdin(Stdio::from(f.borrow().try_clone().map_err(io_err)?));
                }
                Some(s @ Stream::Input(_)) => {
                    feed = Some(s.read_to_end());
                    cmd.stdin(Stdio::piped());
                }
                Some(s @ Stream::Running(r)) => {
                    let taken = r
                        .as_any()
                        .downcast_ref::<NativeRunning>()
                        .and_then(|n| n.stdout.borrow_mut().take());
                    match taken {
                        Some(out) => {
                            cmd.stdin(Stdio::from(out));
                        }
                        None => {
                            feed = Some(s.read_to_end());
                            cmd.stdin(Stdio::piped());
                        }
                    }
                }
                _ => {
                    cmd.stdin(Stdio::null());
                }
            }
            let (o, opipe) = if stage {
                (Stdio::piped(), true)
            } else {
                out_stdio(io.get(1)).map_err(io_err)?
            };
            let (e, epipe) = out_stdio(io.get(2)).map_err(io_err)?;
            cmd.stdout(o).stderr(e);
            let mut child = match cmd.spawn() {
                Ok(c) => c,
                Err(e) => {
                    let msg = match e.kind() {
                        std::io::ErrorKind::NotFound => {
                            return Err(HostError::Message(
                                format!("{name}: No such file or directory"),
                                127,
                            ))
                        }
                        std::io::ErrorKind::PermissionDenied if path.is_dir() => {
                            "Is a directory".to_string()
                        }
                        std::io::ErrorKind::PermissionDenied => "Permission denied".to_string(),
                        _ => {
                            if path.is_dir() {
                                "Is a directory".to_string()
                            } else {
                                e.to_string()
                            }
                        }
                    };
                    return Err(HostError::Message(format!("{name}: {msg}"), 126));
                }
            };
            let feeder = match (feed, child.stdin.take()) {
                (Some(data), Some(mut w)) => Some(std::thread::spawn(move || {
                    let _ = w.write_all(&data);
                })),
                _ => None,
            };
            Ok(Started {
                child,
                feeder,
                opipe,
                epipe,
            })
        }
    }

    impl Host for NativeHost {
        fn spawn_stage(
            &self,
            req: &ExecRequest<'_>,
            io: &Io,
        ) -> Result<Rc<dyn Running>, HostError> {
            let mut started = self.start(req, io, true)?;
            Ok(Rc::new(NativeRunning {
                stdout: RefCell::new(started.child.stdout.take()),
                child: RefCell::new(Some(started.child)),
                feeder: RefCell::new(started.feeder),
            }))
        }

        fn run(&self, req: &ExecRequest<'_>, io: &Io) -> Result<i32, HostError> {
            let name = &req.argv[0];
            let io_err = |e: std::io::Error| HostError::Message(format!("{name}: {e}"), 126);
            let Started {
                mut child,
                feeder,
                opipe,
                epipe,
            } = self.start(req, io, false)?;
            let err_reader = if epipe {
                child.stderr.take().map(|mut r| {
                    std::thread::spawn(move || {
                        let mut v = Vec::new();
                        let _ = r.read_to_end(&mut v);
                        v
                    })
                })
            } else {
                None
            };
            if opipe {
                if let Some(mut r) = child.stdout.take() {
                    let mut buf = [0u8; 16384];
                    loop {
                        match r.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if let Some(s) = io.get(1) {
                                    let _ = s.write_all(&buf[..n]);
                                }
                            }
                        }
                    }
                }
            }
            if let Some(t) = err_reader {
                if let Ok(v) = t.join() {
                    io.err(&v);
                }
            }
            if let Some(t) = feeder {
                let _ = t.join();
            }
            let st = child.wait().map_err(io_err)?;
            Ok(match st.code() {
                Some(c) => c,
                None => 128 + st.signal().unwrap_or(0),
            })
        }
    }
}

#[cfg(target_os = "wasi")]
mod wasi {
    use super::*;
    use crate::io::{flush_stdout, Stream};

    #[link(wasm_import_module = "hookbox")]
    extern "C" {
        fn exec_spawn(req: *const u8, len: i32) -> i32;
        fn exec_write(h: i32, ptr: *const u8, len: i32) -> i32;
        fn exec_close_stdin(h: i32) -> i32;
        fn exec_read(h: i32, fd: i32, buf: *mut u8, cap: i32) -> i32;
        fn exec_wait(h: i32) -> i32;
        fn exec_kill(h: i32) -> i32;
        fn exec_stdin_end(h: i32, out: *mut u8) -> i32;
        fn last_error(buf: *mut u8, cap: i32) -> i32;
        fn path_mode(ptr: *const u8, len: i32) -> i32;
        fn exec_which(req: *const u8, len: i32, buf: *mut u8, cap: i32) -> i32;
        #[link_name = "interrupted"]
        fn host_interrupted(clear: i32) -> i32;
    }

    /// Whether Ctrl-C was typed at the terminal since the prompt cleared it (`clear`: and
    /// clear it now).
    pub fn interrupted(clear: bool) -> bool {
        // SAFETY: an integer argument; the host returns 0 or 1.
        unsafe { host_interrupted(i32::from(clear)) == 1 }
    }

    /// The host program `name` would start through the bridge (policy and PATH applied), for
    /// `command -v`, `type` and `hash`: the guest cannot see the host's directories.
    pub fn which(name: &str, path: &str, cwd: &std::path::Path) -> Option<String> {
        let mut j = String::from("{\"argv\":[");
        json_str(&mut j, name);
        j.push_str("],\"env\":[[\"PATH\",");
        json_str(&mut j, path);
        j.push_str("]],\"cwd\":");
        json_str(&mut j, &cwd.to_string_lossy());
        j.push('}');
        let mut buf = vec![0u8; 4096];
        // SAFETY: both buffers are valid for their lengths.
        let n = unsafe {
            exec_which(
                j.as_ptr(),
                j.len() as i32,
                buf.as_mut_ptr(),
                buf.len() as i32,
            )
        };
        let n = usize::try_from(n).ok().filter(|n| *n <= buf.len())?;
        buf.truncate(n);
        String::from_utf8(buf).ok()
    }

    /// The host's `st_mode` of a granted file (WASI's file stat has no mode bits).
    pub fn file_mode(path: &std::path::Path) -> Option<u32> {
        let p = path.to_string_lossy();
        // SAFETY: p is a valid buffer of the given length.
        let m = unsafe { path_mode(p.as_ptr(), p.len() as i32) };
        u32::try_from(m).ok()
    }

    pub struct BridgeHost;

    fn json_str(out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }

    fn last_err() -> String {
        let mut buf = vec![0u8; 1024];
        // SAFETY: buf is a valid writable region of the given capacity.
        let n = unsafe { last_error(buf.as_mut_ptr(), buf.len() as i32) };
        if n < 0 {
            return String::new();
        }
        let n = n as usize;
        if n > buf.len() {
            buf = vec![0u8; n];
            // SAFETY: as above, with the larger buffer.
            unsafe { last_error(buf.as_mut_ptr(), buf.len() as i32) };
        }
        buf.truncate(n);
        String::from_utf8_lossy(&buf).into_owned()
    }

    fn mode(s: Option<&Stream>, fd: u8) -> &'static str {
        match s {
            Some(Stream::Inherit(n)) if *n == fd => "inherit",
            Some(Stream::Null) | None => "null",
            _ => "pipe",
        }
    }

    fn drain(h: i32, fd: i32, to: Option<&Stream>) {
        let mut buf = vec![0u8; 16384];
        loop {
            // SAFETY: buf is valid for writes of its length.
            let n = unsafe { exec_read(h, fd, buf.as_mut_ptr(), buf.len() as i32) };
            if n <= 0 {
                break;
            }
            if let Some(s) = to {
                let _ = s.write_all(&buf[..n as usize]);
            }
        }
    }

    /// What a command was given of the shell's stdin, settled when it ends: the fed bytes it
    /// did not read go back to the buffer for the next reader, and a shared file's position
    /// moves to where the command stopped (bash's processes share the descriptor itself).
    enum StdinBack {
        None,
        /// Fed `buf.data[..end]` from the position before; `pos` is set back by the unread.
        Input {
            buf: Rc<std::cell::RefCell<crate::io::InBuf>>,
            start: usize,
            end: usize,
        },
        /// Opened by the host at the file's position: the file moves to the command's end.
        File(Rc<std::cell::RefCell<std::fs::File>>),
        /// A file without a path, fed from `start` for `len` bytes: seek back by the unread.
        FileFed {
            file: Rc<std::cell::RefCell<std::fs::File>>,
            start: u64,
            len: u64,
        },
    }

    impl StdinBack {
        /// After `exec_wait` of `h`.
        fn settle(self, h: i32) {
            use std::io::{Seek, SeekFrom};
            if matches!(self, StdinBack::None) {
                return;
            }
            let mut end = [0u8; 8];
            // SAFETY: end is 8 writable bytes.
            let ok = unsafe { exec_stdin_end(h, end.as_mut_ptr()) } == 0;
            let end = u64::from_le_bytes(end);
            match self {
                StdinBack::None => {}
                StdinBack::Input {
                    buf,
                    start,
                    end: fed_end,
                } => {
                    let unread = if ok {
                        usize::try_from(end).unwrap_or(usize::MAX)
                    } else {
                        0
                    };
                    let mut b = buf.borrow_mut();
                    b.pos = fed_end.saturating_sub(unread).max(start).min(b.data.len());
                }
                StdinBack::File(file) => {
                    if ok {
                        let _ = file.borrow_mut().seek(SeekFrom::Start(end));
                    }
                }
                StdinBack::FileFed { file, start, len } => {
                    let unread = if ok { end.min(len) } else { 0 };
                    let _ = file
                        .borrow_mut()
                        .seek(SeekFrom::Start(start + len - unread));
                }
            }
        }
    }

    /// A pipeline stage running through the bridge: its stdout is read with `exec_read`.
    pub struct BridgeRunning {
        h: i32,
        /// Settled when the stage is waited for.
        stdin_back: std::cell::RefCell<Option<StdinBack>>,
        /// Read ahead from the host (one host call per chunk, not per byte of a `read`
        /// loop), and how much of it was consumed.
        ahead: std::cell::RefCell<(Vec<u8>, usize)>,
        eof: std::cell::Cell<bool>,
        /// Handed to the next bridged command (`stdin_from`): the host feeds it.
        handed: std::cell::Cell<bool>,
    }

    impl Running for BridgeRunning {
        fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
            let mut ahead = self.ahead.borrow_mut();
            if ahead.1 >= ahead.0.len() {
                if self.eof.get() || self.handed.get() {
                    return Ok(0);
                }
                ahead.0.resize(16384, 0);
                ahead.1 = 0;
                // SAFETY: the buffer is valid for writes of its length.
                let n = unsafe { exec_read(self.h, 1, ahead.0.as_mut_ptr(), 16384) };
                match usize::try_from(n) {
                    Ok(n) => ahead.0.truncate(n),
                    Err(_) => {
                        ahead.0.clear();
                        return Err(std::io::Error::other(last_err()));
                    }
                }
                if ahead.0.is_empty() {
                    self.eof.set(true);
                    return Ok(0);
                }
            }
            let (data, pos) = &mut *ahead;
            let n = buf.len().min(data.len() - *pos);
            buf[..n].copy_from_slice(&data[*pos..*pos + n]);
            *pos += n;
            Ok(n)
        }
        fn finish(&self) -> i32 {
            // Nobody reads the rest: the command would block or write into the void, so it
            // ends here as a process in a pipeline ends on SIGPIPE.
            let cut = !self.eof.get();
            if cut {
                // SAFETY: plain handle call.
                unsafe { exec_kill(self.h) };
            }
            // SAFETY: plain handle call.
            let st = unsafe { exec_wait(self.h) };
            if let Some(back) = self.stdin_back.borrow_mut().take() {
                back.settle(self.h);
            }
            match st {
                137 if cut => 141,
                st if st < 0 => 126,
                st => st,
            }
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    impl BridgeHost {
        /// Sends the request; returns the handle and whether stdout and stderr are piped to
        /// the guest.
        fn start(
            &self,
            req: &ExecRequest<'_>,
            io: &Io,
            stage: bool,
        ) -> Result<(i32, &'static str, &'static str, StdinBack), HostError> {
            flush_stdout();
            match self.start_with(req, io, stage, true) {
                // The host would not open the file (not a regular file inside the grants):
                // feed its bytes instead.
                Err(HostError::Message(m, _))
                    if stdin_is_named_file(io) && m.contains("cannot be a command's stdin") =>
                {
                    self.start_with(req, io, stage, false)
                }
                other => other,
            }
        }

        fn start_with(
            &self,
            req: &ExecRequest<'_>,
            io: &Io,
            stage: bool,
            file_by_path: bool,
        ) -> Result<(i32, &'static str, &'static str, StdinBack), HostError> {
            use std::io::Seek;
            let stdin = io.get(0);
            let from = match stdin {
                Some(Stream::Running(r)) => r
                    .as_any()
                    .downcast_ref::<BridgeRunning>()
                    // Bytes already read ahead must reach the command too: then the guest
                    // feeds it instead.
                    .filter(|b| {
                        let ahead = b.ahead.borrow();
                        !b.eof.get() && !b.handed.get() && ahead.1 >= ahead.0.len()
                    }),
                _ => None,
            };
            // What the command reads: the mode, bytes to feed, and how to settle the shell's
            // own stdin afterwards (what the command did not read stays for the next reader).
            let mut stdin_mode = "null";
            let mut file_at: Option<(Rc<std::path::Path>, u64)> = None;
            let mut feed: Option<Vec<u8>> = None;
            let mut back = StdinBack::None;
            match stdin {
                _ if from.is_some() => {}
                Some(Stream::Inherit(0)) => stdin_mode = "inherit",
                Some(Stream::Null) | None => {}
                Some(Stream::Input(b)) => {
                    let (start, end) = {
                        let mut bb = b.borrow_mut();
                        let (start, end) = (bb.pos.min(bb.data.len()), bb.data.len());
                        feed = Some(bb.data[start..end].to_vec());
                        bb.pos = end;
                        (start, end)
                    };
                    stdin_mode = "feed";
                    back = StdinBack::Input {
                        buf: Rc::clone(b),
                        start,
                        end,
                    };
                }
                Some(Stream::File(f, path)) => {
                    let pos = f.borrow_mut().stream_position().ok();
                    match (path, pos) {
                        (Some(p), Some(pos)) if file_by_path => {
                            stdin_mode = "file";
                            file_at = Some((Rc::clone(p), pos));
                            back = StdinBack::File(Rc::clone(f));
                        }
                        _ => {
                            let data = stdin.map(Stream::read_to_end).unwrap_or_default();
                            if let Some(start) = pos {
                                back = StdinBack::FileFed {
                                    file: Rc::clone(f),
                                    start,
                                    len: data.len() as u64,
                                };
                            }
                            feed = Some(data);
                            stdin_mode = "feed";
                        }
                    }
                }
                Some(s) => {
                    feed = Some(s.read_to_end());
                    stdin_mode = "feed";
                }
            }
            let em = mode(io.get(2), 2);
            // Output for the guest streams (the host holds a window, the command waits for
            // the guest, nothing is dropped) unless both streams come back: then the host
            // drains both, so reading one never waits on the other.
            let om = match mode(io.get(1), 1) {
                _ if stage => "stream",
                "pipe" if em != "pipe" => "stream",
                m => m,
            };
            let mut j = String::from("{\"argv\":[");
            for (i, a) in req.argv.iter().enumerate() {
                if i > 0 {
                    j.push(',');
                }
                json_str(&mut j, a);
            }
            j.push_str("],\"env\":[");
            for (i, (k, v)) in req.env.iter().enumerate() {
                if i > 0 {
                    j.push(',');
                }
                j.push('[');
                json_str(&mut j, k);
                j.push(',');
                json_str(&mut j, v);
                j.push(']');
            }
            j.push_str("],\"cwd\":");
            json_str(&mut j, &req.cwd.to_string_lossy());
            if let Some(b) = from {
                j.push_str(&format!(",\"stdin_from\":{}", b.h));
            }
            if let Some((path, offset)) = &file_at {
                j.push_str(",\"stdin_path\":");
                json_str(&mut j, &path.to_string_lossy());
                j.push_str(&format!(",\"stdin_offset\":{offset}"));
            }
            j.push_str(&format!(
                ",\"stdin\":\"{stdin_mode}\",\"stdout\":\"{om}\",\"stderr\":\"{em}\"}}"
            ));
            // SAFETY: j is a valid UTF-8 buffer of the given length.
            let h = unsafe { exec_spawn(j.as_ptr(), j.len() as i32) };
            if h < 0 {
                // Nothing was read: the shell's stdin is as it was.
                back.settle_unstarted();
                return Err(match h {
                    -2 => HostError::NotFound,
                    // Denied, or a path naming nothing (ABI.md's error codes).
                    -1 | -8 => HostError::Message(last_err(), 127),
                    _ => HostError::Message(last_err(), 126),
                });
            }
            if let Some(b) = from {
                b.handed.set(true);
            }
            if let Some(data) = feed {
                let mut off = 0;
                while off < data.len() {
                    // SAFETY: the slice is in bounds.
                    let n =
                        unsafe { exec_write(h, data[off..].as_ptr(), (data.len() - off) as i32) };
                    if n <= 0 {
                        break;
                    }
                    off += n as usize;
                }
                // SAFETY: plain handle call.
                unsafe { exec_close_stdin(h) };
            }
            Ok((h, om, em, back))
        }
    }

    /// The shell's stdin is a file it opened by name (the host can open it too).
    fn stdin_is_named_file(io: &Io) -> bool {
        matches!(io.get(0), Some(Stream::File(_, Some(_))))
    }

    impl StdinBack {
        /// The command never started: give back everything taken for it.
        fn settle_unstarted(&self) {
            use std::io::{Seek, SeekFrom};
            match self {
                StdinBack::None | StdinBack::File(_) => {}
                StdinBack::Input { buf, start, .. } => buf.borrow_mut().pos = *start,
                StdinBack::FileFed { file, start, .. } => {
                    let _ = file.borrow_mut().seek(SeekFrom::Start(*start));
                }
            }
        }
    }

    impl Host for BridgeHost {
        fn spawn_stage(
            &self,
            req: &ExecRequest<'_>,
            io: &Io,
        ) -> Result<Rc<dyn Running>, HostError> {
            let (h, _, _, back) = self.start(req, io, true)?;
            Ok(Rc::new(BridgeRunning {
                h,
                stdin_back: std::cell::RefCell::new(Some(back)),
                ahead: Default::default(),
                eof: std::cell::Cell::new(false),
                handed: std::cell::Cell::new(false),
            }))
        }

        fn run(&self, req: &ExecRequest<'_>, io: &Io) -> Result<i32, HostError> {
            let (h, om, em, back) = self.start(req, io, false)?;
            if om == "pipe" || om == "stream" {
                drain(h, 1, io.get(1));
            }
            if em == "pipe" {
                drain(h, 2, io.get(2));
            }
            // SAFETY: plain handle call.
            let st = unsafe { exec_wait(h) };
            back.settle(h);
            if st < 0 {
                return Err(HostError::Message(last_err(), 126));
            }
            Ok(st)
        }
    }
}
