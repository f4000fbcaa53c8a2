//! `flowcert flow --mixture M --from T0 --to T1 --points P [--jacobian] [--rtol R] [--atol A]`.
//!
//! The trajectories run in parallel over blocks of points, several per thread at once
//! (`ExactFlow::map_slice_par`); results land in flat buffers in input order, so the
//! output does not depend on the number of threads, and the JSON document is streamed
//! to stdout from those buffers rather than built in memory.

use anyhow::Result;
use nalgebra::DMatrix;
use rayon::prelude::*;
use serde::ser::{Serialize, SerializeSeq, SerializeStruct, Serializer};

use super::{Status, common};
use flowcert::dynamics::flow::spectral_norm;
use flowcert::dynamics::solver::SolverStats;
use flowcert::dynamics::{Clock, ExactFlow, Teacher};
use flowcert::limits::{Estimate, flow_flops};
use flowcert::report::{Table, sig};

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Mixture JSON file (or builtin:NAME).
    #[arg(long)]
    mixture: String,
    #[command(flatten)]
    process: common::ProcessArgs,
    /// Start time (OU: > 0; other paths: in the range of --process).
    #[arg(long)]
    from: f64,
    /// End time (in the same range; smaller than --from for sampling).
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
    /// Independent variable of the solver: t (the path's time) or log-snr
    /// (ln(alpha^2/sigma^2): the same flow map in fewer steps on OU, other rounding).
    #[arg(long, value_enum, default_value_t = ClockArg::T)]
    clock: ClockArg,
}

/// `--clock`: the variable the PF-ODE is integrated in (`dynamics::Clock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ClockArg {
    /// The path's time.
    T,
    /// The log-SNR ln(alpha_t^2 / sigma_t^2).
    LogSnr,
}

/// The flow of every point, in input order: `d` numbers per point in `xs` and `ys`,
/// `d^2` (column-major `DPhi`) in `jac`.
struct Flowed {
    d: usize,
    from: f64,
    to: f64,
    xs: DMatrix<f64>,
    ys: Vec<f64>,
    jac: Option<(Vec<f64>, Vec<f64>)>,
    stats: SolverStats,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let mix = common::mixture_on(&a.mixture, &a.process)?;
    let from = common::time_on(&mix, "--from", a.from)?;
    let to = common::time_on(&mix, "--to", a.to)?;
    let teacher = Teacher::new(a.method.into(), a.rtol, a.atol)?;
    let xs = flowcert::io::load_points(&a.points, mix.dim())?;
    let d = mix.dim();
    let n = xs.ncols();
    let per_point = if a.jacobian { d * d + 2 * d } else { 2 * d } as f64;
    Estimate::new(
        "this flow",
        n as f64 * flow_flops(mix.n_components(), d, a.jacobian),
        n as f64 * per_point * 40.0,
    )
    .check("give fewer points (split the points file) or a smaller mixture")?;
    let mut ys = vec![0.0; d * n];
    let mut jac = a.jacobian.then(|| vec![0.0; d * d * n]);
    let pb = common::progress(n as u64, json, "flow");
    let clock = match a.clock {
        ClockArg::T => Clock::Time,
        ClockArg::LogSnr => Clock::LogSnr,
    };
    let stats = ExactFlow::new(&mix, teacher)
        .with_clock(clock)
        .map_slice_par(xs.as_slice(), from, to, &mut ys, jac.as_deref_mut(), &|k| {
            pb.inc(k as u64)
        })?;
    pb.finish_and_clear();
    let jac = jac.map(|m| {
        let norms = m
            .par_chunks(d * d)
            .map(|c| spectral_norm(&DMatrix::from_column_slice(d, d, c)))
            .collect();
        (m, norms)
    });
    let out = Flowed {
        d,
        from,
        to,
        xs,
        ys,
        jac,
        stats,
    };
    common::emit_on(json, &out, mix.process(), || Ok(table(&out)))?;
    Ok(Status::Ok)
}

fn table(out: &Flowed) -> String {
    let d = out.d;
    let mut headers = vec!["x", "Phi(x)"];
    if out.jac.is_some() {
        headers.push("||DPhi||_2");
    }
    let mut tab = Table::new(&headers);
    for (j, (x, y)) in out
        .xs
        .as_slice()
        .chunks(d)
        .zip(out.ys.chunks(d))
        .enumerate()
    {
        let mut row = vec![common::vec_str(x), common::vec_str(y)];
        if let Some((_, norms)) = &out.jac {
            row.push(sig(norms[j], 6));
        }
        tab.push(row);
    }
    let (from, to, stats) = (out.from, out.to, out.stats);
    format!(
        "flow map Phi_{{{from} -> {to}}} ({} points)\n{}solver: {} RHS evaluations, {} accepted steps, {} rejected\n",
        out.xs.ncols(),
        tab.to_text(),
        stats.rhs_evals,
        stats.steps,
        stats.rejected
    )
}

/// The contract's document, `{"from", "to", "points": [{"x", "y", "jacobian"?,
/// "jacobian_norm"?}], "stats"}`, serialized straight from the buffers.
impl Serialize for Flowed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut doc = s.serialize_struct("Flowed", 4)?;
        doc.serialize_field("from", &self.from)?;
        doc.serialize_field("to", &self.to)?;
        doc.serialize_field("points", &Points(self))?;
        doc.serialize_field("stats", &self.stats)?;
        doc.end()
    }
}

struct Points<'a>(&'a Flowed);

impl Serialize for Points<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0;
        let d = f.d;
        let mut seq = s.serialize_seq(Some(f.xs.ncols()))?;
        for (j, (x, y)) in f.xs.as_slice().chunks(d).zip(f.ys.chunks(d)).enumerate() {
            let jac = f.jac.as_ref().map(|(m, norms)| {
                (
                    ColumnMajor {
                        d,
                        m: &m[j * d * d..(j + 1) * d * d],
                    },
                    norms[j],
                )
            });
            seq.serialize_element(&Point { x, y, jac })?;
        }
        seq.end()
    }
}

struct Point<'a> {
    x: &'a [f64],
    y: &'a [f64],
    jac: Option<(ColumnMajor<'a>, f64)>,
}

impl Serialize for Point<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut p = s.serialize_struct("Point", if self.jac.is_some() { 4 } else { 2 })?;
        p.serialize_field("x", self.x)?;
        p.serialize_field("y", self.y)?;
        if let Some((m, norm)) = &self.jac {
            p.serialize_field("jacobian", m)?;
            p.serialize_field("jacobian_norm", norm)?;
        }
        p.end()
    }
}

/// A d x d column-major matrix, serialized as a list of rows.
struct ColumnMajor<'a> {
    d: usize,
    m: &'a [f64],
}

impl Serialize for ColumnMajor<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.d;
        s.collect_seq((0..d).map(|r| Row { d, r, m: self.m }))
    }
}

struct Row<'a> {
    d: usize,
    r: usize,
    m: &'a [f64],
}

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((0..self.d).map(|c| self.m[c * self.d + self.r]))
    }
}
