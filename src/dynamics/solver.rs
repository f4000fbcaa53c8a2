//! The teacher ODE solver: adaptive explicit Runge-Kutta pairs with step-size control.
//!
//! Every flow map of the harness (the probability-flow ODE of the Gaussian-mixture OU
//! model, its variational equation) is a first-order system `y' = f(t, y)` integrated
//! here, to a tolerance far below the errors the theorems are about.
//!
//! # Methods
//!
//! * [`Method::Dopri5`]: Dormand & Prince 5(4), 7 stages, first same as last (FSAL).
//!   Tableau: Hairer, Norsett & Wanner, *Solving ODEs I*, Table II.5.2.
//! * [`Method::Dop853`]: Dormand & Prince 8(5,3), 12 stages plus one evaluation at the
//!   new point, reused as the first stage of the next step. Tableau: `dop853.f`
//!   (same book, Sec. II.10), in `dop853.rs`.
//!
//! # Error norm
//!
//! With `sk_i = atol + rtol * max(|y_i|, |y_new_i|)` and `n` the dimension,
//!
//! ```text
//! Dopri5:  err = sqrt( (1/n) sum_i (e_i / sk_i)^2 ),   e = h sum_j (b_j - bhat_j) k_j
//! Dop853:  err = |h| S5 / sqrt(n (S5 + 0.01 S3)),      S5 = sum_i (err5_i / sk_i)^2,
//!                                                       S3 = sum_i (err3_i / sk_i)^2
//! ```
//!
//! where `err5`, `err3` are the differences with the embedded 5th- and 3rd-order
//! solutions (divided by `h`). The Dop853 estimate behaves like `O(h^8)` for small `h`
//! (Hairer's "stretched" 5th-order estimate) and stays reliable for large `h`.
//!
//! # Step-size control
//!
//! A step is accepted iff `err <= 1`. After an accepted step `n` (size `h_n`, estimate
//! `err_n`), the next step is the smaller of the proposals of the PI controller of
//! Hairer & Wanner's codes and of Gustafsson's predictive controller (as in `radau5.f`;
//! *Solving ODEs II*, eq. IV.8.21):
//!
//! ```text
//! h_{n+1} = h_n clamp( min(PI, PRED), f_min, f_max )
//! PI   = safe err_n^(-alpha) max(err_{n-1}, 1e-4)^beta
//! PRED = safe (h_n / h_{n-1}) (max(err_{n-1}, 1e-2) / err_n^2)^(1/k)
//! ```
//!
//! where `n - 1` is the previous *accepted* step (PRED is skipped on the first one),
//! `safe = 0.9`, and
//!
//! | method | k (err = O(h^k)) | alpha           | beta | [f_min, f_max] |
//! |--------|------------------|-----------------|------|----------------|
//! | Dopri5 | 5                | 0.2 - 0.75 beta | 0.04 | [0.2, 10]      |
//! | Dop853 | 8                | 1/8             | 0    | [1/3, 6]       |
//!
//! (`alpha`, `beta` and the bounds are the defaults of `dopri5.f` and `dop853.f`.) PRED
//! follows trends of the error constant, e.g. the geometric approach of a flow to a
//! near-singular time, where the PI rule alone rejects every other step.
//! After a rejection the step shrinks by `max(f_min, safe err^(-alpha))`, and the next
//! accepted step may not grow. Steps never exceed `|t1 - t0|`; a step that
//! would end within 1% of `t1` (or beyond it) is clipped so that the last step lands on
//! `t1` exactly. The initial step, unless given, follows Hairer's `hinit` (Sec. II.4):
//! `h0 = 0.01 ||y0|| / ||f0||`, one explicit Euler step to estimate `||y''||`, then
//! `h = min(100 h0, (0.01 / max(||y''||, ||f0||))^(1/p), |t1 - t0|)` with `p = 5` or `8`,
//! all norms being the RMS norm weighted by `atol + rtol |y0_i|`.
//!
//! # Failures
//!
//! A step whose error estimate or new state is not finite is rejected and retried with
//! `h * f_min`; if `h` then underflows (`0.1 |h| <= eps |t|`, or `|h|` below the smallest
//! normal `f64`) the solver reports [`SolverError::NonFinite`], otherwise
//! [`SolverError::StepSizeUnderflow`]. A non-finite derivative at an accepted point is
//! reported at once. On any error `y` holds the last accepted state, at the time named
//! in the error.

use serde::{Deserialize, Serialize};

use super::dop853;
use crate::tolerance::{ODE_ATOL, ODE_RTOL};

/// Smallest relative tolerance accepted by [`SolverOptions::check`]: below it the local
/// error target drowns in rounding (`f64::EPSILON` is 2.2e-16).
pub const MIN_RTOL: f64 = 1e-14;

/// Safety factor of the step-size controller.
const SAFETY: f64 = 0.9;

/// A first-order system `y' = f(t, y)` of fixed dimension.
///
/// `rhs` takes `&mut self` so that an implementation may keep scratch buffers (or count
/// its evaluations) without interior mutability.
///
/// ```
/// use flowcert::dynamics::solver::OdeSystem;
///
/// /// Harmonic oscillator y0' = y1, y1' = -y0.
/// struct Oscillator;
/// impl OdeSystem for Oscillator {
///     fn dim(&self) -> usize { 2 }
///     fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) {
///         dy[0] = y[1];
///         dy[1] = -y[0];
///     }
/// }
/// let mut dy = [0.0; 2];
/// Oscillator.rhs(0.0, &[1.0, 0.0], &mut dy);
/// assert_eq!(dy, [0.0, -1.0]);
/// ```
pub trait OdeSystem {
    /// Dimension `n` of the state.
    fn dim(&self) -> usize;
    /// Writes `f(t, y)` into `dy`; both slices have length [`OdeSystem::dim`].
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]);
}

/// Which embedded Runge-Kutta pair [`integrate`] uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// Dormand-Prince 5(4) with FSAL (Hairer's `dopri5`): cheap per step, good down to
    /// tolerances around 1e-10.
    #[default]
    Dopri5,
    /// Dormand-Prince 8(5,3) (Hairer's `dop853`): fewer, costlier steps; the better choice
    /// at tight tolerances.
    Dop853,
}

impl Method {
    /// The command-line name: `dopri5` or `dop853`.
    ///
    /// ```
    /// use flowcert::dynamics::Method;
    /// assert_eq!(Method::Dop853.name(), "dop853");
    /// assert_eq!("dopri5".parse::<Method>().unwrap(), Method::Dopri5);
    /// assert!("rk4".parse::<Method>().unwrap_err().to_string().contains("dopri5, dop853"));
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Method::Dopri5 => "dopri5",
            Method::Dop853 => "dop853",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = SolverError;
    fn from_str(s: &str) -> Result<Self, SolverError> {
        [Method::Dopri5, Method::Dop853]
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| SolverError::InvalidOption {
                option: "method",
                value: s.to_owned(),
                requirement: "one of dopri5, dop853",
                fix: "pass --method dopri5 or --method dop853",
            })
    }
}

/// Largest number of attempted steps per solve by default.
pub const DEFAULT_MAX_STEPS: usize = 1_000_000;

/// Raw solver settings, as read from a config or the command line. Validate with
/// [`SolverOptions::check`] before use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SolverOptions {
    /// Relative tolerance of the local error test.
    pub rtol: f64,
    /// Absolute tolerance of the local error test.
    pub atol: f64,
    /// Runge-Kutta pair.
    pub method: Method,
    /// Largest number of attempted (accepted + rejected) steps per [`integrate`] call.
    pub max_steps: usize,
    /// Size of the first step attempted (always positive; its sign follows `t1 - t0`);
    /// `None` selects it automatically (Hairer's `hinit`).
    pub initial_step: Option<f64>,
}

impl Default for SolverOptions {
    /// `rtol = ODE_RTOL`, `atol = ODE_ATOL` (both 1e-10), Dopri5, a million steps,
    /// automatic initial step.
    fn default() -> Self {
        Self {
            rtol: ODE_RTOL,
            atol: ODE_ATOL,
            method: Method::Dopri5,
            max_steps: DEFAULT_MAX_STEPS,
            initial_step: None,
        }
    }
}

impl SolverOptions {
    /// Validates the options: `rtol` finite and in `[MIN_RTOL, inf)`, `atol` finite and
    /// `> 0`, `max_steps > 0`, and `initial_step`, if given, finite and `> 0`.
    ///
    /// ```
    /// use flowcert::dynamics::solver::{Method, SolverOptions};
    ///
    /// let opts = SolverOptions { rtol: 1e-8, method: Method::Dop853, ..Default::default() };
    /// let valid = opts.check().unwrap();
    /// assert_eq!(valid.rtol(), 1e-8);
    ///
    /// let bad = SolverOptions { rtol: f64::NAN, ..Default::default() };
    /// let msg = bad.check().unwrap_err().to_string();
    /// assert!(msg.contains("rtol") && msg.contains("NaN"));
    /// ```
    ///
    /// # Errors
    ///
    /// [`SolverError::InvalidOption`] naming the first offending field and a fix.
    pub fn check(&self) -> Result<ValidSolverOptions, SolverError> {
        if !(self.rtol.is_finite() && self.rtol >= MIN_RTOL) {
            return Err(SolverError::InvalidOption {
                option: "rtol",
                value: format!("{}", self.rtol),
                requirement: "a finite number > 0 and >= 1e-14",
                fix: "pass --rtol 1e-10",
            });
        }
        if !(self.atol.is_finite() && self.atol > 0.0) {
            return Err(SolverError::InvalidOption {
                option: "atol",
                value: format!("{}", self.atol),
                requirement: "a finite number > 0",
                fix: "pass --atol 1e-10",
            });
        }
        if self.max_steps == 0 {
            return Err(SolverError::InvalidOption {
                option: "max_steps",
                value: "0".to_owned(),
                requirement: "at least 1",
                fix: "pass --max-steps 1000000",
            });
        }
        if let Some(h) = self.initial_step
            && !(h.is_finite() && h > 0.0)
        {
            return Err(SolverError::InvalidOption {
                option: "initial_step",
                value: format!("{h}"),
                requirement: "a finite number > 0",
                fix: "omit it (automatic selection) or pass a step such as 1e-3",
            });
        }
        Ok(ValidSolverOptions(*self))
    }
}

/// Solver settings that passed [`SolverOptions::check`]; the only way to call
/// [`integrate`]. Read-only: the accessors return the validated fields.
///
/// ```
/// use flowcert::dynamics::solver::{Method, SolverOptions, ValidSolverOptions};
/// use flowcert::tolerance::{ODE_ATOL, ODE_RTOL};
///
/// let opts = ValidSolverOptions::default();
/// assert_eq!((opts.rtol(), opts.atol()), (ODE_RTOL, ODE_ATOL));
/// assert_eq!((opts.method(), opts.max_steps()), (Method::Dopri5, 1_000_000));
/// assert_eq!(opts.initial_step(), None);
/// assert_eq!(opts.raw(), &SolverOptions::default());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ValidSolverOptions(SolverOptions);

impl Default for ValidSolverOptions {
    /// The validated [`SolverOptions::default`].
    fn default() -> Self {
        Self(SolverOptions::default())
    }
}

impl ValidSolverOptions {
    /// Options fixed in the source (the [`super::Teacher`] presets): automatic first step,
    /// [`DEFAULT_MAX_STEPS`]. Not validated: a unit test checks every preset passes
    /// [`SolverOptions::check`].
    pub(crate) const fn preset(method: Method, rtol: f64, atol: f64) -> Self {
        Self(SolverOptions {
            rtol,
            atol,
            method,
            max_steps: DEFAULT_MAX_STEPS,
            initial_step: None,
        })
    }

    /// Relative tolerance.
    #[must_use]
    pub fn rtol(&self) -> f64 {
        self.0.rtol
    }
    /// Absolute tolerance.
    #[must_use]
    pub fn atol(&self) -> f64 {
        self.0.atol
    }
    /// Runge-Kutta pair.
    #[must_use]
    pub fn method(&self) -> Method {
        self.0.method
    }
    /// Largest number of attempted steps.
    #[must_use]
    pub fn max_steps(&self) -> usize {
        self.0.max_steps
    }
    /// First step size, or `None` for automatic selection.
    #[must_use]
    pub fn initial_step(&self) -> Option<f64> {
        self.0.initial_step
    }
    /// The raw options these were validated from.
    #[must_use]
    pub fn raw(&self) -> &SolverOptions {
        &self.0
    }
}

/// Work done by one solve.
///
/// For [`integrate`] with `t0 != t1` the counts satisfy exactly
///
/// ```text
/// Dopri5: rhs_evals = 1 + auto + 6 steps + 6 rejected
/// Dop853: rhs_evals = 1 + auto + 12 steps + 11 rejected
/// ```
///
/// where `auto` is 1 if the initial step was selected automatically and 0 otherwise
/// (the leading 1 is `f(t0, y0)`). On an error, the step that failed is counted among
/// the rejected ones unless it failed on the derivative at its accepted end point. For
/// `t0 == t1`, or a system of dimension 0, nothing is evaluated and all counts are 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SolverStats {
    /// Evaluations of [`OdeSystem::rhs`].
    pub rhs_evals: usize,
    /// Accepted steps.
    pub steps: usize,
    /// Rejected steps.
    pub rejected: usize,
}

/// Work of several solves adds up (e.g. over the points of a batch).
///
/// ```
/// use flowcert::dynamics::SolverStats;
/// let mut a = SolverStats { rhs_evals: 7, steps: 1, rejected: 0 };
/// a += SolverStats { rhs_evals: 13, steps: 2, rejected: 1 };
/// assert_eq!(a, SolverStats { rhs_evals: 20, steps: 3, rejected: 1 });
/// ```
impl std::ops::AddAssign for SolverStats {
    fn add_assign(&mut self, o: SolverStats) {
        self.rhs_evals += o.rhs_evals;
        self.steps += o.steps;
        self.rejected += o.rejected;
    }
}

/// Errors of the teacher solver.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SolverError {
    /// A field of [`SolverOptions`] is out of range.
    #[error("{option} must be {requirement}, got {value}: {fix}")]
    InvalidOption {
        /// Field name.
        option: &'static str,
        /// The offending value, formatted.
        value: String,
        /// What the field must satisfy.
        requirement: &'static str,
        /// How to fix it.
        fix: &'static str,
    },
    /// `t0` or `t1` is NaN or infinite.
    #[error("integration interval from t0 = {t0} to t1 = {t1} is not finite: pass finite times")]
    NonFiniteInterval {
        /// Start time.
        t0: f64,
        /// End time.
        t1: f64,
    },
    /// The state slice does not match the system's dimension.
    #[error("state has {got} components but the system has dimension {expected}")]
    DimensionMismatch {
        /// [`OdeSystem::dim`].
        expected: usize,
        /// Length of the state slice.
        got: usize,
    },
    /// The step size fell below the resolution of `t`.
    #[error(
        "step size underflow at t = {t:e} (|h| = {h:e}): the solution is probably singular \
         near t; check the right-hand side, or loosen rtol/atol"
    )]
    StepSizeUnderflow {
        /// Time of the last accepted state.
        t: f64,
        /// Step size at failure.
        h: f64,
    },
    /// More than `max_steps` steps were attempted.
    #[error(
        "max_steps = {max_steps} exceeded at t = {t:e} on the way to t1 = {t1:e}: loosen \
         rtol/atol or raise max_steps"
    )]
    MaxStepsExceeded {
        /// Time of the last accepted state.
        t: f64,
        /// Target time.
        t1: f64,
        /// The limit that was hit.
        max_steps: usize,
    },
    /// The state or the right-hand side became NaN or infinite.
    #[error(
        "non-finite state or derivative at t = {t:e}: the right-hand side returned NaN or \
         infinity, or the solution overflowed"
    )]
    NonFinite {
        /// Time of the last finite accepted state.
        t: f64,
    },
}

/// How a pair estimates its local error.
enum Estimator {
    /// `e = h sum_j E[j] k_j`, RMS-normed (Dopri5).
    Embedded(&'static [f64]),
    /// Hairer's combination of a 5th- and a 3rd-order estimate (Dop853).
    Stretched53 {
        e5: &'static [f64],
        e3: &'static [f64],
    },
}

/// An explicit embedded Runge-Kutta pair together with its controller constants.
struct Pair {
    /// Nodes `c_s`.
    c: &'static [f64],
    /// Row `s` holds `a_{s,0..s}`.
    a: &'static [&'static [f64]],
    /// Weights of the propagated solution.
    b: &'static [f64],
    /// If true, the last stage is evaluated at `(t + h, y_new)` (its row of `a` is `b`),
    /// so its derivative is the first stage of the next step.
    fsal: bool,
    estimator: Estimator,
    /// Order `k` of the error estimate (`err = O(h^k)`), used by the initial-step
    /// heuristic and the predictive controller.
    order: i32,
    /// Exponent `alpha` and PI weight `beta` of the controller.
    alpha: f64,
    beta: f64,
    /// Bounds on `h_new / h`.
    fac_min: f64,
    fac_max: f64,
}

impl Pair {
    fn stages(&self) -> usize {
        self.c.len()
    }
}

/// Dopri5 row sums: `c = (0, 1/5, 3/10, 4/5, 8/9, 1, 1)`.
const DOPRI5_C: [f64; 7] = [0.0, 0.2, 0.3, 0.8, 8.0 / 9.0, 1.0, 1.0];
const DOPRI5_B: [f64; 7] = [
    35.0 / 384.0,
    0.0,
    500.0 / 1113.0,
    125.0 / 192.0,
    -2187.0 / 6784.0,
    11.0 / 84.0,
    0.0,
];
const DOPRI5_A: [&[f64]; 7] = [
    &[],
    &[0.2],
    &[3.0 / 40.0, 9.0 / 40.0],
    &[44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0],
    &[
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
    ],
    &[
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
    ],
    // FSAL: the last row is b (without its zero last entry).
    &[
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];
/// `b - bhat` of Dopri5 (the embedded solution is of order 4).
const DOPRI5_E: [f64; 7] = [
    71.0 / 57600.0,
    0.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];

const DOPRI5: Pair = Pair {
    c: &DOPRI5_C,
    a: &DOPRI5_A,
    b: &DOPRI5_B,
    fsal: true,
    estimator: Estimator::Embedded(&DOPRI5_E),
    order: 5,
    alpha: 0.2 - 0.75 * 0.04,
    beta: 0.04,
    fac_min: 0.2,
    fac_max: 10.0,
};

const DOP853: Pair = Pair {
    c: &dop853::C,
    a: &dop853::A,
    b: &dop853::B,
    fsal: false,
    estimator: Estimator::Stretched53 {
        e5: &dop853::E5,
        e3: &dop853::E3,
    },
    order: 8,
    alpha: 1.0 / 8.0,
    beta: 0.0,
    fac_min: 1.0 / 3.0,
    fac_max: 6.0,
};

impl Method {
    fn pair(self) -> &'static Pair {
        match self {
            Method::Dopri5 => &DOPRI5,
            Method::Dop853 => &DOP853,
        }
    }
}

/// Integrates `y' = f(t, y)` from `t0` to `t1`, overwriting `y` (the state at `t0`) with
/// the state at `t1`. `t1 < t0` integrates backward in time. See the module docs for the
/// method, error norm and step control; the only allocation is one buffer of
/// `(stages + 3) n` floats per call.
///
/// ```
/// use flowcert::dynamics::solver::{integrate, OdeSystem, SolverOptions};
///
/// /// y' = -y, so y(t) = y(0) exp(-t).
/// struct Decay;
/// impl OdeSystem for Decay {
///     fn dim(&self) -> usize { 1 }
///     fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) { dy[0] = -y[0]; }
/// }
/// let opts = SolverOptions::default().check().unwrap();
/// let mut y = [1.0];
/// let stats = integrate(&mut Decay, 0.0, 2.0, &mut y, &opts).unwrap();
/// assert!((y[0] - (-2.0f64).exp()).abs() < 1e-9);
/// assert_eq!(stats.rhs_evals, 2 + 6 * (stats.steps + stats.rejected));
///
/// // Backward in time recovers the initial value.
/// integrate(&mut Decay, 2.0, 0.0, &mut y, &opts).unwrap();
/// assert!((y[0] - 1.0).abs() < 1e-9);
/// ```
///
/// # Errors
///
/// [`SolverError::NonFiniteInterval`], [`SolverError::DimensionMismatch`],
/// [`SolverError::NonFinite`] (also for a non-finite `y` at `t0`),
/// [`SolverError::StepSizeUnderflow`], [`SolverError::MaxStepsExceeded`].
pub fn integrate<S: OdeSystem>(
    sys: &mut S,
    t0: f64,
    t1: f64,
    y: &mut [f64],
    opts: &ValidSolverOptions,
) -> Result<SolverStats, SolverError> {
    let n = sys.dim();
    if y.len() != n {
        return Err(SolverError::DimensionMismatch {
            expected: n,
            got: y.len(),
        });
    }
    if !(t0.is_finite() && t1.is_finite()) {
        return Err(SolverError::NonFiniteInterval { t0, t1 });
    }
    let mut stats = SolverStats::default();
    if t0 == t1 || n == 0 {
        return Ok(stats);
    }
    if !all_finite(y) {
        return Err(SolverError::NonFinite { t: t0 });
    }

    let pair = opts.method().pair();
    let stages = pair.stages();
    let (rtol, atol) = (opts.rtol(), opts.atol());
    let dir = (t1 - t0).signum();
    let hmax = (t1 - t0).abs();

    let mut buffer = vec![0.0; (stages + 3) * n];
    let mut w = Work::new(&mut buffer, n, stages);

    sys.rhs(t0, y, w.f);
    stats.rhs_evals += 1;
    if !all_finite(w.f) {
        return Err(SolverError::NonFinite { t: t0 });
    }
    let mut h = match opts.initial_step() {
        Some(h) => h.min(hmax),
        None => {
            stats.rhs_evals += 1;
            let (f1, y1) = (&mut *w.ynew, &mut *w.ystage);
            initial_step(sys, pair.order, t0, y, w.f, f1, y1, dir, hmax, rtol, atol)
        }
    } * dir;
    w.store_stage(0);

    let mut t = t0;
    // Controller memory: err of the last accepted step (floored) for the PI factor, and
    // (h, err) of the last accepted step for Gustafsson's predictive factor.
    let mut err_old: f64 = 1e-4;
    let mut last_accepted: Option<(f64, f64)> = None;
    let mut rejected_last = false;
    let mut nonfinite_last = false;
    loop {
        if stats.steps + stats.rejected >= opts.max_steps() {
            return Err(SolverError::MaxStepsExceeded {
                t,
                t1,
                max_steps: opts.max_steps(),
            });
        }
        if 0.1 * h.abs() <= t.abs() * f64::EPSILON || h.abs() < f64::MIN_POSITIVE {
            return Err(if nonfinite_last {
                SolverError::NonFinite { t }
            } else {
                SolverError::StepSizeUnderflow { t, h }
            });
        }
        let last = (t + 1.01 * h - t1) * dir > 0.0;
        if last {
            h = t1 - t;
        }

        let err = attempt_step(sys, pair, t, h, y, &mut w, rtol, atol);
        stats.rhs_evals += stages - 1;

        if err <= 1.0 {
            stats.steps += 1;
            let t_new = if last { t1 } else { t + h };
            y.copy_from_slice(w.ynew);
            if pair.fsal {
                w.reuse_last_stage();
            } else {
                sys.rhs(t_new, y, w.f);
                stats.rhs_evals += 1;
                if !all_finite(w.f) {
                    return Err(SolverError::NonFinite { t: t_new });
                }
                w.store_stage(0);
            }
            t = t_new;
            if last {
                return Ok(stats);
            }
            let mut grow = SAFETY * err.powf(-pair.alpha) * err_old.powf(pair.beta);
            if let Some((h_acc, err_acc)) = last_accepted {
                let k = f64::from(pair.order);
                grow = grow.min(SAFETY * (h / h_acc) * (err_acc / (err * err)).powf(1.0 / k));
            }
            let mut h_new = h * grow.clamp(pair.fac_min, pair.fac_max);
            err_old = err.max(1e-4);
            last_accepted = Some((h, err.max(1e-2)));
            if h_new.abs() > hmax {
                h_new = hmax * dir;
            }
            if rejected_last && h_new.abs() > h.abs() {
                h_new = h;
            }
            h = h_new;
            rejected_last = false;
            nonfinite_last = false;
        } else {
            stats.rejected += 1;
            nonfinite_last = !err.is_finite();
            let shrink = if nonfinite_last {
                pair.fac_min
            } else {
                (SAFETY * err.powf(-pair.alpha)).max(pair.fac_min)
            };
            h *= shrink;
            rejected_last = true;
        }
    }
}

/// Scratch of one [`integrate`] call, carved from a single allocation. The stage
/// derivatives are stored component-major, `kt[i * stages + s] = k_s[i]`, so that the
/// combinations `sum_j w_j k_j[i]` read contiguous memory.
struct Work<'a> {
    kt: &'a mut [f64],
    /// Output of the right-hand side, copied into a column of `kt` by `store_stage`.
    f: &'a mut [f64],
    ystage: &'a mut [f64],
    ynew: &'a mut [f64],
    stages: usize,
}

impl<'a> Work<'a> {
    fn new(buffer: &'a mut [f64], n: usize, stages: usize) -> Self {
        let (kt, rest) = buffer.split_at_mut(stages * n);
        let (f, rest) = rest.split_at_mut(n);
        let (ystage, ynew) = rest.split_at_mut(n);
        Self {
            kt,
            f,
            ystage,
            ynew,
            stages,
        }
    }

    /// `k_s <- f`.
    #[inline]
    fn store_stage(&mut self, s: usize) {
        for (row, &fi) in self.kt.chunks_exact_mut(self.stages).zip(self.f.iter()) {
            row[s] = fi;
        }
    }

    /// FSAL: `k_0 <- k_{stages-1}`.
    #[inline]
    fn reuse_last_stage(&mut self) {
        for row in self.kt.chunks_exact_mut(self.stages) {
            row[0] = row[self.stages - 1];
        }
    }
}

/// Computes stages `1..stages` of one step of size `h` from `(t, y)` (with `k_0 =
/// f(t, y)` in place), writes the propagated solution into `w.ynew`, and returns the
/// error norm; NaN if the estimate or `ynew` is not finite. Evaluates `f` exactly
/// `stages - 1` times.
#[allow(clippy::too_many_arguments)]
#[inline]
fn attempt_step<S: OdeSystem>(
    sys: &mut S,
    pair: &Pair,
    t: f64,
    h: f64,
    y: &[f64],
    w: &mut Work,
    rtol: f64,
    atol: f64,
) -> f64 {
    let stages = pair.stages();
    for s in 1..stages {
        let input: &mut [f64] = if pair.fsal && s == stages - 1 {
            &mut *w.ynew
        } else {
            &mut *w.ystage
        };
        combine(y, h, pair.a[s], w.kt, stages, input);
        sys.rhs(t + pair.c[s] * h, input, w.f);
        w.store_stage(s);
    }
    if !pair.fsal {
        combine(y, h, pair.b, w.kt, stages, w.ynew);
    }
    if !all_finite(w.ynew) {
        return f64::NAN;
    }

    let rows = w.kt.chunks_exact(stages).zip(y).zip(w.ynew.iter());
    let n = y.len() as f64;
    let err = match pair.estimator {
        Estimator::Embedded(e) => {
            let mut sum = 0.0;
            for ((row, &yi), &yn) in rows {
                let sk = atol + rtol * yi.abs().max(yn.abs());
                let ei = h * dot(e, row) / sk;
                sum += ei * ei;
            }
            (sum / n).sqrt()
        }
        Estimator::Stretched53 { e5, e3 } => {
            let (mut s5, mut s3) = (0.0, 0.0);
            for ((row, &yi), &yn) in rows {
                let sk = atol + rtol * yi.abs().max(yn.abs());
                let r5 = dot(e5, row) / sk;
                let r3 = dot(e3, row) / sk;
                s5 += r5 * r5;
                s3 += r3 * r3;
            }
            let mut deno = s5 + 0.01 * s3;
            if deno <= 0.0 {
                deno = 1.0;
            }
            h.abs() * s5 / (n * deno).sqrt()
        }
    };
    if err.is_finite() { err } else { f64::NAN }
}

/// `sum_j w[j] k[j]` over the shorter of the two slices.
#[inline(always)]
fn dot(w: &[f64], k: &[f64]) -> f64 {
    w.iter().zip(k).fold(0.0, |acc, (&wj, &kj)| acc + wj * kj)
}

/// `out_i = y_i + h sum_j w[j] k_j[i]` with `kt` component-major (row length
/// `stages`); the increment is summed before it is added to `y`.
#[inline(always)]
fn combine(y: &[f64], h: f64, w: &[f64], kt: &[f64], stages: usize, out: &mut [f64]) {
    for ((o, &yi), row) in out.iter_mut().zip(y).zip(kt.chunks_exact(stages)) {
        *o = yi + h * dot(w, row);
    }
}

fn all_finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

/// Hairer's starting step (`hinit` of `dopri5.f`/`dop853.f`) with RMS norms weighted by
/// `sk_i = atol + rtol |y0_i|`; returns a positive size. Uses one evaluation of `f`.
#[allow(clippy::too_many_arguments)]
fn initial_step<S: OdeSystem>(
    sys: &mut S,
    order: i32,
    t0: f64,
    y0: &[f64],
    f0: &[f64],
    f1: &mut [f64],
    y1: &mut [f64],
    dir: f64,
    hmax: f64,
    rtol: f64,
    atol: f64,
) -> f64 {
    let n = y0.len() as f64;
    let sk = |i: usize| atol + rtol * y0[i].abs();
    let mut dnf = 0.0;
    let mut dny = 0.0;
    for i in 0..y0.len() {
        dnf += (f0[i] / sk(i)).powi(2);
        dny += (y0[i] / sk(i)).powi(2);
    }
    dnf /= n;
    dny /= n;
    let mut h = if dnf <= 1e-10 || dny <= 1e-10 {
        1e-6
    } else {
        (dny / dnf).sqrt() * 0.01
    };
    h = h.min(hmax);
    for i in 0..y0.len() {
        y1[i] = y0[i] + dir * h * f0[i];
    }
    sys.rhs(t0 + dir * h, y1, f1);
    let mut d2 = 0.0;
    for i in 0..y0.len() {
        d2 += ((f1[i] - f0[i]) / sk(i)).powi(2);
    }
    let der2 = (d2 / n).sqrt() / h;
    // `f64::max` ignores a NaN `der2` (non-finite f1): fall back on ||f0||.
    let der12 = der2.max(dnf.sqrt());
    let h1 = if der12 <= 1e-15 {
        (h * 1e-3).max(1e-6)
    } else {
        (0.01 / der12).powf(1.0 / f64::from(order))
    };
    (100.0 * h).min(h1).min(hmax)
}

/// Classical 4th-order Runge-Kutta with `n` equal steps from `t0` to `t1`: the reference
/// solver of the tests, independent of the adaptive code path. Overwrites `y` with the
/// state at `t1`; `n = 0` leaves it unchanged. No error control: a non-finite input
/// simply propagates.
///
/// ```text
/// k1 = f(t, y), k2 = f(t + h/2, y + h k1/2), k3 = f(t + h/2, y + h k2/2),
/// k4 = f(t + h, y + h k3),  y <- y + h (k1 + 2 k2 + 2 k3 + k4) / 6
/// ```
///
/// ```
/// use flowcert::dynamics::solver::{integrate_rk4_fixed, OdeSystem};
///
/// struct Decay;
/// impl OdeSystem for Decay {
///     fn dim(&self) -> usize { 1 }
///     fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) { dy[0] = -y[0]; }
/// }
/// let mut y = [1.0];
/// let stats = integrate_rk4_fixed(&mut Decay, 0.0, 1.0, &mut y, 100);
/// assert!((y[0] - (-1.0f64).exp()).abs() < 1e-9);
/// assert_eq!((stats.steps, stats.rhs_evals), (100, 400));
/// ```
///
/// # Panics
///
/// If `y.len() != sys.dim()` (a test-harness bug, not a user input).
pub fn integrate_rk4_fixed<S: OdeSystem>(
    sys: &mut S,
    t0: f64,
    t1: f64,
    y: &mut [f64],
    n: usize,
) -> SolverStats {
    let dim = y.len();
    assert_eq!(
        dim,
        sys.dim(),
        "state length must equal the system dimension"
    );
    let mut work = vec![0.0; 5 * dim];
    let (k1, rest) = work.split_at_mut(dim);
    let (k2, rest) = rest.split_at_mut(dim);
    let (k3, rest) = rest.split_at_mut(dim);
    let (k4, tmp) = rest.split_at_mut(dim);
    let h = (t1 - t0) / n as f64;
    for step in 0..n {
        let t = t0 + step as f64 * h;
        sys.rhs(t, y, k1);
        for i in 0..dim {
            tmp[i] = y[i] + 0.5 * h * k1[i];
        }
        sys.rhs(t + 0.5 * h, tmp, k2);
        for i in 0..dim {
            tmp[i] = y[i] + 0.5 * h * k2[i];
        }
        sys.rhs(t + 0.5 * h, tmp, k3);
        for i in 0..dim {
            tmp[i] = y[i] + h * k3[i];
        }
        let t_next = if step + 1 == n { t1 } else { t + h };
        sys.rhs(t_next, tmp, k4);
        for i in 0..dim {
            y[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
    }
    SolverStats {
        rhs_evals: 4 * n,
        steps: n,
        rejected: 0,
    }
}

#[cfg(test)]
mod tests {
    //! Order conditions of the tableaux: these catch any mis-transcribed coefficient.
    use super::*;
    use crate::tolerance::{EXACT, ODE_ORDER_SLACK};

    fn check_row_sums(pair: &Pair) {
        assert_eq!(pair.a.len(), pair.stages());
        for (s, row) in pair.a.iter().enumerate() {
            assert_eq!(row.len(), s, "row {s} of a has the wrong length");
            let sum: f64 = row.iter().sum();
            assert!(
                (sum - pair.c[s]).abs() < EXACT,
                "row {s}: {sum} vs c = {}",
                pair.c[s]
            );
        }
    }

    /// `sum_j w_j c_j^q = 1/(q+1)` for `q < order` (bushy trees), and
    /// `sum_j w_j sum_l a_jl c_l^q = 1/((q+1)(q+2))` for `q + 2 <= order`.
    fn check_quadrature(pair: &Pair, w: &[f64], order: usize) {
        for q in 0..order {
            let lhs: f64 = w
                .iter()
                .zip(pair.c)
                .map(|(wj, cj)| wj * cj.powi(q as i32))
                .sum();
            let rhs = 1.0 / (q as f64 + 1.0);
            assert!((lhs - rhs).abs() < EXACT, "b c^{q}: {lhs} vs {rhs}");
        }
        for q in 0..order.saturating_sub(1) {
            let lhs: f64 = w
                .iter()
                .zip(pair.a)
                .map(|(wj, row)| {
                    wj * row
                        .iter()
                        .zip(pair.c)
                        .map(|(a, c)| a * c.powi(q as i32))
                        .sum::<f64>()
                })
                .sum();
            let rhs = 1.0 / ((q as f64 + 1.0) * (q as f64 + 2.0));
            assert!((lhs - rhs).abs() < EXACT, "b A c^{q}: {lhs} vs {rhs}");
        }
    }

    fn minus(b: &[f64], e: &[f64]) -> Vec<f64> {
        b.iter().zip(e).map(|(b, e)| b - e).collect()
    }

    /// `y' = 1 + y^2` (nonlinear), `y(t) = tan(t)`.
    struct Tangent;
    impl OdeSystem for Tangent {
        fn dim(&self) -> usize {
            1
        }
        fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) {
            dy[0] = 1.0 + y[0] * y[0];
        }
    }

    /// `y' = -2 t y` (nonautonomous), `y(t) = y(0) exp(-t^2)`.
    struct Gaussian;
    impl OdeSystem for Gaussian {
        fn dim(&self) -> usize {
            1
        }
        fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) {
            dy[0] = -2.0 * t * y[0];
        }
    }

    /// `steps` fixed steps of the propagated solution of `pair`; returns the largest
    /// error estimate seen (in units of the tolerances `atol = rtol = 1`).
    fn fixed_steps<S: OdeSystem>(
        pair: &Pair,
        sys: &mut S,
        t0: f64,
        t1: f64,
        y: &mut [f64],
        steps: usize,
    ) -> f64 {
        let mut buffer = vec![0.0; (pair.stages() + 3) * y.len()];
        let mut w = Work::new(&mut buffer, y.len(), pair.stages());
        let h = (t1 - t0) / steps as f64;
        let mut est: f64 = 0.0;
        for step in 0..steps {
            let t = t0 + step as f64 * h;
            sys.rhs(t, y, w.f);
            w.store_stage(0);
            est = est.max(attempt_step(sys, pair, t, h, y, &mut w, 1.0, 1.0));
            y.copy_from_slice(w.ynew);
        }
        est
    }

    /// Observed orders `log2(e(h) / e(h/2))` of the global error and of the error estimate.
    fn observed_orders<S: OdeSystem>(
        pair: &Pair,
        sys: &mut S,
        t1: f64,
        y0: f64,
        exact: f64,
        steps: usize,
    ) -> (f64, f64) {
        let mut run = |m: usize| {
            let mut y = [y0];
            let est = fixed_steps(pair, sys, 0.0, t1, &mut y, m);
            ((y[0] - exact).abs(), est)
        };
        let (e1, est1) = run(steps);
        let (e2, est2) = run(2 * steps);
        ((e1 / e2).log2(), (est1 / est2).log2())
    }

    /// Fixed-step convergence orders on problems with closed forms. Step counts sit in
    /// the asymptotic range, above the rounding floor (global errors 1e-9 to 1e-13).
    #[test]
    fn fixed_step_orders() {
        let gauss_exact = (-4f64).exp();
        let (dopri5, _) = observed_orders(&DOPRI5, &mut Gaussian, 2.0, 1.0, gauss_exact, 32);
        assert!(
            (dopri5 - 5.0).abs() < ODE_ORDER_SLACK,
            "dopri5 order {dopri5}"
        );
        let (dop853, _) = observed_orders(&DOP853, &mut Gaussian, 2.0, 1.0, gauss_exact, 8);
        assert!(
            (dop853 - 8.0).abs() < ODE_ORDER_SLACK,
            "dop853 order {dop853}"
        );
        // Local error estimates: O(h^5) for Dopri5, O(h^8) for Hairer's stretched Dop853
        // estimate (its 5th-order part divided by the 3rd-order one).
        let (_, est5) = observed_orders(&DOPRI5, &mut Tangent, 1.0, 0.0, 1f64.tan(), 64);
        assert!(
            (est5 - 5.0).abs() < ODE_ORDER_SLACK,
            "dopri5 estimate order {est5}"
        );
        let (_, est8) = observed_orders(&DOP853, &mut Tangent, 1.0, 0.0, 1f64.tan(), 64);
        assert!(
            (est8 - 8.0).abs() < ODE_ORDER_SLACK,
            "dop853 estimate order {est8}"
        );
    }

    #[test]
    fn dopri5_order_conditions() {
        check_row_sums(&DOPRI5);
        check_quadrature(&DOPRI5, &DOPRI5_B, 5);
        check_quadrature(&DOPRI5, &minus(&DOPRI5_B, &DOPRI5_E), 4);
        // FSAL: the last row of a is b.
        assert_eq!(DOPRI5_A[6], &DOPRI5_B[..6]);
    }

    #[test]
    fn dop853_order_conditions() {
        check_row_sums(&DOP853);
        check_quadrature(&DOP853, &dop853::B, 8);
        check_quadrature(&DOP853, &minus(&dop853::B, &dop853::E5), 5);
        check_quadrature(&DOP853, &minus(&dop853::B, &dop853::E3), 3);
    }
}
