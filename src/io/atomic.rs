//! Atomic file output: write a temporary file beside the target, then rename it over
//! the target, so that readers (and resumed sweeps) never see a half-written file.
//!
//! The temporary file is created exclusively (`O_CREAT | O_EXCL`, via
//! `OpenOptions::create_new`) under an unpredictable name in the target's directory, so a
//! file or a symlink planted at that name is never opened or followed (the create fails
//! and another name is drawn); the rename replaces the target's directory entry itself
//! (a symlink at the target is replaced, not followed). Whatever fails after the
//! temporary file exists, it is removed: a failed write leaves nothing behind.

use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::OutputError;

/// Attempts at drawing an unused temporary name before giving up.
const NAME_ATTEMPTS: usize = 64;

/// An unpredictable 64-bit value: the standard library's per-process random hash keys
/// (seeded from the operating system), mixed with the time, the process id and a counter.
fn unpredictable() -> u64 {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

/// Create a new temporary file beside `path` (exclusive create, unpredictable name).
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    let mut last = None;
    for _ in 0..NAME_ATTEMPTS {
        let tmp = dir.join(format!(".{name}.{:016x}.tmp", unpredictable()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no unused temporary name")))
}

/// Write `bytes` to `path` atomically (exclusive temporary file in the same directory,
/// then rename; module doc).
///
/// ```
/// let dir = std::env::temp_dir().join("flowcert-doc-atomic");
/// std::fs::create_dir_all(&dir).unwrap();
/// let p = dir.join("a.txt");
/// flowcert::io::write_atomic(&p, b"hello").unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"hello");
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let err = |source| OutputError::Unwritable {
        path: path.display().to_string(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (tmp, mut file) = create_temp(dir, &name).map_err(err)?;
    let written = file.write_all(bytes).and_then(|()| file.flush());
    drop(file);
    let result = written.and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(())
}

/// Create `dir` and its parents (nothing to do when it exists).
///
/// ```
/// let dir = std::env::temp_dir().join("flowcert-doc-create/a/b");
/// flowcert::io::create_dir(&dir).unwrap();
/// assert!(dir.is_dir());
/// ```
pub fn create_dir(dir: &Path) -> Result<(), OutputError> {
    std::fs::create_dir_all(dir).map_err(|source| OutputError::Directory {
        path: dir.display().to_string(),
        source,
    })
}
