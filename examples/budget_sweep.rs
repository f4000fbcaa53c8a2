//! The budget-sweep section of `reproduce` on its own (theory/04-composition-and-grids.md,
//! "Budget sweep"): its tables and figures written to a directory, its cells kept there (a
//! rerun resumes), with a check that could fail: no cell may exceed a composition bound the
//! proof covers, and every budget's cells must be there.
//!
//! ```sh
//! cargo run --release --example budget_sweep -- [tiny|quick|full] [default|full] [DIR]
//! ```

use std::path::PathBuf;

use flowcert::experiments::CellStore;
use flowcert::report::output::ReportWriter;
use flowcert::suite::budget::{BudgetSize, section};
use flowcert::suite::{Plan, Scale, Silent};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scale: Scale = args.first().map_or("tiny", String::as_str).parse()?;
    let size: BudgetSize = args.get(1).map_or("default", String::as_str).parse()?;
    let dir = PathBuf::from(args.get(2).map_or("budget-sweep-out", String::as_str));
    let plan = Plan::at(scale).with_budget_sweep(size);
    let store = CellStore::open(&dir)?;
    let start = std::time::Instant::now();
    let (s, violations) = section(&plan.budget, size, &store, &Silent)?;
    let mut w = ReportWriter::new(&dir, &"svg,png".parse()?)?;
    flowcert::report::budget::outputs(&mut w, &s.summary)?;
    w.finish()?;
    let expected = plan.budget.budgets.len()
        * plan.budget.cells.mixtures.len()
        * plan.budget.cells.seeds.len()
        * plan.budget.cells.segments.len()
        * plan.budget.cells.grids.len();
    println!(
        "{} cells, {violations} violations, {:.1} s; tables and figures in {}",
        s.summary.cells.len(),
        start.elapsed().as_secs_f64(),
        dir.display()
    );
    assert_eq!(violations, 0, "a cell exceeds its composition bound");
    assert_eq!(s.summary.cells.len(), expected, "cells missing");
    Ok(())
}
