//! The two paths with polynomial coefficients (theory/07-gaussian-paths.md):
//!
//! ```text
//! edm         alpha = 1,      sigma = t,   f = 0,            h = t            t in [sigma_min, sigma_max]
//! rectified   alpha = 1 - t,  sigma = t,   f = -1/(1 - t),   h = t/(1 - t)    t in (0, 1)
//! ```
//! EDM (Karras et al.) is variance exploding: `sigma/alpha = t`, its own EDM coordinate.
//! The rectified-flow (linear interpolant) path has `alpha -> 0` at `t = 1`, where `f` and
//! `h` blow up while the velocity `v = -E[x_0 | x] + E[z | x]` stays finite; its rate is
//! `e(l) = (t - (1 - t) l) / s(l)`, zero at `t = l / (1 + l)`.

use super::{GaussianPath, PathCoeffs, TimeDomain};

/// The EDM (variance-exploding) path `alpha = 1`, `sigma = t` on `[sigma_min, sigma_max]`
/// (default `[0.002, 80]`).
///
/// ```
/// use flowcert::model::process::{Edm, GaussianPath};
/// let c = Edm::default().coeffs(3.0);
/// assert_eq!((c.alpha, c.sigma2, c.f, c.h), (1.0, 9.0, 0.0, 3.0));
/// assert_eq!(Edm::default().noise_ratio(3.0), 3.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edm {
    /// The smallest time (noise level).
    pub sigma_min: f64,
    /// The largest time (noise level).
    pub sigma_max: f64,
}

impl Default for Edm {
    fn default() -> Self {
        Edm {
            sigma_min: 0.002,
            sigma_max: 80.0,
        }
    }
}

impl GaussianPath for Edm {
    fn name(&self) -> &str {
        "edm"
    }

    fn params(&self) -> Vec<(&'static str, f64)> {
        vec![("sigma_min", self.sigma_min), ("sigma_max", self.sigma_max)]
    }

    fn domain(&self) -> TimeDomain {
        TimeDomain {
            lo: self.sigma_min,
            lo_open: false,
            hi: self.sigma_max,
            hi_open: false,
        }
    }

    #[inline]
    fn coeffs(&self, t: f64) -> PathCoeffs {
        PathCoeffs {
            t,
            alpha: 1.0,
            alpha2: 1.0,
            sigma2: t * t,
            dalpha: 0.0,
            f: 0.0,
            h: t,
            a: 0.0,
            b: t,
            variance_preserving: false,
        }
    }

    /// `-2 ln t`.
    fn log_snr(&self, t: f64) -> f64 {
        -2.0 * t.ln()
    }

    fn log_snr_inverse(&self, l: f64) -> f64 {
        (-0.5 * l).exp()
    }

    fn noise_ratio(&self, t: f64) -> f64 {
        t
    }

    fn noise_ratio_inverse(&self, r: f64) -> f64 {
        r
    }

    /// `s = l + t^2` increases with `t`.
    fn variance_sup(&self, lambda: f64, _t0: f64, t1: f64) -> f64 {
        lambda + t1 * t1
    }
}

/// The rectified-flow path `alpha = 1 - t`, `sigma = t` on `(0, 1)`.
///
/// ```
/// use flowcert::model::process::{GaussianPath, Rectified};
/// assert!((Rectified.noise_ratio_inverse(Rectified.noise_ratio(0.9)) - 0.9).abs() < 1e-15);
/// assert_eq!(Rectified.log_snr(0.5), 0.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rectified;

impl GaussianPath for Rectified {
    fn name(&self) -> &str {
        "rectified"
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
        let alpha = 1.0 - t;
        PathCoeffs {
            t,
            alpha,
            alpha2: alpha * alpha,
            sigma2: t * t,
            dalpha: -1.0,
            f: -1.0 / alpha,
            h: t / alpha,
            a: -alpha,
            b: t,
            variance_preserving: false,
        }
    }

    /// `2 (ln(1 - t) - ln t)`.
    fn log_snr(&self, t: f64) -> f64 {
        2.0 * ((-t).ln_1p() - t.ln())
    }

    /// `t = 1 / (1 + e^{l/2})`.
    fn log_snr_inverse(&self, l: f64) -> f64 {
        if l > 0.0 {
            let e = (-0.5 * l).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + (0.5 * l).exp())
        }
    }

    /// `t / (1 - t)`.
    fn noise_ratio(&self, t: f64) -> f64 {
        t / (1.0 - t)
    }

    /// `t = r / (1 + r)`.
    fn noise_ratio_inverse(&self, r: f64) -> f64 {
        r / (1.0 + r)
    }

    /// `s = (1 - t)^2 l + t^2` is convex in `t`: the larger end value.
    fn variance_sup(&self, lambda: f64, t0: f64, t1: f64) -> f64 {
        self.coeffs(t0).s(lambda).max(self.coeffs(t1).s(lambda))
    }
}
