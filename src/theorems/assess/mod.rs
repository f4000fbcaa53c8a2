//! Regression checks for outside models: a researcher's score network or
//! flow maps (PyTorch, JAX, anything that reads `.npy` or CSV) are evaluated at query points
//! that flowcert writes, and flowcert measures the answers against the exact model.
//!
//! ```text
//! flowcert queries --mixture M --out DIR        writes DIR/queries.json (manifest), and
//!   score_queries.{csv,npy}     rows (t, x_0..x_{d-1}),  x ~ p_t,  per time of --times
//!   flowmap_queries.{csv,npy}   rows (i, t_from, t_to, x),  x ~ p_{t_i}, segment i maps
//!                               t_i -> t_{i-1} of the grid t_0 < ... < t_N (sampling direction)
//!   rollout_queries.{csv,npy}   rows (t_from = T, t_to = t_min, x),  x ~ p_T
//! the model answers, row for row, in the order of the query file (CSV or .npy, d columns):
//!   score    s_theta(x, t)
//!   flowmap  Psi_i(x)                         (its map of segment i)
//!   rollout  Psi_1 o ... o Psi_N (x)          (optional: the composed sampler)
//! flowcert assess score|flowmap --queries DIR --answers FILE [--rollout FILE]
//!   score    per t: L^1 and L^2(p_t) errors (95% CI), relative L^2 error
//!   flowmap  per segment: eps_i (RMS and max of |Psi_i - Phi_i|), the composition bound
//!            sum_i eps_i exp(Lambda(t_{i-1}) - Lambda(t_0)) (two-sided Lambda; RMS and max
//!            forms); with --rollout the end-to-end error |Psi - Phi_{T -> t_min}| (RMS, max,
//!            relative MSE) and its ratio to the bound
//! ```
//! Every metric is "lower is better". A saved baseline (the assessment JSON) is compared
//! metric by metric: a metric regresses when `current > baseline (1 + tolerance) + ABS_FLOOR`
//! ([`baseline`]). The query points are fixed files, so a deterministic model gives the same
//! metrics bit for bit, and the comparison carries no Monte Carlo noise.
//!
//! - [`npy`]: the NPY v1.0 format, written and read by hand;
//! - [`queries`]: generating, writing and loading query sets (manifest with the mixture, its
//!   hash and fingerprints of the query files);
//! - [`answers`]: reading a model's answers (`.npy`, CSV or JSON);
//! - [`score`], [`flowmap`]: the two assessments;
//! - [`baseline`]: saved metrics and the regression comparison.

use thiserror::Error;

pub mod answers;
pub mod baseline;
pub mod flowmap;
pub mod npy;
pub mod queries;
pub mod score;

pub use answers::load_answers;
pub use baseline::{ABS_FLOOR, Baseline, Comparison, MetricChange, compare};
pub use flowmap::{FlowmapAssessment, assess_flowmap};
pub use queries::{QueryConfig, QueryIdentity, QueryManifest, QuerySet};
pub use score::{ScoreAssessment, assess_score};

/// What went wrong in a query set, an answers file or a baseline; every message says what
/// to fix.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AssessError {
    /// A bad query setting.
    #[error("{field} = {value} is not usable: {fix}")]
    BadSetting {
        /// The flag or field.
        field: &'static str,
        /// Its value, formatted.
        value: String,
        /// What to do.
        fix: String,
    },
    /// A file could not be read.
    #[error(
        "cannot read '{path}': {source}; check the path (for --queries give the directory `flowcert queries --out` wrote)"
    )]
    Unreadable {
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A query set, answers or baseline file has the wrong content.
    #[error("'{path}': {message}")]
    Malformed {
        /// The path.
        path: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A file beyond its size limit, endless or unreadable.
    #[error(transparent)]
    Limit(#[from] crate::limits::LimitError),
    /// Writing an output failed.
    #[error(transparent)]
    Output(#[from] crate::io::OutputError),
    /// The mixture of the manifest is invalid.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// The time grid could not be built.
    #[error(transparent)]
    Grid(#[from] crate::grids::GridError),
    /// The exact flow failed.
    #[error(transparent)]
    Flow(#[from] crate::dynamics::FlowError),
}
