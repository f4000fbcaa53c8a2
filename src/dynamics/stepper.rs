//! One trajectory of the adaptive Runge-Kutta solver as a resumable state machine.
//!
//! [`Stepper`] holds everything `integrate` used to keep on its stack (state, stage
//! derivatives, controller memory, work counts) and stops whenever it needs the
//! right-hand side: [`Stepper::start`] and [`Stepper::advance`] return
//! [`Next::Eval`]`(t)` after writing the state to evaluate at into the caller's input
//! buffer, and the caller hands `f(t, input)` back to `advance`. Driving one stepper in a
//! loop is [`integrate`](super::solver::integrate); driving several side by side, one
//! right-hand side evaluation per stepper per round, is
//! [`integrate_lanes`](super::lanes::integrate_lanes), which lets the processor overlap
//! the long dependency chains (exponentials, logarithms, divisions) of independent
//! trajectories. Both paths execute the same floating-point operations in the same order
//! for a given trajectory, so their results are bitwise equal.
//!
//! The method, error norm, step-size control and failure rules are documented in
//! `solver.rs`; the code below is their only implementation.

use super::pairs::{Estimator, Pair};
use super::solver::{SolverError, SolverStats, ValidSolverOptions};

/// Safety factor of the step-size controller.
const SAFETY: f64 = 0.9;

/// What a [`Stepper`] needs next.
#[derive(Debug)]
pub(super) enum Next {
    /// Evaluate the right-hand side at this time on the input buffer just written, and
    /// pass the result to [`Stepper::advance`].
    Eval(f64),
    /// The trajectory is finished: its work, or why it failed. [`Stepper::y`] holds the
    /// state at `t1`, or the last accepted state on failure.
    Done(Result<SolverStats, SolverError>),
}

/// Which right-hand side evaluation the stepper waits for.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// `f(t0, y0)`.
    Start,
    /// `f` at the explicit Euler probe of the initial-step heuristic.
    Probe,
    /// Stage `s >= 1` of the current step.
    Stage(usize),
    /// `f` at the end point of an accepted step (pairs without FSAL).
    NewPoint,
}

/// The state of one trajectory; buffers are reused from one trajectory to the next.
pub(super) struct Stepper {
    pair: &'static Pair,
    opts: ValidSolverOptions,
    n: usize,
    /// Current (last accepted) state.
    y: Vec<f64>,
    /// Stage derivatives, component-major: `kt[i * stages + s] = k_s[i]`, so that the
    /// combinations `sum_j w_j k_j[i]` read contiguous memory.
    kt: Vec<f64>,
    /// Propagated solution of the current attempt.
    ynew: Vec<f64>,
    t: f64,
    t1: f64,
    dir: f64,
    hmax: f64,
    h: f64,
    /// Controller memory: err of the last accepted step (floored) for the PI factor, and
    /// (h, err) of the last accepted step for Gustafsson's predictive factor.
    err_old: f64,
    last_accepted: Option<(f64, f64)>,
    rejected_last: bool,
    nonfinite_last: bool,
    /// The current attempt ends on `t1`.
    last: bool,
    /// Error estimate and end time of the accepted step whose end point is evaluated.
    err: f64,
    t_new: f64,
    /// Initial-step heuristic: probe step and `||f0||^2` (weighted mean square).
    probe_h: f64,
    probe_dnf: f64,
    stats: SolverStats,
    phase: Phase,
}

impl Stepper {
    /// A stepper for systems of dimension `n` at `opts`.
    pub(super) fn new(opts: &ValidSolverOptions, n: usize) -> Self {
        let pair = opts.method().pair();
        Stepper {
            pair,
            opts: *opts,
            n,
            y: vec![0.0; n],
            kt: vec![0.0; pair.stages() * n],
            ynew: vec![0.0; n],
            t: 0.0,
            t1: 0.0,
            dir: 1.0,
            hmax: 0.0,
            h: 0.0,
            err_old: 1e-4,
            last_accepted: None,
            rejected_last: false,
            nonfinite_last: false,
            last: false,
            err: 0.0,
            t_new: 0.0,
            probe_h: 0.0,
            probe_dnf: 0.0,
            stats: SolverStats::default(),
            phase: Phase::Start,
        }
    }

    /// The current state: `y(t1)` after success, the last accepted state after a failure.
    pub(super) fn y(&self) -> &[f64] {
        &self.y
    }

    /// The time of the current (last accepted) state; it changes exactly when a step is
    /// accepted.
    pub(super) fn t(&self) -> f64 {
        self.t
    }

    /// Begin a trajectory from `y0` (length `n`) at `t0` towards `t1`. On
    /// [`Next::Eval`] the input to evaluate has been written into `input` (length `n`).
    pub(super) fn start(&mut self, t0: f64, t1: f64, y0: &[f64], input: &mut [f64]) -> Next {
        self.y.copy_from_slice(y0);
        self.stats = SolverStats::default();
        if !(t0.is_finite() && t1.is_finite()) {
            return Next::Done(Err(SolverError::NonFiniteInterval { t0, t1 }));
        }
        if t0 == t1 || self.n == 0 {
            return Next::Done(Ok(self.stats));
        }
        if !all_finite(&self.y) {
            return Next::Done(Err(SolverError::NonFinite { t: t0 }));
        }
        self.t = t0;
        self.t1 = t1;
        self.dir = (t1 - t0).signum();
        self.hmax = (t1 - t0).abs();
        self.err_old = 1e-4;
        self.last_accepted = None;
        self.rejected_last = false;
        self.nonfinite_last = false;
        self.phase = Phase::Start;
        input.copy_from_slice(&self.y);
        Next::Eval(t0)
    }

    /// Take `f`, the right-hand side requested by the last [`Next::Eval`], and go on until
    /// the next evaluation is needed (written into `input`) or the trajectory ends.
    pub(super) fn advance(&mut self, f: &[f64], input: &mut [f64]) -> Next {
        match self.phase {
            Phase::Start => {
                self.stats.rhs_evals += 1;
                if !all_finite(f) {
                    return Next::Done(Err(SolverError::NonFinite { t: self.t }));
                }
                self.store_stage(0, f);
                match self.opts.initial_step() {
                    Some(h) => {
                        self.h = h.min(self.hmax) * self.dir;
                        self.begin_attempt(input)
                    }
                    None => {
                        self.stats.rhs_evals += 1;
                        self.phase = Phase::Probe;
                        Next::Eval(self.initial_step_probe(f, input))
                    }
                }
            }
            Phase::Probe => {
                self.h = self.initial_step_finish(f) * self.dir;
                self.begin_attempt(input)
            }
            Phase::Stage(s) => {
                self.store_stage(s, f);
                if s + 1 < self.pair.stages() {
                    self.stage_input(s + 1, input);
                    self.phase = Phase::Stage(s + 1);
                    Next::Eval(self.t + self.pair.c[s + 1] * self.h)
                } else {
                    self.finish_attempt(input)
                }
            }
            Phase::NewPoint => {
                self.stats.rhs_evals += 1;
                if !all_finite(f) {
                    return Next::Done(Err(SolverError::NonFinite { t: self.t_new }));
                }
                self.store_stage(0, f);
                self.t = self.t_new;
                if self.last {
                    return Next::Done(Ok(self.stats));
                }
                self.update_step_size();
                self.begin_attempt(input)
            }
        }
    }

    /// `k_s <- f`.
    #[inline]
    fn store_stage(&mut self, s: usize, f: &[f64]) {
        let stages = self.pair.stages();
        for (row, &fi) in self.kt.chunks_exact_mut(stages).zip(f) {
            row[s] = fi;
        }
    }

    /// Check the step budget and the step size, clip the step to `t1`, and request the
    /// first new stage.
    fn begin_attempt(&mut self, input: &mut [f64]) -> Next {
        let (t, h) = (self.t, self.h);
        let max_steps = self.opts.max_steps();
        if self.stats.steps + self.stats.rejected >= max_steps {
            return Next::Done(Err(SolverError::MaxStepsExceeded {
                t,
                t1: self.t1,
                max_steps,
            }));
        }
        if 0.1 * h.abs() <= t.abs() * f64::EPSILON || h.abs() < f64::MIN_POSITIVE {
            return Next::Done(Err(if self.nonfinite_last {
                SolverError::NonFinite { t }
            } else {
                SolverError::StepSizeUnderflow { t, h }
            }));
        }
        self.last = (t + 1.01 * h - self.t1) * self.dir > 0.0;
        if self.last {
            self.h = self.t1 - t;
        }
        self.stage_input(1, input);
        self.phase = Phase::Stage(1);
        Next::Eval(self.t + self.pair.c[1] * self.h)
    }

    /// The input of stage `s`: `y + h sum_{j<s} a_{s,j} k_j` (for the last stage of an
    /// FSAL pair this is the propagated solution, kept in `ynew`).
    #[inline]
    fn stage_input(&mut self, s: usize, input: &mut [f64]) {
        let (pair, stages) = (self.pair, self.pair.stages());
        if pair.fsal && s == stages - 1 {
            combine(&self.y, self.h, pair.a[s], &self.kt, stages, &mut self.ynew);
            input.copy_from_slice(&self.ynew);
        } else {
            combine(&self.y, self.h, pair.a[s], &self.kt, stages, input);
        }
    }

    /// All stages are in: estimate the error, accept or reject, go on.
    fn finish_attempt(&mut self, input: &mut [f64]) -> Next {
        let (pair, stages) = (self.pair, self.pair.stages());
        if !pair.fsal {
            combine(&self.y, self.h, pair.b, &self.kt, stages, &mut self.ynew);
        }
        let err = error_norm(
            pair,
            self.h,
            &self.y,
            &self.kt,
            &self.ynew,
            self.opts.rtol(),
            self.opts.atol(),
        );
        self.stats.rhs_evals += stages - 1;
        if err <= 1.0 {
            self.stats.steps += 1;
            self.err = err;
            self.t_new = if self.last { self.t1 } else { self.t + self.h };
            self.y.copy_from_slice(&self.ynew);
            if pair.fsal {
                // FSAL: k_0 <- k_{stages-1}.
                for row in self.kt.chunks_exact_mut(stages) {
                    row[0] = row[stages - 1];
                }
                self.t = self.t_new;
                if self.last {
                    return Next::Done(Ok(self.stats));
                }
                self.update_step_size();
                self.begin_attempt(input)
            } else {
                input.copy_from_slice(&self.y);
                self.phase = Phase::NewPoint;
                Next::Eval(self.t_new)
            }
        } else {
            self.stats.rejected += 1;
            self.nonfinite_last = !err.is_finite();
            let shrink = if self.nonfinite_last {
                pair.fac_min
            } else {
                (SAFETY * err.powf(-pair.alpha)).max(pair.fac_min)
            };
            self.h *= shrink;
            self.rejected_last = true;
            self.begin_attempt(input)
        }
    }

    /// The next step size after an accepted step of size `h` with estimate `err`: the
    /// smaller of the PI and the predictive proposals, clamped (see `solver.rs`).
    fn update_step_size(&mut self) {
        let (pair, h, err) = (self.pair, self.h, self.err);
        let mut grow = SAFETY * err.powf(-pair.alpha);
        // x^0 = 1 for every x (NaN included), and multiplying by 1 is exact: skip the call.
        if pair.beta != 0.0 {
            grow *= self.err_old.powf(pair.beta);
        }
        if let Some((h_acc, err_acc)) = self.last_accepted {
            let k = f64::from(pair.order);
            grow = grow.min(SAFETY * (h / h_acc) * (err_acc / (err * err)).powf(1.0 / k));
        }
        let mut h_new = h * grow.clamp(pair.fac_min, pair.fac_max);
        self.err_old = err.max(1e-4);
        self.last_accepted = Some((h, err.max(1e-2)));
        if h_new.abs() > self.hmax {
            h_new = self.hmax * self.dir;
        }
        if self.rejected_last && h_new.abs() > h.abs() {
            h_new = h;
        }
        self.h = h_new;
        self.rejected_last = false;
        self.nonfinite_last = false;
    }

    /// First half of Hairer's starting step (`hinit` of `dopri5.f`/`dop853.f`), RMS norms
    /// weighted by `sk_i = atol + rtol |y0_i|`: the guess `h = 0.01 ||y0|| / ||f0||` and
    /// the explicit Euler probe `y0 + dir h f0`, written into `input`. Returns the time
    /// at which `f` is to be evaluated.
    fn initial_step_probe(&mut self, f0: &[f64], input: &mut [f64]) -> f64 {
        let (y0, rtol, atol) = (&self.y, self.opts.rtol(), self.opts.atol());
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
        h = h.min(self.hmax);
        for i in 0..y0.len() {
            input[i] = y0[i] + self.dir * h * f0[i];
        }
        self.probe_h = h;
        self.probe_dnf = dnf;
        self.t + self.dir * h
    }

    /// Second half of `hinit`: from `f1` at the probe, estimate `||y''||` and return
    /// `min(100 h, (0.01 / max(||y''||, ||f0||))^(1/p), |t1 - t0|)` (a positive size).
    fn initial_step_finish(&self, f1: &[f64]) -> f64 {
        let (y0, rtol, atol) = (&self.y, self.opts.rtol(), self.opts.atol());
        let (h, dnf, stages) = (self.probe_h, self.probe_dnf, self.pair.stages());
        let n = y0.len() as f64;
        let sk = |i: usize| atol + rtol * y0[i].abs();
        let mut d2 = 0.0;
        // f0 is stage 0 of `kt`, stored before the probe.
        for (i, (&f1i, row)) in f1.iter().zip(self.kt.chunks_exact(stages)).enumerate() {
            d2 += ((f1i - row[0]) / sk(i)).powi(2);
        }
        let der2 = (d2 / n).sqrt() / h;
        // `f64::max` ignores a NaN `der2` (non-finite f1): fall back on ||f0||.
        let der12 = der2.max(dnf.sqrt());
        let h1 = if der12 <= 1e-15 {
            (h * 1e-3).max(1e-6)
        } else {
            (0.01 / der12).powf(1.0 / f64::from(self.pair.order))
        };
        (100.0 * h).min(h1).min(self.hmax)
    }
}

/// The error norm of one attempt (see `solver.rs`); NaN if the estimate or `ynew` is not
/// finite.
pub(super) fn error_norm(
    pair: &Pair,
    h: f64,
    y: &[f64],
    kt: &[f64],
    ynew: &[f64],
    rtol: f64,
    atol: f64,
) -> f64 {
    if !all_finite(ynew) {
        return f64::NAN;
    }
    let rows = kt.chunks_exact(pair.stages()).zip(y).zip(ynew);
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
///
/// Each sum runs over `j` in increasing order from `0.0`, operation for operation
/// [`dot`]; for two components (the PF-ODE in the plane) both sums advance in one loop,
/// two independent chains of additions that the processor overlaps.
#[inline(always)]
pub(super) fn combine(y: &[f64], h: f64, w: &[f64], kt: &[f64], stages: usize, out: &mut [f64]) {
    if let ([y0, y1], [o0, o1, ..]) = (y, &mut *out) {
        let (r0, r1) = kt[..2 * stages].split_at(stages);
        let (mut a0, mut a1) = (0.0, 0.0);
        for ((&wj, &k0), &k1) in w.iter().zip(r0).zip(r1) {
            a0 += wj * k0;
            a1 += wj * k1;
        }
        (*o0, *o1) = (y0 + h * a0, y1 + h * a1);
        return;
    }
    for ((o, &yi), row) in out.iter_mut().zip(y).zip(kt.chunks_exact(stages)) {
        *o = yi + h * dot(w, row);
    }
}

pub(super) fn all_finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}
