//! `flowcert distill --mixture M --segments 1,2,4,8 --grids uniform,balanced --seeds 5 ...`:
//! the trajectory-distillation experiment on any mixture. With `--out DIR` the finished
//! cells stay in `DIR/cells` (a rerun resumes), `DIR/run.json` records the sweep (so
//! `flowcert merge` can combine `--shard` directories), and a complete sweep also writes
//! its tables, figures and `distill.json` (the `--json` document) there.

use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::Serialize;

use super::{Status, common};
use flowcert::experiments::distill::DistillSweep;
use flowcert::experiments::distill::{DistillPlan, DistillRow};
use flowcert::experiments::distill_summary::{bound_violations, summarize_rows};
use flowcert::experiments::{CellStore, Shard};
use flowcert::grids::GridKind;
use flowcert::limits::{self, estimate::StudentSize};
use flowcert::model::process::Process;
use flowcert::nn::StudentBudget;
use flowcert::report::distill as dtab;
use flowcert::report::output::ReportWriter;
use flowcert::report::plot::Formats;
use flowcert::suite::record::{DistillSpec, RECORD_FILE, RunKind, RunRecord, Source};

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Mixture JSON file (or builtin:NAME).
    #[arg(long)]
    mixture: String,
    #[command(flatten)]
    process: common::ProcessArgs,
    /// Segment counts N, comma-separated.
    #[arg(long, default_value = "1,2,4,8")]
    segments: String,
    /// Grid kinds, comma-separated: uniform, balanced, balanced-paper, balanced-one-sided, logsnr, edm.
    #[arg(
        long,
        default_value = "uniform,balanced,balanced-paper,balanced-one-sided,logsnr,edm"
    )]
    grids: String,
    /// Seeds: a count S (seeds 0..S-1) or a comma-separated list of seeds.
    #[arg(long, default_value = "3")]
    seeds: String,
    /// Smallest time t_min > 0.
    #[arg(long, default_value_t = 1e-3)]
    t_min: f64,
    /// Largest time T.
    #[arg(long, default_value_t = 3.0)]
    t_max: f64,
    /// EDM rho.
    #[arg(long, default_value_t = flowcert::grids::DEFAULT_RHO)]
    rho: f64,
    /// Student hidden width.
    #[arg(long, default_value_t = 64)]
    width: usize,
    /// Student hidden layers.
    #[arg(long, default_value_t = 2)]
    depth: usize,
    /// Adam steps per segment.
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// Teacher pairs per segment.
    #[arg(long, default_value_t = 4096)]
    samples: usize,
    /// Mini-batch size.
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// Precision of the students' training steps: f32 (default) or f64 (bit-identical
    /// to the reference forward/backward pass; tables agree within seed noise).
    #[arg(long, value_enum, default_value_t = common::PrecisionArg::F32)]
    precision: common::PrecisionArg,
    /// Initial scale of the students' read-out weights: 0.03 (default) starts each residual
    /// student near the identity; 0 exactly at it; 1 is the plain He initialisation of
    /// every layer (the tables before the scale was a setting).
    #[arg(long, default_value_t = flowcert::nn::DEFAULT_READOUT_SCALE)]
    readout_scale: f64,
    /// Learning-rate schedule: constant (default) or cosine (decay to --lr-final times
    /// the base rate at the last step).
    #[arg(long, value_enum, default_value_t = common::ScheduleArg::Constant)]
    schedule: common::ScheduleArg,
    /// With --schedule cosine: the fraction of --lr left at the last step.
    #[arg(long, default_value_t = 0.01)]
    lr_final: f64,
    /// Fresh samples of p_T for the end-to-end metric.
    #[arg(long, default_value_t = 2048)]
    eval_samples: usize,
    /// Keep finished cells here (a rerun resumes); default: a temporary directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run only slice i/n of the cells (give --out, then `flowcert merge` the directories).
    #[arg(long, default_value = "0/1", allow_hyphen_values = true)]
    shard: Shard,
    /// Figure formats of the report written with --out: svg, pdf, png.
    #[arg(long, default_value = "svg,pdf,png")]
    formats: Formats,
}

#[derive(Serialize)]
struct Out {
    rows: Vec<DistillRow>,
    missing: usize,
    /// Cells whose relative MSE exceeds a bound the proof covers (a bug).
    violations: usize,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let mix = common::mixture_on(&a.mixture, &a.process)?;
    let process = mix.process().clone();
    let segments: Vec<usize> = common::list("--segments", &a.segments)?;
    let mut grids = Vec::new();
    for g in a.grids.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        let k: GridKind = g.parse()?;
        grids.push(if matches!(k, GridKind::Edm { .. }) {
            k.with_rho(a.rho)
        } else {
            k
        });
    }
    if grids.is_empty() {
        bail!(
            "--grids is empty; name at least one of {}",
            GridKind::NAMES.join(", ")
        );
    }
    let seeds: Vec<u64> = if a.seeds.contains(',') {
        common::list("--seeds", &a.seeds)?
    } else {
        let n: u64 = common::list("--seeds", &a.seeds)?[0];
        if n == 0 {
            bail!("--seeds 0 runs nothing: give a count >= 1 or a list such as 0,1,2");
        }
        if n > limits::MAX_LIST as u64 {
            bail!(
                "--seeds {n} is more than {} seeds: give fewer (or run slices of them with --shard i/n)",
                limits::MAX_LIST
            );
        }
        (0..n).collect()
    };
    common::distinct("--seeds", &seeds)?;
    common::distinct("--segments", &segments)?;
    let grid_names: Vec<&str> = grids.iter().map(|g| g.name()).collect();
    common::distinct("--grids", &grid_names)?;
    for &n in &segments {
        common::segments(n)?;
    }
    for (flag, v, max, fix) in [
        (
            "--width",
            a.width,
            limits::MAX_WIDTH,
            "give a narrower student",
        ),
        (
            "--depth",
            a.depth,
            limits::MAX_DEPTH,
            "give fewer hidden layers",
        ),
        (
            "--steps",
            a.steps,
            limits::MAX_STEPS,
            "give fewer Adam steps",
        ),
        (
            "--samples",
            a.samples,
            limits::MAX_SAMPLES,
            "give fewer teacher pairs",
        ),
        (
            "--batch",
            a.batch,
            limits::MAX_SAMPLES,
            "give a smaller batch",
        ),
        (
            "--eval-samples",
            a.eval_samples,
            limits::MAX_SAMPLES,
            "give fewer evaluation samples",
        ),
    ] {
        common::count(flag, v, 1, max, fix)?;
    }
    let student = StudentSize {
        width: a.width,
        depth: a.depth,
        steps: a.steps,
        batch: a.batch,
        samples: a.samples,
    };
    common::estimate(
        &limits::estimate::distill(
            mix.n_components(),
            mix.dim(),
            grids.len(),
            &segments,
            seeds.len(),
            &student,
            a.eval_samples,
            a.shard.count,
        ),
        json,
        "split the sweep with --shard i/n (run the slices separately, then `flowcert merge`), or lower --steps, --samples, --width or the number of cells",
    )?;
    let name = common::mixture_name(&a.mixture);
    let plan = DistillPlan {
        mixtures: vec![(name, mix)],
        grids,
        segments,
        seeds,
        t_min: a.t_min,
        t_max: a.t_max,
        budget: StudentBudget {
            width: a.width,
            depth: a.depth,
            steps: a.steps,
            batch: a.batch,
            samples: a.samples,
            lr: a.lr,
            precision: a.precision.into(),
            readout_scale: a.readout_scale,
            schedule: a.schedule.schedule(a.lr_final)?,
            ..StudentBudget::default()
        },
        eval_samples: a.eval_samples,
        teacher: flowcert::dynamics::Teacher::EXPERIMENT,
    }
    .check()?;
    let start = std::time::Instant::now();
    let dir = a.out.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("flowcert-distill-{}", std::process::id()))
    });
    let store = CellStore::open(&dir)?;
    let bars = common::Bars::new(json);
    let sweep = plan.sweep(&store, a.shard, &bars)?;
    for n in store.take_notes() {
        common::note(&n);
    }
    let mut record = RunRecord::new(RunKind::Distill, None, a.shard);
    record.distill = Some(DistillSpec::of(&plan));
    record.section("distill", Source::Computed, start);
    match &a.out {
        Some(out) => report(out, &a.formats, sweep, &process, record, json, start),
        None => {
            let _ = std::fs::remove_dir_all(&dir);
            print(sweep, &process, json)
        }
    }
}

/// Print the sweep: `--json` the rows, else the MSE and reduction tables; exit 1 when a cell
/// violates a bound the proof covers.
fn print(sweep: DistillSweep, process: &Process, json: bool) -> Result<Status> {
    let (rows, missing) = (sweep.rows, sweep.missing);
    let violations = bound_violations(&rows);
    let out = Out {
        rows,
        missing,
        violations,
    };
    common::emit_on(json, &out, process, || {
        let s = summarize_rows(&out.rows);
        let rows = &out.rows;
        let mut text = format!(
            "relative MSE (mean over seeds)\n{}\nreductions\n{}",
            dtab::mse_table(&s, 3).to_text(),
            dtab::reduction_table(&s, 3).to_text()
        );
        let rigorous = rows.iter().filter(|r| r.bound_rigorous).count();
        text.push_str(&format!(
            "\ncomposition bound (RMS form, on the evaluation sample): {violations} of {rigorous} \
             cells covered by the proof exceed it{}\n",
            if rigorous < rows.len() {
                format!(
                    "; {} cells have a bound local to a ball the samples are not confined to \
                     (not rigorous, not counted)",
                    rows.len() - rigorous
                )
            } else {
                String::new()
            }
        ));
        if out.missing > 0 {
            text.push_str(&format!(
                "\n{} cells belong to other shards; combine with `flowcert merge`.\n",
                out.missing
            ));
        }
        Ok(text)
    })?;
    Ok(if violations > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}

/// Write a sweep's directory: `run.json`, and (a complete sweep, or a merge) the tables,
/// figures and `distill.json`; then print it.
pub fn report(
    out: &std::path::Path,
    formats: &Formats,
    sweep: DistillSweep,
    process: &Process,
    mut record: RunRecord,
    json: bool,
    start: std::time::Instant,
) -> Result<Status> {
    record.distill_cells = sweep.rows.len();
    record.distill_missing = sweep.missing;
    if sweep.missing == 0 || record.merged {
        let mut w = ReportWriter::new(out, formats)?;
        let summary = summarize_rows(&sweep.rows);
        flowcert::report::reproduce::distill_outputs(&mut w, &sweep.rows, &summary)?;
        let doc = Out {
            rows: sweep.rows.clone(),
            missing: sweep.missing,
            violations: bound_violations(&sweep.rows),
        };
        // The final guard before anything is written (a NaN or inf is an error, not a result).
        flowcert::io::check_finite(&doc)?;
        w.document("distill.json", &serde_json::to_string_pretty(&doc)?)?;
        w.finish()?;
        if !json {
            eprintln!(
                "wrote {}: tables (distill_*.md/.csv/.tex, tables.tex), figures under plots/ (captions: figures.md), distill.json",
                out.display()
            );
        }
    }
    record.seconds = start.elapsed().as_secs_f64();
    flowcert::io::write_atomic(&out.join(RECORD_FILE), record.to_json().as_bytes())?;
    print(sweep, process, json)
}
