//! The mismatch section (theory/05-mismatch.md): the regime experiment on the plan's
//! mixtures (their own balanced grids), one report per mixture.

use super::plan::MismatchPlan;
use super::{Case, Progress, SuiteError};
use crate::grids::lambda_total;
use crate::theorems::mismatch::{MismatchReport, measure_mismatch};

/// Named regime results, one per mixture.
pub type RegimeResults = Vec<(String, MismatchReport)>;

/// The checker on one case at the plan's budgets, segment counts and configuration, with
/// `Lambda(T)` the mixture's two-sided stability integral on `[t_min, T]`.
///
/// ```no_run
/// use flowcert::suite::{Case, Plan, Scale, mismatch};
/// let plan = Plan::at(Scale::Tiny);
/// let r = mismatch::run(&Case::from(flowcert::model::builtin::Builtin::TwoModeS03), &plan.mismatch).unwrap();
/// assert_eq!(r.violations, 0);
/// ```
pub fn run(case: &Case, plan: &MismatchPlan) -> Result<MismatchReport, SuiteError> {
    let cfg = plan.config.check()?;
    let lambda_t = lambda_total(&case.mixture, cfg.t_min, cfg.t_max)?;
    Ok(measure_mismatch(
        &case.mixture,
        lambda_t,
        &plan.budgets,
        &plan.segments,
        &cfg,
    )?)
}

/// The section: the regime experiment (`theorems::mismatch::regime_experiment`, one mixture
/// at a time so that progress moves) on every mixture of the plan, with the number of
/// violations.
pub fn section(
    plan: &MismatchPlan,
    progress: &dyn Progress,
) -> Result<(RegimeResults, usize), SuiteError> {
    // One step per mixture (each measures every budget and segment count).
    progress.stage("mismatch", plan.mixtures.len() as u64);
    let cfg = plan.config.check()?;
    let mut results = Vec::with_capacity(plan.mixtures.len());
    for &b in &plan.mixtures {
        let Case { name, mixture } = Case::from(b);
        let lambda_t = lambda_total(&mixture, cfg.t_min, cfg.t_max)?;
        let report = measure_mismatch(&mixture, lambda_t, &plan.budgets, &plan.segments, &cfg)?;
        results.push((name, report));
        progress.tick();
    }
    progress.finish();
    let violations = results.iter().map(|(_, r)| r.violations).sum();
    Ok((results, violations))
}
