//! The main job, `flowcert reproduce`: every checker and the distillation experiment on
//! the built-in suite, written to `DIR/` as summary.json, Markdown/CSV/LaTeX tables and
//! SVG plots. Resumable (experiment cells live in `DIR/cells/`), shardable, deterministic:
//! two runs write byte-identical summary.json (no timings or paths in it).

use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use crate::bounds::SearchConfig;
use crate::bounds::{Bound, LambdaTable, Lipschitz};
use crate::dynamics::Teacher;
use crate::experiments::distill::{DistillError, DistillPlan, DistillRow};
use crate::experiments::distill_summary::{DistillSummary, summarize_rows};
use crate::experiments::{CellStore, Shard, StoreError};
use crate::grids::GridKind;
use crate::io::{OutputError, create_dir, write_atomic};
use crate::report::score_net::{ScoreNetSection, score_net_section, section_plots, section_tables};
use crate::theorems::composition::{CompositionReport, Probe, measure_composition};
use crate::theorems::lipschitz::{self, LipschitzReport};
use crate::theorems::stability::{self, StabilityConfig, StabilityReport};
use rayon::prelude::*;

use crate::report::distill as dtab;
use crate::report::table::{Table, sig};

/// Errors of the main job.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReproduceError {
    /// The distillation sweep failed.
    #[error(transparent)]
    Distill(#[from] DistillError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing an output failed.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A checker failed to run.
    #[error("{section}: {message}")]
    Checker {
        /// Which section.
        section: &'static str,
        /// What failed.
        message: String,
    },
}

/// How large a run: `Full` is the main job, `Quick` its 2-minute version, `Tiny` a
/// seconds-long smoke configuration for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Scale {
    /// Seconds: for tests of the pipeline itself.
    Tiny,
    /// Under 2 minutes on 2 cores.
    Quick,
    /// The full suite.
    Full,
}

/// How to run the main job.
#[derive(Debug, Clone)]
pub struct ReproduceOptions {
    /// The run's size.
    pub scale: Scale,
    /// Output directory.
    pub out: PathBuf,
    /// Which slice of the experiment cells to compute.
    pub shard: Shard,
}

pub use crate::experiments::sweep::{Progress, Silent};

/// One composition check in the summary.
#[derive(Debug, Clone, Serialize)]
pub struct CompositionEntry {
    /// Mixture.
    pub mixture: String,
    /// Grid kind.
    pub grid: String,
    /// What was measured.
    pub report: CompositionReport,
}

/// The L(t) and stability checks of one mixture.
#[derive(Debug, Clone, Serialize)]
pub struct BoundsEntry {
    /// Mixture.
    pub mixture: String,
    /// L(t), paper L, mu against empirical sups.
    pub lipschitz: LipschitzReport,
    /// Per-segment flow-map amplification, balanced grid with 4 segments on [0.01, 3].
    pub stability: StabilityReport,
}

/// The contents of summary.json.
#[derive(Debug, Clone, Serialize)]
pub struct ReproduceSummary {
    /// flowcert version.
    pub version: String,
    /// The run's size.
    pub scale: Scale,
    /// Violations found by any checker (a theorem failed: a bug, or a wrong bound).
    pub violations: usize,
    /// L(t) bounds and flow-map stability per built-in mixture.
    pub bounds: Vec<BoundsEntry>,
    /// The ReLU-ReQU score-approximation section.
    pub score_net: ScoreNetSection,
    /// The Lipschitz-mismatch regime experiment.
    pub mismatch: Vec<(String, crate::theorems::mismatch::MismatchReport)>,
    /// Composition checker results.
    pub composition: Vec<CompositionEntry>,
    /// Distillation: every cell.
    pub distill_rows: Vec<DistillRow>,
    /// Distillation: the aggregate.
    pub distill: DistillSummary,
    /// Cells of the sweep that are not finished (other shards).
    pub distill_missing: usize,
}

fn write(dir: &Path, name: &str, text: &str) -> Result<(), ReproduceError> {
    Ok(write_atomic(&dir.join(name), text.as_bytes())?)
}

fn write_table(dir: &Path, stem: &str, t: &Table) -> Result<(), ReproduceError> {
    write(dir, &format!("{stem}.md"), &t.to_markdown())?;
    write(dir, &format!("{stem}.csv"), &t.to_csv())?;
    write(dir, &format!("{stem}.tex"), &t.to_latex())
}

/// The composition checks: balanced and uniform grids with 4 segments, eps_i = 1e-3.
fn composition_section(
    scale: Scale,
    progress: &dyn Progress,
) -> Result<(Vec<CompositionEntry>, usize), ReproduceError> {
    let (names, points): (Vec<&str>, usize) = match scale {
        Scale::Tiny => (vec!["two-mode-s0.1"], 4),
        Scale::Quick => (vec!["two-mode-s0.1", "aniso8"], 12),
        Scale::Full => (
            crate::model::builtin::Builtin::ALL
                .map(crate::model::builtin::Builtin::name)
                .to_vec(),
            48,
        ),
    };
    let (t_min, t_max, n) = (1e-3, 3.0, 4);
    progress.stage("composition", (names.len() * 2) as u64);
    let mut out = Vec::new();
    let mut violations = 0;
    for name in names {
        let mix = name
            .parse::<crate::model::builtin::Builtin>()
            .map(crate::model::builtin::Builtin::mixture)
            .expect("built-in names parse");
        let lip = Lipschitz::auto(&mix);
        let radius = lip.region_radius();
        let table = LambdaTable::new(lip, Bound::TwoSided, t_min, t_max)
            .map_err(|e| checker("composition", e))?;
        let flow = Teacher::PRECISE.flow(&mix);
        for grid in [GridKind::Uniform, GridKind::Balanced] {
            let times = grid
                .times(&mix, t_min, t_max, n)
                .map_err(|e| checker("composition", e))?;
            let lambda: Vec<f64> = times.iter().map(|&t| table.value(t)).collect();
            let eps = vec![1e-3; n];
            let report = measure_composition(
                &mix,
                &flow,
                &times,
                &lambda,
                &eps,
                radius,
                Probe {
                    points,
                    freq: 2.0,
                    seed: 7,
                },
            )
            .map_err(|e| checker("composition", e))?;
            violations += report.violations;
            out.push(CompositionEntry {
                mixture: name.to_string(),
                grid: grid.name().to_string(),
                report,
            });
            progress.tick();
        }
    }
    progress.finish();
    Ok((out, violations))
}

/// The composition table.
pub fn composition_table(entries: &[CompositionEntry]) -> Table {
    let mut t = Table::new(&[
        "mixture",
        "grid",
        "max error",
        "first-order estimate",
        "bound sum eps e^Lambda",
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
) -> Result<(), ReproduceError> {
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
        write(
            &plots,
            &format!("distill_mse_vs_n_{m}.svg"),
            &dtab::plot_mse_vs_n(summary, m),
        )?;
        write(
            &plots,
            &format!("distill_grids_lambda_{m}.svg"),
            &dtab::plot_grids_on_lambda(rows, m, 8),
        )?;
        write(
            &plots,
            &format!("distill_local_vs_lambda_{m}.svg"),
            &dtab::plot_local_vs_lambda(rows, m),
        )?;
    }
    Ok(())
}

/// A checker of `section` failed to run with error `e`.
fn checker(section: &'static str, e: impl std::fmt::Display) -> ReproduceError {
    ReproduceError::Checker {
        section,
        message: e.to_string(),
    }
}

/// L(t) bounds against empirical sups, and stability per segment of a balanced grid,
/// for each built-in mixture (parallel over mixtures); tables and plots written to `dir`.
fn bounds_section(
    scale: Scale,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<(Vec<BoundsEntry>, usize), ReproduceError> {
    let names: Vec<&str> = match scale {
        Scale::Tiny => vec!["two-mode-s0.3"],
        _ => crate::model::builtin::Builtin::ALL
            .map(crate::model::builtin::Builtin::name)
            .to_vec(),
    };
    let (search, stab) = match scale {
        Scale::Full => (SearchConfig::default(), StabilityConfig::default()),
        _ => (SearchConfig::quick(), StabilityConfig::quick()),
    };
    progress.stage("bounds", names.len() as u64);
    let results: Vec<Result<BoundsEntry, ReproduceError>> = names
        .par_iter()
        .map(|&name| {
            let mix = name
                .parse::<crate::model::builtin::Builtin>()
                .map(crate::model::builtin::Builtin::mixture)
                .expect("built-in names parse");
            let lip = lipschitz::compare_bounds(&mix, &lipschitz::REPORT_TIMES, &search)
                .map_err(|e| checker("lipschitz", e))?;
            let st = stability::measure_grid(&mix, &GridKind::Balanced, 0.01, 3.0, 4, &stab)
                .map_err(|e| checker("stability", e))?;
            progress.tick();
            Ok(BoundsEntry {
                mixture: name.to_string(),
                lipschitz: lip,
                stability: st,
            })
        })
        .collect();
    progress.finish();
    let entries: Vec<BoundsEntry> = results.into_iter().collect::<Result<_, _>>()?;
    let plots = dir.join("plots");
    create_dir(&plots)?;
    let mut violations = 0;
    for e in &entries {
        violations += e.lipschitz.violations + e.stability.violations;
        write_table(
            dir,
            &format!("lipschitz_{}", e.mixture),
            &e.lipschitz.table(),
        )?;
        write_table(
            dir,
            &format!("stability_{}", e.mixture),
            &e.stability.table(),
        )?;
        write(
            &plots,
            &format!("lipschitz_{}.svg", e.mixture),
            &e.lipschitz.bounds_plot_svg(&format!(
                "{}: L(t), paper L, mu(t) and empirical sups",
                e.mixture
            )),
        )?;
        write(
            &plots,
            &format!("stability_{}.svg", e.mixture),
            &e.stability.plot_svg(&format!(
                "{}: flow-map amplification per segment",
                e.mixture
            )),
        )?;
        let mix = &e
            .mixture
            .parse::<crate::model::builtin::Builtin>()
            .map(crate::model::builtin::Builtin::mixture)
            .expect("built-in names parse");
        let svg = crate::report::bounds::lambda_plot_svg(
            mix,
            1e-3,
            3.0,
            60,
            &format!("{}: Lambda(t)", e.mixture),
        )
        .map_err(|err| checker("lipschitz", err))?;
        write(&plots, &format!("lambda_{}.svg", e.mixture), &svg)?;
    }
    Ok((entries, violations))
}

/// Run everything and write `DIR/`.
pub fn reproduce(
    opts: &ReproduceOptions,
    progress: &dyn Progress,
) -> Result<ReproduceSummary, ReproduceError> {
    let dir = &opts.out;
    let store = CellStore::open(dir)?;
    let mut violations = 0;
    let (bounds, v) = bounds_section(opts.scale, dir, progress)?;
    violations += v;
    progress.stage("score-net", 1);
    let (score_net, sn_table, v) =
        score_net_section(opts.scale == Scale::Full).map_err(|e| checker("score-net", e))?;
    progress.finish();
    violations += v;
    write_table(dir, "score_net_summary", &sn_table)?;
    for (stem, t) in section_tables(&score_net) {
        write_table(dir, &stem, &t)?;
    }
    for (name, svg) in section_plots(&score_net) {
        write(&dir.join("plots"), &name, &svg)?;
    }
    progress.stage("mismatch", 1);
    let (mismatch, mm_table, v) = crate::report::mismatch::mismatch_section(opts.scale)
        .map_err(|e| checker("mismatch", e))?;
    progress.finish();
    violations += v;
    write_table(dir, "mismatch_regime", &mm_table)?;
    write(
        &dir.join("plots"),
        "mismatch_regime.svg",
        &crate::report::mismatch::plot_regime(&mismatch),
    )?;
    let (composition, v) = composition_section(opts.scale, progress)?;
    violations += v;
    let plan = match opts.scale {
        Scale::Tiny => DistillPlan::tiny(),
        Scale::Quick => DistillPlan::quick(),
        Scale::Full => DistillPlan::full(),
    }
    .check()?;
    let sweep = plan.sweep(&store, opts.shard, progress)?;
    let (rows, missing) = (sweep.rows, sweep.missing);
    let distill = summarize_rows(&rows);
    write_table(dir, "composition", &composition_table(&composition))?;
    write_distill_outputs(dir, &rows, &distill)?;
    let summary = ReproduceSummary {
        version: env!("CARGO_PKG_VERSION").to_string(),
        scale: opts.scale,
        violations,
        bounds,
        score_net,
        mismatch,
        composition,
        distill_rows: rows,
        distill,
        distill_missing: missing,
    };
    let json = serde_json::to_string_pretty(&summary).map_err(|e| checker("summary", e))?;
    write(dir, "summary.json", &json)?;
    Ok(summary)
}
