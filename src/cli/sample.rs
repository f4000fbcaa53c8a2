//! `flowcert sample --mixture M --t T --n N --seed S [--out FILE]`: exact samples of p_t.

use anyhow::{Result, bail};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::{Status, common};
use flowcert::report::Table;

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Mixture JSON file (or builtin:NAME).
    #[arg(long)]
    mixture: String,
    /// OU time t >= 0 (t = 0 samples the data law).
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
    let mix = common::mixture(&a.mixture)?;
    if !(a.t.is_finite() && a.t >= 0.0) {
        bail!(
            "--t {} is not a valid OU time: give a finite number >= 0",
            a.t
        );
    }
    if a.n == 0 {
        bail!("--n 0 asks for no samples: give --n 1 or more");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let (xs, labels) = mix.sample_labelled(a.t, a.n, &mut rng);
    let d = mix.dim();
    let points: Vec<Vec<f64>> = xs.as_slice().chunks(d).map(|c| c.to_vec()).collect();
    let out = Out {
        t: a.t,
        seed: a.seed,
        points,
        labels,
    };
    if let Some(path) = &a.out {
        let bytes = if path.ends_with(".json") {
            serde_json::to_vec_pretty(&out.points)?
        } else {
            samples_csv(&out.points, &out.labels).into_bytes()
        };
        flowcert::io::write_atomic(std::path::Path::new(path), &bytes)?;
    }
    if json {
        common::print_json(&out)?;
    } else if let Some(path) = &a.out {
        // The file holds the samples; the terminal gets one line.
        let mut counts = vec![0usize; mix.n_components()];
        for &k in &out.labels {
            counts[k] += 1;
        }
        println!(
            "wrote {} samples of p_t at t = {} (seed {}, d = {d}) to {path}; per component: {}",
            a.n,
            a.t,
            a.seed,
            counts
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else {
        let mut tab = Table::new(&["i", "component", "x"]);
        for (i, (p, k)) in out.points.iter().zip(&out.labels).enumerate() {
            tab.push(vec![i.to_string(), k.to_string(), common::vec_str(p)]);
        }
        println!("{} samples of p_t at t = {} (seed {})", a.n, a.t, a.seed);
        print!("{}", tab.to_text());
    }
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
