//! Pinned: the `reproduce --quick` distillation table (relative MSE per grid and N, mean over
//! seeds) and the paired reductions, at 3 significant digits. The run is deterministic
//! from its seeds; a change here means the experiment changed: explain it in the commit.

use crate::common;
use flowcert::experiments::distill_summary::summarize_rows;
use flowcert::experiments::sweep::Silent;
use flowcert::experiments::{CellStore, Shard};
use flowcert::report::distill::{mse_table, reduction_table};
use flowcert::suite::{Plan, Scale};

#[test]
fn quick_distillation_table() {
    let plan = Plan::at(Scale::Quick).distill.check().unwrap();
    let dir = std::env::temp_dir().join(format!("flowcert-snap-distill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sweep = plan
        .sweep(&CellStore::open(&dir).unwrap(), Shard::ALL, &Silent)
        .unwrap();
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
    let _ = std::fs::remove_dir_all(&dir);
}
