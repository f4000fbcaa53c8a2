//! The composition theorem (theory/04-composition-and-grids.md): for students with known sup
//! errors `eps_i`, the end-to-end error never exceeds `sum eps_i exp(Lambda(t_{i-1}))`.
//!
//! The worst-case bound is 1e3 to 1e30 times the typical error, so "error <= bound" alone
//! could not catch much. The tests therefore also hold the error to the first-order estimate
//! `sum eps_i ||DPhi_{t_{i-1} -> t_min}||` with measured derivatives (which it tracks within
//! a small factor), check a case where the bound is attained (one Gaussian: the flow is
//! linear), and show that the checker reports violations of a wrong bound (its
//! `violations` count, for `Lambda = 0` and for the kept mutation).

use crate::common;

use flowcert::bounds::Lipschitz;
use flowcert::dynamics::Teacher;
use flowcert::flowmap::{FlowMap, FnMap};
use flowcert::grids::{GridKind, lambda_at};
use flowcert::model::{OuCoeffs, builtin};
use flowcert::theorems::composition::{
    Mutation, Probe, measure_composition, measure_composition_mutated, measure_perturbed,
    measure_perturbed_mutated,
};
use flowcert::tolerance::{ODE_GLOBAL_FACTOR, ODE_RTOL};
use nalgebra::DVector;
use proptest::prelude::*;

/// Relative accuracy of an end-to-end error computed with [`Teacher::PRECISE`].
fn ode_rel() -> f64 {
    ODE_GLOBAL_FACTOR * ODE_RTOL
}

/// How far the measured error may exceed the first-order estimate at `eps <= 1e-3`: the
/// second-order term `eps^2 ||D^2 Phi||` against `eps ||DPhi||`, and evaluating `DPhi` at
/// the student's rather than the exact state.
const FIRST_ORDER_EXCESS: f64 = 0.05;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn composition_bound_holds_and_the_error_follows_the_first_order_estimate(
        mix in common::arb_mixture(1..=4, 1..=3, 0.02, 1.0, 2.0, true),
        n in 1usize..=4,
        kind in 0usize..6,
        log_eps in -5.0f64..-3.0,
        freq in 0.5f64..4.0,
        seed in 0u64..1000,
    ) {
        let (t_min, t_max) = (0.02, 2.0);
        let grid = GridKind::all()[kind];
        let times = grid.times(&mix, t_min, t_max, n).unwrap();
        let lip = Lipschitz::auto(&mix);
        prop_assert!(lip.region_radius().is_none(), "shared covariance: the bound is global");
        let lambda = lambda_at(&mix, &times).unwrap();
        let eps: Vec<f64> = (0..n).map(|i| 10f64.powf(log_eps) * (1.0 + i as f64 * 0.3)).collect();
        let flow = Teacher::PRECISE.flow(&mix);
        let r = measure_perturbed(&flow, &times, &lambda, &eps, None, Probe { points: 6, freq, seed }).unwrap();
        prop_assert_eq!((r.violations, r.premise_violations), (0, 0), "max error {} > bound {}", r.max_error, r.bound);
        prop_assert!(r.bound_rigorous);
        prop_assert!(r.max_error <= r.bound);
        // Per path, error <= (1 + small) * sum eps_i ||DPhi_{t_{i-1} -> t_min}(z_{i-1})||:
        // a comparison within a small factor of the measured error, unlike the bound.
        prop_assert!(r.max_ratio_to_first_order <= 1.0 + FIRST_ORDER_EXCESS,
            "error / first-order estimate = {}", r.max_ratio_to_first_order);
        prop_assert!(r.max_first_order <= r.bound * (1.0 + ode_rel()));
    }
}

/// One Gaussian whose largest variance exceeds 1, so that the sampling flow expands along
/// its top eigenvector `u` (`mu > 0`). The flow is affine, and every segment's derivative
/// `DPhi_{t_i -> t_{i-1}}` has `u` as an eigenvector with eigenvalue
/// `sqrt(s_max(t_{i-1}) / s_max(t_i))`, `s_max(t) = alpha_t^2 lambda_max + sigma_t^2`.
/// Students `Psi_i = Phi_i + eps_i u` (sup error exactly `eps_i`) then compose to the error
/// `sum_i eps_i DPhi_{t_{i-1} -> t_min} u = (sum_i eps_i exp(Lambda_mu(t_{i-1}))) u` with the
/// one-sided coordinate `Lambda_mu(t) = (1/2) ln(s_max(t_min) / s_max(t))`: the composition
/// bound with `Lambda_mu` is attained at every start. The kept mutation (the amplification
/// with the wrong sign) is then reported at every start.
#[test]
fn composition_bound_is_attained_for_one_gaussian_and_the_mutation_is_reported() {
    let spectrum = [0.3, 2.5];
    let cov = builtin::rotated_covariance(&spectrum, 3);
    let q = builtin::rotation(2, 3);
    let mix = common::single_gaussian(&[0.5, -1.0], &cov);
    let top: DVector<f64> = q.column(1).into_owned();
    assert!(
        (&cov * &top - &top * spectrum[1]).norm() < 1e-12,
        "u is the top eigenvector"
    );
    let s_max = |t: f64| OuCoeffs::at(t).s(spectrum[1]);
    let times = [0.02, 0.1, 0.5, 2.0];
    let lambda_mu: Vec<f64> = times
        .iter()
        .map(|&t| 0.5 * (s_max(times[0]) / s_max(t)).ln())
        .collect();
    assert!(lambda_mu[3] > 0.1, "the flow expands: {lambda_mu:?}");
    let eps = [1e-3, 2e-3, 3e-3];
    let flow = Teacher::PRECISE.flow(&mix);
    let students: Vec<_> = (1..times.len())
        .map(|i| {
            let seg = flow.segment(times[i], times[i - 1]);
            let shift = &top * eps[i - 1];
            FnMap::new(2, move |x: &[f64]| {
                (seg.map_point(x).unwrap() + &shift).as_slice().to_vec()
            })
        })
        .collect();
    let starts = mix.sample(
        2.0,
        8,
        &mut flowcert::seed::rng(flowcert::seed::COMPOSITION, 4, &[]),
    );
    let r = measure_composition(&flow, &times, &lambda_mu, &students, &eps, None, &starts).unwrap();
    let exact: f64 = (0..3).map(|i| eps[i] * lambda_mu[i].exp()).sum();
    assert!(
        (r.bound / exact - 1.0).abs() < 1e-14,
        "bound {} vs {exact}",
        r.bound
    );
    assert!(
        (r.max_error / r.bound - 1.0).abs() <= ode_rel(),
        "the bound is attained: error {} vs bound {}",
        r.max_error,
        r.bound
    );
    assert!((r.max_ratio_to_first_order - 1.0).abs() <= ode_rel());
    assert_eq!(
        (r.violations, r.premise_violations, r.left_region),
        (0, 0, 0)
    );
    let bad = measure_composition_mutated(
        &flow,
        &times,
        &lambda_mu,
        &students,
        &eps,
        None,
        &starts,
        Some(Mutation::NegatedExponent),
    )
    .unwrap();
    assert_eq!(bad.violations, starts.ncols(), "{bad:?}");
}

/// The checker reports violations of a wrong bound on a mixture whose late flow expands
/// (two narrow modes: perturbations near the boundary are amplified): with `Lambda = 0`
/// (pretending every flow map is a contraction) and with the kept mutation (the
/// amplification with the wrong sign), its `violations` count is positive, while the real
/// check on the same students and starts reports none.
#[test]
fn composition_checker_reports_violations_of_a_wrong_bound() {
    let mix = builtin::two_mode(0.05);
    let (t_min, t_max, n) = (0.01, 2.0, 2);
    let times = GridKind::Uniform.times(&mix, t_min, t_max, n).unwrap();
    let lambda = lambda_at(&mix, &times).unwrap();
    let flow = Teacher::PRECISE.flow(&mix);
    let eps = vec![1e-3; n];
    let probe = Probe {
        points: 64,
        freq: 1.0,
        seed: 3,
    };
    let real = measure_perturbed(&flow, &times, &lambda, &eps, None, probe).unwrap();
    assert_eq!(real.violations, 0, "{real:?}");
    let zero = measure_perturbed(&flow, &times, &vec![0.0; n + 1], &eps, None, probe).unwrap();
    assert!(zero.violations > 0, "Lambda = 0 not reported: {zero:?}");
    let bad = measure_perturbed_mutated(
        &flow,
        &times,
        &lambda,
        &eps,
        None,
        probe,
        Some(Mutation::NegatedExponent),
    )
    .unwrap();
    assert!(bad.violations > 0, "mutation not reported: {bad:?}");
    assert_eq!(real.max_error, bad.max_error, "same students, same errors");
}

/// A local bound (heterogeneous covariances) is labelled: the checker tests only the states
/// at the grid times against the ball, so the proof does not cover the comparison.
#[test]
fn local_bounds_are_labelled_not_rigorous() {
    let mix = builtin::hetero3();
    let radius = Lipschitz::auto(&mix).region_radius();
    assert!(radius.is_some());
    let times = GridKind::Balanced.times(&mix, 0.05, 1.0, 2).unwrap();
    let lambda = lambda_at(&mix, &times).unwrap();
    let flow = Teacher::PRECISE.flow(&mix);
    let probe = Probe {
        points: 2,
        freq: 1.0,
        seed: 0,
    };
    let r = measure_perturbed(&flow, &times, &lambda, &[1e-3, 1e-3], radius, probe).unwrap();
    assert!(!r.bound_rigorous);
}
