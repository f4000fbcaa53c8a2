//! Atomic file output: write a temporary file beside the target, then rename it over
//! the target, so that readers (and resumed sweeps) never see a half-written file.

use std::path::Path;

use super::error::OutputError;

/// Write `bytes` to `path` atomically (temp file in the same directory + rename).
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
    // Unique per process *and* call: two threads may write the same target at once.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp{}-{n}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(e)
    })
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
