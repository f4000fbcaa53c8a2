//! The error budget of the score network: from a target `eps` to the box radius `R`, the
//! polynomial degrees and the iteration counts (theory/06-score-approximation.md).
//!
//! # Error analysis
//!
//! Write `e = s_theta - s`, `rho = ROUNDING_SHARE`. The budget is proven in exact
//! arithmetic; a share `rho eps` is left to floating-point rounding (measured, not proven).
//!
//! **Outside the box.** The network clips `x` to `[-R, R]^d` and `t` to `[t_min, T]`, so
//! `s_theta(x) = net(clip x)` and, with `B = max_{k,j,t} 1/s_kj(t)` and `|s(y)| <= B(|y| + mu)`
//! (`mu = alpha_max max_k |mu_k|`), `|e(x)| <= eps_in + 2B mu + 2B sqrt(d) |x|_inf =: A0 + A1 |x|_inf`.
//! On `{|x|_inf > R}` the square of this is at most `sum_i (A0 + A1 |x_i|)^2 1{|x_i| > R}`,
//! whose `p_t`-expectation is a sum of 1-D Gaussian partial moments, in closed form. For
//! `R >= |m|` these grow with `|m|` and with the variance, so the worst case over `t` uses
//! `|m| = alpha_max |mu_ki|` and `v = max(s_ii(t_min), s_ii(T))`:
//!
//! ```text
//! ||e 1_out||_{L^2(p_t)}^2 <= tail(R) = sum_k pi_k sum_i E_{N(m, v)}[(A0 + A1|y|)^2 1{|y| > R}]
//! ```
//! `R` is the smallest radius (bisection) with `sqrt(tail(R)) <= eps_out = (1 - rho) eps / 2`.
//!
//! **Inside the box** (`sup |e| <= eps_in = (1 - rho) eps / 2`), with `r_hat_k = E_k / S`:
//!
//! ```text
//! |s_theta - s| <= |r_hat - r|_1 U + (1 + |r_hat - r|_1) delta_u
//! U = max_k sup |u_k|,  u_k = S_k^{-1}-scaled eigen-coordinates,  delta_u = max_k sup |u_hat_k - u_k|
//! |r_hat - r|_1 <= eta_sm + (e^{2 delta_l} - 1)          (softmax of log-weights off by <= delta_l)
//! eta_sm = 2 (K-1) e^{-Bc} + 2 rho_E/(1 - rho_E) + rho_R   (clip at -Bc, exp rel. error, 1/S rel. error)
//! delta_l = (1/2) delta_LD + (1/2) sum_j [(2 Z_j dz_j + dz_j^2)(inv_j + dinv_j) + Z_j^2 dinv_j]
//! delta_u = sqrt(sum_j (dz_j (inv_j + dinv_j) + Z_j dinv_j)^2),   dz_j = |Q^T mu|_j delta_alpha
//! dinv = rel_N / (lo - da) + da / (lo (lo - da)),   da = |lambda - 1| delta_{alpha^2}
//! ```
//! Allocation: half of `eps_in` to each term of the first line; `eta_r = |r_hat - r|_1` gets
//! `eps_in/(2U)`, split half to `delta_l`, a sixth to each softmax part; `delta_l` a third each
//! to `ln det`, `S^{-1}` and `alpha`; `delta_u` half each to `S^{-1}` and `alpha`; each reciprocal
//! half to its Newton steps and half to its argument `alpha^2`. After sizing, the achieved
//! errors are propagated through the same formulas: that is [`BudgetReport::total_bound`].

use serde::Serialize;

use super::chebyshev::{ChebFit, TimeFunction, fit_time_function};
use super::error::ApproxError;
use super::reciprocal::RecipPlan;
use super::softmax::SoftmaxPlan;
use super::tail::{box_radius, s_range, tail_bound};
use crate::model::Mixture;
use crate::tolerance::APPROX_ROUNDING_SHARE;

/// Smallest target accuracy accepted.
pub const MIN_EPS: f64 = 1e-7;

/// Raw settings of the score-network construction (serde-readable).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct ScoreNetConfig {
    /// Target accuracy in `L^2(p_t)` (hence also `L^1`), uniformly in `t`.
    pub eps: f64,
    /// Smallest time `t_min > 0`.
    pub t_min: f64,
    /// Largest time `T`.
    pub t_max: f64,
}

impl Default for ScoreNetConfig {
    fn default() -> Self {
        ScoreNetConfig {
            eps: 1e-3,
            t_min: 1e-2,
            t_max: 1.0,
        }
    }
}

/// Validated settings (see [`ScoreNetConfig::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScoreNetParams {
    eps: f64,
    t_min: f64,
    t_max: f64,
}

impl ScoreNetConfig {
    /// Defaults (`t in [0.01, 1]`) with the given `eps`.
    ///
    /// ```
    /// let c = flowcert::approx::ScoreNetConfig::new(1e-4);
    /// assert_eq!((c.eps, c.t_min, c.t_max), (1e-4, 1e-2, 1.0));
    /// ```
    pub fn new(eps: f64) -> Self {
        ScoreNetConfig {
            eps,
            ..Default::default()
        }
    }

    /// Validate: `eps` finite in `[MIN_EPS, 10]`, `0 < t_min < t_max` finite.
    ///
    /// ```
    /// use flowcert::approx::ScoreNetConfig;
    /// assert!(ScoreNetConfig::new(0.0).check().is_err());
    /// assert!(ScoreNetConfig { eps: 1e-2, t_min: 1.0, t_max: 0.5 }.check().is_err());
    /// assert_eq!(ScoreNetConfig::new(1e-2).check().unwrap().eps(), 1e-2);
    /// ```
    pub fn check(&self) -> Result<ScoreNetParams, ApproxError> {
        if !(self.eps.is_finite() && (MIN_EPS..=10.0).contains(&self.eps)) {
            return Err(ApproxError::BadEps {
                value: self.eps,
                min: MIN_EPS,
            });
        }
        if !(self.t_min.is_finite()
            && self.t_max.is_finite()
            && self.t_min > 0.0
            && self.t_min < self.t_max)
        {
            return Err(ApproxError::BadTimes {
                t_min: self.t_min,
                t_max: self.t_max,
            });
        }
        Ok(ScoreNetParams {
            eps: self.eps,
            t_min: self.t_min,
            t_max: self.t_max,
        })
    }
}

impl ScoreNetParams {
    /// Target accuracy.
    ///
    /// ```
    /// assert_eq!(flowcert::approx::ScoreNetConfig::new(0.1).check().unwrap().eps(), 0.1);
    /// ```
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// `t_min`.
    ///
    /// ```
    /// assert_eq!(flowcert::approx::ScoreNetConfig::new(0.1).check().unwrap().t_min(), 0.01);
    /// ```
    pub fn t_min(&self) -> f64 {
        self.t_min
    }

    /// `T`.
    ///
    /// ```
    /// assert_eq!(flowcert::approx::ScoreNetConfig::new(0.1).check().unwrap().t_max(), 1.0);
    /// ```
    pub fn t_max(&self) -> f64 {
        self.t_max
    }
}

/// Every number of the budget: targets, achieved bounds and the sizes they fix.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct BudgetReport {
    /// Target accuracy.
    pub eps: f64,
    /// Box half-width `R`.
    pub box_radius: f64,
    /// Proven `sup_t ||e 1_out||_{L^2(p_t)}`.
    pub tail_bound: f64,
    /// Proven `sup |e|` on the box (exact arithmetic, achieved sizes).
    pub inner_bound: f64,
    /// `tail_bound + inner_bound >= sup_t ||e||_{L^2(p_t)}` (exact arithmetic).
    pub total_bound: f64,
    /// Share of `eps` left to floating-point rounding.
    pub rounding_allowance: f64,
    /// `U = max_k sup |S_k^{-1} z_k|` on the box.
    pub u_max: f64,
    /// Achieved `sup |alpha_hat - alpha_t|`.
    pub alpha_error: f64,
    /// Achieved `sup |alpha2_hat - alpha_t^2|`.
    pub alpha2_error: f64,
    /// Achieved `max_k sup |LD_hat_k - ln det S_k|`.
    pub logdet_error: f64,
    /// Achieved `max_{k,j} sup |inv_hat_kj - 1/s_kj|`.
    pub inv_error: f64,
    /// Achieved `delta_u`.
    pub u_error: f64,
    /// Achieved `delta_l` (log-weights).
    pub logweight_error: f64,
    /// Achieved `eta_sm` (softmax network vs exact softmax of its inputs).
    pub softmax_error: f64,
    /// Achieved `|r_hat - r|_1` bound.
    pub responsibility_error: f64,
    /// Largest Chebyshev degree (basis size - 1).
    pub chebyshev_degree: usize,
    /// Largest number of Newton steps of a reciprocal.
    pub newton_steps: usize,
    /// Exp range reduction: squarings.
    pub exp_squarings: usize,
    /// Exp range reduction: Taylor degree.
    pub exp_degree: usize,
    /// Softmax clip level `Bc`.
    pub softmax_clip: f64,
}

/// Per-component sizes and bounds.
#[derive(Debug, Clone)]
pub(crate) struct ComponentPlan {
    /// `|z_kj| <= z_bound[j]` on the box.
    pub z_bound: Vec<f64>,
    /// `1/s_kj(t) <= inv_bound[j]`.
    pub inv_bound: Vec<f64>,
    /// Reciprocal plans of `a_kj = 1 + (lambda_kj - 1) alpha^2` (None when lambda = 1).
    pub recips: Vec<Option<RecipPlan>>,
    /// `ln det S_k(t)` fit (K >= 2 only).
    pub logdet: Option<ChebFit>,
}

/// Everything the construction needs.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub radius: f64,
    pub alpha: ChebFit,
    pub alpha2: ChebFit,
    pub comps: Vec<ComponentPlan>,
    /// Softmax (K >= 2).
    pub softmax: Option<SoftmaxPlan>,
    pub u_max: f64,
    pub report: BudgetReport,
}

/// Fit a time function, with targets above `1` capped (they are not binding).
fn fit(f: &TimeFunction, p: &ScoreNetParams, target: f64) -> Result<ChebFit, ApproxError> {
    fit_time_function(f, p.t_min, p.t_max, target.min(1.0))
}

/// Size every block from `eps` (module doc), then propagate the achieved errors.
pub(crate) fn plan(mix: &Mixture, p: &ScoreNetParams) -> Result<Plan, ApproxError> {
    if !mix.process().is_ou() {
        return Err(ApproxError::OuOnly {
            process: mix.process().label(),
        });
    }
    let d = mix.dim();
    let k_n = mix.n_components();
    let sqrt_d = (d as f64).sqrt();
    let share = (1.0 - APPROX_ROUNDING_SHARE) / 2.0;
    let eps_in = share * p.eps;
    let eps_out = share * p.eps;
    let radius = box_radius(mix, p.t_min, p.t_max, eps_in, eps_out)?;
    let alpha_max = (-p.t_min).exp();

    // Geometry per component.
    let mut z_b: Vec<Vec<f64>> = Vec::with_capacity(k_n);
    let mut inv_b: Vec<Vec<f64>> = Vec::with_capacity(k_n);
    let mut lo_hi: Vec<Vec<(f64, f64)>> = Vec::with_capacity(k_n);
    for c in mix.components() {
        let q = c.eigvecs.as_slice();
        z_b.push(
            (0..d)
                .map(|j| {
                    let l1: f64 = q[j * d..(j + 1) * d].iter().map(|v| v.abs()).sum();
                    radius * l1 + alpha_max * c.mean_rot[j].abs()
                })
                .collect(),
        );
        let r: Vec<(f64, f64)> = c
            .eigvals
            .iter()
            .map(|&l| s_range(l, p.t_min, p.t_max))
            .collect();
        inv_b.push(r.iter().map(|&(lo, _)| 1.0 / lo).collect());
        lo_hi.push(r);
    }
    let u_k: Vec<f64> = (0..k_n)
        .map(|k| {
            (0..d)
                .map(|j| (z_b[k][j] * inv_b[k][j]).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let u_max = u_k.iter().cloned().fold(0.0, f64::max);

    // Targets.
    let multi = k_n >= 2;
    let eta_r = if multi { eps_in / (2.0 * u_max) } else { 0.0 };
    let delta_u = eps_in / (2.0 * (1.0 + eta_r));
    let delta_l = 0.5 * (0.5 * eta_r).ln_1p();
    let eta_sm = 0.5 * eta_r;
    let mut dinv_t: Vec<Vec<f64>> = Vec::with_capacity(k_n);
    let mut dalpha_t = f64::INFINITY;
    let mut dld_t = f64::INFINITY;
    for k in 0..k_n {
        let mr = &mix.components()[k].mean_rot;
        let zsq: f64 = z_b[k].iter().map(|z| z * z).sum();
        let row: Vec<f64> = (0..d)
            .map(|j| {
                let from_u = delta_u / (2.0 * sqrt_d * z_b[k][j]);
                let from_l = if multi {
                    (2.0 * delta_l / 3.0) / zsq
                } else {
                    f64::INFINITY
                };
                from_u.min(from_l)
            })
            .collect();
        // alpha: from u, and from l (quadratic in delta_alpha).
        let mut a2 = 0.0;
        let mut b1 = 0.0;
        for j in 0..d {
            let iv = inv_b[k][j] + row[j];
            if mr[j] != 0.0 {
                dalpha_t = dalpha_t.min(delta_u / (2.0 * sqrt_d * mr[j].abs() * iv));
            }
            a2 += 0.5 * mr[j] * mr[j] * iv;
            b1 += z_b[k][j] * mr[j].abs() * iv;
        }
        if multi && b1 > 0.0 {
            let c0 = delta_l / 3.0;
            dalpha_t = dalpha_t.min(2.0 * c0 / (b1 + (b1 * b1 + 4.0 * a2 * c0).sqrt()));
        }
        dld_t = dld_t.min(2.0 * delta_l / 3.0);
        dinv_t.push(row);
    }
    // alpha^2 target from the reciprocal arguments: da <= dinv lo^2 / (2 + dinv lo).
    let mut dalpha2_t = f64::INFINITY;
    for k in 0..k_n {
        for (j, &l) in mix.components()[k].eigvals.iter().enumerate() {
            if l != 1.0 {
                let lo = lo_hi[k][j].0;
                let dv = dinv_t[k][j];
                let da = dv * lo * lo / (2.0 + dv * lo);
                dalpha2_t = dalpha2_t.min(da / (l - 1.0).abs());
            }
        }
    }
    let alpha = fit(&TimeFunction::Exp { rate: 1.0 }, p, dalpha_t)?;
    let alpha2 = fit(&TimeFunction::Exp { rate: 2.0 }, p, dalpha2_t)?;
    let (da1, da2) = (alpha.bound, alpha2.bound);

    // Reciprocals and log-determinants, with the achieved alpha^2 error.
    let mut comps = Vec::with_capacity(k_n);
    let mut inv_err = 0.0f64;
    let mut u_err = 0.0f64;
    let mut l_err = 0.0f64;
    let mut ld_err = 0.0f64;
    for k in 0..k_n {
        let c = &mix.components()[k];
        let mut recips = Vec::with_capacity(d);
        let mut dinv = Vec::with_capacity(d);
        for (j, &l) in c.eigvals.iter().enumerate() {
            if l == 1.0 {
                recips.push(None);
                dinv.push(0.0);
                continue;
            }
            let (lo, hi) = lo_hi[k][j];
            let da = (l - 1.0).abs() * da2;
            if da >= 0.5 * lo {
                return Err(ApproxError::TooLarge {
                    what: "the alpha^2 accuracy for the reciprocal of S(t)".into(),
                    cap: 0,
                    bound: da,
                    target: 0.5 * lo,
                });
            }
            let arg_part = da / (lo * (lo - da));
            // arg_part <= dinv_t / 2 by the alpha^2 target, so the Newton share is >= dinv_t / 2.
            let rel_target = (dinv_t[k][j] - arg_part) * (lo - da);
            let plan = RecipPlan::new(lo - da, hi + da, rel_target);
            if plan.rel_bound > rel_target {
                return Err(ApproxError::TooLarge {
                    what: "Newton steps for the reciprocal of S(t)".into(),
                    cap: 64,
                    bound: plan.rel_bound,
                    target: rel_target,
                });
            }
            dinv.push(plan.rel_bound / (lo - da) + arg_part);
            recips.push(Some(plan));
        }
        let logdet = if multi {
            let f = fit(
                &TimeFunction::LogDet {
                    eigvals: c.eigvals.clone(),
                },
                p,
                dld_t,
            )?;
            ld_err = ld_err.max(f.bound);
            Some(f)
        } else {
            None
        };
        // Propagate (module doc formulas).
        let mut uk2 = 0.0;
        let mut lk = 0.5 * logdet.as_ref().map_or(0.0, |f| f.bound);
        for j in 0..d {
            let dz = c.mean_rot[j].abs() * da1;
            let iv = inv_b[k][j] + dinv[j];
            let zj = z_b[k][j];
            uk2 += (dz * iv + zj * dinv[j]).powi(2);
            lk += 0.5 * ((2.0 * zj * dz + dz * dz) * iv + zj * zj * dinv[j]);
            inv_err = inv_err.max(dinv[j]);
        }
        u_err = u_err.max(uk2.sqrt());
        if multi {
            l_err = l_err.max(lk);
        }
        comps.push(ComponentPlan {
            z_bound: z_b[k].clone(),
            inv_bound: inv_b[k].clone(),
            recips,
            logdet,
        });
    }

    // Softmax: clip, exp, 1/S.
    let softmax = multi.then(|| SoftmaxPlan::new(k_n, eta_sm));
    let sm_err = softmax.map_or(0.0, |s| s.bound);
    let r_err = if multi {
        sm_err + (2.0 * l_err).exp_m1()
    } else {
        0.0
    };
    let inner = r_err * u_max + (1.0 + r_err) * u_err;
    let tail = tail_bound(mix, p.t_min, p.t_max, radius, eps_in);
    let max_steps = comps
        .iter()
        .flat_map(|c| c.recips.iter().flatten())
        .chain(softmax.iter().map(|s| &s.recip))
        .map(|r| r.steps)
        .max()
        .unwrap_or(0);
    let max_deg = comps
        .iter()
        .filter_map(|c| c.logdet.as_ref())
        .chain([&alpha, &alpha2])
        .map(|f| f.series.degree())
        .max()
        .unwrap_or(0);
    let report = BudgetReport {
        eps: p.eps,
        box_radius: radius,
        tail_bound: tail,
        inner_bound: inner,
        total_bound: inner + tail,
        rounding_allowance: APPROX_ROUNDING_SHARE * p.eps,
        u_max,
        alpha_error: da1,
        alpha2_error: da2,
        logdet_error: ld_err,
        inv_error: inv_err,
        u_error: u_err,
        logweight_error: l_err,
        softmax_error: sm_err,
        responsibility_error: r_err,
        chebyshev_degree: max_deg,
        newton_steps: max_steps,
        exp_squarings: softmax.map_or(0, |s| s.exp.squarings),
        exp_degree: softmax.map_or(0, |s| s.exp.degree),
        softmax_clip: softmax.map_or(0.0, |s| s.clip),
    };
    Ok(Plan {
        radius,
        alpha,
        alpha2,
        comps,
        softmax,
        u_max,
        report,
    })
}
