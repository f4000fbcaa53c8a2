//! `flowcert reproduce [--scale tiny|quick|full | --quick] [--out DIR] [--shard i/n]
//! [--formats svg,pdf,png]`: the main job. `flowcert merge --out DIR SHARD_DIR...`: combine
//! shard directories, then write the report. Both run the library's suite
//! (`suite::reproduce::run` / `run_merge`) and write its summary with
//! `report::reproduce::write`, plus the run record `run.json`.
//!
//! `merge` reads what each directory holds from its `run.json` (a `reproduce` shard at a
//! scale, or a `distill --out` sweep), refuses to mix kinds, scales or sweeps, copies the
//! cells together and computes nothing: the checker sections come from shard 0, the
//! distillation rows from every shard.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};

use super::{Status, common, distill};
use flowcert::experiments::{CellStore, Shard};
use flowcert::report::plot::Formats;
use flowcert::suite::budget::BudgetSize;
use flowcert::suite::record::{RECORD_FILE, RunKind, RunRecord};
use flowcert::suite::reproduce::Reproduced;
use flowcert::suite::{Plan, Scale, timing};

/// `--scale`, or the older `--quick` / hidden `--tiny` flags (one scale).
#[derive(Debug, clap::Args)]
pub struct ScaleArgs {
    #[arg(long, conflicts_with_all = ["quick", "tiny"], help = timing::SCALE_HELP)]
    scale: Option<Scale>,
    /// The smaller configuration: the same as --scale quick.
    #[arg(long)]
    quick: bool,
    /// The seconds-long smoke configuration: the same as --scale tiny.
    #[arg(long, hide = true, conflicts_with = "quick")]
    tiny: bool,
}

impl ScaleArgs {
    /// The scale asked for, if any.
    fn given(&self) -> Option<Scale> {
        match self.scale {
            Some(s) => Some(s),
            None if self.tiny => Some(Scale::Tiny),
            None if self.quick => Some(Scale::Quick),
            None => None,
        }
    }

    fn scale(&self) -> Scale {
        self.given().unwrap_or(Scale::Full)
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    scale: ScaleArgs,
    /// Output directory (summary.json, run.json, tables, plots/, figures.md, cells/).
    #[arg(long, default_value = "reproduce-out")]
    out: PathBuf,
    /// Compute only slice i/n: shard 0 runs the checker sections and its distillation
    /// cells, the others only their cells (combine with `flowcert merge`).
    #[arg(long, default_value = "0/1", allow_hyphen_values = true)]
    shard: Shard,
    /// Figure formats, comma-separated: svg, pdf (vector, for LaTeX: figures.tex), png
    /// (slides, README). Default: all three.
    #[arg(long, default_value = "svg,pdf,png")]
    formats: Formats,
    /// The student-budget sweep: `default` (the scale's small sweep) or `full` (steps
    /// 300-10000 x width 32-128, cosine, depth 1-3 on the full scale; README gives its cost).
    #[arg(long, default_value = "default")]
    budget_sweep: BudgetSize,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The combined output directory.
    #[arg(long)]
    out: PathBuf,
    /// Optional: the scale the shards ran at (read from their run.json; an error if it
    /// differs).
    #[command(flatten)]
    scale: ScaleArgs,
    /// Figure formats of the merged report, as for `reproduce`.
    #[arg(long, default_value = "svg,pdf,png")]
    formats: Formats,
    /// The budget sweep the shards ran (`reproduce --budget-sweep`).
    #[arg(long, default_value = "default")]
    budget_sweep: BudgetSize,
    /// Output directories of the shards (`reproduce --shard` or `distill --out --shard`).
    #[arg(required = true)]
    shards: Vec<PathBuf>,
}

fn write_record(out: &Path, record: &RunRecord) -> Result<()> {
    flowcert::io::write_atomic(&out.join(RECORD_FILE), record.to_json().as_bytes())?;
    Ok(())
}

/// Write the report of a run (if it has a summary) and its record; print what and where.
fn finish(
    out: &Path,
    r: Reproduced,
    formats: &Formats,
    json: bool,
    start: Instant,
) -> Result<Status> {
    let Reproduced {
        summary,
        mut record,
    } = r;
    // The final guard before anything is written (a NaN or inf is an error, not a result).
    if let Some(s) = &summary {
        flowcert::io::check_finite(s)?;
    }
    let written = match &summary {
        Some(s) => Some(flowcert::report::reproduce::write(out, s, formats)?),
        None => None,
    };
    record.seconds = start.elapsed().as_secs_f64();
    write_record(out, &record)?;
    let Some(s) = summary else {
        common::emit(json, &record, || {
            Ok(format!(
                "shard {}: {} distillation cells in {}; {} belong to other shards.\n\
                 The checker sections, summary.json and the report come from shard 0: run it, then `flowcert merge --out DIR SHARD_DIRS...`.\n",
                record.shard,
                record.distill_cells,
                out.join("cells").display(),
                record.distill_missing
            ))
        })?;
        return Ok(Status::Ok);
    };
    common::emit(json, &s, || {
        let mut text = String::new();
        if let Some(w) = &written {
            let figures = w.figures.len() / formats.list().len().max(1);
            text.push_str(&format!(
                "wrote {}:\n  tables   {} files (.md, .csv, .tex; all tables: {})\n  figures  {figures} figures as {formats} under {} (captions: {}{})\n  summary  {}; what ran and how long: {}\n",
                out.display(),
                w.tables.len(),
                out.join("tables.tex").display(),
                out.join("plots").display(),
                out.join("figures.md").display(),
                if formats.has(flowcert::report::plot::Format::Pdf) {
                    format!(", LaTeX: {}", out.join("figures.tex").display())
                } else {
                    String::new()
                },
                out.join("summary.json").display(),
                out.join(RECORD_FILE).display(),
            ));
        }
        text.push_str(&format!("violations: {}\n", s.violations));
        if s.distill_missing > 0 {
            text.push_str(&format!(
                "{} experiment cells are not here (other shards): run them, then `flowcert merge`.\n",
                s.distill_missing
            ));
        }
        text.push_str(&flowcert::report::distill::reduction_table(&s.distill, 3).to_text());
        Ok(text)
    })?;
    // Only a run that computed its checker sections is comparable with the documented time
    // (a resumed run reads them back from DIR/cells).
    let computed = record
        .sections
        .iter()
        .all(|sec| sec.source == flowcert::suite::record::Source::Computed);
    if !json && !record.merged && record.shard == "0/1" && computed {
        let doc = timing::reproduce(s.scale);
        eprintln!(
            "took {:.0} s on {} threads; documented: {} ({}); {}",
            record.seconds,
            record.threads,
            doc.text,
            timing::MACHINE,
            if record.seconds > 2.0 * doc.seconds || record.seconds < 0.5 * doc.seconds {
                "more than 2x off: if this run computed every cell on an idle machine, re-measure with scripts/timing.sh and update src/suite/timing.rs and README"
            } else {
                "in line"
            }
        );
    }
    Ok(if s.violations > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let start = Instant::now();
    let plan = Plan::at(a.scale.scale()).with_budget_sweep(a.budget_sweep);
    let store = CellStore::open(&a.out)?;
    let r = flowcert::suite::reproduce::run(&plan, &store, a.shard, &common::Bars::new(json))?;
    for n in store.take_notes() {
        common::note(&n);
    }
    finish(&a.out, r, &a.formats, json, start)
}

fn kind_name(k: RunKind) -> &'static str {
    match k {
        RunKind::Reproduce => "reproduce",
        RunKind::Distill => "distill",
    }
}

/// The records of the shard directories, all of one kind (and scale, or sweep).
fn shard_records(dirs: &[PathBuf]) -> Result<Vec<RunRecord>> {
    let mut out: Vec<RunRecord> = Vec::new();
    for d in dirs {
        let r = match RunRecord::read(d) {
            None => bail!(
                "{}: no {RECORD_FILE}; give directories written by `flowcert reproduce --shard` or `flowcert distill --out` (of this version: rerun older shards)",
                d.display()
            ),
            Some(Err(e)) => bail!(
                "{}: {RECORD_FILE} is not readable ({e}); rerun that shard",
                d.join(RECORD_FILE).display()
            ),
            Some(Ok(r)) => r,
        };
        if let Some(first) = out.first() {
            if r.kind != first.kind {
                bail!(
                    "{} holds a `flowcert {}` run but {} a `flowcert {}` run: merge directories of one kind",
                    d.display(),
                    kind_name(r.kind),
                    dirs[0].display(),
                    kind_name(first.kind)
                );
            }
            if r.scale != first.scale {
                bail!(
                    "{} ran at scale {} but {} at {}: merge shards of one scale",
                    d.display(),
                    r.scale.map_or("-".into(), |s| s.to_string()),
                    dirs[0].display(),
                    first.scale.map_or("-".into(), |s| s.to_string())
                );
            }
            if r.distill != first.distill {
                bail!(
                    "{} holds a different distillation sweep (mixtures, grids, N, seeds or budget) than {}: merge shards of one sweep",
                    d.display(),
                    dirs[0].display()
                );
            }
        }
        out.push(r);
    }
    // Which slices are there?
    let slices: Vec<Shard> = out.iter().filter_map(|r| r.shard.parse().ok()).collect();
    if let Some(n) = slices.first().map(|s| s.count) {
        if slices.iter().any(|s| s.count != n) {
            bail!(
                "the directories come from different --shard i/n splits: merge the shards of one split"
            );
        }
        let absent: Vec<String> = (0..n)
            .filter(|i| !slices.iter().any(|s| s.index == *i))
            .map(|i| format!("{i}/{n}"))
            .collect();
        if !absent.is_empty() {
            eprintln!(
                "warning: shards {} are not among the directories: their cells will be missing",
                absent.join(", ")
            );
        }
    }
    Ok(out)
}

pub fn merge(a: MergeArgs, json: bool) -> Result<Status> {
    let start = Instant::now();
    let records = shard_records(&a.shards)?;
    let first = &records[0];
    match (first.kind, first.scale, a.scale.given()) {
        (RunKind::Reproduce, Some(scale), Some(asked)) if asked != scale => bail!(
            "--scale {asked} but the shards ran at {scale}: drop the flag (merge reads the scale from the shards) or merge the {asked} shards"
        ),
        (RunKind::Distill, _, Some(_)) => {
            bail!("--scale does not apply: the shards are `flowcert distill` runs")
        }
        _ => {}
    }
    let store = CellStore::open(&a.out)?;
    let mut n = 0;
    for s in &a.shards {
        n += store.absorb(s)?;
    }
    for note in store.take_notes() {
        common::note(&note);
    }
    if !json {
        common::note(&format!("merged {n} cells into {}", a.out.display()));
    }
    let bars = common::Bars::new(json);
    match first.kind {
        RunKind::Reproduce => {
            let Some(scale) = first.scale else {
                bail!("{}: the run record names no scale", a.shards[0].display());
            };
            let r = flowcert::suite::reproduce::run_merge(
                &Plan::at(scale).with_budget_sweep(a.budget_sweep),
                &store,
                &bars,
            )?;
            finish(&a.out, r, &a.formats, json, start)
        }
        RunKind::Distill => {
            let Some(spec) = &first.distill else {
                bail!(
                    "{}: the run record holds no distillation plan",
                    a.shards[0].display()
                );
            };
            let plan = spec.plan()?;
            // The path the sweep's mixtures are on (one per sweep: `distill` takes one).
            let process = plan
                .mixtures
                .first()
                .map(|(_, m)| m.process().clone())
                .unwrap_or_default();
            let plan = plan.check()?;
            let sweep = plan.sweep(&store, Shard::NONE, &bars)?;
            let mut record = RunRecord::new(RunKind::Distill, None, Shard::NONE);
            record.merged = true;
            record.distill = Some(spec.clone());
            distill::report(&a.out, &a.formats, sweep, &process, record, json, start)
        }
    }
}
