//! `flowcert grid --mixture M --segments N --kind KIND --t-min A --t-max B [--rho R]`:
//! the N + 1 times of a grid and the two-sided stability coordinate Lambda at each.
//! `--kind fitted` trains a pilot of segment students first (theory/04, "Oracle and fitted
//! grids"; [`flowcert::experiments::oracle::Pilot`]).

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
    /// uniform | balanced | balanced-paper | balanced-one-sided | logsnr | edm | fitted
    /// (`--grid` is accepted too, as in `stability` and `queries`). `fitted` trains a pilot
    /// first: 9 segment students (6 log-spaced times, spans up to 2) at the default student
    /// budget, seeded by --seed (deterministic), fits the local-error law eps(Delta Lambda,
    /// Delta logSNR) and minimises sum eps A over 48 log-spaced candidates; a few CPU-seconds.
    #[arg(long, alias = "grid")]
    kind: String,
    /// Seed of the `fitted` kind's pilot students (ignored by the other kinds).
    #[arg(long, default_value_t = 0)]
    seed: u64,
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
    /// The fitted kind's law (every fit, the one used).
    #[serde(skip_serializing_if = "Option::is_none")]
    law: Option<FittedLaw>,
}

#[derive(Serialize)]
struct FittedLaw {
    seed: u64,
    fits: Vec<flowcert::grids::fitted::LawFit>,
    used: usize,
}

/// Candidate times of the fitted kind's DP.
const FITTED_CANDIDATES: usize = 48;

/// The fitted grid: its pilot at the default student budget and `--seed`, then the DP.
fn fitted(mix: &flowcert::model::Mixture, a: &Args) -> Result<(Vec<f64>, FittedLaw)> {
    use flowcert::dynamics::Teacher;
    use flowcert::experiments::oracle::{OracleConfig, Pilot};
    use flowcert::experiments::segments::SeedWork;
    flowcert::grids::Span::new(a.t_min, a.t_max, a.segments)?;
    if a.segments >= FITTED_CANDIDATES {
        bail!(
            "--segments {}: the fitted kind chooses among {FITTED_CANDIDATES} candidate times: use at most {}",
            a.segments,
            FITTED_CANDIDATES - 1
        );
    }
    if !mix.process().is_ou() {
        bail!("--kind fitted: the pilot runs on the OU path only; drop --process");
    }
    let budget = flowcert::nn::StudentBudget::default().check()?;
    let cfg = OracleConfig {
        log_points: 2,
        span: 1,
        peers: Vec::new(),
        segments: vec![a.segments],
        selection_seeds: vec![a.seed],
        probe_samples: 256,
        pilot_points: 6,
        pilot_span: 2,
        fine_points: FITTED_CANDIDATES,
    };
    let work = SeedWork::new(
        Teacher::EXPERIMENT.flow(mix),
        a.seed,
        budget,
        1,
        (a.t_min, a.t_max),
    );
    let pilot = Pilot::fit(mix, &[work], (a.t_min, a.t_max), &cfg)?;
    let times = pilot.grid(a.segments)?;
    Ok((
        times,
        FittedLaw {
            seed: a.seed,
            fits: pilot.fits,
            used: pilot.fit_used,
        },
    ))
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let mix = common::mixture_on(&a.mixture, &a.process)?;
    if !(a.rho.is_finite() && a.rho > 0.0) {
        bail!(GridError::BadRho { value: a.rho });
    }
    common::segments(a.segments)?;
    let (name, times, rho, law) = if a.kind == "fitted" {
        let (times, law) = fitted(&mix, &a)?;
        ("fitted".to_string(), times, None, Some(law))
    } else {
        let kind = a
            .kind
            .parse::<GridKind>()
            .map_err(|_| {
                anyhow::anyhow!(
                    "--kind: unknown grid kind '{}': valid kinds are {}, fitted",
                    a.kind,
                    GridKind::NAMES.join(", ")
                )
            })?
            .with_rho(a.rho);
        let times = kind.times(&mix, a.t_min, a.t_max, a.segments)?;
        let rho = matches!(kind, GridKind::Edm { .. }).then_some(a.rho);
        (kind.name().to_string(), times, rho, None)
    };
    let lambda = lambda_at(&mix, &times)?;
    let out = Out {
        kind: name,
        segments: a.segments,
        rho,
        times,
        lambda,
        law,
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
        let law = out.law.as_ref().map_or(String::new(), |l| {
            let f = &l.fits[l.used];
            format!(
                "pilot law (seed {}): ln eps = {} + {} ln dLambda + {} ln dlogSNR, R^2 {} ({} covariates, {} pilot segments)\n",
                l.seed,
                sig(f.intercept, 4),
                sig(f.b_lambda, 3),
                sig(f.b_logsnr, 3),
                sig(f.r2, 3),
                f.covariates.name(),
                f.n
            )
        });
        Ok(format!(
            "{} grid, {} segments on [{}, {}] (Lambda: two-sided L)\n{law}{}",
            out.kind,
            out.segments,
            a.t_min,
            a.t_max,
            tab.to_text()
        ))
    })?;
    Ok(Status::Ok)
}
