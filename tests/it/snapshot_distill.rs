//! Pinned: the `reproduce --quick` distillation table (relative MSE per grid and N, mean over
//! seeds) and the paired reductions, at 3 significant digits; and the quick budget sweep's
//! tables (relative MSE per budget, reductions, winners, local-error exponents), computed in
//! the same store so that its main-budget rung reads the main sweep's cells back (the
//! pipeline of `reproduce --quick`, without running the main sweep twice). The run is
//! deterministic from its seeds; a change here means the experiment changed: explain it in
//! the commit.

use crate::common;
use flowcert::experiments::distill_summary::summarize_rows;
use flowcert::experiments::sweep::Silent;
use flowcert::experiments::{CellStore, Shard};
use flowcert::report::distill::{mse_table, reduction_table};
use flowcert::suite::budget::{self, BudgetSize};
use flowcert::suite::{Plan, Scale};

#[test]
fn quick_distillation_and_budget_tables() {
    let full_plan = Plan::at(Scale::Quick);
    let plan = full_plan.distill.clone().check().unwrap();
    let dir = std::env::temp_dir().join(format!("flowcert-snap-distill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = CellStore::open(&dir).unwrap();
    let sweep = plan.sweep(&store, Shard::ALL, &Silent).unwrap();
    let (rows, missing) = (sweep.rows, sweep.missing);
    assert_eq!(missing, 0);
    let s = summarize_rows(&rows);
    let text = format!(
        "relative MSE (mean over {} seeds)\n\n{}\npaired reductions\n\n{}",
        plan.seeds.len(),
        mse_table(&s, 3).to_markdown(),
        reduction_table(&s, 3).to_markdown()
    );
    common::pinned(|| {
        insta::assert_snapshot!("distill_quick", text);
    });

    // The budget sweep of `reproduce --quick`, after the main sweep as there.
    let (section, violations) =
        budget::section(&full_plan.budget, BudgetSize::Default, &store, &Silent).unwrap();
    assert_eq!((violations, section.summary.missing), (0, 0));
    let b = &section.summary;
    // The main budget's rung holds exactly the main sweep's cells of the budget sweep's
    // mixtures, grids and N (read back, not recomputed).
    let main_label = format!(
        "{}x{}",
        full_plan.distill.budget.steps, full_plan.distill.budget.width
    );
    let k = b
        .budgets
        .iter()
        .position(|l| l.label == main_label)
        .expect("the main budget is a rung of the quick sweep");
    for c in b.cells.iter().filter(|c| c.budget == k) {
        let main = rows
            .iter()
            .find(|r| {
                (r.mixture.as_str(), r.grid.as_str(), r.segments, r.seed)
                    == (c.mixture.as_str(), c.grid.as_str(), c.segments, c.seed)
            })
            .expect("every main-budget cell is a main-sweep cell");
        assert_eq!(main.rel_mse.to_bits(), c.rel_mse.to_bits());
    }
    let tables = format!(
        "{}\n{}\n{}\n{}",
        flowcert::report::budget::mse_table(b, 3).to_markdown(),
        flowcert::report::budget::reduction_table(b, 3).to_markdown(),
        flowcert::report::budget::winner_table(b).to_markdown(),
        flowcert::report::budget::exponent_table(b, 3).to_markdown()
    );
    common::pinned(|| {
        insta::assert_snapshot!("budget_quick", tables);
    });
    let _ = std::fs::remove_dir_all(&dir);
}
