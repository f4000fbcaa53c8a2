//! The Gaussian paths of theory/07-gaussian-paths.md against computations that could
//! contradict them, for every built-in path:
//! - the coefficients (`alpha`, `alpha^2`, `sigma^2`, `f`, `h`, the rates `e(l)`) against an
//!   independent 480-bit evaluation of the table's formulas ([`reference::path`]) over each
//!   path's whole range, ends included (`1e-8`, `1 - 1e-9`), to full relative accuracy;
//! - their derivatives against finite differences (`f = alpha'/alpha`, `e(l) = (1/2) d ln
//!   s(l)/dt`), and the log-SNR / noise-ratio inverses;
//! - the exactly solvable single Gaussian `N(0, s0^2 I)`, whose flow is
//!   `x -> x sd(t_lo)/sd(t_hi)`, `sd^2 = alpha^2 s0^2 + sigma^2`;
//! - random mixtures: score and Hessian against finite differences, the velocity against
//!   `f x - h s`, the Jacobian against `f I - h H`, against finite differences of the
//!   velocity and against the 480-bit `J`; the bounds `L`, `mu`, `L_p` against the BFGS
//!   supremum of `||J||`; flows against a tight `dop853` reference, composed and inverted;
//! - the kept mutation [`Mutation::OuFactors`] (OU's `f = -1`, `h = 1` on another path's
//!   covariances) is caught by the same supremum.

use crate::bounds::assert_bounds_hold;
use crate::common;
use crate::reference;

use flowcert::bounds::empirical::slack;
use flowcert::bounds::{Lipschitz, Mutation, SearchConfig, empirical_sup};
use flowcert::dynamics::{ExactFlow, Method};
use flowcert::grids::{GridKind, lambda_at};
use flowcert::model::process::{GaussianPath, PROCESS_NAMES, Process};
use flowcert::model::{Marginal, Mixture, MixtureSpec, builtin};
use nalgebra::DMatrix;
use proptest::prelude::*;

use crate::common::process;

/// The range the property tests draw times from, log-uniformly: the path's domain, kept
/// away from the ends where `p_t` degenerates (`t -> 0`) or the path ends.
fn working_range(name: &str) -> (f64, f64) {
    match name {
        "ou" => (0.01, 3.0),
        "vp-linear" => (0.01, 1.0),
        "vp-cosine" | "rectified" => (0.01, 0.99),
        "edm" => (0.002, 80.0),
        _ => unreachable!(),
    }
}

fn time_at(name: &str, u: f64) -> f64 {
    let (lo, hi) = working_range(name);
    (lo.ln() + u * (hi.ln() - lo.ln())).exp().clamp(lo, hi)
}

/// The whole range, ends included as far as doubles reach them.
fn accuracy_times(name: &str) -> Vec<f64> {
    let (lo, hi): (f64, f64) = match name {
        "ou" => (1e-6, 50.0),
        "vp-linear" => (1e-8, 1.0),
        "edm" => (0.002, 80.0),
        _ => (1e-8, 0.5),
    };
    let mut ts: Vec<f64> = (0..=40)
        .map(|i| (lo.ln() + i as f64 / 40.0 * (hi.ln() - lo.ln())).exp())
        .collect();
    if matches!(name, "vp-cosine" | "rectified") {
        // Towards t = 1, where alpha -> 0: 1 - 10^{-k}.
        ts.extend((1..=9).map(|k| 1.0 - 10f64.powi(-k)));
        ts.extend([0.6, 0.75, 0.9]);
    }
    ts
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
    }
}

/// Every coefficient to full relative accuracy over the whole range, against 480 bits.
#[test]
fn coefficients_match_high_precision_reference() {
    for name in PROCESS_NAMES {
        let p = process(name);
        for t in accuracy_times(name) {
            let c = p.coeffs(t);
            let r = reference::path(name, t);
            let pairs = [
                ("alpha", c.alpha, &r.alpha),
                ("alpha2", c.alpha2, &r.alpha2),
                ("sigma2", c.sigma2, &r.sigma2),
                ("f", c.f, &r.f),
                ("h", c.h, &r.h),
            ];
            for (what, got, want) in pairs {
                let want = want.to_f64();
                assert!(
                    rel(got, want) < 1e-13,
                    "{name} t={t}: {what} = {got}, reference {want}"
                );
            }
            // The rate e(l) = f + h/s(l), to the accuracy its terms allow: relative to
            // (|alpha alpha' l| + |sigma sigma'|)/s (the rate has a simple zero in t on
            // the non-preserving paths, where no formula keeps relative accuracy).
            for l in [0.0, 1e-3, 0.3, 1.0, 4.0] {
                let s = r.alpha2.mul_f(l).add(&r.sigma2);
                let e_ref = r.f.add(&r.h.div(&s)).to_f64();
                let scale = (c.a.abs() * l + c.b.abs()) / c.s(l);
                let scale = if c.variance_preserving {
                    e_ref.abs()
                } else {
                    scale
                };
                assert!(
                    (c.rate(l) - e_ref).abs() <= 1e-13 * scale,
                    "{name} t={t} l={l}: rate {} vs reference {e_ref}",
                    c.rate(l)
                );
            }
        }
    }
}

/// `alpha' = d alpha/dt`, `f = alpha'/alpha`, `e(l) = (1/2) d ln s(l)/dt` by central
/// differences, and the log-SNR and noise-ratio inverses.
#[test]
fn derivatives_match_finite_differences_and_inverses_round_trip() {
    for name in PROCESS_NAMES {
        let p = process(name);
        let (lo, hi) = working_range(name);
        for i in 1..40 {
            let t = (lo.ln() + i as f64 / 40.0 * (hi.ln() - lo.ln())).exp();
            let c = p.coeffs(t);
            let dt = 1e-5 * t.min(1.0 - t.min(0.5)).max(1e-3 * t);
            let (cp, cm) = (p.coeffs(t + dt), p.coeffs(t - dt));
            let fd_alpha = (cp.alpha - cm.alpha) / (2.0 * dt);
            assert!(
                (c.dalpha - fd_alpha).abs() <= 1e-6 * (c.dalpha.abs() + c.alpha),
                "{name} t={t}: alpha' {} vs fd {fd_alpha}",
                c.dalpha
            );
            assert!(rel(c.f, c.dalpha / c.alpha) < 1e-14, "{name} t={t}: f");
            let fd_b = 0.5 * (cp.sigma2 - cm.sigma2) / (2.0 * dt);
            assert!(
                (c.b - fd_b).abs() <= 1e-6 * (c.b.abs() + c.sigma2),
                "{name} t={t}: sigma sigma' {} vs fd {fd_b}",
                c.b
            );
            for l in [1e-3, 0.5, 2.0] {
                let fd = 0.5 * (cp.s(l).ln() - cm.s(l).ln()) / (2.0 * dt);
                let scale = (c.a.abs() * l + c.b.abs()) / c.s(l);
                assert!(
                    (c.rate(l) - fd).abs() <= 1e-6 * scale,
                    "{name} t={t} l={l}: rate {} vs fd {fd}",
                    c.rate(l)
                );
            }
            // h = -(sigma^2/2) d lambda/dt > 0: the log-SNR falls.
            let fd_l = (p.log_snr(t + dt) - p.log_snr(t - dt)) / (2.0 * dt);
            assert!(
                rel(-0.5 * c.sigma2 * fd_l, c.h) < 1e-5,
                "{name} t={t}: h vs lambda'"
            );
            assert!(c.h > 0.0);
            let back = p.log_snr_inverse(p.log_snr(t));
            assert!(
                (back - t).abs() <= 1e-12 * t,
                "{name}: log-SNR inverse {back} vs {t}"
            );
            let back = p.noise_ratio_inverse(p.noise_ratio(t));
            assert!(
                (back - t).abs() <= 1e-12 * t,
                "{name}: noise-ratio inverse {back} vs {t}"
            );
        }
    }
}

/// The table of theory/07 in plain double arithmetic at moderate times (where the naive
/// forms are accurate), including the iDDPM definition `abar = cos^2(.)/cos^2(.)`.
#[test]
fn coefficients_match_the_published_definitions() {
    let s = 0.008f64;
    let abar = |t: f64| {
        let th = |u: f64| ((u + s) / (1.0 + s) * std::f64::consts::FRAC_PI_2).cos();
        (th(t) / th(0.0)).powi(2)
    };
    let cos = process("vp-cosine");
    let lin = process("vp-linear");
    for t in [0.1, 0.3, 0.5, 0.7] {
        assert!(rel(cos.coeffs(t).alpha2, abar(t)) < 1e-14);
        assert!(rel(cos.coeffs(t).sigma2, 1.0 - abar(t)) < 1e-13);
        let big_b = 0.1 * t + 0.5 * (20.0 - 0.1) * t * t;
        assert!(rel(lin.coeffs(t).alpha, (-0.5 * big_b).exp()) < 1e-14);
        assert!(rel(lin.coeffs(t).h, 0.5 * (0.1 + 19.9 * t)) < 1e-15);
    }
    let edm = process("edm");
    assert_eq!(edm.coeffs(3.0).sigma2, 9.0);
    assert_eq!(edm.domain().to_string(), "[0.002, 80]");
    assert_eq!(process("rectified").domain().to_string(), "(0, 1)");
    assert_eq!(process("vp-linear").domain().to_string(), "(0, 1]");
}

/// One centred Gaussian `N(0, s0^2 I)`: `Phi_{hi -> lo}(x) = x sd(lo)/sd(hi)` on every
/// path, integrated in the sampling direction over (almost) the whole range.
#[test]
fn single_gaussian_flow_is_exact_on_every_path() {
    let s0 = 0.3f64;
    let spec = MixtureSpec {
        weights: vec![1.0],
        means: vec![vec![0.0, 0.0]],
        covariances: vec![vec![vec![s0 * s0, 0.0], vec![0.0, s0 * s0]]],
    };
    for (name, hi, lo) in [
        ("ou", 3.0, 0.01),
        ("vp-linear", 1.0, 0.01),
        ("vp-cosine", 0.999, 0.01),
        ("edm", 80.0, 0.002),
        ("rectified", 0.999, 0.01),
    ] {
        let mix = spec.check().unwrap().with_process(process(name));
        let sd = |t: f64| {
            let c = mix.coeffs(t);
            (c.alpha2 * s0 * s0 + c.sigma2).sqrt()
        };
        let flow = ExactFlow::new(&mix, common::solver_options(Method::Dop853, 1e-12));
        for x in [[1.0, -2.0], [30.0, 0.5]] {
            let y = flow.map(&x, hi, lo).unwrap().y;
            let want = sd(lo) / sd(hi);
            for i in 0..2 {
                assert!(
                    rel(y[i], x[i] * want) < 1e-8,
                    "{name}: Phi_{hi}->{lo}({x:?})[{i}] = {} vs {}",
                    y[i],
                    x[i] * want
                );
            }
        }
    }
}

fn finite_difference_checks(mix: &Mixture, t: f64, x: &[f64]) -> Result<(), TestCaseError> {
    let d = x.len();
    let c = mix.coeffs(t);
    let mut p = Marginal::new(mix, t).unwrap();
    let e = p.eval(x);
    let hs = 1e-5 * (1.0 + x.iter().map(|v| v.abs()).fold(0.0, f64::max));
    let h_scale = e.hessian.abs().max() + 1.0;
    for i in 0..d {
        let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
        xp[i] += hs;
        xm[i] -= hs;
        let fd = (p.log_density(&xp) - p.log_density(&xm)) / (2.0 * hs);
        prop_assert!(
            (e.score[i] - fd).abs() <= 1e-5 * (1.0 + e.score[i].abs()) * h_scale,
            "score[{i}] {} vs fd {fd}",
            e.score[i]
        );
        let (mut sp, mut sm) = (vec![0.0; d], vec![0.0; d]);
        p.score_into(&xp, &mut sp);
        p.score_into(&xm, &mut sm);
        let (mut vp, mut vm) = (vec![0.0; d], vec![0.0; d]);
        p.velocity_into(&xp, &mut vp);
        p.velocity_into(&xm, &mut vm);
        let mut jac = DMatrix::zeros(d, d);
        let mut vel = vec![0.0; d];
        p.jacobian_into(x, &mut jac, &mut vel);
        let j_scale = jac.abs().max() + c.f.abs() + 1.0;
        for r in 0..d {
            let fd_h = (sp[r] - sm[r]) / (2.0 * hs);
            prop_assert!(
                (e.hessian[(r, i)] - fd_h).abs() <= 1e-5 * h_scale,
                "H[{r},{i}] {} vs fd {fd_h}",
                e.hessian[(r, i)]
            );
            let fd_j = (vp[r] - vm[r]) / (2.0 * hs);
            prop_assert!(
                (jac[(r, i)] - fd_j).abs() <= 1e-5 * j_scale,
                "J[{r},{i}] {} vs fd of the velocity {fd_j}",
                jac[(r, i)]
            );
        }
    }
    // v = f x - h s and J = f I - h H, each to rounding of its terms.
    let mut jac = DMatrix::zeros(d, d);
    let mut vel = vec![0.0; d];
    p.jacobian_into(x, &mut jac, &mut vel);
    for i in 0..d {
        let want = c.f * x[i] - c.h * e.score[i];
        let scale = (c.f * x[i]).abs() + (c.h * e.score[i]).abs() + 1e-300;
        prop_assert!((e.velocity[i] - want).abs() <= 1e-12 * scale, "v[{i}]");
        prop_assert!(
            (vel[i] - e.velocity[i]).abs() <= 1e-12 * scale,
            "v[{i}] jacobian_into"
        );
        for r in 0..d {
            let delta = if r == i { c.f } else { 0.0 };
            let want = delta - c.h * e.hessian[(r, i)];
            let scale = c.f.abs() + c.h * h_scale;
            prop_assert!(
                (jac[(r, i)] - want).abs() <= 1e-12 * scale,
                "J[{r},{i}] vs f I - h H"
            );
        }
    }
    // The gradient of v^T J v (the searches' objective) against finite differences.
    let v: Vec<f64> = (0..d).map(|i| 1.0 / (1.0 + i as f64)).collect();
    let form = |p: &mut Marginal, y: &[f64]| {
        let (mut j, mut vel) = (DMatrix::zeros(d, d), vec![0.0; d]);
        p.jacobian_into(y, &mut j, &mut vel);
        let vv = nalgebra::DVector::from_column_slice(&v);
        vv.dot(&(&j * &vv))
    };
    form(&mut p, x);
    let mut g = vec![0.0; d];
    p.jacobian_form_gradient(&v, &mut g);
    for i in 0..d {
        let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
        xp[i] += hs;
        xm[i] -= hs;
        let fd = (form(&mut p, &xp) - form(&mut p, &xm)) / (2.0 * hs);
        let scale = 1.0 + fd.abs() + g[i].abs() + c.h * h_scale * h_scale;
        prop_assert!(
            (g[i] - fd).abs() <= 1e-4 * scale,
            "grad v^T J v [{i}] {} vs fd {fd}",
            g[i]
        );
    }
    Ok(())
}

fn spec_of(mix: &Mixture) -> MixtureSpec {
    mix.to_spec()
}

fn arb_point(d: usize) -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(-3.0f64..3.0, d)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Score, Hessian, velocity, Jacobian and the searches' gradient on every path.
    #[test]
    fn derivatives_match_finite_differences_on_every_path(
        (mix, x) in common::arb_mixture(1..=4, 1..=4, 0.05, 2.0, 2.0, false)
            .prop_flat_map(|m| { let d = m.dim(); (Just(m), arb_point(d)) }),
        which in 0usize..5,
        u in 0.0f64..1.0,
    ) {
        let name = PROCESS_NAMES[which];
        let t = time_at(name, u);
        let mix = mix.with_process(process(name));
        finite_difference_checks(&mix, t, &x)?;
    }

    /// The velocity Jacobian to full accuracy against 480-bit `J = f I - h H`.
    #[test]
    fn jacobian_matches_high_precision_reference_on_every_path(
        (mix, x) in common::arb_mixture(1..=3, 1..=3, 1e-3, 2.0, 2.0, false)
            .prop_flat_map(|m| { let d = m.dim(); (Just(m), arb_point(d)) }),
        which in 0usize..5,
        u in 0.0f64..1.0,
    ) {
        let name = PROCESS_NAMES[which];
        let t = time_at(name, u);
        let mix = mix.with_process(process(name));
        let d = mix.dim();
        let want = reference::jacobian_on(&spec_of(&mix), &reference::path(name, t), &x);
        let mut p = Marginal::new(&mix, t).unwrap();
        let (mut j, mut vel) = (DMatrix::zeros(d, d), vec![0.0; d]);
        p.jacobian_into(&x, &mut j, &mut vel);
        let n = reference::norms(&want);
        for r in 0..d {
            for c in 0..d {
                let w = want[r][c].to_f64();
                prop_assert!(
                    (j[(r, c)] - w).abs() <= 1e-9 * n.scale.max(1e-300),
                    "{name} t={t}: J[{r},{c}] {} vs {w} (scale {})", j[(r, c)], n.scale
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(30))]

    /// Shared covariances (global bounds) and heterogeneous ones (bounds on B_R).
    #[test]
    fn bounds_dominate_bfgs_sup_on_every_path(
        mix in prop_oneof![
            common::arb_mixture(1..=4, 1..=4, 1e-3, 3.0, 3.0, true),
            common::arb_mixture(2..=4, 1..=4, 1e-3, 3.0, 3.0, false),
        ],
        which in 0usize..5,
        u in 0.0f64..1.0,
        seed in 0u64..1000,
    ) {
        let name = PROCESS_NAMES[which];
        let mix = mix.with_process(process(name));
        assert_bounds_hold(&mix, time_at(name, u), seed)?;
    }

    /// Flows: default tolerance against a tight dop853 reference, composition
    /// `Phi_{t1->t0} o Phi_{t2->t1} = Phi_{t2->t0}` and inversion `Phi_{t0->t2} o Phi_{t2->t0} = id`.
    #[test]
    fn flows_compose_and_invert_on_every_path(
        (mix, x) in common::arb_mixture(1..=3, 1..=3, 0.01, 1.0, 2.0, false)
            .prop_flat_map(|m| { let d = m.dim(); (Just(m), arb_point(d)) }),
        which in 0usize..5,
        u in proptest::collection::vec(0.0f64..1.0, 3),
    ) {
        let name = PROCESS_NAMES[which];
        let mut ts: Vec<f64> = u.iter().map(|&v| time_at(name, v)).collect();
        ts.sort_by(f64::total_cmp);
        prop_assume!(ts[0] < ts[1] && ts[1] < ts[2]);
        let mix = mix.with_process(process(name));
        let tight = ExactFlow::new(&mix, common::solver_options(Method::Dop853, 1e-12));
        let loose = ExactFlow::new(&mix, common::solver_options(Method::Dopri5, 1e-9));
        let whole = tight.map(&x, ts[2], ts[0]).unwrap().y;
        let half = tight.map(&x, ts[2], ts[1]).unwrap().y;
        let composed = tight.map(half.as_slice(), ts[1], ts[0]).unwrap().y;
        let back = tight.map(whole.as_slice(), ts[0], ts[2]).unwrap().y;
        let approx = loose.map(&x, ts[2], ts[0]).unwrap().y;
        let scale = 1.0 + whole.norm() + nalgebra::DVector::from_column_slice(&x).norm();
        prop_assert!((&composed - &whole).norm() <= 1e-8 * scale, "{name}: composition");
        prop_assert!((&approx - &whole).norm() <= 1e-5 * scale, "{name}: dopri5 vs dop853");
        let xv = nalgebra::DVector::from_column_slice(&x);
        // Inversion loses what the forward map contracts: allow the contraction ratio.
        let contraction = (whole.norm() + 1.0) / (xv.norm() + 1.0);
        prop_assert!(
            (&back - &xv).norm() <= 1e-7 * scale / contraction.min(1.0),
            "{name}: inversion {} vs {}", back, xv
        );
    }
}

/// The kept mutation: OU's scalar factors on the rectified path fall below the supremum
/// the search finds (so the bound tests above would catch a path whose `f`, `h` were not
/// carried over), while the right bound holds at the same time.
#[test]
fn ou_factors_on_another_path_are_caught() {
    for (name, t) in [("rectified", 0.8), ("vp-linear", 0.7), ("vp-cosine", 0.9)] {
        let mix = builtin::two_mode(0.1).with_process(process(name));
        let good = Lipschitz::auto(&mix);
        let bad = Lipschitz::auto(&mix).mutated(Mutation::OuFactors);
        let e = empirical_sup(&good, t, &SearchConfig::quick()).unwrap();
        let (b_good, b_bad) = (good.at(t).unwrap(), bad.at(t).unwrap());
        assert!(
            e.norm.value <= b_good.bound + slack(&b_good),
            "{name}: right bound fails"
        );
        assert!(
            e.norm.value > b_bad.bound * (1.0 + 1e-6),
            "{name} t={t}: mutated bound {} not below sup {}",
            b_bad.bound,
            e.norm.value
        );
    }
}

/// The peer grids in the path's own coordinates, the balanced grid in its own `Lambda`,
/// and times outside the path refused with its range.
#[test]
fn grids_follow_each_path() {
    for name in PROCESS_NAMES {
        let p = process(name);
        let mix = builtin::two_mode(0.3).with_process(p.clone());
        let (lo, hi) = working_range(name);
        let ts = GridKind::LogSnr.times(&mix, lo, hi, 6).unwrap();
        let steps: Vec<f64> = ts
            .windows(2)
            .map(|w| p.log_snr(w[1]) - p.log_snr(w[0]))
            .collect();
        assert!(
            steps.iter().all(|s| rel(*s, steps[0]) < 1e-9),
            "{name} logsnr {steps:?}"
        );
        let ts = GridKind::Edm { rho: 7.0 }.times(&mix, lo, hi, 6).unwrap();
        let r: Vec<f64> = ts
            .iter()
            .map(|&t| p.noise_ratio(t).powf(1.0 / 7.0))
            .collect();
        let steps: Vec<f64> = r.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            steps.iter().all(|s| rel(*s, steps[0]) < 1e-9),
            "{name} edm {steps:?}"
        );
        let ts = GridKind::Balanced.times(&mix, lo, hi, 6).unwrap();
        let lam = lambda_at(&mix, &ts).unwrap();
        for (i, l) in lam.iter().enumerate() {
            assert!(
                rel(*l, lam[6] * i as f64 / 6.0) < 1e-6 || i == 0,
                "{name} balanced {lam:?}"
            );
        }
    }
    let rf = builtin::two_mode(0.3).with_process(process("rectified"));
    let e = GridKind::Uniform
        .times(&rf, 0.1, 1.0, 4)
        .unwrap_err()
        .to_string();
    assert!(e.contains("(0, 1)") && e.contains("--t-max"), "{e}");
}

/// The OU construction itself (`ScoreNetwork`) works in OU coordinates and says so,
/// pointing to `PathScoreNetwork` (tests/it/score_path.rs) for the other paths.
#[test]
fn score_construction_refuses_other_paths() {
    use flowcert::approx::{ScoreNetConfig, ScoreNetwork};
    let mix = builtin::two_mode(0.3).with_process(process("edm"));
    let e = ScoreNetwork::build(&mix, &ScoreNetConfig::new(0.1).check().unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("OU coordinates only") && e.contains("PathScoreNetwork") && e.contains("'edm"),
        "{e}"
    );
}

/// A path of one's own through the trait: checked, then usable by every checker.
#[test]
fn user_paths_are_validated() {
    use flowcert::model::process::{PathCoeffs, TimeDomain};
    #[derive(Debug)]
    struct Growing;
    impl GaussianPath for Growing {
        fn name(&self) -> &str {
            "growing"
        }
        fn domain(&self) -> TimeDomain {
            TimeDomain {
                lo: 0.0,
                lo_open: true,
                hi: 1.0,
                hi_open: false,
            }
        }
        fn coeffs(&self, t: f64) -> PathCoeffs {
            // alpha increasing: not admissible.
            PathCoeffs::from_derivatives(t, 1.0 + t, 1.0, t, 1.0)
        }
    }
    let e = Process::new(Growing).unwrap_err().to_string();
    assert!(
        e.contains("growing") && e.contains("alpha must not increase"),
        "{e}"
    );
    #[derive(Debug)]
    struct Frozen;
    impl GaussianPath for Frozen {
        fn name(&self) -> &str {
            "frozen"
        }
        fn domain(&self) -> TimeDomain {
            TimeDomain {
                lo: 0.0,
                lo_open: true,
                hi: 1.0,
                hi_open: false,
            }
        }
        fn coeffs(&self, t: f64) -> PathCoeffs {
            // Nothing moves: h = 0, the SNR does not fall -- not admissible.
            PathCoeffs::from_derivatives(t, 1.0, 0.0, 1.0, 0.0)
        }
    }
    let e = Process::new(Frozen).unwrap_err().to_string();
    assert!(e.contains("frozen") && e.contains("h = g^2/2"), "{e}");
}

/// `--process` on the commands: the JSON names the path, times are validated per path,
/// parameters belong to their path, OU output keeps its fields.
#[test]
fn cli_takes_process_on_every_checker() {
    use crate::common::cli::{assert_bad, run_json, tmp_file};
    let pts = tmp_file("process", "pts.json", "[[0.3, 0.2], [-1.0, 0.5]]");
    let m = "builtin:two-mode-s0.1";
    let j = run_json(&[
        "--json",
        "eval",
        "--mixture",
        m,
        "--t",
        "0.5",
        "--points",
        &pts,
    ]);
    assert_eq!(j["process"]["name"], "ou");
    assert!(j["points"][0]["velocity"].is_array());
    for name in PROCESS_NAMES {
        let t = if name == "edm" { "2" } else { "0.5" };
        let j = run_json(&[
            "--json",
            "eval",
            "--mixture",
            m,
            "--process",
            name,
            "--t",
            t,
            "--points",
            &pts,
        ]);
        assert_eq!(j["process"]["name"], name);
        // The velocity printed is f x - h s of this path.
        let c = process(name).coeffs(t.parse().unwrap());
        let (x, s, v) = (
            &j["points"][0]["x"],
            &j["points"][0]["score"],
            &j["points"][0]["velocity"],
        );
        for i in 0..2 {
            let want = c.f * x[i].as_f64().unwrap() - c.h * s[i].as_f64().unwrap();
            assert!(
                (v[i].as_f64().unwrap() - want).abs() < 1e-12 * (1.0 + want.abs()),
                "{name}"
            );
        }
    }
    let j = run_json(&[
        "--json",
        "eval",
        "--mixture",
        m,
        "--process",
        "vp-linear",
        "--beta-max",
        "10",
        "--t",
        "0.5",
        "--points",
        &pts,
    ]);
    assert_eq!(j["process"]["beta_max"], 10.0);
    let j = run_json(&[
        "--json",
        "lipschitz",
        "--mixture",
        m,
        "--process",
        "rectified",
        "--times",
        "0.2,0.9",
        "--quick",
    ]);
    assert_eq!(j["process"]["name"], "rectified");
    let j = run_json(&[
        "--json",
        "grid",
        "--mixture",
        m,
        "--process",
        "edm",
        "--kind",
        "logsnr",
        "--segments",
        "4",
        "--t-min",
        "0.002",
        "--t-max",
        "80",
    ]);
    assert_eq!(j["process"]["name"], "edm");
    assert_bad(
        &[
            "eval",
            "--mixture",
            m,
            "--process",
            "rectified",
            "--t",
            "1",
            "--points",
            &pts,
        ],
        &["--t = 1", "rectified", "(0, 1)"],
    );
    assert_bad(
        &[
            "flow",
            "--mixture",
            m,
            "--process",
            "edm",
            "--from",
            "100",
            "--to",
            "0.01",
            "--points",
            &pts,
        ],
        &["--from", "[0.002, 80]"],
    );
    assert_bad(
        &[
            "lipschitz",
            "--mixture",
            m,
            "--process",
            "vp-cosine",
            "--times",
            "0.5,1",
        ],
        &["vp-cosine", "(0, 1)"],
    );
    assert_bad(
        &[
            "eval",
            "--mixture",
            m,
            "--process",
            "ve",
            "--t",
            "1",
            "--points",
            &pts,
        ],
        &["unknown process 've'", "rectified"],
    );
    assert_bad(
        &[
            "eval",
            "--mixture",
            m,
            "--process",
            "edm",
            "--beta-max",
            "3",
            "--t",
            "1",
            "--points",
            &pts,
        ],
        &["--beta-max 3", "vp-linear only"],
    );
    assert_bad(
        &[
            "eval",
            "--mixture",
            m,
            "--process",
            "vp-linear",
            "--beta-max",
            "-1",
            "--t",
            "0.5",
            "--points",
            &pts,
        ],
        &["--beta-max -1"],
    );
    assert_bad(
        &[
            "score-net",
            "--mixture",
            m,
            "--process",
            "edm",
            "--eps",
            "0.1",
            "--t-min",
            "0.001",
        ],
        &["--t-min", "0.001"],
    );
}

/// Pinned (3 significant digits): the L(t) comparison on two-mode-s0.1 for every path at
/// the OU report times matched to the path, and the process axis of `reproduce` at the
/// tiny scale (bounds, stability and the distillation cells of that scale).
#[test]
fn pinned_path_tables() {
    use flowcert::experiments::{CellStore, Shard};
    use flowcert::suite::{Plan, Scale, Silent, paths};
    use flowcert::theorems::lipschitz::{REPORT_TIMES, compare_bounds};
    for name in PROCESS_NAMES {
        let p = process(name);
        let mix = builtin::two_mode(0.1).with_process(p.clone());
        let times: Vec<f64> = REPORT_TIMES
            .iter()
            .map(|&t| p.matched_time(&Process::default(), t))
            .collect();
        let r = compare_bounds(&mix, &times, &SearchConfig::quick()).unwrap();
        assert_eq!(r.violations, 0, "{name}");
        common::pinned(|| {
            insta::assert_snapshot!(format!("lipschitz_path_{name}"), r.table().to_markdown());
        });
    }
    let dir = std::env::temp_dir().join(format!("flowcert-paths-{}", std::process::id()));
    let store = CellStore::open(&dir).unwrap();
    let (s, v) = paths::section(&Plan::at(Scale::Tiny).paths, &store, Shard::ALL, &Silent).unwrap();
    assert_eq!(v, 0);
    // Variance-preserving paths are OU on another clock: the same Lambda (theory/07, Theorem 6).
    let lam: Vec<f64> = s.entries.iter().map(|e| e.lambda_total).collect();
    assert!(
        (lam[1] / lam[0] - 1.0).abs() < 1e-6 && (lam[2] / lam[0] - 1.0).abs() < 1e-6,
        "{lam:?}"
    );
    common::pinned(|| insta::assert_snapshot!("paths_tiny", paths::table(&s, 3).to_markdown()));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `queries` on another path records it in the manifest, and `QuerySet::load` puts the
/// mixture back on it (so `assess` scores answers against that path's exact score and
/// flow); score times outside the path are refused.
#[test]
fn query_sets_carry_their_path() {
    use flowcert::theorems::assess::queries::{QueryConfig, QuerySet};
    let mix = builtin::two_mode(0.3).with_process(process("vp-cosine"));
    let cfg = QueryConfig {
        times: vec![0.1, 0.5],
        samples: 4,
        seed: 0,
        grid: GridKind::Uniform,
        segments: 2,
        t_min: 0.05,
        t_max: 0.9,
    }
    .check()
    .unwrap();
    let set = QuerySet::generate(&mix, &cfg).unwrap();
    assert_eq!(set.manifest.process.as_ref().unwrap().name, "vp-cosine");
    let dir = std::env::temp_dir().join(format!("flowcert-qpath-{}", std::process::id()));
    set.write(&dir).unwrap();
    let back = QuerySet::load(&dir).unwrap();
    assert_eq!(back.mixture.process(), mix.process());
    let _ = std::fs::remove_dir_all(&dir);
    let ou = QuerySet::generate(&builtin::two_mode(0.3), &cfg).unwrap();
    assert!(ou.manifest.process.is_none());
    let bad = QueryConfig {
        times: vec![0.5, 1.0],
        samples: 4,
        seed: 0,
        grid: GridKind::Uniform,
        segments: 2,
        t_min: 0.05,
        t_max: 0.9,
    }
    .check()
    .unwrap();
    let e = QuerySet::generate(&mix, &bad).unwrap_err().to_string();
    assert!(e.contains("(0, 1)"), "{e}");
}

/// Stability on a heterogeneous mixture (bounds local to `B_R`, trajectories contained by
/// the path bound of `theorems::path_bound`) on the paths whose `alpha` vanishes or whose
/// rates grow: no violation, and samples survive the containment test.
#[test]
fn local_stability_holds_on_other_paths() {
    use flowcert::theorems::stability::{StabilityConfig, measure_grid};
    // Not edm: there the local (heterogeneous) bound's ball grows with sigma (alpha = 1),
    // int L over hetero3 is ~1e6 even on [0.15, 2], and the stability checker refuses it
    // (`TooManyPieces`, the size limit) instead of certifying a vacuous exp(1e6).
    for (name, lo, hi) in [("rectified", 0.05, 0.95), ("vp-linear", 0.02, 1.0)] {
        let mix = builtin::hetero3().with_process(process(name));
        let r = measure_grid(
            &mix,
            &GridKind::Balanced,
            lo,
            hi,
            3,
            &StabilityConfig::quick(),
        )
        .unwrap();
        assert_eq!(r.violations, 0, "{name}");
        assert!(r.region_radius.is_some());
        assert!(
            r.segments.iter().all(|s| s.measured.is_some()),
            "{name}: a segment without a contained sample"
        );
    }
}
