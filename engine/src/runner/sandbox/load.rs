//! Reading a `.wasm` module for the sandbox, bounded in everything its author controls: how
//! the file is reached, how large it is, and how much compiling it can cost.
//!
//! In: the module's path, the directories the run grants (work, temporary, shared) and the
//! size limit. Out: a [`ModuleFile`] (its bytes and identity) and, from one cheap pass over
//! its section headers, its [`Shape`] (the script a compiled hook carries); or a message that
//! names what is wrong and the limit.
//!
//! - The file is opened once, without following a symlink in its last component (`O_NOFOLLOW`)
//!   and without blocking (`O_NONBLOCK`: a FIFO would block the open), and must be a regular
//!   file (`/dev/zero`, FIFOs and sockets are refused before anything is read). Inside a
//!   granted directory it is opened beneath that directory's handle (cap-std: `openat2`
//!   `RESOLVE_BENEATH`), so a hook that swaps its module for a symlink or a path leaving the
//!   directory cannot make hookbox, which may be root, read a file the hook could not.
//! - Its size is checked on the open descriptor before reading ([`Limits::module_bytes_max`])
//!   and the read stops one byte past the limit, whatever the file does meanwhile.
//! - The pass over its sections (wasmparser, in memory, linear in the size) refuses modules
//!   whose compilation would cost far more than their size suggests: more than
//!   [`MAX_MODULE_FUNCTIONS`] functions, a body over [`MAX_FUNCTION_BODY_BYTES`], more than
//!   [`MAX_FUNCTION_LOCALS`] locals in one function. wasmtime cannot stop a compilation
//!   half-way, so these caps are what bound its time and memory; the runner also counts the
//!   compilation against the hook's deadline.
//!
//! [`Limits::module_bytes_max`]: crate::limits::Limits::module_bytes_max

use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use cap_std::fs::OpenOptionsExt as _;
use wasmparser::{Encoding, Parser, Payload};

use super::shell::SCRIPT_SECTION;

/// Most functions a module may define: 50,000. The bundled shell defines about 2,300 and
/// large Rust hooks a few thousand; wasmtime spends time and memory per function (80,000 empty
/// functions take tens of seconds to compile), so past this the module is refused.
pub const MAX_MODULE_FUNCTIONS: u32 = 50_000;
/// Largest function body: 512 KiB. The bundled shell's largest is 24 KiB; register
/// allocation grows faster than linearly with a function's size, so one huge function can
/// cost minutes and gigabytes to compile.
pub const MAX_FUNCTION_BODY_BYTES: usize = 512 * 1024;
/// Most locals one function may declare: 10,000 (the bundled shell's most is about 100, the
/// format allows 50,000). Each costs compile work and stack, and a few bytes declare
/// thousands.
pub const MAX_FUNCTION_LOCALS: u64 = 10_000;

/// Flags every module open adds: never follow a final symlink, never block (FIFO), never
/// take a controlling terminal.
const OPEN_FLAGS: i32 = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY;

/// Identity of a module file for the runner's table of ready modules: what changes when the
/// file is rewritten (`ctime` changes on every write and cannot be set back by its owner).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FileKey {
    pub(crate) path: PathBuf,
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileKey {
    /// The key of something that is not a file on disk (the bundled shell).
    pub(crate) fn builtin(name: &str, len: usize) -> Self {
        FileKey {
            path: PathBuf::from(name),
            dev: 0,
            ino: 0,
            len: len as u64,
            mtime: (0, 0),
            ctime: (0, 0),
        }
    }
}

/// A module file, read.
#[derive(Debug)]
pub(crate) struct ModuleFile {
    pub(crate) key: FileKey,
    pub(crate) bytes: bytes::Bytes,
}

/// Reads the module (or script) at `path` (relative paths are taken in `roots[0]`), opened beneath the
/// first of `roots` it lies in, or by its path (no-follow) when it lies in none (`hookbox
/// exec` of an operator's file).
pub(crate) fn read_file(
    path: &Path,
    roots: &[&Path],
    max_bytes: u64,
) -> Result<ModuleFile, String> {
    let joined;
    let path = match roots.first() {
        Some(root) if path.is_relative() => {
            joined = root.join(path);
            joined.as_path()
        }
        _ => path,
    };
    let file = open(path, roots)?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read the module: {e}"))?;
    if !meta.file_type().is_file() {
        return Err(
            "is not a regular file (a device, FIFO, socket or directory); a module must be a \
             regular file"
                .into(),
        );
    }
    if meta.len() > max_bytes {
        return Err(too_large(meta.len(), max_bytes));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the module: {e}"))?;
    if bytes.len() as u64 > max_bytes {
        // It grew while being read.
        return Err(too_large(bytes.len() as u64, max_bytes));
    }
    Ok(ModuleFile {
        key: FileKey {
            path: path.to_path_buf(),
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        },
        bytes: bytes.into(),
    })
}

fn too_large(len: u64, max: u64) -> String {
    format!(
        "is {len} bytes, more than the module size limit of {max} bytes (`module_bytes_max`); \
         a hook module this large is refused before it is read or compiled (build it in \
         release mode, or strip its debug sections)"
    )
}

fn open(path: &Path, roots: &[&Path]) -> Result<std::fs::File, String> {
    let beneath = roots.iter().find_map(|root| {
        let rel = path.strip_prefix(root).ok()?;
        (!rel.as_os_str().is_empty()).then_some((*root, rel))
    });
    // cap-std opens with `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)` and the flags
    // above; on a kernel without `openat2` it resolves each component itself, still beneath
    // the root (a final symlink is then followed inside the root, never out of it).
    match beneath {
        Some((root, rel)) => {
            if rel.components().any(|c| c == Component::ParentDir) {
                return Err(format!(
                    "is not inside {}: a module path may not use `..`",
                    root.display()
                ));
            }
            let dir = cap_std::fs::Dir::open_ambient_dir(root, cap_std::ambient_authority())
                .map_err(|e| format!("cannot open {}: {e}", root.display()))?;
            dir.open_with(
                rel,
                cap_std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(OPEN_FLAGS),
            )
            .map(cap_std::fs::File::into_std)
            .map_err(|e| open_error(&e, Some(root)))
        }
        None => std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(OPEN_FLAGS)
            .open(path)
            .map_err(|e| open_error(&e, None)),
    }
}

fn open_error(e: &std::io::Error, root: Option<&Path>) -> String {
    match (e.raw_os_error(), root) {
        (Some(libc::ELOOP), _) => "is a symbolic link (or a loop of them): module files are \
                                   opened without following symlinks; put the file itself \
                                   there"
            .into(),
        // cap-std reports `openat2`'s EXDEV as an "escape attempt" without an errno.
        (Some(libc::EXDEV) | None, Some(root))
            if e.kind() == std::io::ErrorKind::PermissionDenied || e.raw_os_error().is_some() =>
        {
            format!(
                "leads outside {} (through a symlink or `..`), which hookbox does not follow",
                root.display()
            )
        }
        _ if e.kind() == std::io::ErrorKind::NotFound => "does not exist".into(),
        _ => format!("cannot open the module: {e}"),
    }
}

/// What the pass over a module's sections found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Shape {
    /// The script of a compiled hook ([`SCRIPT_SECTION`]), if the module carries one.
    pub(crate) script: Option<String>,
    /// Functions the module defines.
    pub(crate) functions: u32,
}

/// One pass over the module's sections in memory: its script, and the compile-cost caps.
pub(crate) fn inspect(bytes: &[u8]) -> Result<Shape, String> {
    if !bytes.starts_with(b"\0asm") {
        return Err("is not a WebAssembly module (a module starts with the bytes `\\0asm`)".into());
    }
    let mut shape = Shape::default();
    let mut body_index = 0u32;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| format!("not a valid WebAssembly module: {e}"))?;
        match payload {
            Payload::Version {
                encoding: Encoding::Component,
                ..
            } => {
                return Err(
                    "is a WebAssembly component; hooks are core modules (WASI preview 1)".into(),
                )
            }
            Payload::FunctionSection(reader) => {
                shape.functions = reader.count();
                check_function_count(shape.functions)?;
            }
            Payload::CodeSectionStart { count, .. } => check_function_count(count)?,
            Payload::CodeSectionEntry(body) => {
                let size = body.range().len();
                if size > MAX_FUNCTION_BODY_BYTES {
                    return Err(format!(
                        "function {body_index} has a body of {size} bytes, more than the \
                         {MAX_FUNCTION_BODY_BYTES} hookbox compiles"
                    ));
                }
                let mut locals = 0u64;
                let reader = body
                    .get_locals_reader()
                    .map_err(|e| format!("not a valid WebAssembly module: {e}"))?;
                for declared in reader {
                    let (count, _) =
                        declared.map_err(|e| format!("not a valid WebAssembly module: {e}"))?;
                    locals = locals.saturating_add(u64::from(count));
                    if locals > MAX_FUNCTION_LOCALS {
                        return Err(format!(
                            "function {body_index} declares more than {MAX_FUNCTION_LOCALS} \
                             locals, more than hookbox compiles"
                        ));
                    }
                }
                body_index += 1;
            }
            Payload::CustomSection(reader) if reader.name() == SCRIPT_SECTION => {
                shape.script = Some(String::from_utf8_lossy(reader.data()).into_owned());
            }
            _ => {}
        }
    }
    Ok(shape)
}

fn check_function_count(count: u32) -> Result<(), String> {
    if count > MAX_MODULE_FUNCTIONS {
        return Err(format!(
            "defines {count} functions, more than the {MAX_MODULE_FUNCTIONS} hookbox compiles"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell_module::SHELL_WASM;

    fn leb(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn section(out: &mut Vec<u8>, id: u8, payload: &[u8]) {
        out.push(id);
        leb(out, payload.len() as u64);
        out.extend_from_slice(payload);
    }

    /// A module of `n` functions of type `() -> ()`, each declaring `locals` i32 locals and
    /// `body_pad` `nop`s.
    pub(crate) fn module(n: u32, locals: u32, body_pad: usize) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        section(&mut m, 1, &[1, 0x60, 0, 0]);
        let mut funcs = Vec::new();
        leb(&mut funcs, u64::from(n));
        funcs.extend(std::iter::repeat_n(0u8, n as usize));
        section(&mut m, 3, &funcs);
        let mut body = Vec::new();
        if locals > 0 {
            body.push(1);
            leb(&mut body, u64::from(locals));
            body.push(0x7f);
        } else {
            body.push(0);
        }
        body.extend(std::iter::repeat_n(0x01u8, body_pad));
        body.push(0x0b);
        let mut code = Vec::new();
        leb(&mut code, u64::from(n));
        for _ in 0..n {
            leb(&mut code, body.len() as u64);
            code.extend_from_slice(&body);
        }
        section(&mut m, 10, &code);
        m
    }

    #[test]
    fn the_bundled_shell_passes_the_caps() {
        let shape = inspect(SHELL_WASM).unwrap();
        assert!(shape.functions > 100, "{shape:?}");
        assert_eq!(shape.script, None);
        let compiled = super::super::shell::embed_script(SHELL_WASM, "echo hi\n");
        assert_eq!(
            inspect(&compiled).unwrap().script.as_deref(),
            Some("echo hi\n")
        );
    }

    #[test]
    fn modules_that_cost_too_much_to_compile_are_refused() {
        assert!(inspect(&module(10, 3, 10)).is_ok());
        let err = inspect(&module(MAX_MODULE_FUNCTIONS + 1, 0, 0)).unwrap_err();
        assert!(err.contains("functions"), "{err}");
        let err = inspect(&module(1, 0, MAX_FUNCTION_BODY_BYTES + 1)).unwrap_err();
        assert!(err.contains("body"), "{err}");
        let err = inspect(&module(1, 50_000, 0)).unwrap_err();
        assert!(err.contains("locals"), "{err}");
    }

    #[test]
    fn junk_is_refused_at_once_without_echoing_it() {
        let zeros = vec![0u8; 2 << 20];
        let err = inspect(&zeros).unwrap_err();
        assert!(err.contains("not a WebAssembly module"), "{err}");
        // A header, then zeros: a custom section without a name.
        let mut headed = b"\0asm\x01\0\0\0".to_vec();
        headed.extend(std::iter::repeat_n(0u8, 2 << 20));
        assert!(inspect(&headed).unwrap_err().contains("not a valid"));
        let err = inspect(b"root:x:0:0").unwrap_err();
        assert!(!err.contains("root"), "{err}");
    }

    #[test]
    fn files_are_opened_as_regular_files_beneath_their_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("work");
        std::fs::create_dir(&root).unwrap();
        let outside = dir.path().join("secret.wasm");
        std::fs::write(&outside, b"\0asm\x01\0\0\0").unwrap();
        std::fs::write(root.join("ok.wasm"), b"\0asm\x01\0\0\0").unwrap();
        let roots = [root.as_path()];
        let ok = read_file(&root.join("ok.wasm"), &roots, 100).unwrap();
        assert_eq!(&ok.bytes[..], &b"\0asm\x01\0\0\0"[..]);
        assert_eq!(
            read_file(Path::new("ok.wasm"), &roots, 100)
                .unwrap()
                .bytes
                .len(),
            8
        );

        std::os::unix::fs::symlink(&outside, root.join("abs.wasm")).unwrap();
        std::os::unix::fs::symlink("ok.wasm", root.join("inside.wasm")).unwrap();
        for name in ["abs.wasm", "inside.wasm"] {
            let err = read_file(&root.join(name), &roots, 100).unwrap_err();
            assert!(err.contains("symbolic link"), "{name}: {err}");
        }
        // A directory symlink on the way out of the root is not followed either.
        std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
        let err = read_file(&root.join("up/secret.wasm"), &roots, 100).unwrap_err();
        assert!(err.contains("outside"), "{err}");
        let err = read_file(&root.join("../secret.wasm"), &roots, 100).unwrap_err();
        assert!(err.contains(".."), "{err}");

        let fifo = root.join("fifo.wasm");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_file(&fifo, &roots, 100).unwrap_err();
        assert!(err.contains("regular file"), "{err}");
        let err = read_file(Path::new("/dev/zero"), &roots, 100).unwrap_err();
        assert!(err.contains("regular file"), "{err}");

        let err = read_file(&root.join("ok.wasm"), &roots, 7).unwrap_err();
        assert!(
            err.contains("8 bytes") && err.contains("limit of 7"),
            "{err}"
        );
    }
}
