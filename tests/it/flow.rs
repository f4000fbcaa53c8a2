//! Flow maps of the PF-ODE: closed form for one Gaussian, composition and inversion,
//! DPhi against finite differences, agreement with an independent fixed-step solver.

use crate::common;

use flowcert::dynamics::{ExactFlow, FlowSystem, Method, integrate_rk4_fixed};
use flowcert::model::{Marginal, OuCoeffs, builtin};
use flowcert::tolerance::{FINITE_DIFF_ABS, FINITE_DIFF_REL, FINITE_DIFF_STEP, ODE_GLOBAL_FACTOR};
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn opts(tol: f64, method: Method) -> flowcert::dynamics::ValidSolverOptions {
    common::solver_options(method, tol)
}

/// Relative distance `|a - b| / max(1, |b|)`.
fn rel(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    (a - b).norm() / b.norm().max(1.0)
}

/// K = 1: x_u - m(u) = Q diag(sqrt(s_j(u)/s_j(t))) Q^T (x_t - m(t)); DPhi is that matrix.
#[test]
fn single_gaussian_flow_is_linear() {
    let spectrum = [1e-3, 0.2, 1.0, 3.0];
    let cov = builtin::rotated_covariance(&spectrum, 17);
    let q = builtin::rotation(4, 17);
    let mu = DVector::from_vec(vec![1.0, -2.0, 0.5, 0.0]);
    let mix = common::single_gaussian(mu.as_slice(), &cov);
    for method in [Method::Dopri5, Method::Dop853] {
        let flow = ExactFlow::new(&mix, opts(1e-11, method));
        for &(t, u) in &[(2.5, 0.01), (0.01, 2.5), (1.0, 0.3)] {
            let (ct, cu) = (OuCoeffs::at(t), OuCoeffs::at(u));
            let scale: Vec<f64> = spectrum
                .iter()
                .map(|&l| ((cu.alpha2 * l + cu.sigma2) / (ct.alpha2 * l + ct.sigma2)).sqrt())
                .collect();
            let a = &q * DMatrix::from_diagonal(&DVector::from_vec(scale)) * q.transpose();
            let x = DVector::from_vec(vec![0.3, 0.1, -0.7, 2.0]);
            let expect = &mu * cu.alpha + &a * (&x - &mu * ct.alpha);
            let p = flow.map_with_jacobian(x.as_slice(), t, u).unwrap();
            assert!(
                rel(&p.y, &expect) < 1e-9,
                "{method:?} t={t} u={u}: {} vs {}",
                p.y,
                expect
            );
            let j = p.jacobian.unwrap();
            assert!(
                (&j - &a).amax() < 1e-9 * a.amax().max(1.0),
                "{method:?} DPhi {j} vs {a}"
            );
        }
    }
}

/// At rtol = atol = 1e-11 the adaptive end points agree with an independent fixed-step
/// RK4 solve (200k steps) to 1e-9 relative on the built-in suite.
#[test]
fn agrees_with_independent_fixed_step_solver() {
    for (name, mix) in builtin::suite() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let xs = mix.sample(2.5, 2, &mut rng);
        for method in [Method::Dopri5, Method::Dop853] {
            let flow = ExactFlow::new(&mix, opts(1e-11, method));
            for c in 0..xs.ncols() {
                let x: Vec<f64> = xs.column(c).iter().copied().collect();
                let p = flow.map(&x, 2.5, 0.01).unwrap();
                let mut field = Marginal::new(&mix, 2.5).unwrap();
                let mut sys = FlowSystem::new(&mut field, false);
                let mut y = x.clone();
                integrate_rk4_fixed(&mut sys, 2.5, 0.01, &mut y, 200_000);
                let y = DVector::from_vec(y);
                assert!(
                    rel(&p.y, &y) < 1e-9,
                    "{name} {method:?}: adaptive {} vs RK4 {}",
                    p.y,
                    y
                );
            }
        }
    }
}

/// The round trip `Phi_{s->t}(Phi_{t->s}(x))` against `x`, with an allowance that follows
/// the errors through the maps: the forward solve's global error `delta` (trusted to
/// `ODE_GLOBAL_FACTOR tol` relative) is carried back by `DPhi_{s->t}(y) = DPhi_{t->s}(x)^{-1}`,
/// of norm `1 / sigma_min(DPhi_{t->s}(x))`, and the backward solve adds its own:
///
/// ```text
/// |back - x| <= G tol (max(1, |y|) / sigma_min + max(1, |x|)),   G = ODE_GLOBAL_FACTOR
/// ```
/// (relative to `max(1, |x|)`). `back_to` is the time the inverse runs to: `t` for the real
/// inverse, anything else for a wrong one. Returns (error, allowance, 1 / sigma_min).
fn round_trip(
    flow: &ExactFlow,
    x: &[f64],
    t: f64,
    s: f64,
    back_to: f64,
    tol: f64,
) -> (f64, f64, f64) {
    let fwd = flow.map_with_jacobian(x, t, s).unwrap();
    let sv = fwd.jacobian.as_ref().unwrap().singular_values();
    let inv_norm = 1.0 / sv.min();
    let back = flow.map(fwd.y.as_slice(), s, back_to).unwrap().y;
    let x = DVector::from_column_slice(x);
    let scale = x.norm().max(1.0);
    let allowed = ODE_GLOBAL_FACTOR * tol * (fwd.y.norm().max(1.0) * inv_norm + scale) / scale;
    (rel(&back, &x), allowed, inv_norm)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Phi_{s->t} o Phi_{t->s} = id and Phi_{u->s} o Phi_{t->u} = Phi_{t->s}, each to the
    /// solver's error carried through the derivative of the map that follows it (measured
    /// with the variational equation), not to a factor that grows with the condition number.
    #[test]
    fn flows_compose_and_invert(mix in common::any_mixture(), t in 0.5f64..2.5, frac in 0.2f64..0.8, seed in 0u64..100) {
        let tol = 1e-10;
        let flow = ExactFlow::new(&mix, opts(tol, Method::Dopri5));
        let s = 0.05;
        let u = s + frac * (t - s);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x: Vec<f64> = mix.sample(t, 1, &mut rng).column(0).iter().copied().collect();
        let direct = flow.map(&x, t, s).unwrap().y;
        let mid = flow.map(&x, t, u).unwrap().y;
        let late = flow.map_with_jacobian(mid.as_slice(), u, s).unwrap();
        // The error of `mid` is carried by DPhi_{u->s}(mid); both solves add their own.
        let amplification = late.jacobian_norm().unwrap();
        let scale = direct.norm().max(1.0);
        let allowed = ODE_GLOBAL_FACTOR * tol * (amplification * mid.norm().max(1.0) + 2.0 * scale) / scale;
        prop_assert!(rel(&late.y, &direct) <= allowed,
            "compose: {} vs {direct} (|DPhi_u->s| = {amplification})", late.y);
        let (err, allowed, inv_norm) = round_trip(&flow, &x, t, s, t, tol);
        // The allowance is meaningful: the map contracts by at most 1e4 in any direction
        // on these mixtures (sampling contracts towards the modes, not beyond their width).
        prop_assert!(inv_norm <= 1e4, "1/sigma_min = {inv_norm}: the allowance would be vacuous");
        prop_assert!(err <= allowed, "invert: error {err} > {allowed} (1/sigma_min = {inv_norm})");
    }

    /// DPhi from the variational equation equals central finite differences of Phi.
    #[test]
    fn variational_jacobian_matches_finite_differences(mix in common::arb_mixture(1..=4, 1..=4, 1e-2, 4.0, 2.0, false), t in 0.3f64..2.0, seed in 0u64..100) {
        let flow = ExactFlow::new(&mix, opts(1e-12, Method::Dop853));
        let s = 0.1;
        let d = mix.dim();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x: Vec<f64> = mix.sample(t, 1, &mut rng).column(0).iter().copied().collect();
        let j = flow.map_with_jacobian(&x, t, s).unwrap().jacobian.unwrap();
        let mut fd = DMatrix::zeros(d, d);
        let mut xp = x.clone();
        for c in 0..d {
            let h = FINITE_DIFF_STEP * 10.0 * x[c].abs().max(1.0);
            xp[c] = x[c] + h;
            let fp = flow.map(&xp, t, s).unwrap().y;
            xp[c] = x[c] - h;
            let fm = flow.map(&xp, t, s).unwrap().y;
            xp[c] = x[c];
            fd.set_column(c, &((fp - fm) / (2.0 * h)));
        }
        let scale = j.amax().max(1.0);
        prop_assert!((&j - &fd).amax() <= 10.0 * FINITE_DIFF_REL * scale + FINITE_DIFF_ABS, "DPhi {j} vs FD {fd}");
    }
}

/// The round-trip check can fail: an inverse run to a time off by 1e-4 (relative), or the
/// sampling map applied twice instead of inverted, misses `x` by far more than the
/// allowance of [`round_trip`], while the real inverse meets it.
#[test]
fn round_trip_check_catches_a_perturbed_time_and_a_wrong_direction() {
    let tol = 1e-10;
    for (name, mix) in builtin::suite() {
        let flow = ExactFlow::new(&mix, opts(tol, Method::Dopri5));
        let x: Vec<f64> = mix
            .sample(1.5, 1, &mut ChaCha8Rng::seed_from_u64(7))
            .column(0)
            .iter()
            .copied()
            .collect();
        let (t, s) = (1.5, 0.05);
        let (err, allowed, _) = round_trip(&flow, &x, t, s, t, tol);
        assert!(err <= allowed, "{name}: real inverse {err} > {allowed}");
        let (off, allowed, _) = round_trip(&flow, &x, t, s, t * (1.0 + 1e-4), tol);
        assert!(
            off > 10.0 * allowed,
            "{name}: perturbed time {off} within {allowed}"
        );
        let twice = flow
            .map(flow.map(&x, t, s).unwrap().y.as_slice(), t, s)
            .unwrap()
            .y;
        assert!(
            rel(&twice, &DVector::from_vec(x)) > 10.0 * allowed,
            "{name}: wrong direction passes"
        );
    }
}

/// The stats identity and deterministic output: the same call twice gives the same bits.
#[test]
fn flow_is_deterministic_and_counts_work() {
    let mix = builtin::two_mode(0.1);
    let flow = ExactFlow::new(&mix, opts(1e-10, Method::Dopri5));
    let a = flow.map(&[0.2, -0.1], 2.5, 0.01).unwrap();
    let b = flow.map(&[0.2, -0.1], 2.5, 0.01).unwrap();
    assert_eq!(a.y, b.y);
    assert_eq!(a.stats, b.stats);
    assert!(a.stats.steps > 0 && a.stats.rhs_evals > a.stats.steps);
}
