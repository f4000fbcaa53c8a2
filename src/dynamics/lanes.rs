//! Many trajectories of one ODE, integrated side by side ("lanes").
//!
//! A single trajectory of the PF-ODE is one long chain of dependent operations: each
//! right-hand side needs exponentials and logarithms of the time, a log-sum-exp over the
//! components and divisions, each waiting for the previous result, and each stage of a
//! Runge-Kutta step waits for the previous stage. A processor executes such a chain far
//! below its throughput. [`integrate_lanes`] keeps `L` independent trajectories in flight
//! and asks the system for the `L` right-hand sides of one round together
//! ([`OdeLanes::rhs_lanes`]), so that their chains interleave; a lane whose trajectory
//! ends takes the next one at once. Each lane runs the same step code as
//! [`integrate`](super::solver::integrate), with the same floating-point operations in
//! the same order, so every trajectory's result and work counts are bitwise those of a
//! solve on its own, whatever the number of lanes or the order of completion.

use super::solver::{OdeSystem, SolverError, SolverStats, ValidSolverOptions};
use super::stepper::{Next, Stepper};
use crate::model::MarginalLanes;

/// A right-hand side `f_l(t, y)` evaluated for several lanes at once. Lane `l` may keep
/// its own scratch (e.g. the time-dependent factors of the last time it saw).
pub trait OdeLanes {
    /// Dimension `n` of each lane's state.
    fn dim(&self) -> usize;
    /// Number of lanes `L` (at least 1).
    fn lanes(&self) -> usize;
    /// For every lane `l` in `active` (increasing, distinct, `< L`): writes
    /// `f(t[l], y[l n..(l + 1) n])` into `dy[l n..(l + 1) n]`. Entries of inactive lanes
    /// are left alone.
    fn rhs_lanes(&mut self, active: &[usize], t: &[f64], y: &[f64], dy: &mut [f64]);
}

/// Lanes made of independent [`OdeSystem`]s, evaluated one after the other (e.g. the
/// PF-ODE with its variational equation, [`FlowSystem`](super::FlowSystem)).
///
/// ```
/// use flowcert::dynamics::{integrate_lanes, Independent, OdeSystem, SolverOptions};
/// struct Decay;
/// impl OdeSystem for Decay {
///     fn dim(&self) -> usize { 1 }
///     fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) { dy[0] = -y[0]; }
/// }
/// let mut lanes = Independent(vec![Decay, Decay]);
/// let mut ys = vec![0.0; 3];
/// let opts = SolverOptions::default().check().unwrap();
/// integrate_lanes(&mut lanes, 0.0, 1.0, 3, &opts,
///     |j, y0| y0[0] = j as f64,
///     |j, y, r| { r.unwrap(); ys[j] = y[0]; });
/// assert!((ys[2] - 2.0 * (-1.0f64).exp()).abs() < 1e-9);
/// ```
pub struct Independent<S: OdeSystem>(pub Vec<S>);

impl<S: OdeSystem> OdeLanes for Independent<S> {
    fn dim(&self) -> usize {
        self.0.first().map_or(0, OdeSystem::dim)
    }

    fn lanes(&self) -> usize {
        self.0.len()
    }

    fn rhs_lanes(&mut self, active: &[usize], t: &[f64], y: &[f64], dy: &mut [f64]) {
        let n = self.dim();
        for &l in active {
            let r = l * n..(l + 1) * n;
            self.0[l].rhs(t[l], &y[r.clone()], &mut dy[r]);
        }
    }
}

/// The exact PF-ODE of a mixture, `dx/dt = v(x, t)`, in lanes ([`MarginalLanes`]).
impl OdeLanes for MarginalLanes<'_> {
    fn dim(&self) -> usize {
        self.mixture().dim()
    }

    fn lanes(&self) -> usize {
        MarginalLanes::lanes(self)
    }

    /// Evaluates every lane (inactive ones on stale inputs, results unused): the passes
    /// over all lanes vectorise better than a gather of the active ones.
    #[inline]
    fn rhs_lanes(&mut self, _active: &[usize], t: &[f64], y: &[f64], dy: &mut [f64]) {
        self.velocities(t, y, dy);
    }
}

/// Integrates `jobs` trajectories of `sys` from `t0` to `t1`, `sys.lanes()` at a time.
///
/// `load(j, y0)` writes the initial state of trajectory `j` (jobs start in increasing
/// order); `finish(j, y, result)` receives its end state (the last accepted state on
/// failure, as for [`integrate`](super::solver::integrate)) and its work or error.
/// Trajectories finish in no particular order, but each one's result is bitwise that of
/// `integrate` on it alone. After the first failure no further trajectory is started
/// (those in flight are completed), so every trajectory before the failed one finishes:
/// the failure with the smallest index is the one a serial loop would have met first.
///
/// ```
/// use flowcert::dynamics::{integrate, integrate_lanes, FlowSystem, SolverOptions};
/// use flowcert::model::{builtin, Marginal, MarginalLanes};
/// let mix = builtin::two_mode(0.1);
/// let opts = SolverOptions::default().check().unwrap();
/// let starts = [[0.3, 0.1], [-1.0, 0.5], [2.0, -0.2]];
/// let mut lanes = MarginalLanes::new(&mix, 2);
/// let mut ends = vec![[0.0; 2]; 3];
/// integrate_lanes(&mut lanes, 1.0, 0.05, 3, &opts,
///     |j, y0| y0.copy_from_slice(&starts[j]),
///     |j, y, r| { r.unwrap(); ends[j].copy_from_slice(y); });
/// let mut field = Marginal::new(&mix, 1.0).unwrap();
/// let mut y = starts[1];
/// integrate(&mut FlowSystem::new(&mut field, false), 1.0, 0.05, &mut y, &opts).unwrap();
/// assert_eq!(y, ends[1]); // bitwise
/// ```
pub fn integrate_lanes<S: OdeLanes>(
    sys: &mut S,
    t0: f64,
    t1: f64,
    jobs: usize,
    opts: &ValidSolverOptions,
    mut load: impl FnMut(usize, &mut [f64]),
    mut finish: impl FnMut(usize, &[f64], Result<SolverStats, SolverError>),
) {
    let (n, lanes) = (sys.dim(), sys.lanes());
    let mut steppers: Vec<Stepper> = (0..lanes).map(|_| Stepper::new(opts, n)).collect();
    let mut job_of = vec![0; lanes];
    let mut t = vec![0.0; lanes];
    let mut input = vec![0.0; lanes * n];
    let mut f = vec![0.0; lanes * n];
    let mut queue = Queue {
        t: (t0, t1),
        next: 0,
        jobs,
        failed: false,
        y0: vec![0.0; n],
    };
    let mut active: Vec<usize> = Vec::with_capacity(lanes);
    for (l, stepper) in steppers.iter_mut().enumerate() {
        let slot = &mut input[l * n..(l + 1) * n];
        if let Some((te, j)) = queue.launch(stepper, slot, &mut load, &mut finish) {
            (t[l], job_of[l]) = (te, j);
            active.push(l);
        }
    }
    while !active.is_empty() {
        sys.rhs_lanes(&active, &t, &input, &mut f);
        let mut still = 0;
        for i in 0..active.len() {
            let l = active[i];
            let (slot, fl) = (&mut input[l * n..(l + 1) * n], &f[l * n..(l + 1) * n]);
            let stepper = &mut steppers[l];
            let next = match stepper.advance(fl, slot) {
                Next::Eval(te) => Some((te, job_of[l])),
                Next::Done(r) => {
                    queue.failed |= r.is_err();
                    finish(job_of[l], stepper.y(), r);
                    queue.launch(stepper, slot, &mut load, &mut finish)
                }
            };
            if let Some((te, j)) = next {
                (t[l], job_of[l]) = (te, j);
                active[still] = l;
                still += 1;
            }
        }
        active.truncate(still);
    }
}

/// The jobs not yet started.
struct Queue {
    t: (f64, f64),
    next: usize,
    jobs: usize,
    failed: bool,
    y0: Vec<f64>,
}

impl Queue {
    /// Start the next job on `stepper`: `Some((time of its first evaluation, job))`, or
    /// `None` when no job is left or one has failed. Jobs that end without any evaluation
    /// (an empty interval, a non-finite start) are finished on the spot.
    fn launch(
        &mut self,
        stepper: &mut Stepper,
        input: &mut [f64],
        load: &mut impl FnMut(usize, &mut [f64]),
        finish: &mut impl FnMut(usize, &[f64], Result<SolverStats, SolverError>),
    ) -> Option<(f64, usize)> {
        while !self.failed && self.next < self.jobs {
            let j = self.next;
            self.next += 1;
            load(j, &mut self.y0);
            match stepper.start(self.t.0, self.t.1, &self.y0, input) {
                Next::Eval(te) => return Some((te, j)),
                Next::Done(r) => {
                    self.failed |= r.is_err();
                    finish(j, stepper.y(), r);
                }
            }
        }
        None
    }
}
