//! Time grids `t_min = t_0 < t_1 < ... < t_N = t_max` for trajectory distillation with N
//! segments (theory/04-composition-and-grids.md).
//!
//! | kind                 | rule                                                            |
//! |----------------------|-----------------------------------------------------------------|
//! | `uniform`            | equal steps in `t`                                              |
//! | `balanced`           | `t_i = Lambda^{-1}(i Lambda(T) / N)`, two-sided `L`             |
//! | `balanced-paper`     | the same with the paper-style `L`                               |
//! | `balanced-one-sided` | the same with `max(mu, ONE_SIDED_FLOOR)`                        |
//! | `logsnr`             | equal steps in `lambda(t) = -ln(expm1(2t))` (DPM-Solver)        |
//! | `edm`                | Karras `rho` steps in `sigma(t) = sqrt(expm1(2t))`               |
//!
//! Every kind implements [`TimeGrid`]; so can user grids. [`TimeGrid::times`] validates the
//! request ([`Span`]), then pins both end points exactly and checks strict increase.

pub mod balanced;
pub mod fitted;
pub mod oracle;
pub mod peer;

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::bounds::{Bound, BoundsError, LambdaTable, Lipschitz};
use crate::model::Mixture;

/// Most segments a grid may have.
pub const MAX_SEGMENTS: usize = 1_000_000;
/// Largest admissible `t_max`: beyond it `e^{-2t} < 1e-86`, so `p_t` is `N(0, I)` to double
/// precision, and the log-SNR and EDM coordinates stay finite.
pub const MAX_TIME: f64 = 100.0;
/// The EDM/Karras default `rho`.
pub const DEFAULT_RHO: f64 = 7.0;

/// What is wrong with a grid request.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum GridError {
    /// Unknown `--kind`.
    #[error(
        "unknown grid kind '{given}': valid kinds are uniform, balanced, balanced-paper, balanced-one-sided, logsnr, edm"
    )]
    UnknownKind {
        /// The name given.
        given: String,
    },
    /// `t_min` not finite or not positive.
    #[error(
        "--t-min {value} must be finite and > 0 (t = 0 is the data law, where L(t) may be infinite): e.g. --t-min 1e-3"
    )]
    BadTMin {
        /// The value given.
        value: f64,
    },
    /// `t_max` not finite or above [`MAX_TIME`].
    #[error(
        "--t-max {value} must be finite and at most {MAX_TIME} (beyond it p_t is N(0, I) to double precision): e.g. --t-max 3"
    )]
    BadTMax {
        /// The value given.
        value: f64,
    },
    /// `t_min >= t_max`.
    #[error("--t-min {t_min} must be smaller than --t-max {t_max}: swap them")]
    Reversed {
        /// The lower end given.
        t_min: f64,
        /// The upper end given.
        t_max: f64,
    },
    /// Zero or too many segments.
    #[error("--segments {value} must be between 1 and {MAX_SEGMENTS}")]
    BadSegments {
        /// The value given.
        value: usize,
    },
    /// A bad EDM `rho`.
    #[error("--rho {value} must be finite and > 0: the EDM default is 7")]
    BadRho {
        /// The value given.
        value: f64,
    },
    /// A grid with the wrong number of points.
    #[error(
        "grid '{grid}' returned {got} times for {segments} segments: it must return segments + 1"
    )]
    WrongLength {
        /// The grid's name.
        grid: String,
        /// Times returned.
        got: usize,
        /// Segments asked for.
        segments: usize,
    },
    /// Times that do not strictly increase (e.g. more segments than the interval resolves).
    #[error(
        "grid '{grid}' is not strictly increasing at index {index} ({prev} then {next}): use fewer --segments or a wider [--t-min, --t-max]"
    )]
    NotIncreasing {
        /// The grid's name.
        grid: String,
        /// Index of the offending time.
        index: usize,
        /// `t_{index - 1}`.
        prev: f64,
        /// `t_index`.
        next: f64,
    },
    /// The stability coordinate could not be built.
    #[error(transparent)]
    Bounds(#[from] BoundsError),
    /// No path of the requested length through the candidate segments (oracle, fitted).
    #[error(
        "no grid with {segments} segments through {candidates} candidate times: use fewer --segments, more candidates or a longer segment span"
    )]
    NoCandidatePath {
        /// Segments asked for.
        segments: usize,
        /// Candidate times.
        candidates: usize,
    },
    /// Too few or degenerate pilot segments to fit the local-error law.
    #[error(
        "cannot fit the local-error law: {problem} (the pilot needs at least 4 segments with positive, finite local errors and increments)"
    )]
    BadFit {
        /// What is wrong.
        problem: String,
    },
}

/// A validated grid request: `0 < t_min < t_max <= MAX_TIME`, `1 <= segments <= MAX_SEGMENTS`.
///
/// ```
/// use flowcert::grids::Span;
/// let e = Span::new(0.5, 0.1, 8).unwrap_err();
/// assert_eq!(e.to_string(), "--t-min 0.5 must be smaller than --t-max 0.1: swap them");
/// assert_eq!(Span::new(0.01, 3.0, 8).unwrap().segments(), 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    t_min: f64,
    t_max: f64,
    segments: usize,
}

impl Span {
    /// Validate a request.
    ///
    /// ```
    /// use flowcert::grids::Span;
    /// assert!(Span::new(0.0, 1.0, 4).unwrap_err().to_string().contains("--t-min 0 must be"));
    /// assert!(Span::new(0.1, 1.0, 0).unwrap_err().to_string().contains("--segments 0"));
    /// ```
    pub fn new(t_min: f64, t_max: f64, segments: usize) -> Result<Span, GridError> {
        if !(t_min.is_finite() && t_min > 0.0) {
            return Err(GridError::BadTMin { value: t_min });
        }
        if !(t_max.is_finite() && t_max <= MAX_TIME) {
            return Err(GridError::BadTMax { value: t_max });
        }
        if t_min >= t_max {
            return Err(GridError::Reversed { t_min, t_max });
        }
        if segments == 0 || segments > MAX_SEGMENTS {
            return Err(GridError::BadSegments { value: segments });
        }
        Ok(Span {
            t_min,
            t_max,
            segments,
        })
    }

    /// `t_min`.
    ///
    /// ```
    /// assert_eq!(flowcert::grids::Span::new(0.01, 3.0, 8).unwrap().t_min(), 0.01);
    /// ```
    pub fn t_min(&self) -> f64 {
        self.t_min
    }

    /// `t_max`.
    ///
    /// ```
    /// assert_eq!(flowcert::grids::Span::new(0.01, 3.0, 8).unwrap().t_max(), 3.0);
    /// ```
    pub fn t_max(&self) -> f64 {
        self.t_max
    }

    /// N.
    ///
    /// ```
    /// assert_eq!(flowcert::grids::Span::new(0.01, 3.0, 2).unwrap().segments(), 2);
    /// ```
    pub fn segments(&self) -> usize {
        self.segments
    }

    /// `i / N` for `i = 0..=N`.
    fn fractions(&self) -> impl Iterator<Item = f64> + '_ {
        (0..=self.segments).map(|i| i as f64 / self.segments as f64)
    }

    /// Pin `t_0 = t_min`, `t_N = t_max` and check length and strict increase.
    ///
    /// ```
    /// use flowcert::grids::Span;
    /// let s = Span::new(0.1, 1.0, 2).unwrap();
    /// assert_eq!(s.finish("mine", vec![0.1000001, 0.5, 0.9999]).unwrap(), vec![0.1, 0.5, 1.0]);
    /// assert!(s.finish("mine", vec![0.1, 0.1, 1.0]).is_err());
    /// ```
    pub fn finish(&self, grid: &str, mut ts: Vec<f64>) -> Result<Vec<f64>, GridError> {
        if ts.len() != self.segments + 1 {
            return Err(GridError::WrongLength {
                grid: grid.to_string(),
                got: ts.len(),
                segments: self.segments,
            });
        }
        ts[0] = self.t_min;
        ts[self.segments] = self.t_max;
        for i in 1..ts.len() {
            // NaN is not Greater either.
            if ts[i].partial_cmp(&ts[i - 1]) != Some(std::cmp::Ordering::Greater) {
                return Err(GridError::NotIncreasing {
                    grid: grid.to_string(),
                    index: i,
                    prev: ts[i - 1],
                    next: ts[i],
                });
            }
        }
        Ok(ts)
    }
}

/// A rule that places N segments on `[t_min, t_max]` for a mixture. Implement
/// [`TimeGrid::grid`]; callers use [`TimeGrid::times`], which validates and pins the ends.
///
/// ```
/// use flowcert::grids::{GridError, Span, TimeGrid};
/// use flowcert::model::Mixture;
/// /// Geometric steps: equal ratios t_{i+1} / t_i.
/// struct Geometric;
/// impl TimeGrid for Geometric {
///     fn name(&self) -> String { "geometric".into() }
///     fn grid(&self, _: &Mixture, s: &Span) -> Result<Vec<f64>, GridError> {
///         let r = (s.t_max() / s.t_min()).ln() / s.segments() as f64;
///         Ok((0..=s.segments()).map(|i| s.t_min() * (r * i as f64).exp()).collect())
///     }
/// }
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let ts = Geometric.times(&mix, 0.01, 1.0, 2).unwrap();
/// assert_eq!(ts[0], 0.01);
/// assert!((ts[1] - 0.1).abs() < 1e-15 && ts[2] == 1.0);
/// ```
pub trait TimeGrid {
    /// A name for messages and reports.
    fn name(&self) -> String;

    /// The N + 1 times for a validated span (ends may be off by rounding; they are pinned).
    fn grid(&self, mix: &Mixture, span: &Span) -> Result<Vec<f64>, GridError>;

    /// Validate, build, pin the ends exactly and check strict increase.
    fn times(
        &self,
        mix: &Mixture,
        t_min: f64,
        t_max: f64,
        segments: usize,
    ) -> Result<Vec<f64>, GridError> {
        let span = Span::new(t_min, t_max, segments)?;
        if !mix.process().is_ou() {
            // The path's own range (theory/07-gaussian-paths.md): e.g. rectified t < 1.
            mix.check_path_time("--t-min", t_min)
                .and_then(|_| mix.check_path_time("--t-max", t_max))
                .map_err(BoundsError::from)?;
        }
        span.finish(&self.name(), self.grid(mix, &span)?)
    }
}

/// The built-in grid kinds (see the module table).
///
/// ```
/// use flowcert::grids::GridKind;
/// let k: GridKind = "edm".parse().unwrap();
/// assert_eq!(k, GridKind::Edm { rho: 7.0 });
/// assert_eq!(k.with_rho(5.0).to_string(), "edm");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GridKind {
    /// Equal steps in `t`.
    Uniform,
    /// Equal increments of the two-sided `Lambda`.
    Balanced,
    /// Equal increments of the paper-style `Lambda`.
    BalancedPaper,
    /// Equal increments of the floored one-sided coordinate.
    BalancedOneSided,
    /// Equal steps in log-SNR.
    #[serde(rename = "logsnr")]
    LogSnr,
    /// Karras steps in the VE noise level with exponent `rho`.
    Edm {
        /// The exponent (default 7).
        rho: f64,
    },
}

impl GridKind {
    /// The command-line names, in the contract's order.
    pub const NAMES: [&'static str; 6] = [
        "uniform",
        "balanced",
        "balanced-paper",
        "balanced-one-sided",
        "logsnr",
        "edm",
    ];

    /// Every kind (EDM with the default `rho`), in the order of [`Self::NAMES`].
    ///
    /// ```
    /// use flowcert::grids::GridKind;
    /// let names: Vec<_> = GridKind::all().iter().map(|k| k.name()).collect();
    /// assert_eq!(names, GridKind::NAMES);
    /// ```
    pub fn all() -> [GridKind; 6] {
        [
            GridKind::Uniform,
            GridKind::Balanced,
            GridKind::BalancedPaper,
            GridKind::BalancedOneSided,
            GridKind::LogSnr,
            GridKind::Edm { rho: DEFAULT_RHO },
        ]
    }

    /// The command-line name.
    ///
    /// ```
    /// assert_eq!(flowcert::grids::GridKind::BalancedOneSided.name(), "balanced-one-sided");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            GridKind::Uniform => "uniform",
            GridKind::Balanced => "balanced",
            GridKind::BalancedPaper => "balanced-paper",
            GridKind::BalancedOneSided => "balanced-one-sided",
            GridKind::LogSnr => "logsnr",
            GridKind::Edm { .. } => "edm",
        }
    }

    /// Set `rho` of an EDM grid (other kinds are returned unchanged).
    ///
    /// ```
    /// use flowcert::grids::GridKind;
    /// assert_eq!(GridKind::Edm { rho: 7.0 }.with_rho(3.0), GridKind::Edm { rho: 3.0 });
    /// assert_eq!(GridKind::Uniform.with_rho(3.0), GridKind::Uniform);
    /// ```
    pub fn with_rho(self, rho: f64) -> Self {
        match self {
            GridKind::Edm { .. } => GridKind::Edm { rho },
            other => other,
        }
    }

    /// The bound whose coordinate a balanced kind equalises.
    ///
    /// ```
    /// use flowcert::{bounds::Bound, grids::GridKind};
    /// assert_eq!(GridKind::BalancedPaper.bound(), Some(Bound::Paper));
    /// assert_eq!(GridKind::LogSnr.bound(), None);
    /// ```
    pub fn bound(&self) -> Option<Bound> {
        match self {
            GridKind::Balanced => Some(Bound::TwoSided),
            GridKind::BalancedPaper => Some(Bound::Paper),
            GridKind::BalancedOneSided => Some(Bound::OneSided),
            _ => None,
        }
    }

    /// [`TimeGrid::times`] without importing the trait.
    ///
    /// ```
    /// use flowcert::grids::GridKind;
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let ts = GridKind::Balanced.times(&mix, 0.01, 3.0, 8).unwrap();
    /// assert_eq!((ts.len(), ts[0], ts[8]), (9, 0.01, 3.0));
    /// ```
    pub fn times(
        &self,
        mix: &Mixture,
        t_min: f64,
        t_max: f64,
        segments: usize,
    ) -> Result<Vec<f64>, GridError> {
        TimeGrid::times(self, mix, t_min, t_max, segments)
    }
}

impl fmt::Display for GridKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for GridKind {
    type Err = GridError;

    /// Parse a command-line name (`edm` gets [`DEFAULT_RHO`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GridKind::all()
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| GridError::UnknownKind {
                given: s.to_string(),
            })
    }
}

impl TimeGrid for GridKind {
    fn name(&self) -> String {
        GridKind::name(self).to_string()
    }

    fn grid(&self, mix: &Mixture, span: &Span) -> Result<Vec<f64>, GridError> {
        match self {
            GridKind::Uniform => Ok(peer::uniform(span)),
            GridKind::LogSnr => Ok(peer::log_snr_on(mix.process(), span)),
            GridKind::Edm { rho } => peer::edm_on(mix.process(), span, *rho),
            GridKind::Balanced | GridKind::BalancedPaper | GridKind::BalancedOneSided => {
                let kind = self.bound().unwrap_or(Bound::TwoSided);
                balanced::balanced(Lipschitz::auto(mix), kind, span)
            }
        }
    }
}

/// The contract's `lambda` field: the two-sided `Lambda(t_i) = int_{t_0}^{t_i} L` at every
/// time of an increasing grid (on [`crate::bounds::Domain::auto`]). A mixture with
/// `L = 0` identically gets zeros.
///
/// ```
/// use flowcert::grids::{GridKind, lambda_at};
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let ts = GridKind::Balanced.times(&mix, 0.01, 3.0, 4).unwrap();
/// let lam = lambda_at(&mix, &ts).unwrap();
/// assert_eq!(lam[0], 0.0);
/// assert!((lam[2] / lam[4] - 0.5).abs() < 1e-10);
/// ```
pub fn lambda_at(mix: &Mixture, times: &[f64]) -> Result<Vec<f64>, GridError> {
    let (Some(&first), Some(&last)) = (times.first(), times.last()) else {
        return Ok(Vec::new());
    };
    if times.len() == 1 {
        return Ok(vec![0.0]);
    }
    match LambdaTable::new(Lipschitz::auto(mix), Bound::TwoSided, first, last) {
        Ok(tab) => Ok(times.iter().map(|&t| tab.value(t)).collect()),
        Err(BoundsError::FlatCoordinate { .. }) => Ok(vec![0.0; times.len()]),
        Err(e) => Err(e.into()),
    }
}

/// `Lambda(T) = int_{t_min}^{T} L` of the two-sided bound: [`lambda_at`] at the two ends.
///
/// ```
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let total = flowcert::grids::lambda_total(&mix, 0.01, 3.0).unwrap();
/// let ends = flowcert::grids::lambda_at(&mix, &[0.01, 1.0, 3.0]).unwrap();
/// assert_eq!(total, ends[2]);
/// ```
pub fn lambda_total(mix: &Mixture, t_min: f64, t_max: f64) -> Result<f64, GridError> {
    Ok(lambda_at(mix, &[t_min, t_max])?[1])
}
