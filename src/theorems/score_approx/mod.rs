//! The checker of the score-approximation theorem (theory/06-score-approximation.md): for each
//! target `eps`, build the network, measure `sup_t ||s_theta(., t) - s(., t)||_{L^p(p_t)}`
//! (p = 1, 2) by Monte Carlo on exact samples of `p_t`, and relate the sizes to
//! `log(1/eps)`.
//!
//! ```text
//! L^p error     (mean_i |s_theta(x_i, t) - s(x_i, t)|^p)^{1/p},   x_i ~ p_t  (seeded)
//! 95% CI        mean +- z_{0.975} sd / sqrt(n) of |e|^p, mapped by ^{1/p} (low end clamped at 0)
//! polylog fit   ln(size) = a + b ln(ln(1/eps))   (least squares; b is the exponent)
//! ```
//! Points outside the box count in the error (the network clips them); their share of the
//! sample is reported as `mass_outside`. The same samples serve every `eps` (common random
//! numbers), so the rows of a sweep are directly comparable.
//!
//! On a path other than OU the network is [`PathScoreNetwork`] (the OU network composed
//! with the clock `tau(t)` and the scaling `k(t)` of theory/07, Theorem 6), measured against
//! the *exact* score of the mixture on that path with exact samples of that path's `p_t`;
//! the bound at `t` is the transferred `eps / k(t)` ([`PathTransfer`]), and a row passes
//! when every measured `L^1` and `L^2` error is within the bound at its time.

use rayon::prelude::*;
use serde::Serialize;

use crate::approx::budget::{BudgetReport, ScoreNetConfig, ScoreNetParams};
use crate::approx::construct::ScoreNetwork;
use crate::approx::error::ApproxError;
use crate::approx::network::SizeCounts;
use crate::approx::on_path::PathScoreNetwork;
use crate::model::{Marginal, Mixture, MixtureSpec, ScoreField, builtin};
use crate::seed;
use crate::theorems::estimate::{Z95, lp_mean_ci};

pub mod trained;

/// The target accuracies of the theorem check.
pub const EPS_LIST: [f64; 5] = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5];

/// One measured `L^p(p_t)` error.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ErrorRow {
    /// The time.
    pub t: f64,
    /// The exponent p (1 or 2).
    pub p: u32,
    /// Monte Carlo estimate of `||s_theta - s||_{L^p(p_t)}`.
    pub lp_error: f64,
    /// Lower end of the 95% confidence interval.
    pub ci_low: f64,
    /// Upper end of the 95% confidence interval.
    pub ci_high: f64,
    /// Fraction of the samples outside the box `[-R, R]^d` (0 when no box is given).
    pub mass_outside: f64,
    /// Number of samples.
    pub samples: usize,
}

/// The report of one network: what `flowcert score-net` prints.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ScoreNetReport {
    /// Target accuracy.
    pub eps: f64,
    /// `t_min` of the construction.
    pub t_min: f64,
    /// `T` of the construction.
    pub t_max: f64,
    /// Depth (affine layers).
    pub depth: usize,
    /// Width (largest layer).
    pub width: usize,
    /// Non-zero parameters.
    pub parameters: usize,
    /// The same counts with identity neurons replaced by ReLU pairs.
    pub relu_requ: SizeCounts,
    /// Measured errors, by time then p.
    pub errors: Vec<ErrorRow>,
    /// `max_t` of the measured `L^1` error.
    pub sup_l1: f64,
    /// `max_t` of the measured `L^2` error.
    pub sup_l2: f64,
    /// `max_t` of the upper confidence limit of the `L^2` error.
    pub sup_l2_ci_high: f64,
    /// `sup_l1 <= eps` and `sup_l2 <= eps`.
    pub passed: bool,
    /// The error budget (proven bounds and the sizes they fix).
    pub budget: BudgetReport,
    /// On a path other than OU: the matched OU interval and the transferred bound per
    /// time (absent on OU, where the bound is `eps` at every time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathTransfer>,
}

/// The transfer of the OU network to another path (theory/07, "Score approximation").
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PathTransfer {
    /// The path (label with any non-default parameters).
    pub process: String,
    /// `tau(t_min)`: `t_min` of the OU network inside.
    pub ou_t_min: f64,
    /// `tau(T)`: `T` of the OU network inside.
    pub ou_t_max: f64,
    /// The bound at each measured time.
    pub bounds: Vec<TimeBound>,
}

/// The transferred bound at one time of a path.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct TimeBound {
    /// The path's time.
    pub t: f64,
    /// The matched OU time `tau(t)`.
    pub tau: f64,
    /// The scaling `k(t) = alpha(t) / alpha_OU(tau(t))`.
    pub k: f64,
    /// `eps / k(t)`: the bound on the `L^1` and `L^2(p_t)` errors at `t`.
    pub bound: f64,
}

impl ScoreNetReport {
    /// The smallest ratio bound / measured error over the times (the upper 95% limit of
    /// the `L^2` error and the `L^1` error): `>= 1` when the errors are within their bounds.
    /// On OU the bound is `eps` at every time.
    ///
    /// ```
    /// use flowcert::{approx::ScoreNetConfig, theorems::score_approx};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let p = ScoreNetConfig::new(0.1).check().unwrap();
    /// let rep = score_approx::measure_network(&mix, &p, &[0.5], 100, 0).unwrap();
    /// assert_eq!(rep.margin(), 0.1 / rep.sup_l2_ci_high.max(rep.sup_l1));
    /// ```
    pub fn margin(&self) -> f64 {
        let Some(path) = &self.path else {
            return self.eps / self.sup_l2_ci_high.max(self.sup_l1).max(f64::MIN_POSITIVE);
        };
        path.bounds
            .iter()
            .map(|b| {
                let err = self
                    .errors
                    .iter()
                    .filter(|r| r.t == b.t)
                    .map(|r| if r.p == 2 { r.ci_high } else { r.lp_error })
                    .fold(0.0, f64::max);
                b.bound / err.max(f64::MIN_POSITIVE)
            })
            .fold(f64::INFINITY, f64::min)
    }
}

/// Raw settings of a sweep over `eps`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CheckConfig {
    /// Target accuracies.
    pub eps_list: Vec<f64>,
    /// Number of times in `[t_min, T]` (geometric grid, both ends included).
    pub n_times: usize,
    /// Monte Carlo samples per time.
    pub samples: usize,
    /// Seed of the sampler.
    pub seed: u64,
    /// `t_min`.
    pub t_min: f64,
    /// `T`.
    pub t_max: f64,
}

impl Default for CheckConfig {
    fn default() -> Self {
        let base = ScoreNetConfig::default();
        CheckConfig {
            eps_list: EPS_LIST.to_vec(),
            n_times: 8,
            samples: 4000,
            seed: 0,
            t_min: base.t_min,
            t_max: base.t_max,
        }
    }
}

/// A fitted `ln(size) = intercept + exponent ln(ln(1/eps))`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct PolylogFit {
    /// The exponent `b`: size ~ log(1/eps)^b.
    pub exponent: f64,
    /// The intercept `a`.
    pub intercept: f64,
    /// Coefficient of determination.
    pub r2: f64,
}

/// Fitted exponents of depth, width and parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct SizeFits {
    /// Depth.
    pub depth: PolylogFit,
    /// Width.
    pub width: PolylogFit,
    /// Non-zero parameters.
    pub parameters: PolylogFit,
}

/// A sweep over `eps`: one report per `eps` and the polylog fits.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ScalingReport {
    /// One row per `eps`.
    pub rows: Vec<ScoreNetReport>,
    /// Size against `log(1/eps)`.
    pub fits: SizeFits,
    /// Every row passed.
    pub passed: bool,
}

/// One row of the table of sizes against the mixture geometry.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct DependenceRow {
    /// Which factor varies: `K`, `d`, `separation` or `t_min`.
    pub factor: String,
    /// Its value.
    pub value: f64,
    /// Depth.
    pub depth: usize,
    /// Width.
    pub width: usize,
    /// Non-zero parameters.
    pub parameters: usize,
    /// Box half-width R.
    pub box_radius: f64,
    /// Largest Chebyshev degree.
    pub chebyshev_degree: usize,
    /// Largest Newton step count.
    pub newton_steps: usize,
    /// Measured `sup_t L^2` error (None when no samples were asked for).
    pub sup_l2: Option<f64>,
}

/// `n` times from `t_min` to `t_max`, geometric (both ends included).
///
/// ```
/// let g = flowcert::theorems::score_approx::time_grid(0.01, 1.0, 3);
/// assert!((g[1] - 0.1).abs() < 1e-12 && g[2] == 1.0);
/// ```
pub fn time_grid(t_min: f64, t_max: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![t_max],
        _ => (0..n)
            .map(|i| {
                if i + 1 == n {
                    t_max
                } else {
                    t_min * (t_max / t_min).powf(i as f64 / (n - 1) as f64)
                }
            })
            .collect(),
    }
}

/// The `L^1` and `L^2` rows (estimate and 95% confidence interval, module doc) of the
/// pointwise error norms `errs = |s_theta(x_i, t) - s(x_i, t)|`, `x_i ~ p_t`. A non-finite
/// error makes the estimate infinite (never NaN), so it fails every comparison with eps.
///
/// ```
/// let rows = flowcert::theorems::score_approx::error_rows(0.5, &[3.0, 4.0], 0.0);
/// assert_eq!((rows[0].p, rows[0].lp_error), (1, 3.5));
/// assert!((rows[1].lp_error - 12.5f64.sqrt()).abs() < 1e-12);
/// assert!(rows[1].ci_low <= rows[1].lp_error && rows[1].lp_error <= rows[1].ci_high);
/// assert_eq!(flowcert::theorems::score_approx::error_rows(0.5, &[f64::NAN, 1.0], 0.0)[1].lp_error, f64::INFINITY);
/// ```
pub fn error_rows(t: f64, errs: &[f64], mass_outside: f64) -> [ErrorRow; 2] {
    let row = |p: u32| {
        let (est, lo, hi) = lp_mean_ci(errs, p, Z95);
        ErrorRow {
            t,
            p,
            lp_error: if est.is_nan() { f64::INFINITY } else { est },
            ci_low: if lo.is_nan() { f64::INFINITY } else { lo },
            ci_high: if hi.is_nan() { f64::INFINITY } else { hi },
            mass_outside,
            samples: errs.len(),
        }
    };
    [row(1), row(2)]
}

/// Monte Carlo `L^1` and `L^2(p_t)` errors of any score field against the exact mixture
/// score, at each time (rows ordered by time, then p = 1, 2). `radius` (the network's
/// box) is only used to report the mass outside it.
///
/// ```
/// use flowcert::theorems::score_approx::measure_errors;
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// // the exact score against itself: zero error
/// let rows = measure_errors(&mix, &mix, &[0.5], 100, 1, None).unwrap();
/// assert_eq!(rows.len(), 2);
/// assert_eq!(rows[1].lp_error, 0.0);
/// ```
pub fn measure_errors<F: ScoreField + ?Sized>(
    field: &F,
    mix: &Mixture,
    times: &[f64],
    samples: usize,
    seed: u64,
    radius: Option<f64>,
) -> Result<Vec<ErrorRow>, ApproxError> {
    measure_errors_boxed(
        field,
        mix,
        times,
        samples,
        seed,
        radius.map(|r| move |_: f64| r),
    )
}

/// [`measure_errors`] with a box half-width that depends on the time (on a path: the OU
/// network's box `R` scaled by `k(t)`).
fn measure_errors_boxed<F: ScoreField + ?Sized, B: Fn(f64) -> f64 + Sync>(
    field: &F,
    mix: &Mixture,
    times: &[f64],
    samples: usize,
    seed: u64,
    radius: Option<B>,
) -> Result<Vec<ErrorRow>, ApproxError> {
    if samples < 2 {
        return Err(ApproxError::BadSetting {
            field: "samples",
            value: samples.to_string(),
            fix: "give at least 2 Monte Carlo samples per time",
        });
    }
    for &t in times {
        mix.check_path_time("times", t)?;
    }
    let per_time: Vec<Vec<ErrorRow>> = times
        .par_iter()
        .enumerate()
        .map(|(i, &t)| {
            let mut rng = seed::rng(seed::SCORE, seed, &[i as u64]);
            let xs = mix.sample(t, samples, &mut rng);
            let exact = Marginal::new(mix, t)
                .expect("time checked above")
                .score_batch(&xs);
            let approx = field.score_batch(&xs, t);
            let errs: Vec<f64> = (0..samples)
                .map(|c| (approx.column(c) - exact.column(c)).norm())
                .collect();
            let outside = radius.as_ref().map_or(0, |r| {
                let r = r(t);
                (0..samples)
                    .filter(|&c| xs.column(c).iter().any(|v| v.abs() > r))
                    .count()
            });
            error_rows(t, &errs, outside as f64 / samples as f64).to_vec()
        })
        .collect();
    Ok(per_time.into_iter().flatten().collect())
}

/// `max_t` of the `L^1` error, the `L^2` error and the upper 95% limit of the `L^2` error.
fn sups(errors: &[ErrorRow]) -> (f64, f64, f64) {
    let sup = |p: u32, f: fn(&ErrorRow) -> f64| {
        errors
            .iter()
            .filter(|r| r.p == p)
            .map(f)
            .fold(0.0, f64::max)
    };
    (
        sup(1, |r| r.lp_error),
        sup(2, |r| r.lp_error),
        sup(2, |r| r.ci_high),
    )
}

/// Build the network for one `eps` and measure it on `times` (on the mixture's path: the
/// times of `params` and `times` are that path's, see [`measure_path_built`]).
///
/// ```
/// use flowcert::{approx::ScoreNetConfig, theorems::score_approx};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let p = ScoreNetConfig::new(1e-2).check().unwrap();
/// let rep = score_approx::measure_network(&mix, &p, &[0.01, 1.0], 200, 7).unwrap();
/// assert!(rep.passed && rep.sup_l2 <= 1e-2);
/// ```
pub fn measure_network(
    mix: &Mixture,
    params: &ScoreNetParams,
    times: &[f64],
    samples: usize,
    seed: u64,
) -> Result<ScoreNetReport, ApproxError> {
    if !mix.process().is_ou() {
        let cfg = ScoreNetConfig {
            eps: params.eps(),
            t_min: params.t_min(),
            t_max: params.t_max(),
        };
        let net = PathScoreNetwork::build(mix, &cfg)?;
        return measure_path_built(&net, mix, times, samples, seed);
    }
    let net = ScoreNetwork::build(mix, params)?;
    measure_built(&net, mix, times, samples, seed)
}

/// The report of an already built network.
///
/// ```
/// use flowcert::{approx::{ScoreNetConfig, ScoreNetwork}, theorems::score_approx};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let net = ScoreNetwork::build(&mix, &ScoreNetConfig::new(0.1).check().unwrap()).unwrap();
/// let rep = score_approx::measure_built(&net, &mix, &[0.5], 100, 0).unwrap();
/// assert_eq!(rep.depth, net.network().counts().depth);
/// ```
pub fn measure_built(
    net: &ScoreNetwork,
    mix: &Mixture,
    times: &[f64],
    samples: usize,
    seed: u64,
) -> Result<ScoreNetReport, ApproxError> {
    let eps = net.params().eps();
    let errors = measure_errors(
        net,
        mix,
        times,
        samples,
        seed,
        Some(net.budget().box_radius),
    )?;
    let (sup_l1, sup_l2, sup_l2_ci_high) = sups(&errors);
    let sizes = net.sizes();
    Ok(ScoreNetReport {
        eps,
        t_min: net.params().t_min(),
        t_max: net.params().t_max(),
        depth: sizes.built.depth,
        width: sizes.built.width,
        parameters: sizes.built.parameters,
        relu_requ: sizes.relu_requ,
        errors,
        sup_l1,
        sup_l2,
        sup_l2_ci_high,
        passed: sup_l1 <= eps && sup_l2 <= eps,
        budget: net.budget().clone(),
        path: None,
    })
}

/// The report of a network on any path ([`PathScoreNetwork`]), measured against the exact
/// score of `mix` on that path with exact samples of its `p_t` (module doc): each error
/// at `t` is compared with `eps / k(t)`. On OU this is [`measure_built`] of the OU network.
///
/// ```
/// use flowcert::approx::{PathScoreNetwork, ScoreNetConfig};
/// use flowcert::model::{builtin, process::ProcessSpec};
/// use flowcert::theorems::score_approx::measure_path_built;
/// let rf = ProcessSpec::named("rectified").check().unwrap();
/// let mix = builtin::two_mode(0.3).with_process(rf);
/// let cfg = ScoreNetConfig { t_max: 0.9, ..ScoreNetConfig::new(0.1) };
/// let net = PathScoreNetwork::build(&mix, &cfg).unwrap();
/// let rep = measure_path_built(&net, &mix, &[0.01, 0.5, 0.9], 100, 0).unwrap();
/// let path = rep.path.as_ref().unwrap();
/// assert!(rep.passed && path.process == "rectified" && path.bounds[2].bound > 0.1);
/// ```
pub fn measure_path_built(
    net: &PathScoreNetwork,
    mix: &Mixture,
    times: &[f64],
    samples: usize,
    seed: u64,
) -> Result<ScoreNetReport, ApproxError> {
    if mix.process() != net.process() {
        return Err(ApproxError::BadSetting {
            field: "process",
            value: mix.process().label(),
            fix: "measure the network on the mixture of the path it was built for",
        });
    }
    if net.process().is_ou() {
        return measure_built(net.ou_network(), mix, times, samples, seed);
    }
    for &t in times {
        if !(t >= net.t_min() && t <= net.t_max()) {
            return Err(ApproxError::BadSetting {
                field: "times",
                value: t.to_string(),
                fix: "measure at times inside the network's interval [t_min, T] of the path",
            });
        }
    }
    let ou = net.ou_network();
    let r = ou.budget().box_radius;
    let errors = measure_errors_boxed(
        net,
        mix,
        times,
        samples,
        seed,
        Some(|t: f64| r * net.scale(t)),
    )?;
    let bounds: Vec<TimeBound> = times
        .iter()
        .map(|&t| TimeBound {
            t,
            tau: net.clock(t),
            k: net.scale(t),
            bound: net.bound(t),
        })
        .collect();
    // Rows are ordered by time, then p: two per time.
    let passed = errors
        .iter()
        .zip(bounds.iter().flat_map(|b| [b, b]))
        .all(|(e, b)| e.lp_error <= b.bound);
    let (sup_l1, sup_l2, sup_l2_ci_high) = sups(&errors);
    let sizes = ou.sizes();
    Ok(ScoreNetReport {
        eps: net.eps(),
        t_min: net.t_min(),
        t_max: net.t_max(),
        depth: sizes.built.depth,
        width: sizes.built.width,
        parameters: sizes.built.parameters,
        relu_requ: sizes.relu_requ,
        sup_l1,
        sup_l2,
        sup_l2_ci_high,
        errors,
        passed,
        budget: ou.budget().clone(),
        path: Some(PathTransfer {
            process: net.process().label(),
            ou_t_min: ou.params().t_min(),
            ou_t_max: ou.params().t_max(),
            bounds,
        }),
    })
}

/// Least squares of `ln(size)` on `ln(ln(1/eps))`.
///
/// ```
/// use flowcert::theorems::score_approx::fit_polylog;
/// let eps = [1e-1, 1e-2, 1e-3, 1e-4];
/// let sizes: Vec<f64> = eps.iter().map(|e: &f64| 3.0 * (1.0 / e).ln().powi(2)).collect();
/// assert!((fit_polylog(&eps, &sizes).exponent - 2.0).abs() < 1e-12);
/// ```
pub fn fit_polylog(eps: &[f64], sizes: &[f64]) -> PolylogFit {
    let xs: Vec<f64> = eps.iter().map(|e| (1.0 / e).ln().ln()).collect();
    let ys: Vec<f64> = sizes.iter().map(|s| s.ln()).collect();
    let n = xs.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let syy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let a = my - b * mx;
    let r2 = if syy > 0.0 {
        (sxy * sxy) / (sxx * syy)
    } else {
        1.0
    };
    PolylogFit {
        exponent: b,
        intercept: a,
        r2,
    }
}

/// The theorem check: one report per `eps` (same samples for all) and the polylog fits.
///
/// ```
/// use flowcert::theorems::score_approx::{measure_scaling, CheckConfig};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let cfg = CheckConfig { eps_list: vec![1e-1, 1e-2], n_times: 2, samples: 100, ..Default::default() };
/// let rep = measure_scaling(&mix, &cfg).unwrap();
/// assert!(rep.passed && rep.rows.len() == 2);
/// ```
pub fn measure_scaling(mix: &Mixture, cfg: &CheckConfig) -> Result<ScalingReport, ApproxError> {
    if cfg.eps_list.len() < 2 || cfg.n_times == 0 {
        return Err(ApproxError::BadSetting {
            field: "eps_list / n_times",
            value: format!("{} / {}", cfg.eps_list.len(), cfg.n_times),
            fix: "give at least two eps values (for the fit) and at least one time",
        });
    }
    let rows = cfg
        .eps_list
        .iter()
        .map(|&eps| measure_eps(mix, cfg, eps))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ScalingReport::from_rows(rows))
}

/// One row of [`measure_scaling`]: the network for `eps` measured at the configuration's
/// times (a step of the sweep, for callers that run or report the eps values one by one).
pub fn measure_eps(
    mix: &Mixture,
    cfg: &CheckConfig,
    eps: f64,
) -> Result<ScoreNetReport, ApproxError> {
    let times = time_grid(cfg.t_min, cfg.t_max, cfg.n_times);
    let p = ScoreNetConfig {
        eps,
        t_min: cfg.t_min,
        t_max: cfg.t_max,
    }
    .check()?;
    measure_network(mix, &p, &times, cfg.samples, cfg.seed)
}

impl ScalingReport {
    /// The report of rows measured at two or more eps values: the rows, the polylog fits
    /// of depth, width and parameters, and whether every row passed.
    pub fn from_rows(rows: Vec<ScoreNetReport>) -> Self {
        let eps: Vec<f64> = rows.iter().map(|r| r.eps).collect();
        let col = |f: fn(&ScoreNetReport) -> usize| -> Vec<f64> {
            rows.iter().map(|r| f(r) as f64).collect()
        };
        let fits = SizeFits {
            depth: fit_polylog(&eps, &col(|r| r.depth)),
            width: fit_polylog(&eps, &col(|r| r.width)),
            parameters: fit_polylog(&eps, &col(|r| r.parameters)),
        };
        let passed = rows.iter().all(|r| r.passed);
        ScalingReport { rows, fits, passed }
    }
}

fn two_modes(d: usize, separation: f64, sigma0: f64) -> Mixture {
    let mut a = vec![0.0; d];
    let mut b = vec![0.0; d];
    a[0] = -separation / 2.0;
    b[0] = separation / 2.0;
    let cov: Vec<Vec<f64>> = (0..d)
        .map(|i| {
            (0..d)
                .map(|j| if i == j { sigma0 * sigma0 } else { 0.0 })
                .collect()
        })
        .collect();
    MixtureSpec {
        weights: vec![0.5, 0.5],
        means: vec![a, b],
        covariances: vec![cov.clone(), cov],
    }
    .check()
    .expect("valid by construction")
}

/// Sizes (and, with `samples > 0`, the measured `sup_t L^2` error on `n_times` times)
/// against K (ring of K modes, radius 3), d (two modes 3 apart), separation (two modes in
/// 2-D) and t_min (two modes), all with `sigma0 = 0.3`, at one `eps`.
///
/// ```
/// let rows = flowcert::theorems::score_approx::dependence_table(1e-2, 0, 2, 0).unwrap();
/// assert_eq!(rows.len(), 16);
/// assert!(rows.iter().any(|r| r.factor == "t_min"));
/// ```
pub fn dependence_table(
    eps: f64,
    samples: usize,
    n_times: usize,
    seed: u64,
) -> Result<Vec<DependenceRow>, ApproxError> {
    let base = ScoreNetConfig::new(eps);
    let mut cases: Vec<(&str, f64, Mixture, ScoreNetConfig)> = Vec::new();
    for k in [1usize, 2, 4, 8] {
        cases.push(("K", k as f64, builtin::ring(k, 3.0, 0.3), base));
    }
    for d in [1usize, 2, 4, 8] {
        cases.push(("d", d as f64, two_modes(d, 3.0, 0.3), base));
    }
    for sep in [1.0, 3.0, 6.0, 12.0] {
        cases.push(("separation", sep, two_modes(2, sep, 0.3), base));
    }
    for t_min in [0.1, 0.03, 0.01, 0.003] {
        let cfg = ScoreNetConfig { t_min, ..base };
        cases.push(("t_min", t_min, two_modes(2, 3.0, 0.3), cfg));
    }
    cases
        .into_iter()
        .map(|(factor, value, mix, cfg)| {
            let p = cfg.check()?;
            let net = ScoreNetwork::build(&mix, &p)?;
            let c = net.network().counts();
            let sup_l2 = if samples > 0 {
                let times = time_grid(p.t_min(), p.t_max(), n_times.max(1));
                Some(measure_built(&net, &mix, &times, samples, seed)?.sup_l2)
            } else {
                None
            };
            Ok(DependenceRow {
                factor: factor.to_string(),
                value,
                depth: c.depth,
                width: c.width,
                parameters: c.parameters,
                box_radius: net.budget().box_radius,
                chebyshev_degree: net.budget().chebyshev_degree,
                newton_steps: net.budget().newton_steps,
                sup_l2,
            })
        })
        .collect()
}
