//! The score-approximation section (theory/06-score-approximation.md): the eps sweep of
//! the explicit ReLU-ReQU network on the plan's mixtures and, where the plan asks for them,
//! the dependence of its size on the geometry and the comparison with a DSM-trained MLP.
//!
//! A violation is a (mixture, eps) whose measured `sup_t` `L^1` or `L^2(p_t)` error exceeds
//! eps: the construction's error budget would be wrong. Everything is seeded, so two runs
//! give the same bytes.

use rayon::prelude::*;
use serde::Serialize;

use super::plan::ScoreNetPlan;
use super::{Case, Progress, SuiteError};
use crate::approx::ScoreNetConfig;
use crate::model::builtin::Builtin;
use crate::theorems::score_approx::trained::{DsmComparison, compare_with_dsm};
use crate::theorems::score_approx::{
    CheckConfig, DependenceRow, ScalingReport, ScoreNetReport, dependence_table, measure_eps,
    measure_scaling, time_grid,
};

/// The sweep of one mixture.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct MixtureScaling {
    /// Mixture name.
    pub mixture: String,
    /// One report per eps and the polylog fits.
    pub scaling: ScalingReport,
}

/// The DSM comparison and the mixture it ran on.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct DsmSection {
    /// Mixture name.
    pub mixture: String,
    /// The comparison.
    pub comparison: DsmComparison,
}

/// Everything the section measured (goes into summary.json).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ScoreNetSection {
    /// The sweep settings shared by every mixture.
    pub config: CheckConfig,
    /// One sweep per mixture.
    pub mixtures: Vec<MixtureScaling>,
    /// Sizes against K, d, separation and t_min (when the plan asks for it: full scale).
    pub dependence: Option<Vec<DependenceRow>>,
    /// The DSM-trained MLP against the construction (when the plan asks for it: full scale).
    pub dsm: Option<DsmSection>,
    /// (mixture, eps) pairs whose measured error exceeded eps.
    pub violations: usize,
}

/// The sweep of one case at the plan's configuration.
///
/// ```
/// use flowcert::suite::{Case, Plan, Scale, score_net};
/// let plan = Plan::at(Scale::Tiny);
/// let r = score_net::run(&Case::from(flowcert::model::builtin::Builtin::TwoModeS03), &plan.score_net).unwrap();
/// assert!(r.passed && r.rows.len() == plan.score_net.sweep.eps_list.len());
/// ```
pub fn run(case: &Case, plan: &ScoreNetPlan) -> Result<ScalingReport, SuiteError> {
    Ok(measure_scaling(&case.mixture, &plan.sweep)?)
}

/// The section: the sweep on every mixture of the plan (parallel over mixtures), then the
/// dependence table and the DSM comparison if the plan has them.
pub fn section(
    plan: &ScoreNetPlan,
    progress: &dyn Progress,
) -> Result<ScoreNetSection, SuiteError> {
    // One step per (mixture, eps), then the dependence table and the DSM comparison.
    let eps = &plan.sweep.eps_list;
    let steps = plan.mixtures.len() * eps.len()
        + usize::from(plan.dependence.is_some())
        + usize::from(plan.dsm.is_some());
    progress.stage("score-net", steps as u64);
    let jobs: Vec<(Builtin, f64)> = plan
        .mixtures
        .iter()
        .flat_map(|&b| eps.iter().map(move |&e| (b, e)))
        .collect();
    let rows: Vec<ScoreNetReport> = jobs
        .par_iter()
        .map(|&(b, e)| {
            let r = measure_eps(&b.mixture(), &plan.sweep, e);
            progress.tick();
            r
        })
        .collect::<Result<_, _>>()?;
    let mut rows = rows.into_iter();
    let mixtures: Vec<MixtureScaling> = plan
        .mixtures
        .iter()
        .map(|&b| MixtureScaling {
            mixture: b.name().to_string(),
            scaling: ScalingReport::from_rows(rows.by_ref().take(eps.len()).collect()),
        })
        .collect();
    let seed = plan.sweep.seed;
    let dependence = match plan.dependence {
        Some(d) => {
            let t = dependence_table(d.eps, d.samples, d.n_times, seed)?;
            progress.tick();
            Some(t)
        }
        None => None,
    };
    let dsm = match plan.dsm {
        Some(d) => {
            let case = Case::from(d.mixture);
            let p = ScoreNetConfig::new(d.eps).check()?;
            let times = time_grid(p.t_min(), p.t_max(), d.n_times);
            let comparison = compare_with_dsm(
                &case.mixture,
                &p,
                &d.config,
                &times,
                plan.sweep.samples,
                seed,
            )?;
            progress.tick();
            Some(DsmSection {
                mixture: case.name,
                comparison,
            })
        }
        None => None,
    };
    progress.finish();
    let violations = mixtures
        .iter()
        .flat_map(|m| &m.scaling.rows)
        .filter(|r| !r.passed)
        .count();
    Ok(ScoreNetSection {
        config: plan.sweep.clone(),
        mixtures,
        dependence,
        dsm,
        violations,
    })
}
