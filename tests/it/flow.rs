//! Flow maps of the PF-ODE: closed form for one Gaussian, composition and inversion,
//! DPhi against finite differences, agreement with an independent fixed-step solver.

use crate::common;

use flowcert::dynamics::{ExactFlow, FlowSystem, Method, integrate_rk4_fixed};
use flowcert::model::{Marginal, MixtureSpec, OuCoeffs, builtin};
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
    let mix = MixtureSpec {
        weights: vec![1.0],
        means: vec![mu.iter().copied().collect()],
        covariances: vec![
            (0..4)
                .map(|r| cov.row(r).iter().copied().collect())
                .collect(),
        ],
    }
    .check()
    .unwrap();
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Phi_{s->t} o Phi_{t->s} = id and Phi_{u->s} o Phi_{t->u} = Phi_{t->s}.
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
        let composed = flow.map(mid.as_slice(), u, s).unwrap().y;
        // Backward-in-sampling flows contract or expand by at most exp(Lambda); the
        // solver's global error is tied to its tolerance through ODE_GLOBAL_FACTOR.
        let allowed = ODE_GLOBAL_FACTOR * tol * 100.0;
        prop_assert!(rel(&composed, &direct) < allowed, "compose: {composed} vs {direct}");
        let back = flow.map(direct.as_slice(), s, t).unwrap().y;
        let x = DVector::from_vec(x);
        // Forward in t the flow expands what sampling contracted: the inverse loses up
        // to the condition of DPhi; compare relative to that.
        let cond = flow.map_with_jacobian(x.as_slice(), t, s).unwrap().jacobian.unwrap();
        let sv = cond.singular_values();
        let kappa = sv.max() / sv.min().max(1e-300);
        prop_assert!(rel(&back, &x) < allowed * kappa.max(1.0), "invert: {back} vs {x} (cond {kappa})");
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
