//! The forward Ornstein-Uhlenbeck process `dX_t = -X_t dt + sqrt(2) dW_t`
//! (theory/01-model.md).
//!
//! ```text
//! alpha_t   = e^{-t}
//! sigma_t^2 = 1 - e^{-2t} = -expm1(-2t)          (stationary law N(0, I))
//! log-SNR   lambda(t) = ln(alpha_t^2 / sigma_t^2) = -ln(expm1(2t))
//! VE noise  sigma_VE(t) = sigma_t / alpha_t = sqrt(expm1(2t))
//! ```
//! `expm1` keeps `sigma_t^2` accurate to full relative precision at small `t`.
//! [`Ou`] is the path as a [`GaussianPath`] (`f = -1`, `h = 1`); [`OuCoeffs`] and the free
//! functions are its coefficients as they were before the other paths existed.

use super::{GaussianPath, PathCoeffs, TimeDomain, VelocityForm};

/// The OU path (the default): `alpha_t = e^{-t}`, `sigma_t^2 = 1 - e^{-2t}` on `(0, inf)`.
///
/// ```
/// use flowcert::model::process::{GaussianPath, Ou};
/// let c = Ou.coeffs(0.5);
/// assert_eq!((c.f, c.h), (-1.0, 1.0));
/// assert!((Ou.log_snr_inverse(Ou.log_snr(0.5)) - 0.5).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ou;

impl GaussianPath for Ou {
    fn name(&self) -> &str {
        "ou"
    }

    fn domain(&self) -> TimeDomain {
        TimeDomain {
            lo: 0.0,
            lo_open: true,
            hi: f64::INFINITY,
            hi_open: true,
        }
    }

    #[inline]
    fn coeffs(&self, t: f64) -> PathCoeffs {
        OuCoeffs::at(t).into()
    }

    fn velocity_form(&self) -> VelocityForm {
        VelocityForm::Score
    }

    fn log_snr(&self, t: f64) -> f64 {
        log_snr(t)
    }

    fn log_snr_inverse(&self, l: f64) -> f64 {
        log_snr_inverse(l)
    }

    /// `alpha^2 = 1 / (1 + e^{-l})`, `sigma^2 = 1 / (1 + e^{l})`, one from the other with
    /// the exponential of `-|l|` (never overflows, no cancellation), and `t = ln(1 + e^{-l})
    /// / 2` ([`log_snr_inverse`]).
    #[inline]
    fn coeffs_at_log_snr(&self, l: f64) -> PathCoeffs {
        let e = (-l.abs()).exp();
        let (alpha2, sigma2) = variances_at_log_snr(l, e);
        let t = 0.5 * if l >= 0.0 { e.ln_1p() } else { e.ln_1p() - l };
        let alpha = alpha2.sqrt();
        PathCoeffs {
            t,
            alpha,
            alpha2,
            sigma2,
            dalpha: -alpha,
            f: -1.0,
            h: 1.0,
            a: -alpha2,
            b: alpha2,
            variance_preserving: true,
        }
    }

    fn noise_ratio(&self, t: f64) -> f64 {
        ve_sigma(t)
    }

    fn noise_ratio_inverse(&self, r: f64) -> f64 {
        ve_sigma_inverse(r)
    }

    /// `s = 1 + alpha^2 (l - 1)` is monotone in `t`: the larger end value.
    fn variance_sup(&self, lambda: f64, t0: f64, t1: f64) -> f64 {
        let (a, b) = (OuCoeffs::at(t0), OuCoeffs::at(t1));
        a.s(lambda).max(b.s(lambda))
    }
}

/// `(alpha^2, sigma^2)` of OU at the log-SNR `l`, given `e = e^{-|l|}`:
/// `alpha^2 = 1 / (1 + e^{-l})`, `sigma^2 = 1 / (1 + e^{l})`, each from the one exponential
/// that cannot overflow. Shared by [`Ou`]'s `coeffs_at_log_snr` and the lanes of
/// `MarginalLanes`, which compute `e` for all lanes first: one set of operations, so both
/// give the same bits.
#[inline(always)]
pub(crate) fn variances_at_log_snr(l: f64, e: f64) -> (f64, f64) {
    let big = 1.0 / (1.0 + e);
    if l >= 0.0 {
        (big, e * big)
    } else {
        (e * big, big)
    }
}

/// The OU coefficients at one time `t >= 0`.
///
/// ```
/// use flowcert::model::OuCoeffs;
/// let c = OuCoeffs::at(1e-12);
/// assert!((c.sigma2 / 2e-12 - 1.0).abs() < 1e-9); // expm1 keeps small t exact
/// assert!((c.alpha2 + c.sigma2 - 1.0).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OuCoeffs {
    /// The OU time.
    pub t: f64,
    /// `alpha_t = e^{-t}`.
    pub alpha: f64,
    /// `alpha_t^2 = e^{-2t}`.
    pub alpha2: f64,
    /// `sigma_t^2 = 1 - e^{-2t}`, computed as `-expm1(-2t)`.
    pub sigma2: f64,
}

impl OuCoeffs {
    /// Coefficients at time `t` (the caller guarantees `t >= 0` and finite).
    ///
    /// ```
    /// let c = flowcert::model::OuCoeffs::at(0.5);
    /// assert!((c.alpha - (-0.5f64).exp()).abs() < 1e-15);
    /// ```
    #[inline]
    pub fn at(t: f64) -> Self {
        let alpha = (-t).exp();
        OuCoeffs {
            t,
            alpha,
            alpha2: (-2.0 * t).exp(),
            sigma2: -(-2.0 * t).exp_m1(),
        }
    }

    /// `s = alpha_t^2 lambda + sigma_t^2`: the eigenvalue of `S(t) = alpha_t^2 Sigma +
    /// sigma_t^2 I` for the eigenvalue `lambda >= 0` of `Sigma` (a sum of two non-negative
    /// terms, so accurate to a few ulps at every `t`).
    ///
    /// ```
    /// let c = flowcert::model::OuCoeffs::at(0.3);
    /// assert!((c.s(0.25) - (0.25 * c.alpha2 + c.sigma2)).abs() < 1e-16);
    /// ```
    #[inline]
    pub fn s(&self, lambda: f64) -> f64 {
        self.alpha2 * lambda + self.sigma2
    }

    /// `1/s - 1` for `s = alpha_t^2 lambda + sigma_t^2`, the eigenvalue of `S(t)^{-1} - I`,
    /// computed with full relative accuracy as
    ///
    /// ```text
    /// 1/s - 1 = (1 - s)/s = alpha_t^2 (1 - lambda) / s
    /// ```
    /// (`1 - s = alpha_t^2 (1 - lambda)` exactly). The naive `1/s - 1` cancels once `s` is
    /// close to 1 (large `t`, or `lambda` close to 1): at `t = 20` its absolute rounding
    /// error `~1e-16` exceeds the value `~4e-18` (theory/02-lipschitz.md, "Accuracy").
    /// `1 - lambda` is exact for `lambda` in `[1/2, 2]` (Sterbenz) and has one rounding
    /// otherwise, where it is not small.
    ///
    /// ```
    /// let c = flowcert::model::OuCoeffs::at(20.0);
    /// let a = c.precision_excess(0.01); // = 0.99 e^{-40} / s
    /// assert!((a / (0.99 * (-40.0f64).exp()) - 1.0).abs() < 1e-15);
    /// assert_eq!(flowcert::model::OuCoeffs::at(0.7).precision_excess(1.0), 0.0);
    /// ```
    #[inline]
    pub fn precision_excess(&self, lambda: f64) -> f64 {
        self.alpha2 * (1.0 - lambda) / self.s(lambda)
    }
}

/// Log signal-to-noise ratio `lambda(t) = ln(alpha_t^2 / sigma_t^2) = -ln(expm1(2t))`,
/// strictly decreasing in `t`.
///
/// ```
/// let l = flowcert::model::process::log_snr(0.3);
/// assert!((flowcert::model::process::log_snr_inverse(l) - 0.3).abs() < 1e-14);
/// ```
pub fn log_snr(t: f64) -> f64 {
    -(2.0 * t).exp_m1().ln()
}

/// Inverse of [`log_snr`]: `t = ln(1 + e^{-lambda}) / 2`.
///
/// ```
/// assert!((flowcert::model::process::log_snr_inverse(0.0) - 0.5 * 2f64.ln()).abs() < 1e-15);
/// ```
pub fn log_snr_inverse(lambda: f64) -> f64 {
    // ln(1 + e^{-l}) computed stably for both signs of l.
    let v = if lambda > 0.0 {
        (-lambda).exp().ln_1p()
    } else {
        -lambda + lambda.exp().ln_1p()
    };
    0.5 * v
}

/// Variance-exploding noise level `sigma_VE(t) = sigma_t / alpha_t = sqrt(expm1(2t))`
/// (the EDM/Karras coordinate).
///
/// ```
/// let s = flowcert::model::process::ve_sigma(0.7);
/// assert!((flowcert::model::process::ve_sigma_inverse(s) - 0.7).abs() < 1e-14);
/// ```
pub fn ve_sigma(t: f64) -> f64 {
    (2.0 * t).exp_m1().sqrt()
}

/// Inverse of [`ve_sigma`]: `t = ln(1 + sigma^2) / 2`.
///
/// ```
/// assert_eq!(flowcert::model::process::ve_sigma_inverse(0.0), 0.0);
/// ```
pub fn ve_sigma_inverse(sigma: f64) -> f64 {
    0.5 * (sigma * sigma).ln_1p()
}
