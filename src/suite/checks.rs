//! The theorem checkers `flowcert check` runs: for every mixture and every [`Check`], the
//! checker at the plan's configuration (the same functions `reproduce` runs per section),
//! summarised as an [`Outcome`]. Add a theorem by appending a [`Check`] to [`CHECKS`].

use rayon::prelude::*;
use serde::Serialize;

use super::plan::Plan;
use super::{Case, Progress, SuiteError, bounds, composition, mismatch, score_net};
use crate::digits::sig;
use crate::theorems::score_approx::ScoreNetReport;
use crate::theorems::stability::StabilityError;

/// What one checker found on one mixture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Inequalities compared (times, segments, ...).
    pub checked: usize,
    /// How many were violated.
    pub violations: usize,
    /// The smallest bound / measured ratio (1 = attained, < 1 = violated), if meaningful.
    pub tightest: Option<f64>,
    /// A short remark for the table.
    pub note: String,
}

/// A theorem checker run by `flowcert check`.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// Short name (table column).
    pub name: &'static str,
    /// The theory note it checks.
    pub theorem: &'static str,
    /// Run on one case at a plan's configuration.
    pub run: fn(&Case, &Plan) -> Result<Outcome, SuiteError>,
}

/// Every checker `flowcert check` runs, in report order.
pub const CHECKS: [Check; 5] = [
    Check {
        name: "lipschitz",
        theorem: "theory/02-lipschitz.md",
        run: lipschitz,
    },
    Check {
        name: "stability",
        theorem: "theory/03-stability.md",
        run: stability,
    },
    Check {
        name: "composition",
        theorem: "theory/04-composition-and-grids.md",
        run: composition,
    },
    Check {
        name: "mismatch",
        theorem: "theory/05-mismatch.md",
        run: mismatch,
    },
    Check {
        name: "score-net",
        theorem: "theory/06-score-approximation.md",
        run: score_net,
    },
];

/// One row of `flowcert check`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckRow {
    /// Mixture name.
    pub mixture: String,
    /// Checker name.
    pub checker: &'static str,
    /// The theory note it checks.
    pub theorem: &'static str,
    /// What it found.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What `flowcert check` prints (`--json`: this document).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckSummary {
    /// One row per (mixture, checker), mixtures outer, in the order given.
    pub rows: Vec<CheckRow>,
    /// Total violations.
    pub violations: usize,
}

/// Run every check of `checks` on every case (parallel over the pairs; rows in order).
///
/// ```no_run
/// use flowcert::suite::{Case, Plan, Scale, checks, Silent};
/// let cases: Vec<Case> = flowcert::model::builtin::Builtin::ALL.map(Case::from).to_vec();
/// let s = checks::run_checks(&Plan::at(Scale::Tiny), &cases, &checks::CHECKS, &Silent).unwrap();
/// assert_eq!(s.violations, 0);
/// ```
pub fn run_checks(
    plan: &Plan,
    cases: &[Case],
    checks: &[Check],
    progress: &dyn Progress,
) -> Result<CheckSummary, SuiteError> {
    let jobs: Vec<(&Case, &Check)> = cases
        .iter()
        .flat_map(|m| checks.iter().map(move |c| (m, c)))
        .collect();
    progress.stage("check", jobs.len() as u64);
    let outcomes: Vec<Result<Outcome, SuiteError>> = jobs
        .par_iter()
        .map(|&(case, check)| {
            let out = (check.run)(case, plan).map_err(|e| SuiteError::Check {
                check: check.name,
                mixture: case.name.clone(),
                source: Box::new(e),
            });
            progress.tick();
            out
        })
        .collect();
    progress.finish();
    let mut rows = Vec::with_capacity(jobs.len());
    for (&(case, check), outcome) in jobs.iter().zip(outcomes) {
        rows.push(CheckRow {
            mixture: case.name.clone(),
            checker: check.name,
            theorem: check.theorem,
            outcome: outcome?,
        });
    }
    let violations = rows.iter().map(|r| r.outcome.violations).sum();
    Ok(CheckSummary { rows, violations })
}

/// A time in a note: as given on OU (the notes as they were), 4 digits on another path
/// (its matched times are not round numbers).
fn time_str(case: &Case, t: f64) -> String {
    if case.mixture.process().is_ou() {
        t.to_string()
    } else {
        sig(t, 4)
    }
}

/// Rows that did not run (`checked == 0` with a note saying why): the CLI says how many.
pub fn not_run(summary: &CheckSummary) -> usize {
    summary
        .rows
        .iter()
        .filter(|r| r.outcome.checked == 0 && r.outcome.note.starts_with("not run"))
        .count()
}

fn min_ratio(it: impl Iterator<Item = f64>) -> Option<f64> {
    it.filter(|v| v.is_finite()).reduce(f64::min)
}

/// L(t), paper L(t) and mu(t) against empirical suprema at the plan's times.
fn lipschitz(case: &Case, plan: &Plan) -> Result<Outcome, SuiteError> {
    let r = bounds::lipschitz(case, &plan.bounds)?;
    let projected: usize = r.rows.iter().map(|row| row.projected).sum();
    Ok(Outcome {
        checked: r.rows.len(),
        violations: r.violations,
        tightest: min_ratio(r.rows.iter().map(|row| row.ratio)),
        note: match r.rows.first().and_then(|row| row.region_radius) {
            Some(radius) => format!(
                "L/sup ||J||; ball R = {}, {projected} candidates projected",
                sig(radius, 3)
            ),
            None => "L/sup ||J||; global".into(),
        },
    })
}

/// max ||DPhi|| against exp(int mu) per segment of the plan's grid, and overall.
///
/// Where the interval's `int L` is beyond the variational equation's size limit (a bound
/// `exp(int L)` with `int L` in the thousands says nothing; e.g. hetero3 on the `edm` path,
/// whose ball `B_R` does not shrink with `alpha`, theory/07) the row says "not run" with
/// the number, instead of failing the whole suite.
fn stability(case: &Case, plan: &Plan) -> Result<Outcome, SuiteError> {
    let r = match bounds::stability(case, &plan.bounds) {
        Err(SuiteError::Stability(StabilityError::TooManyPieces { lo, hi, int_l, .. })) => {
            return Ok(Outcome {
                checked: 0,
                violations: 0,
                tightest: None,
                note: format!(
                    "not run: int L over [{}, {}] = {} (segment), beyond the variational equation's limit; exp(int L) bounds nothing here (raise t_min or use a less stiff mixture)",
                    sig(lo, 4),
                    sig(hi, 4),
                    sig(int_l, 3)
                ),
            });
        }
        r => r?,
    };
    let rows = || r.segments.iter().chain([&r.whole]);
    let left: usize = rows().map(|s| s.left_region).sum();
    let points: usize = rows().map(|s| s.points).sum();
    Ok(Outcome {
        checked: r.segments.len() + 1,
        violations: r.violations,
        tightest: min_ratio(rows().filter_map(|s| s.ratio)),
        note: format!(
            "exp(int mu)/max||DPhi||; {points} flows, {left} may leave B_R (solver states or the path between steps); int L over [{}, {}] = {}",
            time_str(case, plan.bounds.t_min),
            time_str(case, plan.bounds.t_max),
            sig(r.whole.int_l, 3)
        ),
    })
}

/// Perturbed students with known sup error on the plan's grids: the end-to-end error
/// against sum eps_i exp(Lambda(t_{i-1})).
fn composition(case: &Case, plan: &Plan) -> Result<Outcome, SuiteError> {
    let entries = composition::run(case, &plan.composition)?;
    let reports = || entries.iter().map(|e| &e.report);
    let max_error = reports().map(|r| r.max_error).fold(0.0, f64::max);
    let max_first = reports().map(|r| r.max_first_order).fold(0.0, f64::max);
    let left: usize = reports().map(|r| r.left_region).sum();
    let rigorous = reports().all(|r| r.bound_rigorous);
    Ok(Outcome {
        checked: reports().map(|r| r.points - r.left_region).sum(),
        violations: entries
            .iter()
            .map(composition::CompositionEntry::violations)
            .sum(),
        tightest: min_ratio(reports().map(|r| r.bound / r.max_error.max(f64::MIN_POSITIVE))),
        note: format!(
            "bound/max error; max error {}, first-order {}, {left} left B_R{}",
            sig(max_error, 3),
            sig(max_first, 3),
            if rigorous {
                ""
            } else {
                "; bound local to B_R, paths not confined: not rigorous"
            },
        ),
    })
}

/// Lipschitz mismatch at the plan's budgets and segment counts: every trained student's
/// error is at least the lower bound.
fn mismatch(case: &Case, plan: &Plan) -> Result<Outcome, SuiteError> {
    let r = mismatch::run(case, &plan.mismatch)?;
    let one_step: Vec<_> = r.rows.iter().filter(|row| row.segments == 1).collect();
    let first = one_step.first();
    Ok(Outcome {
        checked: r.rows.len(),
        violations: r.violations,
        // Like with like: the L2 error against the L^p bound where the mixture has the
        // symmetry it needs, else the sup error found against the sup bound.
        tightest: min_ratio(one_step.iter().map(|row| match row.lower_bound_lp {
            Some(lb) => row.error_l2 / lb.max(f64::MIN_POSITIVE),
            None => row.error_sup / row.lower_bound_sup.max(f64::MIN_POSITIVE),
        })),
        note: format!(
            "one-step L2 error/L2 lower bound (same p_T draws: exact there, estimates of p_T); Lambda(T) = {}, M = {}, one-step L2 error {}",
            sig(r.lambda_t, 3),
            first.map_or("-".into(), |row| sig(row.budget, 3)),
            first.map_or("-".into(), |row| sig(row.error_l2, 3)),
        ),
    })
}

/// The explicit ReLU-ReQU score network at the plan's eps values: measured sup_t errors <= eps
/// (on a path other than OU: the OU network composed with the clock and the scaling of
/// theory/07, "Score approximation", against the exact score of the path, each error within
/// `eps / k(t)`).
fn score_net(case: &Case, plan: &Plan) -> Result<Outcome, SuiteError> {
    let r = score_net::run(case, &plan.score_net)?;
    let last = r.rows.last();
    Ok(Outcome {
        checked: r.rows.iter().map(|row| row.errors.len()).sum(),
        violations: r.rows.iter().filter(|row| !row.passed).count(),
        tightest: min_ratio(r.rows.iter().map(|row| row.margin())),
        note: match last {
            Some(
                row @ ScoreNetReport {
                    path: Some(path), ..
                },
            ) => format!(
                "min_t (eps/k(t))/L2: the OU network on tau in [{}, {}] composed with the clock and scaling of theory/07; at eps {}: depth {}, width {}, {} parameters",
                sig(path.ou_t_min, 3),
                sig(path.ou_t_max, 3),
                sig(row.eps, 3),
                row.depth,
                row.width,
                row.parameters
            ),
            Some(row) => format!(
                "eps/sup_t L2; at eps {}: depth {}, width {}, {} parameters",
                sig(row.eps, 3),
                row.depth,
                row.width,
                row.parameters
            ),
            None => "eps/sup_t L2".into(),
        },
    })
}
