//! The output directory of `flowcert reproduce`: every table of a [`Summary`] as
//! Markdown, CSV and LaTeX, every figure under `plots/` in the chosen formats, the indexes
//! (`figures.md`, `figures.tex`, `tables.tex`) and `summary.json`, through a
//! [`ReportWriter`]. Nothing here computes.
//!
//! | file | shows | from |
//! |---|---|---|
//! | `lipschitz_M.*`, `plots/lipschitz_M.*` | L(t), paper L, mu(t) against empirical suprema | `bounds[].lipschitz` |
//! | `stability_M.*`, `plots/stability_M.*` | per-segment flow-map amplification | `bounds[].stability` |
//! | `plots/lambda_M.*` | the stability coordinate Lambda(t) | recomputed (quadrature) |
//! | `score_net_*.*`, `plots/score_net_sizes.*`, `plots/score_net_dsm.*` | ReLU-ReQU size and accuracy, DSM comparison | `score_net` |
//! | `mismatch_regime.*`, `plots/mismatch_regime.*` | one-step error, lower bound, depth | `mismatch` |
//! | `composition.*` | composition bound against perturbed students | `composition` |
//! | `distill_*.*`, `plots/distill_*_M.*` | relative MSE per grid and N, reductions (`distill_vs_uniform`: every grid against uniform), grids, local errors | `distill_rows`, `distill` |
//! | `budget_*.*`, `plots/budget_*.*` | the student-budget sweep: MSE, reductions, ranking stability, exponent b | `budget` |
//! | `oracle_{gaps,fits,grids}.*`, `plots/oracle_mse_vs_n.*` | oracle and fitted grids against the peers, the law fits, the chosen times | `oracle` |
//! | `paths.*`, `lipschitz_M@P.*`, `plots/{lipschitz,stability}_M@P.*` | the process axis: bounds, stability and grids per Gaussian path | `paths` |

use std::path::Path;

use crate::experiments::distill::DistillRow;
use crate::experiments::distill_summary::DistillSummary;
use crate::suite::Summary;
use crate::suite::composition::CompositionEntry;

use super::ReportError;
use super::distill as dtab;
use super::output::{ReportWriter, Written};
use super::plot::Formats;
use super::table::{Table, sig};
use super::{bounds, mismatch, score_net};

/// Write everything of `summary` into `dir` in `formats` (module doc): the report of one
/// run. Returns every file written.
pub fn write(dir: &Path, summary: &Summary, formats: &Formats) -> Result<Written, ReportError> {
    let mut w = ReportWriter::new(dir, formats)?;
    for e in &summary.bounds {
        let m = &e.mixture;
        w.table(
            &format!("lipschitz_{m}"),
            &e.lipschitz.table().with_caption(&format!(
                "{m}: the two-sided bound L(t), the paper's bound and the one-sided bound mu(t) against the largest ||J(x, t)|| and lambda_max(-J) a search found; a ratio bound/sup of 1 means attained, below 1 a violation."
            )),
        )?;
        w.table(
            &format!("stability_{m}"),
            &e.stability.table().with_caption(&format!(
                "{m}: largest flow-map amplification max ||DPhi|| per segment of the grid and over the whole interval, against exp(int mu) and exp(int L); ratio = exp(int mu) / measured."
            )),
        )?;
        w.figure(&format!("lipschitz_{m}"), &e.lipschitz.bounds_figure(m))?;
        w.figure(&format!("stability_{m}"), &e.stability.figure(m))?;
        w.figure(
            &format!("lambda_{m}"),
            &bounds::lambda_figure(&e.lambda_curves, m),
        )?;
    }
    w.table(
        "paths",
        &crate::suite::paths::table(&summary.paths, 3).with_caption(
            "The process axis (theory/07): per Gaussian path on the interval matched to OU's, the stability coordinate Lambda = int L, int mu, the largest bound/sup ratio, and the distillation comparison of uniform, balanced and log-SNR grids.",
        ),
    )?;
    for e in &summary.paths.entries {
        let m = format!("{}@{}", summary.paths.mixture, e.process.name);
        w.table(
            &format!("lipschitz_{m}"),
            &e.lipschitz.table().with_caption(&format!(
                "{m}: L(t), the paper's bound and mu(t) on the {} path against the largest ||J(x, t)|| and lambda_max(-J) a search found; ratio bound/sup of 1 means attained.",
                e.process.name
            )),
        )?;
        w.figure(&format!("lipschitz_{m}"), &e.lipschitz.bounds_figure(&m))?;
        w.figure(&format!("stability_{m}"), &e.stability.figure(&m))?;
    }
    let sn = &summary.score_net;
    w.table("score_net_summary", &score_net::sizes(sn))?;
    for (stem, t) in score_net::section_tables(sn) {
        w.table(&stem, &t)?;
    }
    for (stem, fig) in score_net::section_figures(sn) {
        w.figure(&stem, &fig)?;
    }
    w.table(
        "mismatch_regime",
        &mismatch::regime_table(&summary.mismatch),
    )?;
    w.figure(
        "mismatch_regime",
        &mismatch::regime_figure(&summary.mismatch),
    )?;
    w.table("composition", &composition_table(&summary.composition))?;
    distill_outputs(&mut w, &summary.distill_rows, &summary.distill)?;
    super::budget::outputs(&mut w, &summary.budget.summary)?;
    oracle_outputs(&mut w, &summary.oracle)?;
    let json = serde_json::to_string_pretty(summary).map_err(|source| {
        crate::io::OutputError::Serialise {
            what: "summary.json",
            source,
        }
    })?;
    w.document("summary.json", &json)?;
    w.finish()
}

/// The oracle-and-fitted-grids section (theory/04, "Oracle and fitted grids").
fn oracle_outputs(
    w: &mut ReportWriter,
    s: &crate::suite::oracle::OracleSection,
) -> Result<(), ReportError> {
    use crate::suite::oracle as o;
    w.table(
        "oracle_gaps",
        &o::gaps_table(s, 3).with_caption(
            "Oracle and fitted grids against the peers: the first-order estimate on the candidate segments' students (selection seeds, as a relative MSE), the measured end-to-end relative MSE of students retrained from scratch (evaluation seeds; mean and 95% interval) and each grid's paired gap to the oracle (geometric mean of the per-seed ratios minus 1, 95% interval).",
        ),
    )?;
    w.table(
        "oracle_fits",
        &o::fits_table(s, 3).with_caption(
            "The fitted grid's local-error law: least squares of ln eps on the logs of the segment's Lambda increment, its log-SNR increment or both, over the pilot's segment students; the model with the largest adjusted R^2 is used.",
        ),
    )?;
    w.table(
        "oracle_grids",
        &o::grids_table(s, 3)
            .with_caption("The times of the oracle and fitted grids of every mixture and N."),
    )?;
    w.figure("oracle_mse_vs_n", &o::figure(s))
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
    ])
    .with_caption("Composition of perturbed students with a known sup error eps_i per segment: the largest end-to-end error against its first-order estimate and the bound sum_i eps_i exp(Lambda(t_(i-1))), per mixture and grid; trajectories that left the region of the bounds are not compared.")
    .with_latex_headers(&[
        "mixture",
        "grid",
        "max error",
        "first-order estimate",
        r"bound $\sum_i \varepsilon_i e^{\Lambda}$",
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

/// Write the distillation tables and figures (per mixture: MSE against N, the grids on
/// the Lambda axis at the largest N, local error against the Lambda increment).
pub fn distill_outputs(
    w: &mut ReportWriter,
    rows: &[DistillRow],
    summary: &DistillSummary,
) -> Result<(), ReportError> {
    w.table("distill_rel_mse", &dtab::mse_table(summary, 3))?;
    w.table("distill_rel_mse_long", &dtab::mse_long_table(summary, 3))?;
    w.table("distill_reductions", &dtab::reduction_table(summary, 3))?;
    w.table(
        "distill_vs_uniform",
        &super::verdict::grids_vs_uniform_table(rows, 3),
    )?;
    let mut mixtures: Vec<&str> = Vec::new();
    for r in rows {
        if !mixtures.contains(&r.mixture.as_str()) {
            mixtures.push(&r.mixture);
        }
    }
    for m in mixtures {
        let n_max = rows
            .iter()
            .filter(|r| r.mixture == m)
            .map(|r| r.segments)
            .max()
            .unwrap_or(1);
        w.figure(
            &format!("distill_mse_vs_n_{m}"),
            &dtab::mse_vs_n_figure(summary, m),
        )?;
        w.figure(
            &format!("distill_grids_lambda_{m}"),
            &dtab::grids_on_lambda_figure(rows, m, n_max),
        )?;
        w.figure(
            &format!("distill_local_vs_lambda_{m}"),
            &dtab::local_vs_lambda_figure(rows, m),
        )?;
    }
    Ok(())
}
