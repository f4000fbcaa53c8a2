//! Named limits on every size-like input, and estimates of the memory and work a request
//! needs, checked before anything is allocated (README.md, "Limits and exit status").
//!
//! Three kinds of limit live here:
//!
//! - **sizes**: counts read from the command line or a file (points, samples, widths,
//!   segments, seeds, times, the dimension `d` and the number of components `K`, file
//!   sizes, `.npy` shapes). Each has a constant below and is checked with
//!   [`check_count`]; every size computed from inputs uses checked arithmetic
//!   ([`product`]).
//! - **magnitudes**: the model squares distances (`|x - alpha_t mu_k|^2 / s`), so
//!   coordinates and variances beyond [`MAX_ABS_COORDINATE`] and [`MAX_VARIANCE`] lose
//!   every significant digit of the quantities asked for (at `|x| = 1e16` a unit distance
//!   is below the rounding of `x`), long before they overflow.
//! - **work**: an [`Estimate`] of floating-point operations and bytes for a whole request,
//!   from the sizes above and the cost of one model evaluation ([`jacobian_flops`],
//!   [`flow_flops`], [`mlp_step_flops`]); refused beyond [`MAX_WORK_FLOPS`] or
//!   [`MAX_MEMORY_BYTES`], with what to do instead (`--shard` for a big sweep, fewer
//!   samples, a smaller mixture).
//!
//! The limits are generous: the built-in suite, every documented workflow and the full
//! `reproduce` run stay far below them (the full run is about `3e13` flop-equivalents, the limit [`MAX_WORK_FLOPS`] `1e14`).

use thiserror::Error;

pub mod estimate;
pub mod read;

pub use estimate::{Estimate, flow_flops, jacobian_flops, mlp_params, mlp_step_flops};
pub use read::{json_error, read_limited, read_text};

/// Largest dimension `d` of a mixture.
pub const MAX_DIM: usize = 1024;
/// Largest number of components `K` of a mixture.
pub const MAX_COMPONENTS: usize = 10_000;
/// Largest number of covariance entries `K d^2` of a mixture (8 MB of f64 per million).
pub const MAX_MIXTURE_ENTRIES: usize = 1_000_000;
/// Largest absolute value of a mean or point coordinate: beyond it, rounding of the
/// coordinate (`|x| * 2.2e-16`) reaches the noise scale `sigma_t >= 1e-5` of the smallest
/// admissible times, and scores and flows lose their significant digits.
pub const MAX_ABS_COORDINATE: f64 = 1e8;
/// Largest absolute value in a model's answers (`assess`): a score can be far larger
/// than a coordinate at small times, but beyond this the squared errors summed over the
/// queries leave f64.
pub const MAX_ABS_ANSWER: f64 = 1e100;
/// Largest covariance eigenvalue (variance `(1e8)^2`, the same scale as
/// [`MAX_ABS_COORDINATE`]).
pub const MAX_VARIANCE: f64 = 1e16;
/// Smallest OU time accepted anywhere (`sigma_t^2 = 2e-10`): below it `p_t` is the data
/// law to double precision and `1 / sigma_t^2` dominates every rounding error.
pub const MIN_TIME: f64 = 1e-10;

/// Largest mixture file (bytes).
pub const MAX_MIXTURE_FILE_BYTES: u64 = 32 << 20;
/// Largest points or answers file (bytes).
pub const MAX_POINTS_FILE_BYTES: u64 = 512 << 20;
/// Largest JSON document read besides mixtures and points (query manifests, baselines,
/// cell files).
pub const MAX_JSON_FILE_BYTES: u64 = 64 << 20;
/// Largest `.npy` header (NumPy itself writes at most a few hundred bytes).
pub const MAX_NPY_HEADER_BYTES: usize = 1 << 16;

/// Most points in a points or answers file, samples of `flowcert sample`, and query rows.
pub const MAX_POINTS: usize = 10_000_000;
/// Most numbers (`points x d`) held at once from one file or one sample.
pub const MAX_VALUES: usize = 100_000_000;
/// Most Monte Carlo samples per time, per segment or per cell of any checker.
pub const MAX_SAMPLES: usize = 10_000_000;
/// Most segments of a grid or a multi-step student.
pub const MAX_SEGMENTS: usize = 100_000;
/// Most entries of a comma-separated list (`--times`, `--segments`, `--seeds`, ...).
pub const MAX_LIST: usize = 10_000;
/// Widest student layer.
pub const MAX_WIDTH: usize = 16_384;
/// Deepest student (hidden layers).
pub const MAX_DEPTH: usize = 256;
/// Most Adam steps per student.
pub const MAX_STEPS: usize = 100_000_000;
/// Most pieces of the stability check's variational equation over one segment (pieces of
/// two-sided `int L <= 2`: `int L` up to 2e4, where `exp(int L)` has long left f64).
pub const MAX_STABILITY_PIECES: usize = 10_000;
/// Most bisection steps of a search.
pub const MAX_SEARCH_STEPS: usize = 10_000;

/// Largest estimated work of one request, in flop-equivalents: about three hours on one
/// core at the 1e10 flop/s measured for the students' training (README.md,
/// "Performance"); the full `reproduce` run is about 3e13. A bigger distillation sweep
/// runs in slices (`--shard i/n`, then `flowcert merge`).
pub const MAX_WORK_FLOPS: f64 = 1e14;
/// Largest estimated memory of one request, in bytes.
pub const MAX_MEMORY_BYTES: f64 = 8.0 * (1u64 << 30) as f64;
/// Throughput used to turn flops into the time shown in messages (flop/s on one core).
pub const FLOPS_PER_SECOND: f64 = 1e10;

/// A request beyond a limit; every message names the flag or file, the limit and what to
/// do instead.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum LimitError {
    /// A count outside its range.
    #[error("{flag} {value} is not between {min} and {max}: {fix}")]
    Count {
        /// The flag or field.
        flag: String,
        /// The value given.
        value: String,
        /// Smallest allowed.
        min: usize,
        /// Largest allowed.
        max: usize,
        /// What to do instead.
        fix: String,
    },
    /// A size computed from inputs overflows.
    #[error("{what} overflows ({factors}): {fix}")]
    Overflow {
        /// What was computed.
        what: String,
        /// The factors, formatted.
        factors: String,
        /// What to do instead.
        fix: String,
    },
    /// The estimated work or memory is beyond the limit.
    #[error("{what} needs an estimated {amount}, above the limit of {limit} per run: {fix}")]
    Estimate {
        /// What was estimated.
        what: String,
        /// The estimate, formatted with its unit.
        amount: String,
        /// The limit, formatted with its unit.
        limit: String,
        /// What to do instead.
        fix: String,
    },
    /// An input file is larger than its limit.
    #[error(
        "{what} file '{path}' is larger than {limit} bytes (the limit for {what} files): give a smaller file, or check that the path names the file you meant"
    )]
    FileSize {
        /// `mixture`, `points`, ...
        what: &'static str,
        /// The path given.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// An input file could not be read.
    #[error("cannot read {what} file '{path}': {reason}; check the path and its permissions")]
    Unreadable {
        /// `mixture`, `points`, ...
        what: &'static str,
        /// The path given.
        path: String,
        /// The OS error, as text.
        reason: String,
    },
}

/// Check that `value` lies in `[min, max]`; `flag` names it and `fix` says what to do.
///
/// ```
/// use flowcert::limits::check_count;
/// assert_eq!(check_count("--n", 10, 1, 100, "give fewer").unwrap(), 10);
/// let e = check_count("--n", 1000, 1, 100, "give fewer").unwrap_err().to_string();
/// assert!(e.contains("--n 1000") && e.contains("100") && e.contains("give fewer"), "{e}");
/// ```
pub fn check_count(
    flag: &str,
    value: usize,
    min: usize,
    max: usize,
    fix: &str,
) -> Result<usize, LimitError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(LimitError::Count {
            flag: flag.to_string(),
            value: value.to_string(),
            min,
            max,
            // The advice is about the side that was crossed.
            fix: if value < min {
                format!("give at least {min}")
            } else {
                fix.to_string()
            },
        })
    }
}

/// The product of `factors` with checked arithmetic; `what` and `fix` word the error.
///
/// ```
/// use flowcert::limits::product;
/// assert_eq!(product("rows", &[3, 4], "fewer").unwrap(), 12);
/// assert!(product("rows", &[1 << 62, 8], "fewer").is_err());
/// ```
pub fn product(what: &str, factors: &[usize], fix: &str) -> Result<usize, LimitError> {
    factors
        .iter()
        .try_fold(1usize, |a, &b| a.checked_mul(b))
        .ok_or_else(|| LimitError::Overflow {
            what: what.to_string(),
            factors: factors
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(" x "),
            fix: fix.to_string(),
        })
}
