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

/// Kendall's rank correlation `tau_b` of two rankings of the same items (`a[i]`, `b[i]`:
/// item `i`'s score under each; lower is better or higher, the same in both):
///
/// ```text
/// tau_b = (C - D) / sqrt((P - T_a)(P - T_b)),   P = n(n-1)/2 pairs,
/// ```
/// `C` / `D` the pairs ordered alike / oppositely, `T_a`, `T_b` the pairs tied in `a`, `b`.
/// Without ties it is `1 - 4 (discordant pairs) / (n(n-1))`: 1 for the same order, -1 for
/// the reverse. `None` for fewer than 2 items, lengths that differ, or a ranking that ties
/// every pair (no order to compare).
///
/// ```
/// use flowcert::experiments::stats::kendall_tau_b;
/// assert_eq!(kendall_tau_b(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
/// assert_eq!(kendall_tau_b(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
/// assert_eq!(kendall_tau_b(&[1.0, 1.0], &[1.0, 2.0]), None);
/// ```
pub fn kendall_tau_b(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len();
    if n < 2 || b.len() != n {
        return None;
    }
    let (mut s, mut tied_a, mut tied_b) = (0i64, 0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            let da = (a[i] - a[j]).partial_cmp(&0.0)? as i64;
            let db = (b[i] - b[j]).partial_cmp(&0.0)? as i64;
            s += da * db;
            tied_a += i64::from(da == 0);
            tied_b += i64::from(db == 0);
        }
    }
    let pairs = (n * (n - 1) / 2) as i64;
    let denom = (((pairs - tied_a) * (pairs - tied_b)) as f64).sqrt();
    (denom > 0.0).then(|| s as f64 / denom)
}

/// A least-squares line `y = intercept + slope x` with the 95% Student-t interval of the
/// slope (`n - 2` degrees of freedom, from 3 points on) and the correlation of `x` and `y`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LineFit {
    /// Points fitted.
    pub n: usize,
    /// The slope.
    pub slope: f64,
    /// The 95% interval of the slope (`None` below 3 points or for a perfect fit's
    /// degenerate spread).
    pub slope_interval: Option<(f64, f64)>,
    /// The intercept.
    pub intercept: f64,
    /// Pearson's correlation of `x` and `y`.
    pub correlation: f64,
}

/// Fit a line to `(x, y)` points by ordinary least squares (module [`LineFit`]): the slope
/// `Sxy / Sxx`, its standard error `sqrt(SSE / ((n - 2) Sxx))` with `SSE = Syy - slope Sxy`,
/// and the interval `slope +- t_{0.975, n-2} se`. `None` from fewer than 2 points or when
/// every `x` is the same.
///
/// ```
/// let f = flowcert::experiments::stats::fit_line(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]).unwrap();
/// assert!((f.slope - 2.0).abs() < 1e-12 && (f.intercept - 1.0).abs() < 1e-12);
/// assert!((f.correlation - 1.0).abs() < 1e-12);
/// ```
pub fn fit_line(points: &[(f64, f64)]) -> Option<LineFit> {
    let n = points.len();
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let my = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for &(x, y) in points {
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
        sxy += (x - mx) * (y - my);
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let slope_interval = (n >= 3)
        .then(|| {
            let sse = (syy - slope * sxy).max(0.0);
            let se = (sse / ((nf - 2.0) * sxx)).sqrt();
            let q = StudentsT::new(0.0, 1.0, nf - 2.0).ok()?.inverse_cdf(0.975);
            Some((slope - q * se, slope + q * se))
        })
        .flatten();
    Some(LineFit {
        n,
        slope,
        slope_interval,
        intercept: my - slope * mx,
        correlation: if syy > 0.0 {
            sxy / (sxx * syy).sqrt()
        } else {
            0.0
        },
    })
}
