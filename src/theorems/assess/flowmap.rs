//! Assessment of an outside model's flow maps at the flow-map queries
//! (theory/04-composition-and-grids.md).
//!
//! ```text
//! segment i (t_i -> t_{i-1}):  e(x) = |Psi_i(x) - Phi_{t_i -> t_{i-1}}(x)|,  x ~ p_{t_i}
//!     eps_i^rms = (mean e^2)^{1/2},   eps_i^max = max e
//! bound_rms = sum_i eps_i^rms exp(Lambda(t_{i-1}) - Lambda(t_0))
//! bound_max = sum_i eps_i^max exp(Lambda(t_{i-1}) - Lambda(t_0))      (two-sided Lambda)
//! rollout (optional):  E(x) = |Psi(x) - Phi_{T -> t_min}(x)|,  x ~ p_T
//!     end_to_end_rms, end_to_end_max, rel_mse = mean E^2 / mean |Phi|^2
//! metrics local_rms[i], local_max[i], bound_rms, bound_max (+ end_to_end_rms,
//!         end_to_end_max, rel_mse with a rollout)
//! ```
//! The composition theorem bounds `sup |Psi - Phi|` by `sum_i sup|Psi_i - Phi_i| e^{Lambda}`
//! with *sup* local errors; `eps_i^max` is the largest error seen on the queries, not a
//! certified sup, and the rollout visits the model's own states rather than `p_{t_i}`, so
//! `end_to_end / bound` is reported, never judged. The bound holds on all of `R^d` for shared
//! covariances and on the ball of radius `region_radius` otherwise. The exact flow is solved
//! by [`Teacher::PRECISE`] (DOP853 at `rtol = atol = 1e-10`): errors below about `1e-8` are at the solver's level.

use std::collections::BTreeMap;

use nalgebra::DMatrix;
use serde::Serialize;

use super::AssessError;
use super::queries::{QueryIdentity, QuerySet};
use crate::bounds::Lipschitz;
use crate::dynamics::Teacher;

/// The errors of one segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentRow {
    /// Segment index i (maps `t_i -> t_{i-1}`).
    pub segment: usize,
    /// `t_i`.
    pub t_from: f64,
    /// `t_{i-1}`.
    pub t_to: f64,
    /// `exp(Lambda(t_{i-1}) - Lambda(t_0))`, the segment's weight in the bound.
    pub weight: f64,
    /// RMS local error.
    pub rms: f64,
    /// Largest local error over the queries.
    pub max: f64,
}

/// The end-to-end error of the composed map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndToEnd {
    /// Rollout points.
    pub samples: usize,
    /// RMS of `|Psi(x) - Phi_{T -> t_min}(x)|`.
    pub rms: f64,
    /// Largest error.
    pub max: f64,
    /// `mean |Psi - Phi|^2 / mean |Phi|^2`.
    pub rel_mse: f64,
    /// `rms / bound_rms`; `null` when the bound is 0 (every segment exact), where the
    /// ratio has no value (the end-to-end error is then 0 up to rounding).
    pub rms_over_bound: Option<f64>,
}

/// What `flowcert assess flowmap` measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowmapAssessment {
    /// Always `flowmap`.
    pub kind: String,
    /// The query files.
    pub queries: QueryIdentity,
    /// Grid kind.
    pub grid: String,
    /// Grid times.
    pub times: Vec<f64>,
    /// Two-sided `Lambda(t_i) - Lambda(t_0)`.
    pub lambda: Vec<f64>,
    /// Per segment, in increasing order.
    pub segments: Vec<SegmentRow>,
    /// The composition bound with RMS local errors.
    pub bound_rms: f64,
    /// The composition bound with the largest local errors.
    pub bound_max: f64,
    /// Radius of the ball where the bound holds (None: all of R^d).
    pub region_radius: Option<f64>,
    /// The end-to-end error (with a rollout answers file).
    pub end_to_end: Option<EndToEnd>,
    /// Metric name -> value, for baselines (module doc).
    pub metrics: BTreeMap<String, f64>,
}

fn sq_norms(a: &DMatrix<f64>, b: &DMatrix<f64>) -> Vec<f64> {
    (0..a.ncols())
        .map(|c| (a.column(c) - b.column(c)).norm_squared())
        .collect()
}

/// Measure per-segment `answers` (`d x M`, one column per flow-map query) and optionally a
/// rollout (`d x M_r`) against the exact flow (module doc).
///
/// ```
/// use flowcert::grids::GridKind;
/// use flowcert::dynamics::ExactFlow;
/// use flowcert::theorems::assess::{QueryConfig, QuerySet, assess_flowmap};
/// use flowcert::dynamics::Teacher;
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let cfg = QueryConfig { times: vec![0.5], samples: 4, seed: 0, grid: GridKind::Uniform,
///     segments: 2, t_min: 0.1, t_max: 1.0 }.check().unwrap();
/// let q = QuerySet::generate(&mix, &cfg).unwrap();
/// // answers: the exact flow of each start point, shifted by 0.01 in x0
/// let flow = Teacher::PRECISE.flow(&mix);
/// let answers = nalgebra::DMatrix::from_fn(2, q.flowmap.ncols(), |r, c| {
///     let x = [q.flowmap[(3, c)], q.flowmap[(4, c)]];
///     flow.map(&x, q.flowmap[(1, c)], q.flowmap[(2, c)]).unwrap().y[r] + if r == 0 { 0.01 } else { 0.0 }
/// });
/// let a = assess_flowmap(&q, &answers, None).unwrap();
/// assert!(a.segments.iter().all(|s| (s.rms - 0.01).abs() < 1e-9));
/// assert!(a.bound_rms >= 0.02 && a.end_to_end.is_none());
/// ```
pub fn assess_flowmap(
    set: &QuerySet,
    answers: &DMatrix<f64>,
    rollout: Option<&DMatrix<f64>>,
) -> Result<FlowmapAssessment, AssessError> {
    set.validate()?;
    let d = set.mixture.dim();
    let m = &set.manifest.flowmap;
    let shape_err = |what: &str, got: (usize, usize), rows: usize| AssessError::Malformed {
        path: what.into(),
        message: format!(
            "has {} answers of dimension {} but the queries need {rows} of dimension {d}",
            got.1, got.0
        ),
    };
    if answers.shape() != (d, m.file.rows) {
        return Err(shape_err("--answers", answers.shape(), m.file.rows));
    }
    if let Some(r) = rollout
        && r.shape() != (d, m.rollout.rows)
    {
        return Err(shape_err("--rollout", r.shape(), m.rollout.rows));
    }
    let flow = Teacher::PRECISE.flow(&set.mixture);
    let n = m.samples_per_segment;
    let lam0 = m.lambda[0];
    let mut segments = Vec::with_capacity(m.segments);
    let mut metrics = BTreeMap::new();
    for i in 1..m.times.len() {
        let cols = (i - 1) * n..i * n;
        let xs = set.flowmap.columns(cols.start, n).rows(3, d).into_owned();
        let (t_from, t_to) = (m.times[i], m.times[i - 1]);
        let (exact, _) = flow.map_batch(&xs, t_from, t_to)?;
        let ans = answers.columns(cols.start, n).into_owned();
        let sq = sq_norms(&ans, &exact);
        let rms = (sq.iter().sum::<f64>() / n as f64).sqrt();
        let max = sq.iter().copied().fold(0.0, f64::max).sqrt();
        metrics.insert(format!("local_rms[{i}]"), rms);
        metrics.insert(format!("local_max[{i}]"), max);
        segments.push(SegmentRow {
            segment: i,
            t_from,
            t_to,
            weight: (m.lambda[i - 1] - lam0).exp(),
            rms,
            max,
        });
    }
    let bound_rms: f64 = segments.iter().map(|s| s.rms * s.weight).sum();
    let bound_max: f64 = segments.iter().map(|s| s.max * s.weight).sum();
    metrics.insert("bound_rms".into(), bound_rms);
    metrics.insert("bound_max".into(), bound_max);
    let end_to_end = match rollout {
        None => None,
        Some(r) => {
            let xs = set.rollout.rows(2, d).into_owned();
            let (t_top, t_min) = (m.times[m.times.len() - 1], m.times[0]);
            let (exact, _) = flow.map_batch(&xs, t_top, t_min)?;
            let sq = sq_norms(r, &exact);
            let k = sq.len() as f64;
            let mse = sq.iter().sum::<f64>() / k;
            let denom = exact.column_iter().map(|c| c.norm_squared()).sum::<f64>() / k;
            let e = EndToEnd {
                samples: sq.len(),
                rms: mse.sqrt(),
                max: sq.iter().copied().fold(0.0, f64::max).sqrt(),
                rel_mse: if denom > 0.0 { mse / denom } else { mse },
                rms_over_bound: (bound_rms > 0.0).then(|| mse.sqrt() / bound_rms),
            };
            metrics.insert("end_to_end_rms".into(), e.rms);
            metrics.insert("end_to_end_max".into(), e.max);
            metrics.insert("rel_mse".into(), e.rel_mse);
            Some(e)
        }
    };
    Ok(FlowmapAssessment {
        kind: "flowmap".into(),
        queries: set.flowmap_identity(),
        grid: m.grid.clone(),
        times: m.times.clone(),
        lambda: m.lambda.clone(),
        segments,
        bound_rms,
        bound_max,
        region_radius: Lipschitz::auto(&set.mixture).region_radius(),
        end_to_end,
        metrics,
    })
}
