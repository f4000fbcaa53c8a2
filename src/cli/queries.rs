//! `flowcert queries --mixture M --out DIR [--times t1,t2,.. --samples N --seed S
//! --grid KIND --segments N --t-min A --t-max B --rho R]`: write query points for an outside
//! model (score queries x ~ p_t, flow-map segment start points, rollout start points) as
//! CSV and .npy, with DIR/queries.json (protocol: src/theorems/assess/mod.rs).

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use super::{Status, common};
use flowcert::grids::GridKind;
use flowcert::report::{Table, sig};
use flowcert::theorems::assess::{QueryConfig, QuerySet};
use flowcert::theorems::score_approx::time_grid;

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Mixture JSON file (or builtin:NAME).
    #[arg(long)]
    mixture: String,
    #[command(flatten)]
    process: common::ProcessArgs,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Times of the score queries, comma-separated (default: 8 geometric times on [t_min, T]).
    #[arg(long)]
    times: Option<String>,
    /// Points per time, per segment and for the rollout.
    #[arg(long, default_value_t = 1000)]
    samples: usize,
    /// Seed of every draw.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Grid of the flow-map segments: uniform, balanced, balanced-paper, balanced-one-sided, logsnr, edm.
    #[arg(long, alias = "kind", default_value = "balanced")]
    grid: GridKind,
    /// EDM rho (with --grid edm).
    #[arg(long, default_value_t = flowcert::grids::DEFAULT_RHO)]
    rho: f64,
    /// Number of flow-map segments N.
    #[arg(long, default_value_t = 8)]
    segments: usize,
    /// Smallest time t_min (grid start, and default score times).
    #[arg(long, default_value_t = 0.01)]
    t_min: f64,
    /// Largest time T (grid end, and default score times).
    #[arg(long, default_value_t = 1.0)]
    t_max: f64,
}

#[derive(Serialize)]
struct Out<'a> {
    out: String,
    files: Vec<&'a str>,
    manifest: &'a flowcert::theorems::assess::QueryManifest,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let grid = a.grid.with_rho(a.rho);
    common::segments(a.segments)?;
    let times = match &a.times {
        Some(s) => common::list::<f64>("--times", s)?,
        None => {
            common::time("--t-min", a.t_min)?;
            common::time("--t-max", a.t_max)?;
            time_grid(a.t_min, a.t_max, 8)
        }
    };
    let cfg = QueryConfig {
        times,
        samples: a.samples,
        seed: a.seed,
        grid,
        segments: a.segments,
        t_min: a.t_min,
        t_max: a.t_max,
    }
    .check()?;
    let mix = common::mixture_on(&a.mixture, &a.process)?;
    let set = QuerySet::generate(&mix, &cfg)?;
    set.write(&a.out)?;
    let m = &set.manifest;
    let files = vec![
        "queries.json",
        m.score.file.csv.as_str(),
        m.score.file.npy.as_str(),
        m.flowmap.file.csv.as_str(),
        m.flowmap.file.npy.as_str(),
        m.flowmap.rollout.csv.as_str(),
        m.flowmap.rollout.npy.as_str(),
    ];
    let out = Out {
        out: a.out.display().to_string(),
        files,
        manifest: m,
    };
    common::emit(json, &out, || text(&a, m))?;
    Ok(Status::Ok)
}

/// The human-readable summary of what was written.
fn text(a: &Args, m: &flowcert::theorems::assess::QueryManifest) -> Result<String> {
    use std::fmt::Write;
    let mut w = String::new();
    writeln!(
        w,
        "wrote {} (mixture {}, seed {}, d = {})",
        a.out.display(),
        m.mixture_hash,
        m.seed,
        m.dim
    )?;
    let mut tab = Table::new(&["file", "rows", "columns", "answer with"]);
    tab.push(vec![
        m.score.file.npy.clone(),
        m.score.file.rows.to_string(),
        m.score.file.columns.join(","),
        "s_theta(x, t): M x d".into(),
    ]);
    tab.push(vec![
        m.flowmap.file.npy.clone(),
        m.flowmap.file.rows.to_string(),
        m.flowmap.file.columns.join(","),
        "Psi_i(x) (t_from -> t_to): M x d".into(),
    ]);
    tab.push(vec![
        m.flowmap.rollout.npy.clone(),
        m.flowmap.rollout.rows.to_string(),
        m.flowmap.rollout.columns.join(","),
        "Psi_1 o ... o Psi_N (x): M x d".into(),
    ]);
    w.push_str(&tab.to_text());
    writeln!(
        w,
        "score times: {}",
        m.score
            .times
            .iter()
            .map(|t| sig(*t, 4))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(
        w,
        "{} grid, {} segments: {}",
        m.flowmap.grid,
        m.flowmap.segments,
        m.flowmap
            .times
            .iter()
            .map(|t| sig(*t, 4))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(
        w,
        "then: flowcert assess score|flowmap --queries {} --answers FILE",
        a.out.display()
    )?;
    Ok(w)
}
