//! The composition theorem: for students with known sup errors eps_i, the end-to-end error
//! never exceeds sum eps_i exp(Lambda(t_{i-1})), on random shared-covariance mixtures (where
//! the two-sided L(t) is a global bound), random grids and random perturbations.

use crate::common;

use flowcert::bounds::Lipschitz;
use flowcert::dynamics::Teacher;
use flowcert::grids::{GridKind, lambda_at};
use flowcert::theorems::composition::{Probe, measure_perturbed};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn composition_bound_holds(
        mix in common::arb_mixture(1..=4, 1..=3, 0.02, 1.0, 2.0, true),
        n in 1usize..=4,
        kind in 0usize..6,
        log_eps in -4.0f64..-1.0,
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
        prop_assert_eq!(r.violations, 0, "max error {} > bound {}", r.max_error, r.bound);
        prop_assert!(r.max_error <= r.bound);
        // The first-order estimate with measured Lipschitz constants can never exceed the bound either.
        prop_assert!(r.max_first_order <= r.bound * (1.0 + 1e-6));
    }
}

/// The checker can fail: with a Lambda that is too small (all zero, i.e. pretending every
/// flow map is a contraction) on a mixture whose late flow expands, it reports violations.
#[test]
fn composition_checker_detects_a_wrong_bound() {
    // A single narrow Gaussian expanding... backwards in time the flow contracts, so use
    // forward-in-t expansion instead: a grid run from small t to large t is not what the
    // sampler does. Instead take two far modes, where the boundary amplifies errors.
    let mix = flowcert::model::builtin::two_mode(0.05);
    let (t_min, t_max, n) = (0.01, 2.0, 2);
    let times = GridKind::Uniform.times(&mix, t_min, t_max, n).unwrap();
    let flow = Teacher::PRECISE.flow(&mix);
    // Perturbations at the boundary between the modes are amplified by the late segment.
    let eps = vec![1e-3; n];
    let zero = vec![0.0; n + 1];
    let r = measure_perturbed(
        &flow,
        &times,
        &zero,
        &eps,
        None,
        Probe {
            points: 64,
            freq: 1.0,
            seed: 3,
        },
    )
    .unwrap();
    assert!(
        r.max_first_order > r.bound,
        "measured amplification {} should exceed the false bound {}",
        r.max_first_order,
        r.bound
    );
}
