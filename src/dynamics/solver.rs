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

use super::stepper::{Next, Stepper};
use crate::tolerance::{ODE_ATOL, ODE_RTOL};

/// Smallest relative tolerance accepted by [`SolverOptions::check`]: below it the local
/// error target drowns in rounding (`f64::EPSILON` is 2.2e-16).
pub const MIN_RTOL: f64 = 1e-14;

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

/// Integrates `y' = f(t, y)` from `t0` to `t1`, overwriting `y` (the state at `t0`) with
/// the state at `t1`. `t1 < t0` integrates backward in time. See the module docs for the
/// method, error norm and step control; the only allocations are the buffers of
/// `(stages + 4) n` floats of one call.
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
    integrate_observed(sys, t0, t1, y, opts, |_, _, _| {})
}

/// [`integrate`], calling `accepted(t_prev, t_new, y_new)` after every accepted step, from
/// the previous accepted time `t_prev` (`t0` for the first step) to `t_new`, with `y_new`
/// the state at `t_new`. The floating-point operations are those of [`integrate`], so the
/// result is bitwise the same; the observer only reads. Rejected attempts and stage states
/// are not reported: between two accepted states the solution is the (unknown) exact
/// trajectory through the first, which a caller may bound from the step size (the
/// stability checker does, theory/03-stability.md).
///
/// ```
/// use flowcert::dynamics::solver::{integrate, integrate_observed, OdeSystem, SolverOptions};
/// struct Decay;
/// impl OdeSystem for Decay {
///     fn dim(&self) -> usize { 1 }
///     fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) { dy[0] = -y[0]; }
/// }
/// let opts = SolverOptions::default().check().unwrap();
/// let (mut y, mut z) = ([1.0], [1.0]);
/// let mut steps = Vec::new();
/// let stats = integrate_observed(&mut Decay, 0.0, 2.0, &mut y, &opts, |a, b, y| steps.push((a, b, y[0]))).unwrap();
/// integrate(&mut Decay, 0.0, 2.0, &mut z, &opts).unwrap();
/// assert_eq!((steps.len(), y), (stats.steps, z));
/// assert_eq!((steps[0].0, steps.last().unwrap().1, steps.last().unwrap().2), (0.0, 2.0, y[0]));
/// assert!(steps.windows(2).all(|w| w[0].1 == w[1].0));
/// ```
///
/// # Errors
///
/// Those of [`integrate`].
pub fn integrate_observed<S: OdeSystem, F: FnMut(f64, f64, &[f64])>(
    sys: &mut S,
    t0: f64,
    t1: f64,
    y: &mut [f64],
    opts: &ValidSolverOptions,
    mut accepted: F,
) -> Result<SolverStats, SolverError> {
    let n = sys.dim();
    if y.len() != n {
        return Err(SolverError::DimensionMismatch {
            expected: n,
            got: y.len(),
        });
    }
    let mut stepper = Stepper::new(opts, n);
    let mut buffer = vec![0.0; 2 * n];
    let (input, f) = buffer.split_at_mut(n);
    let mut next = stepper.start(t0, t1, y, input);
    let mut t_prev = t0;
    let result = loop {
        match next {
            Next::Eval(t) => {
                sys.rhs(t, input, f);
                next = stepper.advance(f, input);
                // The stepper moves its time exactly when it accepts a step.
                if stepper.t() != t_prev {
                    accepted(t_prev, stepper.t(), stepper.y());
                    t_prev = stepper.t();
                }
            }
            Next::Done(r) => break r,
        }
    };
    y.copy_from_slice(stepper.y());
    result
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
