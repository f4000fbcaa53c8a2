//! `flowcert sample --mixture M --t T --n N --seed S [--out FILE]`: exact samples of p_t.

use anyhow::{Result, bail};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::{Status, common};
use flowcert::limits;
use flowcert::report::Table;

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Mixture JSON file (or builtin:NAME).
    #[arg(long)]
    mixture: String,
    #[command(flatten)]
    process: common::ProcessArgs,
    /// Time t >= 0 (t = 0 samples the data law; other paths than OU: in the closure of its range).
    #[arg(long, default_value_t = 0.0)]
    t: f64,
    /// Number of samples.
    #[arg(long, default_value_t = 10)]
    n: usize,
    /// Seed of the ChaCha8 generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the samples to this file atomically (CSV with a `component` column, or JSON
    /// points if it ends in .json) and print a one-line summary instead of the rows.
    #[arg(long)]
    out: Option<String>,
}

#[derive(Serialize)]
struct Out {
    t: f64,
    seed: u64,
    points: Vec<Vec<f64>>,
    labels: Vec<usize>,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let mix = common::mixture_on(&a.mixture, &a.process)?;
    if !(a.t.is_finite() && a.t >= 0.0) {
        bail!(
            "--t {} is not a valid OU time: give a finite number >= 0",
            a.t
        );
    }
    // Any time of the closed domain samples exactly (t = 0: the data law; where alpha = 0,
    // e.g. rectified t = 1: N(0, sigma^2 I)).
    let dom = mix.process().domain();
    if !mix.process().is_ou() && a.t != 0.0 && !dom.closure_contains(a.t) {
        bail!(
            "--t {} is not a time of the {} path: give 0 (the data law) or a time in the closure of {dom}",
            a.t,
            mix.process().label()
        );
    }
    if a.n == 0 {
        bail!("--n 0 asks for no samples: give --n 1 or more");
    }
    let d = mix.dim();
    common::count(
        "--n",
        a.n,
        1,
        limits::MAX_POINTS,
        "draw several smaller samples with different --seed values",
    )?;
    let values = limits::product("--n x d", &[a.n, d], "give a smaller --n")?;
    // The samples as a matrix, as rows and as text (~25 bytes per number), plus labels.
    limits::Estimate::new(
        &format!("sample --n {}", a.n),
        values as f64 * 50.0,
        values as f64 * 60.0 + a.n as f64 * 80.0,
    )
    .check("give a smaller --n, or draw several samples with different --seed values")?;
    if values > limits::MAX_VALUES {
        bail!(
            "--n {} in d = {d} is {values} numbers, above the limit of {}: give a smaller --n, or draw several samples with different --seed values",
            a.n,
            limits::MAX_VALUES
        );
    }
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let (xs, labels) = mix.sample_labelled(a.t, a.n, &mut rng);
    let points: Vec<Vec<f64>> = xs.as_slice().chunks(d).map(|c| c.to_vec()).collect();
    let out = Out {
        t: a.t,
        seed: a.seed,
        points,
        labels,
    };
    flowcert::io::check_finite(&out)?;
    if let Some(path) = &a.out {
        let bytes = if path.ends_with(".json") {
            serde_json::to_vec_pretty(&out.points)?
        } else {
            samples_csv(&out.points, &out.labels).into_bytes()
        };
        flowcert::io::write_atomic(std::path::Path::new(path), &bytes)?;
    }
    if let (false, Some(path)) = (json, &a.out) {
        // The file holds the samples; the terminal gets one line.
        let mut counts = vec![0usize; mix.n_components()];
        for &k in &out.labels {
            counts[k] += 1;
        }
        common::write_stdout(&format!(
            "wrote {} samples of p_t at t = {} (seed {}, d = {d}) to {path}; per component: {}\n",
            a.n,
            a.t,
            a.seed,
            counts
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        return Ok(Status::Ok);
    }
    common::emit_on(json, &out, mix.process(), || {
        let mut tab = Table::new(&["i", "component", "x"]);
        for (i, (p, k)) in out.points.iter().zip(&out.labels).enumerate() {
            tab.push(vec![i.to_string(), k.to_string(), common::vec_str(p)]);
        }
        Ok(format!(
            "{} samples of p_t at t = {} (seed {})\n{}",
            a.n,
            a.t,
            a.seed,
            tab.to_text()
        ))
    })?;
    Ok(Status::Ok)
}

/// The samples as CSV: `x0..x{d-1}` in shortest round-trip decimal (Rust's `Display` of
/// f64: `-2.2821635401222`, never `e` notation) and the mixture component each came from
/// (a points file: readers of `--points` skip the `component` column).
fn samples_csv(points: &[Vec<f64>], labels: &[usize]) -> String {
    let d = points.first().map_or(0, Vec::len);
    let mut headers: Vec<String> = (0..d).map(|i| format!("x{i}")).collect();
    headers.push("component".into());
    let mut tab = Table {
        headers,
        ..Table::default()
    };
    for (p, k) in points.iter().zip(labels) {
        let mut row: Vec<String> = p.iter().map(|v| v.to_string()).collect();
        row.push(k.to_string());
        tab.push(row);
    }
    tab.to_csv()
}
