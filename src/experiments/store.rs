//! A resumable store of finished experiment cells.
//!
//! Each cell (one mixture x grid x segment count x seed, say) is a JSON file under
//! `DIR/cells/`, written atomically when the cell finishes. A rerun skips cells whose
//! file exists, so an interrupted sweep resumes from what was finished, and shards run on
//! different machines combine by copying their cell files together (`flowcert merge`).
//!
//! A cell file carries its own identity and a checksum:
//!
//! ```text
//! {"format": "flowcert-cell", "version": 1,
//!  "key": <the cell's key, from which the file name is derived>,
//!  "config": <the full configuration of the cell>,
//!  "checksum": <FNV-1a of the compact JSON of value>,
//!  "value": <the result>}
//! ```
//! A file whose key or configuration is not the one asked for (a cell copied over
//! another, two keys mapping to one file name), whose checksum does not match its value
//! (edited numbers), or that is not a cell file at all, is never used: the cell is
//! recomputed and overwritten, and the store keeps a note for the user
//! ([`CellStore::take_notes`]).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::io::write_atomic;
use crate::{limits, seed};

/// Store errors.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The directory could not be created or read.
    #[error("cannot use output directory '{path}': {source}; pass a writable --out DIR")]
    Dir {
        /// The directory.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A cell could not be written.
    #[error(transparent)]
    Write(#[from] crate::io::OutputError),
    /// A value could not be serialised.
    #[error("cannot serialise cell '{key}': {source}")]
    Serialise {
        /// The cell key.
        key: String,
        /// What serde said.
        source: serde_json::Error,
    },
    /// A cell file exists but does not hold what it should.
    #[error("cell '{key}' under DIR/cells {reason}: delete the file to recompute it")]
    Unreadable {
        /// The cell key.
        key: String,
        /// What is wrong with it (the cell check's or serde's words).
        reason: String,
    },
    /// A malformed `--shard` argument.
    #[error(
        "--shard '{0}' is not of the form i/n with 0 <= i < n (e.g. --shard 0/4 for the first of four slices)"
    )]
    Shard(String),
}

/// A slice `index/count` of a sweep: cell `j` belongs to it when `j % count == index`.
///
/// ```
/// let s: flowcert::experiments::Shard = "1/3".parse().unwrap();
/// assert!(s.owns(4) && !s.owns(3));
/// assert!("3/3".parse::<flowcert::experiments::Shard>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which slice.
    pub index: usize,
    /// How many slices.
    pub count: usize,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// No cell at all: a sweep with this shard computes nothing and collects what the
    /// store holds (`flowcert merge`). Not expressible as `i/n` on the command line.
    ///
    /// ```
    /// use flowcert::experiments::Shard;
    /// assert!((0..1000).all(|j| !Shard::NONE.owns(j)));
    /// ```
    pub const NONE: Shard = Shard {
        index: usize::MAX,
        count: usize::MAX,
    };

    /// Does cell number `j` belong to this shard?
    pub fn owns(&self, j: usize) -> bool {
        j % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == Shard::NONE {
            f.write_str("none")
        } else {
            write!(f, "{}/{}", self.index, self.count)
        }
    }
}

impl FromStr for Shard {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || StoreError::Shard(s.to_string());
        let (a, b) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = a.trim().parse().map_err(|_| bad())?;
        let count: usize = b.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// Finished cells, one JSON file each, under `DIR/cells/`.
#[derive(Debug, Clone)]
pub struct CellStore {
    dir: PathBuf,
    notes: Arc<Mutex<Vec<String>>>,
}

/// The identity of a cell: its key (which names its file) and its full configuration
/// (everything that changes its result), both stored in the cell file and checked on
/// every read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellKey {
    /// The key; the file name is derived from it.
    pub name: String,
    /// The full configuration.
    pub config: String,
}

impl From<String> for CellKey {
    /// A key that is its own configuration.
    fn from(name: String) -> Self {
        CellKey {
            config: name.clone(),
            name,
        }
    }
}

impl From<&str> for CellKey {
    fn from(name: &str) -> Self {
        CellKey::from(name.to_string())
    }
}

/// The `format` field of a cell file.
const CELL_FORMAT: &str = "flowcert-cell";
/// The cell-file version this build writes and reads.
const CELL_VERSION: u32 = 1;

/// A cell file (module doc).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<V> {
    format: String,
    version: u32,
    key: String,
    config: String,
    checksum: String,
    value: V,
}

fn checksum(value: &serde_json::Value) -> String {
    format!("{:016x}", seed::fnv1a(value.to_string().as_bytes()))
}

/// Read and verify a cell file against `key` (its config too when `config` is given);
/// `Err` says what is wrong.
fn verified(path: &Path, name: &str, config: Option<&str>) -> Result<serde_json::Value, String> {
    let text =
        limits::read_text(path, "cell", limits::MAX_JSON_FILE_BYTES).map_err(|e| e.to_string())?;
    let env: Envelope<serde_json::Value> = serde_json::from_str(&text).map_err(|e| {
        format!(
            "is not a flowcert cell file ({})",
            limits::json_error(&text, &e)
        )
    })?;
    if env.format != CELL_FORMAT || env.version != CELL_VERSION {
        return Err(format!(
            "is format {} version {}, not {CELL_FORMAT} version {CELL_VERSION}",
            env.format, env.version
        ));
    }
    if env.key != name {
        return Err(format!(
            "holds cell '{}', not '{name}' (a file copied over another?)",
            env.key
        ));
    }
    if let Some(c) = config
        && env.config != c
    {
        return Err("was computed with another configuration".into());
    }
    if checksum(&env.value) != env.checksum {
        return Err("does not match its checksum (its contents were edited)".into());
    }
    Ok(env.value)
}

fn file_name(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        + ".json"
}

impl CellStore {
    /// Open (creating) the store under `dir`.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join("flowcert-doc-store");
    /// let s = flowcert::experiments::CellStore::open(&dir).unwrap();
    /// s.put("a/b", &3u32).unwrap();
    /// assert_eq!(s.get::<u32>("a/b"), Some(3));
    /// ```
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let cells = dir.join("cells");
        std::fs::create_dir_all(&cells).map_err(|source| StoreError::Dir {
            path: cells.display().to_string(),
            source,
        })?;
        Ok(CellStore {
            dir: cells,
            notes: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// The notes kept since the last call: cells that were found but not used (module
    /// doc), one sentence each, for the user.
    pub fn take_notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default()
    }

    fn note(&self, msg: String) {
        if let Ok(mut n) = self.notes.lock() {
            n.push(msg);
        }
    }

    /// The directory holding the cell files.
    pub fn cells_dir(&self) -> &Path {
        &self.dir
    }

    /// A finished cell whose key is its own configuration (see [`Self::get_cell`]).
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.get_cell(&CellKey::from(key))
    }

    /// Whether a cell file exists (without reading it).
    pub fn contains(&self, key: &str) -> bool {
        self.dir.join(file_name(key)).is_file()
    }

    /// A finished cell, if its file exists, carries this key and configuration, matches
    /// its checksum and reads as `T`; a file that exists but fails any of these is not
    /// used, and a note says why (it will be recomputed and overwritten).
    ///
    /// ```
    /// use flowcert::experiments::{CellKey, CellStore};
    /// let dir = std::env::temp_dir().join(format!("flowcert-doc-cellkey-{}", std::process::id()));
    /// let s = CellStore::open(&dir).unwrap();
    /// let k = CellKey { name: "a/N8".into(), config: "N=8".into() };
    /// s.put_cell(&k, &8u32).unwrap();
    /// assert_eq!(s.get_cell::<u32>(&k), Some(8));
    /// let other = CellKey { config: "N=1".into(), ..k.clone() };
    /// assert_eq!(s.get_cell::<u32>(&other), None);
    /// assert!(s.take_notes()[0].contains("another configuration"));
    /// ```
    pub fn get_cell<T: DeserializeOwned>(&self, key: &CellKey) -> Option<T> {
        let path = self.dir.join(file_name(&key.name));
        if !path.exists() {
            return None;
        }
        let used = verified(&path, &key.name, Some(&key.config)).and_then(|v| {
            serde_json::from_value(v)
                .map_err(|e| format!("does not hold this kind of result ({e})"))
        });
        match used {
            Ok(v) => Some(v),
            Err(why) => {
                self.note(format!(
                    "cell file {} {why}: not used; recomputing the cell",
                    path.display()
                ));
                None
            }
        }
    }

    /// A finished cell whose key is its own configuration: `Ok(None)` when absent, an error
    /// when present but failing the cell check or not readable as `T` (where [`Self::get`]
    /// would quietly recompute).
    pub fn read<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let path = self.dir.join(file_name(key));
        if !path.exists() {
            return Ok(None);
        }
        verified(&path, key, Some(key))
            .and_then(|v| {
                serde_json::from_value(v)
                    .map_err(|e| format!("does not hold this kind of result ({e})"))
            })
            .map(Some)
            .map_err(|reason| StoreError::Unreadable {
                key: key.to_string(),
                reason,
            })
    }

    /// Record a finished cell atomically (key equals configuration).
    pub fn put<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        self.put_cell(&CellKey::from(key), value)
    }

    /// Record a finished cell atomically, with its key, configuration and checksum.
    pub fn put_cell<T: Serialize>(&self, key: &CellKey, value: &T) -> Result<(), StoreError> {
        let ser = |source| StoreError::Serialise {
            key: key.name.clone(),
            source,
        };
        let value = serde_json::to_value(value).map_err(ser)?;
        let env = Envelope {
            format: CELL_FORMAT.to_string(),
            version: CELL_VERSION,
            key: key.name.clone(),
            config: key.config.clone(),
            checksum: checksum(&value),
            value,
        };
        let bytes = serde_json::to_vec_pretty(&env).map_err(ser)?;
        write_atomic(&self.dir.join(file_name(&key.name)), &bytes)?;
        Ok(())
    }

    /// Copy every cell file of `other` into this store (shards -> one directory): each
    /// must be a cell file whose key names its file and whose checksum matches (others
    /// are skipped, with a note). Returns how many cells were copied.
    pub fn absorb(&self, other: &Path) -> Result<usize, StoreError> {
        let src = other.join("cells");
        let rd = std::fs::read_dir(&src).map_err(|source| StoreError::Dir {
            path: src.display().to_string(),
            source,
        })?;
        let mut n = 0;
        for entry in rd.flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "json") {
                let text = match limits::read_text(&p, "cell", limits::MAX_JSON_FILE_BYTES) {
                    Ok(t) => t,
                    Err(e) => {
                        self.note(format!("{e}: not merged"));
                        continue;
                    }
                };
                let named = serde_json::from_str::<Envelope<serde_json::Value>>(&text)
                    .map(|env| env.key)
                    .map_err(|e| format!("is not a flowcert cell file ({e})"))
                    .and_then(|key| {
                        if file_name(&key) == entry.file_name().to_string_lossy() {
                            verified(&p, &key, None)
                        } else {
                            Err(format!("holds cell '{key}', which is not its file name"))
                        }
                    });
                if let Err(why) = named {
                    self.note(format!("cell file {} {why}: not merged", p.display()));
                    continue;
                }
                write_atomic(&self.dir.join(entry.file_name()), text.as_bytes())?;
                n += 1;
            }
        }
        Ok(n)
    }
}
