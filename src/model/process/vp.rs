//! The variance-preserving paths of DDPM-style models (theory/07-gaussian-paths.md):
//! `alpha_t^2 + sigma_t^2 = 1`, so `f = -h` and the rate of an eigenvalue `l` is
//! `e(l) = h alpha^2 (1 - l) / s(l)` (OU is the case `h = 1`).
//!
//! ```text
//! vp-linear   beta(t) = b0 + (b1 - b0) t,  B(t) = int_0^t beta = b0 t + (b1 - b0) t^2 / 2
//!             alpha^2 = e^{-B},  sigma^2 = -expm1(-B),  f = -beta/2,  h = beta/2          t in (0, 1]
//! vp-cosine   theta(t) = w (t + s),  w = (pi/2)/(1 + s),  alpha = cos(theta)/cos(theta_0)
//!             sigma^2 = sin(w t) sin(w (t + 2 s)) / cos^2(theta_0)      (= 1 - alpha^2, no cancellation)
//!             f = -w tan(theta),  h = w tan(theta)                                      t in (0, 1)
//! ```
//! Near `t = 1` the cosine path's `alpha = sin(w (1 - t)) / cos(theta_0)` is formed from the
//! complementary angle (`cos(theta)` of a rounded `theta` near `pi/2` would lose the digits
//! that matter); `alpha -> 0` and `f, h -> inf` there, so the domain is open at 1.

use std::f64::consts::FRAC_PI_2;

use super::{GaussianPath, PathCoeffs, TimeDomain};

/// The linear-beta variance-preserving path (DDPM), `beta(t) = b0 + (b1 - b0) t` on `(0, 1]`.
///
/// ```
/// use flowcert::model::process::{GaussianPath, VpLinear};
/// let p = VpLinear::default();
/// assert_eq!((p.beta_min, p.beta_max), (0.1, 20.0));
/// let c = p.coeffs(1.0);
/// assert!((c.alpha2 - (-10.05f64).exp()).abs() < 1e-18 && c.h == 10.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VpLinear {
    /// `beta(0)`.
    pub beta_min: f64,
    /// `beta(1)`.
    pub beta_max: f64,
}

impl Default for VpLinear {
    fn default() -> Self {
        VpLinear {
            beta_min: 0.1,
            beta_max: 20.0,
        }
    }
}

impl VpLinear {
    /// `B(t) = int_0^t beta`.
    #[inline]
    fn big_b(&self, t: f64) -> f64 {
        t * (self.beta_min + 0.5 * (self.beta_max - self.beta_min) * t)
    }

    /// The time with `B(t) = b`: the root of `(b1 - b0) t^2 / 2 + b0 t - b = 0`, in the form
    /// `2 b / (b0 + sqrt(b0^2 + 2 (b1 - b0) b))` that does not cancel.
    fn time_of(&self, b: f64) -> f64 {
        let (b0, slope) = (self.beta_min, self.beta_max - self.beta_min);
        2.0 * b / (b0 + (b0 * b0 + 2.0 * slope * b).max(0.0).sqrt())
    }
}

impl GaussianPath for VpLinear {
    fn name(&self) -> &str {
        "vp-linear"
    }

    fn params(&self) -> Vec<(&'static str, f64)> {
        vec![("beta_min", self.beta_min), ("beta_max", self.beta_max)]
    }

    fn domain(&self) -> TimeDomain {
        TimeDomain {
            lo: 0.0,
            lo_open: true,
            hi: 1.0,
            hi_open: false,
        }
    }

    #[inline]
    fn coeffs(&self, t: f64) -> PathCoeffs {
        let beta = self.beta_min + (self.beta_max - self.beta_min) * t;
        let big_b = self.big_b(t);
        let alpha = (-0.5 * big_b).exp();
        let alpha2 = (-big_b).exp();
        let h = 0.5 * beta;
        PathCoeffs {
            t,
            alpha,
            alpha2,
            sigma2: -(-big_b).exp_m1(),
            dalpha: -h * alpha,
            f: -h,
            h,
            a: -h * alpha2,
            b: h * alpha2,
            variance_preserving: true,
        }
    }

    /// `-ln(expm1(B))`.
    fn log_snr(&self, t: f64) -> f64 {
        -self.big_b(t).exp_m1().ln()
    }

    /// `B = ln(1 + e^{-l})`, then [`Self::time_of`].
    fn log_snr_inverse(&self, l: f64) -> f64 {
        let b = if l > 0.0 {
            (-l).exp().ln_1p()
        } else {
            -l + l.exp().ln_1p()
        };
        self.time_of(b)
    }

    /// `sqrt(expm1(B))`.
    fn noise_ratio(&self, t: f64) -> f64 {
        self.big_b(t).exp_m1().sqrt()
    }

    /// `B = ln1p(r^2)`.
    fn noise_ratio_inverse(&self, r: f64) -> f64 {
        self.time_of((r * r).ln_1p())
    }

    /// `s = 1 + alpha^2 (l - 1)` is monotone in `t`: the larger end value.
    fn variance_sup(&self, lambda: f64, t0: f64, t1: f64) -> f64 {
        self.coeffs(t0).s(lambda).max(self.coeffs(t1).s(lambda))
    }
}

/// The cosine variance-preserving path (iDDPM), offset `s` (default 0.008), on `(0, 1)`.
///
/// ```
/// use flowcert::model::process::{GaussianPath, VpCosine};
/// let p = VpCosine::default();
/// let c = p.coeffs(0.999);
/// assert!(c.alpha > 0.0 && c.alpha < 2e-3 && (c.alpha2 + c.sigma2 - 1.0).abs() < 1e-15);
/// assert!((p.log_snr_inverse(p.log_snr(0.3)) - 0.3).abs() < 1e-14);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VpCosine {
    /// The offset `s` of `theta(t) = ((t + s)/(1 + s)) pi/2`.
    pub s: f64,
}

impl Default for VpCosine {
    fn default() -> Self {
        VpCosine { s: 0.008 }
    }
}

impl VpCosine {
    /// `w = theta'(t) = (pi/2)/(1 + s)`.
    #[inline]
    fn w(&self) -> f64 {
        FRAC_PI_2 / (1.0 + self.s)
    }

    /// `(cos theta, sin theta)` with the complementary angle `w (1 - t)` past `pi/4`.
    #[inline]
    fn cos_sin(&self, t: f64) -> (f64, f64) {
        let w = self.w();
        let theta = w * (t + self.s);
        if theta <= 0.5 * FRAC_PI_2 {
            (theta.cos(), theta.sin())
        } else {
            let rest = w * (1.0 - t);
            (rest.sin(), rest.cos())
        }
    }

    /// `cos(theta_0)`.
    #[inline]
    fn cos0(&self) -> f64 {
        (self.w() * self.s).cos()
    }

    /// The time with `sigma^2 = v` and `alpha^2 = 1 - v` (both given accurately).
    fn time_of(&self, v: f64, alpha2: f64) -> f64 {
        let w = self.w();
        let theta0 = w * self.s;
        let c0 = theta0.cos();
        if v <= 0.5 {
            // sin^2 theta = sin^2 theta_0 + cos^2 theta_0 v, and
            // sin(theta - theta_0) = cos^2 theta_0 v / sin(theta + theta_0).
            let s0 = theta0.sin();
            let theta = (s0 * s0 + c0 * c0 * v).sqrt().asin();
            (c0 * c0 * v / (theta + theta0).sin()).asin() / w
        } else {
            // cos theta = sin(w (1 - t)) = cos theta_0 alpha.
            1.0 - (c0 * alpha2.sqrt()).asin() / w
        }
    }
}

impl GaussianPath for VpCosine {
    fn name(&self) -> &str {
        "vp-cosine"
    }

    fn params(&self) -> Vec<(&'static str, f64)> {
        vec![("s", self.s)]
    }

    fn domain(&self) -> TimeDomain {
        TimeDomain {
            lo: 0.0,
            lo_open: true,
            hi: 1.0,
            hi_open: true,
        }
    }

    #[inline]
    fn coeffs(&self, t: f64) -> PathCoeffs {
        let w = self.w();
        let c0 = self.cos0();
        let (cos, sin) = self.cos_sin(t);
        let alpha = cos / c0;
        let alpha2 = alpha * alpha;
        // 1 - cos^2 theta / cos^2 theta_0 = sin(theta - theta_0) sin(theta + theta_0) / cos^2 theta_0.
        let sigma2 = (w * t).sin() * (w * (t + 2.0 * self.s)).sin() / (c0 * c0);
        let h = w * sin / cos;
        let b = w * sin * cos / (c0 * c0);
        PathCoeffs {
            t,
            alpha,
            alpha2,
            sigma2,
            dalpha: -w * sin / c0,
            f: -h,
            h,
            a: -b,
            b,
            variance_preserving: true,
        }
    }

    /// `ln(alpha^2) - ln(sigma^2)`, each factor accurate.
    fn log_snr(&self, t: f64) -> f64 {
        let c = self.coeffs(t);
        2.0 * c.alpha.ln() - c.sigma2.ln()
    }

    /// `sigma^2 = 1/(1 + e^l)`, `alpha^2 = 1/(1 + e^{-l})`.
    fn log_snr_inverse(&self, l: f64) -> f64 {
        let (v, a2) = if l > 0.0 {
            let e = (-l).exp();
            (e / (1.0 + e), 1.0 / (1.0 + e))
        } else {
            let e = l.exp();
            (1.0 / (1.0 + e), e / (1.0 + e))
        };
        self.time_of(v, a2)
    }

    /// `sqrt(sigma^2) / alpha`.
    fn noise_ratio(&self, t: f64) -> f64 {
        let c = self.coeffs(t);
        c.sigma2.sqrt() / c.alpha
    }

    /// `sigma^2 = r^2 / (1 + r^2)`, `alpha^2 = 1 / (1 + r^2)`.
    fn noise_ratio_inverse(&self, r: f64) -> f64 {
        let r2 = r * r;
        self.time_of(r2 / (1.0 + r2), 1.0 / (1.0 + r2))
    }

    /// `s = 1 + alpha^2 (l - 1)` is monotone in `t`: the larger end value.
    fn variance_sup(&self, lambda: f64, t0: f64, t1: f64) -> f64 {
        self.coeffs(t0).s(lambda).max(self.coeffs(t1).s(lambda))
    }
}
