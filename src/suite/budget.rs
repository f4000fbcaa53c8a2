//! The budget-sweep section of `reproduce` (theory/04-composition-and-grids.md, "Budget
//! sweep"): the distillation cells of the two-mode mixtures and ring8 at N in {2, 4, 8}, every
//! grid kind, at several student budgets; how the grid ranking and the local-error law move
//! with the budget.
//!
//! | size | mixtures | seeds | budgets (steps x width) | CPU cost (measured) |
//! |---|---|---|---|---|
//! | tiny | two-mode-s0.3, N = 2, 4 grids | 3 | 10/20/40 x 8, 20 x 4 | < 1 s |
//! | quick | two-mode-s0.3, N in {2, 4, 8}, 4 grids | 3 | 100/300/1000 x 32, 300 x 16 | seconds |
//! | full, `--budget-sweep default` | two-mode s0.05/0.1/0.3, ring8 | 5 | 100/300/1000 x 64, 1000 x 32 | README |
//! | full, `--budget-sweep full` | the same | 5 | 300/1000/3000/10000 x 32/64/128; cosine x 4 steps; depth 1, 3 | README |
//!
//! The budget of the main sweep (1000 x 64 at full scale, 300 x 32 at quick) is among the
//! points, so its cells come from the main sweep's store entries. In a sharded `reproduce`
//! shard 0 runs this section whole and keeps it in the cell store, so `merge` computes
//! nothing (as for the process axis).

use serde::{Deserialize, Serialize};

use super::{Progress, Scale, SuiteError};
use crate::experiments::budget::{BudgetPoint, BudgetSweepPlan, Ladder};
use crate::experiments::budget_summary::{BudgetSummary, summarize_budget_sweep};
use crate::experiments::distill::DistillPlan;
use crate::experiments::{CellStore, Shard};
use crate::grids::{DEFAULT_RHO, GridKind};
use crate::model::builtin::Builtin;
use crate::nn::{LrSchedule, StudentBudget};

/// How large a budget sweep `reproduce` runs (`--budget-sweep`).
///
/// ```
/// use flowcert::suite::budget::BudgetSize;
/// assert_eq!("full".parse::<BudgetSize>().unwrap(), BudgetSize::Full);
/// assert!("huge".parse::<BudgetSize>().unwrap_err().contains("default or full"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetSize {
    /// The scale's own small sweep (module table).
    #[default]
    Default,
    /// The issue's full axes at full scale: steps 300-10000 x width 32-128, cosine against
    /// constant, depth 1-3.
    Full,
}

impl std::str::FromStr for BudgetSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "default" => Ok(BudgetSize::Default),
            "full" => Ok(BudgetSize::Full),
            _ => Err(format!("unknown budget sweep '{s}': give default or full")),
        }
    }
}

impl std::fmt::Display for BudgetSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BudgetSize::Default => "default",
            BudgetSize::Full => "full",
        })
    }
}

/// Points `steps x width` of `base`, and the ladder of steps at each width.
fn grid_points(
    base: &StudentBudget,
    steps: &[usize],
    widths: &[usize],
    schedule: LrSchedule,
    out: &mut Vec<BudgetPoint>,
    ladders: &mut Vec<Ladder>,
) {
    let tag = match schedule {
        LrSchedule::Cosine { .. } => ", cosine",
        _ => "",
    };
    for &w in widths {
        let mut ladder = Ladder {
            name: format!("steps (width {w}{tag})"),
            axis: "Adam steps".into(),
            points: Vec::new(),
        };
        for &s in steps {
            let p = BudgetPoint::named(
                StudentBudget {
                    steps: s,
                    width: w,
                    schedule,
                    ..*base
                },
                base,
            );
            ladder.points.push((index_of(out, p), s as f64));
        }
        ladders.push(ladder);
    }
}

/// The index of `p` in `out`, appended if new.
fn index_of(out: &mut Vec<BudgetPoint>, p: BudgetPoint) -> usize {
    match out.iter().position(|o| o.budget == p.budget) {
        Some(i) => i,
        None => {
            out.push(p);
            out.len() - 1
        }
    }
}

/// A ladder of one budget field at `base`, e.g. width at 1000 steps.
fn axis_ladder(
    name: &str,
    axis: &str,
    values: &[usize],
    make: impl Fn(usize) -> StudentBudget,
    base: &StudentBudget,
    out: &mut Vec<BudgetPoint>,
) -> Ladder {
    Ladder {
        name: name.into(),
        axis: axis.into(),
        points: values
            .iter()
            .map(|&v| (index_of(out, BudgetPoint::named(make(v), base)), v as f64))
            .collect(),
    }
}

/// The grids the small sweeps compare: uniform, balanced and the peers (log-SNR, EDM).
fn question_grids() -> Vec<GridKind> {
    vec![
        GridKind::Uniform,
        GridKind::Balanced,
        GridKind::LogSnr,
        GridKind::Edm { rho: DEFAULT_RHO },
    ]
}

/// The budget sweep of a scale and size (module table); `main` is the scale's main
/// distillation sweep, whose interval, evaluation samples, teacher and budget it shares.
pub fn plan(scale: Scale, size: BudgetSize, main: &DistillPlan) -> BudgetSweepPlan {
    let named = |list: &[Builtin]| -> Vec<(String, crate::model::Mixture)> {
        list.iter()
            .map(|b| (b.name().to_string(), b.mixture()))
            .collect()
    };
    let base = main.budget;
    let (mixtures, grids, segments, seeds) = match scale {
        Scale::Tiny => (
            named(&[Builtin::TwoModeS03]),
            question_grids(),
            vec![2],
            vec![0, 1, 2],
        ),
        // One mixture and the four grids the question is about (uniform, balanced and the
        // peers), so that the 1000-step rung above the main budget fits the quick run's
        // time (README, "Measured run times").
        Scale::Quick => (
            named(&[Builtin::TwoModeS03]),
            question_grids(),
            vec![2, 4, 8],
            main.seeds.clone(),
        ),
        Scale::Full => (
            named(&[
                Builtin::TwoModeS005,
                Builtin::TwoModeS01,
                Builtin::TwoModeS03,
                Builtin::Ring8,
            ]),
            GridKind::all().to_vec(),
            vec![2, 4, 8],
            vec![0, 1, 2, 3, 4],
        ),
    };
    let (s, w) = (base.steps, base.width);
    let mut budgets = Vec::new();
    let mut ladders = Vec::new();
    let constant = LrSchedule::Constant;
    match (scale, size) {
        (Scale::Full, BudgetSize::Full) => {
            let steps = [300, 1000, 3000, 10_000];
            grid_points(
                &base,
                &steps,
                &[32, 64, 128],
                constant,
                &mut budgets,
                &mut ladders,
            );
            let cosine = LrSchedule::Cosine {
                final_fraction: 0.01,
            };
            grid_points(&base, &steps, &[w], cosine, &mut budgets, &mut ladders);
            for steps in [1000, 10_000] {
                ladders.push(axis_ladder(
                    &format!("width ({steps} steps)"),
                    "hidden width",
                    &[32, 64, 128],
                    |v| StudentBudget {
                        steps,
                        width: v,
                        ..base
                    },
                    &base,
                    &mut budgets,
                ));
            }
            ladders.push(axis_ladder(
                &format!("depth ({s} steps, width {w})"),
                "hidden layers",
                &[1, 2, 3],
                |v| StudentBudget { depth: v, ..base },
                &base,
                &mut budgets,
            ));
        }
        _ => {
            // Steps at the main width up to the main budget (tiny: around it); then half the
            // width at the main steps.
            let steps: Vec<usize> = match scale {
                Scale::Tiny => vec![10, 20, 40],
                Scale::Quick => vec![100, 300, 1000],
                // 100/300/1000 rather than 300/1000/3000: the 3000-step rung cost ~200 CPU-s
                // and took the full run past its 8-minute goal; `--budget-sweep full` has it.
                Scale::Full => vec![100, 300, 1000],
            };
            grid_points(&base, &steps, &[w], constant, &mut budgets, &mut ladders);
            ladders.push(axis_ladder(
                &format!("width ({s} steps)"),
                "hidden width",
                &[w / 2, w],
                |v| StudentBudget { width: v, ..base },
                &base,
                &mut budgets,
            ));
        }
    }
    BudgetSweepPlan {
        cells: DistillPlan {
            mixtures,
            grids,
            segments,
            seeds,
            ..main.clone()
        },
        budgets,
        ladders,
        peers: vec![GridKind::LogSnr, GridKind::Edm { rho: DEFAULT_RHO }],
    }
}

/// The section as summary.json keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetSection {
    /// Which sweep ran.
    pub size: BudgetSize,
    /// Everything the tables and figures show.
    pub summary: BudgetSummary,
}

/// Run the section (every cell: shard 0 runs it whole), returning it with its violations.
pub fn section(
    plan: &BudgetSweepPlan,
    size: BudgetSize,
    store: &CellStore,
    progress: &dyn Progress,
) -> Result<(BudgetSection, usize), SuiteError> {
    let valid = plan.clone().check()?;
    let rows = valid.run(store, Shard::ALL, progress)?;
    let summary = summarize_budget_sweep(&valid, &rows);
    let v = summary.violations;
    Ok((BudgetSection { size, summary }, v))
}
