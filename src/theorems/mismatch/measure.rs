//! The mismatch experiment: lower bounds, budgeted students, the checks, the regime table.
//!
//! For each budget `M` and segment count `N`, the N-step student `Psi` (each step certified
//! `<= M`, so `Lip(Psi) <= C := prod certificates <= M^N`) is evaluated on every tested
//! point: the evaluation samples `x_j ~ p_T`, their reflections `R x_j`, and both ends of
//! every searched pair. The checks are exact arithmetic on those very points:
//!
//! ```text
//! sup:  max(e(x), e(y)) >= (|Phi(x) - Phi(y)| - C |x - y|) / 2       for every tested pair
//!       => error_sup >= E_C >= E_{M^N} = lower_bound_sup
//! L^p:  ((mean e(x_j)^p + mean e(R x_j)^p) / 2)^{1/p} >= LB_p(C) >= LB_p(M^N) = lower_bound_lp
//! ```
//! (`error_l2` is the RMS error over `{x_j} u {R x_j}`, which is that left side for p = 2).
//! A failure is a bug (a certificate that is not an upper bound, or broken arithmetic).
//!
//! **Rigorous and estimated numbers.** `lower_bound_sup` is rigorous: any map with
//! `Lip <= M^N` has sup error at least this (the sup over `R^d` is at least the max over
//! the tested pairs), up to the teacher's solver accuracy. `lower_bound_lp` and `error_l2`
//! are sample quantities over the `n` draws `x_j ~ p_T` (and their reflections): the
//! inequality between them is exact *on the sample*, because it holds draw by draw,
//! `b_j^2 / 4 <= (e(x_j)^2 + e(R x_j)^2) / 2` with `b_j = (|Phi(x_j) - Phi(R x_j)| - C |x_j - R
//! x_j|)_+` (like is compared with like: the same draws, the same empirical measure). As
//! statements about `p_T` both are estimates; each row carries the 95% interval of each
//! (`lower_bound_lp_ci_low`/`_high`, `error_l2_ci_low`/`_high`: normal intervals for the mean of the i.i.d. draw
//! terms `b_j^2` and `(e(x_j)^2 + e(R x_j)^2)/2`, mapped by the square root, the bound's
//! halved) and says `lower_bound_lp_kind: "estimate"`.
//!
//! Depth: `predicted_segments = Lambda(T) / ln M`; `obstruction_segments` is the smallest
//! `N` with `M^N >=` the Lipschitz constant of `Phi` measured on the pairs (where the
//! sup bound vanishes; at most `ceil(Lambda(T) / ln M)` by Gronwall);
//! `measured_segments` the smallest tested `N` whose L^2 error is within
//! `saturation_factor` of the lowest L^2 error of the same budget over the tested `N`: the
//! depth from which the Lipschitz obstruction no longer dominates the error.

use nalgebra::DMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::pairs::{PairKind, PairSet};
use super::search::search_pairs;
use super::students::{BudgetedStudent, TeacherData, centres};
use super::symmetry::{Reflection, SymmetryInfo};
use super::{MismatchError, Mutation, ValidMismatchConfig, invalid};
use crate::flowmap::FlowMap;
use crate::model::Mixture;
use crate::seed;
use crate::theorems::estimate::{BoundKind, Z95, lp_mean_ci};
use crate::tolerance::BOUND_SLACK_REL;

/// One (budget, segments) cell: the contract's fields first, then extras.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MismatchRow {
    /// Per-step budget `M`.
    pub budget: f64,
    /// Number of steps `N`.
    pub segments: usize,
    /// `E_{M^N}` on the tested pairs.
    pub lower_bound_sup: f64,
    /// `LB_2(M^N)` on the reflection pairs (`None` without a symmetry): exact for the
    /// sample, an estimate of the bound over `p_T` (see `lower_bound_lp_ci_low`).
    pub lower_bound_lp: Option<f64>,
    /// Certificate `C = prod_i Lip(Psi_i) <= M^N`.
    pub certified_lipschitz: f64,
    /// Largest error over all tested points.
    pub error_sup: f64,
    /// RMS error over the evaluation samples (and their reflections).
    pub error_l2: f64,
    /// `lower_bound_sup` is a proven lower bound on the sup error: always `rigorous`.
    pub lower_bound_sup_kind: BoundKind,
    /// `lower_bound_lp` is a sample quantity: always `estimate` (of the bound over `p_T`).
    pub lower_bound_lp_kind: BoundKind,
    /// Lower end of the 95% interval of the `L^2(p_T)` bound that `lower_bound_lp`
    /// estimates (module doc; `None` without a symmetry).
    pub lower_bound_lp_ci_low: Option<f64>,
    /// Upper end of that interval.
    pub lower_bound_lp_ci_high: Option<f64>,
    /// Lower end of the 95% interval of the student's `L^2(p_T)` error that `error_l2`
    /// estimates.
    pub error_l2_ci_low: f64,
    /// Upper end of that interval.
    pub error_l2_ci_high: f64,
    /// `M^N`.
    pub lipschitz_budget: f64,
    /// `E_C`: the sup bound at the certificate (`>= lower_bound_sup`).
    pub lower_bound_sup_certified: f64,
    /// `LB_1(M^N)` (`None` without a symmetry).
    pub lower_bound_l1: Option<f64>,
    /// Mean error over the evaluation samples (and their reflections).
    pub error_l1: f64,
    /// `error_l2 / sqrt(E |Phi|^2)`.
    pub rel_error_l2: f64,
    /// `Lambda(T) / ln M`.
    pub predicted_segments: f64,
    /// Final training MSE of each step.
    pub train_loss: Vec<f64>,
    /// The grid `t_0 .. t_N`.
    pub times: Vec<f64>,
    /// Pairs (and L^p bounds) the student violates; 0 unless there is a bug.
    pub violations: usize,
    /// `violations > 0`.
    pub violation: bool,
}

/// Depth per budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepthRow {
    /// `M`.
    pub budget: f64,
    /// `Lambda(T) / ln M`.
    pub predicted_segments: f64,
    /// Smallest `N >= 1` with `M^N >= empirical_lipschitz` (sup bound zero from there on).
    pub obstruction_segments: usize,
    /// `saturation_factor * best_error_l2`.
    pub threshold_l2: f64,
    /// Smallest tested `N` with `error_l2 <= threshold_l2`; `None` when only the largest
    /// tested `N` gets there (the plateau is not seen within the tested range).
    pub measured_segments: Option<usize>,
    /// Largest tested `N` with `error_l2 > threshold_l2` (0 if none): the measured depth is
    /// above it.
    pub deepest_above_threshold: usize,
    /// Tested `N` with the lowest `error_l2`.
    pub best_segments: usize,
    /// That lowest `error_l2`.
    pub best_error_l2: f64,
}

/// What [`measure_mismatch`] measured; serialises to the CLI contract's JSON (plus extras).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MismatchReport {
    /// `Lambda(T)` as passed in.
    #[serde(rename = "lambda_T")]
    pub lambda_t: f64,
    /// One row per (budget, segments), budgets outer.
    pub rows: Vec<MismatchRow>,
    /// `t_min`.
    pub t_min: f64,
    /// `T`.
    pub t_max: f64,
    /// The symmetry used for the L^p bound (`None`: no usable symmetry).
    pub symmetry: Option<SymmetryInfo>,
    /// Tested pairs of the sup bound.
    pub pairs: usize,
    /// Boundary points found by bisection.
    pub boundary_points: usize,
    /// `max |Phi(x) - Phi(y)| / |x - y|` over the tested pairs.
    pub empirical_lipschitz: f64,
    /// `ln(empirical_lipschitz) - Lambda(T)`: `<= 0` up to solver error when `Lambda` is a
    /// global Lipschitz integral (Gronwall).
    pub lipschitz_excess: f64,
    /// Largest `||DPhi(b)||_2` at the boundary points (variational equation).
    pub boundary_jacobian_norm: Option<f64>,
    /// `sqrt(E |Phi|^2)` on the evaluation samples.
    pub rms_phi: f64,
    /// Depth per budget.
    pub depth: Vec<DepthRow>,
    /// Total violations over the rows.
    pub violations: usize,
}

fn column_errors(pred: &DMatrix<f64>, truth: &DMatrix<f64>) -> Vec<f64> {
    (0..pred.ncols())
        .map(|j| (pred.column(j) - truth.column(j)).norm())
        .collect()
}

fn hcat(parts: &[&DMatrix<f64>]) -> DMatrix<f64> {
    let d = parts.iter().map(|m| m.nrows()).max().unwrap_or(0);
    let n = parts.iter().map(|m| m.ncols()).sum();
    let mut out = DMatrix::zeros(d, n);
    let mut at = 0;
    for m in parts {
        out.columns_mut(at, m.ncols()).copy_from(m);
        at += m.ncols();
    }
    out
}

fn check_inputs(lambda_t: f64, budgets: &[f64], segments: &[usize]) -> Result<(), MismatchError> {
    if !(lambda_t.is_finite() && lambda_t >= 0.0) {
        return Err(invalid(
            "lambda_T",
            lambda_t,
            "pass the finite stability integral Lambda(T) >= 0",
        ));
    }
    if budgets.is_empty() || !budgets.iter().all(|m| m.is_finite() && *m > 1.0) {
        return Err(invalid(
            "budgets",
            format!("{budgets:?}"),
            "give finite budgets M > 1, e.g. 2,4,8,16",
        ));
    }
    if segments.is_empty() || segments.contains(&0) {
        return Err(invalid(
            "segments",
            format!("{segments:?}"),
            "give segment counts >= 1, e.g. 1,2,4,8",
        ));
    }
    Ok(())
}

impl MismatchRow {
    /// `[low, high]` of the 95% interval of `lower_bound_lp` (`None` without a symmetry).
    pub fn lower_bound_lp_ci(&self) -> Option<[f64; 2]> {
        Some([self.lower_bound_lp_ci_low?, self.lower_bound_lp_ci_high?])
    }

    /// `[low, high]` of the 95% interval of `error_l2`.
    pub fn error_l2_ci(&self) -> [f64; 2] {
        [self.error_l2_ci_low, self.error_l2_ci_high]
    }
}

/// Run the checker on `mix` (see the module docs): lower bounds, budgeted students for
/// every `budget x segments`, errors, checks and depths. `lambda_t` is `Lambda(T)` of the
/// caller's stability bound. Parallel over cells; deterministic in `cfg.seed`.
///
/// ```
/// use flowcert::{nn::StudentBudget, theorems::mismatch::{MismatchConfig, PairSearch, measure_mismatch, student}};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let cfg = MismatchConfig {
///     search: PairSearch { search_samples: 32, boundary_points: 1, h_count: 4, random_pairs: 8, ..Default::default() },
///     eval_samples: 32,
///     student: StudentBudget { width: 8, depth: 1, steps: 20, batch: 16, samples: 32, ..student() },
///     ..MismatchConfig::quick()
/// }
/// .check()
/// .unwrap();
/// let rep = measure_mismatch(&mix, 4.88, &[2.0, 8.0], &[1, 2], &cfg).unwrap();
/// assert_eq!(rep.rows.len(), 4);
/// assert_eq!(rep.violations, 0);
/// let json = serde_json::to_value(&rep).unwrap();
/// assert!(json["lambda_T"].is_number() && json["rows"][0]["lower_bound_sup"].is_number());
/// ```
pub fn measure_mismatch(
    mix: &Mixture,
    lambda_t: f64,
    budgets: &[f64],
    segments: &[usize],
    cfg: &ValidMismatchConfig,
) -> Result<MismatchReport, MismatchError> {
    check_inputs(lambda_t, budgets, segments)?;
    let (t_min, t_max) = (cfg.t_min, cfg.t_max);
    let flow = cfg.teacher.flow(mix);
    let teacher = flow.segment(t_max, t_min);

    // Sup-norm pairs across mode boundaries.
    let mut rng = seed::rng(seed::MISMATCH, cfg.seed, &[0]);
    let starts = mix.sample(t_max, cfg.search.search_samples, &mut rng);
    let mut pairs = search_pairs(
        &teacher,
        &starts,
        &centres(mix, t_min),
        &cfg.search,
        &mut rng,
    )?;

    // Evaluation samples, their reflections (L^p pairs, also sup pairs).
    let mut rng = seed::rng(seed::MISMATCH, cfg.seed, &[3]);
    let xs = mix.sample(t_max, cfg.eval_samples, &mut rng);
    let (phi, _) = flow.map_batch(&xs, t_max, t_min)?;
    let reflection = Reflection::detect(mix);
    let (refl, symmetry) = match &reflection {
        Some(r) => {
            let rxs = r.apply_batch(&xs, t_max);
            let (phi_r, _) = flow.map_batch(&rxs, t_max, t_min)?;
            let kinds = vec![PairKind::Reflection; xs.ncols()];
            let set = PairSet::new(xs.clone(), rxs, phi.clone(), phi_r, kinds);
            (Some(set), Some(r.info(mix, t_max, &xs)?))
        }
        None => (None, None),
    };
    let boundary_points = pairs.boundary.len();
    let boundary_jacobian_norm = pairs
        .boundary_jacobian_norms
        .iter()
        .copied()
        .reduce(f64::max);
    if let Some(r) = &refl {
        pairs.append(r.clone());
    }
    // Tested points: eval samples (+ reflections), then both ends of every pair.
    let (eval_x, eval_phi) = match &refl {
        Some(r) => (hcat(&[&xs, &r.y]), hcat(&[&phi, &r.phi_y])),
        None => (xs.clone(), phi.clone()),
    };
    let test_x = hcat(&[&eval_x, &pairs.x, &pairs.y]);
    let test_phi = hcat(&[&eval_phi, &pairs.phi_x, &pairs.phi_y]);
    let (n_eval, n_pairs) = (eval_x.ncols(), pairs.len());
    let rms_phi = (eval_phi.iter().map(|v| v * v).sum::<f64>() / n_eval as f64).sqrt();

    // Teacher data once per N, shared by every budget.
    let mut ns: Vec<usize> = segments.to_vec();
    ns.sort_unstable();
    ns.dedup();
    let data: Vec<TeacherData> = ns
        .iter()
        .map(|&n| {
            let times = cfg.grid.times(mix, n, t_min, t_max)?;
            TeacherData::generate(mix, &flow, &times, cfg.student.samples, cfg.seed)
        })
        .collect::<Result<_, _>>()?;

    let cells: Vec<(f64, usize)> = budgets
        .iter()
        .flat_map(|&m| segments.iter().map(move |&n| (m, n)))
        .collect();
    // Every step of every cell's student is one task (a cell of N steps would otherwise
    // be one task of N units, and the deepest cells the last ones left on one core); each
    // step depends on (seed, N, i) only, so the students are those of BudgetedStudent::train.
    let teacher_of = |n: usize| &data[ns.binary_search(&n).unwrap_or(0)];
    let tasks: Vec<(usize, usize)> = cells
        .iter()
        .enumerate()
        .flat_map(|(c, &(_, n))| (1..=n).map(move |i| (c, i)))
        .collect();
    let mut trained = tasks
        .par_iter()
        .map(|&(c, i)| {
            let (m, n) = cells[c];
            BudgetedStudent::train_step(teacher_of(n), i, m, cfg.valid_student(), cfg.seed)
        })
        .collect::<Vec<_>>()
        .into_iter();
    let mut students = Vec::with_capacity(cells.len());
    for &(_, n) in &cells {
        let steps = trained.by_ref().take(n).collect::<Result<Vec<_>, _>>()?;
        students.push(BudgetedStudent::from_steps(teacher_of(n), steps));
    }
    let results: Vec<Result<MismatchRow, MismatchError>> = cells
        .par_iter()
        .zip(students.par_iter())
        .map(|(&(m, n), student)| {
            let e = column_errors(&student.map_batch(&test_x)?, &test_phi);
            let (e_eval, rest) = e.split_at(n_eval);
            let (e_px, e_py) = rest.split_at(n_pairs);
            let cert = student.certified_lipschitz();
            let lip_n = m.powi(n as i32);
            let error_l2 = (e_eval.iter().map(|v| v * v).sum::<f64>() / n_eval as f64).sqrt();
            let error_l1 = e_eval.iter().sum::<f64>() / n_eval as f64;
            // The i.i.d. unit is the draw x_j: with a reflection, the mean of e^2 over x_j
            // and R x_j (the evaluation columns j and n + j).
            let draws = n_eval / if refl.is_some() { 2 } else { 1 };
            let unit_rms: Vec<f64> = (0..draws)
                .map(|j| match &refl {
                    Some(_) => (0.5 * (e_eval[j].powi(2) + e_eval[draws + j].powi(2))).sqrt(),
                    None => e_eval[j],
                })
                .collect();
            let (_, l2_lo, l2_hi) = lp_mean_ci(&unit_rms, 2, Z95);
            // The mutation doubles every bracket: compare the errors halved.
            let scale = match cfg.mutation {
                Some(Mutation::WholeBracket) => 2.0,
                None => 1.0,
            };
            let halved = |v: &[f64]| -> Vec<f64> { v.iter().map(|e| e / scale).collect() };
            let mut violations =
                pairs.violations(&halved(e_px), &halved(e_py), cert, BOUND_SLACK_REL);
            if cert > lip_n * (1.0 + BOUND_SLACK_REL) {
                violations += 1;
            }
            if let Some(r) = &refl {
                let (l2c, l1c) = (r.lp_lower_bound(cert, 2.0), r.lp_lower_bound(cert, 1.0));
                violations += usize::from(error_l2 < scale * l2c * (1.0 - BOUND_SLACK_REL));
                violations += usize::from(error_l1 < scale * l1c * (1.0 - BOUND_SLACK_REL));
            }
            let lb_ci = refl.as_ref().map(|r| {
                let (_, lo, hi) = lp_mean_ci(&r.brackets(lip_n), 2, Z95);
                [scale * lo / 2.0, scale * hi / 2.0]
            });
            Ok(MismatchRow {
                budget: m,
                segments: n,
                lower_bound_sup: scale * pairs.sup_lower_bound(lip_n),
                lower_bound_lp: refl.as_ref().map(|r| scale * r.lp_lower_bound(lip_n, 2.0)),
                certified_lipschitz: cert,
                error_sup: e.iter().copied().fold(0.0, f64::max),
                error_l2,
                lower_bound_sup_kind: BoundKind::Rigorous,
                lower_bound_lp_kind: BoundKind::Estimate,
                lower_bound_lp_ci_low: lb_ci.map(|c| c[0]),
                lower_bound_lp_ci_high: lb_ci.map(|c| c[1]),
                error_l2_ci_low: l2_lo,
                error_l2_ci_high: l2_hi,
                lipschitz_budget: lip_n,
                lower_bound_sup_certified: scale * pairs.sup_lower_bound(cert),
                lower_bound_l1: refl.as_ref().map(|r| scale * r.lp_lower_bound(lip_n, 1.0)),
                error_l1,
                rel_error_l2: error_l2 / rms_phi,
                predicted_segments: lambda_t / m.ln(),
                train_loss: student.train_loss.clone(),
                times: student.times.clone(),
                violations,
                violation: violations > 0,
            })
        })
        .collect();
    let rows: Vec<MismatchRow> = results.into_iter().collect::<Result<_, _>>()?;

    let empirical_lipschitz = pairs.empirical_lipschitz();
    let depth = budgets
        .iter()
        .map(|&m| {
            depth_row(
                &rows,
                m,
                lambda_t,
                empirical_lipschitz,
                cfg.saturation_factor,
            )
        })
        .collect();
    Ok(MismatchReport {
        lambda_t,
        violations: rows.iter().map(|r| r.violations).sum(),
        rows,
        t_min,
        t_max,
        symmetry,
        pairs: n_pairs,
        boundary_points,
        empirical_lipschitz,
        lipschitz_excess: empirical_lipschitz.ln() - lambda_t,
        boundary_jacobian_norm,
        rms_phi,
        depth,
    })
}

fn depth_row(rows: &[MismatchRow], m: f64, lambda_t: f64, lip: f64, factor: f64) -> DepthRow {
    let mut mine: Vec<&MismatchRow> = rows.iter().filter(|r| r.budget == m).collect();
    mine.sort_by_key(|r| r.segments);
    let best = mine
        .iter()
        .min_by(|a, b| a.error_l2.total_cmp(&b.error_l2))
        .copied();
    let best_error_l2 = best.map_or(f64::NAN, |r| r.error_l2);
    let threshold_l2 = factor * best_error_l2;
    let largest = mine.last().map_or(0, |r| r.segments);
    let first = mine
        .iter()
        .find(|r| r.error_l2 <= threshold_l2)
        .map(|r| r.segments);
    // smallest N >= 1 with N ln M >= ln lip (guarded against rounding of the ratio)
    let mut obstruction = (lip.ln() / m.ln()).ceil().max(1.0) as usize;
    while obstruction > 1 && m.powi(obstruction as i32 - 1) >= lip {
        obstruction -= 1;
    }
    while m.powi(obstruction as i32) < lip {
        obstruction += 1;
    }
    DepthRow {
        budget: m,
        predicted_segments: lambda_t / m.ln(),
        obstruction_segments: obstruction,
        threshold_l2,
        measured_segments: first.filter(|&n| n < largest || mine.len() == 1),
        deepest_above_threshold: mine
            .iter()
            .filter(|r| r.error_l2 > threshold_l2)
            .map(|r| r.segments)
            .max()
            .unwrap_or(0),
        best_segments: best.map_or(0, |r| r.segments),
        best_error_l2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: usize, error_l2: f64) -> MismatchRow {
        MismatchRow {
            budget: 2.0,
            segments: n,
            lower_bound_sup: 0.0,
            lower_bound_lp: None,
            certified_lipschitz: 1.0,
            error_sup: error_l2,
            error_l2,
            lower_bound_sup_kind: BoundKind::Rigorous,
            lower_bound_lp_kind: BoundKind::Estimate,
            lower_bound_lp_ci_low: None,
            lower_bound_lp_ci_high: None,
            error_l2_ci_low: error_l2,
            error_l2_ci_high: error_l2,
            lipschitz_budget: 1.0,
            lower_bound_sup_certified: 0.0,
            lower_bound_l1: None,
            error_l1: error_l2,
            rel_error_l2: error_l2,
            predicted_segments: 0.0,
            train_loss: vec![],
            times: vec![],
            violations: 0,
            violation: false,
        }
    }

    #[test]
    fn depth_is_the_first_n_on_the_plateau() {
        let rows: Vec<_> = [(1, 0.5), (2, 0.2), (4, 0.05), (8, 0.04)]
            .iter()
            .map(|&(n, e)| row(n, e))
            .collect();
        // Lip 2^5.5: obstruction at N = 6; Lambda = 7 ln 2: predicted 7
        let d = depth_row(&rows, 2.0, 7.0 * 2f64.ln(), 2f64.powf(5.5), 2.0);
        assert_eq!(
            (d.measured_segments, d.deepest_above_threshold),
            (Some(4), 2)
        );
        assert_eq!((d.obstruction_segments, d.best_segments), (6, 8));
        assert!((d.predicted_segments - 7.0).abs() < 1e-12);
        // only the deepest N reaches the plateau: censored
        let rows: Vec<_> = [(1, 0.5), (2, 0.25), (4, 0.1)]
            .iter()
            .map(|&(n, e)| row(n, e))
            .collect();
        let d = depth_row(&rows, 2.0, 1.0, 4.0, 2.0);
        assert_eq!((d.measured_segments, d.deepest_above_threshold), (None, 2));
        assert_eq!(d.obstruction_segments, 2);
    }
}
