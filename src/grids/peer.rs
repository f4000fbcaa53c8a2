//! The peer grids the balanced grid is compared against (theory/04-composition-and-grids.md): uniform
//! in `t`, uniform in log-SNR (DPM-Solver) and EDM/Karras in the VE noise level.
//!
//! ```text
//! uniform   t_i = t_min + (i/N) (t_max - t_min)
//! logsnr    lambda_i = lambda(t_min) + (i/N) (lambda(t_max) - lambda(t_min)),  lambda(t) = -ln(expm1(2t))
//! edm       sigma_i = (s_max^{1/rho} + (i/N) (s_min^{1/rho} - s_max^{1/rho}))^rho,  sigma(t) = sqrt(expm1(2t))
//! ```
//! EDM indexes from the largest noise level, so its times are reversed to ascending order.
//! On another path (theory/07-gaussian-paths.md) the same grids use that path's log-SNR
//! `ln(alpha^2/sigma^2)` and noise ratio `sigma/alpha` ([`log_snr_on`], [`edm_on`]); for
//! OU they are the functions above, bit for bit.
//! All three are strictly increasing in exact arithmetic; [`super::Span::finish`] pins the
//! ends and checks the floating-point result.

use super::{GridError, Span};
use crate::model::process::{self, Process, log_snr_inverse, ve_sigma, ve_sigma_inverse};

/// Equal steps in `t`.
///
/// ```
/// let s = flowcert::grids::Span::new(1.0, 2.0, 4).unwrap();
/// assert_eq!(flowcert::grids::peer::uniform(&s), vec![1.0, 1.25, 1.5, 1.75, 2.0]);
/// ```
pub fn uniform(span: &Span) -> Vec<f64> {
    let (a, b) = (span.t_min(), span.t_max());
    span.fractions().map(|u| a + u * (b - a)).collect()
}

/// Equal steps in the log signal-to-noise ratio `lambda(t) = -ln(expm1(2t))`.
///
/// ```
/// use flowcert::model::process::log_snr;
/// let s = flowcert::grids::Span::new(0.01, 2.0, 4).unwrap();
/// let ts = flowcert::grids::peer::log_snr(&s);
/// let steps: Vec<f64> = ts.windows(2).map(|w| log_snr(w[1]) - log_snr(w[0])).collect();
/// assert!(steps.iter().all(|d| (d / steps[0] - 1.0).abs() < 1e-12));
/// ```
pub fn log_snr(span: &Span) -> Vec<f64> {
    let (l0, l1) = (
        process::log_snr(span.t_min()),
        process::log_snr(span.t_max()),
    );
    span.fractions()
        .map(|u| log_snr_inverse(l0 + u * (l1 - l0)))
        .collect()
}

/// EDM/Karras steps with exponent `rho` in `sigma(t) = sqrt(expm1(2t))`, ascending.
///
/// ```
/// use flowcert::model::process::ve_sigma;
/// let s = flowcert::grids::Span::new(0.01, 2.0, 4).unwrap();
/// let ts = flowcert::grids::peer::edm(&s, 7.0).unwrap();
/// let r: Vec<f64> = ts.iter().map(|&t| ve_sigma(t).powf(1.0 / 7.0)).collect();
/// assert!((r[2] - 0.5 * (r[0] + r[4])).abs() < 1e-12);
/// assert!(flowcert::grids::peer::edm(&s, 0.0).is_err());
/// ```
pub fn edm(span: &Span, rho: f64) -> Result<Vec<f64>, GridError> {
    if !(rho.is_finite() && rho > 0.0) {
        return Err(GridError::BadRho { value: rho });
    }
    let hi = ve_sigma(span.t_max()).powf(1.0 / rho);
    let lo = ve_sigma(span.t_min()).powf(1.0 / rho);
    let mut ts: Vec<f64> = span
        .fractions()
        .map(|u| ve_sigma_inverse((hi + u * (lo - hi)).powf(rho)))
        .collect();
    ts.reverse();
    Ok(ts)
}

/// Equal steps in the log-SNR `ln(alpha_t^2 / sigma_t^2)` of `path` (for OU: [`log_snr`]).
///
/// ```
/// use flowcert::model::process::ProcessSpec;
/// let rf = ProcessSpec::named("rectified").check().unwrap();
/// let s = flowcert::grids::Span::new(0.05, 0.95, 4).unwrap();
/// let ts = flowcert::grids::peer::log_snr_on(&rf, &s);
/// // lambda = 2 ln((1 - t)/t) is odd about t = 1/2: the grid is symmetric.
/// assert!((ts[2] - 0.5).abs() < 1e-15 && (ts[1] + ts[3] - 1.0).abs() < 1e-15);
/// ```
pub fn log_snr_on(path: &Process, span: &Span) -> Vec<f64> {
    if path.is_ou() {
        return log_snr(span);
    }
    let (l0, l1) = (path.log_snr(span.t_min()), path.log_snr(span.t_max()));
    span.fractions()
        .map(|u| path.log_snr_inverse(l0 + u * (l1 - l0)))
        .collect()
}

/// EDM/Karras steps with exponent `rho` in the noise ratio `sigma_t / alpha_t` of `path`,
/// ascending (for OU: [`edm`]; for the `edm` path `sigma/alpha = t`, Karras et al.'s own grid).
///
/// ```
/// use flowcert::model::process::ProcessSpec;
/// let p = ProcessSpec::named("edm").check().unwrap();
/// let s = flowcert::grids::Span::new(0.002, 80.0, 2).unwrap();
/// let ts = flowcert::grids::peer::edm_on(&p, &s, 7.0).unwrap();
/// let mid = (0.5 * (0.002f64.powf(1.0 / 7.0) + 80f64.powf(1.0 / 7.0))).powf(7.0);
/// assert!((ts[1] / mid - 1.0).abs() < 1e-14);
/// ```
pub fn edm_on(path: &Process, span: &Span, rho: f64) -> Result<Vec<f64>, GridError> {
    if path.is_ou() {
        return edm(span, rho);
    }
    if !(rho.is_finite() && rho > 0.0) {
        return Err(GridError::BadRho { value: rho });
    }
    let hi = path.noise_ratio(span.t_max()).powf(1.0 / rho);
    let lo = path.noise_ratio(span.t_min()).powf(1.0 / rho);
    let mut ts: Vec<f64> = span
        .fractions()
        .map(|u| path.noise_ratio_inverse((hi + u * (lo - hi)).powf(rho)))
        .collect();
    ts.reverse();
    Ok(ts)
}
