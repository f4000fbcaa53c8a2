//! `flowcert lipschitz --mixture M --times t1,t2,... [--quick] [--seed S] [--svg FILE]`:
//! the bounds L(t), paper L(t), mu(t) against empirical suprema (theory/02-lipschitz.md).
//! Exit 1 when a bound lies below its empirical supremum.

use anyhow::{Result, bail};

use super::{Status, common};
use flowcert::bounds::SearchConfig;
use flowcert::limits::estimate::{self, SearchSize};
use flowcert::theorems::lipschitz;

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Mixture JSON file (or builtin:NAME).
    #[arg(long)]
    mixture: String,
    #[command(flatten)]
    process: common::ProcessArgs,
    /// Comma-separated times (OU: > 0; other paths: in the range of --process), e.g. 0.01,0.1,1.
    #[arg(long, allow_hyphen_values = true)]
    times: String,
    /// Cheaper search (fewer samples and ascent steps).
    #[arg(long)]
    quick: bool,
    /// Seed of the search.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write an SVG plot of the bounds and empirical suprema to this file.
    #[arg(long)]
    svg: Option<String>,
}

/// Parse a comma-separated list of OU times (finite, > 0); `flag` names the option.
pub fn parse_times(flag: &str, text: &str) -> Result<Vec<f64>> {
    let fix = "give comma-separated OU times > 0, e.g. 0.01,0.1,1";
    if text.trim().is_empty() {
        bail!("{flag} is empty: {fix}");
    }
    let mut out = Vec::new();
    for (i, item) in text.split(',').enumerate() {
        if i >= flowcert::limits::MAX_LIST {
            bail!(
                "{flag} has more than {} times: give fewer",
                flowcert::limits::MAX_LIST
            );
        }
        let item = item.trim();
        let Ok(t) = item.parse::<f64>() else {
            bail!("{flag} entry {} '{item}' is not a number: {fix}", i + 1);
        };
        if !(t.is_finite() && t > 0.0) {
            bail!(
                "{flag} entry {} is {t}: every time must be finite and > 0 (t = 0 is the data law); {fix}",
                i + 1
            );
        }
        out.push(common::time(&format!("{flag} entry {}", i + 1), t)?);
    }
    Ok(out)
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let mix = common::mixture_on(&a.mixture, &a.process)?;
    let times = parse_times("--times", &a.times)?;
    let base = if a.quick {
        SearchConfig::quick()
    } else {
        SearchConfig::default()
    };
    let cfg = SearchConfig {
        seed: a.seed,
        ..base
    };
    let size = SearchSize {
        samples: cfg.samples,
        segment_points: cfg.segment_points,
        ladder: cfg.ladder,
        starts: cfg.starts,
        ascent_evals: cfg.ascent_evals,
    };
    common::estimate(
        &estimate::lipschitz(mix.n_components(), mix.dim(), times.len(), &size),
        json,
        "give fewer --times, add --quick, or use a mixture with fewer components or a smaller dimension",
    )?;
    let report = lipschitz::compare_bounds(&mix, &times, &cfg)?;
    flowcert::io::check_finite(&report)?;
    if let Some(path) = &a.svg {
        let svg = report.bounds_plot_svg(&a.mixture);
        flowcert::io::write_atomic(std::path::Path::new(path), svg.as_bytes())?;
    }
    common::emit_on(json, &report, mix.process(), || {
        Ok(format!(
            "Lipschitz bounds of the PF-ODE velocity vs empirical suprema ({}; {})\n{}{} of {} times violate a bound\n",
            a.mixture,
            match report.rows.first().and_then(|r| r.region_radius) {
                Some(r) => format!("bounds on the ball |x| <= {}", flowcert::report::sig(r, 4)),
                None => "bounds on all of R^d".into(),
            },
            report.table().to_text(),
            report.violations,
            report.rows.len()
        ))
    })?;
    Ok(if report.violations > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}
