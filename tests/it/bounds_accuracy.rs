//! The bounds of theory/02 (`L`, `L_p`, `mu`), the isotropic closed forms, `Lambda` and the
//! model's own velocity Jacobian against an independent high-precision evaluation of
//! `J(x, t)` ([`reference`], 480-bit arithmetic straight from the definitions), for `t`
//! from `1e-6` to `50`: every bound dominates `||J||` at the points where it is attained
//! or approached, to relative [`BOUND_ROUNDING_REL`], and equals it where the maximiser is
//! known in closed form (two isotropic modes: the point where `r = (1/2, 1/2)`; one
//! Gaussian: everywhere).
//!
//! Before the cancellation-free forms (`1/s - 1 = alpha^2 (1 - lambda)/s`), `L` at `t = 10`
//! was wrong in the 8th digit, at `t = 15` by 0.15%, and four times too small at `t = 20`
//! for means `+-0.5`; `J = -I - H` had no correct digit beyond `t ~ 18`.

use crate::common;
use crate::reference;

use flowcert::bounds::lambda::integrate_bound;
use flowcert::bounds::{Bound, IsotropicShared, LambdaTable, Lipschitz};
use flowcert::model::{Marginal, Mixture, MixtureSpec, OuCoeffs, builtin};
use flowcert::tolerance::{BOUND_ROUNDING_REL, CLOSED_FORM_REL, GRID_INVERSE_REL};
use nalgebra::DMatrix;
use proptest::prelude::*;
use reference::{Big, isotropic_a_q, isotropic_integrals, jacobian, norms};

/// `t = 10^u` with `u` uniform: log-uniform on `[1e-6, 50]`.
fn log_time() -> impl Strategy<Value = f64> {
    (-6.0f64..50f64.log10()).prop_map(|u| 10f64.powf(u))
}

fn iso_cov(d: usize, var: f64) -> Vec<Vec<f64>> {
    (0..d)
        .map(|r| (0..d).map(|c| if r == c { var } else { 0.0 }).collect())
        .collect()
}

/// Two isotropic modes `N(mu_k, sigma0^2 I)`, weights `(w, 1 - w)`.
fn two_iso(mu1: Vec<f64>, mu2: Vec<f64>, sigma0: f64, w: f64) -> MixtureSpec {
    let d = mu1.len();
    let cov = iso_cov(d, sigma0 * sigma0);
    MixtureSpec {
        weights: vec![w, 1.0 - w],
        means: vec![mu1, mu2],
        covariances: vec![cov.clone(), cov],
    }
}

/// The point of the line through the two means where `r_1 = r_2`: with `x = c + u e`,
/// `c = alpha (mu_1 + mu_2)/2`, `e = (mu_1 - mu_2)/D`, `ln(r_1/r_2) = ln(w_1/w_2) + u alpha
/// D / tau^2`, so `u = tau^2 ln(w_2/w_1) / (alpha D)` (doubles suffice: `r_1 r_2` is
/// stationary there, so a position error `h` costs only `O(h^2)` relative).
fn equal_weight_point(spec: &MixtureSpec, t: f64) -> Vec<f64> {
    let (m1, m2) = (&spec.means[0], &spec.means[1]);
    let alpha = (-t).exp();
    let var = spec.covariances[0][0][0];
    let tau2 = var * alpha * alpha - (-2.0 * t).exp_m1();
    let dist = m1
        .iter()
        .zip(m2)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    let u = tau2 * (spec.weights[1] / spec.weights[0]).ln() / (alpha * dist);
    m1.iter()
        .zip(m2)
        .map(|(a, b)| 0.5 * alpha * (a + b) + u * (a - b) / dist)
        .collect()
}

/// `|x / y - 1|`.
fn rel(x: f64, y: f64) -> f64 {
    (x / y - 1.0).abs()
}

/// Digits computed once with mpmath at 60 significant digits, straight from the
/// definitions (`tau^2 = s0 e^{-2t} + 1 - e^{-2t}`, `a = 1/tau^2 - 1`,
/// `q = e^{-2t} D^2 / (4 tau^4)`, `L = max(|a|, q - a)`), with `s0` the double the
/// built-in stores for `sigma0^2` (`0.1 * 0.1 = 0.010000000000000002`):
/// `two-mode-s0.1` (D = 3), where `L = mu = ||J(0)||`.
#[allow(clippy::excessive_precision)] // the digits as mpmath printed them
const MPMATH_TWO_MODE_S01: [(f64, f64); 7] = [
    (1e-6, 22392.06746839650963),
    (0.01, 2483.8303678182118435),
    (1.0, 0.25130240917475914541),
    (10.0, 2.5970535790351891184e-9),
    (15.0, 1.179060494074166282e-13),
    (20.0, 5.3529263616674022051e-18),
    (50.0, 4.6872957297862533178e-44),
];

/// The pinned mpmath digits agree with the high-precision reference and with `L`, `mu`
/// and `||J(0)||` computed in doubles; so does the case of the issue (means `+-0.5`,
/// `sigma0 = 0.1`, `t = 20`: `||J(0)|| = a = 4.2058707127386731148e-18`, which the old
/// `1/s - 1` put at a quarter of that).
#[test]
fn pinned_high_precision_values() {
    let mix = builtin::two_mode(0.1);
    let spec = mix.to_spec();
    let lip = Lipschitz::auto(&mix);
    let mut p = Marginal::new(&mix, 1.0).unwrap();
    let mut j = DMatrix::zeros(2, 2);
    let mut v = [0.0; 2];
    for (t, exact) in MPMATH_TWO_MODE_S01 {
        let r = norms(&jacobian(&spec, t, &[0.0, 0.0]));
        assert!(
            rel(r.norm, exact) < 1e-15,
            "reference at t = {t}: {}",
            r.norm
        );
        let b = lip.at(t).unwrap();
        assert!(
            rel(b.bound, exact) < BOUND_ROUNDING_REL,
            "L({t}) = {}",
            b.bound
        );
        assert!(rel(b.one_sided, exact) < BOUND_ROUNDING_REL, "mu({t})");
        p.set_time(t);
        p.jacobian_into(&[0.0, 0.0], &mut j, &mut v);
        let n = j.symmetric_eigenvalues().amax();
        assert!(rel(n, exact) < BOUND_ROUNDING_REL, "||J(0, {t})|| = {n}");
    }
    let narrow = two_iso(vec![-0.5, 0.0], vec![0.5, 0.0], 0.1, 0.5);
    #[allow(clippy::excessive_precision)]
    let exact = 4.2058707127386731148e-18;
    assert!(rel(norms(&jacobian(&narrow, 20.0, &[0.0, 0.0])).norm, exact) < 1e-15);
    let mix = narrow.check().unwrap();
    assert!(rel(Lipschitz::auto(&mix).at(20.0).unwrap().bound, exact) < BOUND_ROUNDING_REL);
}

/// Any `t`: `L`, `mu`, `L_p` against the reference `||J||`, `lambda_max(-J)` at the
/// attaining point, with `attained` demanding equality (else domination).
fn assert_against_reference(
    mix: &Mixture,
    t: f64,
    x: &[f64],
    attained: bool,
) -> Result<(), TestCaseError> {
    let r = norms(&jacobian(&mix.to_spec(), t, x));
    let b = Lipschitz::auto(mix).at(t).unwrap();
    let tol = BOUND_ROUNDING_REL;
    prop_assert!(
        b.bound >= r.norm * (1.0 - tol),
        "L = {} < ||J|| = {} at t = {t}",
        b.bound,
        r.norm
    );
    prop_assert!(b.bound_paper >= r.norm * (1.0 - tol));
    prop_assert!(
        b.one_sided >= r.one_sided - tol * r.scale,
        "mu = {} < lambda_max(-J) = {} at t = {t}",
        b.one_sided,
        r.one_sided
    );
    if attained {
        prop_assert!(
            rel(b.bound, r.norm) <= tol,
            "L = {} vs ||J|| = {} at t = {t}",
            b.bound,
            r.norm
        );
        prop_assert!(
            (b.one_sided - r.one_sided).abs() <= tol * r.scale,
            "mu = {} vs lambda_max(-J) = {} at t = {t}",
            b.one_sided,
            r.one_sided
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Two isotropic modes (any weights, d >= 2): at the point where `r = (1/2, 1/2)`,
    /// `J = a I - (1/4) delta delta^T`, so `||J|| = max(|a|, q - a) = L` and
    /// `lambda_max(-J) = q - a = mu` exactly (theory/02). In d = 1 the `|a|` branch is
    /// only approached deep inside a mode, and `L` must dominate.
    #[test]
    fn two_isotropic_modes_attain_l_and_mu(
        mu1 in proptest::collection::vec(-3.0f64..3.0, 1..=4),
        shift in proptest::collection::vec(0.2f64..3.0, 4),
        sigma0 in 0.02f64..1.5,
        w in prop_oneof![Just(0.5), 0.05f64..0.95],
        t in log_time(),
    ) {
        let d = mu1.len();
        let mu2: Vec<f64> = mu1.iter().zip(&shift).map(|(a, s)| a - s).collect();
        let spec = two_iso(mu1, mu2, sigma0, w);
        let mix = spec.clone().check().unwrap();
        let x = equal_weight_point(&spec, t);
        assert_against_reference(&mix, t, &x, d >= 2)?;
        // The isotropic closed forms, against the naive high-precision a and q.
        let iso = IsotropicShared::from_mixture(&mix).unwrap();
        let (a, q) = isotropic_a_q(iso.sigma0_sq, iso.diameter, t);
        let (a, q) = (a.to_f64(), q.to_f64());
        prop_assert!(rel(iso.a(t), a) <= BOUND_ROUNDING_REL, "a({t}) = {} vs {a}", iso.a(t));
        prop_assert!(rel(iso.q(t), q) <= BOUND_ROUNDING_REL);
        prop_assert!(rel(iso.value(Bound::TwoSided, t), a.abs().max(q - a)) <= BOUND_ROUNDING_REL);
        prop_assert!(rel(iso.value(Bound::Paper, t), 2.0 + a + q) <= BOUND_ROUNDING_REL);
        prop_assert!((iso.value(Bound::OneSided, t) - (q - a)).abs()
            <= BOUND_ROUNDING_REL * (q + a.abs()));
    }

    /// One Gaussian (any covariance): `J = S^{-1} - I` everywhere, so `L = ||J||` and
    /// `mu = lambda_max(-J)` at every point. The eigenvalues of `Sigma` are kept 0.05 away
    /// from 1: `1 - lambda` is then well conditioned in the data (an eigen-solver's
    /// absolute error `eps ||Sigma||` is a large relative error of a tiny `1 - lambda`).
    #[test]
    fn single_gaussian_attains_l_and_mu(
        mix in common::arb_mixture(1..=1, 1..=3, 0.01, 3.0, 2.0, true)
            .prop_filter("eigenvalues 0.05 away from 1",
                |m| m.components()[0].eigvals.iter().all(|l| (l - 1.0).abs() > 0.05)),
        t in log_time(),
    ) {
        let x: Vec<f64> = mix.components()[0].mean.iter().map(|m| 0.3 + m).collect();
        assert_against_reference(&mix, t, &x, true)?;
    }

    /// Shared covariances, K = 2..3 (no closed-form maximiser): the bounds dominate the
    /// reference `||J||` at the midpoints of the means, the means and points two standard
    /// deviations out, at every `t`.
    #[test]
    fn shared_covariance_bounds_dominate_reference(
        mix in common::arb_mixture(2..=3, 1..=3, 0.01, 3.0, 2.0, true)
            .prop_filter("eigenvalues 0.05 away from 1",
                |m| m.components()[0].eigvals.iter().all(|l| (l - 1.0).abs() > 0.05)),
        t in log_time(),
    ) {
        let alpha = (-t).exp();
        let comps = mix.components();
        let mut points = Vec::new();
        for (k, ck) in comps.iter().enumerate() {
            let m: Vec<f64> = ck.mean.iter().map(|v| alpha * v).collect();
            points.push(m.iter().map(|v| v + 2.0).collect::<Vec<_>>());
            for cj in &comps[k + 1..] {
                points.push(ck.mean.iter().zip(cj.mean.iter()).map(|(a, b)| 0.5 * alpha * (a + b)).collect());
            }
            points.push(m);
        }
        for x in &points {
            assert_against_reference(&mix, t, x, false)?;
        }
    }

    /// The model's own `J(x, t)` (`Marginal::jacobian_into`) against the reference, entry
    /// by entry, for any mixture and `t in [1e-6, 50]`: relative to the size of the
    /// terms, `||S_k^{-1} - I|| + ||C||`, which tends to 0 with `J` (the old `-I - H` was
    /// off by `~1e-16` absolute, i.e. had no correct digit past `t ~ 18`).
    #[test]
    fn model_jacobian_matches_reference(
        mix in common::arb_mixture(1..=3, 1..=3, 0.01, 3.0, 2.0, false),
        t in log_time(),
        offset in proptest::collection::vec(-1.0f64..1.0, 3),
    ) {
        let d = mix.dim();
        let alpha = (-t).exp();
        let comps = mix.components();
        let x: Vec<f64> = (0..d).map(|i| alpha * comps[0].mean[i] + offset[i] * 0.5).collect();
        let jr = jacobian(&mix.to_spec(), t, &x);
        let mut p = Marginal::new(&mix, t).unwrap();
        let (mut j, mut v) = (DMatrix::zeros(d, d), vec![0.0; d]);
        p.jacobian_into(&x, &mut j, &mut v);
        // Scale: sum_k ||S_k^{-1} - I|| plus the reference ||J||, both -> 0 like alpha^2.
        let co = OuCoeffs::at(t);
        let scale: f64 = comps.iter().flat_map(|c| c.eigvals.iter())
            .map(|&l| co.precision_excess(l).abs()).fold(0.0, f64::max)
            + norms(&jr).norm;
        for a in 0..d {
            for b in 0..d {
                let exact = jr[a][b].to_f64();
                prop_assert!((j[(a, b)] - exact).abs() <= BOUND_ROUNDING_REL * scale,
                    "J[{a},{b}] = {} vs {exact} at t = {t} (scale {scale})", j[(a, b)]);
            }
        }
    }

    /// The isotropic antiderivatives and the quadrature of the bounds on `[s, t]` inside
    /// `[1e-6, 50]` against the naive high-precision antiderivatives; the balanced grid of
    /// `[s, t]` inverts its coordinate there (no "flat" error far in the noise).
    #[test]
    fn lambda_and_closed_forms_at_every_time(
        sigma0 in prop_oneof![0.02f64..0.97, 1.03f64..1.5],
        dist in 0.2f64..4.0,
        s in log_time(),
        frac in 0.05f64..1.0,
    ) {
        let t = s + frac * (50.0 - s).max(1e-3);
        let spec = two_iso(vec![0.0, 0.0], vec![dist, 0.0], sigma0, 0.5);
        let mix = spec.check().unwrap();
        let iso = IsotropicShared::from_mixture(&mix).unwrap();
        let (ia, iq) = isotropic_integrals(iso.sigma0_sq, iso.diameter, s, t);
        let (ia, iq) = (ia.to_f64(), iq.to_f64());
        let scale = ia.abs() + iq.abs();
        prop_assert!((iso.integral(Bound::OneSided, s, t) - (iq - ia)).abs() <= BOUND_ROUNDING_REL * scale,
            "int mu on [{s}, {t}]: {} vs {}", iso.integral(Bound::OneSided, s, t), iq - ia);
        prop_assert!(rel(iso.integral(Bound::Paper, s, t), 2.0 * (t - s) + ia + iq) <= BOUND_ROUNDING_REL,
            "int L_p on [{s}, {t}]");
        let lip = Lipschitz::auto(&mix);
        for kind in [Bound::TwoSided, Bound::OneSided] {
            let q = integrate_bound(&lip, kind, s, t).unwrap().value;
            let exact = iso.integral(kind, s, t);
            prop_assert!((q - exact).abs() <= CLOSED_FORM_REL * scale,
                "{}: quadrature {q} vs closed form {exact} on [{s}, {t}]", kind.name());
        }
        let tab = LambdaTable::new(lip, Bound::TwoSided, s, t).unwrap();
        let total = tab.total();
        prop_assert!(rel(total, iso.integral(Bound::TwoSided, s, t)) <= CLOSED_FORM_REL);
        let half = tab.inverse(0.5 * total);
        prop_assert!(s < half && half < t);
        prop_assert!((tab.value(half) - 0.5 * total).abs() <= GRID_INVERSE_REL * total);
    }
}

/// The reference itself: `Big` reproduces the closed forms of `a`, `q` from the matrix
/// path (`jacobian` at the centre of two equal modes) at `t = 50`, where every double
/// formula without the rewriting has lost every digit.
#[test]
fn reference_matrix_path_matches_closed_form_path() {
    let spec = two_iso(vec![-1.5, 0.0], vec![1.5, 0.0], 0.1, 0.5);
    for t in [1e-6, 1.0, 30.0, 50.0] {
        let j = jacobian(&spec, t, &[0.0, 0.0]);
        let (a, q) = isotropic_a_q(0.1 * 0.1, 3.0, t);
        // J = diag(a - q, a) at the centre.
        assert!(rel(j[1][1].to_f64(), a.to_f64()) < 1e-15, "t = {t}");
        assert!(rel(j[0][0].to_f64(), a.sub(&q).to_f64()) < 1e-15, "t = {t}");
        assert!(j[0][1].abs().to_f64() <= 1e-60 * a.abs().to_f64());
    }
    assert!(
        Big::from_f64(2.0)
            .sqrt()
            .mul(&Big::from_f64(2.0).sqrt())
            .sub(&Big::from_i64(2))
            .abs()
            .to_f64()
            < 1e-140
    );
}
