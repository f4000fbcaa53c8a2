//! The ball `B_R = {|x| <= R}` on which bounds for heterogeneous covariances hold
//! (theory/02-lipschitz.md, heterogeneous covariances).
//!
//! The radius is chosen so that the `p_t`-mass outside `B_R` is at most a stated `level`,
//! for every `t` of the interval at once. The inequality used is Gaussian concentration
//! of the 1-Lipschitz function `z -> |z|` (Tsirelson-Ibragimov-Sudakov): for
//! `Z ~ N(0, I_d)`, `E|Z| <= sqrt(d)` and
//!
//! ```text
//! P(|Z| >= sqrt(d) + r) <= exp(-r^2 / 2),   r >= 0.
//! ```
//! A draw of component k at time t is `X = m_k(t) + S_k(t)^{1/2} Z`, so
//! `|X| <= |m_k(t)| + ||S_k(t)||^{1/2} |Z|`, and with `r_k = (R - |m_k|) / ||S_k||^{1/2} - sqrt(d)`
//!
//! ```text
//! p_t(|X| > R) = sum_k pi_k P_k(|X| > R) <= max_k exp(-r_k^2 / 2)
//! ```
//! (a weighted average, so no union bound over k is needed). Over all `t >= 0`,
//! `|m_k(t)| = e^{-t} |mu_k| <= |mu_k|` and `||S_k(t)|| = e^{-2t} lambda_max(Sigma_k) +
//! (1 - e^{-2t}) <= max(1, lambda_max(Sigma_k))`, which gives the time-uniform radius
//!
//! ```text
//! R = max_k [ |mu_k| + sqrt(max(1, lambda_max(Sigma_k))) (sqrt(d) + sqrt(2 ln(1/level))) ].
//! ```
//! On an interval `[t_min, t_max]` the same argument with `|m_k(t)| <= e^{-t_min} |mu_k|` and
//! `||S_k(t)|| <= max(||S_k(t_min)||, ||S_k(t_max)||)` (monotone in t) gives a slightly smaller R.

use serde::Serialize;

use super::BoundsError;
use crate::model::{Mixture, OuCoeffs};

/// Default `p_t`-mass allowed outside `B_R`.
pub const DEFAULT_MASS_LEVEL: f64 = 1e-6;

/// A ball `|x| <= radius` centred at the origin, with a certified upper bound `level`
/// on the `p_t`-mass outside it (for the times it was built for).
///
/// ```
/// use flowcert::bounds::Region;
/// let mix = flowcert::model::builtin::hetero3();
/// let r = Region::uniform(&mix, 1e-6).unwrap();
/// assert!(r.radius > 2.0 && r.level == 1e-6);
/// assert!(r.contains(&[0.0, 0.0, 0.0]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Region {
    /// The radius R.
    pub radius: f64,
    /// Upper bound on `p_t(|x| > R)` for every time the region covers.
    pub level: f64,
}

fn check_level(level: f64) -> Result<(), BoundsError> {
    if level.is_finite() && level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(BoundsError::BadLevel { value: level })
    }
}

/// `sqrt(d) + sqrt(2 ln(1/level))`: the radius multiplier of the concentration inequality.
fn multiplier(d: usize, level: f64) -> f64 {
    (d as f64).sqrt() + (-2.0 * level.ln()).sqrt()
}

impl Region {
    /// Radius valid for every `t >= 0`: `p_t(|x| > R) <= level`.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let r = flowcert::bounds::Region::uniform(&mix, 1e-6).unwrap();
    /// // |mu_k| = 1.5, ||Sigma|| < 1: R = 1.5 + sqrt(2) + sqrt(2 ln 1e6)
    /// let expect = 1.5 + 2f64.sqrt() + (2.0 * 1e6f64.ln()).sqrt();
    /// assert!((r.radius - expect).abs() < 1e-12);
    /// assert!(flowcert::bounds::Region::uniform(&mix, 0.0).is_err());
    /// ```
    pub fn uniform(mix: &Mixture, level: f64) -> Result<Region, BoundsError> {
        check_level(level)?;
        let m = multiplier(mix.dim(), level);
        let radius = mix
            .components()
            .iter()
            .map(|c| {
                let lmax = c.eigvals.iter().copied().fold(1.0f64, f64::max);
                c.mean.norm() + lmax.sqrt() * m
            })
            .fold(0.0f64, f64::max);
        Ok(Region { radius, level })
    }

    /// Radius valid for every `t` in `[t_min, t_max]` (`0 < t_min < t_max`).
    ///
    /// ```
    /// use flowcert::bounds::Region;
    /// let mix = flowcert::model::builtin::hetero3();
    /// let all = Region::uniform(&mix, 1e-6).unwrap();
    /// let late = Region::on_interval(&mix, 1e-6, 1.0, 3.0).unwrap();
    /// assert!(late.radius <= all.radius);
    /// assert!(Region::on_interval(&mix, 1e-6, 3.0, 1.0).is_err());
    /// ```
    pub fn on_interval(
        mix: &Mixture,
        level: f64,
        t_min: f64,
        t_max: f64,
    ) -> Result<Region, BoundsError> {
        check_level(level)?;
        Mixture::check_time("t_min", t_min)?;
        Mixture::check_time("t_max", t_max)?;
        if t_min >= t_max {
            return Err(BoundsError::BadInterval { t_min, t_max });
        }
        let m = multiplier(mix.dim(), level);
        let (lo, hi) = (OuCoeffs::at(t_min), OuCoeffs::at(t_max));
        let radius = mix
            .components()
            .iter()
            .map(|c| {
                let s_lo = c.s_range(lo.alpha2, lo.sigma2).1;
                let s_hi = c.s_range(hi.alpha2, hi.sigma2).1;
                lo.alpha * c.mean.norm() + s_lo.max(s_hi).sqrt() * m
            })
            .fold(0.0f64, f64::max);
        Ok(Region { radius, level })
    }

    /// A ball of a given radius, with the time-uniform mass bound
    /// `level = max_k exp(-r_k^2 / 2)` (1 when the radius is too small for the inequality).
    ///
    /// ```
    /// use flowcert::bounds::Region;
    /// let mix = flowcert::model::builtin::hetero3();
    /// let r = Region::uniform(&mix, 1e-4).unwrap();
    /// let again = Region::with_radius(&mix, r.radius).unwrap();
    /// assert!((again.level / 1e-4 - 1.0).abs() < 1e-9);
    /// assert_eq!(Region::with_radius(&mix, 0.1).unwrap().level, 1.0);
    /// ```
    pub fn with_radius(mix: &Mixture, radius: f64) -> Result<Region, BoundsError> {
        if !(radius.is_finite() && radius > 0.0) {
            return Err(BoundsError::BadRadius { value: radius });
        }
        let sd = (mix.dim() as f64).sqrt();
        let level = mix
            .components()
            .iter()
            .map(|c| {
                let lmax = c.eigvals.iter().copied().fold(1.0f64, f64::max);
                let r = (radius - c.mean.norm()) / lmax.sqrt() - sd;
                if r > 0.0 { (-0.5 * r * r).exp() } else { 1.0 }
            })
            .fold(0.0f64, f64::max);
        Ok(Region { radius, level })
    }

    /// `|x| <= R`.
    ///
    /// ```
    /// let r = flowcert::bounds::Region { radius: 1.0, level: 0.5 };
    /// assert!(r.contains(&[0.6, 0.7]) && !r.contains(&[0.7, 0.75]));
    /// ```
    pub fn contains(&self, x: &[f64]) -> bool {
        x.iter().map(|v| v * v).sum::<f64>().sqrt() <= self.radius
    }
}
