//! The `fitted` grid (theory/04-composition-and-grids.md, "Oracle and fitted grids"): fit the
//! local-error law of a pilot's segment students,
//!
//! ```text
//! ln eps = c + b_L ln(Delta Lambda) + b_S ln(Delta logSNR)        (least squares in logs)
//! ```
//! with `Delta Lambda` the segment's two-sided stability increment and `Delta logSNR` its
//! log signal-to-noise increment (one covariate or both: the model with the larger adjusted
//! `R^2` is used; every fit is reported), and the amplification `A(t)` of an error made at
//! time `t` to `t_min` (measured on the pilot, interpolated linearly in `ln A` against
//! `ln t`, `A(t_min) = 1`). The grid minimises `sum_i eps(segment_i) A(t_{i-1})` over a fine
//! candidate set by the exact DP of [`super::oracle::best_path`].

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use super::GridError;
use super::oracle::{CostTable, best_path};

/// Which covariates a fit uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Covariates {
    /// `Delta Lambda` only.
    Lambda,
    /// `Delta logSNR` only.
    LogSnr,
    /// Both.
    Both,
}

impl Covariates {
    /// The three models, in report order.
    pub const ALL: [Covariates; 3] = [Covariates::Lambda, Covariates::LogSnr, Covariates::Both];

    /// The name in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Covariates::Lambda => "Delta Lambda",
            Covariates::LogSnr => "Delta logSNR",
            Covariates::Both => "both",
        }
    }
}

/// One pilot segment: its increments and its measured RMS local error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PilotPoint {
    /// `Lambda(t_k) - Lambda(t_j)` (two-sided).
    pub d_lambda: f64,
    /// `logSNR(t_j) - logSNR(t_k)` (positive: log-SNR falls with `t`).
    pub d_logsnr: f64,
    /// RMS local error.
    pub eps: f64,
}

/// A least-squares fit of `ln eps` on the logs of the covariates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LawFit {
    /// The covariates.
    pub covariates: Covariates,
    /// `c`.
    pub intercept: f64,
    /// `b_L` (0 when unused).
    pub b_lambda: f64,
    /// `b_S` (0 when unused).
    pub b_logsnr: f64,
    /// `R^2` of the log fit.
    pub r2: f64,
    /// Adjusted `R^2` (penalises the second covariate).
    pub adj_r2: f64,
    /// Points fitted.
    pub n: usize,
}

impl LawFit {
    /// The law's local error of a segment with increments `d_lambda`, `d_logsnr`.
    pub fn eps(&self, d_lambda: f64, d_logsnr: f64) -> f64 {
        let mut l = self.intercept;
        if self.b_lambda != 0.0 {
            l += self.b_lambda * d_lambda.ln();
        }
        if self.b_logsnr != 0.0 {
            l += self.b_logsnr * d_logsnr.ln();
        }
        l.exp()
    }
}

/// Fit one model by least squares in logs.
///
/// ```
/// use flowcert::grids::fitted::{Covariates, PilotPoint, fit};
/// // eps = 0.1 (Delta Lambda)^0.5 exactly: the fit recovers b = 0.5 with R^2 = 1.
/// let pts: Vec<PilotPoint> = [0.5, 1.0, 2.0, 8.0, 30.0]
///     .iter()
///     .map(|&d| PilotPoint { d_lambda: d, d_logsnr: 1.0 + d * d, eps: 0.1 * d.sqrt() })
///     .collect();
/// let f = fit(&pts, Covariates::Lambda).unwrap();
/// assert!((f.b_lambda - 0.5).abs() < 1e-12 && (f.r2 - 1.0).abs() < 1e-12);
/// ```
pub fn fit(points: &[PilotPoint], covariates: Covariates) -> Result<LawFit, GridError> {
    let bad = |problem: &str| GridError::BadFit {
        problem: problem.to_string(),
    };
    let ok = |v: f64| v.is_finite() && v > 0.0;
    let pts: Vec<&PilotPoint> = points
        .iter()
        .filter(|p| ok(p.d_lambda) && ok(p.d_logsnr) && ok(p.eps))
        .collect();
    let k = match covariates {
        Covariates::Both => 2,
        _ => 1,
    };
    if pts.len() < k + 2 {
        return Err(bad(&format!(
            "{} usable pilot segments for {} covariate(s)",
            pts.len(),
            k
        )));
    }
    let n = pts.len();
    let x = DMatrix::from_fn(n, k + 1, |i, c| match (c, covariates) {
        (0, _) => 1.0,
        (1, Covariates::LogSnr) => pts[i].d_logsnr.ln(),
        (1, _) => pts[i].d_lambda.ln(),
        _ => pts[i].d_logsnr.ln(),
    });
    let y = DVector::from_iterator(n, pts.iter().map(|p| p.eps.ln()));
    let beta = x.clone().svd(true, true).solve(&y, 1e-12).map_err(bad)?;
    let resid = &y - &x * &beta;
    let mean = y.mean();
    let ss_tot: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    let ss_res = resid.norm_squared();
    if ss_tot <= 0.0 || !beta.iter().all(|b| b.is_finite()) {
        return Err(bad("every pilot segment has the same local error"));
    }
    let r2 = 1.0 - ss_res / ss_tot;
    let adj_r2 = 1.0 - (1.0 - r2) * (n - 1) as f64 / (n - k - 1).max(1) as f64;
    let (b_lambda, b_logsnr) = match covariates {
        Covariates::Lambda => (beta[1], 0.0),
        Covariates::LogSnr => (0.0, beta[1]),
        Covariates::Both => (beta[1], beta[2]),
    };
    Ok(LawFit {
        covariates,
        intercept: beta[0],
        b_lambda,
        b_logsnr,
        r2,
        adj_r2,
        n,
    })
}

/// Every model ([`Covariates::ALL`]) and the index of the one with the largest adjusted
/// `R^2` (the one the grid uses).
pub fn fit_all(points: &[PilotPoint]) -> Result<(Vec<LawFit>, usize), GridError> {
    let fits: Vec<LawFit> = Covariates::ALL
        .iter()
        .map(|&c| fit(points, c))
        .collect::<Result<_, _>>()?;
    let best = (0..fits.len())
        .max_by(|&a, &b| fits[a].adj_r2.total_cmp(&fits[b].adj_r2))
        .unwrap_or(0);
    Ok((fits, best))
}

/// The amplification `A(t)` of an error made at `t` to `t_min`: linear in `ln A` against
/// `ln t` between measured points, constant beyond the outermost ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Amplification {
    /// `(t, A)` sorted by `t`, one per time (the geometric mean of repeated measurements).
    pub points: Vec<(f64, f64)>,
}

impl Amplification {
    /// From measurements `(t, A)`; non-finite or non-positive ones are dropped.
    ///
    /// ```
    /// use flowcert::grids::fitted::Amplification;
    /// let a = Amplification::new(&[(0.01, 1.0), (1.0, 100.0), (1.0, 100.0)]);
    /// assert!((a.at(0.1) - 10.0).abs() < 1e-12);
    /// assert_eq!(a.at(1e-4), 1.0);
    /// assert!((a.at(5.0) - 100.0).abs() < 1e-12);
    /// ```
    pub fn new(measured: &[(f64, f64)]) -> Self {
        let mut pts: Vec<(f64, f64)> = measured
            .iter()
            .copied()
            .filter(|(t, a)| t.is_finite() && *t > 0.0 && a.is_finite() && *a > 0.0)
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut out: Vec<(f64, f64, usize)> = Vec::new();
        for (t, a) in pts {
            match out.last_mut() {
                Some(last) if last.0 == t => {
                    last.1 += a.ln();
                    last.2 += 1;
                }
                _ => out.push((t, a.ln(), 1)),
            }
        }
        Amplification {
            points: out
                .into_iter()
                .map(|(t, s, c)| (t, (s / c as f64).exp()))
                .collect(),
        }
    }

    /// `A(t)` (1 when nothing was measured).
    pub fn at(&self, t: f64) -> f64 {
        let p = &self.points;
        match p.iter().position(|&(s, _)| s >= t) {
            None => p.last().map_or(1.0, |q| q.1),
            Some(0) => p[0].1,
            Some(i) => {
                let (t0, a0) = p[i - 1];
                let (t1, a1) = p[i];
                let u = (t.ln() - t0.ln()) / (t1.ln() - t0.ln());
                (a0.ln() + u * (a1.ln() - a0.ln())).exp()
            }
        }
    }
}

/// The fitted grid: the `segments`-segment path through `candidates` (with the two-sided
/// `Lambda` and the log-SNR at each) minimising `sum eps_law(segment) A(lower end)`, with
/// its estimate. Candidates must increase; `lambda` and `logsnr` have their length.
pub fn fitted_path(
    law: &LawFit,
    amp: &Amplification,
    candidates: &[f64],
    lambda: &[f64],
    logsnr: &[f64],
    segments: usize,
) -> Result<(Vec<f64>, f64), GridError> {
    let m = candidates.len();
    let mut costs = CostTable::new(m);
    for j in 0..m {
        let a = if j == 0 { 1.0 } else { amp.at(candidates[j]) };
        for k in (j + 1)..m {
            let e = law.eps(lambda[k] - lambda[j], logsnr[j] - logsnr[k]);
            costs.set(j, k, e * a);
        }
    }
    let (path, cost) = best_path(&costs, segments)?;
    Ok((path.iter().map(|&i| candidates[i]).collect(), cost))
}
