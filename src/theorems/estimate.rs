//! Monte Carlo `L^p` norms and their confidence intervals, shared by every checker that
//! reports a sample quantity as an *estimate* of a population one (the score network's
//! `L^p(p_t)` error, an outside model's errors, the mismatch theorem's `L^p` lower bound and
//! a student's `L^2` error over `p_T`).
//!
//! ```text
//! values v_i >= 0 from i.i.d. draws:   estimate  (mean_i v_i^p)^{1/p}
//! interval   (mean - z sd / sqrt(n))_+^{1/p} .. (mean + z sd / sqrt(n))^{1/p}   (sd of the v_i^p)
//! ```
//! The normal approximation for the mean of `v^p`, mapped through the monotone `^{1/p}`;
//! `z = 1.96` gives the two-sided 95% interval ([`Z95`]).

use serde::{Deserialize, Serialize};

/// `z` of a two-sided 95% normal interval (`Phi^{-1}(0.975)`).
pub const Z95: f64 = 1.959_963_984_540_054;

/// What kind of number a reported bound is (the JSON says it beside the number).
///
/// ```
/// use flowcert::theorems::estimate::BoundKind;
/// assert_eq!(serde_json::to_string(&BoundKind::Estimate).unwrap(), "\"estimate\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoundKind {
    /// Proven for the quantity it bounds (up to the teacher solver's accuracy).
    Rigorous,
    /// A sample quantity: exact for the empirical measure it is computed on, an estimate of
    /// the population quantity, reported with a confidence interval.
    Estimate,
}

/// `(estimate, ci_low, ci_high)` of `(E v^p)^{1/p}` from the draws `vals` (module doc),
/// at the normal quantile `z`. Fewer than two draws give a zero-width interval.
///
/// ```
/// use flowcert::theorems::estimate::{lp_mean_ci, Z95};
/// let (est, lo, hi) = lp_mean_ci(&[3.0, 4.0], 2, Z95);
/// assert!((est - 12.5f64.sqrt()).abs() < 1e-12 && lo <= est && est <= hi);
/// assert_eq!(lp_mean_ci(&[2.0], 1, Z95), (2.0, 2.0, 2.0));
/// ```
pub fn lp_mean_ci(vals: &[f64], p: u32, z: f64) -> (f64, f64, f64) {
    let n = vals.len() as f64;
    let pw: Vec<f64> = vals.iter().map(|e| e.powi(p as i32)).collect();
    let mean = pw.iter().sum::<f64>() / n;
    let var = if vals.len() > 1 {
        pw.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    let half = z * (var / n).sqrt();
    let inv = 1.0 / p as f64;
    (
        mean.powf(inv),
        (mean - half).max(0.0).powf(inv),
        (mean + half).powf(inv),
    )
}
