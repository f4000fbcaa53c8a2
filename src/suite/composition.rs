//! The composition section (theory/04-composition-and-grids.md): perturbed students with
//! a known sup error `eps_i` on each grid kind of the plan, the end-to-end error against
//! `sum_i eps_i exp(Lambda(t_{i-1}))`.

use serde::Serialize;

use super::plan::CompositionPlan;
use super::{Case, Progress, SuiteError};
use crate::bounds::Lipschitz;
use crate::grids::lambda_at;
use crate::theorems::composition::{CompositionReport, measure_perturbed};

/// One composition check in the summary.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct CompositionEntry {
    /// Mixture.
    pub mixture: String,
    /// Grid kind.
    pub grid: String,
    /// What was measured.
    pub report: CompositionReport,
}

impl CompositionEntry {
    /// Violations of the bound, and of its premise (a measured local error above `eps_i`).
    pub fn violations(&self) -> usize {
        self.report.violations + self.report.premise_violations
    }
}

/// The check of one case on every grid kind of the plan.
///
/// ```
/// use flowcert::suite::{Case, Plan, Scale, composition};
/// let plan = Plan::at(Scale::Tiny);
/// let e = composition::run(&Case::from(flowcert::model::builtin::Builtin::TwoModeS03), &plan.composition).unwrap();
/// assert_eq!(e.len(), plan.composition.grids.len());
/// assert!(e.iter().all(|e| e.violations() == 0 && e.report.max_error <= e.report.bound));
/// ```
pub fn run(case: &Case, plan: &CompositionPlan) -> Result<Vec<CompositionEntry>, SuiteError> {
    let mix = &case.mixture;
    let radius = Lipschitz::auto(mix).region_radius();
    let flow = plan.teacher.flow(mix);
    let eps = vec![plan.eps; plan.segments];
    plan.grids
        .iter()
        .map(|grid| {
            let times = grid.times(mix, plan.t_min, plan.t_max, plan.segments)?;
            let lambda = lambda_at(mix, &times)?;
            let report = measure_perturbed(&flow, &times, &lambda, &eps, radius, plan.probe)?;
            Ok(CompositionEntry {
                mixture: case.name.clone(),
                grid: grid.name().to_string(),
                report,
            })
        })
        .collect()
}

/// The section: [`run`] for every mixture of the plan, with the number of violations.
pub fn section(
    plan: &CompositionPlan,
    progress: &dyn Progress,
) -> Result<(Vec<CompositionEntry>, usize), SuiteError> {
    progress.stage("composition", plan.mixtures.len() as u64);
    let mut out = Vec::new();
    for &b in &plan.mixtures {
        out.extend(run(&Case::from(b), plan)?);
        progress.tick();
    }
    progress.finish();
    let violations = out.iter().map(CompositionEntry::violations).sum();
    Ok((out, violations))
}
