//! The verdict table of the distillation experiment (theory/04-composition-and-grids.md,
//! "Verdict on the reported 51.9% at 8 segments"): every grid against the uniform grid at
//! every (mixture, N > 1), paired over seeds, with the 95% interval of the reduction. The
//! reduction table of [`super::distill`] has only balanced vs uniform and the best grid;
//! the claim is about every grid, so this table has them all.

use crate::experiments::distill::DistillRow;
use crate::experiments::distill_summary::against_baseline;
use crate::grids::GridKind;

use super::distill::{interval_cell, pct};
use super::table::Table;

/// The baseline of the verdict: the uniform grid.
pub const BASELINE: &str = "uniform";

/// Long table: one row per (mixture, N, grid other than uniform): the paired reduction of
/// the relative MSE against the uniform grid on the log scale, `1 - exp(mean ln(MSE_grid /
/// MSE_uniform))` over seeds, its 95% interval (from 3 paired seeds on; "n/a (k seeds)"
/// below), and the arithmetic reduction of the means beside it. Grids in the order of
/// [`GridKind::all`]; `balanced-one-sided` is listed even where it equals `balanced`.
///
/// ```
/// let t = flowcert::report::verdict::grids_vs_uniform_table(&[], 3);
/// assert_eq!(t.headers[3], "reduction vs uniform");
/// assert!(t.rows.is_empty());
/// ```
pub fn grids_vs_uniform_table(rows: &[DistillRow], digits: usize) -> Table {
    let mut tab = Table::new(&[
        "mixture",
        "N",
        "grid",
        "reduction vs uniform",
        "95% interval",
        "of means",
        "seeds",
    ])
    .with_caption(
        "Every grid against the uniform grid, paired over seeds (same students' budget, same evaluation points): the reduction of the relative MSE 1 - exp(mean of ln(MSE_grid / MSE_uniform)), positive when the grid is better, with the 95% interval mapped from the Student-t interval of the log ratios (from 3 paired seeds on), and the arithmetic reduction of the means 1 - mean/mean beside it.",
    )
    .with_latex_headers(&[
        "mixture",
        "$N$",
        "grid",
        "reduction vs uniform",
        "95\\% interval",
        "of means",
        "seeds",
    ]);
    let rank = |g: &str| {
        GridKind::all()
            .iter()
            .position(|k| k.name() == g)
            .unwrap_or(usize::MAX)
    };
    let mut reds = against_baseline(rows, BASELINE);
    // Mixtures and N in the order of the other distillation tables, then grid rank.
    reds.sort_by(|a, b| {
        (&a.mixture, a.segments, rank(&a.grid)).cmp(&(&b.mixture, b.segments, rank(&b.grid)))
    });
    for r in &reds {
        let lr = &r.log_scale;
        tab.push(vec![
            r.mixture.clone(),
            r.segments.to_string(),
            r.grid.clone(),
            pct(lr.reduction, digits),
            interval_cell(lr, digits),
            pct(r.of_means, digits),
            lr.n.to_string(),
        ]);
    }
    tab
}
