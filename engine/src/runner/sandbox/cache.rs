//! The on-disk cache of compiled modules.
//!
//! In: a module's bytes (and, for the bundled shell, its sha256 computed at build time). Out:
//! a compiled [`Module`], from the cache when a valid entry exists, otherwise compiled and
//! stored. An entry is keyed by the engine's compatibility hash
//! ([`Engine::precompile_compatibility_hash`]) and the module's sha256: `KEY.cwasm` is the
//! compiled artifact exactly as `Module::serialize` wrote it, so it is mapped into memory by
//! `Module::deserialize_file` (pages shared with the page cache, nothing copied), and
//! `KEY.cwasm.crc` holds its CRC-32 and length and the fingerprint of the file as stored
//! (device, inode, modification and change times): a start whose entry still has that
//! fingerprint trusts the checksum it was stored with (one `stat`, where reading and
//! checksumming the shell's 6 MB cost ~0.4 ms of every `hookbox shell`), and any other entry
//! is read and checksummed whole (so corruption beneath the filesystem, which changes no
//! time, is caught only in entries that were copied or restored). An entry whose checksum does not match
//! (truncated, corrupted, half-replaced, or written by another engine) is removed and
//! recompiled, never loaded. Both files are written to a temporary file and renamed, so
//! concurrent processes never see half of one. Nothing may rewrite an entry in place: a
//! process that has it mapped reads its code and unwind information from the file's pages
//! (until the module's last reference is dropped, which may be on another thread), and a
//! truncated mapped file kills that process with SIGBUS.
//!
//! The checksum is CRC-32 rather than a cryptographic digest because it guards against
//! corruption only (it costs well under a millisecond for the shell's megabytes, where sha256
//! cost several in every process): the cache directory must be writable only by hookbox
//! (never by a hook), since deserialising a compiled artifact runs its machine code and no
//! checksum stops someone who can write the entry. SECURITY.md says so.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

/// Where a compiled module came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a valid cache entry.
    Hit,
    /// Compiled (no entry, no cache directory, or an invalid entry that was replaced).
    Compiled,
    /// Compiled because the entry was invalid; the entry was replaced.
    Recompiled,
}

/// Compiled-module cache in one directory (or no cache at all).
#[derive(Debug, Clone)]
pub struct ModuleCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

/// Feeds `Hash` output into sha256, so the engine's compatibility hash is stable across
/// processes (std's `DefaultHasher` is not guaranteed to be).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl ModuleCache {
    /// A cache in `dir` (created on first store) for modules compiled by `engine`; `None`
    /// compiles every time.
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = hex(&hasher.0.finalize()[..12]);
        ModuleCache { dir, engine_key }
    }

    /// The cache directory, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The entry path for a module with this sha256.
    pub fn entry_path(&self, module_digest: &[u8]) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|dir| dir.join(format!("{}-{}.cwasm", self.engine_key, hex(module_digest))))
    }

    /// Compiles `wasm`, or loads it from a valid cache entry.
    pub fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
    ) -> Result<(Module, CacheOutcome), wasmtime::Error> {
        self.load_keyed(engine, wasm, &Sha256::digest(wasm))
    }

    /// [`Self::load`] with the module's sha256 already known (the bundled shell's, from the
    /// build).
    pub fn load_keyed(
        &self,
        engine: &Engine,
        wasm: &[u8],
        digest: &[u8],
    ) -> Result<(Module, CacheOutcome), wasmtime::Error> {
        let Some(path) = self.entry_path(digest) else {
            return Ok((Module::new(engine, wasm)?, CacheOutcome::Compiled));
        };
        let mut outcome = CacheOutcome::Compiled;
        match verify_entry(&path) {
            Ok(true) => {
                // SAFETY: the artifact's CRC-32 and length match the ones stored beside it, so
                // it is (barring deliberate forgery, see the module doc) what `store` wrote
                // from `Module::serialize` of this engine configuration (the compatibility
                // hash is in the file name, and wasmtime checks it again in the header). The
                // cache directory is trusted (see the module doc), and entries are only ever
                // replaced by rename, never rewritten in place, so the mapped file does not
                // change under the module.
                match unsafe { Module::deserialize_file(engine, &path) } {
                    Ok(module) => {
                        tracing::debug!(path = %path.display(), "compiled module mapped from the cache");
                        return Ok((module, CacheOutcome::Hit));
                    }
                    Err(err) => {
                        tracing::warn!(path = %path.display(), %err, "rejecting cached module");
                        outcome = CacheOutcome::Recompiled;
                    }
                }
            }
            Ok(false) => {
                tracing::warn!(path = %path.display(), "cached module fails its checksum; recompiling");
                outcome = CacheOutcome::Recompiled;
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                tracing::warn!(path = %path.display(), %err, "cannot read cached module");
                outcome = CacheOutcome::Recompiled;
            }
        }
        if outcome == CacheOutcome::Recompiled {
            let _ = std::fs::remove_file(&path);
            let _ = std::fs::remove_file(checksum_path(&path));
        }
        let started = std::time::Instant::now();
        let module = Module::new(engine, wasm)?;
        tracing::debug!(
            bytes = wasm.len(),
            ms = started.elapsed().as_millis() as u64,
            "compiled module"
        );
        match module.serialize() {
            Ok(artifact) => {
                if let Err(err) = store(&path, &artifact) {
                    tracing::warn!(path = %path.display(), %err, "cannot write module cache");
                } else {
                    tracing::debug!(path = %path.display(), "compiled module stored in the cache");
                }
            }
            Err(err) => tracing::warn!(%err, "cannot serialize compiled module"),
        }
        Ok((module, outcome))
    }
}

/// Where an entry's checksum lives: `KEY.cwasm.crc`.
fn checksum_path(entry: &Path) -> PathBuf {
    let mut name = entry.as_os_str().to_owned();
    name.push(".crc");
    PathBuf::from(name)
}

/// The checksum file: the artifact's CRC-32 and length, then the fingerprint of the file
/// that was written (all little-endian). Older 12-byte checksum files have no fingerprint.
const SUM_BYTES: usize = 12;
const FINGERPRINT_BYTES: usize = 48;

/// What the filesystem says about one file: device, inode, modification and change times
/// (seconds, nanoseconds). Any write through the filesystem moves the change time, which no
/// program can set back, so an entry whose fingerprint is the one recorded when it was
/// stored is the file that was checksummed then.
fn fingerprint(meta: &std::fs::Metadata) -> [u8; FINGERPRINT_BYTES] {
    use std::os::unix::fs::MetadataExt;
    let fields = [
        meta.dev(),
        meta.ino(),
        meta.mtime() as u64,
        meta.mtime_nsec() as u64,
        meta.ctime() as u64,
        meta.ctime_nsec() as u64,
    ];
    let mut out = [0u8; FINGERPRINT_BYTES];
    for (chunk, field) in out.chunks_exact_mut(8).zip(fields) {
        chunk.copy_from_slice(&field.to_le_bytes());
    }
    out
}

fn checksum_of(artifact: &[u8], written: &std::fs::Metadata) -> Vec<u8> {
    let mut sum = Vec::with_capacity(SUM_BYTES + FINGERPRINT_BYTES);
    sum.extend_from_slice(&crc32fast::hash(artifact).to_le_bytes());
    sum.extend_from_slice(&(artifact.len() as u64).to_le_bytes());
    sum.extend_from_slice(&fingerprint(written));
    sum
}

/// Whether the entry at `path` matches its checksum file (`NotFound` when there is no
/// entry). When the entry is still the very file that was stored (its fingerprint), that
/// costs one `stat`; otherwise (copied, restored, rewritten) the whole artifact is read
/// through a small buffer and its CRC-32 compared.
fn verify_entry(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let sum = match std::fs::read(checksum_path(path)) {
        Ok(sum) => sum,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let (Some(crc), Some(len)) = (
        sum.get(..4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes),
        sum.get(4..SUM_BYTES)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes),
    ) else {
        return Ok(false);
    };
    let meta = file.metadata()?;
    if meta.len() != len {
        return Ok(false);
    }
    match sum.len() - SUM_BYTES {
        0 => {}
        FINGERPRINT_BYTES if sum[SUM_BYTES..] == fingerprint(&meta) => return Ok(true),
        FINGERPRINT_BYTES => {}
        _ => return Ok(false),
    }
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 128 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize() == crc)
}

/// Writes an entry atomically (temporary file in the same directory, then rename): the
/// artifact first, then its checksum file with the fingerprint of the artifact as renamed.
fn store(path: &Path, artifact: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("cache entry without a directory"))?;
    std::fs::create_dir_all(dir)?;
    let write = |to: &Path, bytes: &[u8]| -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(to).map_err(|e| e.error)?;
        Ok(())
    };
    write(path, artifact)?;
    let written = std::fs::metadata(path)?;
    write(&checksum_path(path), &checksum_of(artifact, &written))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom};

    fn stored(dir: &Path) -> PathBuf {
        let path = dir.join("entry.cwasm");
        store(&path, &vec![7u8; 300_000]).unwrap();
        path
    }

    #[test]
    fn an_entry_rewritten_in_place_with_its_time_put_back_fails_its_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = stored(dir.path());
        assert!(verify_entry(&path).unwrap());
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.seek(SeekFrom::Start(150_000)).unwrap();
        file.write_all(&[8]).unwrap();
        file.set_modified(modified).unwrap();
        drop(file);
        // Same inode, same length, same mtime: only the change time tells, and then the
        // whole-file CRC finds the flipped byte.
        assert!(!verify_entry(&path).unwrap());
    }

    #[test]
    fn a_copied_entry_is_checked_whole_and_a_legacy_checksum_still_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let path = stored(dir.path());
        let copy = dir.path().join("copy.cwasm");
        std::fs::copy(&path, &copy).unwrap();
        std::fs::copy(checksum_path(&path), checksum_path(&copy)).unwrap();
        assert!(verify_entry(&copy).unwrap());
        let mut bytes = std::fs::read(&copy).unwrap();
        bytes[10] ^= 1;
        std::fs::write(&copy, &bytes).unwrap();
        assert!(!verify_entry(&copy).unwrap());

        let sum = std::fs::read(checksum_path(&path)).unwrap();
        std::fs::write(checksum_path(&path), &sum[..SUM_BYTES]).unwrap();
        assert!(verify_entry(&path).unwrap());
        std::fs::write(checksum_path(&path), &sum[..SUM_BYTES + 3]).unwrap();
        assert!(!verify_entry(&path).unwrap());
    }
}
