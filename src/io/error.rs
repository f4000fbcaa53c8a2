//! Input errors (unreadable files, malformed points, invalid mixtures, unknown built-ins)
//! and output errors (files or directories that cannot be written).

use thiserror::Error;

use crate::model::ModelError;

/// What is wrong with an input file.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be read.
    #[error("cannot read {what} file '{path}': {source}; check the path and its permissions")]
    Unreadable {
        /// `mixture` or `points`.
        what: &'static str,
        /// The path given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The mixture is invalid.
    #[error("mixture file '{path}': {source}")]
    Mixture {
        /// The path given.
        path: String,
        /// What is wrong.
        source: ModelError,
    },
    /// The points file is malformed.
    #[error("points file '{path}': {message}")]
    Points {
        /// The path given.
        path: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// `builtin:NAME` names no built-in mixture.
    #[error(transparent)]
    Builtin(ModelError),
    /// The file is too large, endless or unreadable.
    #[error(transparent)]
    Limit(#[from] crate::limits::LimitError),
}

/// What went wrong while writing an output.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OutputError {
    /// A file could not be written.
    #[error("cannot write '{path}': {source}; check that the directory exists and is writable")]
    Unwritable {
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A document could not be serialised.
    #[error("cannot serialise {what}: {source}")]
    Serialise {
        /// Which document.
        what: &'static str,
        /// What serde said.
        source: serde_json::Error,
    },
    /// A directory could not be created.
    #[error(
        "cannot write into '{path}': creating the directory failed ({source}); pass a writable output directory"
    )]
    Directory {
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}
