//! The flow-map stability estimate (theory/03-stability.md) against the variational
//! equation: `||DPhi_{t->s}|| <= exp(int_s^t mu) <= exp(int_s^t L)` on random mixtures, and
//! two cases where the one-sided estimate is attained exactly (single Gaussian: closed
//! form; two equal isotropic modes: the midpoint trajectory).

use crate::common;
use crate::reference::isotropic_integrals;

use flowcert::bounds::{Domain, Region};
use flowcert::dynamics::{Method, Teacher};
use flowcert::grids::GridKind;
use flowcert::model::{Mixture, MixtureSpec, OuCoeffs, builtin};
use flowcert::theorems::stability::{
    SEPARATRIX_CHORDS, SegmentRow, StabilityConfig, StabilityError, boundary_points, measure_grid,
    measure_segments,
};
use flowcert::tolerance::{CLOSED_FORM_REL, ODE_GLOBAL_FACTOR, ODE_RTOL, QUAD_RTOL};
use proptest::prelude::*;

/// Relative error allowed on a measured `||DPhi||` at the default solver tolerances.
fn ode_rel() -> f64 {
    ODE_GLOBAL_FACTOR * ODE_RTOL
}

/// `samples` per flow map, one short local maximisation (the property tests check the
/// estimate on many mixtures; tests/stability_search.rs checks the search itself).
fn config(samples: usize, seed: u64) -> StabilityConfig {
    StabilityConfig {
        samples,
        seed,
        ascent_starts: 1,
        ascent_evals: 12,
        ..StabilityConfig::default()
    }
}

/// Most starting points of one flow map: the samples, K means, per pair of components a
/// midpoint and at most one equal-weight point, and per pair of destination modes two
/// separatrix points per chord.
fn max_starts(mix: &Mixture, samples: usize) -> usize {
    let k = mix.n_components();
    samples + k + k * (k - 1) + SEPARATRIX_CHORDS * k * (k - 1)
}

/// `||DPhi_{hi -> lo}(x)||` recomputed independently of the checker: the variational
/// equation in one piece by DOP853 at `1e-12` (the checker runs Dormand-Prince 5(4) at
/// `1e-10`, in pieces of `int L <= 2` multiplied by the chain rule, through its own
/// bookkeeping).
fn independent_norm(mix: &Mixture, x: &[f64], hi: f64, lo: f64) -> f64 {
    Teacher::new(Method::Dop853, 1e-12, 1e-12)
        .unwrap()
        .flow(mix)
        .map_with_jacobian(x, hi, lo)
        .unwrap()
        .jacobian_norm()
        .unwrap()
}

/// Every flow map of the report: the measured maximum is `||DPhi||` at its argmax (an
/// independent solve agrees to the two solvers' accuracy), that independent value obeys
/// the estimate, and the bookkeeping is consistent.
fn assert_estimate_holds(
    mix: &Mixture,
    rows: &[&SegmentRow],
    slack: f64,
    starts: usize,
) -> Result<(), TestCaseError> {
    for r in rows {
        prop_assert!(r.int_mu <= r.int_l * (1.0 + QUAD_RTOL) + QUAD_RTOL, "{r:?}");
        if let Some(m) = r.measured {
            let indep = independent_norm(mix, &r.argmax, r.t_hi, r.t_lo);
            prop_assert!(
                (indep / m - 1.0).abs() <= 2.0 * ode_rel(),
                "measured {m} vs independent {indep} at {:?}",
                r.argmax
            );
            prop_assert!(
                indep.ln() <= r.int_mu + slack + 2.0 * ode_rel(),
                "ln ||DPhi|| = {} > int mu = {} (+{slack})",
                indep.ln(),
                r.int_mu
            );
            prop_assert!(r.holds, "{r:?}");
        }
        // Every variational solve is a compared point or one that left B_R; the solves are
        // the starting points, at most three carried maximisers of neighbouring flow maps,
        // and the local maximisations (12 solves each, one more at most to finish a step).
        prop_assert!(r.points + r.left_region <= r.evaluations, "{r:?}");
        prop_assert!(r.evaluations <= starts + 3 + r.starts * (12 + 1), "{r:?}");
    }
    Ok(())
}

/// Two equal-weight modes with a shared isotropic covariance, in d dimensions. The
/// midpoint of the means is an unstable equilibrium of the relative motion: a rounding
/// error there grows like `exp(int mu)`, so the ranges keep `int mu` below ~20.
fn arb_two_mode() -> impl Strategy<Value = Mixture> {
    (1usize..=4).prop_flat_map(|d| {
        (
            proptest::collection::vec(-1.5f64..1.5, d),
            proptest::collection::vec(-1.5f64..1.5, d),
            0.3f64..1.2,
        )
            .prop_map(move |(a, b, sigma0)| {
                let cov: Vec<Vec<f64>> = (0..d)
                    .map(|r| {
                        (0..d)
                            .map(|c| if r == c { sigma0 * sigma0 } else { 0.0 })
                            .collect()
                    })
                    .collect();
                MixtureSpec {
                    weights: vec![0.5, 0.5],
                    means: vec![a, b],
                    covariances: vec![cov.clone(), cov],
                }
                .check()
                .expect("valid two-mode mixture")
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Shared covariances (global bounds): every measured ||DPhi_{t_i -> t_{i-1}}|| and the
    /// whole-interval one stay below exp(int mu) <= exp(int L).
    #[test]
    fn shared_flow_maps_obey_the_estimate(
        mix in common::arb_mixture(1..=4, 1..=4, 1e-2, 4.0, 2.0, true),
        t_hi in 0.3f64..2.0,
        frac in 0.05f64..0.6,
        seed in 0u64..1000,
    ) {
        let r = measure_grid(&mix, &GridKind::Uniform, frac * t_hi, t_hi, 2, &config(6, seed)).unwrap();
        prop_assert_eq!(r.region_radius, None);
        prop_assert_eq!(r.violations, 0);
        let rows: Vec<&SegmentRow> = r.segments.iter().chain([&r.whole]).collect();
        assert_estimate_holds(&mix, &rows, r.log_slack, max_starts(&mix, 6))?;
        for row in &rows {
            prop_assert_eq!(row.left_region, 0);
        }
    }

    /// Heterogeneous covariances (bounds on B_R): the same, for trajectories inside B_R.
    #[test]
    fn heterogeneous_flow_maps_obey_the_local_estimate(
        mix in common::arb_mixture(1..=4, 1..=4, 1e-2, 4.0, 2.0, false),
        t_hi in 0.3f64..2.0,
        frac in 0.05f64..0.6,
        seed in 0u64..1000,
    ) {
        let r = measure_grid(&mix, &GridKind::Balanced, frac * t_hi, t_hi, 2, &config(6, seed)).unwrap();
        prop_assert_eq!(r.violations, 0);
        let rows: Vec<&SegmentRow> = r.segments.iter().chain([&r.whole]).collect();
        assert_estimate_holds(&mix, &rows, r.log_slack, max_starts(&mix, 6))?;
    }

    /// K = 1 (any covariance): the flow map is linear, DPhi_{t->s} = S(s)^{1/2} S(t)^{-1/2},
    /// and mu = 1 - 1/s_max, so ||DPhi_{t->s}|| = sqrt(s_max(s) / s_max(t)) = exp(int_s^t mu)
    /// exactly, with s_max(u) = alpha_u^2 lambda_max + sigma_u^2. The estimate is attained.
    #[test]
    fn single_gaussian_attains_the_one_sided_estimate(
        mix in common::arb_mixture(1..=1, 1..=4, 1e-2, 4.0, 2.0, false),
        t_hi in 0.1f64..2.5,
        frac in 0.02f64..0.9,
        seed in 0u64..1000,
    ) {
        let t_lo = frac * t_hi;
        let r = measure_segments(&mix, &[t_lo, t_hi], &config(3, seed)).unwrap();
        let lmax = mix.components()[0].eigvals.iter().copied().fold(0.0f64, f64::max);
        let s_max = |t: f64| { let c = OuCoeffs::at(t); c.alpha2 * lmax + c.sigma2 };
        let closed_log = 0.5 * (s_max(t_lo) / s_max(t_hi)).ln();
        let row = &r.whole;
        prop_assert!((row.int_mu - closed_log).abs() <= CLOSED_FORM_REL * closed_log.abs().max(1.0),
            "int mu = {} vs closed form {closed_log}", row.int_mu);
        let m = row.measured.unwrap();
        prop_assert!((m / closed_log.exp() - 1.0).abs() <= ode_rel(),
            "||DPhi|| = {m} vs closed form {}", closed_log.exp());
        prop_assert!((row.ratio.unwrap() - 1.0).abs() <= ode_rel());
    }

    /// Two equal isotropic modes: the midpoint of the means moves as alpha_u (mu_1 + mu_2) / 2,
    /// where r = (1/2, 1/2) and -J has the eigenvalue mu(u) along mu_1 - mu_2 at every u; so the
    /// one-sided estimate is attained there, on every segment and over the whole interval.
    /// The measured maximum equals `exp(int mu)` computed from the closed-form antiderivatives
    /// in 480-bit arithmetic (independent of the checker's quadrature).
    #[test]
    fn two_mode_midpoint_attains_the_one_sided_estimate(
        mix in arb_two_mode(),
        t_hi in 0.5f64..2.5,
        frac in 0.2f64..0.7,
    ) {
        let r = measure_grid(&mix, &GridKind::Balanced, frac * t_hi, t_hi, 2, &config(2, 0)).unwrap();
        let s0sq = mix.isotropic_variance().unwrap();
        for row in r.segments.iter().chain([&r.whole]) {
            let (int_a, int_q) = isotropic_integrals(s0sq, mix.mean_diameter(), row.t_lo, row.t_hi);
            let closed = int_q.sub(&int_a).to_f64();
            let m = row.measured.unwrap();
            prop_assert!((m.ln() - closed).abs() <= ode_rel() * closed.abs().max(1.0),
                "ln ||DPhi|| = {} vs closed-form int mu = {closed}: {row:?}", m.ln());
            prop_assert!((row.int_mu - closed).abs() <= CLOSED_FORM_REL * closed.abs().max(1.0));
            prop_assert!(row.attained, "{row:?}");
        }
    }
}

/// The built-in two-mode mixtures attain the estimate from T = 3 down to t_min = 0.01, even
/// where the amplification is e^48 (sigma0 = 0.05): the hyperplane between the modes is
/// invariant (exactly, in floating point, by the symmetry of the means +-1.5).
#[test]
fn builtin_two_mode_attains_the_estimate_over_the_whole_interval() {
    for sigma0 in [0.05, 0.1, 0.3] {
        let mix = builtin::two_mode(sigma0);
        let r = measure_grid(&mix, &GridKind::Balanced, 0.01, 3.0, 4, &config(4, 0)).unwrap();
        assert_eq!(r.violations, 0);
        for row in r.segments.iter().chain([&r.whole]) {
            let ratio = row.ratio.unwrap();
            assert!((ratio - 1.0).abs() <= ode_rel(), "sigma0 {sigma0}: {row:?}");
            // Attained on the hyperplane x_1 = 0 between the modes (r = (1/2, 1/2) there; the
            // local maximisation may move within the solver's noise of it).
            assert!(row.argmax[0].abs() < 1e-9, "{row:?}");
            assert!(row.attained, "{row:?}");
        }
    }
}

/// With a ball too small to contain the flow, trajectories that leave it are counted and
/// not compared; the bookkeeping adds up.
#[test]
fn trajectories_leaving_the_ball_are_reported() {
    let mix = builtin::hetero3();
    let small = Region::with_radius(&mix, 1.5).unwrap();
    let cfg = StabilityConfig {
        domain: Some(Domain::Ball(small)),
        separatrix_steps: 0,
        ascent_starts: 0,
        ..config(16, 3)
    };
    let r = measure_segments(&mix, &[0.05, 0.5, 2.0], &cfg).unwrap();
    assert_eq!(r.region_radius, Some(1.5));
    let starts = 16 + boundary_points(&mix, 2.0).len();
    let total_left: usize = r.segments.iter().map(|s| s.left_region).sum();
    assert!(total_left > 0, "{r:?}");
    assert_eq!(r.whole.points + r.whole.left_region, starts);
    assert_eq!(r.violations, 0);
    // The default ball (mass level 1e-6) keeps every trajectory of the suite inside.
    let r = measure_segments(&mix, &[0.05, 0.5, 2.0], &config(16, 3)).unwrap();
    assert!(r.segments.iter().all(|s| s.left_region == 0));
}

/// The report is a function of the seed; the slack follows the solver tolerance.
#[test]
fn deterministic_and_slack_tied_to_solver_tolerance() {
    let mix = builtin::aniso8();
    let a = measure_segments(&mix, &[0.05, 0.3, 1.5], &config(8, 7)).unwrap();
    let b = measure_segments(&mix, &[0.05, 0.3, 1.5], &config(8, 7)).unwrap();
    assert_eq!(a, b);
    let loose = StabilityConfig {
        teacher: Teacher::new(Method::Dopri5, 1e-6, 1e-6).unwrap(),
        ..config(8, 7)
    };
    let l = measure_segments(&mix, &[0.05, 0.3, 1.5], &loose).unwrap();
    assert!(l.log_slack > 1e3 * a.log_slack);
    assert_eq!((l.rtol, a.rtol), (1e-6, ODE_RTOL));
}

/// Bad grids are errors that say what to fix.
#[test]
fn bad_grids_are_rejected() {
    let mix = builtin::two_mode(0.1);
    let cfg = StabilityConfig::quick();
    let msg = |e: StabilityError| e.to_string();
    assert!(msg(measure_segments(&mix, &[1.0], &cfg).unwrap_err()).contains("at least two"));
    assert!(
        msg(measure_segments(&mix, &[0.5, 0.5], &cfg).unwrap_err()).contains("strictly increase")
    );
    assert!(msg(measure_segments(&mix, &[0.0, 0.5], &cfg).unwrap_err()).contains("times[0] = 0"));
    assert!(
        msg(measure_segments(&mix, &[0.1, f64::NAN], &cfg).unwrap_err()).contains("times[1] = NaN")
    );
    let e = measure_grid(&mix, &GridKind::Uniform, 1.0, 0.5, 2, &cfg).unwrap_err();
    assert!(msg(e).contains("swap them"));
    let e = measure_grid(&mix, &GridKind::Uniform, 0.1, 0.5, 0, &cfg).unwrap_err();
    assert!(msg(e).contains("--segments 0"));
}
