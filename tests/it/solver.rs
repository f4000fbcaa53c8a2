//! The teacher ODE solver against problems that carry their own answers: closed-form
//! linear, oscillatory and nonautonomous flows in both time directions, tolerance
//! proportionality, the RK4 reference, failure modes, and random linear systems.

use flowcert::dynamics::solver::{
    MIN_RTOL, Method, OdeSystem, SolverError, SolverOptions, SolverStats, ValidSolverOptions,
    integrate, integrate_rk4_fixed,
};
use flowcert::tolerance::{ODE_ATOL, ODE_GLOBAL_FACTOR, ODE_ORDER_SLACK, ODE_RTOL};
use proptest::prelude::*;

const METHODS: [Method; 2] = [Method::Dopri5, Method::Dop853];

/// A test problem with a closed-form solution defined for every `t`.
trait Closed: OdeSystem {
    /// Writes `y(t)` into `out`.
    fn exact(&self, t: f64, out: &mut [f64]);
}

/// `y' = lambda y`, `y(t) = exp(lambda t)`.
struct Linear {
    lambda: f64,
}
impl OdeSystem for Linear {
    fn dim(&self) -> usize {
        1
    }
    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) {
        dy[0] = self.lambda * y[0];
    }
}
impl Closed for Linear {
    fn exact(&self, t: f64, out: &mut [f64]) {
        out[0] = (self.lambda * t).exp();
    }
}

/// `x'' = -omega^2 x` as `(x, v)`: `x = cos(omega t)`, `v = -omega sin(omega t)`.
struct Oscillator {
    omega: f64,
}
impl OdeSystem for Oscillator {
    fn dim(&self) -> usize {
        2
    }
    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) {
        dy[0] = y[1];
        dy[1] = -self.omega * self.omega * y[0];
    }
}
impl Closed for Oscillator {
    fn exact(&self, t: f64, out: &mut [f64]) {
        out[0] = (self.omega * t).cos();
        out[1] = -self.omega * (self.omega * t).sin();
    }
}

/// `y' = -2 t y` (nonautonomous), `y(t) = exp(-t^2)`.
struct Gaussian;
impl OdeSystem for Gaussian {
    fn dim(&self) -> usize {
        1
    }
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) {
        dy[0] = -2.0 * t * y[0];
    }
}
impl Closed for Gaussian {
    fn exact(&self, t: f64, out: &mut [f64]) {
        out[0] = (-t * t).exp();
    }
}

/// `y' = y^2`: from `y(0) = 1` the solution `1 / (1 - t)` blows up at `t = 1`.
struct Riccati;
impl OdeSystem for Riccati {
    fn dim(&self) -> usize {
        1
    }
    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) {
        dy[0] = y[0] * y[0];
    }
}

/// `y' = -y` for `t < t_bad`, NaN from `t_bad` on.
struct NanAfter {
    t_bad: f64,
}
impl OdeSystem for NanAfter {
    fn dim(&self) -> usize {
        1
    }
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) {
        dy[0] = if t < self.t_bad { -y[0] } else { f64::NAN };
    }
}

/// `y' = A y` with a dense row-major `A`.
#[derive(Debug, Clone)]
struct LinearSystem {
    a: Vec<f64>,
    n: usize,
}
impl OdeSystem for LinearSystem {
    fn dim(&self) -> usize {
        self.n
    }
    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) {
        for (row, d) in self.a.chunks_exact(self.n).zip(dy.iter_mut()) {
            *d = row.iter().zip(y).map(|(a, y)| a * y).sum();
        }
    }
}

/// Counts the evaluations of the wrapped system, to audit [`SolverStats`].
struct Counted<S> {
    inner: S,
    evals: usize,
}
impl<S: OdeSystem> OdeSystem for Counted<S> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) {
        self.evals += 1;
        self.inner.rhs(t, y, dy);
    }
}

fn options(method: Method, tol: f64) -> ValidSolverOptions {
    crate::common::solver_options(method, tol)
}

/// The evaluation count [`SolverStats`] documents for a solve with `t0 != t1`.
fn expected_evals(method: Method, stats: &SolverStats, auto_initial_step: bool) -> usize {
    let per_step = match method {
        Method::Dopri5 => 6 * stats.steps + 6 * stats.rejected,
        Method::Dop853 => 12 * stats.steps + 11 * stats.rejected,
    };
    1 + usize::from(auto_initial_step) + per_step
}

/// Largest componentwise error in units of the tolerance `atol + rtol |y(t1)|_inf`.
fn error_in_tol_units(got: &[f64], exact: &[f64], rtol: f64, atol: f64) -> f64 {
    let scale = exact.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let err = got
        .iter()
        .zip(exact)
        .fold(0.0_f64, |m, (g, e)| m.max((g - e).abs()));
    err / (atol + rtol * scale)
}

/// Solves `problem` from `y(t0)` to `t1`, checks the evaluation accounting, and returns
/// the global error in tolerance units together with the stats.
fn solve_closed<S: Closed>(
    problem: S,
    t0: f64,
    t1: f64,
    opts: &ValidSolverOptions,
) -> (f64, SolverStats) {
    let n = problem.dim();
    let mut y = vec![0.0; n];
    let mut exact = vec![0.0; n];
    problem.exact(t0, &mut y);
    problem.exact(t1, &mut exact);
    let mut sys = Counted {
        inner: problem,
        evals: 0,
    };
    let stats = integrate(&mut sys, t0, t1, &mut y, opts).expect("solve succeeds");
    assert_eq!(
        stats.rhs_evals, sys.evals,
        "stats must count every evaluation"
    );
    assert_eq!(
        stats.rhs_evals,
        expected_evals(opts.method(), &stats, opts.initial_step().is_none()),
        "{stats:?}"
    );
    (
        error_in_tol_units(&y, &exact, opts.rtol(), opts.atol()),
        stats,
    )
}

/// Tight tolerance of the accuracy tests.
const TIGHT: f64 = 1e-11;

#[test]
fn closed_forms_in_both_directions() {
    for method in METHODS {
        let opts = options(method, TIGHT);
        // |lambda (t1 - t0)| <= 3: a flow run against its contraction amplifies the
        // atol-sized local errors like exp(|lambda| |t1 - t0|), which is not the
        // solver's error to judge.
        for (t0, t1) in [(0.0, 2.0), (2.0, 0.0), (-1.0, 1.0)] {
            for lambda in [-1.0, 0.5, -1.5] {
                let (err, stats) = solve_closed(Linear { lambda }, t0, t1, &opts);
                assert!(
                    err <= ODE_GLOBAL_FACTOR,
                    "{method:?} lambda {lambda} [{t0}, {t1}]: error {err} tol units, {stats:?}"
                );
            }
        }
        for (t0, t1) in [(0.0, 20.0), (20.0, 0.0), (3.0, -7.0)] {
            let (err, stats) = solve_closed(Oscillator { omega: 1.5 }, t0, t1, &opts);
            assert!(
                err <= ODE_GLOBAL_FACTOR,
                "{method:?} oscillator [{t0}, {t1}]: error {err} tol units, {stats:?}"
            );
        }
    }
}

#[test]
fn nonautonomous_in_both_directions() {
    for method in METHODS {
        let opts = options(method, TIGHT);
        for (t0, t1) in [(0.0, 2.0), (2.0, 0.0), (2.0, -1.0), (-1.5, 1.5)] {
            let (err, stats) = solve_closed(Gaussian, t0, t1, &opts);
            assert!(
                err <= ODE_GLOBAL_FACTOR,
                "{method:?} exp(-t^2) [{t0}, {t1}]: error {err} tol units, {stats:?}"
            );
        }
    }
}

/// The global error follows the tolerance: lowering rtol = atol by `10^k` lowers the
/// error by about `10^k` (tolerance proportionality), for both pairs.
#[test]
fn error_is_proportional_to_tolerance() {
    const DECADES: i32 = 4;
    for method in METHODS {
        let loose = 1e-6;
        let tight = loose * 10f64.powi(-DECADES);
        let error = |tol: f64| {
            let (units, _) =
                solve_closed(Oscillator { omega: 1.0 }, 0.0, 10.0, &options(method, tol));
            units * tol
        };
        let slope = (error(loose) / error(tight)).log10() / f64::from(DECADES);
        assert!(
            (slope - 1.0).abs() < ODE_ORDER_SLACK,
            "{method:?}: error ~ tol^{slope}"
        );
    }
}

/// The 8th-order pair needs fewer evaluations than Dopri5 at the harness's tolerance.
#[test]
fn dop853_is_cheaper_at_tight_tolerance() {
    let evals = |method| {
        solve_closed(
            Oscillator { omega: 1.0 },
            0.0,
            10.0,
            &options(method, ODE_RTOL),
        )
        .1
        .rhs_evals
    };
    assert!(evals(Method::Dop853) < evals(Method::Dopri5));
}

#[test]
fn given_initial_step_is_used_and_clipped() {
    for method in METHODS {
        for h0 in [1e-4, 1e3] {
            let opts = SolverOptions {
                method,
                initial_step: Some(h0),
                ..Default::default()
            }
            .check()
            .unwrap();
            let (err, _) = solve_closed(Gaussian, 1.0, -1.0, &opts);
            assert!(err <= ODE_GLOBAL_FACTOR, "{method:?} h0 = {h0}: {err}");
        }
    }
}

#[test]
fn empty_interval_does_nothing() {
    let mut sys = Counted {
        inner: Gaussian,
        evals: 0,
    };
    let mut y = [0.3];
    let stats = integrate(&mut sys, 1.0, 1.0, &mut y, &ValidSolverOptions::default()).unwrap();
    assert_eq!((stats, sys.evals, y), (SolverStats::default(), 0, [0.3]));
}

#[test]
fn rk4_reference_matches_closed_forms_with_order_4() {
    const STEPS: usize = 1000;
    fn rk4_error<S: Closed>(mut problem: S, t0: f64, t1: f64, steps: usize) -> f64 {
        let n = problem.dim();
        let (mut y, mut exact) = (vec![0.0; n], vec![0.0; n]);
        problem.exact(t0, &mut y);
        problem.exact(t1, &mut exact);
        let stats = integrate_rk4_fixed(&mut problem, t0, t1, &mut y, steps);
        assert_eq!(
            (stats.steps, stats.rhs_evals, stats.rejected),
            (steps, 4 * steps, 0)
        );
        error_in_tol_units(&y, &exact, ODE_RTOL, ODE_ATOL)
    }
    for (t0, t1) in [(0.0, 3.0), (3.0, 0.0)] {
        assert!(rk4_error(Linear { lambda: -1.0 }, t0, t1, STEPS) <= ODE_GLOBAL_FACTOR);
        assert!(rk4_error(Oscillator { omega: 1.0 }, t0, t1, STEPS) <= ODE_GLOBAL_FACTOR);
        assert!(rk4_error(Gaussian, t0, t1, STEPS) <= ODE_GLOBAL_FACTOR);
    }
    // Convergence order, in the asymptotic range above rounding.
    let coarse = rk4_error(Gaussian, 0.0, 2.0, 50);
    let fine = rk4_error(Gaussian, 0.0, 2.0, 100);
    let order = (coarse / fine).log2();
    assert!((order - 4.0).abs() < ODE_ORDER_SLACK, "RK4 order {order}");
}

#[test]
fn non_finite_times_are_errors() {
    let opts = ValidSolverOptions::default();
    for (t0, t1) in [(f64::NAN, 1.0), (0.0, f64::NAN), (0.0, f64::INFINITY)] {
        let mut sys = Counted {
            inner: Gaussian,
            evals: 0,
        };
        let mut y = [1.0];
        let err = integrate(&mut sys, t0, t1, &mut y, &opts).unwrap_err();
        assert!(
            matches!(err, SolverError::NonFiniteInterval { .. }),
            "{err}"
        );
        assert_eq!((sys.evals, y), (0, [1.0]));
    }
}

#[test]
fn invalid_options_are_rejected_with_a_fix() {
    let base = SolverOptions::default();
    let cases = [
        ("rtol", SolverOptions { rtol: 0.0, ..base }),
        (
            "rtol",
            SolverOptions {
                rtol: -1e-8,
                ..base
            },
        ),
        (
            "rtol",
            SolverOptions {
                rtol: f64::NAN,
                ..base
            },
        ),
        (
            "rtol",
            SolverOptions {
                rtol: f64::INFINITY,
                ..base
            },
        ),
        (
            "rtol",
            SolverOptions {
                rtol: MIN_RTOL / 2.0,
                ..base
            },
        ),
        ("atol", SolverOptions { atol: 0.0, ..base }),
        (
            "atol",
            SolverOptions {
                atol: f64::NAN,
                ..base
            },
        ),
        (
            "max_steps",
            SolverOptions {
                max_steps: 0,
                ..base
            },
        ),
        (
            "initial_step",
            SolverOptions {
                initial_step: Some(0.0),
                ..base
            },
        ),
        (
            "initial_step",
            SolverOptions {
                initial_step: Some(-1e-3),
                ..base
            },
        ),
        (
            "initial_step",
            SolverOptions {
                initial_step: Some(f64::NAN),
                ..base
            },
        ),
    ];
    for (field, opts) in cases {
        let err = opts.check().unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, SolverError::InvalidOption { option, .. } if option == field),
            "{msg}"
        );
        assert!(msg.starts_with(field) && msg.contains("got"), "{msg}");
    }
    assert!(
        SolverOptions {
            rtol: MIN_RTOL,
            ..base
        }
        .check()
        .is_ok()
    );
    assert_eq!(base.check().unwrap(), ValidSolverOptions::default());
}

#[test]
fn max_steps_is_enforced() {
    for method in METHODS {
        let opts = SolverOptions {
            method,
            max_steps: 10,
            ..Default::default()
        }
        .check()
        .unwrap();
        let mut y = [1.0, 0.0];
        let err = integrate(&mut Oscillator { omega: 1.0 }, 0.0, 100.0, &mut y, &opts).unwrap_err();
        match err {
            SolverError::MaxStepsExceeded { t, t1, max_steps } => {
                assert!(t > 0.0 && t < t1 && max_steps == 10, "{err}");
            }
            other => panic!("expected MaxStepsExceeded, got {other}"),
        }
        assert!(err.to_string().contains("raise max_steps"));
        assert!(y.iter().all(|v| v.is_finite()));
    }
}

/// `y' = y^2` from 1 at t = 0 towards t = 2 meets the singularity at t = 1: the step
/// size underflows there, reported as an error (never a panic, never a bogus answer).
#[test]
fn blow_up_is_an_error_at_the_singularity() {
    for method in METHODS {
        for tol in [1e-6, ODE_RTOL] {
            let mut y = [1.0];
            let err = integrate(&mut Riccati, 0.0, 2.0, &mut y, &options(method, tol)).unwrap_err();
            let t = match err {
                SolverError::StepSizeUnderflow { t, .. } | SolverError::NonFinite { t } => t,
                ref other => panic!("{method:?}: unexpected {other}"),
            };
            // y = 1 / (1 - t) loses accuracy like its condition number near t = 1, so
            // compare the singular time, not the state.
            assert!(
                (t - 1.0).abs() <= ODE_GLOBAL_FACTOR * tol,
                "{method:?} tol {tol}: {err}"
            );
        }
    }
}

#[test]
fn non_finite_derivative_is_an_error() {
    for method in METHODS {
        let opts = options(method, ODE_RTOL);
        // NaN from t = 0.5 on: the solver closes in on 0.5, then reports it.
        let mut y = [1.0];
        let err = integrate(&mut NanAfter { t_bad: 0.5 }, 0.0, 1.0, &mut y, &opts).unwrap_err();
        match err {
            SolverError::NonFinite { t } => {
                assert!(t <= 0.5 && 0.5 - t <= ODE_GLOBAL_FACTOR * ODE_RTOL, "{err}");
            }
            ref other => panic!("{method:?}: unexpected {other}"),
        }
        assert!(y[0].is_finite());
        // NaN at the start, and a non-finite initial state.
        let err = integrate(&mut NanAfter { t_bad: 0.0 }, 0.0, 1.0, &mut [1.0], &opts);
        assert_eq!(err, Err(SolverError::NonFinite { t: 0.0 }));
        let err = integrate(&mut Gaussian, 0.0, 1.0, &mut [f64::INFINITY], &opts);
        assert_eq!(err, Err(SolverError::NonFinite { t: 0.0 }));
    }
}

#[test]
fn dimension_mismatch_is_an_error() {
    let err = integrate(
        &mut Oscillator { omega: 1.0 },
        0.0,
        1.0,
        &mut [1.0],
        &ValidSolverOptions::default(),
    );
    assert_eq!(
        err,
        Err(SolverError::DimensionMismatch {
            expected: 2,
            got: 1
        })
    );
}

/// A random linear system `y' = A y` of dimension 1 to 4 with entries of `A` and `y0` in
/// `[-1, 1]`, and an end time in `[-2, 2]`.
fn linear_system() -> impl Strategy<Value = (LinearSystem, Vec<f64>, f64)> {
    (1usize..=4).prop_flat_map(|n| {
        (
            prop::collection::vec(-1.0..1.0f64, n * n),
            prop::collection::vec(-1.0..1.0f64, n),
            -2.0..2.0f64,
        )
            .prop_map(move |(a, y0, t1)| (LinearSystem { a, n }, y0, t1))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Dopri5, Dop853 and fine fixed-step RK4 (step 1e-3) agree on random linear systems.
    #[test]
    fn pairs_agree_with_rk4_on_linear_systems((mut sys, y0, t1) in linear_system()) {
        const RK4_STEPS_PER_UNIT: f64 = 1000.0;
        let rk4_steps = (t1.abs() * RK4_STEPS_PER_UNIT).ceil() as usize;
        let mut reference = y0.clone();
        integrate_rk4_fixed(&mut sys, 0.0, t1, &mut reference, rk4_steps);
        for method in METHODS {
            let mut y = y0.clone();
            integrate(&mut sys, 0.0, t1, &mut y, &options(method, ODE_RTOL)).unwrap();
            let err = error_in_tol_units(&y, &reference, ODE_RTOL, ODE_ATOL);
            prop_assert!(err <= ODE_GLOBAL_FACTOR, "{:?}: {} tol units", method, err);
        }
    }
}
