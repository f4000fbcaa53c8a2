//! Statistics over seeds: mean, spread, 95% intervals (Student t), paired reductions, and
//! reductions on the log scale (geometric mean of paired ratios).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean, sample standard deviation and a 95% confidence interval of the mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (0 for n = 1).
    pub std: f64,
    /// Lower end of the 95% interval of the mean (Student t, n - 1 degrees of freedom).
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
}

/// Summarise values (empty input gives NaNs).
///
/// ```
/// let s = flowcert::experiments::stats::summarize(&[1.0, 2.0, 3.0]);
/// assert_eq!(s.mean, 2.0);
/// assert!((s.std - 1.0).abs() < 1e-12);
/// assert!(s.ci_low < 2.0 && s.ci_high > 2.0);
/// ```
pub fn summarize(v: &[f64]) -> Summary {
    let n = v.len();
    if n == 0 {
        return Summary {
            n,
            mean: f64::NAN,
            std: f64::NAN,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
        };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Summary {
            n,
            mean,
            std: 0.0,
            ci_low: mean,
            ci_high: mean,
        };
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let std = var.sqrt();
    let q = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN);
    let half = q * std / (n as f64).sqrt();
    Summary {
        n,
        mean,
        std,
        ci_low: mean - half,
        ci_high: mean + half,
    }
}

/// Paired relative reductions `1 - a_i / b_i` (how much lower `a` is than `b`, per seed).
///
/// ```
/// let r = flowcert::experiments::stats::paired_reductions(&[1.0, 3.0], &[2.0, 4.0]);
/// assert_eq!(r, vec![0.5, 0.25]);
/// ```
pub fn paired_reductions(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| 1.0 - x / y).collect()
}

/// Paired log ratios `ln(a_i / b_i)`.
///
/// ```
/// let r = flowcert::experiments::stats::log_ratios(&[1.0, 2.0], &[2.0, 2.0]);
/// assert_eq!(r, vec![-std::f64::consts::LN_2, 0.0]);
/// ```
pub fn log_ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| (x / y).ln()).collect()
}

/// Fewest paired values for a reported interval: a Student-t interval from two values has
/// a half-width of 12.7 standard errors, so two-seed intervals are reported as missing.
pub const MIN_PAIRED_FOR_INTERVAL: usize = 3;

/// A reduction measured on the log scale: `1 - exp(mean ln(a_i / b_i))` (one minus the
/// geometric mean of the paired ratios), with the 95% interval mapped from the Student-t
/// interval of the log ratios, `[1 - exp(high), 1 - exp(low)]` (always below 100%), or
/// `None` from fewer than [`MIN_PAIRED_FOR_INTERVAL`] pairs.
///
/// ```
/// use flowcert::experiments::stats::{log_ratios, summarize, LogReduction};
/// let r = LogReduction::from_log_ratios(&summarize(&log_ratios(&[1.0, 1.0, 1.0], &[2.0, 2.0, 2.0])));
/// assert!((r.reduction - 0.5).abs() < 1e-15);
/// let (lo, hi) = r.interval.unwrap();
/// assert!((lo - 0.5).abs() < 1e-12 && (hi - 0.5).abs() < 1e-12);
/// let two = LogReduction::from_log_ratios(&summarize(&log_ratios(&[1.0, 3.0], &[2.0, 2.0])));
/// assert!(two.interval.is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogReduction {
    /// Paired values.
    pub n: usize,
    /// `1 - exp(mean log ratio)`.
    pub reduction: f64,
    /// The 95% interval of `reduction` (`None` below [`MIN_PAIRED_FOR_INTERVAL`] pairs).
    pub interval: Option<(f64, f64)>,
}

impl LogReduction {
    /// From the summary of the paired log ratios.
    pub fn from_log_ratios(s: &Summary) -> Self {
        LogReduction {
            n: s.n,
            reduction: 1.0 - s.mean.exp(),
            interval: (s.n >= MIN_PAIRED_FOR_INTERVAL)
                .then(|| (1.0 - s.ci_high.exp(), 1.0 - s.ci_low.exp())),
        }
    }
}
