//! The bounds section: L(t), paper L(t) and mu(t) against empirical suprema
//! (theory/02-lipschitz.md) and the flow-map stability estimate on a grid
//! (theory/03-stability.md), per mixture; with the Lambda(t) curves of the report's plot.

use rayon::prelude::*;
use serde::Serialize;

use super::plan::BoundsPlan;
use super::{Case, Progress, SuiteError};
use crate::bounds::{Bound, BoundsError, LambdaTable, Lipschitz};
use crate::model::Mixture;
use crate::theorems::lipschitz::{LipschitzReport, compare_bounds, compare_bounds_on};
use crate::theorems::stability::{StabilityReport, measure_grid, measure_segments_on};

/// The L(t) and stability checks of one mixture.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct BoundsEntry {
    /// Mixture.
    pub mixture: String,
    /// L(t), paper L, mu against empirical sups.
    pub lipschitz: LipschitzReport,
    /// Per-segment flow-map amplification on the plan's grid.
    pub stability: StabilityReport,
    /// The stability coordinates for the Lambda(t) plot (not in summary.json).
    #[serde(skip)]
    pub lambda_curves: Vec<LambdaCurve>,
}

/// `Lambda(t) = int_{t_min}^t rate` of one bound at the times of a plot.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaCurve {
    /// Which bound's coordinate.
    pub bound: Bound,
    /// `(t, Lambda(t))`.
    pub points: Vec<(f64, f64)>,
}

/// The three stability coordinates (two-sided, paper, floored one-sided) at `points`
/// geometric times of `[t_min, t_max]`. Errors as [`LambdaTable::new`].
///
/// ```
/// let mix = flowcert::model::builtin::hetero3();
/// let c = flowcert::suite::bounds::lambda_curves(&mix, 0.01, 3.0, 16).unwrap();
/// assert_eq!((c.len(), c[0].points.len()), (3, 16));
/// assert_eq!(c[0].points[0], (0.01, 0.0));
/// assert!(flowcert::suite::bounds::lambda_curves(&mix, 3.0, 0.01, 16).is_err());
/// ```
pub fn lambda_curves(
    mix: &Mixture,
    t_min: f64,
    t_max: f64,
    points: usize,
) -> Result<Vec<LambdaCurve>, BoundsError> {
    let n = points.max(2);
    let ts: Vec<f64> = (0..n)
        .map(|i| t_min * (t_max / t_min).powf(i as f64 / (n - 1) as f64))
        .collect();
    let lip = Lipschitz::auto(mix);
    Bound::ALL
        .into_iter()
        .map(|bound| {
            let tab = LambdaTable::new(lip.clone(), bound, t_min, t_max)?;
            Ok(LambdaCurve {
                bound,
                points: ts.iter().map(|&t| (t, tab.value(t))).collect(),
            })
        })
        .collect()
}

/// The L(t) comparison of one case at the plan's times and search.
///
/// ```
/// use flowcert::suite::{Case, Plan, Scale, bounds};
/// let plan = Plan::at(Scale::Tiny);
/// let r = bounds::lipschitz(&Case::from(flowcert::model::builtin::Builtin::TwoModeS03), &plan.bounds).unwrap();
/// assert_eq!((r.rows.len(), r.violations), (plan.bounds.times.len(), 0));
/// ```
pub fn lipschitz(case: &Case, plan: &BoundsPlan) -> Result<LipschitzReport, SuiteError> {
    match plan.mutation {
        None => Ok(compare_bounds(&case.mixture, &plan.times, &plan.search)?),
        Some(m) => Ok(compare_bounds_on(
            &Lipschitz::auto(&case.mixture).mutated(m),
            &plan.times,
            &plan.search,
        )?),
    }
}

/// The stability estimate of one case on the plan's grid.
pub fn stability(case: &Case, plan: &BoundsPlan) -> Result<StabilityReport, SuiteError> {
    match plan.mutation {
        None => Ok(measure_grid(
            &case.mixture,
            &plan.grid,
            plan.t_min,
            plan.t_max,
            plan.segments,
            &plan.stability,
        )?),
        Some(m) => {
            let times = plan
                .grid
                .times(&case.mixture, plan.t_min, plan.t_max, plan.segments)?;
            let lip = Lipschitz::auto(&case.mixture).mutated(m);
            Ok(measure_segments_on(&lip, &times, &plan.stability)?)
        }
    }
}

/// The section: both checks and the Lambda curves for every mixture of the plan (parallel
/// over mixtures), with the number of violations.
pub fn section(
    plan: &BoundsPlan,
    progress: &dyn Progress,
) -> Result<(Vec<BoundsEntry>, usize), SuiteError> {
    progress.stage("bounds", plan.mixtures.len() as u64);
    let entries: Vec<BoundsEntry> = plan
        .mixtures
        .par_iter()
        .map(|&b| {
            let case = Case::from(b);
            let (t0, t1) = plan.lambda_interval;
            let entry = BoundsEntry {
                mixture: case.name.clone(),
                lipschitz: lipschitz(&case, plan)?,
                stability: stability(&case, plan)?,
                lambda_curves: lambda_curves(&case.mixture, t0, t1, plan.lambda_points)
                    .map_err(crate::theorems::lipschitz::LipschitzCheckError::from)?,
            };
            progress.tick();
            Ok(entry)
        })
        .collect::<Result<_, SuiteError>>()?;
    progress.finish();
    let violations = entries
        .iter()
        .map(|e| e.lipschitz.violations + e.stability.violations)
        .sum();
    Ok((entries, violations))
}
