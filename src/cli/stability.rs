//! `flowcert stability --mixture M --from T --to t_min [--grid KIND --segments N]`:
//! per-segment flow-map amplification `max ||DPhi||` measured from the variational equation
//! versus `exp(int mu)` and `exp(int L)` (theory/03-stability.md). Exit 1 on a violation.

use anyhow::{Result, bail};

use super::{Status, common};
use flowcert::dynamics::Teacher;
use flowcert::grids::{DEFAULT_RHO, GridError, GridKind, MAX_TIME};
use flowcert::report::sig;
use flowcert::theorems::stability::{self, StabilityConfig};

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Mixture JSON file (or builtin:NAME).
    #[arg(long)]
    mixture: String,
    #[command(flatten)]
    process: common::ProcessArgs,
    /// Start time T of the backward flow (the largest grid time; `--t-max` is accepted
    /// too, as in `grid`).
    #[arg(long, alias = "t-max")]
    from: f64,
    /// End time t_min > 0 (the smallest grid time, below --from; `--t-min` is accepted too).
    #[arg(long, alias = "t-min")]
    to: f64,
    /// Grid kind: uniform | balanced | balanced-paper | balanced-one-sided | logsnr | edm
    /// (`--kind` is accepted too, as in `grid`).
    #[arg(long, alias = "kind", default_value = "balanced")]
    grid: GridKind,
    /// Number of segments N >= 1.
    #[arg(long, default_value_t = 4)]
    segments: usize,
    /// EDM/Karras exponent (used by --grid edm).
    #[arg(long, default_value_t = DEFAULT_RHO)]
    rho: f64,
    /// Exact samples of p_{t_i} per segment (mode means and boundary points come on top).
    #[arg(long, default_value_t = 64)]
    samples: usize,
    /// Bisection steps of the search for separatrix points (trajectories that follow the
    /// boundary between modes); 0 switches it off.
    #[arg(long, default_value_t = 60)]
    separatrix_steps: usize,
    /// Local maximisations of ln ||DPhi|| (Nelder-Mead) per flow map; 0 switches them off.
    #[arg(long, default_value_t = 4)]
    ascent_starts: usize,
    /// Variational solves per local maximisation.
    #[arg(long, default_value_t = 80)]
    ascent_evals: usize,
    /// Seed of the ChaCha8 generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Relative tolerance of the adaptive solver.
    #[arg(long, default_value_t = flowcert::tolerance::ODE_RTOL)]
    rtol: f64,
    /// Absolute tolerance of the adaptive solver.
    #[arg(long, default_value_t = flowcert::tolerance::ODE_ATOL)]
    atol: f64,
    /// Integration method: dopri5 (Dormand-Prince 5(4)) or dop853 (8(5,3)).
    #[arg(long, value_enum, default_value_t = common::MethodArg::Dopri5)]
    method: common::MethodArg,
    /// Also write an SVG plot of the per-segment log-amplifications to this file.
    #[arg(long)]
    svg: Option<String>,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let mix = common::mixture_on(&a.mixture, &a.process)?;
    let from = common::time_on(&mix, "--from", a.from)?;
    let to = common::time_on(&mix, "--to", a.to)?;
    if to >= from {
        bail!(
            "--to {to} must be smaller than --from {from}: the flow runs backwards from T = --from down to t_min = --to; swap them"
        );
    }
    if from > MAX_TIME {
        bail!(
            "--from {from} must be at most {MAX_TIME} (beyond it p_t is N(0, I) to double precision): e.g. --from 3"
        );
    }
    if !(a.rho.is_finite() && a.rho > 0.0) {
        bail!(GridError::BadRho { value: a.rho });
    }
    let kind = a.grid.with_rho(a.rho);
    let teacher = Teacher::new(a.method.into(), a.rtol, a.atol)?;
    let cfg = StabilityConfig {
        samples: a.samples,
        seed: a.seed,
        teacher,
        domain: None,
        separatrix_steps: a.separatrix_steps,
        ascent_starts: a.ascent_starts,
        ascent_evals: a.ascent_evals,
    };
    let report = stability::measure_grid(&mix, &kind, to, from, a.segments, &cfg)?;
    if let Some(path) = &a.svg {
        let svg = report.plot_svg(&a.mixture);
        flowcert::io::write_atomic(std::path::Path::new(path), svg.as_bytes())?;
    }
    if json {
        common::print_json_on(&report, mix.process())?;
    } else {
        println!(
            "flow-map stability of {} on the {} grid, {} segments from T = {from} down to t_min = {to}",
            a.mixture,
            kind.name(),
            a.segments
        );
        if let Some(r) = report.region_radius {
            println!(
                "(bounds on the ball |x| <= {}: a trajectory counts only if every solver state and the continuous path between accepted steps, bounded by |v| <= a|x| + b, stay in it; the others may leave B_R and are not compared)",
                sig(r, 4)
            );
        }
        print!("{}", report.table().to_text());
        println!(
            "{} of {} flow maps exceed exp(int mu) (slack {} on ln ||DPhi||)",
            report.violations,
            report.segments.len() + 1,
            sig(report.log_slack, 2)
        );
    }
    Ok(if report.violations > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}
