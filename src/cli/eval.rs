//! `flowcert eval --mixture M --t T --points P`: everything exact at points.

use anyhow::Result;
use serde::Serialize;

use super::{Status, common};
use flowcert::limits::{Estimate, jacobian_flops};
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
    let d = mix.dim();
    let n = xs.ncols() as f64;
    // Output: per point d^2 + 3d + 1 numbers, held as f64 and as text (~25 bytes each).
    Estimate::new(
        "eval at these points",
        n * jacobian_flops(mix.n_components(), d),
        n * (d * d + 3 * d + 1) as f64 * 40.0,
    )
    .check("give fewer points (split the points file) or a smaller mixture")?;
    let mut p = Marginal::new(&mix, t)?;
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
    let out = Out { t, points };
    common::emit_on(json, &out, mix.process(), || {
        let points = &out.points;
        let mut tab = Table::new(&["x", "log p_t", "|score|", "score", "velocity", "||H||_F"]);
        for pt in points {
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
        Ok(format!(
            "p_t at t = {t} ({} points, d = {d}, K = {})\n{}",
            points.len(),
            mix.n_components(),
            tab.to_text()
        ))
    })?;
    Ok(Status::Ok)
}
