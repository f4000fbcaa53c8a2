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
    let mix = common::single_gaussian(&mu, &cov);
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

/// Two far modes `N((-+500, 0), 1e-3 I)`, equal weights, at far points, the midpoint and
/// tiny and large times, against closed forms: with a shared isotropic `S = alpha^2 1e-3 +
/// sigma^2`, the log-weight difference is linear, `l_1 - l_2 = alpha (mu_1 - mu_2) . x / S`,
/// so `r_1 = 1 / (1 + e^{-(l_1 - l_2)})`, `s = -(x - alpha sum r_k mu_k) / S`,
/// `H = -I/S + r_1 r_2 alpha^2 (mu_1 - mu_2)(mu_1 - mu_2)^T / S^2` and
/// `log p = ln(1/2) + max_k l_k + ln(1 + e^{-|l_1 - l_2|}) - ln(2 pi S)`. Far from one mode
/// the other's responsibility underflows to 0 and the score is that component's score;
/// near the midpoint both modes count (`r_1` between 0 and 1). The model computes each
/// `l_k` (up to `-1e15` here) to its rounding, `delta = 4 eps max_k |l_k|` absolute, so the
/// comparisons allow what `delta` propagates to: `r_1 r_2 delta` in `r_1`,
/// `alpha |mu_1 - mu_2| r_1 r_2 delta / S` in the score and `alpha^2 |mu_1 - mu_2|^2
/// |1 - 2 r_1| r_1 r_2 delta / S^2` in the Hessian (zero where a responsibility is 0 or 1),
/// on top of `EXACT` relative.
#[test]
fn far_points_large_separation_small_t_match_closed_forms() {
    let mix = MixtureSpec {
        weights: vec![0.5, 0.5],
        means: vec![vec![-500.0, 0.0], vec![500.0, 0.0]],
        covariances: vec![vec![vec![1e-3, 0.0], vec![0.0, 1e-3]]; 2],
    }
    .check()
    .unwrap();
    let mu = [
        DVector::from_vec(vec![-500.0, 0.0]),
        DVector::from_vec(vec![500.0, 0.0]),
    ];
    let mut regimes = [0usize; 3]; // r_1 = 0, r_1 in (0, 1), r_1 = 1
    for &t in &[1e-9f64, 1e-4, 0.5, 20.0] {
        let (alpha, s2) = ((-t).exp(), -(-2.0 * t).exp_m1());
        let s = alpha * alpha * 1e-3 + s2;
        let mut p = Marginal::new(&mix, t).unwrap();
        for x in [
            [1e6, -1e6],
            [0.0, 0.0],
            [-1e6, 3.0],
            [1e-3, 1e6],
            [3e-7, 2.0],
        ] {
            let xv = DVector::from_column_slice(&x);
            let l: Vec<f64> = mu
                .iter()
                .map(|m| -(&xv - m * alpha).norm_squared() / (2.0 * s))
                .collect();
            let dl = alpha * (&mu[0] - &mu[1]).dot(&xv) / s;
            let r1 = 1.0 / (1.0 + (-dl).exp());
            let r2 = 1.0 / (1.0 + dl.exp());
            regimes[if r1 == 0.0 {
                0
            } else if r1 < 1.0 {
                1
            } else {
                2
            }] += 1;
            let logp = 0.5f64.ln() + l[0].max(l[1]) + (-dl.abs()).exp().ln_1p()
                - (2.0 * std::f64::consts::PI * s).ln();
            let score = -(&xv - (&mu[0] * r1 + &mu[1] * r2) * alpha) / s;
            let gap = (&mu[0] - &mu[1]) * alpha;
            let hess =
                DMatrix::identity(2, 2) * (-1.0 / s) + &gap * gap.transpose() * (r1 * r2 / (s * s));
            let e = p.eval(&x);
            let at = format!("t = {t}, x = {x:?}");
            let delta = 4.0 * f64::EPSILON * l[0].abs().max(l[1].abs()) * r1 * r2;
            let g = gap.norm();
            assert!(
                (e.logp - logp).abs() <= EXACT * logp.abs().max(1.0),
                "logp {} vs {logp} at {at}",
                e.logp
            );
            assert!(
                (e.responsibilities[0] - r1).abs() <= EXACT + delta,
                "r_1 {} vs {r1} at {at}",
                e.responsibilities[0]
            );
            assert!(
                (&e.score - &score).norm() <= EXACT * score.norm().max(1.0) + g * delta / s,
                "score {} vs {score} at {at}",
                e.score
            );
            assert!(
                (&e.hessian - &hess).amax()
                    <= EXACT * hess.amax() + g * g * (1.0 - 2.0 * r1).abs() * delta / (s * s),
                "Hessian {} vs {hess} at {at}",
                e.hessian
            );
        }
    }
    assert!(
        regimes.iter().all(|&n| n > 0),
        "every responsibility regime is visited: {regimes:?}"
    );
}

/// One anisotropic Gaussian at `|x| = 1e6` (the score ~1e8 at `t = 1e-9`): log p, score and
/// Hessian equal the closed forms at tiny, moderate and large times.
#[test]
fn single_gaussian_far_away_closed_form() {
    let cov = builtin::rotated_covariance(&[0.01, 0.5, 2.0], 5);
    let mu = DVector::from_vec(vec![0.5, -1.0, 2.0]);
    let mix = common::single_gaussian(mu.as_slice(), &cov);
    let x = DVector::from_vec(vec![6e5, -8e5, 0.0]);
    assert_eq!(x.norm(), 1e6);
    for &t in &[1e-9f64, 0.3, 20.0] {
        let (a, s2) = ((-t).exp(), -(-2.0 * t).exp_m1());
        let s = &cov * (a * a) + DMatrix::identity(3, 3) * s2;
        let sinv = s.clone().try_inverse().unwrap();
        let dx = &x - &mu * a;
        let logp = -0.5 * (dx.transpose() * &sinv * &dx)[(0, 0)]
            - 0.5 * s.determinant().ln()
            - 1.5 * (2.0 * std::f64::consts::PI).ln();
        let e = Marginal::new(&mix, t).unwrap().eval(x.as_slice());
        assert_relative_eq!(e.logp, logp, max_relative = EXACT);
        // Relative to the whole vector: an entry that is a sum of terms ~1e8 cancelling to
        // ~1e-9 carries the closed form's own rounding (~1e-8 absolute).
        let score = -&sinv * &dx;
        assert!(
            (&e.score - &score).norm() <= EXACT * score.norm(),
            "t = {t}: {} vs {score}",
            e.score
        );
        assert!(
            (&e.hessian + &sinv).amax() <= EXACT * sinv.amax(),
            "t = {t}"
        );
    }
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
