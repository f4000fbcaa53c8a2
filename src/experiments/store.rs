//! A resumable store of finished experiment cells.
//!
//! Each cell (one mixture x grid x segment count x seed, say) is a JSON file under
//! `DIR/cells/`, written atomically when the cell finishes. A rerun skips cells whose
//! file exists, so an interrupted sweep resumes from what was finished, and shards run on
//! different machines combine by copying their cell files together (`flowcert merge`).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::io::write_atomic;

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
    #[error(
        "cell '{key}' under DIR/cells cannot be read ({source}): delete the file to recompute it"
    )]
    Unreadable {
        /// The cell key.
        key: String,
        /// What serde said.
        source: serde_json::Error,
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
        Ok(CellStore { dir: cells })
    }

    /// The directory holding the cell files.
    pub fn cells_dir(&self) -> &Path {
        &self.dir
    }

    /// A finished cell, if present and readable as `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let text = std::fs::read_to_string(self.dir.join(file_name(key))).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Whether a cell file exists (without reading it).
    pub fn contains(&self, key: &str) -> bool {
        self.dir.join(file_name(key)).is_file()
    }

    /// A finished cell: `Ok(None)` when absent, an error when present but not readable as
    /// `T` (where [`Self::get`] would quietly recompute).
    pub fn read<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let Ok(text) = std::fs::read_to_string(self.dir.join(file_name(key))) else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| StoreError::Unreadable {
                key: key.to_string(),
                source,
            })
    }

    /// Record a finished cell atomically.
    pub fn put<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(value).map_err(|source| StoreError::Serialise {
            key: key.to_string(),
            source,
        })?;
        write_atomic(&self.dir.join(file_name(key)), &bytes)?;
        Ok(())
    }

    /// Copy every cell file of `other` into this store (shards -> one directory).
    /// Returns how many cells were copied.
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
                let bytes = std::fs::read(&p).map_err(|source| StoreError::Dir {
                    path: p.display().to_string(),
                    source,
                })?;
                write_atomic(&self.dir.join(entry.file_name()), &bytes)?;
                n += 1;
            }
        }
        Ok(n)
    }
}
