//! Assessment of an outside score model at the score queries.
//!
//! ```text
//! per t:  e_i = |s_theta(x_i, t) - s(x_i, t)|,  x_i ~ p_t (the queries at t)
//!         L^p error = (mean_i e_i^p)^{1/p}, p = 1, 2, with a 95% CI (theorems::score_approx::error_rows)
//!         relative L^2 = L^2 error / (mean_i |s(x_i, t)|^2)^{1/2}
//! metrics l1@t=<t>, l2@t=<t>, rel_l2@t=<t>, sup_l1, sup_l2   (<t>: baseline::time_labels)
//! ```

use std::collections::BTreeMap;

use nalgebra::DMatrix;
use serde::Serialize;

use super::AssessError;
use super::queries::{QueryIdentity, QuerySet};
use crate::model::Marginal;
use crate::theorems::score_approx::error_rows;

/// The errors at one time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreTimeRow {
    /// The time.
    pub t: f64,
    /// Queries at this time.
    pub samples: usize,
    /// `L^1(p_t)` error.
    pub l1: f64,
    /// 95% confidence interval of the `L^1` error.
    pub l1_ci: [f64; 2],
    /// `L^2(p_t)` error.
    pub l2: f64,
    /// 95% confidence interval of the `L^2` error.
    pub l2_ci: [f64; 2],
    /// `L^2(p_t)` norm of the exact score.
    pub score_l2: f64,
    /// `l2 / score_l2`.
    pub relative_l2: f64,
}

/// What `flowcert assess score` measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreAssessment {
    /// Always `score`.
    pub kind: String,
    /// The query files.
    pub queries: QueryIdentity,
    /// Per time, in the order of the manifest.
    pub rows: Vec<ScoreTimeRow>,
    /// `max_t` of the `L^1` error.
    pub sup_l1: f64,
    /// `max_t` of the `L^2` error.
    pub sup_l2: f64,
    /// Metric name -> value, for baselines (module doc).
    pub metrics: BTreeMap<String, f64>,
}

/// Measure `answers` (`d x M`, one column per score query) against the exact score.
///
/// ```
/// use flowcert::grids::GridKind;
/// use flowcert::model::ScoreField;
/// use flowcert::theorems::assess::{QueryConfig, QuerySet, assess_score};
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let cfg = QueryConfig { times: vec![0.1, 1.0], samples: 20, seed: 0, grid: GridKind::Uniform,
///     segments: 1, t_min: 0.01, t_max: 1.0 }.check().unwrap();
/// let q = QuerySet::generate(&mix, &cfg).unwrap();
/// // answers: the exact score plus (0.1, 0) everywhere
/// let answers = nalgebra::DMatrix::from_fn(2, q.score.ncols(), |r, c| {
///     let x = [q.score[(1, c)], q.score[(2, c)]];
///     let mut s = [0.0; 2];
///     mix.score_into(&x, q.score[(0, c)], &mut s);
///     s[r] + if r == 0 { 0.1 } else { 0.0 }
/// });
/// let a = assess_score(&q, &answers).unwrap();
/// assert!((a.sup_l2 - 0.1).abs() < 1e-12 && (a.rows[0].l1 - 0.1).abs() < 1e-12);
/// assert_eq!(a.metrics["sup_l2"], a.sup_l2);
/// ```
pub fn assess_score(
    set: &QuerySet,
    answers: &DMatrix<f64>,
) -> Result<ScoreAssessment, AssessError> {
    let d = set.mixture.dim();
    let m = &set.manifest.score;
    if answers.shape() != (d, m.file.rows) {
        return Err(AssessError::Malformed {
            path: "--answers".into(),
            message: format!(
                "has {} answers of dimension {} but the score queries need {} of dimension {d}",
                answers.ncols(),
                answers.nrows(),
                m.file.rows
            ),
        });
    }
    let n = m.samples_per_time;
    let mut rows = Vec::with_capacity(m.times.len());
    let mut metrics = BTreeMap::new();
    let labels = super::baseline::time_labels(&m.times);
    for (i, &t) in m.times.iter().enumerate() {
        let block = set.score.columns(i * n, n);
        let xs = block.rows(1, d).into_owned();
        let exact = Marginal::new(&set.mixture, t)?.score_batch(&xs);
        let errs: Vec<f64> = (0..n)
            .map(|c| (answers.column(i * n + c) - exact.column(c)).norm())
            .collect();
        let [l1, l2] = error_rows(t, &errs, 0.0);
        let score_l2 = (exact.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
        let relative_l2 = if score_l2 > 0.0 {
            l2.lp_error / score_l2
        } else {
            l2.lp_error
        };
        let label = &labels[i];
        metrics.insert(format!("l1@t={label}"), l1.lp_error);
        metrics.insert(format!("l2@t={label}"), l2.lp_error);
        metrics.insert(format!("rel_l2@t={label}"), relative_l2);
        rows.push(ScoreTimeRow {
            t,
            samples: n,
            l1: l1.lp_error,
            l1_ci: [l1.ci_low, l1.ci_high],
            l2: l2.lp_error,
            l2_ci: [l2.ci_low, l2.ci_high],
            score_l2,
            relative_l2,
        });
    }
    let sup = |f: fn(&ScoreTimeRow) -> f64| rows.iter().map(f).fold(0.0, f64::max);
    let (sup_l1, sup_l2) = (sup(|r| r.l1), sup(|r| r.l2));
    metrics.insert("sup_l1".into(), sup_l1);
    metrics.insert("sup_l2".into(), sup_l2);
    Ok(ScoreAssessment {
        kind: "score".into(),
        queries: set.score_identity(),
        rows,
        sup_l1,
        sup_l2,
        metrics,
    })
}
