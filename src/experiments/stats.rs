//! Statistics over seeds: mean, spread, 95% intervals (Student t), paired reductions.

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
