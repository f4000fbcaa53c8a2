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
//! (a weighted average, so no union bound over k is needed). On a path (theory/07) `alpha`
//! does not increase and `sigma` does not decrease, so over times in `[t0, t1]`,
//! `|m_k(t)| <= alpha_{t0} |mu_k|` and `||S_k(t)|| = alpha_t^2 lambda_max(Sigma_k) + sigma_t^2
//! <= V_k := GaussianPath::variance_sup(lambda_max(Sigma_k), t0, t1)`, which gives
//!
//! ```text
//! R = max_k [ alpha_{t0} |mu_k| + sqrt(V_k) (sqrt(d) + sqrt(2 ln(1/level))) ].
//! ```
//! The time-uniform radius takes the closure of the path's domain (OU: `t >= 0`, where
//! `alpha <= 1` and `V_k = max(1, lambda_max(Sigma_k))`); on an interval `[t_min, t_max]` the
//! same argument gives a smaller R.

use serde::Serialize;

use super::BoundsError;
use crate::model::Mixture;

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

/// Per component: `(sup alpha_t |mu_k|, sup ||S_k(t)||)` over `[t0, t1]`.
fn extents(mix: &Mixture, t0: f64, t1: f64) -> impl Iterator<Item = (f64, f64)> + '_ {
    let p = mix.process();
    let alpha = p.alpha_sup(t0);
    mix.components().iter().map(move |c| {
        let lmax = c.eigvals.iter().copied().fold(0.0f64, f64::max);
        (alpha * c.mean.norm(), p.variance_sup(lmax, t0, t1))
    })
}

/// The closure of the path's domain.
fn whole(mix: &Mixture) -> (f64, f64) {
    let d = mix.process().domain();
    (d.lo, d.hi)
}

impl Region {
    /// Radius valid for every time of the path (OU: every `t >= 0`): `p_t(|x| > R) <= level`.
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
        let (t0, t1) = whole(mix);
        let radius = extents(mix, t0, t1)
            .map(|(mean, var)| mean + var.sqrt() * m)
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
        mix.check_path_time("t_min", t_min)?;
        mix.check_path_time("t_max", t_max)?;
        if t_min >= t_max {
            return Err(BoundsError::BadInterval { t_min, t_max });
        }
        let m = multiplier(mix.dim(), level);
        let radius = extents(mix, t_min, t_max)
            .map(|(mean, var)| mean + var.sqrt() * m)
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
        let (t0, t1) = whole(mix);
        let level = extents(mix, t0, t1)
            .map(|(mean, var)| {
                let r = (radius - mean) / var.sqrt() - sd;
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
