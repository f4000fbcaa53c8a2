//! The student-budget sweep of the distillation experiment (theory/04-composition-and-grids.md,
//! "Budget sweep"): the same cells (mixture x grid x N x seed) at several student budgets
//! (Adam steps, width, depth, learning-rate schedule), to see whether the grid verdict
//! depends on how well the students are trained.
//!
//! Each budget point is an ordinary [`DistillPlan`] sweep, so its cells have the keys of
//! `flowcert distill` at that budget (a budget point equal to the main sweep's budget reads
//! the main sweep's cells back from the store: no work). Within one (mixture, seed) every
//! grid and N share a segment's student ([`super::segments::SeedWork`]), and every budget
//! shares the segment's teacher pairs ([`PairCache`]): the teacher runs once per segment for
//! the whole sweep, whose cost is then training.
//!
//! Budgets are ordered along *ladders* (one axis varied, the others fixed, e.g. steps at
//! width 64), along which the ranking of the grids is compared
//! ([`super::budget_summary`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::distill::{DistillError, DistillPlan, DistillRow};
use super::segments::PairCache;
use super::store::{CellStore, Shard};
use super::sweep::{Progress, Silent};
use crate::grids::GridKind;
use crate::nn::{LrSchedule, StudentBudget};

/// One student budget of the sweep, with its name in tables (`3000x64`).
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetPoint {
    /// The name in tables and figures.
    pub label: String,
    /// The budget of every segment's student.
    pub budget: StudentBudget,
}

impl BudgetPoint {
    /// A point named after its steps and width (and depth, schedule, where they differ
    /// from `base`): `1000x64`, `1000x64 d3`, `1000x64 cos`.
    ///
    /// ```
    /// use flowcert::experiments::budget::BudgetPoint;
    /// use flowcert::nn::StudentBudget;
    /// let base = StudentBudget::default();
    /// let p = BudgetPoint::named(StudentBudget { steps: 300, depth: 3, ..base }, &base);
    /// assert_eq!(p.label, "300x64 d3");
    /// ```
    pub fn named(budget: StudentBudget, base: &StudentBudget) -> Self {
        let mut label = format!("{}x{}", budget.steps, budget.width);
        if budget.depth != base.depth {
            label.push_str(&format!(" d{}", budget.depth));
        }
        if let LrSchedule::Cosine { .. } = budget.schedule {
            label.push_str(" cos");
        }
        BudgetPoint { label, budget }
    }
}

/// Budgets along one axis, in increasing order of that axis, with the axis value of each
/// (for the figures' horizontal axis).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ladder {
    /// What varies and what is fixed, e.g. `steps (width 64)`.
    pub name: String,
    /// The varied quantity, e.g. `Adam steps`.
    pub axis: String,
    /// `(index into the plan's budgets, axis value)`, increasing.
    pub points: Vec<(usize, f64)>,
}

/// The budget sweep: the cells of `cells` (its `budget` is ignored) at every budget.
#[derive(Debug, Clone)]
pub struct BudgetSweepPlan {
    /// Mixtures, grids, N, seeds, interval, evaluation samples, teacher.
    pub cells: DistillPlan,
    /// The budgets.
    pub budgets: Vec<BudgetPoint>,
    /// Orders of the budgets along which rankings are compared.
    pub ladders: Vec<Ladder>,
    /// The peer grids; each grid is also compared with the best of them (lowest mean).
    pub peers: Vec<GridKind>,
}

/// A [`BudgetSweepPlan`] that passed [`BudgetSweepPlan::check`].
#[derive(Debug, Clone)]
pub struct ValidBudgetSweep(BudgetSweepPlan);

impl std::ops::Deref for ValidBudgetSweep {
    type Target = BudgetSweepPlan;
    fn deref(&self) -> &BudgetSweepPlan {
        &self.0
    }
}

fn bad<T>(setting: &'static str, problem: &'static str) -> Result<T, DistillError> {
    Err(DistillError::InvalidPlan { setting, problem })
}

impl BudgetSweepPlan {
    /// Validate: the cells as a [`DistillPlan`] at every budget, at least one budget, no
    /// label or budget twice, ladders of at least two valid points, the uniform grid and
    /// every peer among the grids.
    ///
    /// ```
    /// use flowcert::suite::{Plan, Scale};
    /// let mut p = Plan::at(Scale::Tiny).budget;
    /// p.budgets.push(p.budgets[0].clone());
    /// assert!(p.check().unwrap_err().to_string().contains("twice"));
    /// ```
    pub fn check(self) -> Result<ValidBudgetSweep, DistillError> {
        if self.budgets.is_empty() {
            return bad("budget sweep", "needs at least one budget");
        }
        for (i, b) in self.budgets.iter().enumerate() {
            DistillPlan {
                budget: b.budget,
                ..self.cells.clone()
            }
            .check()?;
            if self.budgets[..i]
                .iter()
                .any(|o| o.label == b.label || o.budget == b.budget)
            {
                return bad(
                    "budget sweep",
                    "lists a budget (or its label) twice: give each once",
                );
            }
        }
        for l in &self.ladders {
            if l.points.len() < 2 || l.points.iter().any(|&(k, _)| k >= self.budgets.len()) {
                return bad(
                    "budget sweep",
                    "has a ladder with fewer than 2 budgets or an index beyond the budget list",
                );
            }
            if l.points
                .windows(2)
                .any(|w| w[0].1.partial_cmp(&w[1].1) != Some(std::cmp::Ordering::Less))
            {
                return bad(
                    "budget sweep",
                    "has a ladder whose axis values do not increase",
                );
            }
        }
        if !self.cells.grids.contains(&GridKind::Uniform)
            || self.peers.iter().any(|p| !self.cells.grids.contains(p))
        {
            return bad(
                "--grids",
                "must include uniform and every peer grid of the budget sweep",
            );
        }
        Ok(ValidBudgetSweep(self))
    }
}

/// A finished cell at one budget.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetRow {
    /// Index into the plan's budgets.
    pub budget: usize,
    /// The cell.
    pub row: DistillRow,
}

/// What the sweep finished, in order (mixture, seed, budget, then the cells' order).
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetRows {
    /// Finished cells.
    pub rows: Vec<BudgetRow>,
    /// Cells left to other shards.
    pub missing: usize,
}

impl ValidBudgetSweep {
    /// The plan of one budget point (every mixture and seed): the keys of its cells are
    /// those of `flowcert distill` at that budget.
    pub fn at(&self, k: usize) -> DistillPlan {
        DistillPlan {
            budget: self.budgets[k].budget,
            ..self.cells.clone()
        }
    }

    /// Run every cell at every budget that `store` does not hold (resumable): one
    /// (mixture, seed) at a time, its budgets one after the other sharing the teacher
    /// pairs of each segment. `progress` ticks once per (mixture, seed, budget).
    ///
    /// ```no_run
    /// use flowcert::experiments::{CellStore, Shard, sweep::Silent};
    /// use flowcert::suite::{Plan, Scale};
    /// let store = CellStore::open(std::path::Path::new("out")).unwrap();
    /// let plan = Plan::at(Scale::Tiny).budget.check().unwrap();
    /// let rows = plan.run(&store, Shard::ALL, &Silent).unwrap();
    /// assert_eq!(rows.missing, 0);
    /// ```
    pub fn run(
        &self,
        store: &CellStore,
        shard: Shard,
        progress: &dyn Progress,
    ) -> Result<BudgetRows, DistillError> {
        let c = &self.cells;
        progress.stage(
            "budget",
            (c.mixtures.len() * c.seeds.len() * self.budgets.len()) as u64,
        );
        let mut rows = Vec::new();
        let mut missing = 0;
        for mixture in &c.mixtures {
            for &seed in &c.seeds {
                let pairs = Arc::new(PairCache::new());
                for k in 0..self.budgets.len() {
                    let sweep = DistillPlan {
                        mixtures: vec![mixture.clone()],
                        seeds: vec![seed],
                        ..self.at(k)
                    }
                    .check()?
                    .with_pairs(pairs.clone())
                    .sweep(store, shard, &Silent)?;
                    missing += sweep.missing;
                    rows.extend(
                        sweep
                            .rows
                            .into_iter()
                            .map(|row| BudgetRow { budget: k, row }),
                    );
                    progress.tick();
                }
            }
        }
        progress.finish();
        Ok(BudgetRows { rows, missing })
    }
}
