//! `flowcert grid --mixture M --segments N --kind KIND --t-min A --t-max B [--rho R]`:
//! the N + 1 times of a grid and the two-sided stability coordinate Lambda at each.

use anyhow::{Result, bail};
use serde::Serialize;

use super::{Status, common};
use flowcert::grids::{DEFAULT_RHO, GridError, GridKind, lambda_at};
use flowcert::report::{Table, sig};

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Mixture JSON file (or builtin:NAME).
    #[arg(long)]
    mixture: String,
    #[command(flatten)]
    process: common::ProcessArgs,
    /// Number of segments N >= 1.
    #[arg(long)]
    segments: usize,
    /// uniform | balanced | balanced-paper | balanced-one-sided | logsnr | edm
    /// (`--grid` is accepted too, as in `stability` and `queries`).
    #[arg(long, alias = "grid")]
    kind: GridKind,
    /// Smallest time t_0 > 0 (`--to` is accepted too, as in `stability`).
    #[arg(long, alias = "to")]
    t_min: f64,
    /// Largest time t_N (`--from` is accepted too, as in `stability`).
    #[arg(long, alias = "from")]
    t_max: f64,
    /// EDM/Karras exponent (used by --kind edm, ignored by the other kinds).
    #[arg(long, default_value_t = DEFAULT_RHO)]
    rho: f64,
}

#[derive(Serialize)]
struct Out {
    kind: String,
    times: Vec<f64>,
    lambda: Vec<f64>,
    segments: usize,
    rho: Option<f64>,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let mix = common::mixture_on(&a.mixture, &a.process)?;
    if !(a.rho.is_finite() && a.rho > 0.0) {
        bail!(GridError::BadRho { value: a.rho });
    }
    let kind = a.kind.with_rho(a.rho);
    common::segments(a.segments)?;
    let times = kind.times(&mix, a.t_min, a.t_max, a.segments)?;
    let lambda = lambda_at(&mix, &times)?;
    let out = Out {
        kind: kind.name().to_string(),
        segments: a.segments,
        rho: matches!(kind, GridKind::Edm { .. }).then_some(a.rho),
        times,
        lambda,
    };
    common::emit_on(json, &out, mix.process(), || {
        let mut tab = Table::new(&["i", "t_i", "Lambda(t_i)", "increment"]);
        for (i, (t, l)) in out.times.iter().zip(&out.lambda).enumerate() {
            let inc = if i == 0 {
                "-".into()
            } else {
                sig(l - out.lambda[i - 1], 6)
            };
            tab.push(vec![i.to_string(), sig(*t, 8), sig(*l, 6), inc]);
        }
        Ok(format!(
            "{} grid, {} segments on [{}, {}] (Lambda: two-sided L)\n{}",
            out.kind,
            out.segments,
            a.t_min,
            a.t_max,
            tab.to_text()
        ))
    })?;
    Ok(Status::Ok)
}
