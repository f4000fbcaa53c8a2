//! Errors of the model layer: every message names the offending field and the fix.

use thiserror::Error;

/// What is wrong with a mixture specification or a query against it.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ModelError {
    /// The mixture has no component.
    #[error(
        "weights is empty: give at least one component (weights, means and covariances of equal length)"
    )]
    Empty,
    /// The dimension is zero.
    #[error("means[0] is empty: the dimension d must be at least 1")]
    ZeroDimension,
    /// `means` or `covariances` has a different number of entries than `weights`.
    #[error(
        "{field} has {got} entries but weights has {expected}: give one mean and one covariance per weight"
    )]
    CountMismatch {
        /// `means` or `covariances`.
        field: &'static str,
        /// Entries found.
        got: usize,
        /// Number of weights.
        expected: usize,
    },
    /// A vector or matrix row has the wrong length.
    #[error(
        "{field} has length {got} but the mixture dimension is d = {expected} (from means[0]): all means and covariance rows must have d entries"
    )]
    DimensionMismatch {
        /// Path of the offending array, e.g. `means[2]` or `covariances[1][0]`.
        field: String,
        /// Length found.
        got: usize,
        /// The dimension d.
        expected: usize,
    },
    /// A number is NaN or infinite.
    #[error("{field} is {value}: every number must be finite")]
    NonFinite {
        /// Path of the offending number.
        field: String,
        /// The value found.
        value: f64,
    },
    /// A weight is not positive.
    #[error(
        "weights[{index}] = {value} is not positive: every weight must be > 0 (drop the component instead)"
    )]
    NonPositiveWeight {
        /// Index of the component.
        index: usize,
        /// The weight found.
        value: f64,
    },
    /// The weights do not sum to one.
    #[error(
        "weights sum to {sum} but must sum to 1 within {tol:e}: divide each weight by their sum"
    )]
    WeightSum {
        /// The sum found.
        sum: f64,
        /// The tolerance.
        tol: f64,
    },
    /// A covariance is not symmetric.
    #[error(
        "covariances[{index}] is not symmetric: entries ({i},{j}) and ({j},{i}) differ by {diff:e}; make it symmetric, e.g. (S + S^T)/2"
    )]
    Asymmetric {
        /// Component index.
        index: usize,
        /// Row of the largest asymmetry.
        i: usize,
        /// Column of the largest asymmetry.
        j: usize,
        /// The absolute difference.
        diff: f64,
    },
    /// A covariance has a negative eigenvalue.
    #[error(
        "covariance {index} is not positive semi-definite: smallest eigenvalue {min_eigenvalue:e}; give a PSD matrix (e.g. Q diag(lambda) Q^T with lambda >= 0)"
    )]
    NotPsd {
        /// Component index.
        index: usize,
        /// The smallest eigenvalue.
        min_eigenvalue: f64,
    },
    /// A time outside the admissible range.
    #[error(
        "{field} = {value} is not a valid OU time: it must be finite and > 0 (t = 0 is the data law, which may have no density)"
    )]
    BadTime {
        /// Name of the time argument.
        field: String,
        /// The value given.
        value: f64,
    },
    /// A time outside the domain of a path other than OU.
    #[error(
        "{field} = {value} is not a time of the {process} path: give a time in {range} (alpha or sigma vanishes, or the path ends, outside it)"
    )]
    TimeOutsidePath {
        /// Name of the time argument.
        field: String,
        /// The value given.
        value: f64,
        /// The path (name and changed parameters).
        process: String,
        /// Its valid range, e.g. `(0, 1)`.
        range: String,
    },
    /// `--process NAME` with a name that is not built in.
    #[error("unknown process '{given}': the built-in paths are {valid} (e.g. --process vp-linear)")]
    UnknownProcess {
        /// The name given.
        given: String,
        /// The valid names.
        valid: String,
    },
    /// A path parameter that is out of range or belongs to another path.
    #[error("{flag} {value} {problem}")]
    ProcessParam {
        /// The flag, e.g. `--beta-max`.
        flag: &'static str,
        /// The value given.
        value: f64,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// A user-defined path that violates the requirements of `GaussianPath`.
    #[error("path '{name}' is not admissible: {problem}")]
    InvalidPath {
        /// The path's name.
        name: String,
        /// The violated requirement.
        problem: String,
    },
    /// A point of the wrong dimension.
    #[error(
        "{field} has dimension {got} but the mixture has d = {expected}: give points with d coordinates"
    )]
    PointDimension {
        /// Which point, e.g. `points[3]`.
        field: String,
        /// Its length.
        got: usize,
        /// The mixture dimension.
        expected: usize,
    },
    /// The mixture JSON could not be parsed.
    #[error(
        "mixture JSON is malformed: {0}; expected {{\"weights\": [..], \"means\": [[..], ..], \"covariances\": [[[..], ..], ..]}}"
    )]
    Json(String),
    /// A size beyond its limit (`crate::limits`).
    #[error(
        "the mixture has {value} {what}, above the limit of {limit}: give a smaller mixture (README.md, \"Limits and exit status\")"
    )]
    TooLarge {
        /// What was counted.
        what: &'static str,
        /// The count.
        value: usize,
        /// The limit.
        limit: usize,
    },
    /// A number whose magnitude makes f64 arithmetic of the model meaningless.
    #[error(
        "{field} is {value:e}, beyond the limit {limit:e} on its magnitude: the model squares distances and variances, and at this scale f64 arithmetic loses every significant digit (or overflows to inf/NaN); rescale the data (e.g. divide means by s and covariances by s^2) to within the limit"
    )]
    OutOfRange {
        /// Path of the offending number.
        field: String,
        /// The value found.
        value: f64,
        /// The limit on `|value|`.
        limit: f64,
    },
    /// `builtin:NAME` with a name that is not built in.
    #[error(
        "unknown built-in mixture '{given}': the built-ins are {valid} (e.g. builtin:two-mode-s0.1)"
    )]
    UnknownBuiltin {
        /// The name given.
        given: String,
        /// The valid names.
        valid: String,
    },
}
