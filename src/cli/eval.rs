//! `flowcert eval --mixture M --t T --points P`: everything exact at points.

use anyhow::Result;
use serde::Serialize;

use super::{Status, common};
use flowcert::model::Marginal;
use flowcert::report::{Table, sig};

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Mixture JSON file (or builtin:NAME).
    #[arg(long)]
    mixture: String,
    #[command(flatten)]
    process: common::ProcessArgs,
    /// Time t (OU: > 0; other paths: in the range of --process).
    #[arg(long)]
    t: f64,
    /// Points file: JSON array of arrays, or CSV (one point per row).
    #[arg(long)]
    points: String,
}

#[derive(Serialize)]
struct PointOut {
    x: Vec<f64>,
    logp: f64,
    score: Vec<f64>,
    hessian: Vec<Vec<f64>>,
    velocity: Vec<f64>,
}

#[derive(Serialize)]
struct Out {
    t: f64,
    points: Vec<PointOut>,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let mix = common::mixture_on(&a.mixture, &a.process)?;
    let t = common::time_on(&mix, "--t", a.t)?;
    let xs = flowcert::io::load_points(&a.points, mix.dim())?;
    let mut p = Marginal::new(&mix, t)?;
    let d = mix.dim();
    let points: Vec<PointOut> = xs
        .as_slice()
        .chunks(d)
        .map(|x| {
            let e = p.eval(x);
            PointOut {
                x: x.to_vec(),
                logp: e.logp,
                score: e.score.iter().copied().collect(),
                hessian: (0..d)
                    .map(|r| e.hessian.row(r).iter().copied().collect())
                    .collect(),
                velocity: e.velocity.iter().copied().collect(),
            }
        })
        .collect();
    if json {
        common::print_json_on(&Out { t, points }, mix.process())?;
    } else {
        let mut tab = Table::new(&["x", "log p_t", "|score|", "score", "velocity", "||H||_F"]);
        for pt in &points {
            let norm = pt.score.iter().map(|v| v * v).sum::<f64>().sqrt();
            let hf = pt
                .hessian
                .iter()
                .flatten()
                .map(|v| v * v)
                .sum::<f64>()
                .sqrt();
            tab.push(vec![
                common::vec_str(&pt.x),
                sig(pt.logp, 6),
                sig(norm, 6),
                common::vec_str(&pt.score),
                common::vec_str(&pt.velocity),
                sig(hf, 6),
            ]);
        }
        println!(
            "p_t at t = {t} ({} points, d = {d}, K = {})",
            points.len(),
            mix.n_components()
        );
        print!("{}", tab.to_text());
    }
    Ok(Status::Ok)
}
