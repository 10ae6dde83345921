//! File descriptors of the interpreter. A guest has no fork, so the fd table is a value: each
//! command gets a (cheaply cloned) table, redirections make a modified copy, and a pipeline
//! stage or `$(...)` writes into an in-memory buffer that the next consumer reads.

use std::cell::RefCell;
use std::fs::File;
use std::io::{Read, Write};
use std::rc::Rc;

/// An in-memory input with a read position.
#[derive(Default)]
pub struct InBuf {
    pub data: Vec<u8>,
    pub pos: usize,
}

/// One open file descriptor.
#[derive(Clone)]
pub enum Stream {
    /// The process's own fd 0, 1 or 2.
    Inherit(u8),
    /// An open file, with the path it was opened by (absolute; a bridged command reading it
    /// as stdin opens it on the host and shares the read position).
    File(Rc<RefCell<File>>, Option<Rc<std::path::Path>>),
    /// Output captured in memory (pipeline stage, command substitution).
    Buf(Rc<RefCell<Vec<u8>>>),
    /// Input from memory (here-doc, previous pipeline stage).
    Input(Rc<RefCell<InBuf>>),
    /// The output of a command still running (a streamed pipeline stage), read as it comes.
    Running(Rc<dyn crate::host::Running>),
    Null,
}

thread_local! {
    static STDOUT_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Writes pending bytes of the process's stdout.
pub fn flush_stdout() {
    STDOUT_BUF.with(|b| {
        let mut b = b.borrow_mut();
        if !b.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&b);
            let _ = out.flush();
            b.clear();
        }
    });
}

impl Stream {
    pub fn input(data: Vec<u8>) -> Stream {
        Stream::Input(Rc::new(RefCell::new(InBuf { data, pos: 0 })))
    }

    pub fn write_all(&self, data: &[u8]) -> std::io::Result<()> {
        match self {
            Stream::Inherit(1) => {
                // Line-buffered, as bash's stdout reaches a terminal or a hook's event stream:
                // a complete line goes out at once (a long hook shows its progress, and what
                // it printed before a limit stopped it is kept).
                STDOUT_BUF
                    .with(|b| {
                        let mut b = b.borrow_mut();
                        b.extend_from_slice(data);
                        b.len() > 1 << 16 || data.contains(&b'\n')
                    })
                    .then(flush_stdout);
                Ok(())
            }
            Stream::Inherit(2) => {
                flush_stdout();
                std::io::stderr().write_all(data)
            }
            Stream::Inherit(_) => Err(std::io::Error::other("Bad file descriptor")),
            Stream::File(f, _) => f.borrow_mut().write_all(data),
            Stream::Buf(b) => {
                b.borrow_mut().extend_from_slice(data);
                Ok(())
            }
            Stream::Input(_) | Stream::Running(_) => {
                Err(std::io::Error::other("Bad file descriptor"))
            }
            Stream::Null => Ok(()),
        }
    }

    /// Reads up to `buf.len()` bytes; 0 at end.
    pub fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Inherit(0) => {
                flush_stdout();
                read_fd0(buf)
            }
            Stream::Inherit(_) => Err(std::io::Error::other("Bad file descriptor")),
            Stream::File(f, _) => f.borrow_mut().read(buf),
            Stream::Input(b) => {
                let mut b = b.borrow_mut();
                let n = buf.len().min(b.data.len() - b.pos);
                buf[..n].copy_from_slice(&b.data[b.pos..b.pos + n]);
                b.pos += n;
                Ok(n)
            }
            Stream::Running(r) => r.read(buf),
            Stream::Buf(_) => Err(std::io::Error::other("Bad file descriptor")),
            Stream::Null => Ok(0),
        }
    }

    /// Reads one byte (used by `read`, which must not consume past its line).
    pub fn read_byte(&self) -> Option<u8> {
        let mut b = [0u8; 1];
        match self.read(&mut b) {
            Ok(1) => Some(b[0]),
            _ => None,
        }
    }

    pub fn read_to_end(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Stream::Input(b) = self {
            let mut b = b.borrow_mut();
            out.extend_from_slice(&b.data[b.pos..]);
            b.pos = b.data.len();
            return out;
        }
        let mut buf = [0u8; 8192];
        while let Ok(n) = self.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }
}

/// Reads the process's fd 0 directly: std's `Stdin` buffers, and bytes it read ahead would be
/// lost to the next reader of the same descriptor (a command run after `read`, as bash's
/// `read first; cat` hands `cat` the rest).
fn read_fd0(buf: &mut [u8]) -> std::io::Result<usize> {
    use std::os::fd::FromRawFd;
    // SAFETY: fd 0 stays open for the process's life; ManuallyDrop never closes it.
    let mut f = std::mem::ManuallyDrop::new(unsafe { File::from_raw_fd(0) });
    f.read(buf)
}

/// Number of file descriptors a command may have: fds 0 to 1023, as `ulimit -n` reports.
/// A redirection of a larger fd fails ("N: Bad file descriptor", status 1) instead of
/// growing every command's table to it.
pub const MAX_FDS: usize = 1024;

/// The fd table of one command.
#[derive(Clone)]
pub struct Io {
    pub fds: Vec<Option<Stream>>,
    /// The shell's own fd table (not redirected, not a pipeline stage or substitution):
    /// `exec` redirections apply to it.
    pub base: bool,
}

impl Stream {
    /// The same stream (not merely an equal one): the same fd, buffer, file or command.
    fn same(&self, other: &Stream) -> bool {
        match (self, other) {
            (Stream::Inherit(a), Stream::Inherit(b)) => a == b,
            (Stream::File(a, _), Stream::File(b, _)) => Rc::ptr_eq(a, b),
            (Stream::Buf(a), Stream::Buf(b)) => Rc::ptr_eq(a, b),
            (Stream::Input(a), Stream::Input(b)) => Rc::ptr_eq(a, b),
            (Stream::Running(a), Stream::Running(b)) => {
                std::ptr::addr_eq(Rc::as_ptr(a), Rc::as_ptr(b))
            }
            (Stream::Null, Stream::Null) => true,
            _ => false,
        }
    }
}

impl Io {
    /// Whether both tables hold the same streams at every fd (and the same `base`).
    pub fn same_streams(&self, other: &Io) -> bool {
        self.base == other.base
            && self.fds.len() == other.fds.len()
            && self.fds.iter().zip(&other.fds).all(|pair| match pair {
                (None, None) => true,
                (Some(a), Some(b)) => a.same(b),
                _ => false,
            })
    }

    pub fn process() -> Io {
        Io {
            fds: vec![
                Some(Stream::Inherit(0)),
                Some(Stream::Inherit(1)),
                Some(Stream::Inherit(2)),
            ],
            base: true,
        }
    }
    pub fn get(&self, fd: usize) -> Option<&Stream> {
        self.fds.get(fd).and_then(|s| s.as_ref())
    }
    /// Sets (or, with `None`, closes) `fd`. Fds from [`MAX_FDS`] on do not exist: setting one
    /// is ignored (redirections refuse them first with bash's message).
    pub fn set(&mut self, fd: usize, s: Option<Stream>) {
        if self.fds.len() <= fd {
            if s.is_none() || fd >= MAX_FDS {
                return;
            }
            self.fds.resize(fd + 1, None);
        }
        self.fds[fd] = s;
    }
    pub fn out(&self, data: &[u8]) -> bool {
        match self.get(1) {
            Some(s) => s.write_all(data).is_ok(),
            None => false,
        }
    }
    pub fn err(&self, data: &[u8]) {
        if let Some(s) = self.get(2) {
            let _ = s.write_all(data);
        }
    }
    pub fn stdin(&self) -> Stream {
        self.get(0).cloned().unwrap_or(Stream::Null)
    }
}

/// Adapters so tools can use `std::io` traits on streams.
pub struct StreamReader(pub Stream);
impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}
pub struct StreamWriter(pub Option<Stream>);
impl Write for StreamWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &self.0 {
            Some(s) => s.write_all(buf).map(|_| buf.len()),
            None => Err(std::io::Error::other("Bad file descriptor")),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
