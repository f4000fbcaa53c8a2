//! The output directory of `flowcert reproduce`: every table of a [`Summary`] as
//! Markdown, CSV and LaTeX, every plot as SVG under `plots/`, and `summary.json`. Files are
//! written atomically; nothing here computes.

use std::path::Path;

use crate::experiments::distill::DistillRow;
use crate::experiments::distill_summary::DistillSummary;
use crate::io::{OutputError, create_dir, write_atomic};
use crate::suite::Summary;
use crate::suite::composition::CompositionEntry;

use super::distill as dtab;
use super::table::{Table, sig};
use super::{bounds, mismatch, score_net};

fn write_text(dir: &Path, name: &str, text: &str) -> Result<(), OutputError> {
    write_atomic(&dir.join(name), text.as_bytes())
}

/// Write `t` as `stem.md`, `stem.csv` and `stem.tex` in `dir`.
pub fn write_table(dir: &Path, stem: &str, t: &Table) -> Result<(), OutputError> {
    write_text(dir, &format!("{stem}.md"), &t.to_markdown())?;
    write_text(dir, &format!("{stem}.csv"), &t.to_csv())?;
    write_text(dir, &format!("{stem}.tex"), &t.to_latex())
}

/// Write everything of `summary` into `dir` (module doc): the report of one run.
pub fn write(dir: &Path, summary: &Summary) -> Result<(), OutputError> {
    let plots = dir.join("plots");
    create_dir(&plots)?;
    for e in &summary.bounds {
        let m = &e.mixture;
        write_table(dir, &format!("lipschitz_{m}"), &e.lipschitz.table())?;
        write_table(dir, &format!("stability_{m}"), &e.stability.table())?;
        write_text(
            &plots,
            &format!("lipschitz_{m}.svg"),
            &e.lipschitz
                .bounds_plot_svg(&format!("{m}: L(t), paper L, mu(t) and empirical sups")),
        )?;
        write_text(
            &plots,
            &format!("stability_{m}.svg"),
            &e.stability
                .plot_svg(&format!("{m}: flow-map amplification per segment")),
        )?;
        write_text(
            &plots,
            &format!("lambda_{m}.svg"),
            &bounds::lambda_plot_svg(&e.lambda_curves, &format!("{m}: Lambda(t)")),
        )?;
    }
    write_table(dir, "paths", &crate::suite::paths::table(&summary.paths, 3))?;
    for e in &summary.paths.entries {
        let m = format!("{}@{}", summary.paths.mixture, e.process.name);
        write_table(dir, &format!("lipschitz_{m}"), &e.lipschitz.table())?;
        write_text(
            &plots,
            &format!("lipschitz_{m}.svg"),
            &e.lipschitz.bounds_plot_svg(&m),
        )?;
        write_text(
            &plots,
            &format!("stability_{m}.svg"),
            &e.stability.plot_svg(&m),
        )?;
    }
    let sn = &summary.score_net;
    write_table(dir, "score_net_summary", &score_net::sizes(sn))?;
    for (stem, t) in score_net::section_tables(sn) {
        write_table(dir, &stem, &t)?;
    }
    for (name, svg) in score_net::section_plots(sn) {
        write_text(&plots, &name, &svg)?;
    }
    write_table(
        dir,
        "mismatch_regime",
        &mismatch::regime_table(&summary.mismatch),
    )?;
    write_text(
        &plots,
        "mismatch_regime.svg",
        &mismatch::plot_regime(&summary.mismatch),
    )?;
    write_table(dir, "composition", &composition_table(&summary.composition))?;
    write_distill_outputs(dir, &summary.distill_rows, &summary.distill)?;
    let json = serde_json::to_string_pretty(summary).map_err(|source| OutputError::Serialise {
        what: "summary.json",
        source,
    })?;
    write_text(dir, "summary.json", &json)
}

/// The composition table: the largest error over the test paths (a lower estimate of the
/// sup), the first-order estimate with measured `||DPhi||`, the bound, and whether the
/// proof covers it (`no` for a `Lambda` local to a ball, whose paths the check does not
/// confine).
///
/// ```
/// assert_eq!(flowcert::report::reproduce::composition_table(&[]).headers[2], "max error");
/// ```
pub fn composition_table(entries: &[CompositionEntry]) -> Table {
    let mut t = Table::new(&[
        "mixture",
        "grid",
        "max error",
        "first-order estimate",
        "bound sum eps e^Lambda",
        "bound rigorous",
        "error / bound",
        "left region",
        "violations",
    ]);
    for e in entries {
        let r = &e.report;
        t.push(vec![
            e.mixture.clone(),
            e.grid.clone(),
            sig(r.max_error, 3),
            sig(r.max_first_order, 3),
            sig(r.bound, 3),
            if r.bound_rigorous { "yes" } else { "no" }.into(),
            sig(r.max_error / r.bound, 3),
            r.left_region.to_string(),
            r.violations.to_string(),
        ]);
    }
    t
}

/// Write the distillation tables and plots.
pub fn write_distill_outputs(
    dir: &Path,
    rows: &[DistillRow],
    summary: &DistillSummary,
) -> Result<(), OutputError> {
    write_table(dir, "distill_rel_mse", &dtab::mse_table(summary, 3))?;
    write_table(
        dir,
        "distill_rel_mse_long",
        &dtab::mse_long_table(summary, 3),
    )?;
    write_table(
        dir,
        "distill_reductions",
        &dtab::reduction_table(summary, 3),
    )?;
    let mut mixtures: Vec<&str> = Vec::new();
    for r in rows {
        if !mixtures.contains(&r.mixture.as_str()) {
            mixtures.push(&r.mixture);
        }
    }
    let plots = dir.join("plots");
    create_dir(&plots)?;
    for m in mixtures {
        write_text(
            &plots,
            &format!("distill_mse_vs_n_{m}.svg"),
            &dtab::plot_mse_vs_n(summary, m),
        )?;
        write_text(
            &plots,
            &format!("distill_grids_lambda_{m}.svg"),
            &dtab::plot_grids_on_lambda(rows, m, 8),
        )?;
        write_text(
            &plots,
            &format!("distill_local_vs_lambda_{m}.svg"),
            &dtab::plot_local_vs_lambda(rows, m),
        )?;
    }
    Ok(())
}
