//! The PF-ODE integrated in the log-SNR (`Clock::LogSnr`): the same flow map as in `t`
//! (closed form for one Gaussian, a tight `t`-clock reference on two modes), batch maps
//! bitwise the single-point ones, the OU coefficients from the log-SNR against the
//! generic path, and a kept mutation (a wrong `dt/d lambda`) that the closed form catches.

use crate::common;

use flowcert::dynamics::{Clock, ExactFlow, LogSnrLanes, Method, OdeLanes, integrate_lanes};
use flowcert::model::process::{GaussianPath, Ou, Process, VpLinear};
use flowcert::model::{MarginalLanes, Mixture, OuCoeffs, builtin};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// K = 1: `x_u - alpha_u mu = Q diag(sqrt(s_j(u) / s_j(t))) Q^T (x_t - alpha_t mu)`.
fn closed_form(
    spectrum: &[f64],
    q: &DMatrix<f64>,
    mu: &DVector<f64>,
    x: &DVector<f64>,
    t: f64,
    u: f64,
) -> (DVector<f64>, DMatrix<f64>) {
    let (ct, cu) = (OuCoeffs::at(t), OuCoeffs::at(u));
    let scale: Vec<f64> = spectrum
        .iter()
        .map(|&l| (cu.s(l) / ct.s(l)).sqrt())
        .collect();
    let a = q * DMatrix::from_diagonal(&DVector::from_vec(scale)) * q.transpose();
    (mu * cu.alpha + &a * (x - mu * ct.alpha), a)
}

fn one_gaussian() -> (Vec<f64>, DMatrix<f64>, DVector<f64>, Mixture) {
    let spectrum = vec![1e-3, 0.2, 1.0, 3.0];
    let cov = builtin::rotated_covariance(&spectrum, 17);
    let q = builtin::rotation(4, 17);
    let mu = DVector::from_vec(vec![1.0, -2.0, 0.5, 0.0]);
    let mix = common::single_gaussian(mu.as_slice(), &cov);
    (spectrum, q, mu, mix)
}

#[test]
fn log_snr_clock_gives_the_closed_form_single_gaussian_flow() {
    let (spectrum, q, mu, mix) = one_gaussian();
    let x = DVector::from_vec(vec![0.3, 0.1, -0.7, 2.0]);
    for method in [Method::Dopri5, Method::Dop853] {
        let flow =
            ExactFlow::new(&mix, common::solver_options(method, 1e-11)).with_clock(Clock::LogSnr);
        for &(t, u) in &[(2.5, 0.01), (0.01, 2.5), (1.0, 0.3), (0.7, 0.7)] {
            let (expect, a) = closed_form(&spectrum, &q, &mu, &x, t, u);
            let p = flow.map_with_jacobian(x.as_slice(), t, u).unwrap();
            let err = (&p.y - &expect).norm() / expect.norm().max(1.0);
            assert!(err < 1e-9, "{method:?} {t} -> {u}: {} vs {expect}", p.y);
            let j = p.jacobian.unwrap();
            assert!(
                (&j - &a).amax() < 1e-9 * a.amax().max(1.0),
                "{method:?} DPhi {j} vs {a}"
            );
            // The lanes (no Jacobian) and the serial solve agree bitwise.
            let mut y = vec![0.0; 4];
            flow.map_slice(x.as_slice(), t, u, &mut y, None).unwrap();
            assert_eq!(y, flow.map(x.as_slice(), t, u).unwrap().y.as_slice());
        }
    }
}

/// Kept mutation: the PF-ODE in the log-SNR with `dt/d lambda = -sigma^2` (the factor 1/2
/// dropped) is a different ODE; the closed form above catches it by orders of magnitude.
#[test]
fn closed_form_catches_a_wrong_log_snr_factor() {
    struct Mutated<'a>(MarginalLanes<'a>);
    impl OdeLanes for Mutated<'_> {
        fn dim(&self) -> usize {
            self.0.mixture().dim()
        }
        fn lanes(&self) -> usize {
            self.0.lanes()
        }
        fn rhs_lanes(&mut self, active: &[usize], l: &[f64], y: &[f64], dy: &mut [f64]) {
            LogSnrLanes(self.0.clone()).rhs_lanes(active, l, y, dy);
            dy.iter_mut().for_each(|v| *v *= 2.0);
        }
    }
    let (spectrum, q, mu, mix) = one_gaussian();
    let x = DVector::from_vec(vec![0.3, 0.1, -0.7, 2.0]);
    let (t, u) = (2.5, 0.01);
    let (expect, _) = closed_form(&spectrum, &q, &mu, &x, t, u);
    let opts = common::solver_options(Method::Dop853, 1e-11);
    let run = |mutated: bool| {
        let mut y = vec![0.0; 4];
        let (a, b) = (Ou.log_snr(t), Ou.log_snr(u));
        let load = |_: usize, y0: &mut [f64]| y0.copy_from_slice(x.as_slice());
        let store = |_: usize, out: &[f64], r: Result<_, _>| {
            r.unwrap();
            y.copy_from_slice(out);
        };
        let lanes = MarginalLanes::new(&mix, 1);
        if mutated {
            integrate_lanes(&mut Mutated(lanes), a, b, 1, &opts, load, store);
        } else {
            integrate_lanes(&mut LogSnrLanes(lanes), a, b, 1, &opts, load, store);
        }
        (DVector::from_vec(y) - &expect).norm()
    };
    assert!(
        run(false) < 1e-9,
        "the unmutated clock must pass: {}",
        run(false)
    );
    assert!(run(true) > 1e-3, "mutation not caught: {}", run(true));
}

/// Two modes at the experiment's scale: the log-SNR clock at 1e-10 against the `t` clock
/// at 1e-13 (a different solver path to the same map), on samples of p_T and with the
/// Jacobian; and its batch map (lanes, both threads) bitwise its single-point map.
#[test]
fn log_snr_clock_matches_a_tight_time_reference_on_two_modes() {
    let mix = builtin::two_mode(0.1);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let xs = mix.sample(2.5, 64, &mut rng);
    let reference = ExactFlow::new(&mix, common::solver_options(Method::Dop853, 1e-13));
    let snr = ExactFlow::new(&mix, common::solver_options(Method::Dop853, 1e-10))
        .with_clock(Clock::LogSnr);
    let (want, _) = reference.map_batch(&xs, 2.5, 0.01).unwrap();
    let (got, stats) = snr.map_batch(&xs, 2.5, 0.01).unwrap();
    let worst = (0..xs.ncols())
        .map(|j| (got.column(j) - want.column(j)).norm())
        .fold(0.0, f64::max);
    assert!(worst < 1e-8, "log-SNR clock vs t reference: {worst:e}");
    assert!(stats.steps > 0);
    for j in [0, 17, 63] {
        let x = xs.column(j);
        let one = snr.map_with_jacobian(x.as_slice(), 2.5, 0.01).unwrap();
        let plain = snr.map(x.as_slice(), 2.5, 0.01).unwrap().y;
        assert_eq!(plain.as_slice(), got.column(j).as_slice());
        let r = reference
            .map_with_jacobian(x.as_slice(), 2.5, 0.01)
            .unwrap();
        let (a, b) = (one.jacobian.unwrap(), r.jacobian.unwrap());
        assert!(
            (&a - &b).amax() < 1e-6 * b.amax().max(1.0),
            "DPhi {a} vs {b}"
        );
        let (mut y, mut jac) = (vec![0.0; 2], vec![0.0; 4]);
        snr.map_slice(x.as_slice(), 2.5, 0.01, &mut y, Some(&mut jac))
            .unwrap();
        assert_eq!(jac, a.as_slice());
        assert_eq!(y, one.y.as_slice());
    }
}

/// OU's closed-form coefficients at a log-SNR agree with the generic route (the time of
/// that log-SNR, then the coefficients in `t`) to a few ulps, stay finite at extreme
/// log-SNRs, and `dt/d lambda` is the derivative of the inverse log-SNR.
#[test]
fn ou_coefficients_from_the_log_snr() {
    let ou = Process::default();
    for &l in &[-30.0, -5.0, -0.3, 0.0, 1e-9, 0.7, 4.0, 25.0] {
        let fast = ou.coeffs_at_log_snr(l);
        let slow = Ou.coeffs(Ou.log_snr_inverse(l));
        for (name, a, b) in [
            ("t", fast.t, slow.t),
            ("alpha", fast.alpha, slow.alpha),
            ("alpha2", fast.alpha2, slow.alpha2),
            ("sigma2", fast.sigma2, slow.sigma2),
        ] {
            assert!(
                (a - b).abs() <= 1e-14 * b.abs(),
                "l = {l}: {name} {a} vs {b}"
            );
        }
        let e = 1e-6 * (1.0 + l.abs());
        let fd = (Ou.log_snr_inverse(l + e) - Ou.log_snr_inverse(l - e)) / (2.0 * e);
        assert!(
            (fast.dt_dlog_snr() / fd - 1.0).abs() < 1e-6,
            "l = {l}: {} vs {fd}",
            fast.dt_dlog_snr()
        );
    }
    for l in [-800.0, 800.0] {
        let c = ou.coeffs_at_log_snr(l);
        assert!(
            c.alpha2.is_finite()
                && c.sigma2.is_finite()
                && c.t.is_finite()
                && (c.alpha2 + c.sigma2 - 1.0).abs() < 1e-15
        );
    }
}

/// A path without closed forms in the log-SNR (VP-linear: bisection) gives the same map.
#[test]
fn log_snr_clock_on_a_generic_path() {
    let mix = builtin::two_mode(0.3).with_process(Process::new(VpLinear::default()).unwrap());
    let opts = common::solver_options(Method::Dop853, 1e-10);
    let x = [0.4, -0.2];
    let a = ExactFlow::new(&mix, opts).map(&x, 0.9, 0.05).unwrap().y;
    let b = ExactFlow::new(&mix, opts)
        .with_clock(Clock::LogSnr)
        .map(&x, 0.9, 0.05)
        .unwrap()
        .y;
    assert!((&a - &b).norm() < 1e-8, "{a} vs {b}");
}
