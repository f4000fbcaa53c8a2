//! The box radius `R` from the `p_t`-mass outside the box (theory/06-score-approximation.md): the
//! network clips its input to `[-R, R]^d`, so its `L^2(p_t)` error outside is bounded by
//! closed-form Gaussian partial moments (derivation in [`super::budget`], "Outside the box").

use statrs::function::erf::erfc;

use super::ApproxError;
use crate::model::{Mixture, OuCoeffs};

/// `Q(a) = P(N(0,1) > a)`.
fn upper_tail(a: f64) -> f64 {
    0.5 * erfc(a / std::f64::consts::SQRT_2)
}

fn normal_pdf(a: f64) -> f64 {
    (-0.5 * a * a).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// `E[(A0 + A1 y)^2 1{y > R}]` for `y ~ N(m, v)` (closed-form partial moments).
fn partial_sq(a0: f64, a1: f64, m: f64, v: f64, r: f64) -> f64 {
    let s = v.sqrt();
    let a = (r - m) / s;
    let q = upper_tail(a);
    let phi = normal_pdf(a);
    let m0 = q;
    let m1 = m * q + s * phi;
    let m2 = (m * m + v) * q + s * (m + r) * phi;
    (a0 * a0 * m0 + 2.0 * a0 * a1 * m1 + a1 * a1 * m2).max(0.0)
}

/// Range of `s(t) = alpha_t^2 lambda + sigma_t^2` on `[t_min, T]` (monotone in t).
pub(crate) fn s_range(lambda: f64, t_min: f64, t_max: f64) -> (f64, f64) {
    let s = |t: f64| {
        let c = OuCoeffs::at(t);
        c.alpha2 * lambda + c.sigma2
    };
    let (a, b) = (s(t_min), s(t_max));
    (a.min(b), a.max(b))
}

/// `max_{k,j,t} 1/s_kj(t)`: the largest eigenvalue of any `S_k(t)^{-1}` on `[t_min, T]`.
fn inv_max(mix: &Mixture, t_min: f64, t_max: f64) -> f64 {
    mix.components()
        .iter()
        .flat_map(|c| c.eigvals.iter())
        .map(|&l| 1.0 / s_range(l, t_min, t_max).0)
        .fold(0.0, f64::max)
}

/// Proven bound on `sup_t ||e 1{|x|_inf > R}||_{L^2(p_t)}` for a network that is within
/// `eps_in` of the score on the box and clips its input (module doc, "Outside the box").
///
/// ```
/// use flowcert::approx::tail_bound;
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let (near, far) = (tail_bound(&mix, 0.01, 1.0, 3.0, 1e-3), tail_bound(&mix, 0.01, 1.0, 12.0, 1e-3));
/// assert!(far < 1e-6 && near > far);
/// ```
pub fn tail_bound(mix: &Mixture, t_min: f64, t_max: f64, radius: f64, eps_in: f64) -> f64 {
    let d = mix.dim();
    let alpha_max = (-t_min).exp();
    let b = inv_max(mix, t_min, t_max);
    let mu = alpha_max
        * mix
            .components()
            .iter()
            .map(|c| c.mean.norm())
            .fold(0.0, f64::max);
    let a0 = eps_in + 2.0 * b * mu;
    let a1 = 2.0 * b * (d as f64).sqrt();
    let mut total = 0.0;
    for c in mix.components() {
        for i in 0..d {
            let m = alpha_max * c.mean[i].abs();
            let (_, v) = s_range(c.cov[(i, i)], t_min, t_max);
            let t = partial_sq(a0, a1, m, v, radius) + partial_sq(a0, a1, -m, v, radius);
            total += c.weight * t;
        }
    }
    total.sqrt()
}

/// The smallest `R >= alpha_max max_ki |mu_ki|` with `tail_bound <= eps_out` (a doubling
/// bracket, then bisection). An error when the bracket cannot grow in f64 (`R + 1 == R`
/// for means beyond ~1e16) or the bound is not a number, instead of looping.
///
/// ```
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let r = flowcert::approx::box_radius(&mix, 0.01, 1.0, 1e-3, 1e-3).unwrap();
/// assert!(flowcert::approx::tail_bound(&mix, 0.01, 1.0, r, 1e-3) <= 1e-3);
/// assert!(r > 1.5 && r < 12.0);
/// ```
pub fn box_radius(
    mix: &Mixture,
    t_min: f64,
    t_max: f64,
    eps_in: f64,
    eps_out: f64,
) -> Result<f64, ApproxError> {
    if !(t_min > 0.0 && t_max > t_min && t_max.is_finite()) {
        return Err(ApproxError::BadTimes { t_min, t_max });
    }
    let alpha_max = (-t_min).exp();
    let r0 = alpha_max
        * mix
            .components()
            .iter()
            .flat_map(|c| c.mean.iter())
            .fold(0.0f64, |a, v| a.max(v.abs()));
    let f = |r: f64| tail_bound(mix, t_min, t_max, r, eps_in);
    let stuck = || ApproxError::NoBoxRadius {
        r0,
        target: eps_out,
    };
    // A budget that is not a positive finite number never brackets.
    for (field, v, ok) in [
        ("eps_in", eps_in, eps_in.is_finite() && eps_in >= 0.0),
        ("eps_out", eps_out, eps_out.is_finite() && eps_out > 0.0),
    ] {
        if !ok {
            return Err(ApproxError::BadSetting {
                field,
                value: v.to_string(),
                fix: "give a finite, positive error budget",
            });
        }
    }
    let mut lo = r0;
    let v0 = f(lo);
    if v0.is_nan() {
        return Err(stuck());
    }
    if v0 <= eps_out {
        return Ok(lo.max(f64::MIN_POSITIVE));
    }
    let mut hi = r0 + 1.0;
    if hi <= r0 {
        // R + 1 rounds to R: start the bracket at the next representable scale.
        hi = r0 * (1.0 + 4.0 * f64::EPSILON);
    }
    loop {
        let v = f(hi);
        if v.is_nan() {
            return Err(stuck());
        }
        if v <= eps_out {
            break;
        }
        lo = hi;
        let next = r0 + 2.0 * (hi - r0);
        if !(next > hi && next.is_finite()) {
            return Err(stuck());
        }
        hi = next;
    }
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if f(mid) <= eps_out {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}
