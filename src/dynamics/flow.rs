//! Flow maps of the PF-ODE and their derivatives (theory/01-model.md, "Flow maps").
//!
//! ```text
//! Phi_{t->u}(x): solution at time u of dx/dr = v(x, r) started from x at time t
//! d/du DPhi_{t->u}(x) = J(Phi_{t->u}(x), u) DPhi_{t->u}(x),   DPhi_{t->t} = I
//! ```
//! The variational equation is integrated alongside the state (state dimension
//! d + d^2, DPhi stored column-major), so `||DPhi||_2` is the exact local Lipschitz
//! constant of the flow map up to the solver tolerance. Either time direction works.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use super::clock::{Clock, LogSnrLanes};
use super::lanes::{Independent, integrate_lanes};
use super::solver::{
    OdeSystem, SolverError, SolverStats, ValidSolverOptions, integrate, integrate_observed,
};
use crate::model::process::Process;
use crate::model::{Marginal, MarginalLanes, Mixture, ModelError, VelocityField};

/// Trajectories kept in flight per thread by the batch maps ([`integrate_lanes`]):
/// enough for the processor to overlap their dependency chains and for each pass of
/// [`MarginalLanes`] to run several AVX2 vectors (8 lanes took ~12% more CPU on the 2,000-
/// and 100,000-point log-SNR teacher of `benches/peers`; 32 no less than 16), few enough
/// that each lane's state stays in L1. Results do not depend on it (bitwise).
pub const LANES: usize = 16;

/// Why a flow map could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// A time outside the model's range.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The ODE solver failed.
    #[error(transparent)]
    Solver(#[from] SolverError),
}

/// The PF-ODE, optionally augmented with its variational equation, as an [`OdeSystem`].
pub struct FlowSystem<'f, V: VelocityField> {
    field: &'f mut V,
    d: usize,
    with_jacobian: bool,
    jac: DMatrix<f64>,
    /// With a path: the independent variable is its log-SNR ([`Clock::LogSnr`]).
    log_snr: Option<Process>,
}

impl<'f, V: VelocityField> FlowSystem<'f, V> {
    /// Wrap a velocity field; `with_jacobian` adds the d x d variational state.
    pub fn new(field: &'f mut V, with_jacobian: bool) -> Self {
        let d = field.dim();
        FlowSystem {
            field,
            d,
            with_jacobian,
            jac: DMatrix::zeros(d, d),
            log_snr: None,
        }
    }

    /// The same system with the log-SNR of `path` as its independent variable
    /// (module [`clock`](super::Clock)): `rhs(lambda, y)` is the right-hand side at the
    /// time of log-SNR `lambda`, times `dt/d lambda`.
    pub fn on_log_snr(mut self, path: Process) -> Self {
        self.log_snr = Some(path);
        self
    }
}

impl<V: VelocityField> OdeSystem for FlowSystem<'_, V> {
    fn dim(&self) -> usize {
        if self.with_jacobian {
            self.d + self.d * self.d
        } else {
            self.d
        }
    }

    #[inline]
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) {
        match &self.log_snr {
            None => self.rhs_in_time(t, y, dy),
            Some(path) => {
                let c = path.coeffs_at_log_snr(t);
                self.field.set_coeffs(&c);
                self.rhs_in_time(c.t, y, dy);
                let scale = c.dt_dlog_snr();
                dy.iter_mut().for_each(|v| *v *= scale);
            }
        }
    }
}

impl<V: VelocityField> FlowSystem<'_, V> {
    /// `dy/dt` at time `t`.
    #[inline]
    fn rhs_in_time(&mut self, t: f64, y: &[f64], dy: &mut [f64]) {
        let d = self.d;
        if !self.with_jacobian {
            self.field.velocity_into(y, t, dy);
            return;
        }
        let (x, m) = y.split_at(d);
        let (dx, dm) = dy.split_at_mut(d);
        self.field.jacobian_into(x, t, &mut self.jac, dx);
        // dM = J M, column-major, plain loops (no strided gemm views).
        let j = self.jac.as_slice();
        for c in 0..d {
            let mc = &m[c * d..(c + 1) * d];
            let out = &mut dm[c * d..(c + 1) * d];
            out.iter_mut().for_each(|v| *v = 0.0);
            for (k, &mk) in mc.iter().enumerate() {
                let jk = &j[k * d..(k + 1) * d];
                for r in 0..d {
                    out[r] += jk[r] * mk;
                }
            }
        }
    }
}

/// The end point of one trajectory, with its derivative if requested.
#[derive(Debug, Clone)]
pub struct FlowPoint {
    /// `Phi_{from->to}(x)`.
    pub y: DVector<f64>,
    /// `DPhi_{from->to}(x)` when requested.
    pub jacobian: Option<DMatrix<f64>>,
    /// Solver work.
    pub stats: SolverStats,
}

impl FlowPoint {
    /// `||DPhi||_2`, the local Lipschitz constant (largest singular value).
    ///
    /// ```
    /// let p = flowcert::dynamics::FlowPoint { y: nalgebra::DVector::zeros(2),
    ///     jacobian: Some(nalgebra::DMatrix::from_diagonal_element(2, 2, 3.0)), stats: Default::default() };
    /// assert!((p.jacobian_norm().unwrap() - 3.0).abs() < 1e-12);
    /// ```
    pub fn jacobian_norm(&self) -> Option<f64> {
        self.jacobian.as_ref().map(spectral_norm)
    }
}

/// Largest singular value of a (small, owned) matrix.
///
/// ```
/// let m = nalgebra::DMatrix::from_row_slice(2, 2, &[0.0, 2.0, 0.0, 0.0]);
/// assert!((flowcert::dynamics::flow::spectral_norm(&m) - 2.0).abs() < 1e-12);
/// ```
pub fn spectral_norm(m: &DMatrix<f64>) -> f64 {
    m.clone()
        .singular_values()
        .iter()
        .cloned()
        .fold(0.0, f64::max)
}

/// Integrate any velocity field from `from` to `to` starting at `x`.
///
/// ```
/// use flowcert::dynamics::{flow_point, solver::SolverOptions};
/// use flowcert::model::{builtin, Marginal};
/// let mix = builtin::two_mode(0.1);
/// let mut field = Marginal::new(&mix, 1.0).unwrap();
/// let opts = SolverOptions::default().check().unwrap();
/// let p = flow_point(&mut field, &[0.3, 0.0], 1.0, 0.5, true, &opts).unwrap();
/// assert!(p.jacobian_norm().unwrap() > 0.0);
/// ```
pub fn flow_point<V: VelocityField>(
    field: &mut V,
    x: &[f64],
    from: f64,
    to: f64,
    with_jacobian: bool,
    opts: &ValidSolverOptions,
) -> Result<FlowPoint, SolverError> {
    flow_point_observed(field, x, from, to, with_jacobian, opts, |_, _, _| {})
}

/// [`flow_point`], calling `accepted(t_prev, t_new, y_new)` after every accepted solver step
/// ([`integrate_observed`]); `y_new[..d]` is the state at `t_new` (followed by `DPhi`,
/// column-major, when `with_jacobian`). The result is bitwise that of [`flow_point`].
///
/// ```
/// use flowcert::dynamics::{flow_point, flow_point_observed, solver::SolverOptions};
/// use flowcert::model::{builtin, Marginal};
/// let mix = builtin::two_mode(0.1);
/// let mut field = Marginal::new(&mix, 1.0).unwrap();
/// let opts = SolverOptions::default().check().unwrap();
/// let mut far = 0.0f64;
/// let p = flow_point_observed(&mut field, &[0.3, 0.0], 1.0, 0.5, false, &opts,
///     |_, _, y| far = far.max(y[0].hypot(y[1]))).unwrap();
/// let q = flow_point(&mut field, &[0.3, 0.0], 1.0, 0.5, false, &opts).unwrap();
/// assert_eq!(p.y, q.y);
/// assert!(far >= p.y.norm());
/// ```
///
/// # Errors
///
/// Those of [`super::integrate`].
#[allow(clippy::too_many_arguments)]
pub fn flow_point_observed<V: VelocityField, F: FnMut(f64, f64, &[f64])>(
    field: &mut V,
    x: &[f64],
    from: f64,
    to: f64,
    with_jacobian: bool,
    opts: &ValidSolverOptions,
    accepted: F,
) -> Result<FlowPoint, SolverError> {
    let d = x.len();
    let mut y = initial_state(x, with_jacobian);
    let mut sys = FlowSystem::new(field, with_jacobian);
    let stats = integrate_observed(&mut sys, from, to, &mut y, opts, accepted)?;
    Ok(split_state(y, d, with_jacobian, stats))
}

/// The solver's state at the start: `x`, then (with the Jacobian) the identity `DPhi = I`
/// column-major.
fn initial_state(x: &[f64], with_jacobian: bool) -> Vec<f64> {
    let d = x.len();
    let mut y = x.to_vec();
    if with_jacobian {
        y.resize(d + d * d, 0.0);
        identity_into(&mut y[d..], d);
    }
    y
}

/// The end state `[x; vec(DPhi)]` split into the point and (with the Jacobian) `DPhi`.
fn split_state(mut y: Vec<f64>, d: usize, with_jacobian: bool, stats: SolverStats) -> FlowPoint {
    let jacobian = with_jacobian.then(|| DMatrix::from_column_slice(d, d, &y[d..]));
    y.truncate(d);
    FlowPoint {
        y: DVector::from_vec(y),
        jacobian,
        stats,
    }
}

/// The exact flow map `Phi_{from->to}` of a mixture's PF-ODE at fixed solver options.
#[derive(Debug, Clone)]
pub struct ExactFlow<'a> {
    mix: &'a Mixture,
    opts: ValidSolverOptions,
    clock: Clock,
}

impl<'a> ExactFlow<'a> {
    /// The exact flow of `mix` solved at `opts` (validated solver options or a
    /// [`super::Teacher`]; [`super::Teacher::flow`] says the same).
    ///
    /// ```
    /// use flowcert::dynamics::{ExactFlow, solver::SolverOptions};
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let f = ExactFlow::new(&mix, SolverOptions::default().check().unwrap());
    /// let y = f.map(&[0.1, 0.2], 2.0, 0.01).unwrap();
    /// assert!(y.y[0] > 1.0); // lands near the right mode
    /// ```
    pub fn new(mix: &'a Mixture, opts: impl Into<ValidSolverOptions>) -> Self {
        ExactFlow {
            mix,
            opts: opts.into(),
            clock: Clock::Time,
        }
    }

    /// The same flow integrated in `clock` ([`Clock::Time`] unless set): the same map,
    /// other rounding and work. Every method below honours it, and with either clock
    /// the batch maps are bitwise the single-point ones.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The solver's interval for `from -> to` in the clock's variable.
    fn interval(&self, from: f64, to: f64) -> (f64, f64) {
        match self.clock {
            Clock::Time => (from, to),
            Clock::LogSnr => {
                let p = self.mix.process();
                // Equal times give an empty interval even where the inverse is inexact.
                let (a, b) = (p.log_snr(from), p.log_snr(to));
                (a, if from == to { a } else { b })
            }
        }
    }

    /// The PF-ODE system on `field` in this flow's clock.
    fn system<'f, 'm>(
        &self,
        field: &'f mut Marginal<'m>,
        with_jacobian: bool,
    ) -> FlowSystem<'f, Marginal<'m>> {
        let sys = FlowSystem::new(field, with_jacobian);
        match self.clock {
            Clock::Time => sys,
            Clock::LogSnr => sys.on_log_snr(self.mix.process().clone()),
        }
    }

    /// The mixture.
    pub fn mixture(&self) -> &'a Mixture {
        self.mix
    }

    /// The solver options.
    pub fn options(&self) -> &ValidSolverOptions {
        &self.opts
    }

    /// `Phi_{from->to}(x)` (times must be > 0; checked by callers at the boundary).
    pub fn map(&self, x: &[f64], from: f64, to: f64) -> Result<FlowPoint, FlowError> {
        self.solve(x, from, to, false)
    }

    /// `Phi_{from->to}(x)` and `DPhi_{from->to}(x)`.
    pub fn map_with_jacobian(&self, x: &[f64], from: f64, to: f64) -> Result<FlowPoint, FlowError> {
        self.solve(x, from, to, true)
    }

    fn solve(
        &self,
        x: &[f64],
        from: f64,
        to: f64,
        with_jacobian: bool,
    ) -> Result<FlowPoint, FlowError> {
        self.mix.check_path_time("to", to)?;
        let mut field = Marginal::new(self.mix, from)?;
        if self.clock == Clock::Time {
            return Ok(flow_point(
                &mut field,
                x,
                from,
                to,
                with_jacobian,
                &self.opts,
            )?);
        }
        let d = x.len();
        let mut y = initial_state(x, with_jacobian);
        let (a, b) = self.interval(from, to);
        let stats = integrate(
            &mut self.system(&mut field, with_jacobian),
            a,
            b,
            &mut y,
            &self.opts,
        )?;
        Ok(split_state(y, d, with_jacobian, stats))
    }

    /// Map the columns of a d x N matrix on the current thread (for use inside an outer
    /// parallel loop), summing solver stats. The trajectories run [`LANES`] at a time
    /// ([`integrate_lanes`]); each result is bitwise that of [`ExactFlow::map`].
    ///
    /// ```
    /// use flowcert::dynamics::{ExactFlow, solver::SolverOptions};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let f = ExactFlow::new(&mix, SolverOptions::default().check().unwrap());
    /// let xs = nalgebra::DMatrix::from_fn(2, 5, |i, j| 0.3 * (i + j) as f64 - 0.5);
    /// let (a, _) = f.map_batch_serial(&xs, 1.0, 0.1).unwrap();
    /// let (b, _) = f.map_batch(&xs, 1.0, 0.1).unwrap();
    /// assert_eq!(a, b);
    /// let one = f.map(xs.column(3).as_slice(), 1.0, 0.1).unwrap();
    /// assert_eq!(a.column(3).as_slice(), one.y.as_slice()); // bitwise
    /// ```
    pub fn map_batch_serial(
        &self,
        xs: &DMatrix<f64>,
        from: f64,
        to: f64,
    ) -> Result<(DMatrix<f64>, SolverStats), FlowError> {
        let mut out = DMatrix::zeros(xs.nrows(), xs.ncols());
        let stats = self.map_slice(xs.as_slice(), from, to, out.as_mut_slice(), None)?;
        Ok((out, stats))
    }

    /// Map the columns of a d x N matrix (parallel over blocks of points, each block run
    /// as by [`ExactFlow::map_batch_serial`]), summing solver stats.
    ///
    /// ```
    /// use flowcert::dynamics::{ExactFlow, solver::SolverOptions};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let f = ExactFlow::new(&mix, SolverOptions::default().check().unwrap());
    /// let (ys, stats) = f.map_batch(&nalgebra::DMatrix::zeros(2, 3), 1.0, 0.1).unwrap();
    /// assert_eq!(ys.ncols(), 3);
    /// assert!(stats.steps > 0);
    /// ```
    pub fn map_batch(
        &self,
        xs: &DMatrix<f64>,
        from: f64,
        to: f64,
    ) -> Result<(DMatrix<f64>, SolverStats), FlowError> {
        let mut out = DMatrix::zeros(xs.nrows(), xs.ncols());
        let stats =
            self.map_slice_par(xs.as_slice(), from, to, out.as_mut_slice(), None, &|_| ())?;
        Ok((out, stats))
    }

    /// Map the points of `xs` (d numbers per point, one after the other) into `ys` (same
    /// layout) on the current thread, [`LANES`] trajectories at a time, and, when `jac`
    /// is given (d^2 numbers per point), `DPhi` of each point into it, column-major.
    /// Returns the summed work. Each point's results are bitwise those of
    /// [`ExactFlow::map`] / [`ExactFlow::map_with_jacobian`]; on failure, the error is
    /// that of the first failing point in order.
    ///
    /// ```
    /// use flowcert::dynamics::{ExactFlow, solver::SolverOptions};
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let f = ExactFlow::new(&mix, SolverOptions::default().check().unwrap());
    /// let xs = [0.3, 0.1, -1.0, 0.5];
    /// let (mut ys, mut jac) = ([0.0; 4], [0.0; 8]);
    /// f.map_slice(&xs, 2.0, 0.05, &mut ys, Some(&mut jac)).unwrap();
    /// let p = f.map_with_jacobian(&xs[2..], 2.0, 0.05).unwrap();
    /// assert_eq!(&ys[2..], p.y.as_slice());
    /// assert_eq!(&jac[4..], p.jacobian.unwrap().as_slice());
    /// ```
    ///
    /// # Errors
    ///
    /// [`FlowError::Model`] for a time `<= 0`; [`FlowError::Solver`] when a buffer's
    /// length does not fit the mixture's dimension or a trajectory fails.
    pub fn map_slice(
        &self,
        xs: &[f64],
        from: f64,
        to: f64,
        ys: &mut [f64],
        jac: Option<&mut [f64]>,
    ) -> Result<SolverStats, FlowError> {
        self.mix.check_path_time("to", to)?;
        let d = self.mix.dim();
        let jobs = self.check_lengths(xs, ys, jac.as_deref())?;
        let lanes = LANES.min(jobs).max(1);
        self.mix.check_path_time("from", from)?;
        let mut stats = SolverStats::default();
        let mut first_err: Option<(usize, SolverError)> = None;
        let mut fail = |j: usize, e: SolverError| {
            if first_err.as_ref().is_none_or(|(k, _)| j < *k) {
                first_err = Some((j, e));
            }
        };
        let load_x = |j: usize, y0: &mut [f64]| y0[..d].copy_from_slice(&xs[j * d..(j + 1) * d]);
        let (a, b) = self.interval(from, to);
        let with_jacobian = jac.is_some();
        let mut jac = jac;
        let mut store = |j: usize, y: &[f64], r: Result<SolverStats, SolverError>| match r {
            Ok(s) => {
                ys[j * d..(j + 1) * d].copy_from_slice(&y[..d]);
                if let Some(m) = jac.as_deref_mut() {
                    m[j * d * d..(j + 1) * d * d].copy_from_slice(&y[d..]);
                }
                stats += s;
            }
            Err(e) => fail(j, e),
        };
        let (opts, field) = (&self.opts, MarginalLanes::new(self.mix, lanes));
        match (with_jacobian, self.clock) {
            (false, Clock::Time) => {
                integrate_lanes(&mut { field }, a, b, jobs, opts, load_x, &mut store)
            }
            (false, Clock::LogSnr) => {
                let mut sys = LogSnrLanes(field);
                integrate_lanes(&mut sys, a, b, jobs, opts, load_x, &mut store)
            }
            (true, _) => {
                let mut fields = (0..lanes)
                    .map(|_| Marginal::new(self.mix, from))
                    .collect::<Result<Vec<_>, _>>()?;
                let systems = fields.iter_mut().map(|f| self.system(f, true)).collect();
                let load = |j: usize, y0: &mut [f64]| {
                    load_x(j, y0);
                    identity_into(&mut y0[d..], d);
                };
                integrate_lanes(
                    &mut Independent(systems),
                    a,
                    b,
                    jobs,
                    opts,
                    load,
                    &mut store,
                )
            }
        }
        match first_err {
            Some((_, e)) => Err(e.into()),
            None => Ok(stats),
        }
    }

    /// [`ExactFlow::map_slice`] in parallel over blocks of points (rayon, outer loop
    /// only), calling `progress(points)` from the worker threads as each block is done;
    /// the results do not depend on the number of threads.
    ///
    /// ```
    /// use flowcert::dynamics::{ExactFlow, solver::SolverOptions};
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let f = ExactFlow::new(&mix, SolverOptions::default().check().unwrap());
    /// let done = std::sync::atomic::AtomicUsize::new(0);
    /// let mut ys = [0.0; 6];
    /// let count = |k| { done.fetch_add(k, std::sync::atomic::Ordering::Relaxed); };
    /// f.map_slice_par(&[0.1, 0.2, -0.3, 0.4, 1.0, 0.0], 2.0, 0.05, &mut ys, None, &count).unwrap();
    /// assert_eq!(done.into_inner(), 3);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`ExactFlow::map_slice`].
    pub fn map_slice_par(
        &self,
        xs: &[f64],
        from: f64,
        to: f64,
        ys: &mut [f64],
        jac: Option<&mut [f64]>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<SolverStats, FlowError> {
        let d = self.mix.dim();
        let jobs = self.check_lengths(xs, ys, jac.as_deref())?;
        // Enough blocks for the threads to balance, each long enough to fill its lanes.
        let block = jobs
            .div_ceil(8 * rayon::current_num_threads())
            .clamp(4 * LANES, 4096);
        let results: Vec<Result<SolverStats, FlowError>> = match jac {
            None => xs
                .par_chunks(block * d)
                .zip(ys.par_chunks_mut(block * d))
                .map(|(x, y)| {
                    let r = self.map_slice(x, from, to, y, None);
                    progress(y.len() / d);
                    r
                })
                .collect(),
            Some(jac) => xs
                .par_chunks(block * d)
                .zip(ys.par_chunks_mut(block * d))
                .zip(jac.par_chunks_mut(block * d * d))
                .map(|((x, y), j)| {
                    let r = self.map_slice(x, from, to, y, Some(j));
                    progress(y.len() / d);
                    r
                })
                .collect(),
        };
        let mut stats = SolverStats::default();
        for r in results {
            stats += r?;
        }
        Ok(stats)
    }

    /// The number of points in `xs`, after checking that `ys` and `jac` fit it.
    fn check_lengths(
        &self,
        xs: &[f64],
        ys: &[f64],
        jac: Option<&[f64]>,
    ) -> Result<usize, SolverError> {
        let d = self.mix.dim();
        let jobs = xs.len() / d.max(1);
        let mismatch =
            |expected: usize, got: usize| SolverError::DimensionMismatch { expected, got };
        if xs.len() != jobs * d {
            return Err(mismatch(jobs * d, xs.len()));
        }
        if ys.len() != xs.len() {
            return Err(mismatch(xs.len(), ys.len()));
        }
        if let Some(j) = jac
            && j.len() != jobs * d * d
        {
            return Err(mismatch(jobs * d * d, j.len()));
        }
        Ok(jobs)
    }
}

/// Writes the d x d identity, column-major, into `m`.
fn identity_into(m: &mut [f64], d: usize) {
    m.fill(0.0);
    for i in 0..d {
        m[i * d + i] = 1.0;
    }
}
