//! `flowcert distill --mixture M --segments 1,2,4,8 --grids uniform,balanced --seeds 5 ...`:
//! the trajectory-distillation experiment on any mixture.

use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::Serialize;

use super::{Status, common};
use flowcert::experiments::distill::{DistillPlan, DistillRow};
use flowcert::experiments::distill_summary::{bound_violations, summarize_rows};
use flowcert::experiments::{CellStore, Shard};
use flowcert::grids::GridKind;
use flowcert::nn::StudentBudget;
use flowcert::report::distill as dtab;

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
    /// Fresh samples of p_T for the end-to-end metric.
    #[arg(long, default_value_t = 2048)]
    eval_samples: usize,
    /// Keep finished cells here (a rerun resumes); default: a temporary directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run only slice i/n of the cells.
    #[arg(long, default_value = "0/1", allow_hyphen_values = true)]
    shard: Shard,
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
        (0..n).collect()
    };
    let name = if let Some(b) = a.mixture.strip_prefix("builtin:") {
        b.to_string()
    } else {
        std::path::Path::new(&a.mixture)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "mixture".into())
    };
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
            ..StudentBudget::default()
        },
        eval_samples: a.eval_samples,
        teacher: flowcert::dynamics::Teacher::EXPERIMENT,
    }
    .check()?;
    let dir = a.out.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("flowcert-distill-{}", std::process::id()))
    });
    let store = CellStore::open(&dir)?;
    let bars = common::Bars::new(json);
    let sweep = plan.sweep(&store, a.shard, &bars)?;
    let (rows, missing) = (sweep.rows, sweep.missing);
    if a.out.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let violations = bound_violations(&rows);
    if json {
        common::print_json_on(
            &Out {
                rows,
                missing,
                violations,
            },
            &process,
        )?;
    } else {
        let s = summarize_rows(&rows);
        println!("relative MSE (mean over seeds)");
        print!("{}", dtab::mse_table(&s, 3).to_text());
        println!("\nreductions");
        print!("{}", dtab::reduction_table(&s, 3).to_text());
        let rigorous = rows.iter().filter(|r| r.bound_rigorous).count();
        println!(
            "\ncomposition bound (RMS form, on the evaluation sample): {violations} of {rigorous} \
             cells covered by the proof exceed it{}",
            if rigorous < rows.len() {
                format!(
                    "; {} cells have a bound local to a ball the samples are not confined to \
                     (not rigorous, not counted)",
                    rows.len() - rigorous
                )
            } else {
                String::new()
            }
        );
        if missing > 0 {
            println!("\n{missing} cells belong to other shards; combine with `flowcert merge`.");
        }
    }
    Ok(if violations > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}
