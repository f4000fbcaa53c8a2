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

/// An error and its causes, each said once, as the command line prints them after
/// `error: ` (and the Python package raises them): a cause whose text the message already
/// contains (most of the library's errors quote their source) is not repeated.
///
/// ```
/// let e = flowcert::io::OutputError::Serialise {
///     what: "report",
///     source: serde_json::from_str::<f64>("x").unwrap_err(),
/// };
/// let text = flowcert::io::error_message(&e);
/// assert_eq!(text, e.to_string()); // the source is quoted once, not appended again
/// ```
pub fn error_message(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !text.contains(&c_text) {
            text.push_str(": ");
            text.push_str(&c_text);
        }
        cause = c.source();
    }
    text
}
