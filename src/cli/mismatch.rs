//! `flowcert mismatch --mixture M --budgets 2,4,8 --segments 1,2,4,8`: lower bounds on the
//! error of Lipschitz-budgeted students, trained students against them, predicted depth.

use anyhow::{Result, bail};

use super::{Status, common};
use flowcert::grids::{GridKind, lambda_total};
use flowcert::limits::{self, estimate::StudentSize};
use flowcert::report::mismatch::with_interval;
use flowcert::report::{Table, sig};
use flowcert::theorems::mismatch::{MismatchConfig, SegmentGrid, measure_mismatch};

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Mixture JSON file (or builtin:NAME).
    #[arg(long)]
    mixture: String,
    #[command(flatten)]
    process: common::ProcessArgs,
    /// Lipschitz budgets M (> 1), comma-separated.
    #[arg(long, default_value = "2,4,8,16")]
    budgets: String,
    /// Segment counts N, comma-separated (each step certified <= M).
    #[arg(long, default_value = "1,2,4,8")]
    segments: String,
    /// Smallest time t_min > 0 (default: the checker's 0.05).
    #[arg(long)]
    t_min: Option<f64>,
    /// Largest time T (default: the checker's 2).
    #[arg(long)]
    t_max: Option<f64>,
    /// Grid of the N-step students: balanced (on this mixture's Lambda), uniform, or any
    /// other kind of `flowcert grid` (balanced-paper, balanced-one-sided, logsnr, edm).
    #[arg(long, default_value = "balanced")]
    grid: GridKind,
    /// EDM/Karras exponent (used by --grid edm).
    #[arg(long, default_value_t = flowcert::grids::DEFAULT_RHO)]
    rho: f64,
    /// Seed of every draw.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The faster configuration (smaller searches and students).
    #[arg(long)]
    quick: bool,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let mix = common::mixture_on(&a.mixture, &a.process)?;
    let budgets: Vec<f64> = common::list("--budgets", &a.budgets)?;
    let segments: Vec<usize> = common::list("--segments", &a.segments)?;
    if let Some(m) = budgets.iter().find(|m| !(m.is_finite() && **m > 1.0)) {
        bail!(
            "--budgets: {m} is not a Lipschitz budget; give finite numbers > 1, e.g. --budgets 2,4,8"
        );
    }
    if segments.contains(&0) {
        bail!("--segments: 0 segments is not a student; give counts >= 1, e.g. --segments 1,2,4");
    }
    common::distinct("--budgets", &budgets)?;
    common::distinct("--segments", &segments)?;
    for &n in &segments {
        common::segments(n)?;
        for &m in &budgets {
            // The N-step student's Lipschitz budget M^N must be a finite f64.
            if n as f64 * m.ln() > f64::MAX.ln() {
                bail!(
                    "--budgets {m} with --segments {n}: the composed budget M^N = e^{:.0} overflows f64 (the largest is e^{:.0}); give fewer segments or smaller budgets",
                    n as f64 * m.ln(),
                    f64::MAX.ln()
                );
            }
        }
    }
    let mut cfg = if a.quick {
        MismatchConfig::quick()
    } else {
        MismatchConfig::default()
    };
    cfg.seed = a.seed;
    if let Some(t) = a.t_min {
        cfg.t_min = t;
    }
    if let Some(t) = a.t_max {
        cfg.t_max = t;
    }
    flowcert::grids::Span::new(cfg.t_min, cfg.t_max, 1)?;
    cfg.grid = SegmentGrid::Kind(a.grid.with_rho(a.rho));
    let valid = cfg.check()?;
    let student = StudentSize {
        width: cfg.student.width,
        depth: cfg.student.depth,
        steps: cfg.student.steps,
        batch: cfg.student.batch,
        samples: cfg.student.samples,
    };
    common::estimate(
        &limits::estimate::mismatch(
            mix.n_components(),
            mix.dim(),
            budgets.len(),
            &segments,
            &student,
            cfg.search.search_samples,
            cfg.eval_samples,
        ),
        json,
        "give fewer --budgets or --segments, add --quick, or use a smaller mixture",
    )?;
    // After the estimate: Lambda alone takes minutes for thousands of components.
    let lambda_t = lambda_total(&mix, cfg.t_min, cfg.t_max)?;
    let report = measure_mismatch(&mix, lambda_t, &budgets, &segments, &valid)?;
    common::emit_on(json, &report, mix.process(), || {
        let mut out = format!(
            "Lambda(T) = {} on [{}, {}]; symmetry: {}\n",
            sig(report.lambda_t, 4),
            report.t_min,
            report.t_max,
            if report.symmetry.is_some() {
                "reflection (L^2 bound available)"
            } else {
                "none (no L^p bound)"
            }
        );
        let mut t = Table::new(&[
            "M",
            "N",
            "lower bound sup (rigorous)",
            "lower bound L2 estimate [95% CI]",
            "certified Lip",
            "error sup",
            "error L2 estimate [95% CI]",
            "predicted N",
            "violation",
        ]);
        for r in &report.rows {
            t.push(vec![
                sig(r.budget, 3),
                r.segments.to_string(),
                sig(r.lower_bound_sup, 3),
                r.lower_bound_lp
                    .zip(r.lower_bound_lp_ci())
                    .map_or_else(|| "-".into(), |(v, ci)| with_interval(v, ci)),
                sig(r.certified_lipschitz, 3),
                sig(r.error_sup, 3),
                with_interval(r.error_l2, r.error_l2_ci()),
                sig(r.predicted_segments, 3),
                if r.violation {
                    "YES".into()
                } else {
                    "no".into()
                },
            ]);
        }
        out.push_str(&t.to_text());
        out.push_str(&format!(
            "L2 columns are sample quantities over {} draws of p_T (and their reflections): the \
             inequality between them holds draw by draw, so it is checked exactly; as values \
             for p_T they are estimates with 95% intervals. The sup bound is rigorous.\n",
            valid.eval_samples
        ));
        Ok(out)
    })?;
    Ok(if report.violations > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}
