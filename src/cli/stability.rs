//! `flowcert stability --mixture M --from T --to t_min [--grid KIND --segments N]`:
//! per-segment flow-map amplification `max ||DPhi||` measured from the variational equation
//! versus `exp(int mu)` and `exp(int L)` (theory/03-stability.md). Exit 1 on a violation.

use anyhow::{Result, bail};

use super::{Status, common};
use flowcert::dynamics::Teacher;
use flowcert::grids::{DEFAULT_RHO, GridError, GridKind, MAX_TIME, lambda_total};
use flowcert::limits;
use flowcert::report::sig;
use flowcert::theorems::stability::{self, PIECE_LAMBDA, StabilityConfig};

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
    common::segments(a.segments)?;
    common::count(
        "--samples",
        a.samples,
        0,
        limits::MAX_SAMPLES,
        "give fewer samples per segment",
    )?;
    common::count(
        "--separatrix-steps",
        a.separatrix_steps,
        0,
        limits::MAX_SEARCH_STEPS,
        "60 bisection steps already reach adjacent floating-point numbers",
    )?;
    let fix = "give fewer --samples or --segments, --separatrix-steps 0, or a mixture with fewer components";
    let estimate = |pieces: f64| {
        limits::estimate::stability(
            mix.n_components(),
            mix.dim(),
            a.segments,
            a.samples,
            a.separatrix_steps,
            pieces,
        )
    };
    // The least work (one piece per segment) is refused before Lambda is integrated, which
    // alone takes minutes for thousands of components.
    estimate(0.0).check(fix)?;
    let lambda = lambda_total(&mix, to, from)?;
    let pieces = lambda / PIECE_LAMBDA;
    if pieces.is_nan() || pieces > limits::MAX_STABILITY_PIECES as f64 {
        bail!(
            "the stability coordinate Lambda over [{to}, {from}] is {lambda:.3e} for this mixture ({}): the variational equation would be integrated in {pieces:.1e} pieces of int L <= {PIECE_LAMBDA} (the limit is {}), and exp(Lambda) is far beyond f64; raise --to, or give a mixture whose modes are closer together relative to their widths",
            common::scale_range(&mix),
            limits::MAX_STABILITY_PIECES
        );
    }
    if lambda > f64::MAX.ln() {
        bail!(
            "the stability coordinate Lambda over [{to}, {from}] is {lambda:.4} for this mixture, so the bound exp(Lambda) overflows f64 (the largest is e^{:.0}): raise --to (L(t) grows as t_min shrinks), or shorten the interval",
            f64::MAX.ln()
        );
    }
    common::estimate(&estimate(pieces), json, fix)?;
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
    flowcert::io::check_finite(&report)?;
    if let Some(path) = &a.svg {
        let svg = report.plot_svg(&a.mixture);
        flowcert::io::write_atomic(std::path::Path::new(path), svg.as_bytes())?;
    }
    common::emit_on(json, &report, mix.process(), || {
        let mut out = format!(
            "flow-map stability of {} on the {} grid, {} segments from T = {from} down to t_min = {to}\n",
            a.mixture,
            kind.name(),
            a.segments
        );
        if let Some(r) = report.region_radius {
            out.push_str(&format!(
                "(bounds on the ball |x| <= {}: a trajectory counts only if every solver state and the continuous path between accepted steps, bounded by |v| <= a|x| + b, stay in it; the others may leave B_R and are not compared)\n",
                sig(r, 4)
            ));
        }
        out.push_str(&report.table().to_text());
        out.push_str(&format!(
            "{} of {} flow maps exceed exp(int mu) (slack {} on ln ||DPhi||)\n",
            report.violations,
            report.segments.len() + 1,
            sig(report.log_slack, 2)
        ));
        Ok(out)
    })?;
    Ok(if report.violations > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}
