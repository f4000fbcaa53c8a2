//! The embedded Runge-Kutta pairs of the teacher solver: Butcher tableaux and the
//! controller constants that go with them (see `solver.rs` for the method, error norm and
//! step-size control they plug into).

use super::dop853;
use super::solver::Method;

/// How a pair estimates its local error.
pub(super) enum Estimator {
    /// `e = h sum_j E[j] k_j`, RMS-normed (Dopri5).
    Embedded(&'static [f64]),
    /// Hairer's combination of a 5th- and a 3rd-order estimate (Dop853).
    Stretched53 {
        e5: &'static [f64],
        e3: &'static [f64],
    },
}

/// An explicit embedded Runge-Kutta pair together with its controller constants.
pub(super) struct Pair {
    /// Nodes `c_s`.
    pub(super) c: &'static [f64],
    /// Row `s` holds `a_{s,0..s}`.
    pub(super) a: &'static [&'static [f64]],
    /// Weights of the propagated solution.
    pub(super) b: &'static [f64],
    /// If true, the last stage is evaluated at `(t + h, y_new)` (its row of `a` is `b`),
    /// so its derivative is the first stage of the next step.
    pub(super) fsal: bool,
    pub(super) estimator: Estimator,
    /// Order `k` of the error estimate (`err = O(h^k)`), used by the initial-step
    /// heuristic and the predictive controller.
    pub(super) order: i32,
    /// Exponent `alpha` and PI weight `beta` of the controller.
    pub(super) alpha: f64,
    pub(super) beta: f64,
    /// Bounds on `h_new / h`.
    pub(super) fac_min: f64,
    pub(super) fac_max: f64,
}

impl Pair {
    pub(super) fn stages(&self) -> usize {
        self.c.len()
    }
}

/// Dopri5 row sums: `c = (0, 1/5, 3/10, 4/5, 8/9, 1, 1)`.
const DOPRI5_C: [f64; 7] = [0.0, 0.2, 0.3, 0.8, 8.0 / 9.0, 1.0, 1.0];
pub(super) const DOPRI5_B: [f64; 7] = [
    35.0 / 384.0,
    0.0,
    500.0 / 1113.0,
    125.0 / 192.0,
    -2187.0 / 6784.0,
    11.0 / 84.0,
    0.0,
];
pub(super) const DOPRI5_A: [&[f64]; 7] = [
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
pub(super) const DOPRI5_E: [f64; 7] = [
    71.0 / 57600.0,
    0.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];

pub(super) const DOPRI5: Pair = Pair {
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

pub(super) const DOP853: Pair = Pair {
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
    /// The tableau and controller constants of this method.
    pub(super) fn pair(self) -> &'static Pair {
        match self {
            Method::Dopri5 => &DOPRI5,
            Method::Dop853 => &DOP853,
        }
    }
}

#[cfg(test)]
mod tests {
    //! Order conditions of the tableaux: these catch any mis-transcribed coefficient.
    use super::*;
    use crate::dynamics::solver::OdeSystem;
    use crate::dynamics::stepper::{combine, error_norm};
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
        let (n, stages) = (y.len(), pair.stages());
        let mut kt = vec![0.0; stages * n];
        let (mut f, mut input, mut ynew) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let store = |kt: &mut [f64], s: usize, f: &[f64]| {
            for (row, &fi) in kt.chunks_exact_mut(stages).zip(f) {
                row[s] = fi;
            }
        };
        let h = (t1 - t0) / steps as f64;
        let mut est: f64 = 0.0;
        for step in 0..steps {
            let t = t0 + step as f64 * h;
            sys.rhs(t, y, &mut f);
            store(&mut kt, 0, &f);
            for s in 1..stages {
                combine(y, h, pair.a[s], &kt, stages, &mut input);
                sys.rhs(t + pair.c[s] * h, &input, &mut f);
                store(&mut kt, s, &f);
            }
            // FSAL pairs: the last stage's input is the propagated solution.
            let b = if pair.fsal {
                pair.a[stages - 1]
            } else {
                pair.b
            };
            combine(y, h, b, &kt, stages, &mut ynew);
            est = est.max(error_norm(pair, h, y, &kt, &ynew, 1.0, 1.0));
            y.copy_from_slice(&ynew);
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
