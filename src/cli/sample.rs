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
    /// Write the samples to this file (CSV, or JSON if it ends in .json) atomically.
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
            let mut tab = Table::new(
                &(0..d)
                    .map(|i| format!("x{i}"))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>(),
            );
            for p in &out.points {
                tab.push(p.iter().map(|v| format!("{v:e}")).collect());
            }
            tab.to_csv().into_bytes()
        };
        flowcert::io::write_atomic(std::path::Path::new(path), &bytes)?;
    }
    if json {
        common::print_json_on(&out, mix.process())?;
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
