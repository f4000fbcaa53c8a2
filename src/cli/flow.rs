//! `flowcert flow --mixture M --from T0 --to T1 --points P [--jacobian] [--rtol R] [--atol A]`.

use anyhow::{Context, Result};
use serde::Serialize;

use super::{Status, common};
use flowcert::dynamics::solver::SolverStats;
use flowcert::dynamics::{FlowPoint, Teacher, flow_point};
use flowcert::limits::{Estimate, flow_flops};
use flowcert::model::Marginal;
use flowcert::report::{Table, sig};

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Mixture JSON file (or builtin:NAME).
    #[arg(long)]
    mixture: String,
    /// Start time (OU time > 0).
    #[arg(long)]
    from: f64,
    /// End time (OU time > 0; smaller than --from for sampling).
    #[arg(long)]
    to: f64,
    /// Points file: JSON array of arrays, or CSV.
    #[arg(long)]
    points: String,
    /// Also integrate the variational equation and report DPhi and ||DPhi||_2.
    #[arg(long)]
    jacobian: bool,
    /// Relative tolerance of the adaptive solver.
    #[arg(long, default_value_t = flowcert::tolerance::ODE_RTOL)]
    rtol: f64,
    /// Absolute tolerance of the adaptive solver.
    #[arg(long, default_value_t = flowcert::tolerance::ODE_ATOL)]
    atol: f64,
    /// Integration method: dopri5 (Dormand-Prince 5(4)) or dop853 (8(5,3)).
    #[arg(long, value_enum, default_value_t = common::MethodArg::Dopri5)]
    method: common::MethodArg,
}

#[derive(Serialize)]
struct PointOut {
    x: Vec<f64>,
    y: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jacobian: Option<Vec<Vec<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jacobian_norm: Option<f64>,
}

#[derive(Serialize)]
struct Out {
    from: f64,
    to: f64,
    points: Vec<PointOut>,
    stats: SolverStats,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let mix = common::mixture(&a.mixture)?;
    let from = common::time("--from", a.from)?;
    let to = common::time("--to", a.to)?;
    let teacher = Teacher::new(a.method.into(), a.rtol, a.atol)?;
    let opts = teacher.options();
    let xs = flowcert::io::load_points(&a.points, mix.dim())?;
    let d = mix.dim();
    let n = xs.ncols() as f64;
    let per_point = if a.jacobian { d * d + 2 * d } else { 2 * d } as f64;
    Estimate::new(
        "this flow",
        n * flow_flops(mix.n_components(), d, a.jacobian),
        n * per_point * 40.0,
    )
    .check("give fewer points (split the points file) or a smaller mixture")?;
    let mut field = Marginal::new(&mix, from)?;
    let mut stats = SolverStats::default();
    let pb = common::progress(xs.ncols() as u64, json, "flow");
    let mut points = Vec::with_capacity(xs.ncols());
    for (j, x) in xs.as_slice().chunks(d).enumerate() {
        let p: FlowPoint = flow_point(&mut field, x, from, to, a.jacobian, opts)
            .with_context(|| format!("point {j} x = {}", common::vec_str(x)))?;
        stats += p.stats;
        let jacobian_norm = p.jacobian_norm();
        points.push(PointOut {
            x: x.to_vec(),
            y: p.y.iter().copied().collect(),
            jacobian: p
                .jacobian
                .as_ref()
                .map(|j| (0..d).map(|r| j.row(r).iter().copied().collect()).collect()),
            jacobian_norm,
        });
        pb.inc(1);
    }
    pb.finish_and_clear();
    let out = Out {
        from,
        to,
        points,
        stats,
    };
    common::emit(json, &out, || {
        let (points, stats) = (&out.points, &out.stats);
        let mut headers = vec!["x", "Phi(x)"];
        if a.jacobian {
            headers.push("||DPhi||_2");
        }
        let mut tab = Table::new(&headers);
        for p in points {
            let mut row = vec![common::vec_str(&p.x), common::vec_str(&p.y)];
            if let Some(n) = p.jacobian_norm {
                row.push(sig(n, 6));
            }
            tab.push(row);
        }
        Ok(format!(
            "flow map Phi_{{{from} -> {to}}} ({} points)\n{}solver: {} RHS evaluations, {} accepted steps, {} rejected\n",
            points.len(),
            tab.to_text(),
            stats.rhs_evals,
            stats.steps,
            stats.rejected
        ))
    })?;
    Ok(Status::Ok)
}
