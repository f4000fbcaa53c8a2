//! `flowcert check [--seed S]`: every theorem checker on the built-in suite
//! (`model::builtin::suite()`), a summary table, exit 1 on any violation.
//!
//! A checker is a [`Checker`]: a name, the theorem note it checks and a function from a
//! mixture to an [`Outcome`]. Add new theorems to [`checkers`]; `check` runs every
//! (mixture, checker) pair in parallel and reports them in suite order. Budgets are the
//! quick ones so that the whole suite runs in well under a minute in release.

use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;

use super::{Status, common};
use flowcert::bounds::SearchConfig;
use flowcert::grids::GridKind;
use flowcert::model::{Mixture, builtin};
use flowcert::report::{Table, sig};
use flowcert::theorems::{lipschitz, stability};

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Seed passed to every checker.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Settings shared by the checkers.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Seed of every random draw.
    pub seed: u64,
}

/// What one checker found on one mixture.
#[derive(Debug, Clone, Serialize)]
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
pub struct Checker {
    /// Short name (table column).
    pub name: &'static str,
    /// The theory note it checks.
    pub theorem: &'static str,
    /// Run on one mixture.
    pub run: fn(&Mixture, &CheckOptions) -> Result<Outcome>,
}

/// Grid of the stability checker: `[CHECK_T_MIN, CHECK_T_MAX]`, balanced, 4 segments.
pub const CHECK_T_MIN: f64 = 0.01;
/// Upper end of the stability checker's interval.
pub const CHECK_T_MAX: f64 = 3.0;
/// Segments of the stability checker's grid.
pub const CHECK_SEGMENTS: usize = 4;

/// Every checker `flowcert check` runs, in report order. Append new theorems here.
pub fn checkers() -> Vec<Checker> {
    vec![
        Checker {
            name: "lipschitz",
            theorem: "theory/02-lipschitz.md",
            run: run_lipschitz,
        },
        Checker {
            name: "stability",
            theorem: "theory/03-stability.md",
            run: run_stability,
        },
        Checker {
            name: "composition",
            theorem: "theory/04-composition-and-grids.md",
            run: run_composition,
        },
        Checker {
            name: "mismatch",
            theorem: "theory/05-mismatch.md",
            run: run_mismatch,
        },
        Checker {
            name: "score-net",
            theorem: "theory/06-score-approximation.md",
            run: run_score_net,
        },
    ]
}

/// Perturbed students with known sup error 1e-3 on the balanced grid (4 segments): the
/// end-to-end error against sum eps_i exp(Lambda(t_{i-1})).
fn run_composition(mix: &Mixture, o: &CheckOptions) -> Result<Outcome> {
    use flowcert::bounds::{Bound, LambdaTable, Lipschitz};
    use flowcert::dynamics::Teacher;
    use flowcert::theorems::composition::{Probe, measure_composition};
    let lip = Lipschitz::auto(mix);
    let radius = lip.region_radius();
    let table = LambdaTable::new(lip, Bound::TwoSided, CHECK_T_MIN, CHECK_T_MAX)?;
    let times = GridKind::Balanced.times(mix, CHECK_T_MIN, CHECK_T_MAX, CHECK_SEGMENTS)?;
    let lambda: Vec<f64> = times.iter().map(|&t| table.value(t)).collect();
    let flow = Teacher::PRECISE.flow(mix);
    let eps = vec![1e-3; CHECK_SEGMENTS];
    let r = measure_composition(
        mix,
        &flow,
        &times,
        &lambda,
        &eps,
        radius,
        Probe {
            points: 8,
            freq: 2.0,
            seed: o.seed,
        },
    )?;
    Ok(Outcome {
        checked: r.points - r.left_region,
        violations: r.violations,
        tightest: Some(r.bound / r.max_error.max(f64::MIN_POSITIVE)),
        note: format!(
            "bound/max error; max error {}, first-order {}, {} left B_R",
            sig(r.max_error, 3),
            sig(r.max_first_order, 3),
            r.left_region
        ),
    })
}

/// Lipschitz mismatch with a budget of 4, one and two steps (quick students): every trained
/// student's error is at least the lower bound.
fn run_mismatch(mix: &Mixture, o: &CheckOptions) -> Result<Outcome> {
    use flowcert::theorems::mismatch::{MismatchConfig, SegmentGrid, measure_mismatch};
    let mut cfg = MismatchConfig::quick();
    cfg.seed = o.seed;
    let segments = [1, 2];
    let lambda_t = flowcert::grids::lambda_total(mix, cfg.t_min, cfg.t_max)?;
    cfg.grid = SegmentGrid::Kind(GridKind::Balanced);
    let r = measure_mismatch(mix, lambda_t, &[4.0], &segments, &cfg.check()?)?;
    let one = &r.rows[0];
    Ok(Outcome {
        checked: r.rows.len(),
        violations: r.violations,
        tightest: Some(
            one.error_l2
                / one
                    .lower_bound_lp
                    .unwrap_or(one.lower_bound_sup)
                    .max(f64::MIN_POSITIVE),
        ),
        note: format!(
            "one-step error/lower bound; Lambda(T) = {}, M = 4, one-step L2 error {}",
            sig(r.lambda_t, 3),
            sig(one.error_l2, 3)
        ),
    })
}

/// The explicit ReLU-ReQU score network at eps = 1e-2 on [0.01, 1]: measured sup_t L^2 error <= eps.
fn run_score_net(mix: &Mixture, o: &CheckOptions) -> Result<Outcome> {
    use flowcert::approx::budget::ScoreNetConfig;
    use flowcert::theorems::score_approx::{measure_network, time_grid};
    let eps = 1e-2;
    let params = ScoreNetConfig {
        eps,
        ..ScoreNetConfig::default()
    }
    .check()?;
    let times = time_grid(params.t_min(), params.t_max(), 4);
    let r = measure_network(mix, &params, &times, 400, o.seed)?;
    Ok(Outcome {
        checked: r.errors.len(),
        violations: usize::from(!r.passed),
        tightest: Some(eps / r.sup_l2_ci_high.max(r.sup_l1).max(f64::MIN_POSITIVE)),
        note: format!(
            "eps/sup_t L2; depth {}, width {}, {} parameters",
            r.depth, r.width, r.parameters
        ),
    })
}

fn min_ratio(it: impl Iterator<Item = f64>) -> Option<f64> {
    it.filter(|v| v.is_finite()).reduce(f64::min)
}

/// L(t), paper L(t) and mu(t) against empirical suprema at [`lipschitz::REPORT_TIMES`].
fn run_lipschitz(mix: &Mixture, o: &CheckOptions) -> Result<Outcome> {
    let cfg = SearchConfig {
        seed: o.seed,
        ..SearchConfig::quick()
    };
    let r = lipschitz::compare_bounds(mix, &lipschitz::REPORT_TIMES, &cfg)?;
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

/// max ||DPhi|| against exp(int mu) per segment of the balanced grid, and overall.
fn run_stability(mix: &Mixture, o: &CheckOptions) -> Result<Outcome> {
    let cfg = stability::StabilityConfig {
        seed: o.seed,
        ..stability::StabilityConfig::quick()
    };
    let r = stability::measure_grid(
        mix,
        &GridKind::Balanced,
        CHECK_T_MIN,
        CHECK_T_MAX,
        CHECK_SEGMENTS,
        &cfg,
    )?;
    let rows = || r.segments.iter().chain([&r.whole]);
    let left: usize = rows().map(|s| s.left_region).sum();
    let points: usize = rows().map(|s| s.points).sum();
    Ok(Outcome {
        checked: r.segments.len() + 1,
        violations: r.violations,
        tightest: min_ratio(rows().filter_map(|s| s.ratio)),
        note: format!(
            "exp(int mu)/max||DPhi||; {points} flows, {left} left B_R; int L over [{CHECK_T_MIN}, {CHECK_T_MAX}] = {}",
            sig(r.whole.int_l, 3)
        ),
    })
}

#[derive(Serialize)]
struct Row {
    mixture: &'static str,
    checker: &'static str,
    theorem: &'static str,
    #[serde(flatten)]
    outcome: Outcome,
}

#[derive(Serialize)]
struct Out {
    rows: Vec<Row>,
    violations: usize,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let opts = CheckOptions { seed: a.seed };
    let suite = builtin::suite();
    let list = checkers();
    let jobs: Vec<(usize, usize)> = (0..suite.len())
        .flat_map(|m| (0..list.len()).map(move |c| (m, c)))
        .collect();
    let pb = common::progress(jobs.len() as u64, json, "check");
    let outcomes: Vec<Result<Outcome>> = jobs
        .par_iter()
        .map(|&(m, c)| {
            let out = (list[c].run)(&suite[m].1, &opts);
            pb.inc(1);
            out
        })
        .collect();
    pb.finish_and_clear();
    let mut rows = Vec::with_capacity(jobs.len());
    for (&(m, c), out) in jobs.iter().zip(outcomes) {
        let outcome = out.map_err(|e| {
            e.context(format!(
                "checker '{}' failed on built-in mixture '{}'",
                list[c].name, suite[m].0
            ))
        })?;
        rows.push(Row {
            mixture: suite[m].0,
            checker: list[c].name,
            theorem: list[c].theorem,
            outcome,
        });
    }
    let violations = rows.iter().map(|r| r.outcome.violations).sum();
    if json {
        common::print_json(&Out { rows, violations })?;
    } else {
        let mut tab = Table::new(&[
            "mixture",
            "checker",
            "checked",
            "violations",
            "tightest",
            "note",
        ]);
        for r in &rows {
            tab.push(vec![
                r.mixture.into(),
                r.checker.into(),
                r.outcome.checked.to_string(),
                r.outcome.violations.to_string(),
                r.outcome.tightest.map_or_else(|| "-".into(), |v| sig(v, 3)),
                r.outcome.note.clone(),
            ]);
        }
        print!("{}", tab.to_text());
        println!(
            "{}",
            if violations == 0 {
                "all checks passed".to_string()
            } else {
                format!("{violations} violations")
            }
        );
    }
    Ok(if violations > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}
