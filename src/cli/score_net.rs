//! `flowcert score-net --mixture M --eps E [--points P --t T] [--t-min A --t-max B
//! --times N --samples N --seed S]`: build the explicit ReLU-ReQU score network for a
//! target accuracy, report its size and its measured L^1 / L^2(p_t) errors, and evaluate it.
//! Exit 1 when a measured sup_t error exceeds eps (the construction's budget would be wrong).
//! With `--process NAME` the times are the path's and the network is the OU network
//! composed with the clock and the scaling of theory/07 ("Score approximation"), measured
//! against the path's exact score; each error at `t` must be within `eps / k(t)`.

use anyhow::{Result, bail};
use serde::Serialize;

use super::{Status, common};
use flowcert::approx::{PathScoreNetwork, ScoreNetConfig};
use flowcert::limits::{Estimate, jacobian_flops};
use flowcert::model::ScoreField;
use flowcert::report::{Table, sig};
use flowcert::theorems::score_approx::{ScoreNetReport, measure_path_built, time_grid};

/// Most measurement times (keeps a typo from running for hours).
const MAX_TIMES: usize = flowcert::limits::MAX_LIST;
/// Most Monte Carlo samples per time (memory: d x samples values per time).
const MAX_SAMPLES: usize = flowcert::limits::MAX_SAMPLES;

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Mixture JSON file (or builtin:NAME).
    #[arg(long)]
    mixture: String,
    #[command(flatten)]
    process: common::ProcessArgs,
    /// Target accuracy eps of sup_t ||s_theta - s||_{L^2(p_t)}, in [1e-7, 10].
    #[arg(long)]
    eps: f64,
    /// Points file (JSON array of arrays, or CSV): report the network's score at --t there.
    #[arg(long)]
    points: Option<String>,
    /// Time of the outputs at --points (in [t_min, T]).
    #[arg(long)]
    t: Option<f64>,
    /// Smallest time t_min of the network.
    #[arg(long, default_value_t = ScoreNetConfig::default().t_min)]
    t_min: f64,
    /// Largest time T of the network.
    #[arg(long, default_value_t = ScoreNetConfig::default().t_max)]
    t_max: f64,
    /// Number of times (geometric grid on [t_min, T]) at which the error is measured.
    #[arg(long, default_value_t = 8)]
    times: usize,
    /// Monte Carlo samples of p_t per time.
    #[arg(long, default_value_t = 4000)]
    samples: usize,
    /// Seed of the Monte Carlo samples.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Serialize)]
struct Out {
    #[serde(flatten)]
    report: ScoreNetReport,
    /// Time of `outputs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    outputs_t: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outputs: Option<Vec<Vec<f64>>>,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    if !a.eps.is_finite() || a.eps <= 0.0 {
        bail!(
            "--eps {} is not a usable accuracy: give a finite eps > 0, e.g. --eps 1e-3 (between 1e-7 and 10)",
            a.eps
        );
    }
    let cfg = ScoreNetConfig {
        eps: a.eps,
        t_min: a.t_min,
        t_max: a.t_max,
    };
    let params = match cfg.check() {
        Ok(p) => p,
        Err(e) => bail!("--eps/--t-min/--t-max: {e}"),
    };
    if a.times == 0 || a.times > MAX_TIMES {
        bail!(
            "--times {}: give between 1 and {MAX_TIMES} times at which to measure the error",
            a.times
        );
    }
    if a.samples < 2 || a.samples > MAX_SAMPLES {
        bail!(
            "--samples {}: give between 2 and {MAX_SAMPLES} Monte Carlo samples per time",
            a.samples
        );
    }
    let t_out = match (&a.points, a.t) {
        (Some(_), None) => bail!("--points needs --t: give the time of the outputs, e.g. --t 0.5"),
        (None, Some(_)) => bail!("--t is only used with --points: add --points FILE or drop --t"),
        (Some(_), Some(t)) => {
            if !(t.is_finite() && t >= params.t_min() && t <= params.t_max()) {
                bail!(
                    "--t {t} is outside the network's time interval [t_min, T] = [{}, {}]: give --t in it, or widen --t-min/--t-max",
                    params.t_min(),
                    params.t_max()
                );
            }
            Some(t)
        }
        (None, None) => None,
    };
    let mix = common::mixture_on(&a.mixture, &a.process)?;
    if !mix.process().is_ou() {
        mix.check_path_time("--t-min", params.t_min())?;
        mix.check_path_time("--t-max", params.t_max())?;
    }
    let points = match &a.points {
        Some(p) => Some(flowcert::io::load_points(p, mix.dim())?),
        None => None,
    };
    let pb = common::progress(2, json, "score-net");
    let net = PathScoreNetwork::build(&mix, &cfg)?;
    // Measuring: per time, `samples` draws, the network (about 2 flops per parameter)
    // and the exact score at each; the samples and both scores are held per time.
    let d = mix.dim();
    let per_point = 2.0 * net.ou_network().sizes().built.parameters as f64
        + jacobian_flops(mix.n_components(), d);
    common::estimate(
        &Estimate::new(
            &format!(
                "measuring the network at {} times x {} samples",
                a.times, a.samples
            ),
            a.times as f64 * a.samples as f64 * per_point,
            3.0 * 8.0 * (a.samples * d) as f64 + 8.0 * a.samples as f64 * 4.0,
        ),
        json,
        "give fewer --times or --samples",
    )?;
    pb.inc(1);
    let times = time_grid(params.t_min(), params.t_max(), a.times);
    let report = measure_path_built(&net, &mix, &times, a.samples, a.seed)?;
    pb.finish_and_clear();
    let outputs = match (&points, t_out) {
        (Some(xs), Some(t)) => {
            let s = net.score_batch(xs, t);
            Some((
                s.as_slice()
                    .chunks(mix.dim())
                    .map(|c| c.to_vec())
                    .collect::<Vec<_>>(),
                xs,
                t,
            ))
        }
        _ => None,
    };
    let status = if report.passed {
        Status::Ok
    } else {
        Status::Violation
    };
    let out = Out {
        outputs_t: outputs.as_ref().map(|o| o.2),
        outputs: outputs.as_ref().map(|o| o.0.clone()),
        report,
    };
    let table = || text(&out, &mix, outputs.as_ref().map(|o| (o.1, o.2)));
    // Every command's JSON names its path (`process`), OU included.
    common::emit_on(json, &out, mix.process(), table)?;
    Ok(status)
}

/// The human-readable report.
fn text(
    o: &Out,
    mix: &flowcert::model::Mixture,
    points: Option<(&nalgebra::DMatrix<f64>, f64)>,
) -> Result<String> {
    use std::fmt::Write;
    let report = &o.report;
    let mut w = String::new();
    let b = &report.budget;
    writeln!(
        w,
        "ReLU-ReQU score network for eps = {} on t in [{}, {}]: depth {}, width {}, {} non-zero parameters",
        sig(report.eps, 3),
        report.t_min,
        report.t_max,
        report.depth,
        report.width,
        report.parameters
    )?;
    writeln!(
        w,
        "  as a pure ReLU-ReQU network: depth {}, width {}, {} parameters; box R = {}, Chebyshev degree {}, Newton steps {}",
        report.relu_requ.depth,
        report.relu_requ.width,
        report.relu_requ.parameters,
        sig(b.box_radius, 4),
        b.chebyshev_degree,
        b.newton_steps
    )?;
    writeln!(
        w,
        "  proven bound (exact arithmetic) {} + rounding allowance {} <= eps",
        sig(b.total_bound, 3),
        sig(b.rounding_allowance, 3)
    )?;
    match &report.path {
        None => {
            let mut tab = Table::new(&["t", "p", "L^p error", "95% CI", "mass outside box"]);
            for r in &report.errors {
                tab.push(vec![
                    sig(r.t, 4),
                    r.p.to_string(),
                    sig(r.lp_error, 3),
                    format!("[{}, {}]", sig(r.ci_low, 3), sig(r.ci_high, 3)),
                    sig(r.mass_outside, 3),
                ]);
            }
            w.push_str(&tab.to_text());
        }
        Some(path) => {
            writeln!(
                w,
                "  on the {} path: the OU network on tau in [{}, {}] read at (x / k(t), tau(t)), output / k(t) (theory/07); bound at t: eps / k(t)",
                path.process,
                sig(path.ou_t_min, 4),
                sig(path.ou_t_max, 4)
            )?;
            let mut tab = Table::new(&[
                "t",
                "tau(t)",
                "k(t)",
                "p",
                "L^p error",
                "95% CI",
                "bound eps/k",
                "mass outside box",
            ]);
            for (r, b) in report
                .errors
                .iter()
                .zip(path.bounds.iter().flat_map(|b| [b, b]))
            {
                tab.push(vec![
                    sig(r.t, 4),
                    sig(b.tau, 4),
                    sig(b.k, 4),
                    r.p.to_string(),
                    sig(r.lp_error, 3),
                    format!("[{}, {}]", sig(r.ci_low, 3), sig(r.ci_high, 3)),
                    sig(b.bound, 3),
                    sig(r.mass_outside, 3),
                ]);
            }
            w.push_str(&tab.to_text());
        }
    }
    let within = if report.path.is_some() {
        (
            "within eps / k(t) at every t",
            "VIOLATED: exceeds eps / k(t)",
        )
    } else {
        ("within eps", "VIOLATED: exceeds eps")
    };
    writeln!(
        w,
        "sup_t L1 = {}, sup_t L2 = {} (upper 95% limit {}): {}",
        sig(report.sup_l1, 3),
        sig(report.sup_l2, 3),
        sig(report.sup_l2_ci_high, 3),
        if report.passed { within.0 } else { within.1 }
    )?;
    if let (Some(out), Some((xs, t))) = (&o.outputs, points) {
        let mut tab = Table::new(&["x", "s_theta(x, t)", "exact s(x, t)", "|difference|"]);
        for (j, s) in out.iter().enumerate() {
            let x: Vec<f64> = xs.column(j).iter().copied().collect();
            let mut e = vec![0.0; mix.dim()];
            mix.score_into(&x, t, &mut e);
            let diff = s
                .iter()
                .zip(&e)
                .map(|(p, q)| (p - q).powi(2))
                .sum::<f64>()
                .sqrt();
            tab.push(vec![
                common::vec_str(&x),
                common::vec_str(s),
                common::vec_str(&e),
                sig(diff, 3),
            ]);
        }
        writeln!(w, "outputs at t = {t}")?;
        w.push_str(&tab.to_text());
    }
    Ok(w)
}
