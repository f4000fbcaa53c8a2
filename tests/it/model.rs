//! The exact model: score = grad log p, Hessian = Jacobian of the score, sampling moments,
//! numerical robustness, closed forms for one Gaussian.

use crate::common;

use approx::assert_relative_eq;
use flowcert::model::{Marginal, Mixture, MixtureSpec, builtin};
use flowcert::tolerance::{EXACT, FINITE_DIFF_ABS, FINITE_DIFF_REL, FINITE_DIFF_STEP};
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn point_near(mix: &Mixture, t: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    mix.sample(t, 1, &mut rng)
        .column(0)
        .iter()
        .copied()
        .collect()
}

fn fd_score(p: &mut Marginal, x: &[f64]) -> Vec<f64> {
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|i| {
            let h = FINITE_DIFF_STEP * x[i].abs().max(1.0);
            xp[i] = x[i] + h;
            let fp = p.log_density(&xp);
            xp[i] = x[i] - h;
            let fm = p.log_density(&xp);
            xp[i] = x[i];
            (fp - fm) / (2.0 * h)
        })
        .collect()
}

fn fd_hessian(p: &mut Marginal, x: &[f64]) -> DMatrix<f64> {
    let d = x.len();
    let mut xp = x.to_vec();
    let (mut sp, mut sm) = (vec![0.0; d], vec![0.0; d]);
    let mut h_out = DMatrix::zeros(d, d);
    for c in 0..d {
        let h = FINITE_DIFF_STEP * x[c].abs().max(1.0);
        xp[c] = x[c] + h;
        p.score_into(&xp, &mut sp);
        xp[c] = x[c] - h;
        p.score_into(&xp, &mut sm);
        xp[c] = x[c];
        for r in 0..d {
            h_out[(r, c)] = (sp[r] - sm[r]) / (2.0 * h);
        }
    }
    h_out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The score is the gradient of log p_t (central finite differences).
    #[test]
    fn score_is_gradient_of_log_density(mix in common::any_mixture(), t in 0.05f64..2.5, seed in 0u64..1000) {
        let x = point_near(&mix, t, seed);
        let mut p = Marginal::new(&mix, t).unwrap();
        let mut s = vec![0.0; mix.dim()];
        p.score_into(&x, &mut s);
        let fd = fd_score(&mut p, &x);
        let scale = s.iter().fold(1.0f64, |a, v| a.max(v.abs()));
        for i in 0..s.len() {
            prop_assert!((s[i] - fd[i]).abs() <= FINITE_DIFF_REL * scale + FINITE_DIFF_ABS,
                "component {i}: score {} vs finite difference {}", s[i], fd[i]);
        }
    }

    /// The Hessian is the Jacobian of the score, and symmetric; J = -I - H.
    #[test]
    fn hessian_is_jacobian_of_score(mix in common::any_mixture(), t in 0.05f64..2.5, seed in 0u64..1000) {
        let d = mix.dim();
        let x = point_near(&mix, t, seed);
        let mut p = Marginal::new(&mix, t).unwrap();
        let mut h = DMatrix::zeros(d, d);
        let mut s = vec![0.0; d];
        p.hessian_into(&x, &mut h, &mut s);
        let fd = fd_hessian(&mut p, &x);
        let scale = h.amax().max(1.0);
        prop_assert!((&h - &fd).amax() <= FINITE_DIFF_REL * scale + FINITE_DIFF_ABS,
            "Hessian {h} vs finite differences {fd}");
        prop_assert!((&h - h.transpose()).amax() <= EXACT * scale);
        let mut j = DMatrix::zeros(d, d);
        let mut v = vec![0.0; d];
        p.jacobian_into(&x, &mut j, &mut v);
        prop_assert!((j + &h + DMatrix::identity(d, d)).amax() <= EXACT * scale);
        for i in 0..d {
            prop_assert!((v[i] + x[i] + s[i]).abs() <= EXACT * (1.0 + s[i].abs() + x[i].abs()));
        }
    }

    /// Responsibilities are a probability vector; batched evaluation equals pointwise.
    #[test]
    fn responsibilities_and_batches(mix in common::any_mixture(), t in 0.01f64..3.0, seed in 0u64..1000) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let xs = mix.sample(t, 5, &mut rng);
        let mut p = Marginal::new(&mix, t).unwrap();
        let batch = p.score_batch(&xs);
        for c in 0..xs.ncols() {
            let x: Vec<f64> = xs.column(c).iter().copied().collect();
            let r = p.responsibilities(&x).to_vec();
            prop_assert!((r.iter().sum::<f64>() - 1.0).abs() <= EXACT);
            prop_assert!(r.iter().all(|&v| (0.0..=1.0).contains(&v)));
            let mut s = vec![0.0; mix.dim()];
            p.score_into(&x, &mut s);
            prop_assert_eq!(batch.column(c).iter().copied().collect::<Vec<_>>(), s);
        }
    }
}

/// One Gaussian: log p_t, score and Hessian have closed forms with S = alpha^2 Sigma + sigma^2 I.
#[test]
fn single_gaussian_closed_form() {
    let cov = builtin::rotated_covariance(&[0.01, 0.5, 2.0], 5);
    let mu = [0.5, -1.0, 2.0];
    let mix = MixtureSpec {
        weights: vec![1.0],
        means: vec![mu.to_vec()],
        covariances: vec![
            (0..3)
                .map(|r| cov.row(r).iter().copied().collect())
                .collect(),
        ],
    }
    .check()
    .unwrap();
    let t: f64 = 0.3;
    let (a, s2) = ((-t).exp(), -(-2.0 * t).exp_m1());
    let s = &cov * (a * a) + DMatrix::identity(3, 3) * s2;
    let sinv = s.clone().try_inverse().unwrap();
    let x = DVector::from_vec(vec![0.1, 0.2, -0.3]);
    let dx = &x - DVector::from_column_slice(&mu) * a;
    let expect_logp = -0.5 * (dx.transpose() * &sinv * &dx)[(0, 0)]
        - 0.5 * s.determinant().ln()
        - 1.5 * (2.0 * std::f64::consts::PI).ln();
    let mut p = Marginal::new(&mix, t).unwrap();
    let e = p.eval(x.as_slice());
    assert_relative_eq!(e.logp, expect_logp, max_relative = EXACT);
    assert_relative_eq!(e.score, -&sinv * &dx, max_relative = EXACT, epsilon = EXACT);
    assert_relative_eq!(e.hessian, -sinv, max_relative = EXACT, epsilon = EXACT);
}

/// Far-out points, large separations and tiny times give finite values, no NaN.
#[test]
fn robust_far_points_large_separation_small_t() {
    let mix = MixtureSpec {
        weights: vec![0.5, 0.5],
        means: vec![vec![-500.0, 0.0], vec![500.0, 0.0]],
        covariances: vec![vec![vec![1e-3, 0.0], vec![0.0, 1e-3]]; 2],
    }
    .check()
    .unwrap();
    for &t in &[1e-9, 1e-4, 0.5, 20.0] {
        let mut p = Marginal::new(&mix, t).unwrap();
        for x in [[1e6, -1e6], [0.0, 0.0], [-1e6, 3.0], [1e-3, 1e6]] {
            let e = p.eval(&x);
            assert!(e.logp.is_finite(), "logp at t={t} x={x:?}");
            assert!(e.score.iter().all(|v| v.is_finite()));
            assert!(e.hessian.iter().all(|v| v.is_finite()));
            assert!(e.responsibilities.iter().all(|v| v.is_finite()));
        }
    }
    // Mid-point between two far modes: responsibilities (1/2, 1/2), Hessian picks up the
    // score covariance alpha^2 D^2 / (4 S^2) in the separating direction.
    let t: f64 = 1.0;
    let mut p = Marginal::new(&mix, t).unwrap();
    let e = p.eval(&[0.0, 0.0]);
    assert_relative_eq!(e.responsibilities[0], 0.5, max_relative = EXACT);
    let (a2, s2) = ((-2.0 * t).exp(), -(-2.0 * t).exp_m1());
    let s = a2 * 1e-3 + s2;
    let expect = -1.0 / s + a2 * 1000.0f64.powi(2) / (4.0 * s * s);
    assert_relative_eq!(e.hessian[(0, 0)], expect, max_relative = 1e-9);
}

/// Empirical mean and covariance of p_t match the exact moments (fixed seed, 5 standard errors).
#[test]
fn sampling_matches_moments() {
    let n = 200_000;
    for (name, mix) in builtin::suite() {
        for &t in &[0.0, 0.3, 2.0] {
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            let xs = mix.sample(t, n, &mut rng);
            let mean = xs.column_mean();
            let centred = &xs - &mean * DVector::from_element(n, 1.0).transpose();
            let cov = &centred * centred.transpose() / (n as f64 - 1.0);
            let em = mix.moment_mean(t);
            let ec = mix.moment_covariance(t);
            for i in 0..mix.dim() {
                let se = (ec[(i, i)] / n as f64).sqrt();
                assert!(
                    (mean[i] - em[i]).abs() < 5.0 * se,
                    "{name} t={t}: mean[{i}] {} vs {}",
                    mean[i],
                    em[i]
                );
                for j in 0..mix.dim() {
                    // Var of a product moment <= sqrt(E x^4 E y^4) ~ 3 sqrt(c_ii c_jj) for near-Gaussian tails
                    let se = (3.0 * ec[(i, i)] * ec[(j, j)] / n as f64).sqrt() * 2.0;
                    assert!(
                        (cov[(i, j)] - ec[(i, j)]).abs() < 5.0 * se,
                        "{name} t={t}: cov[{i},{j}] {} vs {}",
                        cov[(i, j)],
                        ec[(i, j)]
                    );
                }
            }
        }
    }
}

/// Invalid times and points are rejected with a message that names them.
#[test]
fn bad_time_and_point_messages() {
    let mix = builtin::two_mode(0.1);
    let e = Marginal::new(&mix, f64::NAN).unwrap_err().to_string();
    assert!(e.contains("t = NaN"), "{e}");
    let e = mix
        .check_point("points[2]", &[1.0, f64::INFINITY])
        .unwrap_err()
        .to_string();
    assert!(e.contains("points[2][1]"), "{e}");
}

mod quick {
    use flowcert::model::OuCoeffs;
    use flowcert::model::process::{log_snr, log_snr_inverse, ve_sigma, ve_sigma_inverse};
    use quickcheck::quickcheck;

    quickcheck! {
        /// alpha_t^2 + sigma_t^2 = 1 for every time.
        fn variance_preserving(t: u32) -> bool {
            let t = t as f64 / u32::MAX as f64 * 20.0;
            let c = OuCoeffs::at(t);
            (c.alpha2 + c.sigma2 - 1.0).abs() < 1e-15 && (c.alpha * c.alpha - c.alpha2).abs() < 1e-15
        }
        /// The log-SNR and VE-sigma coordinates invert.
        fn coordinates_invert(t: u32) -> bool {
            let t = 1e-4 + t as f64 / u32::MAX as f64 * 10.0;
            (log_snr_inverse(log_snr(t)) - t).abs() < 1e-12 * t.max(1.0)
                && (ve_sigma_inverse(ve_sigma(t)) - t).abs() < 1e-12 * t.max(1.0)
        }
    }
}
